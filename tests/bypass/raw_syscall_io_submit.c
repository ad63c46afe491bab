/*
 * Attempt: plaintext on a require_tls connection through Linux AIO,
 * io_submit(2) with IOCB_CMD_PWRITE (offset 0 writes to a socket), made with
 * syscall() as libaio-less programs do: no read or write wrapper runs.
 *
 *   raw_syscall_io_submit HOST PORT
 */
#include <linux/aio_abi.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "bypass.h"

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT");
	int fd = bp_connect(argv[1], port);
	aio_context_t ctx = 0;
	struct iocb cb = {0}, *cbs[1] = {&cb};
	struct io_event ev;

	if (syscall(SYS_io_setup, 1, &ctx) < 0) {
		printf("SETUP_FAILED io_setup %s\n", strerrorname_np(errno));
		return 2;
	}
	cb.aio_fildes = (uint32_t)fd;
	cb.aio_lio_opcode = IOCB_CMD_PWRITE;
	cb.aio_buf = (uint64_t)(uintptr_t)BP_PLAINTEXT;
	cb.aio_nbytes = BP_PLAINTEXT_LEN;
	if (syscall(SYS_io_submit, ctx, 1L, cbs) != 1) {
		return bp_report(-1);
	}
	if (syscall(SYS_io_getevents, ctx, 1L, 1L, &ev, NULL) != 1) {
		printf("SETUP_FAILED io_getevents %s\n", strerrorname_np(errno));
		return 2;
	}
	if (ev.res < 0) {
		errno = (int)-ev.res;
		return bp_report(-1);
	}
	return bp_report((long)ev.res);
}
