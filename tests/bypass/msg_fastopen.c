/*
 * Attempt: TCP Fast Open, where sendto(MSG_FASTOPEN) both connects and sends
 * (the data rides in the SYN when a cookie is cached): no connect() call at
 * all, and the plaintext is the first thing the kernel gets.
 *
 *   msg_fastopen HOST PORT
 */
#include "bypass.h"

#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000 /* tcp(7) */
#endif

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT");
	struct sockaddr_storage sa;
	socklen_t len = bp_addr(&sa, argv[1], port);
	int fd = socket(sa.ss_family, SOCK_STREAM, 0);

	if (len == 0 || fd < 0) {
		return 2;
	}
	return bp_report(
	    sendto(fd, BP_PLAINTEXT, BP_PLAINTEXT_LEN, MSG_FASTOPEN, (struct sockaddr *)&sa, len));
}
