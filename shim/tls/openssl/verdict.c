/*
 * Recording a verdict (verdict.h): the audit event, the refusal, the socket
 * shut through the socket layer's own refusal.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/sslerr.h>

#include "bind/real.h"
#include "core/audit.h"
#include "verdict.h"

static void report(const struct ossl_state *st, enum audit_verdict verdict)
{
	struct audit_event ev = {
	    .kind = AUDIT_HANDSHAKE,
	    .verdict = verdict,
	    .inbound = st->server,
	    .peer = st->have_peer ? &st->peer : NULL,
	    .port = st->port,
	    .host = st->host,
	    .rule = st->rule != NULL ? st->rule->index : POLICY_RULE_DEFAULT,
	    .reason = st->reason,
	    .detail = st->detail[0] != '\0' ? st->detail : NULL,
	};
	int saved = errno;

	audit_emit(&ev);
	errno = saved;
}

static void shut_socket(const struct ossl_state *st)
{
	struct conn *c;
	struct stat sb;

	if (st->fd < 0) {
		return;
	}
	c = conn_acquire(st->fd);
	if (c != NULL) {
		conn_refuse(c, st->fd);
		conn_release(c);
	} else if (fstat(st->fd, &sb) == 0 && S_ISSOCK(sb.st_mode)) {
		(void)real()->shutdown(st->fd, SHUT_RDWR);
	}
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
	snprintf(st->detail, sizeof(st->detail),
	         "insecure_cn_fallback: name matched by the subject CN, no subjectAltName");
	report(st, ossl_enforcing() ? AUDIT_VERDICT_ALLOW : AUDIT_VERDICT_AUDIT);
	st->reason[0] = '\0';
	st->detail[0] = '\0';
}
