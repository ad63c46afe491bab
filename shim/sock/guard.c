/*
 * The socket layer's decisions (see guard.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/audit.h"
#include "core/conn_internal.h"
#include "guard.h"
#include "core/match_cache.h"
#include "core/names.h"
#include "bind/real.h"
#include "shim.h"
#include "tls/tls.h"

/* The default Linux ephemeral port range (ip_local_port_range): a socket whose
 * local port lies in it most likely made an outbound connection. */
#define EPHEMERAL_LOW  32768
#define EPHEMERAL_HIGH 60999

struct endpoint {
	struct policy_addr addr;
	uint16_t port;
	char host[CONN_HOST_MAX];
	enum policy_proto proto; /* for the audit event's proto= */
};

static void report(enum audit_kind kind, enum audit_verdict verdict, bool inbound,
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
	report(kind, verdict, c->inbound, &ep, c->rule != NULL ? c->rule->index : 0, reason,
	       detail);
}

/* A violation: recorded always; refused only in enforce mode. */
static bool refuse_now(void)
{
	return shim_mode() == POLICY_MODE_ENFORCE;
}

static enum audit_verdict violation_verdict(void)
{
	return refuse_now() ? AUDIT_VERDICT_BLOCK : AUDIT_VERDICT_AUDIT;
}

/* No policy could be loaded: every governed call is refused (fail closed). */
static int refuse_without_policy(bool inbound, const struct endpoint *ep)
{
	report(AUDIT_POLICY, AUDIT_VERDICT_BLOCK, inbound, ep, POLICY_RULE_DEFAULT, "policy_error",
	       shim_policy_error());
	errno = inbound ? ECONNABORTED : EACCES;
	return -1;
}

static enum policy_proto proto_of(int fd, bool *is_socket)
{
	int type = 0;
	socklen_t len = sizeof(type);

	*is_socket = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0;
	return type == SOCK_STREAM ? POLICY_PROTO_TCP : POLICY_PROTO_UDP;
}

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

/* The full outbound decision: the resolved name, the rule, the state of a
 * governed socket, the audit event. */
static __attribute__((noinline)) int outbound_decide(int fd, const struct policy_addr *addr,
                                                     uint16_t port, enum policy_proto proto)
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
		return refuse_without_policy(false, &ep);
	}
	if (shim_mode() == POLICY_MODE_OFF) {
		return 0;
	}
	/* The resolved name matters to the match only with host rules. */
	rule = match_cache_out(policy, &ep.addr, ep.port, proto,
	                       shim_loaded.host_rules && ep.host[0] ? ep.host : NULL);
	switch (rule->action) {
	case POLICY_ACTION_DENY:
		report(AUDIT_CONNECT, violation_verdict(), false, &ep, rule->index, "denied", NULL);
		if (refuse_now()) {
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
			report(AUDIT_POLICY, AUDIT_VERDICT_BLOCK, false, &ep, rule->index,
			       "policy_error", "cannot follow this descriptor");
			errno = EACCES;
			return -1;
		}
		break;
	default:
		errno = EACCES;
		return -1;
	}
	if (shim_loaded.log_allowed) {
		report(AUDIT_CONNECT, AUDIT_VERDICT_ALLOW, false, &ep, rule->index, "allowed",
		       NULL);
	}
	return 0;
}

/* Every connect to an IP address passes here, so the common case is decided
 * without outbound_decide(): a policy in force, an address the program
 * resolved no name for (or no host rules), and an allow rule with nothing to
 * record. Anything else takes the full decision. Inlined into both callers, so
 * that connect() decides and connects in one frame. */
static inline __attribute__((always_inline)) int outbound(int fd, const struct sockaddr *sa,
                                                          socklen_t len)
{
	const struct policy_rule *rule;
	struct policy_addr addr;
	enum policy_proto proto;
	uint16_t port;
	bool is_socket;

	if (sa == NULL || len < sizeof(struct sockaddr_in) ||
	    policy_addr_from_sockaddr(&addr, sa, &port) < 0) {
		return 0; /* Unix, netlink, AF_UNSPEC: never touched */
	}
	proto = proto_of(fd, &is_socket);
	if (!is_socket) {
		return 0;
	}
	shim_policy();
	if (!shim_loaded.quiet_allow || (shim_loaded.host_rules && names_known(&addr))) {
		return outbound_decide(fd, &addr, port, proto);
	}
	rule = match_cache_out(shim_loaded.policy, &addr, port, proto, NULL);
	if (rule->action != POLICY_ACTION_ALLOW) {
		return outbound_decide(fd, &addr, port, proto);
	}
	if (fdt_governed(fd)) {
		fdt_clear(fd); /* a governed socket reconnected: its old state goes */
	}
	return 0;
}

