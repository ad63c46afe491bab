/*
 * Loading the policy: once, on the first call that needs it, thread-safely.
 * A process that never opens an IP socket never gets here.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "real.h"
#include "shim.h"

__thread int shim_busy;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static struct policy *loaded;
static enum policy_mode mode = POLICY_MODE_ENFORCE;
static struct policy_error load_error;
static bool load_failed;

/* TLSGUARD_POLICY and TLSGUARD_MODE as this process was started: a program
 * that edits its environment (env -i, setenv before exec) changes neither the
 * policy it is held to nor the one its children get. secure_getenv ignores them
 * in a setuid/setgid/capability process (contract). */
static char *start_policy;
static char *start_mode;
static pthread_once_t start_once = PTHREAD_ONCE_INIT;

static void snapshot_start_env(void)
{
	const char *policy_env = secure_getenv("TLSGUARD_POLICY");
	const char *mode_env = secure_getenv("TLSGUARD_MODE");

	start_policy = policy_env != NULL ? strdup(policy_env) : NULL;
	start_mode = mode_env != NULL ? strdup(mode_env) : NULL;
}

/* Before any other constructor, and so before main can touch the environment;
 * a wrapper called even earlier takes the snapshot itself. */
__attribute__((constructor(101))) static void take_start_env(void)
{
	pthread_once(&start_once, snapshot_start_env);
}

const char *shim_start_policy(void)
{
	pthread_once(&start_once, snapshot_start_env);
	return start_policy;
}

const char *shim_start_mode(void)
{
	pthread_once(&start_once, snapshot_start_env);
	return start_mode;
}

static void say(const char *text)
{
	real()->write(2, text, strlen(text));
}

/* TLSGUARD_MODE, when the policy lets it override the file's mode. */
static void apply_mode_override(void)
{
	const char *env = shim_start_mode();
	char line[256];

	if (env == NULL || !policy_env_override(loaded)) {
		return;
	}
	if (strcmp(env, "enforce") == 0) {
		mode = POLICY_MODE_ENFORCE;
	} else if (strcmp(env, "audit") == 0) {
		mode = POLICY_MODE_AUDIT;
	} else if (strcmp(env, "off") == 0) {
		mode = POLICY_MODE_OFF;
	} else {
		/* A typo must not change the mode silently: keep the policy's. */
		snprintf(line, sizeof(line),
		         "tlsguard: ignoring TLSGUARD_MODE=\"%.64s\" (want enforce, audit or "
		         "off); mode stays %s\n",
		         env, policy_mode_name(mode));
		say(line);
	}
}

static void report_failure(void)
{
	struct audit_event ev = {
	    .kind = AUDIT_POLICY,
	    .verdict = AUDIT_VERDICT_BLOCK,
	    .rule = POLICY_RULE_DEFAULT,
	    .reason = "policy_error",
	    .detail = load_error.msg,
	};
	char line[POLICY_ERROR_MAX + 96];

	snprintf(line, sizeof(line), "tlsguard: %s; refusing every network connection\n",
	         load_error.msg);
	say(line);
	audit_emit(&ev);
}

static void load(void)
{
	const char *path = shim_start_policy();

	shim_busy++;
	if (real_broken()) {
		policy_set_error(&load_error, "cannot bind the real libc functions "
		                              "(another preload in the way?)");
		load_failed = true;
		report_failure();
		shim_busy--;
		return;
	}
	if (path == NULL && access(POLICY_DEFAULT_PATH, F_OK) == 0) {
		path = POLICY_DEFAULT_PATH;
	}
	if (path == NULL) {
		loaded = policy_new_default();
		if (loaded == NULL) {
			policy_set_error(&load_error, "(built-in): out of memory");
		}
	} else {
		loaded = policy_load_file(path, &load_error);
	}
	if (loaded == NULL) {
		load_failed = true;
		report_failure();
		shim_busy--;
		return;
	}
	mode = policy_mode(loaded);
	apply_mode_override();
	audit_configure(policy_audit(loaded));
	shim_busy--;
}

const struct policy *shim_policy(void)
{
	int saved = errno;

	pthread_once(&load_once, load);
	errno = saved;
	return loaded;
}

enum policy_mode shim_mode(void)
{
	shim_policy();
	return mode;
}

const char *shim_policy_error(void)
{
	shim_policy();
	return load_failed ? load_error.msg : NULL;
}
