/*
 * The socket layer's decision, the one seam every wrapper of shim/sock/ calls:
 * which destinations a descriptor may reach (connect, accept, an adopted
 * socket) and which bytes may move on a governed connection (one that the
 * policy says must carry TLS). Each function returns 0 to let the call proceed
 * and -1, with the contract's errno set and the event recorded, to refuse it.
 *
 *   decide_connect.c  connect/accept verdicts from the policy
 *   decide_adopt.c    sockets that arrive already connected
 *   decide_send.c     the bytes a send is about to move
 *   decide_recv.c     the bytes a receive just moved
 *   decide_refuse.c   refusals and their audit events (decide_internal.h)
 */
#ifndef TLSGUARD_DECIDE_H
#define TLSGUARD_DECIDE_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "core/conn.h"

/* An outbound connect (or sendto/sendmsg with an address, or MSG_FASTOPEN) on
 * fd to sa. Tracks fd when the rule requires TLS. */
int decide_outbound(int fd, const struct sockaddr *sa, socklen_t len);
/* connect(): decide_outbound, then the real connect unless refused. */
int decide_connect(int fd, const struct sockaddr *sa, socklen_t len);

/* A connection accepted on fd (and received over SCM_RIGHTS with
 * inbound=true). Tracks fd when its listener's rule requires TLS. */
int decide_inbound(int fd);

/* A socket that arrived from elsewhere (SCM_RIGHTS, an exec'ed parent): decides
 * it from its addresses, as outbound or inbound by its local port. One the
 * policy refuses (deny, or no policy) is shut down and every later read or
 * write on it fails, as its connect or accept would have. */
void decide_adopt(int fd);
/* The same when the direction is known (an exec'ed parent said so). */
void decide_adopt_as(int fd, bool inbound);

/* What decide_send_check saw, for decide_send_commit: when the call sent every
 * byte and nothing else moved the stream meanwhile, the commit takes the
 * checked state instead of reading the bytes again. */
struct send_ticket {
	struct stream after; /* the stream once every checked byte has gone */
	size_t len;          /* the bytes checked */
	uint64_t changes;    /* the connection's stream changes when checked */
};

/* True while c is still being classified (no TLS yet in both directions): a
 * send then goes from the shim's private copy of the program's bytes. */
bool decide_send_classifying(struct conn *c);

/* The bytes a call is about to send on the governed fd (c from conn_acquire). */
int decide_send_check(int fd, struct conn *c, const struct iovec *iov, size_t iovcnt,
                      struct send_ticket *t);
/* After the call sent n of them. */
void decide_send_commit(struct conn *c, const struct iovec *iov, size_t iovcnt, size_t n,
                        const struct send_ticket *t);

/* The n bytes a call just received into iov on the governed fd; peek: they stay
 * in the socket (MSG_PEEK). On refusal the bytes are wiped from the buffers. */
int decide_recv_check(int fd, struct conn *c, const struct iovec *iov, size_t iovcnt, size_t n,
                      bool peek);

/* A call that would move bytes on fd that the shim cannot see (sendfile and
 * splice into or out of a governed socket). */
int decide_opaque_io(int fd, struct conn *c, const char *call);
/* The same for a descriptor not looked up yet: 0 when fd is not governed. */
int decide_opaque(int fd, const char *call);

#endif
