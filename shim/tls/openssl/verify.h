/*
 * The shim's own certificate verification, independent of everything the
 * program can reach: its trust store, fresh verification parameters from the
 * policy alone, no callback of the program's. It is libssl's chain
 * verification on every context of a governed program (so a handshake fails
 * early, with the proper alert and X509 error), the check of the finished
 * handshake's chain, and the check of the certificate an `external` server
 * serves.
 */
#ifndef TLSGUARD_OSSL_VERIFY_H
#define TLSGUARD_OSSL_VERIFY_H

#include "ossl.h"

/* The SSL verify callback the shim sets on a governed SSL, in front of the
 * program's own (st->prog_cb). */
int ossl_verify_cb(int ok, X509_STORE_CTX *x);
/* The cert-verify callback of every context of a governed program. */
int ossl_cert_verify_cb(X509_STORE_CTX *x, void *arg);
/* Makes ossl_cert_verify_cb ctx's chain verification (once per context),
 * before any handshake on ctx can read its callback. */
void ossl_verify_own_ctx(const struct ssl_fns *f, SSL_CTX *ctx);

/* The finished handshake's peer chain (leaf: the peer's certificate), unless
 * the shim's verifier already passed this very leaf during the handshake. A
 * failure is refused (ossl_refuse); returns false when the call must fail. */
bool ossl_verify_chain(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st, X509 *leaf);
/* inbound `external = true`: the certificate the program serves must chain to
 * the system's public roots, be within its validity and not be self-signed.
 * Returns false when the SSL was refused (enforce mode). */
bool ossl_verify_served(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st);

/* The audit reason of an X509 verification error. */
const char *ossl_reason_of_x509(long err);

#endif
