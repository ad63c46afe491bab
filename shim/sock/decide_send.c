/*
 * The bytes a send is about to move on a governed connection: checked against
 * the stream classifier before they leave (decide_send_check), then committed
 * once the call says how many went (decide_send_commit). What the check saw is
 * kept in a send_ticket, so the commit of a whole send does not read the bytes
 * again.
 */
#include <errno.h>
#include <string.h>

#include "decide_internal.h"
#include "tunnel/tunnel.h"

/* A send that ends inside the first ClientHello: none of it has been judged as
 * a whole (its random, its structure), so none of it may leave. TLS libraries
 * write the whole ClientHello in one call (libssl through its handshake write
 * buffer); a program that writes it in pieces is shaping bytes by hand. */
static int refuse_partial_hello(int fd, struct conn *c)
{
	return decide_refuse_stream(fd, c, AUDIT_PLAINTEXT, "plaintext",
	                            "ClientHello not written whole in one call", EACCES);
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

bool decide_send_classifying(struct conn *c)
{
	if (c->tunnel != NULL) {
		return false;
	}
	bool settled;

	lock_take(&c->lock);
	settled = stream_settled(&c->stream);
	lock_give(&c->lock);
	return !settled;
}

int decide_send_check(int fd, struct conn *c, const struct iovec *iov, size_t iovcnt,
                      struct send_ticket *t)
{
	enum stream_verdict v;
	bool random_done = false, blocked, closed;
	size_t i;

	for (t->len = 0, i = 0; i < iovcnt; i++) {
		t->len += iov[i].iov_len;
	}
	if (c->tunnel != NULL) {
		return tunnel_io_check(c); /* plaintext by design: the pump encrypts it */
	}
	lock_take(&c->lock);
	blocked = c->blocked;
	closed = c->tls_closed && !is_close_tail(c, iov, iovcnt, t->len);
	t->after = c->stream;
	t->changes = c->stream_changes;
	lock_give(&c->lock);
	if (blocked) {
		if (decide_forget_if_stale(fd, c)) {
			return 0;
		}
		errno = c->shim_own ? EBADF : EACCES; /* the audit socket is not the program's */
		return -1;
	}
	if (closed && !decide_forget_if_stale(fd, c)) {
		return decide_refuse_stream(fd, c, AUDIT_PLAINTEXT, "plaintext", NULL, EACCES);
	}
	v = decide_feed_iov(&t->after, STREAM_OUT, iov, iovcnt, SIZE_MAX, &random_done);
	if (v != STREAM_OK) {
		if (decide_forget_if_stale(fd, c)) {
			return 0;
		}
		return decide_refuse_stream(fd, c, AUDIT_PLAINTEXT, stream_verdict_reason(v), NULL,
		                            EACCES);
	}
	if (stream_hello_pending(&t->after, STREAM_OUT) && !decide_forget_if_stale(fd, c)) {
		return refuse_partial_hello(fd, c);
	}
	if (random_done && !c->inbound) {
		return decide_check_hello(fd, c, t->after.random, EACCES);
	}
	return 0;
}

void decide_send_commit(struct conn *c, const struct iovec *iov, size_t iovcnt, size_t n,
                        const struct send_ticket *t)
{
	bool random_done = false;

	if (c->tunnel != NULL) {
		return;
	}
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
		decide_feed_iov(&c->stream, STREAM_OUT, iov, iovcnt, n, &random_done);
	}
	c->stream_changes++;
	lock_give(&c->lock);
}
