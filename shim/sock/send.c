/*
 * The calls that send bytes: the write family (write, writev, pwritev,
 * pwritev2) and the send family (send, sendto, sendmsg, sendmmsg). An untracked
 * descriptor costs a table lookup and a branch before the real call; on a
 * governed one the bytes are checked (guard.c) before they leave, and a
 * destination given with the call is decided like connect().
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "bind/real.h"
#include "core/conn_internal.h"
#include "decide.h"
#include "io.h"
#include "shim.h"
#include "tunnel/tunnel.h"

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

/* sendto/sendmsg on a tunnel's pair end: TCP ignores the address given with
 * a connected socket (and MSG_FASTOPEN once connected), where a connected
 * AF_UNIX stream socket refuses it (EISCONN): both go. */
static ssize_t tunnel_send(int fd, const struct send_call *sc, const struct iovec *iov,
                           size_t iovcnt)
{
	struct send_call plain = *sc;
	struct msghdr m;

	plain.flags &= ~MSG_FASTOPEN;
	plain.addr = NULL;
	plain.alen = 0;
	if (sc->msg != NULL) {
		m = *sc->msg;
		m.msg_name = NULL;
		m.msg_namelen = 0;
		plain.msg = &m;
	}
	return send_call_run(fd, &plain, iov, iovcnt);
}

/* write() on a tunnel's TCP socket (conn.h, nosignal). */
static const struct send_call quiet_write = {.kind = SEND_SEND, .flags = MSG_NOSIGNAL};

/* The calls a tunnel's direct path takes (tunnel.h): one buffer, no flag
 * but these. */
static bool direct_kind(const struct send_call *sc, size_t iovcnt)
{
	return iovcnt == 1 && sc->addr == NULL && sc->msg == NULL &&
	       (sc->kind == SEND_WRITE || sc->kind == SEND_WRITEV ||
	        (sc->kind == SEND_SEND && (sc->flags & ~(MSG_NOSIGNAL | MSG_DONTWAIT)) == 0));
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
		goto pass; /* closed by another thread since the test */
	}
	if (decide_send_classifying(c)) {
		priv.iov_base = copy;
		priv.iov_len = gather(iov, iovcnt, copy, sizeof(copy));
		iov = &priv;
		iovcnt = 1;
	}
	if (decide_send_check(fd, c, iov, iovcnt, &t) < 0) {
		goto refuse;
	}
	if (c->tunnel != NULL && (sc->flags & MSG_OOB) != 0) {
		/* TLS has no urgent data, and the pair would keep the byte from
		 * the pump: refused rather than lost (tlsguard.8, The tunnel). */
		errno = EOPNOTSUPP;
		goto refuse;
	}
	if (c->tunnel != NULL && direct_kind(sc, iovcnt)) {
		n = tunnel_direct_write(c->tunnel, fd, iov[0].iov_base, iov[0].iov_len,
		                        sc->kind == SEND_SEND ? sc->flags : 0);
		if (n != TUNNEL_DIRECT_PASS) {
			conn_release(c);
			return n;
		}
	}
	if (c->tunnel != NULL) {
		tunnel_write_begin(c->tunnel);
		n = sc->addr != NULL || sc->msg != NULL ? tunnel_send(fd, sc, iov, iovcnt)
		                                        : send_call_run(fd, sc, iov, iovcnt);
		tunnel_write_end(c->tunnel);
		conn_release(c);
		return n;
	}
	if (c->nosignal && sc->kind == SEND_WRITE) {
		sc = &quiet_write;
	}
	n = send_call_run(fd, sc, iov, iovcnt);
	if (n > 0) {
		saved = errno;
		decide_send_commit(c, iov, iovcnt, (size_t)n, &t);
		errno = saved;
	}
	conn_release(c);
	return n;
pass:
	return send_call_run(fd, sc, iov, iovcnt);
refuse:
	conn_release(c);
	return -1;
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

ssize_t io_write_governed(int fd, const void *buf, size_t len)
{
	return write_governed(fd, buf, len);
}

