/*
 * Check, then use: one thread writes a whole ClientHello on a fresh
 * require_tls connection while another flips the hello's first eight bytes
 * between their real value and "PLAINTXT". Whenever the check saw the hello
 * and the kernel copied the plaintext, the server receives "PLAIN". Each
 * refused attempt costs its connection, so it tries again on a new one, until
 * WANT writes went through or LIMIT seconds passed. Usage: race_flip_send
 * HOST PORT [WANT [LIMIT]]. Prints "RACED attempts=A written=W refused=R".
 * The hello is hand-made, not this process's libssl's: the suite runs it
 * with tls.unmanaged = "allow".
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

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

/* The hello; its first eight bytes are rewritten whole by one aligned store. */
static union {
	_Atomic uint64_t head;
	uint8_t bytes[HELLO_LEN];
} hello;
static atomic_bool done;

static uint64_t bytes_of(const char *eight)
{
	uint64_t v;

	memcpy(&v, eight, sizeof(v));
	return v;
}

/* Holds each value a while, and a different while each time (1 to 64
 * rounds of a relaxed load): a flip that comes every few nanoseconds tears
 * almost every read the check makes, so the check refuses and the window
 * between the check and the kernel's copy is seldom met; varied holds meet
 * that window at whatever length it has. */
static void hold(unsigned rounds)
{
	while (rounds-- > 0 && !atomic_load_explicit(&done, memory_order_relaxed)) {
	}
}

static void *flipper(void *arg)
{
	uint64_t real = bytes_of(HELLO), plain = bytes_of("PLAINTXT");
	unsigned i = 0;

	(void)arg;
	while (!atomic_load_explicit(&done, memory_order_relaxed)) {
		atomic_store_explicit(&hello.head, real, memory_order_relaxed);
		hold(1 + i++ % 64);
		atomic_store_explicit(&hello.head, plain, memory_order_relaxed);
		hold(1 + i++ % 64);
	}
	return NULL;
}

/* Keeps the two threads on two different CPUs when there are two: on one
 * CPU they take turns by time slice, and the flip almost never lands inside a
 * single write. */
static void spread(pthread_t flip)
{
	cpu_set_t allowed, one;
	int cpu, other;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0 || CPU_COUNT(&allowed) < 2) {
		return;
	}
	cpu = sched_getcpu();
	for (other = 0; other < CPU_SETSIZE; other++) {
		if (other != cpu && CPU_ISSET(other, &allowed)) {
			break;
		}
	}
	if (cpu < 0 || other == CPU_SETSIZE) {
		return;
	}
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
	CPU_ZERO(&one);
	CPU_SET(other, &one);
	pthread_setaffinity_np(flip, sizeof(one), &one);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT [WANT [LIMIT]]");
	int want = argc > 3 ? atoi(argv[3]) : 400;
	double limit = argc > 4 ? atof(argv[4]) : 5.0, start = now();
	int attempts = 0, written = 0, refused = 0, fd;
	struct sockaddr_storage sa;
	socklen_t len = bp_addr(&sa, argv[1], port);
	pthread_t t;

	_Static_assert(HELLO_LEN == 52, "5 + 4 + 43 bytes");
	memcpy(hello.bytes, HELLO, HELLO_LEN);
	if (len == 0 || pthread_create(&t, NULL, flipper, NULL) != 0) {
		printf("SETUP_FAILED\n");
		return 2;
	}
	spread(t);
	while (written < want && now() - start < limit) {
		fd = socket(sa.ss_family, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, len) < 0) {
			printf("SETUP_FAILED connect %s\n", strerrorname_np(errno));
			return 2;
		}
		attempts++;
		if (write(fd, hello.bytes, HELLO_LEN) == (ssize_t)HELLO_LEN) {
			written++;
		} else {
			refused++;
		}
		close(fd);
	}
	atomic_store(&done, true);
	pthread_join(t, NULL);
	printf("RACED attempts=%d written=%d refused=%d\n", attempts, written, refused);
	return 0;
}
