/*
 * Claiming a GnuTLS session for its connection: the GnuTLS side of
 * tls_claim_hello (tls/tls.h).
 */
#ifndef TLSGUARD_GTLS_CLAIM_H
#define TLSGUARD_GTLS_CLAIM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/conn.h"
#include "gtls.h"

/* tls_claim_hello for GnuTLS: true when a GnuTLS handshake of this process
 * wrote (outbound) or is reading (inbound) the hello; the session is then
 * bound to c. false at once in a process that never called GnuTLS. */
bool gtls_claim_hello(struct conn *c, int fd, const uint8_t random[STREAM_RANDOM_LEN]);

/* A server on its own transport, its ClientHello parsed: bound to the
 * connection that hello came in on, if the socket layer remembered it
 * (gtls_registry_take_hello). Called once its handshake succeeded, before
 * the outcome check, which then holds it to that connection's rule. */
void gtls_claim_late(const struct gnutls_fns *f, gnutls_session_t session, struct gtls_state *st);

#endif
