/*
 * The registry of handshakes under way in this process: what the socket layer's
 * ClientHello is matched against (claim.c), and the inbound ClientHellos that
 * wait for a server on memory BIOs to consume them.
 */
#ifndef TLSGUARD_OSSL_REGISTRY_H
#define TLSGUARD_OSSL_REGISTRY_H

#include "ossl.h"

/* Lists ssl for the handshake it starts (once; st->in_handshake says so). */
void ossl_registry_add(SSL *ssl, struct ossl_state *st);
/* Unlists it: its handshake ended, or it is freed or cleared. */
void ossl_registry_remove(SSL *ssl, struct ossl_state *st);

/* The SSL whose handshake produced (outbound) or is consuming (inbound) the
 * first ClientHello seen on the governed connection c (descriptor fd), with
 * *st its state; NULL if none. *any: for an inbound hello, some server SSL of
 * this process is handshaking at all; when none of them is on fd (memory
 * BIOs), the hello is remembered for ossl_registry_take_hello. */
SSL *ossl_registry_find_hello(const struct ssl_fns *f, const struct conn *c, int fd,
                              const uint8_t random[STREAM_RANDOM_LEN], struct ossl_state **st,
                              bool *any);

/* The connection (and its descriptor, *fd) a remembered inbound ClientHello
 * with this client random came in on, forgotten as it is taken; NULL if none.
 * No reference is held: the caller checks the descriptor still names it. */
const struct conn *ossl_registry_take_hello(const uint8_t random[STREAM_RANDOM_LEN], int *fd);

#endif
