/*
 * glibc's exported alias __connect, called directly, to a destination the
 * policy denies. Usage: libc_alias_connect HOST PORT
 */
#include "bypass.h"

extern int __connect(int fd, const struct sockaddr *addr, socklen_t len);

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT");
	struct sockaddr_storage sa;
	socklen_t len = bp_addr(&sa, argv[1], port);
	int fd = socket(sa.ss_family, SOCK_STREAM, 0);

	if (len == 0 || fd < 0) {
		printf("SETUP_FAILED socket\n");
		return 2;
	}
	if (__connect(fd, (struct sockaddr *)&sa, len) < 0) {
		return bp_report(-1);
	}
	return bp_report(write(fd, BP_PLAINTEXT, 0) == 0 ? 0 : -1);
}
