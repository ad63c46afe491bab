/*
 * The coupling between the socket layer and the OpenSSL layer: the socket layer
 * asks, the SSL layer knows.
 */
#ifndef TLSGUARD_SSLG_H
#define TLSGUARD_SSLG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/conn.h"

/* Called by the socket layer (c->lock not held) when the client random of the
 * first ClientHello on the tracked connection c (descriptor fd) is complete:
 * written by this process (outbound) or read by it (inbound). Returns true when a
 * handshake running in this process's libssl produced (outbound) or is consuming
 * (inbound) it, and binds that SSL to c; false for unmanaged TLS (GnuTLS, a
 * static OpenSSL, hand-made records). Costs nothing in a process without libssl:
 * false. */
bool sslg_claim_hello(struct conn *c, int fd, const uint8_t random[STREAM_RANDOM_LEN]);

#endif
