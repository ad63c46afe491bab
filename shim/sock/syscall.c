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
#include <linux/aio_abi.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/audit.h"
#include "core/conn_internal.h"
#include "decide.h"
#include "bind/real.h"
#include "io.h"
#include "shim.h"

/* What syscall() does with a number: the shim's wrapper for it answered, or
 * the real syscall() is to be made. */
enum syscall_route {
	SYSCALL_ANSWERED, /* *rc is the call's result */
	SYSCALL_REAL,     /* no wrapper for it, or the wrapper lets it through */
};

/* io_uring_setup under enforce: refused with ENOSYS, as on a kernel without
 * io_uring; in audit mode recorded and let through. */
static enum syscall_route refuse_io_uring(long *rc)
{
	struct audit_event ev = {
	    .kind = AUDIT_POLICY,
	    .rule = POLICY_RULE_DEFAULT,
	    .reason = "denied",
	    .detail = "io_uring_setup bypasses the socket checks",
	};
	enum policy_mode mode = shim_mode();

	if (mode == POLICY_MODE_OFF) {
		return SYSCALL_REAL;
	}
	ev.verdict = mode == POLICY_MODE_ENFORCE ? AUDIT_VERDICT_BLOCK : AUDIT_VERDICT_AUDIT;
	audit_emit(&ev);
	if (mode != POLICY_MODE_ENFORCE) {
		return SYSCALL_REAL;
	}
	errno = ENOSYS;
	*rc = -1;
	return SYSCALL_ANSWERED;
}

/* Linux AIO (io_submit(2)) reads and writes sockets too, behind every
 * wrapper: a submission with an iocb that moves bytes on a governed
 * descriptor is refused whole, as sendfile is (nothing was queued). The iocbs
 * are read only once some descriptor was ever governed: disk AIO in a process
 * without governed sockets is never looked at. */
static enum syscall_route submit_aio(long nr_iocbs, struct iocb **iocbs, long *rc)
{
	long i;
	int fd;

	if (!atomic_load_explicit(&fdt_in_use, memory_order_acquire) || iocbs == NULL) {
		return SYSCALL_REAL;
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
				*rc = -1;
				return SYSCALL_ANSWERED;
			}
			break;
		default:
			break;
		}
	}
	return SYSCALL_REAL;
}

typedef int execve_fn(const char *, char *const[], char *const[]);
typedef int execveat_fn(int, const char *, char *const[], char *const[], int);

/* The exec wrappers live in exec/ and have no hidden name: they are found in
 * the shim's own symbol table (real_shim_export), never through the global
 * lookup of an interposed name. The child keeps the shim and its governed
 * sockets. Not found (cannot happen: the export map names them): refused. */
static long exec_routed(long nr, const long a[6])
{
	execveat_fn *at;
	execve_fn *ve;

	if (nr == SYS_execve && (ve = (execve_fn *)real_shim_export("execve")) != NULL) {
		return ve((const char *)a[0], (char *const *)a[1], (char *const *)a[2]);
	}
	if (nr == SYS_execveat && (at = (execveat_fn *)real_shim_export("execveat")) != NULL) {
		return at((int)a[0], (const char *)a[1], (char *const *)a[2], (char *const *)a[3],
		          (int)a[4]);
	}
	errno = ENOSYS;
	return -1;
}

