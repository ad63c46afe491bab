/*
 * The direct path (tunnel.h, "The direct path"): in the process that pumps a
 * tunnel, a program's plain read, recv, write or send on the tunnel's
 * descriptor is done by the program's own thread on the tunnel's SSL, with no
 * hop through the pair and no pump wake-up, whenever that keeps the order of
 * the bytes: nothing of the program's waits in the pair or in the pump on the
 * way out, nothing decrypted waits there on the way in. Otherwise, and for
 * every other call, the pair and the pump carry the bytes as before, with the
 * kernel's semantics.
 *
 * The pump and the direct path take turns on the SSL under the tunnel's lock
 * (tunnel_hold): the pump holds it whenever it is not in poll, a direct call
 * for the few SSL calls it makes, never while it waits. A read that finds
 * the pump at work does not wait for it either: the pump is decrypting into
 * the pair, where the read goes. (A write waits: handing it to the pair
 * would send every later write the same way until the pump caught up.)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bind/real.h"
#include "pump.h"
#include "tls/openssl/call.h"

/* Wakes the pump, which then looks again at what it must wait for. */
static void kick(struct tunnel *t)
{
	uint64_t one = 1;

	(void)real()->write(t->kick, &one, sizeof(one));
}

/* The pump's state when t may be served directly here, or NULL. */
static struct pump *open_pump(struct tunnel *t)
{
	struct pump *p = t->pump;

	if (!atomic_load_explicit(&t->pumped, memory_order_relaxed) || p == NULL ||
	    p->ssl == NULL ||
	    atomic_load_explicit(&t->sh->state, memory_order_acquire) != TUNNEL_OPEN ||
	    atomic_load_explicit(&t->sh->pair_only, memory_order_relaxed)) {
		return NULL;
	}
	return p;
}

/* Bytes queued on a descriptor for its reader (a pair end). */
static int queued(int fd)
{
	int n = 0;

	if (ioctl(fd, FIONREAD, &n) < 0) {
		return 1; /* cannot tell: the pair decides */
	}
	return n;
}

void tunnel_write_begin(struct tunnel *t)
{
	atomic_fetch_add_explicit(&t->sh->writes_begun, 1, memory_order_seq_cst);
}

void tunnel_write_end(struct tunnel *t)
{
	atomic_fetch_add_explicit(&t->sh->writes_done, 1, memory_order_seq_cst);
}

void tunnel_mark_shared(struct tunnel *t)
{
	atomic_store_explicit(&t->sh->pair_shared, true, memory_order_seq_cst);
}

/* Whether the program's earlier bytes wait in the pair: none is in flight,
 * and none arrived since the pair was last seen empty (the kernel is asked
 * only then: a syscall per write would cost a third of the throughput). */
static bool program_bytes_queued(struct tunnel *t, struct pump *p)
{
	unsigned done = atomic_load_explicit(&t->sh->writes_done, memory_order_seq_cst);
	unsigned begun = atomic_load_explicit(&t->sh->writes_begun, memory_order_seq_cst);
	bool shared = atomic_load_explicit(&t->sh->pair_shared, memory_order_seq_cst);

	if (begun != done) {
		return true;
	}
	if (!shared && begun == p->writes_checked) {
		return false;
	}
	if (queued(t->pump_end) != 0) {
		return true;
	}
	p->writes_checked = begun;
	return false;
}

/* Whether bytes the pump decrypted wait in the pair, or in the pump, for the
 * program: they are older than what libssl holds. Only the pump writes
 * there, under the lock: the kernel is asked only when it did since. */
static bool peer_bytes_queued(int fd, struct pump *p)
{
	if (p->rxoff < p->rxlen) {
		return true;
	}
	if (p->pair_in_seq == p->pair_in_checked) {
		return false;
	}
	if (queued(fd) != 0) {
		return true;
	}
	p->pair_in_checked = p->pair_in_seq;
	return false;
}

/* One SSL_write of at most PUMP_BUF bytes: how many the tunnel took, or
 * TUNNEL_DIRECT_PASS. */
