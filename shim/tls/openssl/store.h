/*
 * The shim's own trust stores: the policy's anchors, which only the shim's own
 * verifier (verify.c) ever sees; never handed to libssl or the program.
 */
#ifndef TLSGUARD_OSSL_STORE_H
#define TLSGUARD_OSSL_STORE_H

#include "ossl.h"

/* The policy's trust anchors for tls (cached per ca_file/ca_path; a new
 * reference, or NULL). */
X509_STORE *ossl_store_for(const struct ssl_fns *f, const struct policy_tls *tls);

/* trust "policy+app": a new private store holding the certificates of anchors
 * (the policy's) and of ctx's own store as it is now, plus tls's ca_path
 * lookup (a new reference, or NULL). The program's store is only read. */
X509_STORE *ossl_store_with_app(const struct ssl_fns *f, X509_STORE *anchors, SSL_CTX *ctx,
                                const struct policy_tls *tls);

#endif
