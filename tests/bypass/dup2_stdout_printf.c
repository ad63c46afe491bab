/*
 * Attempt: make a require_tls socket the program's standard output
 * (dup2 onto 1) and print through stdio. stdio writes with libc's internal
 * write, which no wrapper sees; the shim fences the stream instead.
 *
 *   dup2_stdout_printf HOST PORT
 *
 * The result line goes to the original standard output, kept on another
 * descriptor: "REFUSED <ERRNO>" when printf or fflush failed.
 */
#include "bypass.h"

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT");
	int fd = bp_connect(argv[1], port);
	int out = dup(STDOUT_FILENO);
	int n, flushed, err;

	if (out < 0 || dup2(fd, STDOUT_FILENO) < 0) {
		return 2;
	}
	errno = 0;
	n = printf("%s", BP_PLAINTEXT);
	flushed = fflush(stdout);
	err = errno;
	if (n < 0 || flushed == EOF) {
		dprintf(out, "REFUSED %s\n", strerrorname_np(err));
		return 1;
	}
	dprintf(out, "SENT %d\n", n);
	return 0;
}