static ssize_t write_route(int fd, const void *buf, size_t len)
{
	if (__builtin_expect(!fdt_governed(fd), 1)) {
		return real_hot()->write(fd, buf, len);
	}
	return write_governed(fd, buf, len);
}

static ssize_t writev_route(int fd, const struct iovec *iov, int iovcnt)
{
	if (!fdt_governed(fd) || iovcnt < 0) {
		return real()->writev(fd, iov, iovcnt);
	}
	return guarded_send(fd, iov, (size_t)iovcnt, &(struct send_call){.kind = SEND_WRITEV});
}

/* On a socket pwritev fails with ESPIPE, but pwritev2 with offset -1 writes. */
static ssize_t pwritev_route(int fd, const struct iovec *iov, int iovcnt, off_t offset)
{
	if (!fdt_governed(fd) || iovcnt < 0) {
		return real()->pwritev(fd, iov, iovcnt, offset);
	}
	return guarded_send(fd, iov, (size_t)iovcnt,
	                    &(struct send_call){.kind = SEND_PWRITEV, .offset = offset});
}

static ssize_t pwritev2_route(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags)
{
	if (!fdt_governed(fd) || iovcnt < 0) {
		return real()->pwritev2(fd, iov, iovcnt, offset, flags);
	}
	return guarded_send(
	    fd, iov, (size_t)iovcnt,
	    &(struct send_call){.kind = SEND_PWRITEV2, .offset = offset, .flags = flags});
}

static COLD ssize_t send_governed(int fd, const void *buf, size_t len, int flags)
{
	struct iovec iov = {(void *)buf, len};
	const struct send_call sc = {.kind = SEND_SEND, .flags = flags};

	return guarded_send(fd, &iov, 1, &sc);
}

static ssize_t send_route(int fd, const void *buf, size_t len, int flags)
{
	if (__builtin_expect(!fdt_governed(fd), 1)) {
		return real_hot()->send(fd, buf, len, flags);
	}
	return send_governed(fd, buf, len, flags);
}

/* The socket's own address family (SO_DOMAIN), or -1. */
static int domain_of(int fd)
{
	int domain = -1;
	socklen_t len = sizeof(domain);

	if (real()->getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0) {
		return -1;
	}
	return domain;
}

/* An address on a send: a datagram's destination, or a TCP connect (MSG_FASTOPEN,
 * or an unconnected socket) that the policy must see like connect(). The
 * address is the shim's copy (see copy_destination). Not while the shim itself
 * runs (shim_busy, shim.h): the decision would load the policy again. */
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

static ssize_t sendto_route(int fd, const void *buf, size_t len, int flags,
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
			goto refuse;
		}
		sc.addr = (struct sockaddr *)&ss;
	}
	if (!fdt_governed(fd)) {
		goto pass;
	}
	return guarded_send(fd, &iov, 1, &sc);
pass:
	return send_call_run(fd, &sc, &iov, 1);
refuse:
	return -1;
}

/* A tunnel's descriptor passed over SCM_RIGHTS is written where no count of
 * the shim's sees it (tunnel_mark_shared). */
static void note_passed_tunnel(int fd)
{
	struct conn *c = conn_acquire(fd);

	if (c != NULL && c->tunnel != NULL) {
		tunnel_mark_shared(c->tunnel);
	}
	conn_release(c);
}

static ssize_t sendmsg_route(int fd, const struct msghdr *msg, int flags)
{
	struct send_call sc = {.kind = SEND_SENDMSG, .flags = flags, .msg = msg};
	struct sockaddr_storage ss;
	struct msghdr m;
	socklen_t sslen;

	if (msg != NULL && msg->msg_control != NULL && msg->msg_controllen > 0) {
		io_each_passed_fd(msg, note_passed_tunnel);
	}
	if (msg == NULL || (msg->msg_name == NULL && !fdt_governed(fd))) {
		return real()->sendmsg(fd, msg, flags);
	}
	m = *msg;
	if ((sslen = copy_destination(m.msg_name, m.msg_namelen, &ss)) > 0) {
		if (check_destination(fd, &ss, sslen) < 0) {
			goto refuse;
		}
		m.msg_name = &ss;
	}
	sc.msg = &m;
	if (!fdt_governed(fd)) {
		goto pass;
	}
	return guarded_send(fd, m.msg_iov, m.msg_iovlen, &sc);
pass:
	return send_call_run(fd, &sc, m.msg_iov, m.msg_iovlen);
refuse:
	return -1;
}

