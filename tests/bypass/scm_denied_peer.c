/*
 * Attempt: have another process, one the shim does not watch, connect to a
 * destination the policy denies, receive that socket over SCM_RIGHTS, and
 * write plaintext on it: the connect the shim would have refused never ran
 * under it.
 *
 *   scm_denied_peer UNIX_PATH    (the process at UNIX_PATH sends the socket)
 */
#include <sys/un.h>

#include "bypass.h"

int main(int argc, char **argv)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char byte, control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {&byte, 1};
	struct msghdr m = {.msg_iov = &iov,
	                   .msg_iovlen = 1,
	                   .msg_control = control,
	                   .msg_controllen = sizeof(control)};
	int u, fd;

	if (argc < 2 || strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: %s UNIX_PATH\n", argv[0]);
		return 2;
	}
	strcpy(sun.sun_path, argv[1]);
	u = socket(AF_UNIX, SOCK_STREAM, 0);
	if (u < 0 || connect(u, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    recvmsg(u, &m, 0) <= 0 || CMSG_FIRSTHDR(&m) == NULL) {
		printf("SETUP_FAILED no socket received\n");
		return 2;
	}
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(fd));
	return bp_report(write(fd, BP_PLAINTEXT, BP_PLAINTEXT_LEN));
}
