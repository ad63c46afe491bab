/*
 * The socket calls a tunnel's program descriptor answers as the TCP socket
 * would (tunnel.h): getpeername and getsockname from the addresses cached
 * when the tunnel was made; getsockopt and setsockopt split between the TCP
 * socket (TCP and IP levels, SO_KEEPALIVE, SO_LINGER, ...) and the pair (the
 * buffering and timeout options of the descriptor the program reads and
 * writes); SO_ERROR, SO_DOMAIN, SO_PROTOCOL answered; shutdown made on the
 * pair, the direct path ended. An untracked descriptor
 * costs a load and a branch before the real call.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bind/real.h"
#include "core/conn_internal.h"
#include "shim.h"
#include "tunnel_internal.h"

static int copy_addr(const struct sockaddr_storage *ss, socklen_t have, struct sockaddr *addr,
                     socklen_t *len)
{
	if (addr == NULL || len == NULL) {
		errno = EFAULT;
		return -1;
	}
	if (have == 0) {
		errno = ENOTCONN;
		return -1;
	}
	memcpy(addr, ss, *len < have ? *len : have);
	*len = have;
	return 0;
}

static int name_of(int fd, struct sockaddr *addr, socklen_t *len, bool peer)
{
	struct tunnel *t = tunnel_of_fd(fd);
	int rc;

	if (t == NULL) {
		return peer ? real()->getpeername(fd, addr, len)
		            : real()->getsockname(fd, addr, len);
	}
	rc = peer ? copy_addr(&t->sh->peer, t->sh->peer_len, addr, len)
	          : copy_addr(&t->sh->local, t->sh->local_len, addr, len);
	tunnel_unref(t);
	return rc;
}

/* The SOL_SOCKET options of the descriptor the program reads and writes. */
static bool pair_option(int level, int name)
{
	if (level != SOL_SOCKET) {
		return false;
	}
	switch (name) {
	case SO_RCVTIMEO_OLD:
	case SO_SNDTIMEO_OLD:
	case SO_RCVTIMEO_NEW:
	case SO_SNDTIMEO_NEW:
	case SO_RCVBUF:
	case SO_SNDBUF:
	case SO_RCVBUFFORCE:
	case SO_SNDBUFFORCE:
	case SO_RCVLOWAT:
	case SO_SNDLOWAT:
	case SO_TYPE:
	case SO_ACCEPTCONN:
	case SO_PASSCRED:
	case SO_PEEK_OFF:
		return true;
	default:
		return false;
	}
}

static int put_int(void *value, socklen_t *len, int v)
{
	if (value == NULL || len == NULL || *len < (socklen_t)sizeof(int)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(value, &v, sizeof(v));
	*len = sizeof(int);
	return 0;
}

/* The TCP socket's descriptor in this process, or -1 (a forked child, an
 * exec'd image: the pump's process has it). */
static int tcp_of(const struct tunnel *t)
{
	return t->pumped && t->owner == getpid() ? t->tcp : -1;
}

int tunnel_getsockopt(int fd, int level, int name, void *value, socklen_t *len, int *rc)
{
	struct tunnel *t = tunnel_of_fd(fd);
	int state;

	if (t == NULL) {
		return 0;
	}
	if (level == SOL_SOCKET && name == SO_ERROR) {
		state = tunnel_wait_outcome(t, TUNNEL_SO_ERROR_WAIT_MS);
		*rc = put_int(value, len,
		              state == TUNNEL_REFUSED
		                  ? atomic_load_explicit(&t->sh->error, memory_order_relaxed)
		                  : 0);
	} else if (level == SOL_SOCKET && name == SO_DOMAIN) {
		*rc = put_int(value, len, t->sh->peer.ss_family);
	} else if (level == SOL_SOCKET && name == SO_PROTOCOL) {
		*rc = put_int(value, len, IPPROTO_TCP);
	} else if (pair_option(level, name) || tcp_of(t) < 0) {
		*rc = real()->getsockopt(fd, level, name, value, len);
	} else {
		pthread_mutex_lock(&t->lock);
		*rc = real()->getsockopt(t->tcp >= 0 ? t->tcp : fd, level, name, value, len);
		pthread_mutex_unlock(&t->lock);
	}
	tunnel_unref(t);
	return 1;
}

int tunnel_setsockopt(int fd, int level, int name, const void *value, socklen_t len, int *rc)
{
	struct tunnel *t = tunnel_of_fd(fd);

	if (t == NULL) {
		return 0;
	}
	if (pair_option(level, name) || tcp_of(t) < 0) {
		*rc = real()->setsockopt(fd, level, name, value, len);
	} else {
		/* under the tunnel's lock, which the pump holds when it closes
		 * the socket (it releases it whenever it waits) */
		pthread_mutex_lock(&t->lock);
		*rc = real()->setsockopt(t->tcp >= 0 ? t->tcp : fd, level, name, value, len);
		pthread_mutex_unlock(&t->lock);
	}
	tunnel_unref(t);
	return 1;
}

int tunnel_shutdown(int fd, int how, int *rc)
{
	struct tunnel *t = tunnel_of_fd(fd);

	if (t == NULL) {
		return 0;
	}
	atomic_store_explicit(&t->sh->pair_only, true, memory_order_seq_cst);
	*rc = real()->shutdown(fd, how);
	tunnel_unref(t);
	return 1;
}

static int getsockopt_route(int fd, int level, int name, void *value, socklen_t *len)
{
	int rc;

	if (__builtin_expect(!fdt_governed(fd), 1)) {
		return real_hot()->getsockopt(fd, level, name, value, len);
	}
	if (tunnel_getsockopt(fd, level, name, value, len, &rc)) {
		return rc;
	}
	return real()->getsockopt(fd, level, name, value, len);
}

static int getpeername_route(int fd, struct sockaddr *addr, socklen_t *len)
{
	if (__builtin_expect(!fdt_governed(fd), 1)) {
		return real_hot()->getpeername(fd, addr, len);
	}
	return name_of(fd, addr, len, true);
}

static int getsockname_route(int fd, struct sockaddr *addr, socklen_t *len)
{
	if (__builtin_expect(!fdt_governed(fd), 1)) {
		return real_hot()->getsockname(fd, addr, len);
	}
	return name_of(fd, addr, len, false);
}

SHIM_EXPORT int getsockopt(int fd, int level, int name, void *value, socklen_t *len)
{
	return getsockopt_route(fd, level, name, value, len);
}

SHIM_EXPORT int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	return getpeername_route(fd, addr, len);
}

SHIM_EXPORT int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	return getsockname_route(fd, addr, len);
}
