/*
 * Attempt: reach an IPv4 destination that an IPv4 rule denies through an
 * IPv6 socket and its IPv4-mapped address (::ffff:127.0.0.1, RFC 4291
 * 2.5.5.2), hoping the rule is only compared with AF_INET addresses.
 *
 *   v4mapped_connect ::ffff:A.B.C.D PORT
 */
#include "bypass.h"

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "::ffff:A.B.C.D PORT");

	(void)bp_connect(argv[1], port);
	printf("CONNECTED\n");
	return 0;
}
