/*
 * The data path: every call that moves bytes through a socket. An untracked
 * descriptor costs a table lookup and a branch before the real call; a governed
 * one has its bytes checked (decide.h) before they leave and after they arrive.
 */
#include <aio.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "core/conn_internal.h"
#include "decide.h"
#include "io.h"
#include "bind/real.h"
#include "shim.h"

/* How a send wrapper makes its real call, so that one path can make it with
 * either the program's buffers or the shim's private copy of them. */
enum send_kind {
	SEND_WRITE,
	SEND_WRITEV,
	SEND_PWRITEV,
	SEND_PWRITEV2,
	SEND_SEND,
	SEND_SENDTO,
	SEND_SENDMSG,
};

struct send_call {
	enum send_kind kind;
	int flags;
	off_t offset;
	const struct sockaddr *addr;
	socklen_t alen;
	const struct msghdr *msg;
};

static ssize_t send_call_run(int fd, const struct send_call *sc, const struct iovec *iov,
                             size_t iovcnt)
{
	struct msghdr m;

	switch (sc->kind) {
	case SEND_WRITE:
		return real()->write(fd, iov[0].iov_base, iov[0].iov_len);
	case SEND_WRITEV:
		return real()->writev(fd, iov, (int)iovcnt);
	case SEND_PWRITEV:
		return real()->pwritev(fd, iov, (int)iovcnt, sc->offset);
	case SEND_PWRITEV2:
		return real()->pwritev2(fd, iov, (int)iovcnt, sc->offset, sc->flags);
	case SEND_SEND:
		return real()->send(fd, iov[0].iov_base, iov[0].iov_len, sc->flags);
	case SEND_SENDTO:
		return real()->sendto(fd, iov[0].iov_base, iov[0].iov_len, sc->flags, sc->addr,
		                      sc->alen);
	case SEND_SENDMSG:
		m = *sc->msg;
		m.msg_iov = (struct iovec *)iov;
		m.msg_iovlen = iovcnt;
		return real()->sendmsg(fd, &m, sc->flags);
	default:
		errno = EINVAL;
		return -1;
	}
}

/* While a connection is still being classified, the bytes judged must be the
 * bytes sent: another thread of the program could rewrite its buffer between
 * the check and the kernel's copy. The call then sends from a private copy of
 * at most this many bytes; a longer write returns short, as write(2) may on a
 * stream socket, and TLS libraries write the rest with the next call. A
 * ClientHello fits. */
#define SEND_COPY_MAX 8192

static size_t gather(const struct iovec *iov, size_t iovcnt, uint8_t *to, size_t room)
{
	size_t i, take, n = 0;

	for (i = 0; i < iovcnt && n < room; i++) {
		take = iov[i].iov_len < room - n ? iov[i].iov_len : room - n;
		memcpy(to + n, iov[i].iov_base, take);
		n += take;
	}
	return n;
}

/* Every send wrapper on a governed descriptor: check the bytes, make the real
 * call, then advance the connection's stream by what was sent. */
static __attribute__((noinline)) ssize_t guarded_send(int fd, const struct iovec *iov,
                                                      size_t iovcnt, const struct send_call *sc)
{
	uint8_t copy[SEND_COPY_MAX];
	struct conn *c = conn_acquire(fd);
	struct send_ticket t;
	struct iovec priv;
	ssize_t n;
	int saved;

	if (c == NULL) {
		return send_call_run(fd, sc, iov, iovcnt);
	}
	if (decide_send_classifying(c)) {
		priv.iov_base = copy;
		priv.iov_len = gather(iov, iovcnt, copy, sizeof(copy));
		iov = &priv;
		iovcnt = 1;
	}
	if (decide_send_check(fd, c, iov, iovcnt, &t) < 0) {
		conn_release(c);
		return -1;
	}
	n = send_call_run(fd, sc, iov, iovcnt);
	if (n > 0) {
		saved = errno;
		decide_send_commit(c, iov, iovcnt, (size_t)n, &t);
		errno = saved;
	}
	conn_release(c);
	return n;
}

/* Receives through call, then checks what arrived. */
static ssize_t recv_checked(int fd, const struct iovec *iov, size_t iovcnt, ssize_t n, bool peek)
{
	struct conn *c;
	int saved = errno;

	if (n <= 0 || (c = conn_acquire(fd)) == NULL) {
		return n;
	}
	if (decide_recv_check(fd, c, iov, iovcnt, (size_t)n, peek) < 0) {
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
	const struct send_call sc = {.kind = SEND_WRITE};

	return guarded_send(fd, &iov, 1, &sc);
}

SHIM_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	if (__builtin_expect(fdt_governed(fd), 0)) {
		return write_governed(fd, buf, len);
	}
	return real_hot()->write(fd, buf, len);
}

/* glibc exports its own aliases of the calls (__write, __send, ...): a program
 * that links them directly must meet the same wrapper (tlsguard.8). */