int guard_outbound(int fd, const struct sockaddr *sa, socklen_t len)
{
	return outbound(fd, sa, len);
}

int guard_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (outbound(fd, sa, len) < 0) {
		return -1;
	}
	return real_hot()->connect(fd, sa, len);
}

static int endpoint_of(int fd, bool peer, struct endpoint *ep)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
	              : getsockname(fd, (struct sockaddr *)&ss, &len);

	if (rc < 0) {
		return -1;
	}
	return policy_addr_from_sockaddr(&ep->addr, (struct sockaddr *)&ss, &ep->port);
}

int guard_inbound(int fd)
{
	const struct policy_rule *rule;
	const struct policy *policy;
	struct endpoint local = {0}, ep = {0};
	bool is_socket;

	if (proto_of(fd, &is_socket) != POLICY_PROTO_TCP || !is_socket ||
	    endpoint_of(fd, false, &local) < 0 || endpoint_of(fd, true, &ep) < 0) {
		return 0; /* not a TCP/IP connection */
	}
	policy = shim_policy();
	if (policy == NULL) {
		return refuse_without_policy(true, &ep);
	}
	if (shim_mode() == POLICY_MODE_OFF) {
		return 0;
	}
	rule = policy_match_in(policy, local.port, &ep.addr);
	switch (rule->action) {
	case POLICY_ACTION_DENY:
		report(AUDIT_CONNECT, violation_verdict(), true, &ep, rule->index, "denied", NULL);
		if (refuse_now()) {
			errno = ECONNABORTED;
			return -1;
		}
		return 0;
	case POLICY_ACTION_ALLOW:
		fdt_clear(fd);
		break;
	case POLICY_ACTION_REQUIRE_TLS:
		if (track(fd, true, rule, &ep, local.port) < 0) {
			report(AUDIT_POLICY, AUDIT_VERDICT_BLOCK, true, &ep, rule->index,
			       "policy_error", "cannot follow this descriptor");
			errno = ECONNABORTED;
			return -1;
		}
		break;
	default:
		errno = ECONNABORTED;
		return -1;
	}
	if (policy_audit(policy)->log_allowed) {
		report(AUDIT_CONNECT, AUDIT_VERDICT_ALLOW, true, &ep, rule->index, "allowed", NULL);
	}
	return 0;
}

/* The rule of an adopted socket the policy refused: no byte moves on it, and
 * the SSL layer leaves it alone. */
static const struct policy_rule refused_rule = {
    .index = POLICY_RULE_DEFAULT,
    .action = POLICY_ACTION_DENY,
};

/* A socket that arrived already connected to a destination the policy
 * refuses: its connect was never seen, so the refusal holds its I/O instead.
 * The decision recorded the event. */
static void refuse_adopted(int fd, bool inbound)
{
	struct conn *c = conn_new(inbound, &refused_rule);

	if (c != NULL) {
		conn_identify(c, fd);
		if (fdt_set(fd, c) == 0) {
			conn_refuse(c, fd);
			conn_release(c);
			return;
		}
		conn_release(c);
	}
	(void)real()->shutdown(fd, SHUT_RDWR); /* cannot follow it: nothing moves at all */
}

void guard_adopt_as(int fd, bool inbound)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int saved = errno, rc = 0;

	fdt_clear(fd);
	if (inbound) {
		rc = guard_inbound(fd);
	} else if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
		rc = guard_outbound(fd, (struct sockaddr *)&ss, len);
	}
	if (rc < 0) {
		refuse_adopted(fd, inbound);
	}
	errno = saved;
}

void guard_adopt(int fd)
{
	struct endpoint local = {0}, peer = {0};
	int listening = 0;
	socklen_t optlen = sizeof(listening);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) < 0 || listening ||
	    endpoint_of(fd, true, &peer) < 0 || endpoint_of(fd, false, &local) < 0) {
		fdt_clear(fd);
		return; /* not a connected IP socket: accept()/connect() will decide */
	}
	guard_adopt_as(fd, local.port < EPHEMERAL_LOW || local.port > EPHEMERAL_HIGH);
}

