/*
 * The pump: one thread per tunnel (tunnel.h). It waits for the TCP connection,
 * does STARTTLS postgres and the handshake through the OpenSSL layer's own
 * entry points, then moves bytes: the program's from the pair into SSL_write,
 * SSL_read's into the pair. Both descriptors are non-blocking; the thread
 * blocks only in poll, and holds the tunnel's lock whenever it is not there.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bind/real.h"
#include "core/audit.h"
#include "core/conn_internal.h"
#include "sock/io.h"
#include "tls/openssl/call.h"
#include "tls/openssl/state.h"
#include "pump.h"

#define PUMP_HANDSHAKE_MS    60000 /* a peer that never completes the handshake */
#define PUMP_PARK_MS         200   /* the longest the pump leaves the socket to readers */
#define POSTGRES_SSL_REQUEST "\x00\x00\x00\x08\x04\xd2\x16\x2f"

/* poll one descriptor without the tunnel's lock; the timeout in ms. */
static int wait_fd(struct tunnel *t, int fd, short events, int ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	int rc;

	tunnel_release(t);
	do { /* signals reach a program's thread that handshakes (pump_start) */
		rc = poll(&p, 1, ms);
	} while (rc < 0 && errno == EINTR);
	tunnel_hold(t);
	return rc;
}

static void refuse(struct pump *p, int err)
{
	struct tunnel *t = p->t;

	if (err == 0) {
		err = t->inbound ? TUNNEL_REFUSED_ERRNO_IN : TUNNEL_REFUSED_ERRNO_OUT;
	}
	tunnel_set_state(t, TUNNEL_REFUSED, err);
	/* wake a reader: the wrappers turn what it then sees into err */
	(void)real()->shutdown(t->pump_end, SHUT_RDWR);
}

static bool connected(struct pump *p)
{
	struct tunnel *t = p->t;
	socklen_t len = sizeof(int);
	int err = 0;

	if (t->inbound) {
		return true;
	}
	if (wait_fd(t, t->tcp, POLLOUT, -1) < 0 ||
	    real()->getsockopt(t->tcp, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
		err = errno;
	}
	if (err != 0) {
		refuse(p, err); /* as the plain connect would have failed */
		return false;
	}
	return true;
}

/* SSLRequest, then one byte: 'S' goes on to the handshake. Through the socket
 * layer's own wrappers, whose classifier follows the exchange and refuses an
 * 'N' as a downgrade (audited there). */
static bool starttls_postgres(struct pump *p)
{
	struct tunnel *t = p->t;
	uint8_t answer = 0;
	ssize_t n;

	if (t->rule->starttls != POLICY_STARTTLS_POSTGRES) {
		return true;
	}
	if (sock_write(t->tcp, POSTGRES_SSL_REQUEST, 8) != 8) {
		refuse(p, 0);
		return false;
	}
	for (;;) {
		n = sock_read(t->tcp, &answer, 1);
		if (n == 1) {
			break;
		}
		if (n < 0 && errno == EAGAIN && wait_fd(t, t->tcp, POLLIN, PUMP_HANDSHAKE_MS) > 0) {
			continue;
		}
		refuse(p, 0); /* 'N' was refused by the socket layer (reason downgrade) */
		return false;
	}
	if (answer != 'S') {
		tunnel_report(t, "downgrade", "the server answered the SSLRequest without 'S'");
		refuse(p, 0);
		return false;
	}
	return true;
}

/* Whether the socket layer refused the TCP connection itself (plaintext from
 * a client: its own event). */
static bool tcp_refused(const struct tunnel *t)
{
	struct conn *c = conn_acquire(t->tcp);
	bool refused = false;

	if (c != NULL) {
		lock_take(&c->lock);
		refused = c->blocked;
		lock_give(&c->lock);
		conn_release(c);
	}
	return refused;
}

/* The layer has recorded a policy refusal (its own audit event), or the
 * socket layer a plaintext client; otherwise this records why the handshake
 * failed. */
static void report_failure(struct pump *p)
{
	struct ossl_state *st = ossl_state_get(p->f, p->ssl);
	char detail[160];
	unsigned long e;

	if ((st != NULL && st->reported) || tcp_refused(p->t)) {
		return;
	}
	e = p->tf->ERR_get_error();
	if (e != 0) {
		p->tf->ERR_error_string_n(e, detail, sizeof(detail));
	} else {
		snprintf(detail, sizeof(detail), "the peer ended the connection in the handshake");
	}
	tunnel_report(p->t, "handshake", detail);
}

/* Inbound: a client that connects and leaves without a byte (a port probe,
 * a health check) is no refusal and no event, as on a require_tls listener:
 * the program reads EOF. */
static bool client_spoke(struct pump *p)
{
	struct tunnel *t = p->t;
	char byte;

	if (!t->inbound) {
		return true;
	}
	if (wait_fd(t, t->tcp, POLLIN, PUMP_HANDSHAKE_MS) > 0 &&
	    real()->recv(t->tcp, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0) {
		tunnel_set_state(t, TUNNEL_CLOSED, 0);
		(void)real()->shutdown(t->pump_end, SHUT_RDWR);
		return false;
	}
	return true;
}

static bool handshake(struct pump *p)
{
	struct tunnel *t = p->t;
	int rc, err;
	short ev;

	for (;;) {
		p->tf->ERR_clear_error();
		rc = ossl_call_handshake(p->ssl, t->inbound ? OSSL_CALL_ACCEPT : OSSL_CALL_CONNECT);
		if (rc == 1) {
			return true;
		}
		err = p->tf->SSL_get_error(p->ssl, rc);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
			ev = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
			if (wait_fd(t, t->tcp, ev, PUMP_HANDSHAKE_MS) > 0) {
				continue;
			}
		}
		report_failure(p);
		refuse(p, 0);
		return false;
	}
}

bool pump_tls_in_tls(const uint8_t *bytes, size_t len)
{
	return len >= 1 && bytes[0] == 0x16 && (len < 2 || bytes[1] == 0x03);
}

/* Reads what the program wrote. false: the tunnel must end. */
static bool from_program(struct pump *p)
{
	ssize_t n;

	if (p->txlen != 0 || p->prog_eof) {
		return true;
	}
	atomic_store_explicit(&p->t->sh->tx_pending, true, memory_order_release);
	n = real()->recv(p->t->pump_end, p->tx, sizeof(p->tx), MSG_DONTWAIT);
	if (n <= 0) {
		atomic_store_explicit(&p->t->sh->tx_pending, false, memory_order_release);
	}
	if (n > 0) {
		p->txlen = (size_t)n;
		if (p->first) {
			p->first = false;
			if (pump_tls_in_tls(p->tx, p->txlen)) {
				tunnel_report(
				    p->t, "tls_in_tls",
				    "the program sent a TLS record on a connection the shim "
				    "upgrades");
				if (shim_mode() == POLICY_MODE_ENFORCE) {
					refuse(p, 0);
					return false;
				}
			}
		}
		return true;
	}
	if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		/* the program shut its write side or closed: close_notify, and the
		 * TCP write side once everything before it has gone */
		p->prog_eof = true;
		(void)ossl_call_shutdown(p->ssl);
		(void)real()->shutdown(p->t->tcp, SHUT_WR);
	}
	return true;
}

