/*
 * The outcome of a handshake, checked once when it has finished: the version
 * and cipher suite negotiated, the peer's certificate (verify.c); and why
 * libssl failed a handshake the shim made strict.
 */
#ifndef TLSGUARD_OSSL_OUTCOME_H
#define TLSGUARD_OSSL_OUTCOME_H

#include "ossl.h"

/* After a handshake or I/O call on ssl returned ret (or libssl's info callback
 * said the handshake ended): checks a finished handshake once, records a
 * failure, shuts a socket whose refusal waited for the handshake to return.
 * Returns false when the call must fail. */
bool ossl_outcome_check(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st, int ret);

#endif
