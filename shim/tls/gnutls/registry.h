/*
 * The registry of GnuTLS handshakes under way in this process: what the
 * socket layer's ClientHello is matched against (claim.c).
 */
#ifndef TLSGUARD_GTLS_REGISTRY_H
#define TLSGUARD_GTLS_REGISTRY_H

#include "gtls.h"

/* Lists session for the handshake the calling thread runs (once;
 * st->in_handshake says so). */
void gtls_registry_add(gnutls_session_t session, struct gtls_state *st);
/* Unlists it: its handshake ended, or it is freed. */
void gtls_registry_remove(gnutls_session_t session, struct gtls_state *st);

/* The session whose handshake wrote (outbound) or is reading (inbound) the
 * first ClientHello seen on the governed connection c (descriptor fd), with
 * *st its state; NULL if none. *any: for an inbound hello, a GnuTLS server
 * of this process on its own transport is handshaking; the hello is then
 * remembered for gtls_registry_take_hello. */
gnutls_session_t gtls_registry_find_hello(const struct gnutls_fns *f, const struct conn *c, int fd,
                                          const uint8_t random[STREAM_RANDOM_LEN],
                                          struct gtls_state **st, bool *any);

/* The connection (and its descriptor, *fd) a remembered inbound ClientHello
 * with this client random came in on, forgotten as it is taken; NULL if none.
 * No reference is held: the caller checks the descriptor still names it. */
const struct conn *gtls_registry_take_hello(const uint8_t random[STREAM_RANDOM_LEN], int *fd);

#endif
