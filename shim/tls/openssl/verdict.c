/*
 * Recording a verdict (verdict.h): the audit event, the refusal, the socket
 * shut through the socket layer's own refusal.
 */
#include <errno.h>
#include <stdio.h>

#include <openssl/err.h>
#include <openssl/sslerr.h>

#include "core/audit.h"
#include "tls/peer.h"
#include "tls/report.h"
#include "verdict.h"

static void report(const struct ossl_state *st, enum audit_verdict verdict)
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

static void shut_socket(const struct ossl_state *st)
{
	tls_shut_socket(st->fd);
}

bool ossl_refuse(struct ossl_state *st, const char *reason, long verify_result, const char *detail,
                 enum ossl_shut when)
{
	int saved = errno;

	if (st->reported) {
		return !st->failed;
	}
	snprintf(st->reason, sizeof(st->reason), "%s", reason);
	snprintf(st->detail, sizeof(st->detail), "%s", detail != NULL ? detail : "");
	st->reported = true;
	if (!ossl_enforcing()) {
		report(st, AUDIT_VERDICT_AUDIT);
		return true;
	}
	st->verify_result = verify_result;
	st->failed = true;
	report(st, AUDIT_VERDICT_BLOCK);
	switch (when) {
	case OSSL_SHUT_AFTER_HANDSHAKE:
		st->shut_pending = true;
		break;
	case OSSL_SHUT_NOW:
	default:
		shut_socket(st);
		break;
	}
	errno = saved;
	return false;
}

void ossl_shut_if_pending(struct ossl_state *st)
{
	if (st->shut_pending) {
		st->shut_pending = false;
		shut_socket(st);
	}
}

void ossl_push_error(const struct ssl_fns *f, const struct ossl_state *st)
{
	f->ERR_new();
	f->ERR_set_debug(__FILE__, __LINE__, "tlsguard");
	f->ERR_set_error(ERR_LIB_SSL, SSL_R_CERTIFICATE_VERIFY_FAILED, "tlsguard: %s%s%s",
	                 st->reason, st->detail[0] != '\0' ? ": " : "", st->detail);
}

void ossl_report_cn_fallback(struct ossl_state *st)
{
	snprintf(st->reason, sizeof(st->reason), "hostname");
	snprintf(st->detail, sizeof(st->detail), "%s", TLS_CN_FALLBACK_DETAIL);
	report(st, ossl_enforcing() ? AUDIT_VERDICT_ALLOW : AUDIT_VERDICT_AUDIT);
	st->reason[0] = '\0';
	st->detail[0] = '\0';
}
