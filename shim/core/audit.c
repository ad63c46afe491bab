/*
 * The audit sender (see audit.h): one RFC 3164 message per event to the
 * policy's audit.socket (audit_sink.c), stderr when the socket is gone, and a
 * rate limit (audit_rate.c) so a program that loops on a refused call cannot
 * flood the log (what it holds back is counted and reported). This file holds
 * the configuration, the lock, and the order of things per event.
 *
 * It runs inside the shim: output is formatted into static buffers and
 * written with one real()->write() (no stdio, which allocates and would write
 * through the interposed write()).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "audit_internal.h"
#include "audit_rate.h"
#include "audit_sink.h"
#include "audit_wait.h"
#include "conn.h"
#include "bind/real.h"
#include "shim.h"

#define DEFAULT_SOCKET "/dev/log"

#define HEADER_MAX 96

struct sender {
	int facility;
	bool to_stderr;
	bool fallback_announced;
	bool full_announced;
	bool exe_read;
	struct audit_sink sink;
	struct audit_rate rate;
	struct audit_wait wait;
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
		.facility = LOG_AUTHPRIV, .to_stderr = true,                                       \
		.sink = AUDIT_SINK_INIT(DEFAULT_SOCKET), .rate = AUDIT_RATE_INIT,                  \
		.wait = AUDIT_WAIT_INIT,                                                           \
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
	snd.rate.suppressed = 0;
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

void audit_register_fork_handlers(void)
{
	pthread_once(&atfork_once, register_atfork);
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
	if (real()->getsockopt(STDERR_FILENO, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0) {
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
		         snd.sink.path);
		say("tlsguard: ", text);
		return;
	}
	if (snd.fallback_announced) {
		return;
	}
	snd.fallback_announced = true;
	snprintf(text, sizeof(text), "audit socket %s unavailable (%s); events go to stderr",
	         snd.sink.path, strerror_r(err, reason, sizeof(reason)));
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
	if (audit_sink_send(&snd.sink, &snd.wait, bufs.msg, n, &err) < 0) {
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

static void hold_back(const struct audit_event *ev, const struct timespec *now)
{
	audit_rate_hold_back(&snd.rate, ev->verdict, now);
	atomic_store_explicit(&held, true, memory_order_relaxed);
}

/* "event=suppressed count=N", with the verdict of what was held back: block
 * in enforce mode, audit in audit mode. It costs no token: the count must get
 * out while the burst lasts. */
static void emit_suppressed(const struct timespec *now)
{
	struct audit_event ev = {
	    .kind = AUDIT_SUPPRESSED,
	    .verdict = snd.rate.suppressed_verdict,
	    .rule = POLICY_RULE_DEFAULT,
	    .reason = "rate_limit",
	    .detail = "events held back by the rate limit",
	};

	ev.count = audit_rate_take_count(&snd.rate, now);
	atomic_store_explicit(&held, false, memory_order_relaxed);
	audit_format_body(&ev, exe_path(), (long)getpid(), bufs.body, sizeof(bufs.body));
	deliver(ev.verdict);
}

SHIM_THREAD bool audit_in_tunnel;

void audit_emit_at(const struct audit_event *ev, const struct timespec *now)
{
	struct audit_event upgrade;
	int saved = errno;
	bool pass;

	if (ev == NULL || emitting) {
		errno = saved;
		return;
	}
	if (audit_in_tunnel && ev->kind == AUDIT_HANDSHAKE) {
		upgrade = *ev; /* the tunnel's own handshake (shim/tunnel) */
		upgrade.kind = AUDIT_UPGRADE;
		ev = &upgrade;
	}
	emitting = true;
	pthread_once(&atfork_once, register_atfork);
	pthread_mutex_lock(&lock);
	pass = audit_rate_take(&snd.rate, now);
	if (!pass) {
		hold_back(ev, now);
	}
	if (audit_rate_summary_due(&snd.rate, now)) {
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
		if (snd.rate.suppressed > 0) {
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
	if (strcmp(path, snd.sink.path) != 0) {
		snd.fallback_announced = false; /* a new socket gets its own notice */
		snd.full_announced = false;
		audit_sink_drop(&snd.sink); /* connected to the old path */
	}
	snd.sink.path = path;
	snd.facility = cfg->facility;
	snd.to_stderr = cfg->to_stderr;
	pthread_mutex_unlock(&lock);
}

int audit_socket_fd(void)
{
	int fd;

	pthread_mutex_lock(&lock);
	fd = audit_sink_is_ours(&snd.sink) ? snd.sink.fd : -1;
	pthread_mutex_unlock(&lock);
	return fd;
}

void audit_reset(void)
{
	struct sender fresh = SENDER_DEFAULTS;

	pthread_mutex_lock(&lock);
	audit_sink_drop(&snd.sink);
	snd = fresh;
	atomic_store(&mode_noted, false);
	atomic_store(&held, false);
	pthread_mutex_unlock(&lock);
}
