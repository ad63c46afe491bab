/*
 * What the files of the socket layer's decision (decide.h) share: the endpoint
 * an event names, the refusals and their audit events (decide_refuse.c), and
 * the feeding of a call's buffers to the stream classifier.
 */
#ifndef TLSGUARD_DECIDE_INTERNAL_H
#define TLSGUARD_DECIDE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/audit.h"
#include "core/conn_internal.h"
#include "decide.h"
#include "stream.h"

/* The far end of a connection, as an audit event names it. */
struct endpoint {
	struct policy_addr addr;
	uint16_t port;
	char host[CONN_HOST_MAX];
	enum policy_proto proto; /* for the audit event's proto= */
};

/* The local (peer=false) or remote address of the socket fd; -1 when it has
 * none or is not an IP socket. */
int decide_endpoint_of(int fd, bool peer, struct endpoint *ep);

/* One audit event about ep (NULL: no peer). */
void decide_report(enum audit_kind kind, enum audit_verdict verdict, bool inbound,
                   const struct endpoint *ep, int rule, const char *reason, const char *detail);

/* A violation is recorded always and refused only in enforce mode. */
bool decide_refuse_now(void);
enum audit_verdict decide_violation_verdict(void);

/* No policy could be loaded: every governed call is refused (fail closed). */
int decide_refuse_without_policy(bool inbound, const struct endpoint *ep);

/* A connection the rule says must be followed, but whose descriptor the shim
 * cannot track: refused with err. */
int decide_refuse_untracked(bool inbound, const struct endpoint *ep, int rule, int err);

/* A byte-level violation on a governed connection: recorded; in enforce mode
 * the connection is refused (conn_refuse) and -1 returned with err, in audit
 * mode fd is let go and 0 returned. */
int decide_refuse_stream(int fd, struct conn *c, enum audit_kind kind, const char *reason,
                         const char *detail, int err);

/* The first ClientHello of c is complete (its client random): 0 when it is
 * this process's libssl's, or tls.unmanaged lets it through. */
int decide_check_hello(int fd, struct conn *c, const uint8_t *random, int err);

/* An entry whose descriptor was closed behind the shim's back and whose number
 * now names something else: forgets it (true) so the call goes through. */
bool decide_forget_if_stale(int fd, struct conn *c);

/* Feeds the first limit bytes of iov; *random_done is set when the client
 * random became complete on the way (and left alone otherwise). */
static inline enum stream_verdict decide_feed_iov(struct stream *s, enum stream_dir dir,
                                                  const struct iovec *iov, size_t iovcnt,
                                                  size_t limit, bool *random_done)
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

#endif
