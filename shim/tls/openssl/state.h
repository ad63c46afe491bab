/*
 * The shim's state on the program's OpenSSL objects, kept in their ex_data:
 * struct ossl_state on each SSL, the program's cert-verify callback on each
 * SSL_CTX; and the per-thread memo of the last SSL whose state was final.
 */
#ifndef TLSGUARD_OSSL_STATE_H
#define TLSGUARD_OSSL_STATE_H

#include <stdatomic.h>

#include "ossl.h"

/* How many states have been freed (with their SSL, or reset by SSL_clear):
 * while it holds, an SSL seen earlier is still the same SSL with the same
 * state. */
extern atomic_uint ossl_state_frees;

/* ssl's state, or NULL if it has none yet. */
struct ossl_state *ossl_state_get(const struct ssl_fns *f, const SSL *ssl);
/* ssl's state, made (zeroed: no socket yet, nothing wrong) if it had none;
 * NULL without memory. */
struct ossl_state *ossl_state_make(const struct ssl_fns *f, SSL *ssl);
/* ssl was cleared (SSL_clear) after its handshake ended, for another
 * connection: its state starts over, to be applied again at the next
 * handshake call. */
void ossl_state_reset(const struct ssl_fns *f, SSL *ssl);

/* The program's cert-verify callback of ctx (kept by ossl_ctx_set_app_verify),
 * or false if it set none. */
bool ossl_ctx_app_verify(const struct ssl_fns *f, const SSL_CTX *ctx,
                         int (**cb)(X509_STORE_CTX *, void *), void **arg);
/* Keeps the program's SSL_CTX_set_cert_verify_callback arguments; -1 without
 * memory. */
int ossl_ctx_set_app_verify(const struct ssl_fns *f, SSL_CTX *ctx,
                            int (*cb)(X509_STORE_CTX *, void *), void *arg);
/* Makes shim_cb ctx's chain verification, once per context (its argument is
 * ctx itself); the program's callback, if any, stays kept. */
void ossl_ctx_take_verify(const struct ssl_fns *f, SSL_CTX *ctx,
                          int (*shim_cb)(X509_STORE_CTX *, void *));

/* The SSL whose handshake this thread last saw pass the shim's checks, and
 * ossl_state_frees then. While the count holds, that SSL was not freed (nor
 * another made at its address) and its state is final: applied, checked, not
 * failed, with nothing left for the shim to do on its calls (call.c's fast
 * path). */
struct ossl_settled {
	const SSL *ssl;
	unsigned frees;
};

extern SHIM_THREAD struct ossl_settled ossl_settled;

static inline unsigned ossl_state_frees_now(void)
{
	return atomic_load_explicit(&ossl_state_frees, memory_order_acquire);
}

static inline bool ossl_settled_is(const SSL *ssl)
{
	return ssl == ossl_settled.ssl && ssl != NULL &&
	       ossl_settled.frees == ossl_state_frees_now();
}

/* frees: ossl_state_frees read before the checks that found ssl final. */
static inline void ossl_settled_mark(const SSL *ssl, unsigned frees)
{
	ossl_settled.ssl = ssl;
	ossl_settled.frees = frees;
}

/* ssl has something left for the shim to do again (a renegotiation, a
 * refusal). */
static inline void ossl_settled_forget(const SSL *ssl)
{
	if (ossl_settled.ssl == ssl) {
		ossl_settled.ssl = NULL;
	}
}

#endif
