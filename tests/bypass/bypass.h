/*
 * Shared by the bypass programs: each is one attempt to get plaintext past
 * tlsguard, run by tests/integration/t_bypass.sh. Every program prints one
 * result line the suite asserts on:
 *
 *   SENT <n>            the attempt's call reported n bytes written
 *   REFUSED <ERRNO>     the call failed; ERRNO is the errno's name (EACCES)
 *
 * and exits 0 when the plaintext was sent, 1 when it was refused, 2 when the
 * attempt could not even be set up.
 */
#ifndef BYPASS_H
#define BYPASS_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* What every attempt tries to smuggle out: not a TLS record. */
#define BP_PLAINTEXT     "PLAINTEXT SECRET\n"
#define BP_PLAINTEXT_LEN (sizeof(BP_PLAINTEXT) - 1)

/* bp_addr fills sa with HOST (IPv4 or IPv6 literal) and PORT. */
static inline socklen_t bp_addr(struct sockaddr_storage *sa, const char *host, int port)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;

	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		return sizeof(*v4);
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		return sizeof(*v6);
	}
	return 0;
}

/* bp_connect: a TCP connection through the ordinary connect(), or -1 with a
 * REFUSED line printed. */
static inline int bp_connect(const char *host, int port)
{
	struct sockaddr_storage sa;
	socklen_t len = bp_addr(&sa, host, port);
	int fd;

	if (len == 0) {
		printf("SETUP_FAILED bad address %s\n", host);
		exit(2);
	}
	fd = socket(sa.ss_family, SOCK_STREAM, 0);
	if (fd < 0) {
		printf("SETUP_FAILED socket %s\n", strerrorname_np(errno));
		exit(2);
	}
	if (connect(fd, (struct sockaddr *)&sa, len) < 0) {
		printf("REFUSED %s\n", strerrorname_np(errno));
		fflush(stdout);
		exit(1);
	}
	return fd;
}

/* bp_report: prints the outcome of a call that returned n and exits with
 * the suite's status. */
static inline int bp_report(long n)
{
	if (n < 0) {
		printf("REFUSED %s\n", strerrorname_np(errno));
		fflush(stdout);
		return 1;
	}
	printf("SENT %ld\n", n);
	fflush(stdout);
	return 0;
}

/* bp_args: HOST PORT from the command line, or a usage message. */
static inline int bp_args(int argc, char **argv, const char *usage)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s %s\n", argv[0], usage);
		exit(2);
	}
	return atoi(argv[2]);
}

#endif
