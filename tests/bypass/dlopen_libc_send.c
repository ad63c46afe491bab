/*
 * Attempt: look send() up in libc itself (dlopen("libc.so.6") + dlsym on
 * that handle) and call it directly: a handle lookup searches libc and its
 * dependencies only, never the preloaded shim.
 *
 *   dlopen_libc_send HOST PORT
 */
#include <dlfcn.h>

#include "bypass.h"

typedef ssize_t (*send_fn)(int, const void *, size_t, int);

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT");
	int fd = bp_connect(argv[1], port);
	void *libc = dlopen("libc.so.6", RTLD_NOW);
	send_fn libc_send;

	if (libc == NULL) {
		printf("SETUP_FAILED %s\n", dlerror());
		return 2;
	}
	*(void **)&libc_send = dlsym(libc, "send");
	if (libc_send == NULL) {
		printf("SETUP_FAILED %s\n", dlerror());
		return 2;
	}
	return bp_report(libc_send(fd, BP_PLAINTEXT, BP_PLAINTEXT_LEN, 0));
}
