/*
 * Attempt: reach a denied destination through libc's generic syscall()
 * instead of connect(), hoping the shim only wraps the named function.
 *
 *   raw_syscall_connect HOST PORT
 */
#include <sys/syscall.h>

#include "bypass.h"

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT");
	struct sockaddr_storage sa;
	socklen_t len = bp_addr(&sa, argv[1], port);
	int fd = socket(sa.ss_family, SOCK_STREAM, 0);

	if (len == 0 || fd < 0) {
		return 2;
	}
	if (syscall(SYS_connect, fd, (struct sockaddr *)&sa, len) < 0) {
		return bp_report(-1);
	}
	printf("CONNECTED\n");
	return 0;
}
