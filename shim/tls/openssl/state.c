/*
 * The shim's state on SSL and SSL_CTX objects (state.h): ex_data indexes made
 * once, states made on first use and freed with their SSL.
 */
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "registry.h"
#include "state.h"

static int ssl_index = -1;
static int ctx_index = -1;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;
static const struct ssl_fns *index_fns;
atomic_uint ossl_state_frees;
SHIM_THREAD struct ossl_settled ossl_settled;

/* ctx ex_data: the program's SSL_CTX_set_cert_verify_callback arguments, and
 * whether the shim's verifier has taken over the context's chain
 * verification. */
struct ctx_app_verify {
	int (*cb)(X509_STORE_CTX *, void *);
	void *arg;
	bool taken;
};

static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;

/* Drops what a state holds (store, leaf) before it is freed or reset. */
static void state_release(const struct ssl_fns *f, struct ossl_state *st)
{
	if (st->store != NULL) {
		f->X509_STORE_free(st->store);
		st->store = NULL;
	}
	if (st->verified_leaf != NULL) {
		f->X509_free(st->verified_leaf);
		st->verified_leaf = NULL;
	}
}

static void state_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	struct ossl_state *st = ptr;

	(void)ad, (void)idx, (void)argl, (void)argp;
	if (st == NULL) {
		return;
	}
	atomic_fetch_add_explicit(&ossl_state_frees, 1, memory_order_release);
	ossl_registry_remove(parent, st);
	state_release(index_fns, st);
	free(st);
}

static void ctx_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	free(ptr);
}

static void make_indexes(void)
{
	const struct ssl_fns *f = ssl_fns();

	index_fns = f;
	ssl_index =
	    f->CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, NULL, NULL, NULL, state_free);
	ctx_index =
	    f->CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL_CTX, 0, NULL, NULL, NULL, ctx_free);
}

struct ossl_state *ossl_state_get(const struct ssl_fns *f, const SSL *ssl)
{
	pthread_once(&index_once, make_indexes);
	if (ssl == NULL || ssl_index < 0) {
		return NULL;
	}
	return f->SSL_get_ex_data(ssl, ssl_index);
}

/* A zeroed state as it starts: no socket yet, nothing wrong. */
static void state_start(struct ossl_state *st)
{
	st->fd = -1;
	st->verify_result = X509_V_OK;
}

struct ossl_state *ossl_state_make(const struct ssl_fns *f, SSL *ssl)
{
	struct ossl_state *st = ossl_state_get(f, ssl);

	if (st != NULL || ssl == NULL || ssl_index < 0) {
		return st;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		return NULL;
	}
	state_start(st);
	if (f->SSL_set_ex_data(ssl, ssl_index, st) != 1) {
		free(st);
		return NULL;
	}
	return st;
}

void ossl_state_reset(const struct ssl_fns *f, SSL *ssl)
{
	struct ossl_state *st = ossl_state_get(f, ssl);
	SSL_verify_cb prog_cb;
	struct ossl_hooks hooks;

	/* Only a state whose handshake ended (checked, or refused) belongs to a
	 * finished connection: libssl clears an SSL itself as its first handshake
	 * begins, inside a BIO read the shim does not wrap, with the policy
	 * already applied for that handshake. */
	if (st == NULL || !(st->checked || st->failed)) {
		return;
	}
	atomic_fetch_add_explicit(&ossl_state_frees, 1, memory_order_release);
	ossl_registry_remove(ssl, st);
	state_release(f, st);
	/* The program's verify callback lives on in the SSL behind the shim's
	 * own (SSL_get_verify_callback now returns ossl_verify_cb). */
	prog_cb = st->prog_cb;
	hooks = st->hooks; /* the callbacks stay installed on the SSL */
	memset(st, 0, sizeof(*st));
	state_start(st);
	st->prog_cb = prog_cb;
	st->hooks = hooks;
}

bool ossl_ctx_app_verify(const struct ssl_fns *f, const SSL_CTX *ctx,
                         int (**cb)(X509_STORE_CTX *, void *), void **arg)
{
	const struct ctx_app_verify *v;

	pthread_once(&index_once, make_indexes);
	if (ctx == NULL || ctx_index < 0) {
		return false;
	}
	v = f->SSL_CTX_get_ex_data(ctx, ctx_index);
	if (v == NULL || v->cb == NULL) {
		return false;
	}
	*cb = v->cb;
	*arg = v->arg;
	return true;
}

static struct ctx_app_verify *ctx_extra(const struct ssl_fns *f, SSL_CTX *ctx)
{
	struct ctx_app_verify *v;

	pthread_once(&index_once, make_indexes);
	if (ctx == NULL || ctx_index < 0) {
		return NULL;
	}
	v = f->SSL_CTX_get_ex_data(ctx, ctx_index);
	if (v == NULL) {
		v = calloc(1, sizeof(*v));
		if (v == NULL || f->SSL_CTX_set_ex_data(ctx, ctx_index, v) != 1) {
			free(v);
			return NULL;
		}
	}
	return v;
}

int ossl_ctx_set_app_verify(const struct ssl_fns *f, SSL_CTX *ctx,
                            int (*cb)(X509_STORE_CTX *, void *), void *arg)
{
	struct ctx_app_verify *v = ctx_extra(f, ctx);

	if (v == NULL) {
		return -1;
	}
	v->cb = cb;
	v->arg = arg;
	return 0;
}

void ossl_ctx_take_verify(const struct ssl_fns *f, SSL_CTX *ctx,
                          int (*shim_cb)(X509_STORE_CTX *, void *))
{
	struct ctx_app_verify *v;

	pthread_mutex_lock(&ctx_lock);
	v = ctx_extra(f, ctx);
	if (v != NULL && !v->taken) {
		f->SSL_CTX_set_cert_verify_callback(ctx, shim_cb, ctx);
		v->taken = true;
	}
	pthread_mutex_unlock(&ctx_lock);
}
