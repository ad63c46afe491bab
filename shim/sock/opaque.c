/*
 * The calls that move bytes the shim never sees: sendfile and splice hand the
 * kernel a file's bytes, POSIX AIO (aio(7)) runs the transfer on a libc
 * thread behind every wrapper. On a socket that must carry TLS they can only
 * be plaintext (kernel TLS is refused, setsockopt in fd.c), so on a governed
 * descriptor they are refused (decide_opaque: EACCES and an event).
 */
#include <aio.h>
#include <sys/sendfile.h>

#include "bind/real.h"
#include "core/conn_internal.h"
#include "decide.h"
#include "io.h"
#include "shim.h"

static ssize_t sendfile_route(int out_fd, int in_fd, off_t *offset, size_t count)
{
	if (fdt_governed(out_fd) && decide_opaque(out_fd, "sendfile") < 0) {
		return -1;
	}
	return real()->sendfile(out_fd, in_fd, offset, count);
}

static ssize_t sendfile64_route(int out_fd, int in_fd, off_t *offset, size_t count)
{
	if (fdt_governed(out_fd) && decide_opaque(out_fd, "sendfile") < 0) {
		return -1;
	}
	return real()->sendfile64(out_fd, in_fd, offset, count);
}

static ssize_t splice_route(int fd_in, off_t *off_in, int fd_out, off_t *off_out, size_t len,
                            unsigned int flags)
{
	if ((fdt_governed(fd_out) && decide_opaque(fd_out, "splice") < 0) ||
	    (fdt_governed(fd_in) && decide_opaque(fd_in, "splice") < 0)) {
		return -1;
	}
	return real()->splice(fd_in, off_in, fd_out, off_out, len, flags);
}

/* 0 when the request may be queued: not on a governed descriptor. */
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

/* A list with one refused request is refused whole: nothing was queued. */
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

SHIM_EXPORT ssize_t sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
	return sendfile_route(out_fd, in_fd, offset, count);
}

SHIM_EXPORT ssize_t sendfile64(int out_fd, int in_fd, off_t *offset, size_t count)
{
	return sendfile64_route(out_fd, in_fd, offset, count);
}

SHIM_EXPORT ssize_t splice(int fd_in, off_t *off_in, int fd_out, off_t *off_out, size_t len,
                           unsigned int flags)
{
	return splice_route(fd_in, off_in, fd_out, off_out, len, flags);
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

/* The same wrappers under hidden names, for syscall.c (io.h). */
ssize_t sock_sendfile(int out_fd, int in_fd, off_t *offset, size_t count) __THROW
    __attribute__((alias("sendfile")));
ssize_t sock_splice(int fd_in, off_t *off_in, int fd_out, off_t *off_out, size_t len,
                    unsigned int flags) __attribute__((alias("splice")));
