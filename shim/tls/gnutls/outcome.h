/*
 * The outcome of a gnutls_handshake call, checked by the shim itself: the
 * guarantee, whether or not the shim's verify function ran.
 */
#ifndef TLSGUARD_GTLS_OUTCOME_H
#define TLSGUARD_GTLS_OUTCOME_H

#include "gtls.h"

/* After gnutls_handshake returned ret on a session the policy was applied
 * to: ret when the outcome is acceptable (or not final yet), else
 * GTLS_REFUSED (enforce mode; recorded through verdict.c). */
int gtls_outcome_check(const struct gnutls_fns *f, gnutls_session_t session, struct gtls_state *st,
                       int ret);

#endif
