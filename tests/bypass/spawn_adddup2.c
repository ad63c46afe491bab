/*
 * Attempt: posix_spawn a child whose file actions hand it the require_tls
 * socket (close-on-exec in the parent) at another descriptor number, or at
 * its own number with posix_spawn_file_actions_adddup2(fd, fd), which clears
 * FD_CLOEXEC in the child (glibc 2.29). The child writes plaintext there.
 *
 *   spawn_adddup2 HOST PORT move|self
 */
#include <fcntl.h>
#include <spawn.h>

#include "bypass_child.h"

#define MOVED_FD 7

int main(int argc, char **argv)
{
	static char *const empty_env[] = {NULL};
	posix_spawn_file_actions_t fa;
	char *child_argv[4], fdtext[16];
	int port, fd, target;
	pid_t pid;

	bp_child_maybe(argc, argv);
	port = bp_args(argc, argv, "HOST PORT move|self");
	fd = bp_connect_cloexec(argv[1], port);
	target = argc > 3 && strcmp(argv[3], "self") == 0 ? fd : MOVED_FD;
	bp_child_argv(child_argv, fdtext, target);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, target);
	fflush(stdout);
	if (posix_spawn(&pid, child_argv[0], &fa, NULL, child_argv, empty_env) != 0) {
		printf("SETUP_FAILED posix_spawn\n");
		return 2;
	}
	posix_spawn_file_actions_destroy(&fa);
	return bp_wait_child(pid);
}
