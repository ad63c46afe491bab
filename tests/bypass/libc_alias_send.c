/*
 * glibc exports its own aliases of the socket calls (__write, __send): a
 * program that links one of them directly, after connecting normally, writes
 * plaintext on a require_tls connection. Usage: libc_alias_send HOST PORT
 * write|send
 */
#include "bypass.h"

extern ssize_t __write(int fd, const void *buf, size_t len);
extern ssize_t __send(int fd, const void *buf, size_t len, int flags);

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT write|send");
	const char *how = argc > 3 ? argv[3] : "write";
	int fd = bp_connect(argv[1], port);
	long n;

	if (strcmp(how, "send") == 0) {
		n = __send(fd, BP_PLAINTEXT, BP_PLAINTEXT_LEN, 0);
	} else {
		n = __write(fd, BP_PLAINTEXT, BP_PLAINTEXT_LEN);
	}
	return bp_report(n);
}
