/*
 * Attempt: vfork, move the require_tls socket (close-on-exec) to another
 * number with dup2 in the child, and execveat with an EMPTY environment; the
 * new image writes plaintext there.
 *
 *   vfork_execveat HOST PORT
 */
#include <fcntl.h>

#include "bypass_child.h"

#define MOVED_FD 9

int main(int argc, char **argv)
{
	static char *const empty_env[] = {NULL};
	char *child_argv[4], fdtext[16];
	int port, fd;
	pid_t pid;

	bp_child_maybe(argc, argv);
	port = bp_args(argc, argv, "HOST PORT");
	fd = bp_connect_cloexec(argv[1], port);
	bp_child_argv(child_argv, fdtext, MOVED_FD);
	fflush(stdout);
	pid = vfork();
	if (pid == 0) {
		if (dup2(fd, MOVED_FD) == MOVED_FD) {
			execveat(AT_FDCWD, child_argv[0], child_argv, empty_env, 0);
		}
		_exit(127);
	}
	return bp_wait_child(pid);
}
