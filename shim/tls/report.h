/*
 * What every TLS library's layer does the same way once it has a verdict:
 * the audit event of a handshake, and shutting the refused socket through the
 * socket layer's own refusal.
 */
#ifndef TLSGUARD_TLS_REPORT_H
#define TLSGUARD_TLS_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/audit.h"
#include "policy.h"

/* The handshake of one session, as an audit event describes it. */
struct tls_report {
	bool inbound;
	const struct policy_addr *peer; /* NULL: unknown */
	uint16_t port;
	const char *host;
	const struct policy_rule *rule; /* NULL: the policy's defaults */
	const char *reason;
	const char *detail; /* NULL or "": none */
};

/* One event=handshake audit line (errno kept). */
void tls_report_handshake(const struct tls_report *r, enum audit_verdict verdict);

/* Shuts fd both ways: conn_refuse when the socket layer tracks it, else a
 * plain shutdown when it is a socket at all. fd < 0: nothing. */
void tls_shut_socket(int fd);

#endif
