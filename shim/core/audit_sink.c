/*
 * The audit sender's socket (audit_sink.h). It runs inside the shim: every
 * socket call goes through real().
 *
 * The socket is marked in the descriptor table as the shim's own: the
 * program's writes to it fail with EBADF, so it cannot fill the queue the next
 * event needs. If the program closes it or dup2s over it, the next event sees
 * that (audit_sink_is_ours) and opens a new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "audit_internal.h"
#include "audit_sink.h"
#include "bind/real.h"
#include "conn.h"

bool audit_sink_is_ours(const struct audit_sink *s)
{
	struct stat st;

	return s->fd >= 0 && fstat(s->fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
	       st.st_dev == s->dev && st.st_ino == s->ino;
}

/* Drops our claim on the descriptor without closing it: the number may belong
 * to the program now (its close or dup2 already cleared the table entry). */
static void forget(struct audit_sink *s)
{
	s->fd = -1;
}

void audit_sink_drop(struct audit_sink *s)
{
	if (audit_sink_is_ours(s)) {
		conn_unreserve_fd(s->fd);
		real()->close(s->fd);
	}
	forget(s);
}

/* A new socket, above the standard descriptors, connected to path: connected,
 * so that poll() can say when the daemon's queue has room (an unconnected
 * datagram socket always polls writable). */
static int open_connected(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t plen = strlen(path);
	int fd, high, saved;

	if (plen >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, plen + 1);
	fd = real()->socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		return -1;
	}
	if (fd <= STDERR_FILENO) {
		/* A program that closed its standard descriptors expects to get
		 * them back from its next open(): leave them alone. */
		high = real()->fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
		real()->close(fd);
		if (high < 0) {
			return -1;
		}
		fd = high;
	}
	if (real()->connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
		saved = errno;
		real()->close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static int sink_open(struct audit_sink *s)
{
	struct stat st;
	int fd;

	if (audit_sink_is_ours(s)) {
		return 0;
	}
	forget(s);
	fd = open_connected(s->path);
	if (fd < 0) {
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		real()->close(fd);
		return -1;
	}
	s->fd = fd;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	/* Best effort: without the mark the socket still works, unprotected. */
	(void)conn_reserve_fd(fd);
	return 0;
}

/* send() on the connected socket; on EAGAIN (the daemon's queue is full) or
 * ENOBUFS, waits for room with poll() and tries again, as syslog(3) waits on
 * its socket, but never longer than this event's allowance or what is left of
 * the process's budget. -1 with errno EAGAIN when the wait ran out. */
static int send_waiting(struct audit_sink *s, struct audit_wait *w, const char *msg, size_t len)
{
	struct pollfd pfd = {.fd = s->fd, .events = POLLOUT};
	struct timespec before, after;
	long long event_ns = AUDIT_WAIT_EVENT_NS, left;

	clock_gettime(CLOCK_MONOTONIC, &before);
	audit_wait_refill(w, &before);
	for (;;) {
		if (real()->send(s->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
			return 0;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
			return -1;
		}
		left = audit_wait_allowed(w, event_ns);
		if (left <= 0) {
			errno = EAGAIN;
			return -1;
		}
		clock_gettime(CLOCK_MONOTONIC, &before);
		/* At most 10 ms at a time: ENOBUFS has no poll event to wait for. */
		(void)poll(&pfd, 1, left >= 10000000LL ? 10 : (int)(left / 1000000) + 1);
		clock_gettime(CLOCK_MONOTONIC, &after);
		event_ns -= audit_wait_charge(w, audit_elapsed_ns(&before, &after));
	}
}

int audit_sink_send(struct audit_sink *s, struct audit_wait *w, const char *msg, size_t len,
                    int *err)
{
	int attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		if (sink_open(s) < 0) {
			*err = errno;
			return -1;
		}
		if (send_waiting(s, w, msg, len) == 0) {
			return 0;
		}
		*err = errno;
		switch (*err) {
		case EBADF:
		case ENOTSOCK:
			/* Closed (and maybe reused) behind our back: start again. */
			forget(s);
			continue;
		case ECONNREFUSED:
		case ENOTCONN:
		case ECONNRESET:
		case EPIPE:
			/* The daemon restarted and made a new socket: reconnect once,
			 * as syslog(3) does. */
			audit_sink_drop(s);
			continue;
		default:
			return -1;
		}
	}
	return -1;
}
