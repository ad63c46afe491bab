/*
 * Where a socket may go: connect() and accept(). The destination is decided
 * synchronously from its address, so a non-blocking connect keeps its semantics
 * (EINPROGRESS passes through).
 */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bind/real.h"
#include "core/conn_internal.h"
#include "decide.h"
#include "io.h"
#include "shim.h"

/* Not while the shim itself runs (shim_busy, shim.h): the decision would load
 * the policy again. */
static int connect_route(int fd, const struct sockaddr *addr, socklen_t len)
{
	if (shim_busy) {
		return real_hot()->connect(fd, addr, len);
	}
	return decide_connect(fd, addr, len);
}

/* A new connection: decided by its listener's local port and its peer. A refused
 * one is closed and reported as aborted, which servers retry. */
static int admit(int fd)
{
	int saved = errno;

	if (fd < 0) {
		return fd;
	}
	fdt_clear(fd);
	if (!shim_busy && decide_inbound(fd) < 0) {
		goto refuse;
	}
	errno = saved;
	return fd;
refuse:
	saved = errno;
	real()->close(fd);
	errno = saved;
	return -1;
}

SHIM_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return connect_route(fd, addr, len);
}

SHIM_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return admit(real()->accept(fd, addr, len));
}

SHIM_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	return admit(real()->accept4(fd, addr, len, flags));
}

/* glibc's exported alias meets the same wrapper (tlsguard.8). */
SHIM_EXPORT int __connect(int fd, const struct sockaddr *addr, socklen_t len)
    __attribute__((alias("connect")));

/* The same wrappers under hidden names, for syscall.c (io.h). */
int sock_connect(int fd, const struct sockaddr *addr, socklen_t len)
    __attribute__((alias("connect")));
int sock_accept(int fd, struct sockaddr *addr, socklen_t *len) __attribute__((alias("accept")));
int sock_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
    __attribute__((alias("accept4")));
