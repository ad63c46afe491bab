/*
 * The shim's own verification of a peer's certificate chain: the policy's
 * anchors (store.c), purpose, host name, pins, the policy's verification
 * profile; nothing the program set.
 */
#ifndef TLSGUARD_GTLS_VERIFY_H
#define TLSGUARD_GTLS_VERIFY_H

#include "gtls.h"
#include "verdict.h"

/* The session's verify function while the shim governs it
 * (gnutls_session_set_verify_function(3)). On a governed session in enforce
 * mode the shim's verification decides first, so the handshake fails with
 * GnuTLS's own alert and GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR; the
 * program's verify function (the session's or its credentials', recorded)
 * then still runs and can only refuse more. Elsewhere: the program's
 * function alone, as GnuTLS would have run it. */
int gtls_verify_function(gnutls_session_t session);

/* Verifies session's peer chain; false when refused (recorded through
 * verdict.c, shut when). */
bool gtls_verify_peer(const struct gnutls_fns *f, gnutls_session_t session, struct gtls_state *st,
                      enum gtls_shut when);

/* An inbound `external` rule: the certificate the program serves with must
 * chain to a public root (the system's anchors). false when refused. */
bool gtls_verify_served(const struct gnutls_fns *f, gnutls_session_t session,
                        struct gtls_state *st);

#endif
