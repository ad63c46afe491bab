/*
 * Recording a verdict on a session: the audit event, and in enforce mode the
 * refusal itself (every later call on the session fails, its socket is shut,
 * the status getters report it). Every refusal of the layer goes through
 * here, once.
 */
#ifndef TLSGUARD_GTLS_VERDICT_H
#define TLSGUARD_GTLS_VERDICT_H

#include "gtls.h"

/* When a refused session's socket is shut. Inside GnuTLS's handshake (the
 * shim's verify function runs there) only once gnutls_handshake returned, so
 * that GnuTLS's alert still tells the peer why. */
enum gtls_shut {
	GTLS_SHUT_NOW,
	GTLS_SHUT_AFTER_HANDSHAKE, /* st->shut_pending; gtls_shut_if_pending */
};

/* A violation of the policy: recorded once (reason, detail: the audit event's
 * words; status: the GNUTLS_CERT_* the status getters report). In enforce
 * mode the session is dead from here on. Returns false when the call must
 * fail. */
bool gtls_refuse(struct gtls_state *st, const char *reason, unsigned status, const char *detail,
                 enum gtls_shut when);

/* The socket of a session refused inside the handshake, shut now. */
void gtls_shut_if_pending(struct gtls_state *st);

/* A legacy CN-only certificate let through by the rule's
 * insecure_cn_fallback: one event says so (verdict allow, or audit). */
void gtls_report_cn_fallback(struct gtls_state *st);

#endif
