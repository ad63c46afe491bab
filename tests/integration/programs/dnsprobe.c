/*
 * One name-resolution call, for tests/integration/t_dns.sh: the libc entry
 * points a program may use, each printing what it resolved.
 *
 *   dnsprobe gai NAME        getaddrinfo: "ADDR" per line, or "ERR <gai_strerror>"
 *   dnsprobe ghbn NAME       gethostbyname: "ADDR" per line, or "ERR h_errno=N"
 *   dnsprobe ghbn2r NAME     gethostbyname2_r(AF_INET)
 *   dnsprobe gni ADDR        getnameinfo(NI_NAMEREQD): "NAME", or "ERR ..."
 *   dnsprobe resq NAME       res_query(C_IN, T_A): "LEN n", or "ERR errno=N"
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static int print_hostent(const struct hostent *he)
{
	char text[INET6_ADDRSTRLEN];
	char **a;

	if (he == NULL) {
		printf("ERR h_errno=%d errno=%d\n", h_errno, errno);
		return 1;
	}
	for (a = he->h_addr_list; *a != NULL; a++) {
		printf("%s\n", inet_ntop(he->h_addrtype, *a, text, sizeof(text)));
	}
	return 0;
}

static int gai(const char *name)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	char text[INET6_ADDRSTRLEN];
	int rc = getaddrinfo(name, "443", &hints, &res);

	if (rc != 0) {
		printf("ERR %s errno=%d\n", gai_strerror(rc), rc == EAI_SYSTEM ? errno : 0);
		return 1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		const void *p =
		    ai->ai_family == AF_INET
		        ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
		        : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
		printf("%s\n", inet_ntop(ai->ai_family, p, text, sizeof(text)));
	}
	freeaddrinfo(res);
	return 0;
}

static int ghbn2r(const char *name)
{
	struct hostent he, *result = NULL;
	char buf[2048];
	int herr = 0, rc = gethostbyname2_r(name, AF_INET, &he, buf, sizeof(buf), &result, &herr);

	if (rc != 0 || result == NULL) {
		printf("ERR rc=%d h_errno=%d\n", rc, herr);
		return 1;
	}
	return print_hostent(result);
}

static int gni(const char *addr)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	char host[NI_MAXHOST];
	int rc;

	inet_pton(AF_INET, addr, &sin.sin_addr);
	rc = getnameinfo((struct sockaddr *)&sin, sizeof(sin), host, sizeof(host), NULL, 0,
	                 NI_NAMEREQD);
	if (rc != 0) {
		printf("ERR %s\n", gai_strerror(rc));
		return 1;
	}
	printf("%s\n", host);
	return 0;
}

static int resq(const char *name)
{
	unsigned char answer[512];
	int n = res_query(name, ns_c_in, ns_t_a, answer, sizeof(answer));

	if (n < 0) {
		printf("ERR errno=%d\n", errno);
		return 1;
	}
	printf("LEN %d\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: dnsprobe gai|ghbn|ghbn2r|gni|resq NAME\n");
		return 2;
	}
	if (strcmp(argv[1], "gai") == 0) {
		return gai(argv[2]);
	}
	if (strcmp(argv[1], "ghbn") == 0) {
		return print_hostent(gethostbyname(argv[2]));
	}
	if (strcmp(argv[1], "ghbn2r") == 0) {
		return ghbn2r(argv[2]);
	}
	if (strcmp(argv[1], "gni") == 0) {
		return gni(argv[2]);
	}
	if (strcmp(argv[1], "resq") == 0) {
		return resq(argv[2]);
	}
	return 2;
}
