/*
 * Attempt: plaintext on a require_tls connection through
 * syscall(SYS_sendto), skipping the send()/sendto() wrappers.
 *
 *   raw_syscall_sendto HOST PORT
 */
#include <sys/syscall.h>

#include "bypass.h"

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT");
	int fd = bp_connect(argv[1], port);

	return bp_report(syscall(SYS_sendto, fd, BP_PLAINTEXT, BP_PLAINTEXT_LEN, 0, NULL, 0));
}
