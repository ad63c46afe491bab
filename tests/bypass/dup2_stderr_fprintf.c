/*
 * Attempt: make a require_tls socket the program's standard error (dup2
 * onto 2) and print to the unbuffered stderr stream: every fprintf is an
 * immediate write from inside libc.
 *
 *   dup2_stderr_fprintf HOST PORT
 */
#include "bypass.h"

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT");
	int fd = bp_connect(argv[1], port);
	int n, err;

	if (dup2(fd, STDERR_FILENO) < 0) {
		return 2;
	}
	errno = 0;
	n = fprintf(stderr, "%s", BP_PLAINTEXT);
	err = errno;
	if (n < 0) {
		printf("REFUSED %s\n", strerrorname_np(err));
		return 1;
	}
	printf("SENT %d\n", n);
	return 0;
}
