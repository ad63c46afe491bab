/*
 * The life of descriptors: state is born clean with every new socket, follows
 * dup and fcntl(F_DUPFD), and dies with close, close_range and closefrom, so a
 * reused number never inherits an old connection's state.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/conn_internal.h"
#include "decide.h"
#include "bind/real.h"
#include "io.h"
#include "shim.h"
#include "stdio_guard.h"
#include "tunnel/tunnel.h"

/* A new descriptor starts clean: a reused number never inherits an old
 * connection's state. */
static int born(int fd)
{
	if (fd >= 0 && fdt_governed(fd)) {
		fdt_clear(fd);
	}
	return fd;
}

static int socketpair_route(int domain, int type, int protocol, int sv[2])
{
	int rc = real()->socketpair(domain, type, protocol, sv);

	if (rc == 0) {
		born(sv[0]);
		born(sv[1]);
	}
	return rc;
}

static int close_route(int fd)
{
	if (__builtin_expect(!fdt_governed(fd), 1)) {
		return real_hot()->close(fd);
	}
	tunnel_close_flush(fd);
	fdt_clear(fd);
	if (fd <= 2) {
		stdio_guard_fd(fd);
	}
	return real_hot()->close(fd);
}

static int close_range_route(unsigned int first, unsigned int last, int flags)
{
	/* CLOSE_RANGE_CLOEXEC only marks them: exec clears the state then. */
	if ((flags & CLOSE_RANGE_CLOEXEC) == 0) {
		fdt_clear_range(first, last);
	}
	return real()->close_range(first, last, flags);
}

static void closefrom_route(int lowfd)
{
	if (lowfd >= 0) {
		fdt_clear_range((unsigned int)lowfd, ~0u);
	}
	real()->closefrom(lowfd);
}

static int dup_route(int fd)
{
	int copy = real()->dup(fd);

	if (copy >= 0) {
		fdt_copy(fd, copy);
	}
	return copy;
}

/* pidfd_getfd(2) copies a descriptor out of another process, where the shim
 * may have governed it, or never seen its connect: the copy is decided on
 * arrival, as a socket received over SCM_RIGHTS is. Through the real
 * syscall(): glibc before 2.36 has no pidfd_getfd to bind. */
static int pidfd_getfd_route(int pidfd, int targetfd, unsigned int flags)
{
	int copy = (int)real()->syscall(SYS_pidfd_getfd, pidfd, targetfd, flags);

	if (copy >= 0) {
		decide_adopt(copy);
	}
	return copy;
}

/* The target takes the source's state before the real call, so no other thread
 * can write through it unchecked; a failed call puts the old state back.
 * flags is dup3's (0 for dup2). */
static int dup_onto(int from, int to, int flags, bool is_dup3)
{
	struct conn *before = conn_acquire(to);
	int rc, saved;

	if (from != to) {
		fdt_copy(from, to);
	}
	rc = is_dup3 ? real()->dup3(from, to, flags) : real()->dup2(from, to);
	saved = errno;
	if (rc < 0 && from != to) {
		fdt_set(to, before);
	}
	if (to >= 0 && to <= 2) {
		stdio_guard_fd(to);
	}
	conn_release(before);
	errno = saved;
	return rc;
}

static int dup2_route(int from, int to)
{
	if (!fdt_governed(from) && !fdt_governed(to)) {
		return real()->dup2(from, to);
	}
	return dup_onto(from, to, 0, false);
}

static int dup3_route(int from, int to, int flags)
{
	if (!fdt_governed(from) && !fdt_governed(to)) {
		return real()->dup3(from, to, flags);
	}
	return dup_onto(from, to, flags, true);
}

/* fcntl's third argument is an int or a pointer depending on cmd; passing it on
 * as a pointer-sized value is what glibc's own wrappers do. F_DUPFD copies the
 * descriptor's state as dup does. */
static int fcntl_route(int (*call)(int, int, ...), int fd, int cmd, void *arg)
{
	int rc = call(fd, cmd, arg);

	if (rc >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) {
		fdt_copy(fd, rc);
		if (rc <= 2) {
			stdio_guard_fd(rc);
		}
	}
	return rc;
}

/* Kernel TLS would take plaintext from the program and encrypt it in the kernel,
 * behind the byte checks; on a governed socket it is not available (OpenSSL then
 * falls back to user-space TLS by itself). */
