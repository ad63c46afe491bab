/*
 * The data path's seams inside sock/: the governed write for printf.c, and the
 * shim's own wrappers under hidden names, which syscall.c routes the socket
 * numbers to. A hidden alias is bound inside the shim at link time, so the shim
 * reaches its own wrapper without calling an interposed name (a call to
 * write() from inside the shim would go through the global symbol lookup, to
 * whatever preload comes first).
 */
#ifndef TLSGUARD_IO_H
#define TLSGUARD_IO_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

/* write() on a descriptor that fdt_governed() says is governed. */
ssize_t io_write_governed(int fd, const void *buf, size_t len);

/* passed.c: each descriptor a message passes over SCM_RIGHTS, to each. */
void io_each_passed_fd(const struct msghdr *msg, void (*each)(int fd));

/* connect.c */
int sock_connect(int fd, const struct sockaddr *addr, socklen_t len);
int sock_accept(int fd, struct sockaddr *addr, socklen_t *len);
int sock_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
/* fd.c */
int sock_socket(int domain, int type, int protocol);
int sock_socketpair(int domain, int type, int protocol, int sv[2]);
int sock_close(int fd);
int sock_close_range(unsigned int first, unsigned int last, int flags);
int sock_dup(int fd);
int sock_dup2(int from, int to);
int sock_dup3(int from, int to, int flags);
int sock_pidfd_getfd(int pidfd, int targetfd, unsigned int flags);
int sock_fcntl(int fd, int cmd, ...);
int sock_setsockopt(int fd, int level, int name, const void *value, socklen_t len);
int sock_shutdown(int fd, int how);
/* send.c */
ssize_t sock_write(int fd, const void *buf, size_t len);
ssize_t sock_writev(int fd, const struct iovec *iov, int iovcnt);
ssize_t sock_pwritev2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags);
ssize_t sock_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr,
                    socklen_t alen);
ssize_t sock_sendmsg(int fd, const struct msghdr *msg, int flags);
int sock_sendmmsg(int fd, struct mmsghdr *msgs, unsigned int vlen, int flags);
/* recv.c */
ssize_t sock_read(int fd, void *buf, size_t len);
ssize_t sock_readv(int fd, const struct iovec *iov, int iovcnt);
ssize_t sock_preadv2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags);
ssize_t sock_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
                      socklen_t *alen);
ssize_t sock_recvmsg(int fd, struct msghdr *msg, int flags);
int sock_recvmmsg(int fd, struct mmsghdr *msgs, unsigned int vlen, int flags,
                  struct timespec *timeout);
/* opaque.c */
ssize_t sock_sendfile(int out_fd, int in_fd, off_t *offset, size_t count) __THROW;
ssize_t sock_splice(int fd_in, off_t *off_in, int fd_out, off_t *off_out, size_t len,
                    unsigned int flags);

#endif
