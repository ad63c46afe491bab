/*
 * The connect and accept verdicts: which rule of the policy applies to a
 * destination (or a listener's port), whether the call goes on, and whether
 * the descriptor is followed from here on (a require_tls rule: conn.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "bind/real.h"
#include "core/match_cache.h"
#include "core/names.h"
#include "decide_internal.h"
#include "shim.h"
#include "tunnel/tunnel.h"

static inline __attribute__((always_inline)) enum policy_proto proto_of(int fd, bool *is_socket)
{
	int type = 0;
	socklen_t len = sizeof(type);

	*is_socket = real()->getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0;
	return type == SOCK_STREAM ? POLICY_PROTO_TCP : POLICY_PROTO_UDP;
}

/* Follows fd from here on under rule (conn.h). */
static int track(int fd, bool inbound, const struct policy_rule *rule, const struct endpoint *ep,
                 uint16_t local_port)
{
	struct conn *c = conn_new(inbound, rule);
	int rc;

	if (c == NULL) {
		return -1;
	}
	c->peer = ep->addr;
	c->port = ep->port;
	c->local_port = local_port;
	c->proto = ep->proto;
	memcpy(c->host, ep->host, sizeof(c->host));
	conn_identify(c, fd);
	rc = fdt_set(fd, c);
	conn_release(c);
	return rc;
}

/* What connect() needs to hand a connection to a tunnel (upgrade_tls). */
struct tunnel_req {
	const struct policy_rule *rule;
	char host[CONN_HOST_MAX];
};

/* A connect on a descriptor that is already a tunnel's: as on a TCP socket
 * whose connect is under way, done, or failed. */
static int reconnect(int fd)
{
	struct conn *c = conn_acquire(fd);
	int rc = 0;

	if (c == NULL) {
		return 0;
	}
	if (c->tunnel != NULL) {
		rc = -1;
		if (tunnel_io_check(c) == 0) {
			errno = EISCONN;
		}
	}
	conn_release(c);
	return rc;
}

/* The full outbound decision: the resolved name, the rule, the state of a
 * governed socket, the audit event. 1: the connection goes through a tunnel
 * (req filled in; refused when req is NULL, a send with an address). */
static __attribute__((noinline)) int outbound_decide(int fd, const struct policy_addr *addr,
                                                     uint16_t port, enum policy_proto proto,
                                                     struct tunnel_req *req)
{
	const struct policy *policy = shim_policy();
	const struct policy_rule *rule;
	struct endpoint ep;

	ep.addr = *addr;
	ep.port = port;
	ep.proto = proto;
	ep.host[0] = '\0'; /* the rest is filled below: no 256-byte clear per connect */
	names_lookup(&ep.addr, ep.host, sizeof(ep.host));
	if (policy == NULL) {
		return decide_refuse_without_policy(false, &ep);
	}
	if (shim_mode() == POLICY_MODE_OFF) {
		return 0;
	}
	/* The resolved name matters to the match only with host rules. */
	rule = match_cache_out(policy, &ep.addr, ep.port, proto,
	                       shim_loaded.host_rules && ep.host[0] ? ep.host : NULL);
	switch (rule->action) {
	case POLICY_ACTION_DENY:
		decide_report(AUDIT_CONNECT, decide_violation_verdict(), false, &ep, rule->index,
		              "denied", NULL);
		if (decide_refuse_now()) {
			errno = EACCES;
			return -1;
		}
		fdt_clear(fd);
		return 0;
	case POLICY_ACTION_ALLOW:
		fdt_clear(fd);
		break;
	case POLICY_ACTION_REQUIRE_TLS:
		if (fdt_peek(fd) != NULL) {
			return 0; /* a repeated connect on a governed socket: keep its state */
		}
		if (track(fd, false, rule, &ep, 0) < 0) {
			return decide_refuse_untracked(false, &ep, rule->index, EACCES);
		}
		break;
	case POLICY_ACTION_UPGRADE_TLS:
		if (fdt_peek(fd) != NULL && reconnect(fd) < 0) {
			return -1;
		}
		if (req == NULL) {
			/* sendto/sendmsg with an address (TCP Fast Open): the first
			 * bytes would leave before any handshake */
			decide_report(AUDIT_UPGRADE, decide_violation_verdict(), false, &ep,
			              rule->index, "plaintext",
			              "TCP Fast Open on an upgrade_tls connection");
			errno = EACCES;
			return -1;
		}
		req->rule = rule;
		memcpy(req->host, ep.host, sizeof(req->host));
		if (shim_loaded.log_allowed) {
			decide_report(AUDIT_UPGRADE, AUDIT_VERDICT_ALLOW, false, &ep, rule->index,
			              "allowed", NULL);
		}
		return 1;
	default:
		errno = EACCES;
		return -1;
	}
	if (shim_loaded.log_allowed) {
		decide_report(AUDIT_CONNECT, AUDIT_VERDICT_ALLOW, false, &ep, rule->index,
		              "allowed", NULL);
	}
	return 0;
}