/* A byte-level violation on a governed connection. */
static int refuse_stream(int fd, struct conn *c, enum audit_kind kind, const char *reason, int err)
{
	report_conn(c, kind, violation_verdict(), reason, NULL);
	if (!refuse_now()) {
		fdt_clear(fd); /* audit mode: recorded once, then let go */
		return 0;
	}
	conn_refuse(c, fd);
	errno = err;
	return -1;
}

/* A send that ends inside the first ClientHello: none of it has been judged as
 * a whole (its random, its structure), so none of it may leave. TLS libraries
 * write the whole ClientHello in one call (libssl through its handshake write
 * buffer); a program that writes it in pieces is shaping bytes by hand. */
static int refuse_partial_hello(int fd, struct conn *c)
{
	report_conn(c, AUDIT_PLAINTEXT, violation_verdict(), "plaintext",
	            "ClientHello not written whole in one call");
	if (!refuse_now()) {
		fdt_clear(fd);
		return 0;
	}
	conn_refuse(c, fd);
	errno = EACCES;
	return -1;
}

/* The first ClientHello is complete: is it this process's libssl? */
static int check_hello(int fd, struct conn *c, const uint8_t *random, int err)
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
		return refuse_stream(fd, c, AUDIT_UNMANAGED_TLS, "unmanaged_tls", err);
	}
}

/* An entry whose descriptor was closed behind the shim's back and whose number
 * now names something else: forget it and let the call through. */
static bool forget_if_stale(int fd, struct conn *c)
{
	if (!conn_is_stale(c, fd)) {
		return false;
	}
	fdt_clear(fd);
	return true;
}

/* Feeds the first limit bytes of iov; *random_done is set when the client
 * random became complete on the way (and left alone otherwise). */
static inline enum stream_verdict feed_iov(struct stream *s, enum stream_dir dir,
                                           const struct iovec *iov, size_t iovcnt, size_t limit,
                                           bool *random_done)
{
	enum stream_verdict v;
	bool done;
	size_t i, take;

	for (i = 0; i < iovcnt && limit > 0; i++) {
		take = iov[i].iov_len < limit ? iov[i].iov_len : limit;
		v = stream_feed(s, dir, iov[i].iov_base, take, &done);
		if (v != STREAM_OK) {
			return v;
		}
		*random_done = *random_done || done;
		limit -= take;
	}
	return STREAM_OK;
}

/* After SSL_shutdown: are these bytes the next ones of what libssl had left
 * in the SSL's memory BIO (c->lock held)? */
static bool is_close_tail(const struct conn *c, const struct iovec *iov, size_t iovcnt, size_t len)
{
	size_t i, at = c->close_tail_off;

	if (len == 0 || len > (size_t)(c->close_tail_len - c->close_tail_off)) {
		return false;
	}
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > 0 &&
		    memcmp(iov[i].iov_base, c->close_tail + at, iov[i].iov_len) != 0) {
			return false;
		}
		at += iov[i].iov_len;
	}
	return true;
}

/* Both sides have framed TLS records and the first ClientHello is complete:
 * from here on the classifier only follows record framing, which it cannot
 * judge by content anyway (tlsguard.8, Limits). */
static bool stream_settled(const struct stream *s)
{
	return s->upgraded && s->hello_done && s->in.records > 0 && s->out.records > 0;
}

bool guard_send_classifying(struct conn *c)
{
	bool settled;

	lock_take(&c->lock);
	settled = stream_settled(&c->stream);
	lock_give(&c->lock);
	return !settled;
}

int guard_send_check(int fd, struct conn *c, const struct iovec *iov, size_t iovcnt,
                     struct send_ticket *t)
{
	enum stream_verdict v;
	bool random_done = false, blocked, closed;
	size_t i;

