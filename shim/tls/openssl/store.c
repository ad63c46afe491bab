/*
 * The shim's trust stores (store.h): loaded once per (ca_file, ca_path) and
 * shared by reference, or built afresh for trust "policy+app".
 */
#include <string.h>

#include <pthread.h>

#include "store.h"

#define STORE_CACHE_MAX 16

struct store_slot {
	const char *ca_file;
	const char *ca_path;
	X509_STORE *store;
};

static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store_slot stores[STORE_CACHE_MAX];
static size_t nstores;

static bool same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void store_add_policy(const struct ssl_fns *f, X509_STORE *s, const struct policy_tls *tls)
{
	if (tls->ca_file == NULL && tls->ca_path == NULL) {
		(void)f->X509_STORE_set_default_paths(s);
		return;
	}
	if (tls->ca_file != NULL) {
		(void)f->X509_STORE_load_file(s, tls->ca_file);
	}
	if (tls->ca_path != NULL) {
		(void)f->X509_STORE_load_path(s, tls->ca_path);
	}
}

/* A new store with the policy's anchors. A missing or unreadable file leaves
 * it without them: verification then fails (closed), it never falls back to
 * something wider. */
static X509_STORE *store_load(const struct ssl_fns *f, const struct policy_tls *tls)
{
	X509_STORE *s = f->X509_STORE_new();

	if (s != NULL) {
		store_add_policy(f, s, tls);
	}
	return s;
}

X509_STORE *ossl_store_for(const struct ssl_fns *f, const struct policy_tls *tls)
{
	X509_STORE *s = NULL;
	size_t i;

	pthread_mutex_lock(&store_lock);
	for (i = 0; i < nstores; i++) {
		if (same(stores[i].ca_file, tls->ca_file) &&
		    same(stores[i].ca_path, tls->ca_path)) {
			s = stores[i].store;
			break;
		}
	}
	if (s == NULL) {
		s = store_load(f, tls);
		if (s != NULL && nstores < STORE_CACHE_MAX) {
			stores[nstores++] = (struct store_slot){tls->ca_file, tls->ca_path, s};
		} else if (s != NULL) {
			pthread_mutex_unlock(&store_lock);
			return s; /* cache full: this reference is the caller's */
		}
	}
	if (s != NULL && f->X509_STORE_up_ref(s) != 1) {
		s = NULL;
	}
	pthread_mutex_unlock(&store_lock);
	return s;
}

/* Every certificate of src, added to dst, under src's lock (the program may
 * be changing its own store in another thread). */
static void copy_certs(const struct ssl_fns *f, X509_STORE *dst, X509_STORE *src)
{
	STACK_OF(X509_OBJECT) * objs;
	int i, n;

	if (f->X509_STORE_lock(src) != 1) {
		return;
	}
	objs = f->X509_STORE_get0_objects(src);
	n = objs != NULL ? f->OPENSSL_sk_num((const OPENSSL_STACK *)objs) : 0;
	for (i = 0; i < n; i++) {
		X509 *cert =
		    f->X509_OBJECT_get0_X509(f->OPENSSL_sk_value((const OPENSSL_STACK *)objs, i));

		if (cert != NULL) {
			(void)f->X509_STORE_add_cert(dst, cert);
		}
	}
	(void)f->X509_STORE_unlock(src);
}

/* Built afresh for each verification, because programs fill their store late
 * (curl 7.88 loads its CA file only after the ClientHello went out) and
 * because a store the program can reach (its own, or one handed to libssl,
 * which a verify callback gets back through X509_STORE_CTX_get0_store) must
 * never be the shim's. */
X509_STORE *ossl_store_with_app(const struct ssl_fns *f, X509_STORE *anchors, SSL_CTX *ctx,
                                const struct policy_tls *tls)
{
	X509_STORE *app = ctx != NULL ? f->SSL_CTX_get_cert_store(ctx) : NULL;
	X509_STORE *s = f->X509_STORE_new();

	if (s == NULL) {
		return NULL;
	}
	if (anchors != NULL) {
		copy_certs(f, s, anchors);
	}
	if (tls->ca_path != NULL) {
		(void)f->X509_STORE_load_path(s, tls->ca_path); /* a lazy hashed-dir lookup */
	}
	if (app != NULL) {
		copy_certs(f, s, app);
	}
	return s;
}
