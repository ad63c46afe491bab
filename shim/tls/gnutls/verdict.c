/*
 * Recording a verdict (verdict.h): the audit event, the refusal, the socket
 * shut through the socket layer's own refusal (tls/report.h).
 */
#include <errno.h>
#include <stdio.h>

#include "tls/peer.h"
#include "state.h"
#include "tls/report.h"
#include "verdict.h"

static void report(const struct gtls_state *st, enum audit_verdict verdict)
{
	struct tls_report r = {
	    .inbound = st->server,
	    .peer = st->have_peer ? &st->peer : NULL,
	    .port = st->port,
	    .host = st->host,
	    .rule = st->rule,
	    .reason = st->reason,
	    .detail = st->detail,
	};

	tls_report_handshake(&r, verdict);
}

bool gtls_refuse(struct gtls_state *st, const char *reason, unsigned status, const char *detail,
                 enum gtls_shut when)
{
	int saved = errno;

	if (st->reported) {
		return !st->failed;
	}
	snprintf(st->reason, sizeof(st->reason), "%s", reason);
	snprintf(st->detail, sizeof(st->detail), "%s", detail != NULL ? detail : "");
	st->reported = true;
	if (!gtls_enforcing()) {
		report(st, AUDIT_VERDICT_AUDIT);
		errno = saved;
		return true;
	}
	st->status = status != 0 ? status : GNUTLS_CERT_INVALID;
	st->failed = true;
	atomic_fetch_add_explicit(&gtls_failed_sessions, 1, memory_order_release);
	report(st, AUDIT_VERDICT_BLOCK);
	switch (when) {
	case GTLS_SHUT_AFTER_HANDSHAKE:
		st->shut_pending = true;
		break;
	case GTLS_SHUT_NOW:
	default:
		tls_shut_socket(st->fd);
		break;
	}
	errno = saved;
	return false;
}

void gtls_shut_if_pending(struct gtls_state *st)
{
	if (st->shut_pending) {
		st->shut_pending = false;
		tls_shut_socket(st->fd);
	}
}

void gtls_report_cn_fallback(struct gtls_state *st)
{
	snprintf(st->reason, sizeof(st->reason), "%s", TLS_REASON_HOSTNAME);
	snprintf(st->detail, sizeof(st->detail), "%s", TLS_CN_FALLBACK_DETAIL);
	report(st, gtls_enforcing() ? AUDIT_VERDICT_ALLOW : AUDIT_VERDICT_AUDIT);
	st->reason[0] = '\0';
	st->detail[0] = '\0';
}
