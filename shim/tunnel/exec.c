/*
 * Tunnels across exec (tunnel.h): the keeper process that carries on the
 * pumps of a process that execs, and TLSGUARD_TUNNEL, which tells the new
 * image (or any child) which inherited descriptors are tunnels' program ends
 * and what getpeername and getsockname answer for them.
 *
 * TLSGUARD_TUNNEL: entries separated by ';', each
 *   KIND ID ':' DIR ':' PEER ':' LOCAL
 * KIND and ID name the socket as TLSGUARD_FDS does (exec/socket_name.c), DIR
 * is 'o' or 'i', PEER and LOCAL are the sockaddr bytes in hex.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bind/real.h"
#include "core/conn_internal.h"
#include "exec/socket_name.h"
#include "tunnel_internal.h"

#define ENTRIES_MAX 64

static size_t hex(char *out, const void *bytes, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *b = bytes;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	return 2 * n;
}

void tunnel_env_add(struct tunnel *t, int fd, char *list, size_t len)
{
	char entry[64 + 4 * sizeof(struct sockaddr_storage)];
	enum fdlist_kind kind;
	uint64_t id;
	size_t used = strlen(list), n;
	int w;

	tunnel_mark_shared(t); /* the new image writes into the pair too */
	if (socket_name(fd, &kind, &id) < 0) {
		return;
	}
	w = snprintf(entry, sizeof(entry), "%s%c%llx:%c:", used ? ";" : "", (char)kind,
	             (unsigned long long)id, t->inbound ? 'i' : 'o');
	if (w < 0) {
		return;
	}
	n = (size_t)w;
	n += hex(entry + n, &t->sh->peer, t->sh->peer_len < 64 ? t->sh->peer_len : 64);
	entry[n++] = ':';
	n += hex(entry + n, &t->sh->local, t->sh->local_len < 64 ? t->sh->local_len : 64);
	entry[n] = '\0';
	if (strstr(list, entry + (used ? 1 : 0)) == NULL && used + n + 1 <= len) {
		memcpy(list + used, entry, n + 1);
	}
}

static int unhex(const char *text, size_t n, void *out, size_t max)
{
	unsigned char *b = out;
	size_t i;
	int hi, lo;

	if (n % 2 != 0 || n / 2 > max) {
		return -1;
	}
	for (i = 0; i < n / 2; i++) {
		hi = text[2 * i] <= '9' ? text[2 * i] - '0' : text[2 * i] - 'a' + 10;
		lo = text[2 * i + 1] <= '9' ? text[2 * i + 1] - '0' : text[2 * i + 1] - 'a' + 10;
		if (hi < 0 || hi > 15 || lo < 0 || lo > 15) {
			return -1;
		}
		b[i] = (unsigned char)(hi << 4 | lo);
	}
	return (int)(n / 2);
}

struct entry {
	enum fdlist_kind kind;
	uint64_t id;
	bool inbound;
	struct sockaddr_storage peer, local;
	socklen_t peer_len, local_len;
	struct tunnel *t; /* once found */
};

static int parse(const char *text, struct entry *e, int max)
{
	const char *p = text, *end, *c1, *c2, *c3;
	int n = 0, len;
	char *idend;

	while (*p != '\0' && n < max) {
		end = strchr(p, ';');
		if (end == NULL) {
			end = p + strlen(p);
		}
		memset(&e[n], 0, sizeof(e[n]));
		c1 = memchr(p, ':', (size_t)(end - p));
		c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
		c3 = c2 ? memchr(c2 + 1, ':', (size_t)(end - c2 - 1)) : NULL;
		if (c3 != NULL && (p[0] == FDLIST_COOKIE || p[0] == FDLIST_INODE)) {
			e[n].kind = (enum fdlist_kind)p[0];
			e[n].id = strtoull(p + 1, &idend, 16);
			e[n].inbound = c1[1] == 'i';
			len = unhex(c2 + 1, (size_t)(c3 - c2 - 1), &e[n].peer, sizeof(e[n].peer));
			e[n].peer_len = len > 0 ? (socklen_t)len : 0;
			len =
			    unhex(c3 + 1, (size_t)(end - c3 - 1), &e[n].local, sizeof(e[n].local));
			e[n].local_len = len > 0 ? (socklen_t)len : 0;
			if (idend == c1 && e[n].peer_len > 0) {
				n++;
			}
		}
		p = *end ? end + 1 : end;
	}
	return n;
}

/* fd: the program end of a tunnel named by e. */
static void adopt(int fd, struct entry *e)
{
	struct conn *c;

	if (e->t == NULL) {
		e->t = tunnel_adopted(e->inbound, &e->peer, e->peer_len, &e->local, e->local_len);
		if (e->t == NULL) {
			return;
		}
	}
	c = conn_new(e->inbound, NULL);
	if (c == NULL) {
		return;
	}
	c->tunnel = e->t;
	tunnel_ref(e->t);
	conn_identify(c, fd);
	(void)fdt_set(fd, c);
	conn_release(c);
}

