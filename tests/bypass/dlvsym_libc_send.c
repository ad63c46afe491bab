/*
 * dlvsym(3) on a libc handle, with the version every x86-64 program links
 * send against, called directly. Usage: dlvsym_libc_send HOST PORT
 */
#include <dlfcn.h>

#include "bypass.h"

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT");
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	ssize_t (*libc_send)(int, const void *, size_t, int);
	int fd;

	if (libc == NULL || (libc_send = (ssize_t(*)(int, const void *, size_t, int))dlvsym(
	                         libc, "send", "GLIBC_2.2.5")) == NULL) {
		printf("SETUP_FAILED dlvsym\n");
		return 2;
	}
	fd = bp_connect(argv[1], port);
	return bp_report(libc_send(fd, BP_PLAINTEXT, BP_PLAINTEXT_LEN, 0));
}
