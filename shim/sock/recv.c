/*
 * The calls that receive bytes: the read family (read, __read_chk, readv,
 * preadv2) and the recv family (recv, __recv_chk, recvfrom, __recvfrom_chk,
 * recvmsg, recvmmsg). An untracked descriptor costs a table lookup and a branch
 * before the real call; on a governed one what arrived is checked (guard.c)
 * before the program sees it, and descriptors passed over SCM_RIGHTS are
 * decided on arrival.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "bind/real.h"
#include "core/conn_internal.h"
#include "decide.h"
#include "io.h"
#include "shim.h"
#include "tunnel/tunnel.h"

/* What the real call returned (n), checked against the connection's policy. */
static ssize_t recv_checked(int fd, const struct iovec *iov, size_t iovcnt, ssize_t n, bool peek)
{
	struct conn *c;
	int saved = errno;

	if (n <= 0) {
		/* a refused tunnel: EOF or a reset on the pair is the refusal */
		if ((c = conn_acquire(fd)) != NULL) {
			if (c->tunnel != NULL && tunnel_io_check(c) < 0) {
				n = -1;
				saved = errno;
			}
			conn_release(c);
		}
		errno = saved;
		return n;
	}
	if ((c = conn_acquire(fd)) == NULL) {
		return n;
	}
	if (decide_recv_check(fd, c, iov, iovcnt, (size_t)n, peek) < 0) {
		goto refuse;
	}
	conn_release(c);
	errno = saved;
	return n;
refuse:
	conn_release(c);
	return -1;
}

/* A tunnel's descriptor (fdt_tunnel, tested by the caller: a TLS
 * connection's reads pay no call): the bytes straight from the tunnel's SSL
 * where that keeps them in order (tunnel.h, the direct path). true: *n is
 * the answer. */
static __attribute__((noinline)) bool read_direct(int fd, void *buf, size_t len, int flags,
                                                  ssize_t *n)
{
	struct conn *c;

	if ((flags & ~MSG_DONTWAIT) != 0 || (c = conn_acquire(fd)) == NULL) {
		return false;
	}
	*n = TUNNEL_DIRECT_PASS;
	if (c->tunnel != NULL && tunnel_io_check(c) == 0) {
		*n = tunnel_direct_read(c->tunnel, fd, buf, len, (flags & MSG_DONTWAIT) != 0);
	}
	conn_release(c);
	return *n != TUNNEL_DIRECT_PASS;
}

static bool peeking(int flags)
{
	return (flags & MSG_PEEK) != 0;
}

/* Each wrapper's governed path is out of line and cold, so the untracked path
 * is a test and a jump straight into libc (bench: at most +10 instructions). */
#define COLD __attribute__((noinline, cold))

static COLD ssize_t read_governed(int fd, void *buf, size_t len)
{
	struct iovec iov = {buf, len};
	ssize_t n;

	if (fdt_tunnel(fd) && read_direct(fd, buf, len, 0, &n)) {
		return n;
	}
	return recv_checked(fd, &iov, 1, real()->read(fd, buf, len), false);
}

static ssize_t read_route(int fd, void *buf, size_t len)
{
	if (__builtin_expect(!fdt_governed(fd), 1)) {
		return real_hot()->read(fd, buf, len);
	}
	return read_governed(fd, buf, len);
}

/* _FORTIFY_SOURCE builds (all of Debian) call the checking variants. */
static COLD ssize_t read_chk_governed(int fd, void *buf, size_t len, size_t buflen)
{
	struct iovec iov = {buf, len};
	ssize_t n;

	if (fdt_tunnel(fd) && len <= buflen && read_direct(fd, buf, len, 0, &n)) {
		return n;
	}
	return recv_checked(fd, &iov, 1, real()->read_chk(fd, buf, len, buflen), false);
}

static ssize_t read_chk_route(int fd, void *buf, size_t len, size_t buflen)
{
	if (__builtin_expect(!fdt_governed(fd), 1)) {
		return real_hot()->read_chk(fd, buf, len, buflen);
	}
	return read_chk_governed(fd, buf, len, buflen);
}

static ssize_t readv_route(int fd, const struct iovec *iov, int iovcnt)
{
	if (!fdt_governed(fd) || iovcnt < 0) {
		return real()->readv(fd, iov, iovcnt);
	}
	return recv_checked(fd, iov, (size_t)iovcnt, real()->readv(fd, iov, iovcnt), false);
}

static ssize_t preadv2_route(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags)
{
	if (!fdt_governed(fd) || iovcnt < 0) {
		return real()->preadv2(fd, iov, iovcnt, offset, flags);
	}
	return recv_checked(fd, iov, (size_t)iovcnt,
	                    real()->preadv2(fd, iov, iovcnt, offset, flags), false);
}

static COLD ssize_t recv_governed(int fd, void *buf, size_t len, int flags)
{
	struct iovec iov = {buf, len};
	ssize_t n;

	if (fdt_tunnel(fd) && read_direct(fd, buf, len, flags, &n)) {
		return n;
	}
	return recv_checked(fd, &iov, 1, real()->recv(fd, buf, len, flags), peeking(flags));
}

static ssize_t recv_route(int fd, void *buf, size_t len, int flags)
{
	if (__builtin_expect(!fdt_governed(fd), 1)) {
		return real_hot()->recv(fd, buf, len, flags);
	}
	return recv_governed(fd, buf, len, flags);
}

