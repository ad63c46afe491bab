/*
 * Attempt: set up an io_uring, whose submissions (IORING_OP_SEND, ...) the
 * kernel executes without any libc call the shim could wrap. liburing is not
 * needed to see the first step fail: io_uring_setup through syscall().
 *
 *   io_uring_setup
 *
 * Prints "RING <fd>" when a ring was created, "REFUSED <ERRNO>" otherwise.
 */
#include <linux/io_uring.h>
#include <sys/syscall.h>

#include "bypass.h"

int main(void)
{
	struct io_uring_params p;
	long fd;

	memset(&p, 0, sizeof(p));
	fd = syscall(SYS_io_uring_setup, 8, &p);
	if (fd < 0) {
		return bp_report(-1);
	}
	printf("RING %ld\n", fd);
	return 0;
}