/* Each message is decided in order; the call sends the ones before the first
 * refused one (as the kernel reports a partial sendmmsg). */
static int sendmmsg_route(int fd, struct mmsghdr *msgs, unsigned int vlen, int flags)
{
	unsigned int i;
	ssize_t n;
	bool addressed = false;

	for (i = 0; msgs != NULL && i < vlen; i++) {
		addressed = addressed || msgs[i].msg_hdr.msg_name != NULL;
		if (msgs[i].msg_hdr.msg_control != NULL && msgs[i].msg_hdr.msg_controllen > 0) {
			io_each_passed_fd(&msgs[i].msg_hdr, note_passed_tunnel);
		}
	}
	if (msgs == NULL || (!addressed && !fdt_governed(fd))) {
		return real()->sendmmsg(fd, msgs, vlen, flags);
	}
	for (i = 0; i < vlen; i++) {
		n = sendmsg_route(fd, &msgs[i].msg_hdr, flags);
		if (n < 0) {
			goto refused_at_i;
		}
		msgs[i].msg_len = (unsigned int)n;
	}
	return (int)vlen;
refused_at_i:
	return i > 0 ? (int)i : -1;
}

SHIM_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	return write_route(fd, buf, len);
}

SHIM_EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	return writev_route(fd, iov, iovcnt);
}

SHIM_EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t offset)
{
	return pwritev_route(fd, iov, iovcnt, offset);
}

SHIM_EXPORT ssize_t pwritev2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags)
{
	return pwritev2_route(fd, iov, iovcnt, offset, flags);
}

SHIM_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	return send_route(fd, buf, len, flags);
}

SHIM_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
                           const struct sockaddr *addr, socklen_t alen)
{
	return sendto_route(fd, buf, len, flags, addr, alen);
}

SHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	return sendmsg_route(fd, msg, flags);
}

SHIM_EXPORT int sendmmsg(int fd, struct mmsghdr *msgs, unsigned int vlen, int flags)
{
	return sendmmsg_route(fd, msgs, vlen, flags);
}

/* glibc exports its own aliases of the calls (__write, __send, ...): a program
 * that links them directly must meet the same wrapper (tlsguard.8). */
SHIM_EXPORT ssize_t __write(int fd, const void *buf, size_t len) __attribute__((alias("write")));
/* GLIBC_PRIVATE, but exported all the same: reachable with dlvsym. */
SHIM_EXPORT ssize_t __write_nocancel(int fd, const void *buf, size_t len)
    __attribute__((alias("write")));
SHIM_EXPORT ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt, off_t offset)
    __attribute__((alias("pwritev")));
SHIM_EXPORT ssize_t pwritev64v2(int fd, const struct iovec *iov, int iovcnt, off_t offset,
                                int flags) __attribute__((alias("pwritev2")));
SHIM_EXPORT ssize_t __send(int fd, const void *buf, size_t len, int flags)
    __attribute__((alias("send")));
SHIM_EXPORT int __sendmmsg(int fd, struct mmsghdr *msgs, unsigned int vlen, int flags)
    __attribute__((alias("sendmmsg")));

/* The same wrappers under hidden names, for syscall.c (io.h). */
ssize_t sock_write(int fd, const void *buf, size_t len) __attribute__((alias("write")));
ssize_t sock_writev(int fd, const struct iovec *iov, int iovcnt) __attribute__((alias("writev")));
ssize_t sock_pwritev2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags)
    __attribute__((alias("pwritev2")));
ssize_t sock_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr,
                    socklen_t alen) __attribute__((alias("sendto")));
ssize_t sock_sendmsg(int fd, const struct msghdr *msg, int flags) __attribute__((alias("sendmsg")));
int sock_sendmmsg(int fd, struct mmsghdr *msgs, unsigned int vlen, int flags)
    __attribute__((alias("sendmmsg")));
