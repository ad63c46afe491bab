/*
 * The side table of the shim's states, keyed by the session pointer: GnuTLS
 * has no ex_data. One lock, chains of a fixed bucket array; a process whose
 * sessions were never seen pays one atomic load per lookup.
 */
#ifndef TLSGUARD_GTLS_STATE_H
#define TLSGUARD_GTLS_STATE_H

#include <stdatomic.h>

#include "gtls.h"

/* How many sessions were refused and not yet freed: while none, a record call
 * needs no lookup at all (call.c). */
extern atomic_size_t gtls_failed_sessions;

/* The state of session, or NULL. The pointer stays valid until
 * gtls_state_drop for that session (gnutls_deinit), which the program may not
 * call while it still uses the session. */
struct gtls_state *gtls_state_get(gnutls_session_t session);
/* The state of session, made (with secure defaults) when it has none; NULL
 * only when memory is short. */
struct gtls_state *gtls_state_make(gnutls_session_t session);
/* Takes session's state out of the table; the caller frees it (free()). */
struct gtls_state *gtls_state_drop(gnutls_session_t session);

/* The verify function the program set on its certificate credentials
 * (gnutls_certificate_set_verify_function), recorded so that the shim's own
 * verify function, which takes the session's place, still runs it. */
void gtls_cred_verify_set(void *cred, gnutls_certificate_verify_function *fn);
gnutls_certificate_verify_function *gtls_cred_verify_get(void *cred);
/* cred is freed. */
void gtls_cred_verify_forget(void *cred);

/* The program's string of each priority cache it made (gnutls_priority_init),
 * for gnutls_priority_set: prio NULL for GnuTLS's default; flags those of
 * gnutls_priority_init2. */
void gtls_prio_cache_set(gnutls_priority_t cache, const char *prio, unsigned flags);
/* Records cache's string on st as the session's priorities (none known:
 * st->have_prog_prio false). */
void gtls_prio_cache_apply(gnutls_priority_t cache, struct gtls_state *st);
void gtls_prio_cache_forget(gnutls_priority_t cache);
/* Records prio (copied; NULL: none) as st's priorities. */
void gtls_prio_record(struct gtls_state *st, const char *prio, bool on_default, unsigned flags);

#endif
