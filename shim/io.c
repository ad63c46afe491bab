/*
 * The data path: every call that moves bytes through a socket. An untracked
 * descriptor costs a table lookup and a branch before the real call; a governed
 * one has its bytes checked (guard.c) before they leave and after they arrive.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "conn_internal.h"
#include "guard.h"
#include "real.h"
#include "shim.h"

/* The body of every send wrapper on a governed descriptor: check the bytes, make
 * the real call, then advance the connection's stream by what was sent. */
#define GUARDED_SEND(fd, iov, iovcnt, call)                                                        \
	do {                                                                                       \
		struct conn *c_ = conn_acquire(fd);                                                \
		struct send_ticket t_;                                                             \
		ssize_t n_;                                                                        \
		if (c_ == NULL) {                                                                  \
			return call;                                                               \
		}                                                                                  \
		if (guard_send_check(fd, c_, iov, iovcnt, &t_) < 0) {                              \
			conn_release(c_);                                                          \
			return -1;                                                                 \
		}                                                                                  \
		n_ = call;                                                                         \
		if (n_ > 0) {                                                                      \
			int saved_ = errno;                                                        \
			guard_send_commit(c_, iov, iovcnt, (size_t)n_, &t_);                       \
			errno = saved_;                                                            \
		}                                                                                  \
		conn_release(c_);                                                                  \
		return n_;                                                                         \
	} while (0)

/* Receives through call, then checks what arrived. */
static ssize_t recv_checked(int fd, const struct iovec *iov, size_t iovcnt, ssize_t n, bool peek)
{
	struct conn *c;
	int saved = errno;

	if (n <= 0 || (c = conn_acquire(fd)) == NULL) {
		return n;
	}
	if (guard_recv_check(fd, c, iov, iovcnt, (size_t)n, peek) < 0) {
		conn_release(c);
		return -1;
	}
	conn_release(c);
	errno = saved;
	return n;
}

/* Each wrapper's governed path is out of line and cold, so the untracked path
 * is a test and a jump straight into libc (bench: at most +10 instructions). */
#define COLD __attribute__((noinline, cold))

static COLD ssize_t write_governed(int fd, const void *buf, size_t len)
{
	struct iovec iov = {(void *)buf, len};

	GUARDED_SEND(fd, &iov, 1, real()->write(fd, buf, len));
}

SHIM_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	if (__builtin_expect(fdt_governed(fd), 0)) {
		return write_governed(fd, buf, len);
	}
	return real_hot()->write(fd, buf, len);
}

SHIM_EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	if (!fdt_governed(fd) || iovcnt < 0) {
		return real()->writev(fd, iov, iovcnt);
	}
	GUARDED_SEND(fd, iov, (size_t)iovcnt, real()->writev(fd, iov, iovcnt));
}

/* On a socket pwritev fails with ESPIPE, but pwritev2 with offset -1 writes. */
SHIM_EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t offset)
{
	if (!fdt_governed(fd) || iovcnt < 0) {
		return real()->pwritev(fd, iov, iovcnt, offset);
	}
	GUARDED_SEND(fd, iov, (size_t)iovcnt, real()->pwritev(fd, iov, iovcnt, offset));
}

SHIM_EXPORT ssize_t pwritev2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags)
{
	if (!fdt_governed(fd) || iovcnt < 0) {
		return real()->pwritev2(fd, iov, iovcnt, offset, flags);
	}
	GUARDED_SEND(fd, iov, (size_t)iovcnt, real()->pwritev2(fd, iov, iovcnt, offset, flags));
}

SHIM_EXPORT ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt, off_t offset)
    __attribute__((alias("pwritev")));
SHIM_EXPORT ssize_t pwritev64v2(int fd, const struct iovec *iov, int iovcnt, off_t offset,
                                int flags) __attribute__((alias("pwritev2")));

static COLD ssize_t send_governed(int fd, const void *buf, size_t len, int flags)
{
	struct iovec iov = {(void *)buf, len};

	GUARDED_SEND(fd, &iov, 1, real()->send(fd, buf, len, flags));
}

SHIM_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	if (__builtin_expect(fdt_governed(fd), 0)) {
		return send_governed(fd, buf, len, flags);
	}
	return real_hot()->send(fd, buf, len, flags);
}

