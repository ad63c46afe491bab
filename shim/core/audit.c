/*
 * The audit sender (see audit.h): its own AF_UNIX datagram socket, connected
 * to audit.socket as syslog(3) connects to /dev/log, one RFC 3164 message per
 * event, a bounded wait when the log daemon's queue is full, stderr when the
 * socket is gone, and a token bucket so a program that loops on a refused call
 * cannot flood the log (what it holds back is counted and reported).
 *
 * The socket is marked in the descriptor table as the shim's own: the
 * program's writes to it fail with EBADF, so it cannot fill the queue the next
 * event needs. If the program closes it or dup2s over it, the next event sees
 * that (still_ours) and opens a new one.
 *
 * It runs inside the shim: every socket call goes through real(), output is
 * formatted into buffers and written with one real()->write() (no stdio, which
 * allocates and would write through the interposed write()).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "audit_internal.h"
#include "conn.h"
#include "bind/real.h"
#include "shim.h"

#define DEFAULT_SOCKET "/dev/log"

/* The token bucket, in nanoseconds of credit: one event costs TOKEN_NS, the
 * bucket holds one second's worth. */
#define TOKEN_NS  (1000000000LL / AUDIT_RATE_PER_SEC)
#define BUCKET_NS (TOKEN_NS * AUDIT_RATE_PER_SEC)

#define HEADER_MAX 96

struct sender {
	const char *path;
	int facility;
	bool to_stderr;
	int fd; /* -1: not open */
	dev_t dev;
	ino_t ino;
	bool fallback_announced;
	bool full_announced;
	long long credit_ns;
	struct timespec last;
	bool clock_started;
	unsigned long suppressed;
	enum audit_verdict suppressed_verdict; /* the gravest one held back */
	struct timespec summary_at;            /* the last count sent, or the first held */
	long long wait_ns;                     /* what is left of the wait budget */
	struct timespec wait_at;
	bool exe_read;
};

/* Under the lock: static, not on the program's (maybe small) stack, and apart
 * from the sender so that they stay zero-filled pages nobody touches until
 * the first event (every process loads the shim; few emit). */
struct sender_buffers {
	char exe[PATH_MAX];
	char body[AUDIT_BODY_MAX];
	char msg[HEADER_MAX + AUDIT_BODY_MAX];
	char line[64 + AUDIT_BODY_MAX];
};

#define SENDER_DEFAULTS                                                                            \
	{                                                                                          \
		.path = DEFAULT_SOCKET, .facility = LOG_AUTHPRIV, .to_stderr = true, .fd = -1,     \
		.credit_ns = BUCKET_NS, .wait_ns = AUDIT_WAIT_BUDGET_NS,                           \
	}

static struct sender snd = SENDER_DEFAULTS;
static struct sender_buffers bufs;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static atomic_bool mode_noted;
/* Set (under the lock) while a count is held back: exec and exit read it
 * without the lock, and find nothing to do in almost every process. */
static atomic_bool held;
/* Set while this thread emits: a signal handler that lands in audit_emit()
 * must not wait for the lock its own thread holds. */
static SHIM_THREAD bool emitting;

/* fork() while another thread holds the lock must not leave the child with a
 * lock nobody will release. */
static void before_fork(void)
{
	pthread_mutex_lock(&lock);
}

static void after_fork_parent(void)
{
	pthread_mutex_unlock(&lock);
}

/* The suppressed count is the parent's to report: the child starts at zero,
 * or both would report the same events at exit. */
static void after_fork_child(void)
{
	snd.suppressed = 0;
	atomic_store_explicit(&held, false, memory_order_relaxed);
	pthread_mutex_unlock(&lock);
}

/* The conn table's handlers first: fork then takes the audit lock before the
 * table's locks, the order audit_emit takes them in (open_socket reserves the
 * audit descriptor in the table under the audit lock). */
