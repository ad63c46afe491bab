/*
 * Claiming a GnuTLS session for its connection: the GnuTLS side of
 * tls_claim_hello (tls/tls.h).
 */
#ifndef TLSGUARD_GTLS_CLAIM_H
#define TLSGUARD_GTLS_CLAIM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/conn.h"

/* tls_claim_hello for GnuTLS: true when a GnuTLS handshake of this process
 * wrote (outbound) or is reading (inbound) the hello; the session is then
 * bound to c. false at once in a process that never called GnuTLS. */
bool gtls_claim_hello(struct conn *c, int fd, const uint8_t random[STREAM_RANDOM_LEN]);

#endif
