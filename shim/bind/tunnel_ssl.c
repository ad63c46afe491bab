/*
 * Loading libssl for the tunnels and binding what only they call (see
 * tunnel_ssl.h). Through the real dlopen/dlsym, never the shim's own.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "real.h"
#include "tunnel_ssl.h"

static struct tunnel_ssl_fns fns;
static const struct tunnel_ssl_fns *bound;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void *find(void *h, const char *name, bool *missing)
{
	const struct real_fns *dl = real_dl();
	void *p = NULL;

	if (dl == NULL) {
		*missing = true;
		return NULL;
	}
	if (dl->dlvsym != NULL) {
		p = dl->dlvsym(h, name, "OPENSSL_3.0.0");
	}
	if (p == NULL && dl->dlsym != NULL) {
		p = dl->dlsym(h, name);
	}
	if (p == NULL) {
		*missing = true;
	}
	return p;
}

#define BIND(name) (fns.name = (__typeof__(fns.name))find(h, #name, &missing))

static void load(void)
{
	bool missing = false;
	void *h;

	/* RTLD_NOLOAD first: the program's own libssl if it has one. Loaded
	 * here with RTLD_GLOBAL so that ssl_fns.c (RTLD_NOLOAD) finds it, and its
	 * libcrypto's socket BIO reaches the shim's read/write like the
	 * program's would. */
	h = real()->dlopen("libssl.so.3", RTLD_LAZY | RTLD_NOLOAD);
	if (h == NULL) {
		h = real()->dlopen("libssl.so.3", RTLD_NOW | RTLD_GLOBAL);
	}
	if (h == NULL) {
		return;
	}
	BIND(SSL_new);
	BIND(SSL_free);
	BIND(SSL_set_fd);
	BIND(SSL_get_error);
	BIND(SSL_pending);
	BIND(SSL_has_pending);
	BIND(SSL_CTX_use_certificate_chain_file);
	BIND(SSL_CTX_use_PrivateKey_file);
	BIND(SSL_CTX_check_private_key);
	BIND(ERR_clear_error);
	BIND(ERR_get_error);
	BIND(ERR_error_string_n);
	BIND(OPENSSL_thread_stop);
	if (!missing) {
		bound = &fns;
	}
}

const struct tunnel_ssl_fns *tunnel_ssl_load(const struct ssl_fns **core)
{
	pthread_once(&load_once, load);
	if (bound == NULL) {
		return NULL;
	}
	*core = ssl_fns_bind();
	return *core != NULL ? bound : NULL;
}
