/*
 * The per-call workloads of `make bench`, counted under callgrind with and
 * without the shim (bench/README.md). The same binary is run with N calls and
 * with 0 calls, so start-up cost cancels out of the per-call figure.
 *
 *   calls write-null N        N one-byte write(2) calls to /dev/null
 *   calls socketpair N        N one-byte write+read pairs on an AF_UNIX
 *                             socketpair (2N calls)
 *   calls connect N PORT      N socket+connect+close to 127.0.0.1:PORT
 *   calls connect-spread N BASEPORT SPAN
 *                             N socket+connect+close, call i (0 to N - 1) to
 *                             127.0.0.1:(BASEPORT + i % SPAN), after a warm-up
 *                             call to BASEPORT + SPAN, a port the N calls never
 *                             use: with N <= SPAN, every call goes to a
 *                             destination the process has not seen before.
 *                             Nothing needs to listen there: ECONNREFUSED
 *                             counts as done (a port with a listener accepts
 *                             and is closed); any other error, such as EACCES
 *                             from a policy, fails the run
 *   calls listen PORTFILE     accepts and closes connections on a loopback port
 *                             the kernel picks, written to PORTFILE; runs until
 *                             killed (the peer of `connect`, never measured)
 *
 * With BENCH_EXPECT=WORD in the environment, the process exits 77 unless a
 * loaded object's path contains WORD: the check that the preload library under
 * measurement is really in the measured process, not only in a wrapper.
 *
 * Every mode makes one warm-up call before its N calls: the shim binds the real
 * functions and loads its policy on the first call that needs them, a one-off
 * cost that belongs to start-up, not to each call. "0 calls" is the warm-up
 * alone.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_expect.h"

static long parse_count(const char *text)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || n < 0) {
		return -1;
	}
	return n;
}

static int run_write_null(long n)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	long i;

	/* i == 0 is the warm-up call */
	if (fd < 0) {
		perror("calls: /dev/null");
		return -1;
	}
	for (i = 0; i <= n; i++) {
		if (write(fd, "x", 1) != 1) {
			perror("calls: write");
			return -1;
		}
	}
	return close(fd);
}

static int run_socketpair(long n)
{
	int sv[2];
	char byte;
	long i;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("calls: socketpair");
		return -1;
	}
	for (i = 0; i <= n; i++) {
		if (write(sv[0], "x", 1) != 1 || read(sv[1], &byte, 1) != 1) {
			perror("calls: socketpair I/O");
			return -1;
		}
	}
	close(sv[0]);
	return close(sv[1]);
}

static void loopback(struct sockaddr_in *sin, int port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static int run_connect(long n, int port)
{
	struct sockaddr_in sin;
	long i;

	loopback(&sin, port);
	for (i = 0; i <= n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
			perror("calls: connect");
			return -1;
		}
		close(fd);
	}
	return 0;
}

/* socket+connect+close to 127.0.0.1:port; refused (nothing listens) is fine */
static int connect_refused_ok(int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		perror("calls: socket");
		return -1;
	}
	loopback(&sin, port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno != ECONNREFUSED) {
		fprintf(stderr, "calls: connect 127.0.0.1:%d: %s\n", port, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* The warm-up goes to BASEPORT + SPAN, never to a port of the N calls: with
 * N <= SPAN no destination repeats, so no cache can answer any of them. */
static int run_connect_spread(long n, int base, int span)
{
	long i;

	if (connect_refused_ok(base + span) < 0) {
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (connect_refused_ok(base + (int)(i % span)) < 0) {
			return -1;
		}
	}
	return 0;
}

static int write_port(const char *path, int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char tmp[4096];
	FILE *f;

	if (getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		return -1;
	}
	/* written then renamed: a reader never sees a half-written number */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL) {
		return -1;
	}
	fprintf(f, "%d\n", ntohs(sin.sin_port));
	if (fclose(f) != 0) {
		return -1;
	}
	return rename(tmp, path);
}

static int run_listen(const char *portfile)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	loopback(&sin, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, SOMAXCONN) < 0 || write_port(portfile, fd) < 0) {
		perror("calls: listen");
		return -1;
	}
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c >= 0) {
			close(c);
		}
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: calls write-null|socketpair N\n"
	                "       calls connect N PORT\n"
	                "       calls connect-spread N BASEPORT SPAN\n"
	                "       calls listen PORTFILE\n");
	return 2;
}

int main(int argc, char **argv)
{
	long n;
	int rc;

	if (argc == 3 && strcmp(argv[1], "listen") == 0) {
		return run_listen(argv[2]) < 0 ? 1 : 0;
	}
	if (argc < 3 || (n = parse_count(argv[2])) < 0) {
		return usage();
	}
	if (bench_check_loaded("calls") < 0) {
		return 77;
	}
	if (strcmp(argv[1], "write-null") == 0 && argc == 3) {
		rc = run_write_null(n);
	} else if (strcmp(argv[1], "socketpair") == 0 && argc == 3) {
		rc = run_socketpair(n);
	} else if (strcmp(argv[1], "connect") == 0 && argc == 4) {
		long port = parse_count(argv[3]);

		if (port <= 0 || port > 65535) {
			return usage();
		}
		rc = run_connect(n, (int)port);
	} else if (strcmp(argv[1], "connect-spread") == 0 && argc == 5) {
		long base = parse_count(argv[3]), span = parse_count(argv[4]);

		if (base <= 0 || span <= 0 || base + span > 65535) {
			return usage();
		}
		rc = run_connect_spread(n, (int)base, (int)span);
	} else {
		return usage();
	}
	return rc < 0 ? 1 : 0;
}
