/*
 * Claiming: tying an SSL of this process to the governed connection its
 * ClientHello crossed, found from either end. The socket layer brings the
 * ClientHello (ossl_claim_hello, through tls/tls.h); a server on memory BIOs
 * brings its SSL once it has processed one (ossl_claim_memory).
 */
#ifndef TLSGUARD_OSSL_CLAIM_H
#define TLSGUARD_OSSL_CLAIM_H

#include "ossl.h"

/* tls_claim_hello for OpenSSL (tls/tls.h). */
bool ossl_claim_hello(struct conn *c, int fd, const uint8_t random[STREAM_RANDOM_LEN]);

/* A server SSL on memory BIOs that has processed a ClientHello: ties it to
 * the governed connection that ClientHello came in on, if any. false while it
 * has processed none yet. */
bool ossl_claim_memory(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st);

#endif
