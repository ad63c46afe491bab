/*
 * libconfig, loaded only when a process first needs its policy. The policy
 * engine calls libconfig by name; in the shim those names resolve here (hidden,
 * never exported), and these forward to libconfig.so.9 opened on first use.
 * A process that never opens an IP socket (/bin/true, ls, a shell loop) maps no
 * libconfig at all. The CLI and the tests link libconfig directly. dlopen and
 * dlsym are the real ones (real.h): the shim interposes both names.
 */
#include <dlfcn.h>
#include <errno.h>
#include <libconfig.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "real.h"

#define LIBCONFIG_SONAME "libconfig.so.9"

static struct {
	void (*init)(config_t *);
	void (*destroy)(config_t *);
	int (*read_string)(config_t *, const char *);
	int (*get_int)(const config_setting_t *);
	long long (*get_int64)(const config_setting_t *);
	int (*get_bool)(const config_setting_t *);
	const char *(*get_string)(const config_setting_t *);
	int (*length)(const config_setting_t *);
	config_setting_t *(*get_elem)(const config_setting_t *, unsigned int);
	config_setting_t *(*get_member)(const config_setting_t *, const char *);
} lib;
static bool loaded;
static char load_error[256];
static int load_errno; /* why dlopen failed: EMFILE may pass, the caller retries */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

/* Called under load_lock until it succeeds: a failure for want of descriptors
 * (EMFILE) may pass, so the next policy load tries again. */
static void load(void)
{
	void *(*sym)(void *, const char *) = real_dl()->dlsym;
	void *h = real()->dlopen(LIBCONFIG_SONAME, RTLD_NOW | RTLD_LOCAL);
	int err = errno;
	const char *why;

	if (h == NULL || sym == NULL) {
		why = dlerror();
		snprintf(load_error, sizeof(load_error), "cannot load %s to parse the policy: %s",
		         LIBCONFIG_SONAME, why != NULL ? why : "unknown error");
		load_errno = err;
		return;
	}
	*(void **)&lib.init = sym(h, "config_init");
	*(void **)&lib.destroy = sym(h, "config_destroy");
	*(void **)&lib.read_string = sym(h, "config_read_string");
	*(void **)&lib.get_int = sym(h, "config_setting_get_int");
	*(void **)&lib.get_int64 = sym(h, "config_setting_get_int64");
	*(void **)&lib.get_bool = sym(h, "config_setting_get_bool");
	*(void **)&lib.get_string = sym(h, "config_setting_get_string");
	*(void **)&lib.length = sym(h, "config_setting_length");
	*(void **)&lib.get_elem = sym(h, "config_setting_get_elem");
	*(void **)&lib.get_member = sym(h, "config_setting_get_member");
	loaded = lib.init && lib.destroy && lib.read_string && lib.get_int && lib.get_int64 &&
	         lib.get_bool && lib.get_string && lib.length && lib.get_elem && lib.get_member;
}

/* Without libconfig nothing can be parsed: config_read_string fails with a
 * message, and the policy load fails closed. The getters are only reached
 * after a successful parse. */
void config_init(config_t *config)
{
	pthread_mutex_lock(&load_lock);
	if (!loaded) {
		load();
	}
	pthread_mutex_unlock(&load_lock);
	if (!loaded) {
		memset(config, 0, sizeof(*config));
		return;
	}
	lib.init(config);
}

void config_destroy(config_t *config)
{
	if (loaded) {
		lib.destroy(config);
	}
}

int config_read_string(config_t *config, const char *str)
{
	if (!loaded) {
		config->error_text = load_error;
		config->error_line = 0;
		errno = load_errno;
		return CONFIG_FALSE;
	}
	return lib.read_string(config, str);
}

int config_setting_get_int(const config_setting_t *s)
{
	return lib.get_int(s);
}

long long config_setting_get_int64(const config_setting_t *s)
{
	return lib.get_int64(s);
}

int config_setting_get_bool(const config_setting_t *s)
{
	return lib.get_bool(s);
}

const char *config_setting_get_string(const config_setting_t *s)
{
	return lib.get_string(s);
}

int config_setting_length(const config_setting_t *s)
{
	return lib.length(s);
}

config_setting_t *config_setting_get_elem(const config_setting_t *s, unsigned int index)
{
	return lib.get_elem(s, index);
}

config_setting_t *config_setting_get_member(const config_setting_t *s, const char *name)
{
	return lib.get_member(s, name);
}
