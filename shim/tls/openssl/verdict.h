/*
 * Recording a verdict on an SSL: the audit event, and in enforce mode the
 * refusal itself (the SSL dead from then on, its socket shut, the error on
 * OpenSSL's queue). Every refusal of the layer goes through here, once.
 */
#ifndef TLSGUARD_OSSL_VERDICT_H
#define TLSGUARD_OSSL_VERDICT_H

#include "ossl.h"

/* When a refused SSL's socket is shut. Inside libssl's handshake (the shim's
 * verifier runs there) it is shut only once the handshake call returned, so
 * that libssl's alert still tells the peer why. */
enum ossl_shut {
	OSSL_SHUT_NOW,
	OSSL_SHUT_AFTER_HANDSHAKE, /* st->shut_pending; ossl_shut_if_pending */
};

/* A violation of the policy: recorded once (reason, detail: the audit event's
 * words; verify_result: what SSL_get_verify_result reports); in enforce mode
 * the SSL is dead from here on. Returns false when the call must fail. */
bool ossl_refuse(struct ossl_state *st, const char *reason, long verify_result, const char *detail,
                 enum ossl_shut when);

/* The socket of an SSL refused inside libssl's handshake, shut now. */
void ossl_shut_if_pending(struct ossl_state *st);

/* Puts the "verification failed" error on the queue (SSL_get_error then says
 * SSL_ERROR_SSL). */
void ossl_push_error(const struct ssl_fns *f, const struct ossl_state *st);

/* A legacy CN-only certificate let through by the rule's
 * insecure_cn_fallback: one event says so (verdict allow, or audit). */
void ossl_report_cn_fallback(struct ossl_state *st);

#endif
