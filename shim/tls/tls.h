/*
 * The seam between the socket layer and the TLS layer, whatever TLS library
 * the program uses: the socket layer asks, the TLS layer knows. One folder per
 * library implements it (openssl/, gnutls/).
 */
#ifndef TLSGUARD_TLS_H
#define TLSGUARD_TLS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/conn.h"

/* Called by the socket layer (c->lock not held) when the client random of the
 * first ClientHello on the tracked connection c (descriptor fd) is complete:
 * written by this process (outbound) or read by it (inbound). Returns true when
 * a handshake running in one of the TLS libraries the shim manages produced
 * (outbound) or is consuming (inbound) it, and binds that session to c
 * (conn_tls_bind); false for unmanaged TLS (a static OpenSSL, hand-made
 * records). Costs nothing in a process without such a library: false. */
bool tls_claim_hello(struct conn *c, int fd, const uint8_t random[STREAM_RANDOM_LEN]);

#endif