static int setsockopt_route(int fd, int level, int name, const void *value, socklen_t len)
{
	int rc;

	if (level == IPPROTO_TCP && name == TCP_ULP && fdt_peek(fd) != NULL) {
		goto refuse;
	}
	if (fdt_governed(fd) && tunnel_setsockopt(fd, level, name, value, len, &rc)) {
		return rc;
	}
	return real()->setsockopt(fd, level, name, value, len);
refuse:
	errno = ENOPROTOOPT;
	return -1;
}

static int shutdown_route(int fd, int how)
{
	int rc;

	if (fdt_governed(fd) && tunnel_shutdown(fd, how, &rc)) {
		return rc;
	}
	return real()->shutdown(fd, how);
}

SHIM_EXPORT int socket(int domain, int type, int protocol)
{
	return born(real_hot()->socket(domain, type, protocol));
}

SHIM_EXPORT int socketpair(int domain, int type, int protocol, int sv[2])
{
	return socketpair_route(domain, type, protocol, sv);
}

SHIM_EXPORT int close(int fd)
{
	return close_route(fd);
}

SHIM_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	return close_range_route(first, last, flags);
}

SHIM_EXPORT void closefrom(int lowfd)
{
	closefrom_route(lowfd);
}

SHIM_EXPORT int dup(int fd)
{
	return dup_route(fd);
}

SHIM_EXPORT int pidfd_getfd(int pidfd, int targetfd, unsigned int flags)
{
	return pidfd_getfd_route(pidfd, targetfd, flags);
}

SHIM_EXPORT int dup2(int from, int to)
{
	return dup2_route(from, to);
}

SHIM_EXPORT int dup3(int from, int to, int flags)
{
	return dup3_route(from, to, flags);
}

SHIM_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg = (va_start(ap, cmd), va_arg(ap, void *));

	va_end(ap);
	return fcntl_route(real()->fcntl, fd, cmd, arg);
}

SHIM_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg = (va_start(ap, cmd), va_arg(ap, void *));

	va_end(ap);
	return fcntl_route(real()->fcntl64, fd, cmd, arg);
}

SHIM_EXPORT int setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
	return setsockopt_route(fd, level, name, value, len);
}

SHIM_EXPORT int shutdown(int fd, int how)
{
	return shutdown_route(fd, how);
}

/* glibc's exported aliases meet the same wrappers (tlsguard.8). */
SHIM_EXPORT int __socket(int domain, int type, int protocol) __THROW
    __attribute__((alias("socket")));
SHIM_EXPORT int __close(int fd) __attribute__((alias("close")));
/* GLIBC_PRIVATE, but exported all the same: reachable with dlvsym. */
SHIM_EXPORT int __close_nocancel(int fd) __attribute__((alias("close")));
SHIM_EXPORT int __dup2(int from, int to) __THROW __attribute__((alias("dup2")));
SHIM_EXPORT int __fcntl(int fd, int cmd, ...) __attribute__((alias("fcntl")));
SHIM_EXPORT int __libc_fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl64")));

/* The same wrappers under hidden names, for syscall.c (io.h). */
int sock_socket(int domain, int type, int protocol) __THROW __attribute__((alias("socket")));
int sock_socketpair(int domain, int type, int protocol, int sv[2]) __THROW
    __attribute__((alias("socketpair")));
int sock_close(int fd) __attribute__((alias("close")));
int sock_close_range(unsigned int first, unsigned int last, int flags) __THROW
    __attribute__((alias("close_range")));
int sock_dup(int fd) __THROW __attribute__((alias("dup")));
int sock_dup2(int from, int to) __THROW __attribute__((alias("dup2")));
int sock_dup3(int from, int to, int flags) __THROW __attribute__((alias("dup3")));
int sock_pidfd_getfd(int pidfd, int targetfd, unsigned int flags) __THROW
    __attribute__((alias("pidfd_getfd")));
int sock_fcntl(int fd, int cmd, ...) __attribute__((alias("fcntl")));
int sock_shutdown(int fd, int how) __THROW __attribute__((alias("shutdown")));
int sock_setsockopt(int fd, int level, int name, const void *value, socklen_t len) __THROW
    __attribute__((alias("setsockopt")));