static ssize_t write_chunk(struct tunnel *t, const uint8_t *buf, size_t len)
{
	struct pump *p;
	ssize_t n = TUNNEL_DIRECT_PASS;
	int rc, chunk = len < PUMP_BUF ? (int)len : PUMP_BUF;

	tunnel_hold(t);
	p = open_pump(t);
	/* the program's earlier bytes, in the pair or in the pump, go first;
	 * a first record of TLS goes to the pump, which refuses it */
	if (p == NULL || p->prog_eof || p->txlen != 0 || program_bytes_queued(t, p) ||
	    (p->first && pump_tls_in_tls(buf, len))) {
		goto out;
	}
	p->first = false;
	p->tf->ERR_clear_error();
	rc = ossl_call_io(p->ssl, OSSL_IO_WRITE, (void *)buf, chunk);
	if (rc > 0) {
		n = rc;
		goto out;
	}
	/* The socket is full (or failed): the pump takes the bytes over, as the
	 * pair would have, and retries the same write once the socket can take
	 * it (libssl wants the same bytes again); a failure ends the tunnel
	 * there, as it does for bytes that went through the pair. */
	memcpy(p->tx, buf, (size_t)chunk);
	p->txlen = (size_t)chunk;
	atomic_store_explicit(&t->sh->tx_pending, true, memory_order_release);
	kick(t);
	n = chunk;
out:
	tunnel_release(t);
	return n;
}

ssize_t tunnel_direct_write(struct tunnel *t, int fd, const void *buf, size_t len, int flags)
{
	const uint8_t *bytes = buf;
	ssize_t n, more;

	if (len == 0 || (n = write_chunk(t, bytes, len)) == TUNNEL_DIRECT_PASS) {
		return TUNNEL_DIRECT_PASS;
	}
	if ((size_t)n == len || (flags & MSG_DONTWAIT) != 0 ||
	    (real()->fcntl(fd, F_GETFL) & O_NONBLOCK) != 0) {
		return n; /* a short write, as a non-blocking socket's may be */
	}
	/* A blocking write writes everything (programs count on it): the rest
	 * directly while it can go, then through the pair, blocking there. */
	while ((size_t)n < len) {
		more = write_chunk(t, bytes + n, len - (size_t)n);
		if (more == TUNNEL_DIRECT_PASS) {
			tunnel_write_begin(t);
			more = real()->send(fd, bytes + n, len - (size_t)n, flags & MSG_NOSIGNAL);
			tunnel_write_end(t);
		}
		if (more <= 0) {
			break; /* what went: the program learns of the error next time */
		}
		n += more;
	}
	return n;
}

/* A direct SSL_read that gave no byte, with SSL_get_error's err: libssl
 * waits for the peer (nothing to do), or must write first (the pump, which
 * waits for the socket, does), or the peer's end came (the pump's way: the
 * program reads end of file from the pair, after what came before). */
static void not_readable(struct tunnel *t, struct pump *p, int err)
{
	if (err == SSL_ERROR_WANT_READ) {
		return;
	}
	if (err != SSL_ERROR_WANT_WRITE) {
		p->peer_eof = true;
		(void)pump_to_program(p);
	}
	kick(t);
}

/* Bytes left in libssl by a read that filled the caller's buffer (the rest
 * of a record, or whole records libssl read ahead from the socket): the
 * pump's way into the pair, so that poll on the descriptor sees them. A
 * record libssl holds only part of stays: the rest comes on the TCP socket,
 * which the pump watches. The pump is woken when it has more to do: bytes
 * the pair could not take, a write libssl wants first, the peer's end. */
static void spill(struct tunnel *t, struct pump *p)
{
	if (p->tf->SSL_has_pending(p->ssl) == 0) {
		return;
	}
	pump_from_peer(p);
	(void)pump_to_program(p);
	if (p->rxoff < p->rxlen || p->want_tcp_out || p->peer_eof) {
		kick(t);
	}
}

/* After a read that returned got bytes into buf (len): libssl reads ahead,
 * so whole records may wait in it where no poll sees them. The read takes
 * them while they fit, as a read on the socket takes all it holds; what
 * does not fit goes into the pair (spill). A record libssl holds only part
 * of waits for the rest on the TCP socket, which the pump watches. What the
 * read returns. */
static ssize_t take_read_ahead(struct tunnel *t, struct pump *p, uint8_t *buf, size_t got,
                               size_t len)
{
	int rc;

	while (got < len && p->tf->SSL_has_pending(p->ssl) != 0) {
		rc = ossl_call_io(p->ssl, OSSL_IO_READ, buf + got,
		                  len - got < INT_MAX ? (int)(len - got) : INT_MAX);
		if (rc <= 0) {
			/* a partial record, or the peer's end after these bytes */
			not_readable(t, p, p->tf->SSL_get_error(p->ssl, rc));
			return (ssize_t)got;
		}
		got += (size_t)rc;
	}
	spill(t, p);
	return (ssize_t)got;
}

