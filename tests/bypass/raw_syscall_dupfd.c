/*
 * Attempt: copy a require_tls connection's descriptor with
 * syscall(SYS_fcntl, fd, F_DUPFD, 0), skipping the fcntl() wrapper, and write
 * plaintext on the copy.
 *
 *   raw_syscall_dupfd HOST PORT
 */
#include <fcntl.h>
#include <sys/syscall.h>

#include "bypass.h"

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT");
	int fd = bp_connect(argv[1], port);
	long copy = syscall(SYS_fcntl, fd, F_DUPFD, 0);

	if (copy < 0) {
		printf("SETUP_FAILED F_DUPFD %s\n", strerrorname_np(errno));
		return 2;
	}
	return bp_report(write((int)copy, BP_PLAINTEXT, BP_PLAINTEXT_LEN));
}
