/*
 * stdio reaches a socket through libc's internal read and write, which no
 * wrapper sees (bash's `echo >&3` is putchar + fflush on a dup'ed descriptor;
 * stderr is unbuffered and writes at once). No TLS library speaks through
 * stdio, so a stdio stream on a governed connection can only carry plaintext:
 *
 *  - a standard stream whose descriptor becomes governed (dup2 onto 0, 1 or 2,
 *    or inherited from an exec'ing parent), and a stream fdopen'ed on a governed
 *    descriptor, are marked with glibc's _IO_NO_WRITES/_IO_NO_READS, so stdio
 *    itself refuses every transfer and nothing is buffered or sent;
 *  - fflush and fclose on such a stream report the refusal (EACCES and an audit
 *    event) where the program checks for write errors;
 *  - any other stream's pending buffer bound for a governed socket is checked
 *    when flushed or closed, and at exit, before libc writes it.
 *
 * glibc's FILE layout and these flag bits (libio.h) are public, stable ABI.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "core/conn_internal.h"
#include "decide.h"
#include "bind/real.h"
#include "shim.h"
#include "tunnel/tunnel.h"
#include "stdio_guard.h"

#define STDIO_NO_READS  0x0004 /* _IO_NO_READS */
#define STDIO_NO_WRITES 0x0008 /* _IO_NO_WRITES */
#define STDIO_ERR_SEEN  0x0020 /* _IO_ERR_SEEN */
#define STDIO_FENCED    (STDIO_NO_READS | STDIO_NO_WRITES)
#define FENCE_SLOTS     64

/* The streams the shim fenced, and the flags they had before. */
static struct fence {
	FILE *fp;
	int old_flags;
} fences[FENCE_SLOTS];
static pthread_mutex_t fence_lock = PTHREAD_MUTEX_INITIALIZER;

static struct fence *fence_of(FILE *fp)
{
	size_t i;

	for (i = 0; i < FENCE_SLOTS; i++) {
		if (fences[i].fp == fp) {
			return &fences[i];
		}
	}
	return NULL;
}

static void fence(FILE *fp)
{
	struct fence *f;

	pthread_mutex_lock(&fence_lock);
	if (fence_of(fp) == NULL && (f = fence_of(NULL)) != NULL) {
		f->fp = fp;
		f->old_flags = fp->_flags & STDIO_FENCED;
		fp->_flags |= STDIO_FENCED;
	}
	pthread_mutex_unlock(&fence_lock);
}

static void unfence(FILE *fp)
{
	struct fence *f;

	pthread_mutex_lock(&fence_lock);
	if ((f = fence_of(fp)) != NULL) {
		fp->_flags = (fp->_flags & ~STDIO_FENCED) | f->old_flags;
		f->fp = NULL;
	}
	pthread_mutex_unlock(&fence_lock);
}

static bool fenced(FILE *fp)
{
	bool found;

	pthread_mutex_lock(&fence_lock);
	found = fence_of(fp) != NULL;
	pthread_mutex_unlock(&fence_lock);
	return found;
}

/* A tunnel's program descriptor carries plaintext by design (tunnel.h): a
 * stream on it is not fenced. libc writes the stream where no wrapper sees
 * it: the tunnel's direct path must not trust its count of the program's
 * writes (tunnel_mark_shared). */
static bool stdio_on_tunnel(int fd)
{
	struct conn *c = conn_acquire(fd);
	bool tunnel = c != NULL && c->tunnel != NULL;

	if (tunnel) {
		tunnel_mark_shared(c->tunnel);
	}
	conn_release(c);
	return tunnel;
}

void stdio_guard_fd(int fd)
{
	FILE *fp = fd == 0 ? stdin : fd == 1 ? stdout : fd == 2 ? stderr : NULL;
	bool fenced;

	if (fp == NULL) {
		return;
	}
	fenced = fdt_governed(fd) && !stdio_on_tunnel(fd);
	if (shim_mode() != POLICY_MODE_ENFORCE) {
		return;
	}
	if (fenced) {
		fence(fp);
	} else {
		unfence(fp);
	}
}

/* A fenced stream whose transfer stdio refused: say so like a refused write. */
static int report_fenced(FILE *fp)
{
	struct conn *c;
	int fd = fp->_fileno;

	if ((fp->_flags & STDIO_ERR_SEEN) == 0 || (c = conn_acquire(fd)) == NULL) {
		return 0;
	}
	decide_opaque_io(fd, c, "stdio");
	conn_release(c);
	errno = EACCES;
	return -1;
}

