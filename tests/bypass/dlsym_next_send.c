/*
 * Attempt: take send() from dlsym(RTLD_NEXT, "send"), the way interposers
 * find "the real one", and call it directly.
 *
 *   dlsym_next_send HOST PORT
 */
#include <dlfcn.h>

#include "bypass.h"

typedef ssize_t (*send_fn)(int, const void *, size_t, int);

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT");
	int fd = bp_connect(argv[1], port);
	send_fn next_send;

	*(void **)&next_send = dlsym(RTLD_NEXT, "send");
	if (next_send == NULL) {
		printf("SETUP_FAILED %s\n", dlerror());
		return 2;
	}
	return bp_report(next_send(fd, BP_PLAINTEXT, BP_PLAINTEXT_LEN, 0));
}