/* Every connect to an IP address passes here, so the common case is decided
 * without outbound_decide(): a policy in force, an address the program
 * resolved no name for (or no host rules), and an allow rule with nothing to
 * record. 0: the call goes ahead untouched; 1: outbound_decide() must decide,
 * on *addr, *port and *proto. Inlined into both callers, so that connect()
 * decides and connects in one small frame. */
static inline __attribute__((always_inline)) int
outbound_quick(int fd, const struct sockaddr *sa, socklen_t len, struct policy_addr *addr,
               uint16_t *port, enum policy_proto *proto)
{
	const struct policy_rule *rule;
	bool is_socket;

	if (sa == NULL || len < sizeof(struct sockaddr_in) ||
	    policy_addr_from_sockaddr(addr, sa, port) < 0) {
		return 0; /* Unix, netlink, AF_UNSPEC: never touched */
	}
	*proto = proto_of(fd, &is_socket);
	if (!is_socket) {
		return 0;
	}
	shim_policy();
	if (!shim_loaded.quiet_allow || (shim_loaded.host_rules && names_known(addr))) {
		return 1;
	}
	rule = match_cache_out(shim_loaded.policy, addr, *port, *proto, NULL);
	if (rule->action != POLICY_ACTION_ALLOW) {
		return 1;
	}
	if (fdt_governed(fd)) {
		fdt_clear(fd); /* a governed socket reconnected: its old state goes */
	}
	return 0;
}

int decide_outbound(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct policy_addr addr;
	enum policy_proto proto;
	uint16_t port;

	if (outbound_quick(fd, sa, len, &addr, &port, &proto) == 0) {
		return 0;
	}
	return outbound_decide(fd, &addr, port, proto, NULL);
}

/* connect() past the quick decision: the full one, then the real connect or
 * the tunnel's (the tunnel's request stays off the common case's frame). */
static __attribute__((noinline)) int connect_decided(int fd, const struct sockaddr *sa,
                                                     socklen_t len, const struct policy_addr *addr,
                                                     uint16_t port, enum policy_proto proto)
{
	struct tunnel_req req;
	int rc = outbound_decide(fd, addr, port, proto, &req);

	if (rc < 0) {
		return -1;
	}
	if (rc > 0) {
		return tunnel_connect(fd, sa, len, req.rule, req.host);
	}
	return real()->connect(fd, sa, len);
}

int decide_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct policy_addr addr;
	enum policy_proto proto;
	uint16_t port;

	if (__builtin_expect(outbound_quick(fd, sa, len, &addr, &port, &proto) != 0, 0)) {
		return connect_decided(fd, sa, len, &addr, port, proto);
	}
	return real_hot()->connect(fd, sa, len);
}

int decide_endpoint_of(int fd, bool peer, struct endpoint *ep)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int rc = peer ? real()->getpeername(fd, (struct sockaddr *)&ss, &len)
	              : real()->getsockname(fd, (struct sockaddr *)&ss, &len);

	if (rc < 0) {
		return -1;
	}
	return policy_addr_from_sockaddr(&ep->addr, (struct sockaddr *)&ss, &ep->port);
}

int decide_inbound(int fd)
{
	const struct policy_rule *rule;
	const struct policy *policy;
	struct endpoint local = {0}, ep = {0};
	bool is_socket;

	if (proto_of(fd, &is_socket) != POLICY_PROTO_TCP || !is_socket ||
	    decide_endpoint_of(fd, false, &local) < 0 || decide_endpoint_of(fd, true, &ep) < 0) {
		return 0; /* not a TCP/IP connection */
	}
	policy = shim_policy();
	if (policy == NULL) {
		return decide_refuse_without_policy(true, &ep);
	}
	if (shim_mode() == POLICY_MODE_OFF) {
		return 0;
	}
	rule = policy_match_in(policy, local.port, &ep.addr);
	switch (rule->action) {
	case POLICY_ACTION_DENY:
		decide_report(AUDIT_CONNECT, decide_violation_verdict(), true, &ep, rule->index,
		              "denied", NULL);
		if (decide_refuse_now()) {
			errno = ECONNABORTED;
			return -1;
		}
		return 0;
	case POLICY_ACTION_ALLOW:
		fdt_clear(fd);
		break;
	case POLICY_ACTION_REQUIRE_TLS:
		if (track(fd, true, rule, &ep, local.port) < 0) {
			return decide_refuse_untracked(true, &ep, rule->index, ECONNABORTED);
		}
		break;
	case POLICY_ACTION_TERMINATE_TLS:
		if (tunnel_accept(fd, rule) < 0) {
			return decide_refuse_untracked(true, &ep, rule->index, ECONNABORTED);
		}
		break;
	default:
		errno = ECONNABORTED;
		return -1;
	}
	if (policy_audit(policy)->log_allowed) {
		decide_report(AUDIT_CONNECT, AUDIT_VERDICT_ALLOW, true, &ep, rule->index, "allowed",
		              NULL);
	}
	return 0;
}
