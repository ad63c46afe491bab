/*
 * Attempt: plaintext on a require_tls connection through
 * syscall(SYS_write), skipping the write() wrapper.
 *
 *   raw_syscall_write HOST PORT
 */
#include <sys/syscall.h>

#include "bypass.h"

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT");
	int fd = bp_connect(argv[1], port);

	return bp_report(syscall(SYS_write, fd, BP_PLAINTEXT, BP_PLAINTEXT_LEN));
}