static bool to_peer(struct pump *p)
{
	int rc, err;

	if (p->txlen == 0) {
		return true;
	}
	rc = ossl_call_io(p->ssl, OSSL_IO_WRITE, p->tx, (int)p->txlen);
	if (rc > 0) {
		p->txlen = 0;
		atomic_store_explicit(&p->t->sh->tx_pending, false, memory_order_release);
		tunnel_progress(p->t);
		return true;
	}
	err = p->tf->SSL_get_error(p->ssl, rc);
	if (err == SSL_ERROR_WANT_WRITE) {
		p->want_tcp_out = true;
		return true;
	}
	if (err == SSL_ERROR_WANT_READ) {
		p->want_tcp_in = true;
		return true;
	}
	return false;
}

void pump_from_peer(struct pump *p)
{
	int rc, err;

	if (p->rxoff < p->rxlen || p->peer_eof) {
		return;
	}
	p->rxlen = p->rxoff = 0;
	/* as many records as fit, in one go to the program; libssl reads
	 * ahead, so whole records may be left in it when rx is full */
	p->peer_drained = false;
	while ((rc = ossl_call_io(p->ssl, OSSL_IO_READ, p->rx + p->rxlen,
	                          (int)(sizeof(p->rx) - p->rxlen))) > 0) {
		p->rxlen += (size_t)rc;
		if (sizeof(p->rx) - p->rxlen < PUMP_RECORD) {
			return;
		}
	}
	err = p->tf->SSL_get_error(p->ssl, rc);
	if (err == SSL_ERROR_WANT_READ) {
		p->peer_drained = true;
		p->want_tcp_in = true;
		return;
	}
	if (err == SSL_ERROR_WANT_WRITE) {
		p->peer_drained = true; /* nothing to read before the socket takes a write */
		p->want_tcp_out = true;
		return;
	}
	/* close_notify, EOF, or an error: what came before is delivered */
	p->peer_eof = true;
}