void tunnel_adopt_env(const char *value)
{
	struct entry *e;
	enum fdlist_kind kind;
	uint64_t id;
	int n, fd, i, max;

	if (value == NULL || *value == '\0') {
		return;
	}
	e = calloc(ENTRIES_MAX, sizeof(*e));
	if (e == NULL) {
		return;
	}
	n = parse(value, e, ENTRIES_MAX);
	max = (int)sysconf(_SC_OPEN_MAX);
	if (max <= 0 || max > 65536) {
		max = 65536;
	}
	for (fd = 0; fd < max && n > 0; fd++) {
		if (real()->fcntl(fd, F_GETFD) < 0 || socket_name(fd, &kind, &id) < 0) {
			continue;
		}
		for (i = 0; i < n; i++) {
			if (e[i].kind == kind && e[i].id == id) {
				adopt(fd, &e[i]);
				break;
			}
		}
	}
	for (i = 0; i < n; i++) {
		if (e[i].t != NULL) {
			tunnel_unref(e[i].t); /* the conns hold theirs */
		}
	}
	free(e);
}

/* ---- the keeper ---- */

static bool kept_fd(const struct tunnel_keep *k, int fd, int go)
{
	size_t i;

	if (fd == go) {
		return true;
	}
	for (i = 0; i < k->n; i++) {
		if (fd == k->held[i]->tcp || fd == k->held[i]->pump_end || fd == k->held[i]->kick) {
			return true;
		}
	}
	return false;
}

/* The keeper's life: only its tunnels' descriptors open, waits for the go
 * (EOF: the exec succeeded), then pumps until every tunnel has ended. */
static void keeper(struct tunnel_keep *k, int go)
{
	_Atomic int live = 0;
	char byte;
	size_t i;
	int fd, max = (int)sysconf(_SC_OPEN_MAX), null, v;

	if (max <= 0 || max > 65536) {
		max = 65536;
	}
	for (fd = 0; fd < max; fd++) {
		if (!kept_fd(k, fd, go)) {
			(void)real()->close(fd);
		}
	}
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		(void)real()->dup2(null, 0);
		(void)real()->dup2(null, 1);
		(void)real()->dup2(null, 2);
		if (null > 2) {
			(void)real()->close(null);
		}
	}
	if (real()->read(go, &byte, 1) != 0) {
		_exit(0); /* the exec failed: the process pumps on itself */
	}
	(void)real()->close(go);
	for (i = 0; i < k->n; i++) {
		k->held[i]->owner = getpid();
		atomic_fetch_add(&live, 1);
		if (tunnel_pump_resume(k->held[i], &live) < 0) {
			atomic_fetch_sub(&live, 1);
		}
	}
	while ((v = atomic_load(&live)) > 0) {
		(void)real()->syscall(SYS_futex, (long)&live, (long)FUTEX_WAIT_PRIVATE, (long)v, 0L,
		                      0L, 0L);
	}
	_exit(0);
}

void tunnel_exec_prepare(struct tunnel_keep *k)
{
	struct tunnel *all[64];
	size_t n, i;
	int pipefd[2];
	pid_t pid;

	k->go = -1;
	k->n = 0;
	n = tunnel_collect_owned(all, sizeof(all) / sizeof(all[0]));
	if (n == 0) {
		return;
	}
	/* Every pump is held where it waits, each handshake finished. */
	for (i = 0; i < n; i++) {
		(void)tunnel_wait_outcome(all[i], TUNNEL_EXEC_WAIT_MS);
	}
	pthread_rwlock_wrlock(&tunnel_work_lock);
	for (i = 0; i < n; i++) {
		if (!all[i]->pumped || all[i]->pump == NULL ||
		    atomic_load(&all[i]->sh->state) < TUNNEL_OPEN) {
			tunnel_unref(all[i]);
			continue;
		}
		k->held[k->n++] = all[i];
	}
	if (k->n == 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		goto release;
	}
	tunnel_forking_keeper = true;
	pid = real()->fork();
	if (pid == 0) {
		/* the middle process: the keeper is its child, then it goes, so
		 * that the keeper is no child of the new image */
		(void)real()->close(pipefd[1]);
		if (real()->fork() == 0) {
			keeper(k, pipefd[0]);
		}
		_exit(0);
	}
	tunnel_forking_keeper = false;
	(void)real()->close(pipefd[0]);
	if (pid < 0) {
		(void)real()->close(pipefd[1]);
		goto release;
	}
	(void)waitpid(pid, NULL, 0);
	k->go = pipefd[1];
	return;
release:
	pthread_rwlock_unlock(&tunnel_work_lock);
	for (i = 0; i < k->n; i++) {
		tunnel_unref(k->held[i]);
	}
	k->n = 0;
}

void tunnel_exec_abort(struct tunnel_keep *k)
{
	int saved = errno;
	size_t i;

	if (k->go < 0) {
		return; /* no keeper: nothing held */
	}
	(void)real()->write(k->go, "x", 1);
	(void)real()->close(k->go);
	k->go = -1;
	pthread_rwlock_unlock(&tunnel_work_lock);
	for (i = 0; i < k->n; i++) {
		tunnel_unref(k->held[i]);
	}
	k->n = 0;
	errno = saved;
}
