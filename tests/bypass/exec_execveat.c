/*
 * Attempt: start a child with execveat(2), which glibc 2.34 added, with an
 * EMPTY environment, and let it write plaintext on the inherited require_tls
 * socket.
 *
 *   exec_execveat HOST PORT path|empty_path|fexecve
 *
 * path: execveat(AT_FDCWD, self, ...); empty_path: execveat(fd, "",
 * AT_EMPTY_PATH) on an O_PATH descriptor of itself; fexecve: the older
 * libc function on an O_RDONLY descriptor (glibc makes it an execveat).
 */
#include <fcntl.h>

#include "bypass_child.h"

static char *const empty_env[] = {NULL};

static void start(const char *how, char *argv[])
{
	int exe;

	if (strcmp(how, "path") == 0) {
		execveat(AT_FDCWD, argv[0], argv, empty_env, 0);
	} else if (strcmp(how, "empty_path") == 0) {
		exe = open(argv[0], O_PATH | O_CLOEXEC);
		execveat(exe, "", argv, empty_env, AT_EMPTY_PATH);
	} else {
		exe = open(argv[0], O_RDONLY | O_CLOEXEC);
		fexecve(exe, argv, empty_env);
	}
	_exit(127);
}

int main(int argc, char **argv)
{
	char *child_argv[4], fdtext[16];
	int port, fd;
	pid_t pid;

	bp_child_maybe(argc, argv);
	port = bp_args(argc, argv, "HOST PORT path|empty_path|fexecve");
	fd = bp_connect(argv[1], port);
	bp_child_argv(child_argv, fdtext, fd);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		start(argc > 3 ? argv[3] : "path", child_argv);
	}
	return bp_wait_child(pid);
}