SHIM_EXPORT ssize_t __write(int fd, const void *buf, size_t len) __attribute__((alias("write")));
/* GLIBC_PRIVATE, but exported all the same: reachable with dlvsym. */
SHIM_EXPORT ssize_t __write_nocancel(int fd, const void *buf, size_t len)
    __attribute__((alias("write")));

ssize_t io_write_governed(int fd, const void *buf, size_t len)
{
	return write_governed(fd, buf, len);
}

SHIM_EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	if (!fdt_governed(fd) || iovcnt < 0) {
		return real()->writev(fd, iov, iovcnt);
	}
	return guarded_send(fd, iov, (size_t)iovcnt, &(struct send_call){.kind = SEND_WRITEV});
}

/* On a socket pwritev fails with ESPIPE, but pwritev2 with offset -1 writes. */
SHIM_EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t offset)
{
	if (!fdt_governed(fd) || iovcnt < 0) {
		return real()->pwritev(fd, iov, iovcnt, offset);
	}
	return guarded_send(fd, iov, (size_t)iovcnt,
	                    &(struct send_call){.kind = SEND_PWRITEV, .offset = offset});
}

SHIM_EXPORT ssize_t pwritev2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags)
{
	if (!fdt_governed(fd) || iovcnt < 0) {
		return real()->pwritev2(fd, iov, iovcnt, offset, flags);
	}
	return guarded_send(
	    fd, iov, (size_t)iovcnt,
	    &(struct send_call){.kind = SEND_PWRITEV2, .offset = offset, .flags = flags});
}

SHIM_EXPORT ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt, off_t offset)
    __attribute__((alias("pwritev")));
SHIM_EXPORT ssize_t pwritev64v2(int fd, const struct iovec *iov, int iovcnt, off_t offset,
                                int flags) __attribute__((alias("pwritev2")));

static COLD ssize_t send_governed(int fd, const void *buf, size_t len, int flags)
{
	struct iovec iov = {(void *)buf, len};
	const struct send_call sc = {.kind = SEND_SEND, .flags = flags};

	return guarded_send(fd, &iov, 1, &sc);
}

SHIM_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	if (__builtin_expect(fdt_governed(fd), 0)) {
		return send_governed(fd, buf, len, flags);
	}
	return real_hot()->send(fd, buf, len, flags);
}

SHIM_EXPORT ssize_t __send(int fd, const void *buf, size_t len, int flags)
    __attribute__((alias("send")));

/* The socket's own address family (SO_DOMAIN), or -1. */
static int domain_of(int fd)
{
	int domain = -1;
	socklen_t len = sizeof(domain);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0) {
		return -1;
	}
	return domain;
}

/* An address on a send: a datagram's destination, or a TCP connect (MSG_FASTOPEN,
 * or an unconnected socket) that the policy must see like connect(). The
 * address is the shim's copy (see copy_destination). */
static int check_destination(int fd, struct sockaddr_storage *ss, socklen_t len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;

	if (len == 0 || shim_busy) {
		return 0;
	}
	if (fdt_peek(fd) != NULL) {
		return 0; /* governed already: its peer was decided at connect */
	}
	/* On an IPv4 socket the kernel sends to an AF_UNSPEC address as to AF_INET
	 * (udp_sendmsg and raw_sendmsg, net/ipv4): the socket's family decides
	 * what the address means, not the field the program filled in. */
	if (ss->ss_family == AF_UNSPEC && len >= sizeof(*v4) && domain_of(fd) == AF_INET) {
		v4->sin_family = AF_INET;
		if (decide_outbound(fd, (struct sockaddr *)v4, sizeof(*v4)) < 0) {
			return -1;
		}
		v4->sin_family = AF_UNSPEC; /* the kernel gets what the program passed */
		return 0;
	}
	return decide_outbound(fd, (struct sockaddr *)ss, len);
}

/* The destination the kernel will get is the one decided: the program's
 * address is copied once (another thread could change it after the check).
 * An address longer than any socket address is passed as it is: the kernel
 * refuses it (EINVAL). 0 when there is no address to decide. */
static socklen_t copy_destination(const void *addr, socklen_t len, struct sockaddr_storage *ss)
{
	if (addr == NULL || len == 0 || len > sizeof(*ss)) {
		return 0;
	}
	memcpy(ss, addr, len);
	return len;
}

SHIM_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
                           const struct sockaddr *addr, socklen_t alen)
{
	struct iovec iov = {(void *)buf, len};
	struct send_call sc = {.kind = SEND_SENDTO, .flags = flags, .addr = addr, .alen = alen};
	struct sockaddr_storage ss;
	socklen_t sslen;

	if (addr == NULL && !fdt_governed(fd)) {
		return real()->sendto(fd, buf, len, flags, addr, alen);
	}
	if ((sslen = copy_destination(addr, alen, &ss)) > 0) {
		if (check_destination(fd, &ss, sslen) < 0) {
			return -1;
		}
		sc.addr = (struct sockaddr *)&ss;
	}
	if (!fdt_governed(fd)) {
		return send_call_run(fd, &sc, &iov, 1);
	}
	return guarded_send(fd, &iov, 1, &sc);
}

SHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct send_call sc = {.kind = SEND_SENDMSG, .flags = flags, .msg = msg};
	struct sockaddr_storage ss;
	struct msghdr m;
	socklen_t sslen;

	if (msg == NULL || (msg->msg_name == NULL && !fdt_governed(fd))) {
		return real()->sendmsg(fd, msg, flags);
	}
	m = *msg;
	if ((sslen = copy_destination(m.msg_name, m.msg_namelen, &ss)) > 0) {
		if (check_destination(fd, &ss, sslen) < 0) {
			return -1;
		}
		m.msg_name = &ss;
	}
	sc.msg = &m;
	if (!fdt_governed(fd)) {
		return send_call_run(fd, &sc, m.msg_iov, m.msg_iovlen);
	}
	return guarded_send(fd, m.msg_iov, m.msg_iovlen, &sc);
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

SHIM_EXPORT int __sendmmsg(int fd, struct mmsghdr *msgs, unsigned int vlen, int flags)
    __attribute__((alias("sendmmsg")));

/* sendfile and splice hand the kernel bytes the shim never sees: on a socket
 * that must carry TLS they can only be plaintext (kernel TLS is refused), so
 * they are refused there (decide_opaque). */
SHIM_EXPORT ssize_t sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
	if (fdt_governed(out_fd) && decide_opaque(out_fd, "sendfile") < 0) {
		return -1;
	}
	return real()->sendfile(out_fd, in_fd, offset, count);
}

SHIM_EXPORT ssize_t sendfile64(int out_fd, int in_fd, off_t *offset, size_t count)
{
	if (fdt_governed(out_fd) && decide_opaque(out_fd, "sendfile") < 0) {
		return -1;
	}
	return real()->sendfile64(out_fd, in_fd, offset, count);
}

SHIM_EXPORT ssize_t splice(int fd_in, off_t *off_in, int fd_out, off_t *off_out, size_t len,
                           unsigned int flags)
{
	if ((fdt_governed(fd_out) && decide_opaque(fd_out, "splice") < 0) ||
	    (fdt_governed(fd_in) && decide_opaque(fd_in, "splice") < 0)) {
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

SHIM_EXPORT ssize_t __read(int fd, void *buf, size_t len) __attribute__((alias("read")));
SHIM_EXPORT ssize_t __read_nocancel(int fd, void *buf, size_t len) __attribute__((alias("read")));

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

SHIM_EXPORT ssize_t __recv(int fd, void *buf, size_t len, int flags) __attribute__((alias("recv")));

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
			decide_adopt(fd);
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

/* POSIX AIO (aio(7)) runs the transfer on a libc thread, behind every wrapper:
 * a read or write request on a governed socket is refused as sendfile is. */
static int aio_check(const struct aiocb *cb, const char *call)
{
	if (cb == NULL || !fdt_governed(cb->aio_fildes)) {
		return 0;
	}
	return decide_opaque(cb->aio_fildes, call);
}

static int aio_write_route(struct aiocb *cb)
{
	return aio_check(cb, "aio_write") < 0 ? -1 : real()->aio_write(cb);
}

static int aio_read_route(struct aiocb *cb)
{
	return aio_check(cb, "aio_read") < 0 ? -1 : real()->aio_read(cb);
}

static int lio_listio_route(int mode, struct aiocb *const list[], int nent, struct sigevent *sig)
{
	int i;

	for (i = 0; list != NULL && i < nent; i++) {
		if (list[i] != NULL && list[i]->aio_lio_opcode != LIO_NOP &&
		    aio_check(list[i], "lio_listio") < 0) {
			return -1;
		}
	}
	return real()->lio_listio(mode, list, nent, sig);
}

SHIM_EXPORT int aio_write(struct aiocb *cb)
{
	return aio_write_route(cb);
}

SHIM_EXPORT int aio_read(struct aiocb *cb)
{
	return aio_read_route(cb);
}

SHIM_EXPORT int lio_listio(int mode, struct aiocb *const list[], int nent, struct sigevent *sig)
{
	return lio_listio_route(mode, list, nent, sig);
}

/* struct aiocb64 is struct aiocb on LP64 targets (aio.h). */
SHIM_EXPORT int aio_write64(struct aiocb64 *cb)
{
	return aio_write_route((struct aiocb *)cb);
}

SHIM_EXPORT int aio_read64(struct aiocb64 *cb)
{
	return aio_read_route((struct aiocb *)cb);
}

SHIM_EXPORT int lio_listio64(int mode, struct aiocb64 *const list[], int nent, struct sigevent *sig)
{
	return lio_listio_route(mode, (struct aiocb *const *)list, nent, sig);
}
