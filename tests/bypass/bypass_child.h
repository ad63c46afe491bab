/*
 * Shared by the bypass programs that start a child (the "Children and
 * start-up" rows of README.md): the program re-executes itself as
 *
 *   NAME --child FD
 *
 * which writes the plaintext on descriptor FD and prints the bypass.h result
 * line (REFUSED EACCES when the shim refused it). The parent then prints
 * "CHILD_EXIT <status>". The child is started with an EMPTY environment
 * unless the attempt says otherwise: the shim must put itself back.
 */
#ifndef BYPASS_CHILD_H
#define BYPASS_CHILD_H

#include <fcntl.h>
#include <limits.h>
#include <sys/wait.h>

#include "bypass.h"

/* Runs the child side when argv asks for it; returns only in the parent. */
static inline void bp_child_maybe(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "--child") == 0) {
		exit(bp_report(write(atoi(argv[2]), BP_PLAINTEXT, BP_PLAINTEXT_LEN)));
	}
}

/* This program's own path, to re-execute. */
static inline const char *bp_self(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

	if (n <= 0) {
		printf("SETUP_FAILED readlink /proc/self/exe\n");
		exit(2);
	}
	path[n] = '\0';
	return path;
}

/* The child's argv: NAME --child FD (fdtext must outlive the call). */
static inline void bp_child_argv(char *argv[4], char fdtext[16], int fd)
{
	snprintf(fdtext, 16, "%d", fd);
	argv[0] = (char *)bp_self();
	argv[1] = "--child";
	argv[2] = fdtext;
	argv[3] = NULL;
}

/* Waits for the child and prints its exit status; the program's own status
 * is the child's (1 when its write was refused). */
static inline int bp_wait_child(pid_t pid)
{
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)) {
		printf("SETUP_FAILED child\n");
		return 2;
	}
	printf("CHILD_EXIT %d\n", WEXITSTATUS(status));
	return WEXITSTATUS(status);
}

/* A require_tls connection with FD_CLOEXEC set, as a careful program (or any
 * SOCK_CLOEXEC user) has it: only file actions or dup2 pass it on. */
static inline int bp_connect_cloexec(const char *host, int port)
{
	int fd = bp_connect(host, port);

	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		printf("SETUP_FAILED fcntl\n");
		exit(2);
	}
	return fd;
}

#endif
