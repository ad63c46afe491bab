/*
 * Attempt: plaintext on a require_tls connection through
 * syscall(SYS_pwritev2, ..., offset -1), which writes to a socket, skipping
 * the pwritev2() wrapper.
 *
 *   raw_syscall_pwritev2 HOST PORT
 */
#include <sys/syscall.h>
#include <sys/uio.h>

#include "bypass.h"

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT");
	int fd = bp_connect(argv[1], port);
	struct iovec iov = {BP_PLAINTEXT, BP_PLAINTEXT_LEN};

	/* x86-64 passes the 64-bit offset as two longs (low, high): -1, -1 */
	return bp_report(syscall(SYS_pwritev2, fd, &iov, 1, -1L, -1L, 0));
}
