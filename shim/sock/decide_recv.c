/*
 * The bytes a receive just moved into the program's buffers on a governed
 * connection: fed to the stream classifier (a copy of its state for MSG_PEEK)
 * and, when refused, wiped before the program can see them.
 */
#include <errno.h>
#include <string.h>

#include "decide_internal.h"
#include "tunnel/tunnel.h"

static void wipe_iov(const struct iovec *iov, size_t iovcnt, size_t n)
{
	size_t i, take;

	for (i = 0; i < iovcnt && n > 0; i++) {
		take = iov[i].iov_len < n ? iov[i].iov_len : n;
		explicit_bzero(iov[i].iov_base, take);
		n -= take;
	}
}

int decide_recv_check(int fd, struct conn *c, const struct iovec *iov, size_t iovcnt, size_t n,
                      bool peek)
{
	enum stream_verdict v;
	bool random_done = false, blocked;
	struct stream copy;
	uint8_t random[STREAM_RANDOM_LEN];

	if (c->tunnel != NULL) {
		return tunnel_io_check(c); /* decrypted by the pump */
	}
	lock_take(&c->lock);
	blocked = c->blocked;
	if (peek) {
		copy = c->stream;
		v = decide_feed_iov(&copy, STREAM_IN, iov, iovcnt, n, &random_done);
		if (random_done) {
			memcpy(random, copy.random, sizeof(random));
		}
	} else {
		v = decide_feed_iov(&c->stream, STREAM_IN, iov, iovcnt, n, &random_done);
		c->stream_changes++;
		if (random_done) {
			memcpy(random, c->stream.random, sizeof(random));
		}
	}
	lock_give(&c->lock);
	if (blocked) {
		if (decide_forget_if_stale(fd, c)) {
			return 0;
		}
		wipe_iov(iov, iovcnt, n);
		errno =
		    c->shim_own ? EBADF : ECONNRESET; /* the audit socket is not the program's */
		return -1;
	}
	if (v != STREAM_OK) {
		if (decide_forget_if_stale(fd, c)) {
			return 0;
		}
		if (decide_refuse_now()) {
			wipe_iov(iov, iovcnt, n);
		}
		return decide_refuse_stream(fd, c, AUDIT_PLAINTEXT, stream_verdict_reason(v), NULL,
		                            ECONNRESET);
	}
	if (random_done && c->inbound) {
		if (decide_check_hello(fd, c, random, ECONNRESET) < 0) {
			wipe_iov(iov, iovcnt, n);
			return -1;
		}
	}
	return 0;
}