	for (t->len = 0, i = 0; i < iovcnt; i++) {
		t->len += iov[i].iov_len;
	}
	lock_take(&c->lock);
	blocked = c->blocked;
	closed = c->tls_closed && !is_close_tail(c, iov, iovcnt, t->len);
	t->after = c->stream;
	t->changes = c->stream_changes;
	lock_give(&c->lock);
	if (blocked) {
		if (forget_if_stale(fd, c)) {
			return 0;
		}
		errno = c->shim_own ? EBADF : EACCES; /* the audit socket is not the program's */
		return -1;
	}
	if (closed && !forget_if_stale(fd, c)) {
		return refuse_stream(fd, c, AUDIT_PLAINTEXT, "plaintext", EACCES);
	}
	v = feed_iov(&t->after, STREAM_OUT, iov, iovcnt, SIZE_MAX, &random_done);
	if (v != STREAM_OK) {
		if (forget_if_stale(fd, c)) {
			return 0;
		}
		return refuse_stream(fd, c, AUDIT_PLAINTEXT, stream_verdict_reason(v), EACCES);
	}
	if (stream_hello_pending(&t->after, STREAM_OUT) && !forget_if_stale(fd, c)) {
		return refuse_partial_hello(fd, c);
	}
	if (random_done && !c->inbound) {
		return check_hello(fd, c, t->after.random, EACCES);
	}
	return 0;
}

void guard_send_commit(struct conn *c, const struct iovec *iov, size_t iovcnt, size_t n,
                       const struct send_ticket *t)
{
	bool random_done = false;

	lock_take(&c->lock);
	if (c->tls_closed) {
		/* what went out of the close tail is spent */
		c->close_tail_off =
		    (uint8_t)(c->close_tail_off + n <= c->close_tail_len ? c->close_tail_off + n
		                                                         : c->close_tail_len);
	}
	if (n == t->len && c->stream_changes == t->changes) {
		c->stream = t->after; /* the same bytes from the same state */
	} else {
		feed_iov(&c->stream, STREAM_OUT, iov, iovcnt, n, &random_done);
	}
	c->stream_changes++;
	lock_give(&c->lock);
}

static void wipe_iov(const struct iovec *iov, size_t iovcnt, size_t n)
{
	size_t i, take;

	for (i = 0; i < iovcnt && n > 0; i++) {
		take = iov[i].iov_len < n ? iov[i].iov_len : n;
		explicit_bzero(iov[i].iov_base, take);
		n -= take;
	}
}

int guard_recv_check(int fd, struct conn *c, const struct iovec *iov, size_t iovcnt, size_t n,
                     bool peek)
{
	enum stream_verdict v;
	bool random_done = false, blocked;
	struct stream copy;
	uint8_t random[STREAM_RANDOM_LEN];

	lock_take(&c->lock);
	blocked = c->blocked;
	if (peek) {
		copy = c->stream;
		v = feed_iov(&copy, STREAM_IN, iov, iovcnt, n, &random_done);
		if (random_done) {
			memcpy(random, copy.random, sizeof(random));
		}
	} else {
		v = feed_iov(&c->stream, STREAM_IN, iov, iovcnt, n, &random_done);
		c->stream_changes++;
		if (random_done) {
			memcpy(random, c->stream.random, sizeof(random));
		}
	}
	lock_give(&c->lock);
	if (blocked) {
		if (forget_if_stale(fd, c)) {
			return 0;
		}
		wipe_iov(iov, iovcnt, n);
		errno =
		    c->shim_own ? EBADF : ECONNRESET; /* the audit socket is not the program's */
		return -1;
	}
	if (v != STREAM_OK) {
		if (forget_if_stale(fd, c)) {
			return 0;
		}
		if (refuse_now()) {
			wipe_iov(iov, iovcnt, n);
		}
		return refuse_stream(fd, c, AUDIT_PLAINTEXT, stream_verdict_reason(v), ECONNRESET);
	}
	if (random_done && c->inbound) {
		if (check_hello(fd, c, random, ECONNRESET) < 0) {
			wipe_iov(iov, iovcnt, n);
			return -1;
		}
	}
	return 0;
}

int guard_opaque_io(int fd, struct conn *c, const char *call)
{
	char detail[64];

	if (c->shim_own) {
		errno = EBADF; /* the audit socket is not the program's: no event, no shutdown */
		return -1;
	}
	snprintf(detail, sizeof(detail), "%s moves bytes the shim cannot inspect", call);
	report_conn(c, AUDIT_PLAINTEXT, violation_verdict(), "plaintext", detail);
	if (!refuse_now()) {
		fdt_clear(fd);
		return 0;
	}
	conn_refuse(c, fd);
	errno = EACCES;
	return -1;
}

int guard_opaque(int fd, const char *call)
{
	struct conn *c = conn_acquire(fd);
	int rc;

	if (c == NULL) {
		return 0;
	}
	rc = guard_opaque_io(fd, c, call);
	conn_release(c);
	return rc;
}
