/*
 * Attempt: a program that may write its own policy file (owned by the user
 * it runs as, so the ownership check accepts it) replaces it with one that
 * allows everything, before its first socket call, then writes plaintext to
 * a destination the original policy requires TLS for.
 *
 *   policy_rewrite HOST PORT inplace|rename
 *
 * inplace: truncates and rewrites the file; rename: renames a new file over
 * the path.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>

#include "bypass.h"

static const char lenient[] = "version = 1;\noutbound = { default = \"allow\"; };\n"
                              "inbound = { default = \"allow\"; };\n";

static int rewrite(const char *path, bool by_rename)
{
	char tmp[4096];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(by_rename ? tmp : path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, lenient, sizeof(lenient) - 1) != (ssize_t)sizeof(lenient) - 1 ||
	    close(fd) < 0) {
		return -1;
	}
	return by_rename ? rename(tmp, path) : 0;
}

int main(int argc, char **argv)
{
	const char *path = getenv("TLSGUARD_POLICY");
	int port = bp_args(argc, argv, "HOST PORT inplace|rename");
	int fd;

	if (path == NULL || rewrite(path, argc > 3 && strcmp(argv[3], "rename") == 0) < 0) {
		printf("SETUP_FAILED rewrite %s\n", path != NULL ? path : "(unset)");
		return 2;
	}
	fd = bp_connect(argv[1], port);
	return bp_report(write(fd, BP_PLAINTEXT, BP_PLAINTEXT_LEN));
}