bool pump_to_program(struct pump *p)
{
	ssize_t n;

	while (p->rxoff < p->rxlen) {
		n = real()->send(p->t->pump_end, p->rx + p->rxoff, p->rxlen - p->rxoff,
		                 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			return errno == EAGAIN || errno == EINTR;
		}
		p->rxoff += (size_t)n;
		p->pair_in_seq++;
	}
	if (p->peer_eof && !p->pair_shut) {
		p->pair_shut = true;
		(void)real()->shutdown(p->t->pump_end, SHUT_WR);
	}
	return true;
}

/* The kick (direct.c) woke the pump: its count goes. */
static void kicked(struct tunnel *t)
{
	uint64_t count;

	(void)real()->read(t->kick, &count, sizeof(count));
}

static void move_bytes(struct pump *p)
{
	struct tunnel *t = p->t;
	struct pollfd fds[3];
	bool rx_pending, tcp_in, parked;
	int rc;

	for (;;) {
		p->want_tcp_in = p->want_tcp_out = false;
		if (!from_program(p) || !to_peer(p)) {
			return;
		}
		/* a program thread waiting in a direct read takes the peer's
		 * bytes itself (direct.c) */
		if (t->direct_readers == 0) {
			pump_from_peer(p);
		}
		if (!pump_to_program(p)) {
			return;
		}
		rx_pending = p->rxoff < p->rxlen;
		if (p->prog_eof && p->txlen == 0 && p->peer_eof && !rx_pending) {
			return; /* both directions are done */
		}
		if (t->direct_readers == 0 && !rx_pending && !p->peer_eof &&
		    (!p->peer_drained || p->tf->SSL_pending(p->ssl) > 0)) {
			continue; /* records wait inside libssl, where no poll sees them */
		}
		tcp_in = p->want_tcp_in || (!rx_pending && !p->peer_eof);
		t->tcp_parked = tcp_in && t->direct_readers > 0;
		fds[0].fd = t->pump_end;
		fds[0].events = (short)((p->txlen == 0 && !p->prog_eof ? POLLIN : 0) |
		                        (rx_pending ? POLLOUT : 0));
		fds[1].events = (short)((p->want_tcp_out ? POLLOUT : 0) |
		                        (tcp_in && !t->tcp_parked ? POLLIN : 0));
		fds[1].fd = fds[1].events != 0 ? t->tcp : -1; /* no wake-up for a hang-up */
		fds[2].fd = t->kick;
		fds[2].events = POLLIN;
		parked = t->tcp_parked;
		tunnel_release(t);
		rc = poll(fds, 3, parked ? PUMP_PARK_MS : -1);
		if (rc < 0 && errno != EINTR) {
			tunnel_hold(t);
			return;
		}
		tunnel_hold(t);
		if (rc == 0 && parked && t->tcp_parked) {
			/* a reader that never came back (a signal handler that
			 * jumped out of its read): the socket is the pump's again */
			t->direct_readers = 0;
			t->tcp_parked = false;
		}
		if (((fds[0].revents | fds[1].revents | fds[2].revents) & POLLNVAL) != 0) {
			return; /* a descriptor closed behind the shim (closefrom) */
		}
		if ((fds[2].revents & POLLIN) != 0) {
			kicked(t);
		}
		if ((fds[0].revents & (POLLHUP | POLLERR)) != 0 && !(fds[0].revents & POLLIN)) {
			/* the program closed its end (every copy): nothing more will
			 * be read from the peer for it */
			if (!p->prog_eof) {
				p->prog_eof = true;
				if (p->txlen == 0) {
					(void)ossl_call_shutdown(p->ssl);
				}
			}
			if (p->txlen == 0) {
				return;
			}
		}
		if ((fds[1].revents & (POLLERR | POLLHUP)) != 0 && !(fds[1].revents & POLLIN) &&
		    p->txlen != 0) {
			return; /* the peer is gone and bytes wait for it */
		}
	}
}

/* Up to the open tunnel: the connection, STARTTLS, the handshake. false:
 * refused (the state and the audit say why). */
static bool open_tunnel(struct pump *p)
{
	struct tunnel *t = p->t;
	char why[160];
	SSL_CTX *ctx;

	if (!connected(p)) {
		return false;
	}
	tunnel_set_state(t, TUNNEL_HANDSHAKE, 0);
	ctx = tunnel_ctx(p->f, p->tf, t->rule, t->inbound, why, sizeof(why));
	if (ctx == NULL) {
		tunnel_report(t, "policy_error", why);
		refuse(p, 0);
		return false;
	}
	if (!starttls_postgres(p) || !client_spoke(p)) {
		return false;
	}
	p->ssl = p->tf->SSL_new(ctx);
	if (p->ssl == NULL || p->tf->SSL_set_fd(p->ssl, t->tcp) != 1) {
		tunnel_report(t, "policy_error", "SSL_new failed");
		refuse(p, 0);
		return false;
	}
	if (!handshake(p)) {
		return false;
	}
	tunnel_set_state(t, TUNNEL_OPEN, 0);
	return true;
}

