/*
 * Attempt: connect in the parent, then write the plaintext from a forked
 * child, which shares the socket but is a new process.
 *
 *   fork_child_write HOST PORT
 *
 * The child prints the result line; the parent exits with its status.
 */
#include <sys/wait.h>

#include "bypass.h"

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT");
	int fd = bp_connect(argv[1], port);
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		return 2;
	}
	if (pid == 0) {
		_exit(bp_report(write(fd, BP_PLAINTEXT, BP_PLAINTEXT_LEN)));
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)) {
		return 2;
	}
	return WEXITSTATUS(status);
}