/* An address on a send: a datagram's destination, or a TCP connect (MSG_FASTOPEN,
 * or an unconnected socket) that the policy must see like connect(). */
static int check_destination(int fd, const struct sockaddr *addr, socklen_t len)
{
	if (addr == NULL || len == 0 || shim_busy) {
		return 0;
	}
	if (fdt_peek(fd) != NULL) {
		return 0; /* governed already: its peer was decided at connect */
	}
	return guard_outbound(fd, addr, len);
}

SHIM_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
                           const struct sockaddr *addr, socklen_t alen)
{
	struct iovec iov = {(void *)buf, len};

	if (addr == NULL && !fdt_governed(fd)) {
		return real()->sendto(fd, buf, len, flags, addr, alen);
	}
	if (check_destination(fd, addr, alen) < 0) {
		return -1;
	}
	GUARDED_SEND(fd, &iov, 1, real()->sendto(fd, buf, len, flags, addr, alen));
}

SHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (msg == NULL || (msg->msg_name == NULL && !fdt_governed(fd))) {
		return real()->sendmsg(fd, msg, flags);
	}
	if (check_destination(fd, msg->msg_name, msg->msg_namelen) < 0) {
		return -1;
	}
	GUARDED_SEND(fd, msg->msg_iov, msg->msg_iovlen, real()->sendmsg(fd, msg, flags));
}

/* Each message is decided in order; the call sends the ones before the first
 * refused one (as the kernel reports a partial sendmmsg). */
SHIM_EXPORT int sendmmsg(int fd, struct mmsghdr *msgs, unsigned int vlen, int flags)
{
	unsigned int i;
	ssize_t n;
	bool addressed = false;

	for (i = 0; msgs != NULL && i < vlen; i++) {
		addressed = addressed || msgs[i].msg_hdr.msg_name != NULL;
	}
	if (msgs == NULL || (!addressed && !fdt_governed(fd))) {
		return real()->sendmmsg(fd, msgs, vlen, flags);
	}
	for (i = 0; i < vlen; i++) {
		n = sendmsg(fd, &msgs[i].msg_hdr, flags);
		if (n < 0) {
			return i > 0 ? (int)i : -1;
		}
		msgs[i].msg_len = (unsigned int)n;
	}
	return (int)vlen;
}

/* sendfile and splice hand the kernel bytes the shim never sees: on a socket
 * that must carry TLS they can only be plaintext (kernel TLS is refused), so
 * they are refused there (guard_opaque). */
SHIM_EXPORT ssize_t sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
	if (fdt_governed(out_fd) && guard_opaque(out_fd, "sendfile") < 0) {
		return -1;
	}
	return real()->sendfile(out_fd, in_fd, offset, count);
}

SHIM_EXPORT ssize_t sendfile64(int out_fd, int in_fd, off_t *offset, size_t count)
{
	if (fdt_governed(out_fd) && guard_opaque(out_fd, "sendfile") < 0) {
		return -1;
	}
	return real()->sendfile64(out_fd, in_fd, offset, count);
}

SHIM_EXPORT ssize_t splice(int fd_in, off_t *off_in, int fd_out, off_t *off_out, size_t len,
                           unsigned int flags)
{
	if ((fdt_governed(fd_out) && guard_opaque(fd_out, "splice") < 0) ||
	    (fdt_governed(fd_in) && guard_opaque(fd_in, "splice") < 0)) {
		return -1;
	}
	return real()->splice(fd_in, off_in, fd_out, off_out, len, flags);
}

static COLD ssize_t read_governed(int fd, void *buf, size_t len)
{
	struct iovec iov = {buf, len};

	return recv_checked(fd, &iov, 1, real()->read(fd, buf, len), false);
}

SHIM_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	if (__builtin_expect(fdt_governed(fd), 0)) {
		return read_governed(fd, buf, len);
	}
	return real_hot()->read(fd, buf, len);
}

/* _FORTIFY_SOURCE builds (all of Debian) call the checking variants. */
static COLD ssize_t read_chk_governed(int fd, void *buf, size_t len, size_t buflen)
{
	struct iovec iov = {buf, len};

	return recv_checked(fd, &iov, 1, real()->read_chk(fd, buf, len, buflen), false);
}

SHIM_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (__builtin_expect(fdt_governed(fd), 0)) {
		return read_chk_governed(fd, buf, len, buflen);
	}
	return real_hot()->read_chk(fd, buf, len, buflen);
}

