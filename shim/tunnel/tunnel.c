/*
 * Making tunnels (tunnel.h): the descriptor swap on connect and accept, the
 * list of the process's tunnels, their life (references), their shared state,
 * and what fork does to them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bind/real.h"
#include "core/audit.h"
#include "core/conn_internal.h"
#include "shim.h"
#include "tunnel_internal.h"

/* Where the hidden descriptors go: above what programs count on, below the
 * usual soft limit of 1024 (F_DUPFD takes the lowest free one from here). */
#define TUNNEL_FD_BASE 600

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tunnel *tunnels;
static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
/* In the start-up page (SHIM_STARTUP_DATA): read at every exit and exec; in
 * .bss that read would cost a page fault in every process. */
static SHIM_STARTUP_DATA atomic_bool tunnels_made;
/* Set while the exec keeper is forked: its child keeps the descriptors. */
bool tunnel_forking_keeper;

void tunnel_ref(struct tunnel *t)
{
	atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
}

void tunnel_unref(struct tunnel *t)
{
	struct tunnel **p;

	if (t == NULL || atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1) {
		return;
	}
	pthread_mutex_lock(&list_lock);
	for (p = &tunnels; *p != NULL; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	pthread_mutex_unlock(&list_lock);
	tunnel_shared_free(t->sh, t->sh_gen);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static void drop_from_conn(struct tunnel *t)
{
	tunnel_unref(t);
}

static void futex_wake(_Atomic int *addr)
{
	(void)real()->syscall(SYS_futex, (long)addr, (long)FUTEX_WAKE, (long)INT_MAX, 0L, 0L, 0L);
}

void tunnel_set_state(struct tunnel *t, enum tunnel_state state, int error)
{
	if (error != 0) {
		atomic_store_explicit(&t->sh->error, error, memory_order_relaxed);
	}
	atomic_store_explicit(&t->sh->state, (int)state, memory_order_release);
	futex_wake(&t->sh->state);
}

int tunnel_wait_outcome(struct tunnel *t, int ms)
{
	struct timespec now, end, left;
	int s;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += ms / 1000;
	end.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	while ((s = atomic_load_explicit(&t->sh->state, memory_order_acquire)) < TUNNEL_OPEN) {
		if (!t->pumped && t->owner == getpid()) {
			break; /* no pump will ever answer (cannot happen: defensive) */
		}
		if (ms >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			left.tv_sec = end.tv_sec - now.tv_sec;
			left.tv_nsec = end.tv_nsec - now.tv_nsec;
			if (left.tv_nsec < 0) {
				left.tv_sec--;
				left.tv_nsec += 1000000000L;
			}
			if (left.tv_sec < 0) {
				break; /* still pending */
			}
		}
		/* Not FUTEX_PRIVATE: the state is shared with forked children. */
		(void)real()->syscall(SYS_futex, (long)&t->sh->state, (long)FUTEX_WAIT, (long)s,
		                      ms >= 0 ? (long)&left : 0L, 0L, 0L);
	}
	return s;
}

struct tunnel *tunnel_of_fd(int fd)
{
	struct conn *c = fdt_governed(fd) ? conn_acquire(fd) : NULL;
	struct tunnel *t = NULL;

	if (c != NULL) {
		t = c->tunnel;
		if (t != NULL) {
			tunnel_ref(t);
		}
		conn_release(c);
	}
	return t;
}

void tunnel_report(const struct tunnel *t, const char *reason, const char *detail)
{
	struct audit_event ev = {
	    .kind = AUDIT_UPGRADE,
	    .verdict =
	        shim_mode() == POLICY_MODE_ENFORCE ? AUDIT_VERDICT_BLOCK : AUDIT_VERDICT_AUDIT,
	    .inbound = t->inbound,
	    .peer = &t->peer_addr,
	    .port = t->peer_port,
	    .host = t->host,
	    .rule = t->rule != NULL ? t->rule->index : POLICY_RULE_DEFAULT,
	    .reason = reason,
	    .detail = detail,
	};
	int saved = errno;

	audit_emit(&ev);
	errno = saved;
}

void tunnel_progress(struct tunnel *t)
{
	atomic_fetch_add_explicit(&t->sh->progress, 1, memory_order_release);
	futex_wake(&t->sh->progress);
}

/* Until the pair holds nothing of the program's (fd: the program's end, its
 * unsent bytes; -1: the pump's end, its unread ones) and the pump holds no
 * byte it has not sent, or the tunnel ended. */
static void drain(struct tunnel *t, int fd)
{
	struct timespec wait = {0, 50 * 1000 * 1000};
	int queued, seen, i;

	for (i = 0; i < 100; i++) { /* 5 s */
		seen = atomic_load_explicit(&t->sh->progress, memory_order_acquire);
		queued = 0;
		if (ioctl(fd >= 0 ? fd : t->pump_end, fd >= 0 ? SIOCOUTQ : SIOCINQ, &queued) < 0) {
			return;
		}
		if ((queued <= 0 &&
		     !atomic_load_explicit(&t->sh->tx_pending, memory_order_acquire)) ||
		    atomic_load_explicit(&t->sh->state, memory_order_acquire) >= TUNNEL_REFUSED) {
			return;
		}
		(void)real()->syscall(SYS_futex, (long)&t->sh->progress, (long)FUTEX_WAIT,
		                      (long)seen, (long)&wait, 0L, 0L);
	}
}

void tunnel_close_flush(int fd)
{
	struct tunnel *t = tunnel_of_fd(fd);
	int saved = errno;

	if (t == NULL) {
		return;
	}
	if (t->pumped && t->owner == getpid()) {
		drain(t, fd);
	}
	tunnel_unref(t);
	errno = saved;
}

/* exit(): the pumps die with the process; what the program wrote last is
 * sent first (the kernel then delivers it and closes the connections).
 * Registered with the first tunnel (atexit): a process without one runs
 * nothing of this at exit. */
static void tunnel_flush_at_exit(void)
{
	struct tunnel *t;
	int saved = errno;

	if (!atomic_load_explicit(&tunnels_made, memory_order_acquire)) {
		return;
	}
	pthread_mutex_lock(&list_lock);
	for (t = tunnels; t != NULL; t = t->next) {
		if (t->pumped && t->owner == getpid()) {
			drain(t, -1);
		}
	}
	pthread_mutex_unlock(&list_lock);
	errno = saved;
}

int tunnel_io_check(const struct conn *c)
{
	const struct tunnel *t = c->tunnel;

	if (t == NULL ||
	    atomic_load_explicit(&t->sh->state, memory_order_acquire) != TUNNEL_REFUSED) {
		return 0;
	}
	errno = atomic_load_explicit(&t->sh->error, memory_order_relaxed);
	if (errno == 0) {
		errno = t->inbound ? TUNNEL_REFUSED_ERRNO_IN : TUNNEL_REFUSED_ERRNO_OUT;
	}
	return -1;
}

/* fork: every pump of this process is held where it waits (each holds the
 * work lock whenever it is inside OpenSSL or the shim), so the child
 * inherits no lock of libcrypto's taken by a pump, and can make tunnels of
 * its own. The child has no pump. It closes its copies of the hidden
 * descriptors (the peer must see the end of the connection when the owner's
 * pump ends it) and keeps the shared state, for its own calls on the
 * program's descriptor. The exec keeper keeps them: it is the new owner (its
 * maker holds the pumps already). */
pthread_rwlock_t tunnel_work_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;

void tunnel_hold(struct tunnel *t)
{
	pthread_rwlock_rdlock(&tunnel_work_lock);
	pthread_mutex_lock(&t->lock);
}

bool tunnel_try_hold(struct tunnel *t)
{
	if (pthread_rwlock_tryrdlock(&tunnel_work_lock) != 0) {
		return false;
	}
	if (pthread_mutex_trylock(&t->lock) != 0) {
		pthread_rwlock_unlock(&tunnel_work_lock);
		return false;
	}
	return true;
}

void tunnel_release(struct tunnel *t)
{
	pthread_mutex_unlock(&t->lock);
	pthread_rwlock_unlock(&tunnel_work_lock);
}

static void work_lock_init(void)
{
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&tunnel_work_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
}

static void before_fork(void)
{
	pthread_mutex_lock(&list_lock);
	if (!tunnel_forking_keeper) {
		pthread_rwlock_wrlock(&tunnel_work_lock);
	}
	tunnel_shared_before_fork();
}

static void after_fork_parent(void)
{
	tunnel_shared_after_fork(false);
	if (!tunnel_forking_keeper) {
		pthread_rwlock_unlock(&tunnel_work_lock);
	}
	pthread_mutex_unlock(&list_lock);
}

static void after_fork_child(void)
{
	struct tunnel *t;

	tunnel_shared_after_fork(true);
	pthread_mutex_init(&list_lock, NULL);
	work_lock_init();
	for (t = tunnels; t != NULL; t = t->next) {
		pthread_mutex_init(&t->lock, NULL);
	}
	if (tunnel_forking_keeper) {
		return;
	}
	for (t = tunnels; t != NULL; t = t->next) {
		/* two processes write into the pair now (direct.c) */
		atomic_store_explicit(&t->sh->pair_shared, true, memory_order_relaxed);
		if (t->pumped) {
			t->pumped = false;
			fdt_clear(t->tcp);
			(void)real()->close(t->tcp);
			(void)real()->close(t->pump_end);
			(void)real()->close(t->kick);
			t->tcp = t->pump_end = t->kick = -1;
		}
	}
}

/* The handlers of the locks a pump takes while it holds its tunnel's (the
 * table's, the audit sender's) are registered first: fork's prepare
 * handlers run in reverse order, so fork holds the pumps before it takes
 * those locks. */
static void setup(void)
{
	conn_register_fork_handlers();
	audit_register_fork_handlers();
	atomic_store_explicit(&conn_tunnel_drop, drop_from_conn, memory_order_release);
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
	(void)atexit(tunnel_flush_at_exit);
}

static struct tunnel *tunnel_new(const struct policy_rule *rule, bool inbound)
{
	struct tunnel *t;

	pthread_once(&setup_once, setup);
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		return NULL;
	}
	t->sh = tunnel_shared_new(&t->sh_gen);
	if (t->sh == NULL) {
		free(t);
		return NULL;
	}
	atomic_init(&t->refs, 1); /* the maker's, handed to the pump */
	t->tcp = t->pump_end = t->kick = -1;
	t->rule = rule;
	t->inbound = inbound;
	t->owner = getpid();
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

static void tunnel_list_add(struct tunnel *t)
{
	pthread_mutex_lock(&list_lock);
	t->next = tunnels;
	tunnels = t;
	pthread_mutex_unlock(&list_lock);
	atomic_store_explicit(&tunnels_made, true, memory_order_release);
}

/* A close-on-exec copy of fd at or above the hidden range. */
static int hide(int fd)
{
	int copy = real()->fcntl(fd, F_DUPFD_CLOEXEC, TUNNEL_FD_BASE);

	if (copy < 0 && errno == EINVAL) {
		copy = real()->fcntl(fd, F_DUPFD_CLOEXEC, 3);
	}
	return copy;
}

/* The pump's wake-up call from the direct path (direct.c): an eventfd among
 * the hidden descriptors. Made with the system call: the libc name is one a
 * ThreadSanitizer runtime follows, and the shim's real close is not. */
static int hide_kick(void)
{
	int fd = (int)real()->syscall(SYS_eventfd2, 0L, (long)(EFD_NONBLOCK | EFD_CLOEXEC)), copy;

	if (fd < 0) {
		return -1;
	}
	copy = hide(fd);
	(void)real()->close(fd);
	return copy;
}

/* Follows fd under c's rule; c's one reference goes to the table. */
static int track(int fd, struct conn *c)
{
	int rc;

	if (c == NULL) {
		errno = ENOMEM;
		return -1;
	}
	conn_identify(c, fd);
	rc = fdt_set(fd, c);
	conn_release(c);
	return rc;
}

/* The swap: the TCP socket to a hidden descriptor, a pair end onto fd with
 * fd's own status and descriptor flags. */
static int swap_in_pair(struct tunnel *t, int fd)
{
	int fl = real()->fcntl(fd, F_GETFL), fdfl = real()->fcntl(fd, F_GETFD);
	int sv[2] = {-1, -1}, saved;
	struct conn *c;

	if (fl < 0 || fdfl < 0) {
		return -1;
	}
	t->tcp = hide(fd);
	if (t->tcp < 0 || real()->socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		goto fail;
	}
	t->pump_end = hide(sv[1]);
	t->kick = hide_kick();
	if (t->pump_end < 0 || t->kick < 0 ||
	    real()->fcntl(t->tcp, F_SETFL, O_RDWR | O_NONBLOCK) < 0 ||
	    real()->fcntl(t->pump_end, F_SETFL, O_RDWR | O_NONBLOCK) < 0 ||
	    real()->fcntl(sv[0], F_SETFL, fl & O_NONBLOCK) < 0) {
		goto fail;
	}
	(void)real()->close(sv[1]);
	sv[1] = -1;
	/* The TCP descriptor is governed under the rule like any require_tls
	 * connection (the socket layer checks the bytes the SSL moves). */
	c = conn_new(t->inbound, t->rule);
	if (c != NULL) {
		c->peer = t->peer_addr;
		c->port = t->peer_port;
		c->local_port = t->local_port;
		memcpy(c->host, t->host, sizeof(c->host));
		c->nosignal = true;
	}
	if (track(t->tcp, c) < 0) {
		goto fail;
	}
	/* fd: the program's end, its bytes plaintext by design. */
	c = conn_new(t->inbound, t->rule);
	if (c != NULL) {
		c->tunnel = t;
		tunnel_ref(t);
	}
	fdt_clear(fd);
	if (real()->dup3(sv[0], fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0 || track(fd, c) < 0) {
		goto fail;
	}
	(void)real()->close(sv[0]);
	return 0;
fail:
	saved = errno;
	if (t->tcp >= 0) {
		fdt_clear(t->tcp);
		(void)real()->close(t->tcp);
	}
	if (t->pump_end >= 0) {
		(void)real()->close(t->pump_end);
	}
	if (t->kick >= 0) {
		(void)real()->close(t->kick);
	}
	if (sv[0] >= 0) {
		(void)real()->close(sv[0]);
	}
	if (sv[1] >= 0) {
		(void)real()->close(sv[1]);
	}
	t->tcp = t->pump_end = t->kick = -1;
	errno = saved;
	return -1;
}

static bool load_tls(const struct tunnel *t)
{
	const struct ssl_fns *f = NULL;

	if (tunnel_ssl_load(&f) != NULL) {
		return true;
	}
	tunnel_report(t, "policy_error", "libssl.so.3 cannot be loaded for the tunnel");
	return false;
}

int tunnel_connect(int fd, const struct sockaddr *sa, socklen_t len, const struct policy_rule *rule,
                   const char *host)
{
	struct tunnel *t = tunnel_new(rule, false);
	int fl, rc, saved, state;

	if (t == NULL) {
		errno = ENOMEM;
		return -1;
	}
	policy_addr_from_sockaddr(&t->peer_addr, sa, &t->peer_port);
	snprintf(t->host, sizeof(t->host), "%s", host != NULL ? host : "");
	if (!load_tls(t)) {
		tunnel_unref(t);
		errno = TUNNEL_REFUSED_ERRNO_OUT;
		return -1;
	}
	fl = real()->fcntl(fd, F_GETFL);
	rc = real()->connect(fd, sa, len);
	if (rc < 0 && errno != EINPROGRESS) {
		saved = errno;
		tunnel_unref(t);
		errno = saved;
		return -1; /* as the connect failed: nothing to tunnel */
	}
	memcpy(&t->sh->peer, sa, len < sizeof(t->sh->peer) ? len : sizeof(t->sh->peer));
	t->sh->peer_len = len < sizeof(t->sh->peer) ? len : sizeof(t->sh->peer);
	t->sh->local_len = sizeof(t->sh->local);
	if (real()->getsockname(fd, (struct sockaddr *)&t->sh->local, &t->sh->local_len) < 0) {
		t->sh->local_len = 0;
	}
	if (swap_in_pair(t, fd) < 0) {
		saved = errno;
		tunnel_unref(t);
		errno = saved;
		return -1;
	}
	tunnel_list_add(t);
	if (tunnel_pump_start(t, fl >= 0 && (fl & O_NONBLOCK) == 0) < 0) {
		tunnel_set_state(t, TUNNEL_REFUSED, TUNNEL_REFUSED_ERRNO_OUT);
		errno = TUNNEL_REFUSED_ERRNO_OUT;
		return -1;
	}
	if (fl >= 0 && (fl & O_NONBLOCK) != 0) {
		errno = EINPROGRESS;
		return -1;
	}
	/* A blocking connect returns with the handshake's outcome. */
	state = tunnel_wait_outcome(t, -1);
	if (state == TUNNEL_REFUSED) {
		errno = atomic_load_explicit(&t->sh->error, memory_order_relaxed);
		return -1;
	}
	return 0;
}

int tunnel_accept(int fd, const struct policy_rule *rule)
{
	struct tunnel *t = tunnel_new(rule, true);
	struct sockaddr_in6 *sin6;
	int saved;

	if (t == NULL) {
		errno = ENOMEM;
		return -1;
	}
	t->sh->peer_len = sizeof(t->sh->peer);
	t->sh->local_len = sizeof(t->sh->local);
	if (real()->getpeername(fd, (struct sockaddr *)&t->sh->peer, &t->sh->peer_len) < 0 ||
	    real()->getsockname(fd, (struct sockaddr *)&t->sh->local, &t->sh->local_len) < 0) {
		goto fail;
	}
	policy_addr_from_sockaddr(&t->peer_addr, (struct sockaddr *)&t->sh->peer, &t->peer_port);
	sin6 = (struct sockaddr_in6 *)&t->sh->local;
	t->local_port = ntohs(sin6->sin6_port); /* sin_port sits at the same offset */
	if (!load_tls(t) || swap_in_pair(t, fd) < 0) {
		goto fail;
	}
	tunnel_list_add(t);
	if (tunnel_pump_start(t, false) < 0) {
		tunnel_set_state(t, TUNNEL_REFUSED, TUNNEL_REFUSED_ERRNO_IN);
	}
	return 0;
fail:
	saved = errno;
	tunnel_unref(t);
	errno = saved != 0 ? saved : ECONNABORTED;
	return -1;
}

size_t tunnel_collect_owned(struct tunnel **out, size_t max)
{
	struct tunnel *t;
	size_t n = 0;

	if (!atomic_load_explicit(&tunnels_made, memory_order_acquire)) {
		return 0;
	}
	pthread_mutex_lock(&list_lock);
	for (t = tunnels; t != NULL && n < max; t = t->next) {
		if (t->pumped && t->owner == getpid()) {
			tunnel_ref(t);
			out[n++] = t;
		}
	}
	pthread_mutex_unlock(&list_lock);
	return n;
}

struct tunnel *tunnel_adopted(bool inbound, const struct sockaddr_storage *peer, socklen_t peer_len,
                              const struct sockaddr_storage *local, socklen_t local_len)
{
	struct tunnel *t = tunnel_new(NULL, inbound);

	if (t == NULL) {
		return NULL;
	}
	t->sh->peer = *peer;
	t->sh->peer_len = peer_len;
	t->sh->local = *local;
	t->sh->local_len = local_len;
	atomic_store_explicit(&t->sh->state, TUNNEL_OPEN, memory_order_release);
	tunnel_list_add(t);
	return t;
}