/* Whether a signal handler that interrupts calls is installed: poll has no
 * SA_RESTART, the read it stands for does. */
static bool handler_interrupts(void)
{
	struct sigaction sa;
	int sig;

	for (sig = 1; sig < NSIG; sig++) {
		if (sigaction(sig, NULL, &sa) == 0 && (sa.sa_flags & SA_RESTART) == 0 &&
		    (sa.sa_flags & SA_SIGINFO
		         ? sa.sa_sigaction != NULL
		         : sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)) {
			return true;
		}
	}
	return false;
}

/* How long a blocking read may wait: SO_RCVTIMEO, asked once per read. */
struct read_wait {
	bool asked;
	int64_t deadline_ms; /* CLOCK_MONOTONIC, or 0: no limit */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_ms(struct read_wait *w, int fd)
{
	struct timeval tv = {0, 0};
	socklen_t len = sizeof(tv);
	int64_t left;

	if (!w->asked) {
		w->asked = true;
		if (real()->getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) == 0 &&
		    (tv.tv_sec != 0 || tv.tv_usec != 0)) {
			w->deadline_ms =
			    now_ms() + (int64_t)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
		}
	}
	if (w->deadline_ms == 0) {
		return -1;
	}
	left = w->deadline_ms - now_ms();
	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* A blocking read with nothing to read: waits, without the tunnel, for the
 * peer's bytes or the pair's (the pump's), as the read would wait: at most
 * SO_RCVTIMEO (then EAGAIN), and EINTR when a signal handler without
 * SA_RESTART ran (or SO_RCVTIMEO is set, as socket(7) has it). 0: look
 * again; -1 with errno. Held on entry and return. */
static int wait_readable(struct tunnel *t, int fd, struct read_wait *w)
{
	struct pollfd fds[2] = {{.fd = fd, .events = POLLIN}, {.fd = t->tcp, .events = POLLIN}};
	int rc, err, ms = wait_ms(w, fd);

	if (ms == 0) {
		errno = EAGAIN; /* SO_RCVTIMEO ran out */
		return -1;
	}
	t->direct_readers++;
	tunnel_release(t);
	rc = poll(fds, 2, ms);
	err = errno;
	tunnel_hold(t);
	/* (the pump forgets readers gone too long: never below 0) */
	if (t->direct_readers > 0 && --t->direct_readers == 0 && t->tcp_parked) {
		t->tcp_parked = false;
		kick(t);
	}
	if (rc >= 0) {
		return 0; /* a timeout shows at the next look */
	}
	if (err != EINTR || w->deadline_ms != 0 || handler_interrupts()) {
		errno = err;
		return -1;
	}
	return 0;
}

ssize_t tunnel_direct_read(struct tunnel *t, int fd, void *buf, size_t len, bool dontwait)
{
	struct read_wait w = {false, 0};
	struct pump *p;
	ssize_t n = TUNNEL_DIRECT_PASS;
	int rc, err;

	if (len == 0 || !tunnel_try_hold(t)) {
		return TUNNEL_DIRECT_PASS;
	}
	for (;;) {
		p = open_pump(t);
		/* what the pump decrypted already is older: it goes first */
		if (p == NULL || p->peer_eof || peer_bytes_queued(fd, p)) {
			break;
		}
		p->tf->ERR_clear_error();
		rc = ossl_call_io(p->ssl, OSSL_IO_READ, buf, len < INT_MAX ? (int)len : INT_MAX);
		if (rc > 0) {
			n = take_read_ahead(t, p, buf, (size_t)rc, len);
			break;
		}
		err = p->tf->SSL_get_error(p->ssl, rc);
		if (err == SSL_ERROR_WANT_READ) {
			if (dontwait || (real()->fcntl(fd, F_GETFL) & O_NONBLOCK) != 0) {
				errno = EAGAIN;
				n = -1;
				break;
			}
			if (wait_readable(t, fd, &w) < 0) {
				n = -1;
				break;
			}
			continue;
		}
		not_readable(t, p, err);
		break;
	}
	tunnel_release(t);
	return n;
}