SHIM_EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
	if (!fdt_governed(fd) || iovcnt < 0) {
		return real()->readv(fd, iov, iovcnt);
	}
	return recv_checked(fd, iov, (size_t)iovcnt, real()->readv(fd, iov, iovcnt), false);
}

SHIM_EXPORT ssize_t preadv2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags)
{
	if (!fdt_governed(fd) || iovcnt < 0) {
		return real()->preadv2(fd, iov, iovcnt, offset, flags);
	}
	return recv_checked(fd, iov, (size_t)iovcnt,
	                    real()->preadv2(fd, iov, iovcnt, offset, flags), false);
}

SHIM_EXPORT ssize_t preadv64v2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags)
    __attribute__((alias("preadv2")));

static COLD ssize_t recv_governed(int fd, void *buf, size_t len, int flags)
{
	struct iovec iov = {buf, len};

	return recv_checked(fd, &iov, 1, real()->recv(fd, buf, len, flags),
	                    (flags & MSG_PEEK) != 0);
}

SHIM_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	if (__builtin_expect(fdt_governed(fd), 0)) {
		return recv_governed(fd, buf, len, flags);
	}
	return real_hot()->recv(fd, buf, len, flags);
}

static COLD ssize_t recv_chk_governed(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	struct iovec iov = {buf, len};

	return recv_checked(fd, &iov, 1, real()->recv_chk(fd, buf, len, buflen, flags),
	                    (flags & MSG_PEEK) != 0);
}

SHIM_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (__builtin_expect(fdt_governed(fd), 0)) {
		return recv_chk_governed(fd, buf, len, buflen, flags);
	}
	return real_hot()->recv_chk(fd, buf, len, buflen, flags);
}

SHIM_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
                             socklen_t *alen)
{
	struct iovec iov = {buf, len};

	if (!fdt_governed(fd)) {
		return real()->recvfrom(fd, buf, len, flags, addr, alen);
	}
	return recv_checked(fd, &iov, 1, real()->recvfrom(fd, buf, len, flags, addr, alen),
	                    (flags & MSG_PEEK) != 0);
}

SHIM_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
                                   struct sockaddr *addr, socklen_t *alen)
{
	struct iovec iov = {buf, len};

	if (!fdt_governed(fd)) {
		return real()->recvfrom_chk(fd, buf, len, buflen, flags, addr, alen);
	}
	return recv_checked(fd, &iov, 1,
	                    real()->recvfrom_chk(fd, buf, len, buflen, flags, addr, alen),
	                    (flags & MSG_PEEK) != 0);
}

/* Descriptors that arrive over SCM_RIGHTS are decided before their first byte
 * moves: a governed socket stays governed in the process that receives it. */
static void adopt_passed_fds(const struct msghdr *msg)
{
	struct cmsghdr *cm;
	size_t i, count;
	int fd;

	for (cm = CMSG_FIRSTHDR((struct msghdr *)msg); cm != NULL;
	     cm = CMSG_NXTHDR((struct msghdr *)msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
			continue;
		}
		count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < count; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			guard_adopt(fd);
		}
	}
}

SHIM_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	ssize_t n = real()->recvmsg(fd, msg, flags);

	if (n >= 0 && msg != NULL && msg->msg_controllen > 0) {
		adopt_passed_fds(msg);
	}
	if (!fdt_governed(fd) || msg == NULL) {
		return n;
	}
	return recv_checked(fd, msg->msg_iov, msg->msg_iovlen, n, (flags & MSG_PEEK) != 0);
}

SHIM_EXPORT int recvmmsg(int fd, struct mmsghdr *msgs, unsigned int vlen, int flags,
                         struct timespec *timeout)
{
	int n = real()->recvmmsg(fd, msgs, vlen, flags, timeout);
	int i;

	for (i = 0; i < n; i++) {
		if (msgs[i].msg_hdr.msg_controllen > 0) {
			adopt_passed_fds(&msgs[i].msg_hdr);
		}
		if (fdt_governed(fd) &&
		    recv_checked(fd, msgs[i].msg_hdr.msg_iov, msgs[i].msg_hdr.msg_iovlen,
		                 msgs[i].msg_len, (flags & MSG_PEEK) != 0) < 0) {
			return -1;
		}
	}
	return n;
}
