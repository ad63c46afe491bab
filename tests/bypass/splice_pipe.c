/*
 * Attempt: plaintext from a pipe into a require_tls socket with splice(2):
 * the kernel moves the pipe's pages, the socket's write path never runs.
 *
 *   splice_pipe HOST PORT
 */
#include <fcntl.h>

#include "bypass.h"

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT");
	int fd = bp_connect(argv[1], port);
	int p[2];

	if (pipe(p) < 0 ||
	    write(p[1], BP_PLAINTEXT, BP_PLAINTEXT_LEN) != (ssize_t)BP_PLAINTEXT_LEN) {
		return 2;
	}
	return bp_report(splice(p[0], NULL, fd, NULL, BP_PLAINTEXT_LEN, 0));
}