/* The end of a pump, held (tunnel_hold): the connection closed. pump_thread:
 * the pump's own thread ends (not a program's, whose libcrypto state is the
 * program's). */
static void finish(struct pump *p, bool pump_thread)
{
	struct tunnel *t = p->t;

	if (atomic_load_explicit(&t->sh->state, memory_order_relaxed) != TUNNEL_REFUSED) {
		tunnel_set_state(t, TUNNEL_CLOSED, 0);
	}
	if (p->ssl != NULL) {
		p->tf->SSL_free(p->ssl);
	}
	fdt_clear(t->tcp);
	(void)real()->close(t->tcp);
	(void)real()->close(t->pump_end);
	(void)real()->close(t->kick);
	t->tcp = t->pump_end = t->kick = -1;
	t->pumped = false;
	t->pump = NULL;
	pthread_mutex_unlock(&t->lock);
	/* libcrypto's per-thread state goes now, where fork waits for it, not
	 * in a thread-exit destructor behind fork's back */
	if (pump_thread) {
		p->tf->OPENSSL_thread_stop();
	}
	pthread_rwlock_unlock(&tunnel_work_lock);
	free(p);
	tunnel_unref(t); /* the pump's reference */
}

static void *pump_main(void *arg)
{
	struct pump *p = arg;

	audit_in_tunnel = true;
	tunnel_hold(p->t);
	if (p->stage == PUMP_NEW) {
		p->stage = open_tunnel(p) ? PUMP_OPEN : PUMP_REFUSED;
	}
	if (p->stage == PUMP_OPEN) {
		move_bytes(p);
	}
	finish(p, true);
	return NULL;
}

struct resume {
	struct pump *p;
	_Atomic int *live;
};

static void *resume_main(void *arg)
{
	struct resume r = *(struct resume *)arg;

	free(arg);
	audit_in_tunnel = true;
	tunnel_hold(r.p->t);
	move_bytes(r.p);
	finish(r.p, true);
	atomic_fetch_sub_explicit(r.live, 1, memory_order_release);
	(void)real()->syscall(SYS_futex, (long)r.live, (long)FUTEX_WAKE_PRIVATE, 1L, 0L, 0L, 0L);
	return NULL;
}

static int start_thread(void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t th;
	int rc;

	/* The program's signals are for the program's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	rc = pthread_create(&th, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int tunnel_pump_resume(struct tunnel *t, _Atomic int *live)
{
	struct resume *r = malloc(sizeof(*r));
	int rc;

	if (r == NULL || t->pump == NULL) {
		free(r);
		return -1;
	}
	r->p = t->pump;
	r->live = live;
	/* the exec'ing process's readers stay there */
	t->direct_readers = 0;
	t->tcp_parked = false;
	rc = start_thread(resume_main, r);
	if (rc != 0) {
		free(r);
		return -1;
	}
	return 0;
}

static struct pump *pump_new(struct tunnel *t)
{
	struct pump *p = malloc(sizeof(*p));

	if (p == NULL) {
		return NULL;
	}
	/* all but the buffers: no 128 KiB of zeroes per connection */
	memset(p, 0, offsetof(struct pump, tx));
	p->t = t;
	p->first = true;
	p->tf = tunnel_ssl_load(&p->f);
	if (p->tf == NULL) {
		free(p);
		return NULL;
	}
	t->pumped = true;
	t->pump = p;
	return p;
}

int tunnel_pump_start(struct tunnel *t, bool handshake_here)
{
	struct pump *p = pump_new(t);
	bool audit_was;
	int rc;

	if (p == NULL) {
		return -1;
	}
	if (handshake_here) {
		audit_was = audit_in_tunnel;
		audit_in_tunnel = true;
		tunnel_hold(t);
		p->stage = open_tunnel(p) ? PUMP_OPEN : PUMP_REFUSED;
		tunnel_release(t);
		audit_in_tunnel = audit_was;
	}
	rc = start_thread(pump_main, p);
	if (rc == 0) {
		return 0;
	}
	if (p->stage != PUMP_NEW) {
		tunnel_hold(t);
		finish(p, false); /* the caller refuses the tunnel */
		errno = rc;
		return -1;
	}
	t->pumped = false;
	t->pump = NULL;
	free(p);
	errno = rc;
	return -1;
}
