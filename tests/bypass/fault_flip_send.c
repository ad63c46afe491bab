/*
 * Check, then use, made deterministic: the 52-byte ClientHello written
 * straddles a page boundary, its first 48 bytes on a readable page, the last
 * four on a page with no access. Whatever reads the hello's tail faults on the
 * second page; the SIGSEGV handler then rewrites the hello's first eight bytes
 * to "PLAINTXT" and opens the page. A check that judged the hello before the
 * fault judged bytes other than those the kernel copies: the server receives
 * "PLAIN". A shim that copied the hello before judging it sends the hello.
 * The hello is hand-made, not this process's libssl's: the suite runs this
 * with tls.unmanaged = "allow". Usage: fault_flip_send HOST PORT
 */
#include <signal.h>
#include <sys/mman.h>

#include "bypass.h"

/* RFC 5246 6.2.1, 7.4.1.2: the smallest valid TLS 1.2 ClientHello, 52 bytes:
 * a handshake record of 47, a ClientHello of 43 (legacy_version 3.3, a zero
 * random, no session id, one suite TLS_RSA_WITH_AES_128_CBC_SHA, the null
 * compression method, an empty extensions block). */
#define HELLO                                                                                      \
	"\x16\x03\x01\x00\x2f"                                                                     \
	"\x01\x00\x00\x2b\x03\x03"                                                                 \
	"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"                         \
	"\x00\x00\x02\x00\x2f\x01\x00\x00\x00"
#define HELLO_LEN (sizeof(HELLO) - 1)
/* Bytes behind the boundary: few, so that a copy of the hello (memcpy loads
 * from the front, in vectors of up to 32 bytes) has taken the first eight
 * before it faults, and the classifier has judged them. */
#define HELLO_CLOSED 4

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
	memcpy(map + page - (HELLO_LEN - HELLO_CLOSED), "PLAINTXT", 8);
	mprotect(map + page, (size_t)page, PROT_READ | PROT_WRITE);
	flipped = 1;
}

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT");
	struct sigaction sa = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO};
	int fd = bp_connect(argv[1], port);
	char *at;
	long n;

	page = sysconf(_SC_PAGESIZE);
	map = mmap(NULL, (size_t)(2 * page), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	           -1, 0);
	if (map == MAP_FAILED || sigaction(SIGSEGV, &sa, NULL) < 0) {
		printf("SETUP_FAILED\n");
		return 2;
	}
	at = map + page - (HELLO_LEN - HELLO_CLOSED);
	memcpy(at, HELLO, HELLO_LEN);
	mprotect(map + page, (size_t)page, PROT_NONE);
	n = write(fd, at, HELLO_LEN);
	printf("FLIPPED %d\n", (int)flipped);
	return bp_report(n);
}
