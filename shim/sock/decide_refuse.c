/*
 * The refusals of the socket layer's decision and the audit event each one
 * records (decide_internal.h), and the refusal of calls that move bytes the
 * shim cannot see (decide_opaque_io).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "decide_internal.h"
#include "tunnel/tunnel.h"
#include "shim.h"
#include "tls/tls.h"

void decide_report(enum audit_kind kind, enum audit_verdict verdict, bool inbound,
                   const struct endpoint *ep, int rule, const char *reason, const char *detail)
{
	struct audit_event ev = {
	    .kind = kind,
	    .verdict = verdict,
	    .inbound = inbound,
	    .proto = ep != NULL ? ep->proto : POLICY_PROTO_TCP,
	    .peer = ep != NULL ? &ep->addr : NULL,
	    .port = ep != NULL ? ep->port : 0,
	    .host = ep != NULL ? ep->host : NULL,
	    .rule = rule,
	    .reason = reason,
	    .detail = detail,
	};

	audit_emit(&ev);
}

static void report_conn(const struct conn *c, enum audit_kind kind, enum audit_verdict verdict,
                        const char *reason, const char *detail)
{
	struct endpoint ep = {.addr = c->peer, .port = c->port, .proto = c->proto};

	memcpy(ep.host, c->host, sizeof(ep.host));
	decide_report(kind, verdict, c->inbound, &ep, c->rule != NULL ? c->rule->index : 0, reason,
	              detail);
}

bool decide_refuse_now(void)
{
	return shim_mode() == POLICY_MODE_ENFORCE;
}

enum audit_verdict decide_violation_verdict(void)
{
	return decide_refuse_now() ? AUDIT_VERDICT_BLOCK : AUDIT_VERDICT_AUDIT;
}

int decide_refuse_without_policy(bool inbound, const struct endpoint *ep)
{
	decide_report(AUDIT_POLICY, AUDIT_VERDICT_BLOCK, inbound, ep, POLICY_RULE_DEFAULT,
	              "policy_error", shim_policy_error());
	errno = inbound ? ECONNABORTED : EACCES;
	return -1;
}

int decide_refuse_untracked(bool inbound, const struct endpoint *ep, int rule, int err)
{
	decide_report(AUDIT_POLICY, AUDIT_VERDICT_BLOCK, inbound, ep, rule, "policy_error",
	              "cannot follow this descriptor");
	errno = err;
	return -1;
}

int decide_refuse_stream(int fd, struct conn *c, enum audit_kind kind, const char *reason,
                         const char *detail, int err)
{
	report_conn(c, kind, decide_violation_verdict(), reason, detail);
	if (!decide_refuse_now()) {
		fdt_clear(fd); /* audit mode: recorded once, then let go */
		return 0;
	}
	conn_refuse(c, fd);
	errno = err;
	return -1;
}

int decide_check_hello(int fd, struct conn *c, const uint8_t *random, int err)
{
	enum policy_unmanaged unmanaged = c->rule->tls.unmanaged;

	if (tls_claim_hello(c, fd, random)) {
		return 0;
	}
	switch (unmanaged) {
	case POLICY_UNMANAGED_ALLOW:
		return 0;
	case POLICY_UNMANAGED_AUDIT:
		report_conn(c, AUDIT_UNMANAGED_TLS, AUDIT_VERDICT_AUDIT, "unmanaged_tls", NULL);
		return 0;
	case POLICY_UNMANAGED_DENY:
	default:
		return decide_refuse_stream(fd, c, AUDIT_UNMANAGED_TLS, "unmanaged_tls", NULL, err);
	}
}

bool decide_forget_if_stale(int fd, struct conn *c)
{
	if (!conn_is_stale(c, fd)) {
		return false;
	}
	fdt_clear(fd);
	return true;
}

int decide_opaque_io(int fd, struct conn *c, const char *call)
{
	char detail[64];

	if (c->shim_own) {
		errno = EBADF; /* the audit socket is not the program's: no event, no shutdown */
		return -1;
	}
	if (c->tunnel != NULL) {
		/* plaintext by design: the pump encrypts it; bytes the direct
		 * path cannot count */
		tunnel_mark_shared(c->tunnel);
		return tunnel_io_check(c);
	}
	snprintf(detail, sizeof(detail), "%s moves bytes the shim cannot inspect", call);
	return decide_refuse_stream(fd, c, AUDIT_PLAINTEXT, "plaintext", detail, EACCES);
}

int decide_opaque(int fd, const char *call)
{
	struct conn *c = conn_acquire(fd);
	int rc;

	if (c == NULL) {
		return 0;
	}
	rc = decide_opaque_io(fd, c, call);
	conn_release(c);
	return rc;
}
