/*
 * Name resolution, the decision: whether a lookup may ask DNS under the policy,
 * and the audit event when it may not.
 *
 * The shim learns which name the program resolved to which address (for
 * host-name rules and the host-name verification of the TLS connection that
 * follows: core/names.h), and holds DNS to the policy at the API. glibc's stub
 * resolver (res_send) and its NSS dns module open, connect and write their UDP
 * and TCP sockets through libc-internal aliases that never pass the PLT, so the
 * socket wrappers cannot see a query. The resolver's entry points are
 * interposed instead: getaddrinfo, getaddrinfo_a, getnameinfo
 * (dns_addrinfo.c), the gethostbyname and gethostbyaddr families
 * (dns_hostent.c), and res_query, res_search, res_querydomain, res_send with
 * their res_n* and __res_* names (dns_res.c; every one libc.so.6 exports,
 * nm -D). When the policy refuses port 53 (UDP or TCP) to a name server the
 * resolver would use (resolv.conf(5), or the res_state the program passed), no
 * query is made: names and addresses are answered from hosts(5) only, as the
 * "files" source of nsswitch.conf(5) would (dns_files.c), and a name that needs
 * DNS fails with one audit event (reason denied). In audit mode the event is
 * recorded and the query goes out.
 */
#include <errno.h>

#include "core/audit.h"
#include "dns_internal.h"
#include "shim.h"

#define DENIED_DETAIL "dns query refused by outbound.dns"

/* A refused query: what the event names. */
struct dns_refusal {
	struct policy_addr server;
	int rule;
	enum policy_proto proto;
};

/* Whether the policy lets port 53 through to every server, UDP and TCP (the
 * resolver retries over TCP): the socket layer's own rules for a program that
 * sent its queries itself. */
static bool dns_denied(const struct policy *policy, const struct dns_servers *ns,
                       struct dns_refusal *why)
{
	static const enum policy_proto protos[] = {POLICY_PROTO_UDP, POLICY_PROTO_TCP};
	const struct policy_rule *rule;
	int i, p;

	for (i = 0; i < ns->n; i++) {
		for (p = 0; p < 2; p++) {
			rule = policy_match_out(policy, &ns->addr[i], DNS_PORT, protos[p], NULL);
			if (rule->action != POLICY_ACTION_ALLOW) {
				why->server = ns->addr[i];
				why->rule = rule->index;
				why->proto = protos[p];
				return true;
			}
		}
	}
	return false;
}

/* Per thread: the refusal found by the last dns_decide, for dns_report. */
static SHIM_THREAD struct dns_refusal last_refusal;
static SHIM_THREAD bool last_no_policy;

enum dns_verdict dns_decide(res_state statp)
{
	const struct policy *policy;
	struct dns_servers ns;

	if (shim_busy) {
		return DNS_QUERY; /* the shim's own lookups */
	}
	policy = shim_policy();
	last_no_policy = policy == NULL;
	if (policy == NULL) {
		return DNS_FILES_ONLY; /* fail closed: no network at all */
	}
	if (shim_mode() == POLICY_MODE_OFF) {
		return DNS_QUERY;
	}
	dns_servers_of(statp, &ns);
	if (!dns_denied(policy, &ns, &last_refusal)) {
		return DNS_QUERY;
	}
	return DNS_FILES_ONLY;
}

bool dns_report(const char *name)
{
	int saved = errno;
	struct audit_event ev = {
	    .kind = last_no_policy ? AUDIT_POLICY : AUDIT_CONNECT,
	    .verdict = AUDIT_VERDICT_BLOCK,
	    .peer = last_no_policy ? NULL : &last_refusal.server,
	    .port = DNS_PORT,
	    .proto = last_refusal.proto,
	    .host = name,
	    .rule = last_no_policy ? POLICY_RULE_DEFAULT : last_refusal.rule,
	    .reason = last_no_policy ? "policy_error" : "denied",
	    .detail = last_no_policy ? shim_policy_error() : DENIED_DETAIL,
	};
	bool refuse = last_no_policy || shim_mode() == POLICY_MODE_ENFORCE;

	if (!refuse) {
		ev.verdict = AUDIT_VERDICT_AUDIT;
	}
	audit_emit(&ev);
	errno = saved;
	return refuse;
}