static void register_atfork(void)
{
	conn_register_fork_handlers();
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

static long long elapsed_ns(const struct timespec *from, const struct timespec *to)
{
	return (long long)(to->tv_sec - from->tv_sec) * 1000000000LL +
	       (to->tv_nsec - from->tv_nsec);
}

/* True when fd is still the socket we created: the program may have closed it
 * and got the number back for a descriptor of its own. */
static bool still_ours(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == snd.dev &&
	       st.st_ino == snd.ino;
}

/* Drops our claim on the descriptor without closing it: the number may belong
 * to the program now (its close or dup2 already cleared the table entry). */
static void forget_socket(void)
{
	snd.fd = -1;
}

/* Closes our socket, if the number is still ours. */
static void drop_socket(void)
{
	if (snd.fd >= 0 && still_ours(snd.fd)) {
		conn_unreserve_fd(snd.fd);
		real()->close(snd.fd);
	}
	forget_socket();
}

/* A new socket, above the standard descriptors, connected to audit.socket:
 * connected, so that poll() can say when the daemon's queue has room (an
 * unconnected datagram socket always polls writable). */
static int open_connected(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t plen = strlen(snd.path);
	int fd, high, saved;

	if (plen >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, snd.path, plen + 1);
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

static int open_socket(void)
{
	struct stat st;
	int fd;

	if (snd.fd >= 0 && still_ours(snd.fd)) {
		return 0;
	}
	forget_socket();
	fd = open_connected();
	if (fd < 0) {
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		real()->close(fd);
		return -1;
	}
	snd.fd = fd;
	snd.dev = st.st_dev;
	snd.ino = st.st_ino;
	/* Best effort: without the mark the socket still works, unprotected. */
	(void)conn_reserve_fd(fd);
	return 0;
}

/* The process's wait budget refills slowly with the time that passes. */
static void wait_refill(const struct timespec *now)
{
	long long passed;

	if (snd.wait_at.tv_sec == 0 && snd.wait_at.tv_nsec == 0) {
		snd.wait_at = *now;
		return;
	}
	passed = elapsed_ns(&snd.wait_at, now);
	if (passed <= 0) {
		return;
	}
	snd.wait_at = *now;
	snd.wait_ns += passed / 1000 * AUDIT_WAIT_REFILL_PERMILLE;
	if (snd.wait_ns > AUDIT_WAIT_BUDGET_NS) {
		snd.wait_ns = AUDIT_WAIT_BUDGET_NS;
	}
}

/* send() on the connected socket; on EAGAIN (the daemon's queue is full) or
 * ENOBUFS, waits for room with poll() and tries again, as syslog(3) waits on
 * its socket, but never longer than this event's allowance or what is left of
 * the process's budget. -1 with errno EAGAIN when the wait ran out. */
static int send_waiting(const char *msg, size_t len)
{
	struct pollfd pfd = {.fd = snd.fd, .events = POLLOUT};
	struct timespec before, after;
	long long event_ns = AUDIT_WAIT_EVENT_NS, waited, left;

	clock_gettime(CLOCK_MONOTONIC, &before);
	wait_refill(&before);
	for (;;) {
		if (real()->send(snd.fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
			return 0;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
			return -1;
		}
		left = event_ns < snd.wait_ns ? event_ns : snd.wait_ns;
		if (left <= 0) {
			errno = EAGAIN;
			return -1;
		}
		clock_gettime(CLOCK_MONOTONIC, &before);
		/* At most 10 ms at a time: ENOBUFS has no poll event to wait for. */
		(void)poll(&pfd, 1, left >= 10000000LL ? 10 : (int)(left / 1000000) + 1);
		clock_gettime(CLOCK_MONOTONIC, &after);
		waited = elapsed_ns(&before, &after);
		if (waited < 100000) {
			waited = 100000; /* a poll that returns at once still costs */
		}
		event_ns -= waited;
		snd.wait_ns = snd.wait_ns > waited ? snd.wait_ns - waited : 0;
	}
}

/* Sends one datagram; on failure returns -1 with the reason in *err. */
static int send_datagram(const char *msg, size_t len, int *err)
{
	int attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		if (open_socket() < 0) {
			*err = errno;
			return -1;
		}
		if (send_waiting(msg, len) == 0) {
			return 0;
		}
		*err = errno;
		switch (*err) {
		case EBADF:
		case ENOTSOCK:
			/* Closed (and maybe reused) behind our back: start again. */
			forget_socket();
			continue;
		case ECONNREFUSED:
		case ENOTCONN:
		case ECONNRESET:
		case EPIPE:
			/* The daemon restarted and made a new socket: reconnect once,
			 * as syslog(3) does. */
			drop_socket();
			continue;
		default:
			return -1;
		}
	}
	return -1;
}

/* Standard error may have been closed and its number reused for one of the
 * program's network connections: never write log lines into those. */
static bool stderr_usable(void)
{
	struct stat st;
	int domain = 0;
	socklen_t len = sizeof(domain);

	if (fstat(STDERR_FILENO, &st) < 0) {
		return false;
	}
	if (!S_ISSOCK(st.st_mode)) {
		return true;
	}
	if (getsockopt(STDERR_FILENO, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0) {
		return false;
	}
	return domain == AF_UNIX; /* journald's stdout stream, a pipe-like socket */
}

/* "PREFIXTEXT\n" to stderr in one write(). */
static void say(const char *prefix, const char *text)
{
	int n;

	if (!stderr_usable()) {
		return;
	}
	n = snprintf(bufs.line, sizeof(bufs.line), "%s%s\n", prefix, text);
	if (n < 0) {
		return;
	}
	if ((size_t)n >= sizeof(bufs.line)) {
		n = sizeof(bufs.line) - 1;
		bufs.line[n - 1] = '\n';
	}
	(void)!real()->write(STDERR_FILENO, bufs.line, (size_t)n);
}

/* Once per socket path: a log daemon that is not there, or (EAGAIN) one
 * that did not make room within the wait budget. */
static void announce_fallback(int err)
{
	char reason[128], text[PATH_MAX + 256];

	if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
		if (snd.full_announced) {
			return;
		}
		snd.full_announced = true;
		snprintf(text, sizeof(text),
		         "audit socket %s is full and did not drain in time; events that cannot "
		         "wait go to stderr",
		         snd.path);
		say("tlsguard: ", text);
		return;
	}
	if (snd.fallback_announced) {
		return;
	}
	snd.fallback_announced = true;
	snprintf(text, sizeof(text), "audit socket %s unavailable (%s); events go to stderr",
	         snd.path, strerror_r(err, reason, sizeof(reason)));
	say("tlsguard: ", text);
}

static const char *exe_path(void)
{
	ssize_t n;

	if (!snd.exe_read) {
		snd.exe_read = true;
		n = readlink("/proc/self/exe", bufs.exe, sizeof(bufs.exe) - 1);
		bufs.exe[n > 0 ? n : 0] = '\0';
	}
	return bufs.exe[0] != '\0' ? bufs.exe : "-";
}

/* Sends bufs.body; falls back to stderr, and copies blocks to stderr when the
 * policy asks for it (never the same event twice). */
static void deliver(enum audit_verdict verdict)
{
	struct tm tm;
	time_t now = time(NULL);
	size_t n;
	int err = 0;

	if (localtime_r(&now, &tm) == NULL) {
		memset(&tm, 0, sizeof(tm));
	}
	n = audit_format_header((snd.facility & LOG_FACMASK) | audit_severity(verdict), &tm,
	                        (long)getpid(), bufs.msg, HEADER_MAX);
	memcpy(bufs.msg + n, bufs.body, strlen(bufs.body));
	n += strlen(bufs.body);
	if (send_datagram(bufs.msg, n, &err) < 0) {
		announce_fallback(err);
		say("tlsguard: ", bufs.body);
		return;
	}
	if (!snd.to_stderr) {
		return;
	}
	switch (verdict) {
	case AUDIT_VERDICT_ALLOW:
		return;
	case AUDIT_VERDICT_AUDIT:
		say("tlsguard: audit: ", bufs.body);
		return;
	case AUDIT_VERDICT_BLOCK:
	default:
		say("tlsguard: blocked: ", bufs.body);
		return;
	}
}

/* Takes one token; false when the burst is over. */
static bool rate_take(const struct timespec *now)
{
	long long elapsed;

	if (snd.clock_started) {
		elapsed = elapsed_ns(&snd.last, now);
		if (elapsed < 0) {
			elapsed = 0; /* not monotonic: keep the older time */
		} else {
			snd.last = *now;
		}
		snd.credit_ns = elapsed >= BUCKET_NS ? BUCKET_NS : snd.credit_ns + elapsed;
		if (snd.credit_ns > BUCKET_NS) {
			snd.credit_ns = BUCKET_NS;
		}
	} else {
		snd.last = *now;
		snd.clock_started = true;
	}
	if (snd.credit_ns < TOKEN_NS) {
		return false;
	}
	snd.credit_ns -= TOKEN_NS;
	return true;
}

/* The gravest verdict wins: a count that holds one block is a block. */
static int verdict_rank(enum audit_verdict v)
{
	switch (v) {
	case AUDIT_VERDICT_ALLOW:
		return 0;
	case AUDIT_VERDICT_AUDIT:
		return 1;
	case AUDIT_VERDICT_BLOCK:
	default:
		return 2;
	}
}

static void hold_back(const struct audit_event *ev, const struct timespec *now)
{
	if (snd.suppressed == 0) {
		snd.summary_at = *now; /* the first count goes one interval later */
		snd.suppressed_verdict = ev->verdict;
	} else if (verdict_rank(ev->verdict) > verdict_rank(snd.suppressed_verdict)) {
		snd.suppressed_verdict = ev->verdict;
	}
	snd.suppressed++;
	atomic_store_explicit(&held, true, memory_order_relaxed);
}

/* "event=suppressed count=N", with the verdict of what was held back: block
 * in enforce mode, audit in audit mode. It costs no token: the count must get
 * out while the burst lasts. */
static void emit_suppressed(const struct timespec *now)
{
	struct audit_event ev = {
	    .kind = AUDIT_SUPPRESSED,
	    .verdict = snd.suppressed_verdict,
	    .rule = POLICY_RULE_DEFAULT,
	    .reason = "rate_limit",
	    .detail = "events held back by the rate limit",
	    .count = snd.suppressed,
	};

	snd.suppressed = 0;
	atomic_store_explicit(&held, false, memory_order_relaxed);
	snd.summary_at = *now;
	audit_format_body(&ev, exe_path(), (long)getpid(), bufs.body, sizeof(bufs.body));
	deliver(ev.verdict);
}

void audit_emit_at(const struct audit_event *ev, const struct timespec *now)
{
	int saved = errno;
	bool pass;

	if (ev == NULL || emitting) {
		errno = saved;
		return;
	}
	emitting = true;
	pthread_once(&atfork_once, register_atfork);
	pthread_mutex_lock(&lock);
	pass = rate_take(now);
	if (!pass) {
		hold_back(ev, now);
	}
	if (snd.suppressed > 0 && elapsed_ns(&snd.summary_at, now) >= AUDIT_SUMMARY_NS) {
		emit_suppressed(now);
	}
	if (pass) {
		audit_format_body(ev, exe_path(), (long)getpid(), bufs.body, sizeof(bufs.body));
		deliver(ev->verdict);
	}
	pthread_mutex_unlock(&lock);
	emitting = false;
	errno = saved;
}

void audit_emit(const struct audit_event *ev)
{
	struct timespec now = {0};

	clock_gettime(CLOCK_MONOTONIC, &now);
	audit_emit_at(ev, &now);
}

void audit_flush_suppressed_at(const struct timespec *now)
{
	struct timespec until;
	int saved = errno;

	if (emitting) {
		return;
	}
	/* Not worth a hang at exit: another thread that holds the lock is
	 * sending, and a stuck one must not keep the process alive. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 300000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	emitting = true;
	if (pthread_mutex_timedlock(&lock, &until) == 0) {
		if (snd.suppressed > 0) {
			emit_suppressed(now);
		}
		pthread_mutex_unlock(&lock);
	}
	emitting = false;
	errno = saved;
}

void audit_flush_suppressed(void)
{
	struct timespec now = {0};

	if (!atomic_load_explicit(&held, memory_order_relaxed)) {
		return; /* the common case: nothing held back, no lock, no clock */
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	audit_flush_suppressed_at(&now);
}

/* exit() and return from main: the last count must not die with the process.
 * (_exit() and a fatal signal run no destructor; exec is covered by its
 * wrappers.) */
__attribute__((destructor)) static void audit_at_exit(void)
{
	audit_flush_suppressed();
}

void audit_note_mode(enum policy_mode policy_says, enum policy_mode in_force)
{
	struct audit_event ev = {
	    .kind = AUDIT_POLICY,
	    .verdict = AUDIT_VERDICT_AUDIT,
	    .rule = POLICY_RULE_DEFAULT,
	    .reason = "env_override",
	};
	char detail[128];

	/* Only a weaker mode is news: enforce > audit > off. */
	if (in_force == policy_says || in_force == POLICY_MODE_ENFORCE ||
	    (policy_says == POLICY_MODE_OFF && in_force == POLICY_MODE_AUDIT)) {
		return;
	}
	if (atomic_exchange(&mode_noted, true)) {
		return;
	}
	snprintf(detail, sizeof(detail), "mode set to %s by TLSGUARD_MODE; the policy says %s",
	         policy_mode_name(in_force), policy_mode_name(policy_says));
	ev.detail = detail;
	audit_emit(&ev);
}

void audit_configure(const struct policy_audit *cfg)
{
	const char *path;

	if (cfg == NULL) {
		return;
	}
	path = cfg->socket != NULL && cfg->socket[0] != '\0' ? cfg->socket : DEFAULT_SOCKET;
	pthread_mutex_lock(&lock);
	if (strcmp(path, snd.path) != 0) {
		snd.fallback_announced = false; /* a new socket gets its own notice */
		snd.full_announced = false;
		drop_socket(); /* connected to the old path */
	}
	snd.path = path;
	snd.facility = cfg->facility;
	snd.to_stderr = cfg->to_stderr;
	pthread_mutex_unlock(&lock);
}

int audit_socket_fd(void)
{
	int fd;

	pthread_mutex_lock(&lock);
	fd = snd.fd >= 0 && still_ours(snd.fd) ? snd.fd : -1;
	pthread_mutex_unlock(&lock);
	return fd;
}

void audit_reset(void)
{
	struct sender fresh = SENDER_DEFAULTS;

	pthread_mutex_lock(&lock);
	drop_socket();
	snd = fresh;
	atomic_store(&mode_noted, false);
	atomic_store(&held, false);
	pthread_mutex_unlock(&lock);
}
