/*
 * Attempt: start a child through libc's generic syscall() with SYS_execve or
 * SYS_execveat, past the named exec functions, with an EMPTY environment, and
 * let it write plaintext on the inherited require_tls socket.
 *
 *   exec_raw_syscall HOST PORT execve|execveat
 */
#include <fcntl.h>
#include <sys/syscall.h>

#include "bypass_child.h"

int main(int argc, char **argv)
{
	static char *const empty_env[] = {NULL};
	char *child_argv[4], fdtext[16];
	int port, fd;
	pid_t pid;

	bp_child_maybe(argc, argv);
	port = bp_args(argc, argv, "HOST PORT execve|execveat");
	fd = bp_connect(argv[1], port);
	bp_child_argv(child_argv, fdtext, fd);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (argc > 3 && strcmp(argv[3], "execveat") == 0) {
			syscall(SYS_execveat, AT_FDCWD, child_argv[0], child_argv, empty_env, 0);
		} else {
			syscall(SYS_execve, child_argv[0], child_argv, empty_env);
		}
		_exit(127);
	}
	return bp_wait_child(pid);
}
