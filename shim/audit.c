/*
 * The audit sender (see audit.h): its own AF_UNIX datagram socket, one RFC 3164
 * message per event, stderr when the socket is missing or refuses, and a token
 * bucket so a program that loops on a refused call cannot flood the log.
 *
 * It runs inside the shim: every socket call goes through real(), output is
 * formatted into buffers and written with one real()->write() (no stdio, which
 * allocates and would write through the interposed write()).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "real.h"
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
	long long credit_ns;
	struct timespec last;
	bool clock_started;
	unsigned long suppressed;
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
		.credit_ns = BUCKET_NS,                                                            \
	}

static struct sender snd = SENDER_DEFAULTS;
static struct sender_buffers bufs;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
/* Set while this thread emits: a signal handler that lands in audit_emit()
 * must not wait for the lock its own thread holds. */
static SHIM_THREAD bool emitting;

/* fork() while another thread holds the lock must not leave the child with a
 * lock nobody will release. */
static void before_fork(void)
{
	pthread_mutex_lock(&lock);
}

static void after_fork(void)
{
	pthread_mutex_unlock(&lock);
}

static void register_atfork(void)
{
	pthread_atfork(before_fork, after_fork, after_fork);
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
 * to the program now. */
static void forget_socket(void)
{
	snd.fd = -1;
}

static int open_socket(void)
{
	struct stat st;
	int fd, high;

	if (snd.fd >= 0 && still_ours(snd.fd)) {
		return 0;
	}
	forget_socket();
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
	if (fstat(fd, &st) < 0) {
		real()->close(fd);
		return -1;
	}
	snd.fd = fd;
	snd.dev = st.st_dev;
	snd.ino = st.st_ino;
	return 0;
}

/* Sends one datagram; on failure returns -1 with the reason in *err. */
static int send_datagram(const char *msg, size_t len, int *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int attempt;

	if (strlen(snd.path) >= sizeof(sa.sun_path)) {
		*err = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, snd.path, strlen(snd.path) + 1);
	for (attempt = 0; attempt < 2; attempt++) {
		if (open_socket() < 0) {
			*err = errno;
			return -1;
		}
		if (real()->sendto(snd.fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL,
		                   (const struct sockaddr *)&sa, sizeof(sa)) >= 0) {
			return 0;
		}
		*err = errno;
		if (*err != EBADF && *err != ENOTSOCK) {
			return -1;
		}
		/* Closed (and maybe reused) behind our back: start again. */
		forget_socket();
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

static void announce_fallback(int err)
{
	char reason[128], text[PATH_MAX + 256];

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
		elapsed = (long long)(now->tv_sec - snd.last.tv_sec) * 1000000000LL +
		          (now->tv_nsec - snd.last.tv_nsec);
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

static void emit_suppressed(void)
{
	struct audit_event ev = {
	    .kind = AUDIT_POLICY,
	    .verdict = AUDIT_VERDICT_AUDIT,
	    .rule = POLICY_RULE_DEFAULT,
	    .reason = "suppressed",
	};
	char detail[64];

	snprintf(detail, sizeof(detail), "%lu events suppressed by the rate limit", snd.suppressed);
	ev.detail = detail;
	snd.suppressed = 0;
	audit_format_body(&ev, exe_path(), (long)getpid(), bufs.body, sizeof(bufs.body));
	deliver(ev.verdict);
}

void audit_emit_at(const struct audit_event *ev, const struct timespec *now)
{
	int saved = errno;

	if (ev == NULL || emitting) {
		errno = saved;
		return;
	}
	emitting = true;
	pthread_once(&atfork_once, register_atfork);
	pthread_mutex_lock(&lock);
	if (!rate_take(now)) {
		snd.suppressed++;
	} else {
		if (snd.suppressed > 0) {
			emit_suppressed();
		}
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
	}
	snd.path = path;
	snd.facility = cfg->facility;
	snd.to_stderr = cfg->to_stderr;
	pthread_mutex_unlock(&lock);
}

void audit_reset(void)
{
	struct sender fresh = SENDER_DEFAULTS;

	pthread_mutex_lock(&lock);
	if (snd.fd >= 0 && still_ours(snd.fd)) {
		real()->close(snd.fd);
	}
	forget_socket();
	snd = fresh;
	pthread_mutex_unlock(&lock);
}
