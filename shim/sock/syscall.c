/*
 * syscall(): a program (or a library such as liburing's fallback path) can reach
 * the kernel through libc's generic syscall() and skip every named wrapper. The
 * socket-related numbers are routed through the same wrappers, so the decision
 * is the one the named call would get; io_uring_setup is refused under enforce
 * (ENOSYS, as on a kernel without io_uring: programs fall back to plain calls)
 * because its submissions would bypass the shim entirely. Inline `syscall`
 * instructions cannot be seen from user space: tlsguard.8 says so.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdarg.h>
#include <sys/pidfd.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/audit.h"
#include "core/conn_internal.h"
#include "decide.h"
#include "bind/real.h"
#include "shim.h"

static long refuse_io_uring(void)
{
	struct audit_event ev = {
	    .kind = AUDIT_POLICY,
	    .rule = POLICY_RULE_DEFAULT,
	    .reason = "denied",
	    .detail = "io_uring_setup bypasses the socket checks",
	};
	enum policy_mode mode = shim_mode();

	if (mode == POLICY_MODE_OFF) {
		return -2;
	}
	ev.verdict = mode == POLICY_MODE_ENFORCE ? AUDIT_VERDICT_BLOCK : AUDIT_VERDICT_AUDIT;
	audit_emit(&ev);
	if (mode != POLICY_MODE_ENFORCE) {
		return -2;
	}
	errno = ENOSYS;
	return -1;
}

/* Linux AIO (io_submit(2)) reads and writes sockets too, behind every
 * wrapper: a submission with an iocb that moves bytes on a governed
 * descriptor is refused whole, as sendfile is (nothing was queued); -2 lets
 * the real call run. The iocbs are read only once some descriptor was ever
 * governed: disk AIO in a process without governed sockets is never looked
 * at. */
static long submit_aio(long nr_iocbs, struct iocb **iocbs)
{
	long i;
	int fd;

	if (!atomic_load_explicit(&fdt_in_use, memory_order_acquire) || iocbs == NULL) {
		return -2;
	}
	for (i = 0; i < nr_iocbs; i++) {
		if (iocbs[i] == NULL) {
			continue;
		}
		fd = (int)iocbs[i]->aio_fildes;
		switch (iocbs[i]->aio_lio_opcode) {
		case IOCB_CMD_PREAD:
		case IOCB_CMD_PWRITE:
		case IOCB_CMD_PREADV:
		case IOCB_CMD_PWRITEV:
			if (fdt_governed(fd) && decide_opaque(fd, "io_submit") < 0) {
				return -1;
			}
			break;
		default:
			break;
		}
	}
	return -2;
}

/* The named wrapper for a socket-related number; -2 when there is none. */
static long routed(long nr, long a[6])
{
	long rc;

	switch (nr) {
	case SYS_connect:
		return connect((int)a[0], (const struct sockaddr *)a[1], (socklen_t)a[2]);
	case SYS_accept:
		return accept((int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2]);
	case SYS_accept4:
		return accept4((int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2], (int)a[3]);
	case SYS_socket:
		return socket((int)a[0], (int)a[1], (int)a[2]);
	case SYS_close:
		return close((int)a[0]);
	case SYS_dup:
		return dup((int)a[0]);
	case SYS_dup2:
		return dup2((int)a[0], (int)a[1]);
	case SYS_dup3:
		return dup3((int)a[0], (int)a[1], (int)a[2]);
	case SYS_pidfd_getfd:
		return pidfd_getfd((int)a[0], (int)a[1], (unsigned int)a[2]);
	case SYS_fcntl:
		return fcntl((int)a[0], (int)a[1], a[2]);
	case SYS_close_range:
		return close_range((unsigned int)a[0], (unsigned int)a[1], (int)a[2]);
	case SYS_socketpair:
		return socketpair((int)a[0], (int)a[1], (int)a[2], (int *)a[3]);
	case SYS_setsockopt:
		return setsockopt((int)a[0], (int)a[1], (int)a[2], (const void *)a[3],
		                  (socklen_t)a[4]);
	case SYS_write:
		return write((int)a[0], (const void *)a[1], (size_t)a[2]);
	case SYS_writev:
		return writev((int)a[0], (const struct iovec *)a[1], (int)a[2]);
	case SYS_sendto:
		return sendto((int)a[0], (const void *)a[1], (size_t)a[2], (int)a[3],
		              (const struct sockaddr *)a[4], (socklen_t)a[5]);
	case SYS_sendmsg:
		return sendmsg((int)a[0], (const struct msghdr *)a[1], (int)a[2]);
	case SYS_sendmmsg:
		return sendmmsg((int)a[0], (struct mmsghdr *)a[1], (unsigned int)a[2], (int)a[3]);
	case SYS_pwritev2: /* x86-64 passes the offset as (low, high): low is all of it */
		return pwritev2((int)a[0], (const struct iovec *)a[1], (int)a[2], (off_t)a[3],
		                (int)a[5]);
	case SYS_sendfile:
		return sendfile((int)a[0], (int)a[1], (off_t *)a[2], (size_t)a[3]);
	case SYS_splice:
		return splice((int)a[0], (off_t *)a[1], (int)a[2], (off_t *)a[3], (size_t)a[4],
		              (unsigned int)a[5]);
	case SYS_read:
		return read((int)a[0], (void *)a[1], (size_t)a[2]);
	case SYS_readv:
		return readv((int)a[0], (const struct iovec *)a[1], (int)a[2]);
	case SYS_recvfrom:
		return recvfrom((int)a[0], (void *)a[1], (size_t)a[2], (int)a[3],
		                (struct sockaddr *)a[4], (socklen_t *)a[5]);
	case SYS_recvmsg:
		return recvmsg((int)a[0], (struct msghdr *)a[1], (int)a[2]);
	case SYS_recvmmsg:
		return recvmmsg((int)a[0], (struct mmsghdr *)a[1], (unsigned int)a[2], (int)a[3],
		                (struct timespec *)a[4]);
	case SYS_preadv2:
		return preadv2((int)a[0], (const struct iovec *)a[1], (int)a[2], (off_t)a[3],
		               (int)a[5]);
	case SYS_execve: /* the child keeps the shim and its governed sockets */
		return execve((const char *)a[0], (char *const *)a[1], (char *const *)a[2]);
	case SYS_execveat:
		return execveat((int)a[0], (const char *)a[1], (char *const *)a[2],
		                (char *const *)a[3], (int)a[4]);
	case SYS_io_submit:
		return submit_aio(a[1], (struct iocb **)a[2]);
	case SYS_io_uring_setup:
		rc = refuse_io_uring();
		return rc;
	default:
		return -2;
	}
}

SHIM_EXPORT long syscall(long nr, ...)
{
	long a[6], rc;
	va_list ap;
	int i;

	va_start(ap, nr);
	for (i = 0; i < 6; i++) {
		a[i] = va_arg(ap, long);
	}
	va_end(ap);
	if (!shim_busy) {
		rc = routed(nr, a);
		if (rc != -2) {
			return rc;
		}
	}
	return real()->syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
