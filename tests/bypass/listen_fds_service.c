/*
 * Attempt: a service started by socket activation (systemd, or any launcher
 * without the shim) with LISTEN_FDS=1 and LISTEN_PID set to its pid, so the
 * socket at descriptor 3 was never seen by the shim's connect or accept.
 *
 *   listen_fds_service conn      fd 3 is a connection accepted for it
 *                                (Accept=yes): write plaintext on it
 *   listen_fds_service listen    fd 3 is a listener: accept one connection
 *                                and read what the client sends
 *
 * conn prints the bypass.h line; listen prints "READ <n>" or
 * "REFUSED <ERRNO>".
 */
#include "bypass.h"

#define SD_LISTEN_FDS_START 3

int main(int argc, char **argv)
{
	char buf[256];
	ssize_t n;
	int conn;

	if (argc < 2) {
		fprintf(stderr, "usage: %s conn|listen\n", argv[0]);
		return 2;
	}
	if (strcmp(argv[1], "conn") == 0) {
		return bp_report(write(SD_LISTEN_FDS_START, BP_PLAINTEXT, BP_PLAINTEXT_LEN));
	}
	conn = accept(SD_LISTEN_FDS_START, NULL, NULL);
	if (conn < 0) {
		printf("REFUSED %s\n", strerrorname_np(errno));
		return 1;
	}
	n = read(conn, buf, sizeof(buf));
	if (n < 0) {
		printf("REFUSED %s\n", strerrorname_np(errno));
		return 1;
	}
	printf("READ %zd\n", n);
	return 0;
}
