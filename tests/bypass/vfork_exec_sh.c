/*
 * Attempt: hand a require_tls socket to a shell started with vfork and
 * execve and an EMPTY environment (no LD_PRELOAD, no TLSGUARD_*), as fd 3,
 * and let the shell write the plaintext: `printf x >&3`.
 *
 *   vfork_exec_sh HOST PORT
 *
 * Prints "CHILD_EXIT <status>" (the shell's exit status; its printf fails
 * when the write is refused).
 */
#include <sys/wait.h>

#include "bypass.h"

int main(int argc, char **argv)
{
	static char *const child_argv[] = {"sh", "-c", "printf x >&3", NULL};
	static char *const empty_env[] = {NULL};
	int port = bp_args(argc, argv, "HOST PORT");
	int fd = bp_connect(argv[1], port);
	int status;
	pid_t pid;

	/* dup2 leaves FD_CLOEXEC clear: the shell inherits descriptor 3 */
	if (fd != 3 && dup2(fd, 3) < 0) {
		return 2;
	}
	fflush(stdout);
	pid = vfork();
	if (pid < 0) {
		return 2;
	}
	if (pid == 0) {
		execve("/bin/sh", child_argv, empty_env);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)) {
		return 2;
	}
	printf("CHILD_EXIT %d\n", WEXITSTATUS(status));
	return 0;
}
