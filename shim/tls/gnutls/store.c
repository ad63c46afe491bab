/*
 * The shim's trust lists (store.h), cached like the OpenSSL layer's stores
 * (tls/openssl/store.c). GnuTLS's trust lists are not reference-counted, so
 * a cached one is never freed; a verification only reads it.
 */
#include <pthread.h>
#include <string.h>

#include "store.h"

#define STORE_CACHE_MAX 16

struct store_slot {
	const char *ca_file;
	const char *ca_path;
	gnutls_x509_trust_list_t list;
};

static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store_slot stores[STORE_CACHE_MAX];
static size_t nstores;

static bool same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static gnutls_x509_trust_list_t load(const struct gnutls_fns *f, const struct policy_tls *tls)
{
	gnutls_x509_trust_list_t list = NULL;

	if (f->gnutls_x509_trust_list_init(&list, 0) < 0) {
		return NULL;
	}
	if (tls->ca_file == NULL && tls->ca_path == NULL) {
		(void)f->gnutls_x509_trust_list_add_system_trust(list, 0, 0);
		return list;
	}
	if (tls->ca_file != NULL) {
		(void)f->gnutls_x509_trust_list_add_trust_file(list, tls->ca_file, NULL,
		                                               GNUTLS_X509_FMT_PEM, 0, 0);
	}
	if (tls->ca_path != NULL) {
		(void)f->gnutls_x509_trust_list_add_trust_dir(list, tls->ca_path, NULL,
		                                              GNUTLS_X509_FMT_PEM, 0, 0);
	}
	return list;
}

gnutls_x509_trust_list_t gtls_store_for(const struct gnutls_fns *f, const struct policy_tls *tls,
                                        bool *owned)
{
	gnutls_x509_trust_list_t list = NULL;
	size_t i;

	*owned = false;
	pthread_mutex_lock(&store_lock);
	for (i = 0; i < nstores; i++) {
		if (same(stores[i].ca_file, tls->ca_file) &&
		    same(stores[i].ca_path, tls->ca_path)) {
			list = stores[i].list;
			goto out;
		}
	}
	list = load(f, tls);
	if (list != NULL && nstores < STORE_CACHE_MAX) {
		stores[nstores++] = (struct store_slot){tls->ca_file, tls->ca_path, list};
	} else if (list != NULL) {
		*owned = true;
	}
out:
	pthread_mutex_unlock(&store_lock);
	return list;
}