/* A stream's buffered output, as checked before libc writes it. */
struct pending {
	struct iovec iov;
	struct send_ticket ticket;
};

/* -1 when fp's pending output may not leave (the buffer is then discarded). */
static int check_pending(FILE *fp, struct conn **committed, struct pending *p)
{
	struct iovec *iov = &p->iov;
	struct conn *c;
	int fd;

	*committed = NULL;
	if (fp == NULL || (fd = fp->_fileno) < 0 || !fdt_governed(fd)) {
		return 0;
	}
	if (fenced(fp)) {
		return report_fenced(fp);
	}
	if (fp->_IO_write_ptr <= fp->_IO_write_base || (c = conn_acquire(fd)) == NULL) {
		return 0;
	}
	iov->iov_base = fp->_IO_write_base;
	iov->iov_len = (size_t)(fp->_IO_write_ptr - fp->_IO_write_base);
	if (decide_send_check(fd, c, iov, 1, &p->ticket) < 0) {
		fp->_IO_write_ptr = fp->_IO_write_base;
		fp->_flags |= STDIO_ERR_SEEN;
		conn_release(c);
		return -1;
	}
	*committed = c;
	return 0;
}

/* The pending bytes were checked and libc wrote them: advance the stream. */
static void commit_pending(struct conn *c, const struct pending *p, int rc)
{
	if (c == NULL) {
		return;
	}
	if (rc == 0) {
		decide_send_commit(c, &p->iov, 1, p->iov.iov_len, &p->ticket);
	}
	conn_release(c);
}

/* One stream: its pending output is checked before libc writes it. */
static int flush_one(FILE *fp)
{
	struct pending pending;
	struct conn *c;
	int rc;

	if (check_pending(fp, &c, &pending) < 0) {
		return EOF;
	}
	rc = real()->fflush(fp);
	commit_pending(c, &pending, rc);
	return rc;
}

static int fflush_route(FILE *fp)
{
	if (fp != NULL) {
		return flush_one(fp);
	}
	/* fflush(NULL) flushes every stream; the standard ones are checked. */
	if (flush_one(stdout) == EOF || flush_one(stderr) == EOF) {
		real()->fflush(NULL);
		return EOF;
	}
	return real()->fflush(NULL);
}

/* fclose closes the descriptor inside libc, behind the close wrapper: its
 * state is cleared here. */
static int fclose_route(FILE *fp)
{
	struct pending pending;
	struct conn *c;
	int rc, saved = 0;

	if (fp == NULL || fp->_fileno < 0) {
		goto pass;
	}
	rc = check_pending(fp, &c, &pending);
	saved = errno;
	conn_release(c);
	fdt_clear(fp->_fileno);
	unfence(fp);
	if (rc < 0) {
		goto refuse;
	}
pass:
	return real()->fclose(fp);
refuse:
	real()->fclose(fp);
	errno = saved;
	return EOF;
}

static FILE *fdopen_route(int fd, const char *mode)
{
	FILE *fp = real()->fdopen(fd, mode);

	if (fp != NULL && fdt_peek(fd) != NULL && !stdio_on_tunnel(fd) &&
	    shim_mode() == POLICY_MODE_ENFORCE) {
		fence(fp);
	}
	return fp;
}

SHIM_EXPORT int fflush(FILE *fp)
{
	return fflush_route(fp);
}

SHIM_EXPORT int fclose(FILE *fp)
{
	return fclose_route(fp);
}

SHIM_EXPORT FILE *fdopen(int fd, const char *mode)
{
	return fdopen_route(fd, mode);
}

/* exit() flushes every stream after the destructors ran. */
__attribute__((destructor)) static void stdio_check_at_exit(void)
{
	struct pending pending;
	struct conn *c;

	if (!atomic_load_explicit(&fdt_in_use, memory_order_acquire)) {
		return; /* no descriptor was ever governed */
	}
	if (check_pending(stdout, &c, &pending) == 0) {
		conn_release(c);
	}
	if (check_pending(stderr, &c, &pending) == 0) {
		conn_release(c);
	}
}

/* libio's exported names for the same calls. */
SHIM_EXPORT int _IO_fflush(FILE *fp) __attribute__((alias("fflush")));
SHIM_EXPORT int _IO_fclose(FILE *fp) __attribute__((alias("fclose")));
SHIM_EXPORT FILE *_IO_fdopen(int fd, const char *mode)
{
	return fdopen_route(fd, mode);
}