static COLD ssize_t recv_chk_governed(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	struct iovec iov = {buf, len};
	ssize_t n;

	if (fdt_tunnel(fd) && len <= buflen && read_direct(fd, buf, len, flags, &n)) {
		return n;
	}
	return recv_checked(fd, &iov, 1, real()->recv_chk(fd, buf, len, buflen, flags),
	                    peeking(flags));
}

static ssize_t recv_chk_route(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (__builtin_expect(!fdt_governed(fd), 1)) {
		return real_hot()->recv_chk(fd, buf, len, buflen, flags);
	}
	return recv_chk_governed(fd, buf, len, buflen, flags);
}

static ssize_t recvfrom_route(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
                              socklen_t *alen)
{
	struct iovec iov = {buf, len};

	if (!fdt_governed(fd)) {
		return real()->recvfrom(fd, buf, len, flags, addr, alen);
	}
	return recv_checked(fd, &iov, 1, real()->recvfrom(fd, buf, len, flags, addr, alen),
	                    peeking(flags));
}

static ssize_t recvfrom_chk_route(int fd, void *buf, size_t len, size_t buflen, int flags,
                                  struct sockaddr *addr, socklen_t *alen)
{
	struct iovec iov = {buf, len};

	if (!fdt_governed(fd)) {
		return real()->recvfrom_chk(fd, buf, len, buflen, flags, addr, alen);
	}
	return recv_checked(fd, &iov, 1,
	                    real()->recvfrom_chk(fd, buf, len, buflen, flags, addr, alen),
	                    peeking(flags));
}

/* Descriptors that arrive over SCM_RIGHTS are decided before their first byte
 * moves: a governed socket stays governed in the process that receives it. So
 * recvmsg and recvmmsg look at every descriptor's messages, governed or not
 * (io_each_passed_fd with decide_adopt). */
static ssize_t recvmsg_route(int fd, struct msghdr *msg, int flags)
{
	ssize_t n = real()->recvmsg(fd, msg, flags);

	if (n >= 0 && msg != NULL && msg->msg_controllen > 0) {
		io_each_passed_fd(msg, decide_adopt);
	}
	if (!fdt_governed(fd) || msg == NULL) {
		return n;
	}
	return recv_checked(fd, msg->msg_iov, msg->msg_iovlen, n, peeking(flags));
}

static int recvmmsg_route(int fd, struct mmsghdr *msgs, unsigned int vlen, int flags,
                          struct timespec *timeout)
{
	int n = real()->recvmmsg(fd, msgs, vlen, flags, timeout);
	int i;

	for (i = 0; i < n; i++) {
		if (msgs[i].msg_hdr.msg_controllen > 0) {
			io_each_passed_fd(&msgs[i].msg_hdr, decide_adopt);
		}
		if (fdt_governed(fd) &&
		    recv_checked(fd, msgs[i].msg_hdr.msg_iov, msgs[i].msg_hdr.msg_iovlen,
		                 msgs[i].msg_len, peeking(flags)) < 0) {
			return -1;
		}
	}
	return n;
}

SHIM_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	return read_route(fd, buf, len);
}

SHIM_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	return read_chk_route(fd, buf, len, buflen);
}

SHIM_EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
	return readv_route(fd, iov, iovcnt);
}

SHIM_EXPORT ssize_t preadv2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags)
{
	return preadv2_route(fd, iov, iovcnt, offset, flags);
}

SHIM_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	return recv_route(fd, buf, len, flags);
}

SHIM_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	return recv_chk_route(fd, buf, len, buflen, flags);
}

SHIM_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
                             socklen_t *alen)
{
	return recvfrom_route(fd, buf, len, flags, addr, alen);
}

SHIM_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
                                   struct sockaddr *addr, socklen_t *alen)
{
	return recvfrom_chk_route(fd, buf, len, buflen, flags, addr, alen);
}

SHIM_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	return recvmsg_route(fd, msg, flags);
}

SHIM_EXPORT int recvmmsg(int fd, struct mmsghdr *msgs, unsigned int vlen, int flags,
                         struct timespec *timeout)
{
	return recvmmsg_route(fd, msgs, vlen, flags, timeout);
}

/* glibc's exported aliases meet the same wrappers (tlsguard.8). */
SHIM_EXPORT ssize_t __read(int fd, void *buf, size_t len) __attribute__((alias("read")));
/* GLIBC_PRIVATE, but exported all the same: reachable with dlvsym. */
SHIM_EXPORT ssize_t __read_nocancel(int fd, void *buf, size_t len) __attribute__((alias("read")));
SHIM_EXPORT ssize_t preadv64v2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags)
    __attribute__((alias("preadv2")));
SHIM_EXPORT ssize_t __recv(int fd, void *buf, size_t len, int flags) __attribute__((alias("recv")));

/* The same wrappers under hidden names, for syscall.c (io.h). */
ssize_t sock_read(int fd, void *buf, size_t len) __attribute__((alias("read")));
ssize_t sock_readv(int fd, const struct iovec *iov, int iovcnt) __attribute__((alias("readv")));
ssize_t sock_preadv2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags)
    __attribute__((alias("preadv2")));
ssize_t sock_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
                      socklen_t *alen) __attribute__((alias("recvfrom")));
ssize_t sock_recvmsg(int fd, struct msghdr *msg, int flags) __attribute__((alias("recvmsg")));
int sock_recvmmsg(int fd, struct mmsghdr *msgs, unsigned int vlen, int flags,
                  struct timespec *timeout) __attribute__((alias("recvmmsg")));
