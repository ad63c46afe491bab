/*
 * Attempt: plaintext on a require_tls connection through the x86-64
 * `syscall` instruction itself. No libc function runs, so nothing in user
 * space can see it: this is the residual risk tlsguard.8 documents (Limits),
 * and the suite asserts that the bytes do get out, so the day that changes
 * the README and the man page are revisited.
 *
 *   asm_syscall_write HOST PORT
 */
#include <sys/syscall.h>

#include "bypass.h"

#if defined(__x86_64__)
/* x86-64 Linux ABI (syscall(2)): number in rax, arguments in rdi, rsi, rdx;
 * the instruction clobbers rcx and r11. */
static long raw_write(int fd, const void *buf, size_t len)
{
	long ret;

	__asm__ volatile("syscall"
	                 : "=a"(ret)
	                 : "0"((long)SYS_write), "D"((long)fd), "S"(buf), "d"(len)
	                 : "rcx", "r11", "memory");
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}
#else
static long raw_write(int fd, const void *buf, size_t len)
{
	(void)fd, (void)buf, (void)len;
	printf("UNSUPPORTED not x86-64\n");
	exit(3);
}
#endif

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT");
	int fd = bp_connect(argv[1], port);

	return bp_report(raw_write(fd, BP_PLAINTEXT, BP_PLAINTEXT_LEN));
}
