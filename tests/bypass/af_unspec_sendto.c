/*
 * UDP sendto with sin_family = AF_UNSPEC on an IPv4 socket: the kernel sends
 * it to sin_addr:sin_port as for AF_INET (udp_sendmsg), so the destination
 * must be decided as one. Usage: af_unspec_sendto HOST PORT
 */
#include "bypass.h"

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT");
	struct sockaddr_in sa = {.sin_family = AF_UNSPEC, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		printf("SETUP_FAILED socket\n");
		return 2;
	}
	return bp_report(
	    sendto(fd, BP_PLAINTEXT, BP_PLAINTEXT_LEN, 0, (struct sockaddr *)&sa, sizeof(sa)));
}