/* The shim's own wrapper for a socket-related number (io.h). */
static enum syscall_route routed(long nr, const long a[6], long *rc)
{
	switch (nr) {
	case SYS_connect:
		*rc = sock_connect((int)a[0], (const struct sockaddr *)a[1], (socklen_t)a[2]);
		break;
	case SYS_accept:
		*rc = sock_accept((int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2]);
		break;
	case SYS_accept4:
		*rc =
		    sock_accept4((int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2], (int)a[3]);
		break;
	case SYS_socket:
		*rc = sock_socket((int)a[0], (int)a[1], (int)a[2]);
		break;
	case SYS_close:
		*rc = sock_close((int)a[0]);
		break;
	case SYS_dup:
		*rc = sock_dup((int)a[0]);
		break;
	case SYS_dup2:
		*rc = sock_dup2((int)a[0], (int)a[1]);
		break;
	case SYS_dup3:
		*rc = sock_dup3((int)a[0], (int)a[1], (int)a[2]);
		break;
	case SYS_pidfd_getfd:
		*rc = sock_pidfd_getfd((int)a[0], (int)a[1], (unsigned int)a[2]);
		break;
	case SYS_fcntl:
		*rc = sock_fcntl((int)a[0], (int)a[1], a[2]);
		break;
	case SYS_close_range:
		*rc = sock_close_range((unsigned int)a[0], (unsigned int)a[1], (int)a[2]);
		break;
	case SYS_socketpair:
		*rc = sock_socketpair((int)a[0], (int)a[1], (int)a[2], (int *)a[3]);
		break;
	case SYS_setsockopt:
		*rc = sock_setsockopt((int)a[0], (int)a[1], (int)a[2], (const void *)a[3],
		                      (socklen_t)a[4]);
		break;
	case SYS_shutdown:
		*rc = sock_shutdown((int)a[0], (int)a[1]);
		break;
	case SYS_write:
		*rc = sock_write((int)a[0], (const void *)a[1], (size_t)a[2]);
		break;
	case SYS_writev:
		*rc = sock_writev((int)a[0], (const struct iovec *)a[1], (int)a[2]);
		break;
	case SYS_sendto:
		*rc = sock_sendto((int)a[0], (const void *)a[1], (size_t)a[2], (int)a[3],
		                  (const struct sockaddr *)a[4], (socklen_t)a[5]);
		break;
	case SYS_sendmsg:
		*rc = sock_sendmsg((int)a[0], (const struct msghdr *)a[1], (int)a[2]);
		break;
	case SYS_sendmmsg:
		*rc =
		    sock_sendmmsg((int)a[0], (struct mmsghdr *)a[1], (unsigned int)a[2], (int)a[3]);
		break;
	case SYS_pwritev2: /* x86-64 passes the offset as (low, high): low is all of it */
		*rc = sock_pwritev2((int)a[0], (const struct iovec *)a[1], (int)a[2], (off_t)a[3],
		                    (int)a[5]);
		break;
	case SYS_sendfile:
		*rc = sock_sendfile((int)a[0], (int)a[1], (off_t *)a[2], (size_t)a[3]);
		break;
	case SYS_splice:
		*rc = sock_splice((int)a[0], (off_t *)a[1], (int)a[2], (off_t *)a[3], (size_t)a[4],
		                  (unsigned int)a[5]);
		break;
	case SYS_read:
		*rc = sock_read((int)a[0], (void *)a[1], (size_t)a[2]);
		break;
	case SYS_readv:
		*rc = sock_readv((int)a[0], (const struct iovec *)a[1], (int)a[2]);
		break;
	case SYS_recvfrom:
		*rc = sock_recvfrom((int)a[0], (void *)a[1], (size_t)a[2], (int)a[3],
		                    (struct sockaddr *)a[4], (socklen_t *)a[5]);
		break;
	case SYS_recvmsg:
		*rc = sock_recvmsg((int)a[0], (struct msghdr *)a[1], (int)a[2]);
		break;
	case SYS_recvmmsg:
		*rc = sock_recvmmsg((int)a[0], (struct mmsghdr *)a[1], (unsigned int)a[2],
		                    (int)a[3], (struct timespec *)a[4]);
		break;
	case SYS_preadv2:
		*rc = sock_preadv2((int)a[0], (const struct iovec *)a[1], (int)a[2], (off_t)a[3],
		                   (int)a[5]);
		break;
	case SYS_execve:
	case SYS_execveat:
		*rc = exec_routed(nr, a);
		break;
	case SYS_io_submit:
		return submit_aio(a[1], (struct iocb **)a[2], rc);
	case SYS_io_uring_setup:
		return refuse_io_uring(rc);
	default:
		return SYSCALL_REAL;
	}
	return SYSCALL_ANSWERED;
}

/* Not while the shim itself runs (shim_busy, shim.h): a routed call could
 * reach the decision, which would load the policy again. */
static long syscall_route(long nr, const long a[6])
{
	long rc;

	if (!shim_busy && routed(nr, a, &rc) == SYSCALL_ANSWERED) {
		return rc;
	}
	return real()->syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

SHIM_EXPORT long syscall(long nr, ...)
{
	long a[6];
	va_list ap;

	va_start(ap, nr);
	real_syscall_args(&ap, a);
	va_end(ap);
	return syscall_route(nr, a);
}
