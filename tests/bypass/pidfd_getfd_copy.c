/*
 * Attempt: copy a governed socket out of another process with pidfd_getfd(2)
 * (a child that connected it under the shim and wrote nothing), then write
 * plaintext on the copy, a descriptor this process never connected.
 *
 *   pidfd_getfd_copy HOST PORT [syscall]
 *
 * With "syscall", through syscall(SYS_pidfd_getfd, ...) instead of glibc's
 * pidfd_getfd().
 */
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "bypass.h"

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT");
	int sv[2], child_fd, pidfd, fd, rc;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		printf("SETUP_FAILED socketpair\n");
		return 2;
	}
	pid = fork();
	if (pid == 0) {
		child_fd = bp_connect(argv[1], port);
		(void)!write(sv[1], &child_fd, sizeof(child_fd));
		pause(); /* keeps the socket open until the parent is done */
		_exit(0);
	}
	if (pid < 0 || read(sv[0], &child_fd, sizeof(child_fd)) != sizeof(child_fd)) {
		printf("SETUP_FAILED child\n");
		return 2;
	}
	pidfd = pidfd_open(pid, 0);
	if (pidfd < 0) {
		fd = -1;
	} else if (argc > 3 && strcmp(argv[3], "syscall") == 0) {
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, child_fd, 0);
	} else {
		fd = pidfd_getfd(pidfd, child_fd, 0);
	}
	if (fd < 0) {
		printf("SETUP_FAILED pidfd_getfd %s\n", strerrorname_np(errno));
		kill(pid, SIGKILL);
		return 2;
	}
	rc = bp_report(write(fd, BP_PLAINTEXT, BP_PLAINTEXT_LEN));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return rc;
}
