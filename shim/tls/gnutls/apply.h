/*
 * Forcing the policy onto a session at its first handshake call: the
 * connection and its rule, the name to check, the shim's verify function in
 * place of the program's, client certificates required (server) or presented
 * (client).
 */
#ifndef TLSGUARD_GTLS_APPLY_H
#define TLSGUARD_GTLS_APPLY_H

#include "gtls.h"

/* The first handshake call on session: finds its connection (the transport's
 * descriptor) and applies its rule; a session on its own transport waits for
 * its ClientHello (gtls_apply_bind). Lists it in the registry. */
void gtls_apply(const struct gnutls_fns *f, gnutls_session_t session, struct gtls_state *st);

/* session wrote (or is reading) the first ClientHello on the governed
 * connection c (descriptor fd): its rule applies from now on. */
void gtls_apply_bind(const struct gnutls_fns *f, gnutls_session_t session, struct gtls_state *st,
                     struct conn *c, int fd);

#endif
