/*
 * The GnuTLS handshake workload of `make bench` (bench/README.md): tls_pair's
 * handshake workload with GnuTLS at both ends. A client and a server in one
 * program (the server is a forked child), over 127.0.0.1, TLS 1.3 with
 * TLS_AES_128_GCM_SHA256 and X25519, no tickets; the client verifies the
 * server's chain against the test root and its host name, as a careful
 * program would. Run with and without the shim.
 *
 *   gtls_pair handshakes N PORT CERTDIR   N new TCP connections, each a full
 *                                         handshake and a one-byte reply;
 *                                         prints handshakes per second
 *
 * CERTDIR is what tests/lib/certs.sh makes: root.pem (trusted by the client),
 * valid.pem + valid.key (the server's chain, for localhost and 127.0.0.1).
 * Exit status 0 only if every handshake and every reply made it.
 *
 * With BENCH_EXPECT=WORD in the environment, exits 77 unless a loaded object's
 * path contains WORD (the shim really is in the measured process).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "bench_expect.h"

#define HOST_NAME "localhost"
/* tls_pair's settings: TLS 1.3 only, one AES-GCM suite, X25519. */
#define PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:-GROUP-ALL:+GROUP-X25519"

struct bench {
	long count;
	int port;
	const char *certdir;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *what, int err)
{
	fprintf(stderr, "gtls_pair: %s: %s\n", what, gnutls_strerror(err));
}

static void loopback(struct sockaddr_in *sin, int port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static int listen_on(int port)
{
	struct sockaddr_in sin;
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	loopback(&sin, port);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 128) < 0) {
		perror("gtls_pair: listen");
		if (fd >= 0) {
			close(fd);
		}
		return -1;
	}
	return fd;
}

/* A session on fd with the shared settings; flags: GNUTLS_CLIENT/SERVER. */
static gnutls_session_t session_new(unsigned flags, gnutls_priority_t prio,
                                    gnutls_certificate_credentials_t cred, int fd)
{
	gnutls_session_t s;
	int err;

	if ((err = gnutls_init(&s, flags | GNUTLS_NO_TICKETS)) < 0) {
		fail("gnutls_init", err);
		return NULL;
	}
	if ((err = gnutls_priority_set(s, prio)) < 0 ||
	    (err = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred)) < 0) {
		fail("session settings", err);
		gnutls_deinit(s);
		return NULL;
	}
	/* GnuTLS writes each handshake flight in several sends: without NODELAY,
	 * Nagle and delayed ACKs add 40 ms to every handshake on loopback. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	gnutls_transport_set_int(s, fd);
	return s;
}

static int handshake(gnutls_session_t s, const char *who)
{
	int err;

	do {
		err = gnutls_handshake(s);
	} while (err < 0 && gnutls_error_is_fatal(err) == 0);
	if (err < 0) {
		fail(who, err);
		return -1;
	}
	return 0;
}

static int server(int lfd, const struct bench *b, gnutls_priority_t prio)
{
	gnutls_certificate_credentials_t cred;
	char chain[4096], key[4096];
	long i;
	int err, rc = 0;

	snprintf(chain, sizeof(chain), "%s/valid.pem", b->certdir);
	snprintf(key, sizeof(key), "%s/valid.key", b->certdir);
	if ((err = gnutls_certificate_allocate_credentials(&cred)) < 0 ||
	    (err = gnutls_certificate_set_x509_key_file(cred, chain, key, GNUTLS_X509_FMT_PEM)) <
	        0) {
		fail("server: certificate", err);
		return 1;
	}
	for (i = 0; i < b->count && rc == 0; i++) {
		int fd = accept(lfd, NULL, NULL);
		gnutls_session_t s;

		if (fd < 0) {
			perror("gtls_pair: accept");
			rc = 1;
			break;
		}
		s = session_new(GNUTLS_SERVER, prio, cred, fd);
		if (s == NULL || handshake(s, "server: handshake") < 0 ||
		    gnutls_record_send(s, "k", 1) != 1) {
			rc = 1;
		}
		if (s != NULL) {
			gnutls_deinit(s);
		}
		close(fd);
	}
	gnutls_certificate_free_credentials(cred);
	return rc;
}

/* One verified connection, the server's byte read, closed. */
static int client_one(const struct bench *b, gnutls_priority_t prio,
                      gnutls_certificate_credentials_t cred)
{
	struct sockaddr_in sin;
	gnutls_session_t s = NULL;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc = -1;
	char ack;

	loopback(&sin, b->port);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("gtls_pair: connect");
		goto out;
	}
	s = session_new(GNUTLS_CLIENT, prio, cred, fd);
	if (s == NULL ||
	    gnutls_server_name_set(s, GNUTLS_NAME_DNS, HOST_NAME, strlen(HOST_NAME)) < 0) {
		goto out;
	}
	gnutls_session_set_verify_cert(s, HOST_NAME, 0);
	if (handshake(s, "client: handshake") < 0) {
		goto out;
	}
	if (gnutls_record_recv(s, &ack, 1) != 1) {
		fprintf(stderr, "gtls_pair: client: no reply\n");
		goto out;
	}
	rc = 0;
out:
	if (s != NULL) {
		gnutls_deinit(s);
	}
	if (fd >= 0) {
		close(fd);
	}
	return rc;
}

static int client(const struct bench *b, gnutls_priority_t prio)
{
	gnutls_certificate_credentials_t cred;
	char root[4096];
	double start;
	long i;
	int err;

	snprintf(root, sizeof(root), "%s/root.pem", b->certdir);
	if ((err = gnutls_certificate_allocate_credentials(&cred)) < 0) {
		fail("client: credentials", err);
		return -1;
	}
	if ((err = gnutls_certificate_set_x509_trust_file(cred, root, GNUTLS_X509_FMT_PEM)) <= 0) {
		fail("client: trust anchor", err);
		gnutls_certificate_free_credentials(cred);
		return -1;
	}
	start = now();
	for (i = 0; i < b->count; i++) {
		if (client_one(b, prio, cred) < 0) {
			gnutls_certificate_free_credentials(cred);
			return -1;
		}
	}
	printf("%.3f\n", (double)b->count / (now() - start));
	gnutls_certificate_free_credentials(cred);
	return 0;
}

static int parse_args(int argc, char **argv, struct bench *b)
{
	char *end;

	if (argc != 5 || strcmp(argv[1], "handshakes") != 0) {
		return -1;
	}
	b->count = strtol(argv[2], &end, 10);
	if (*end != '\0' || b->count <= 0 || b->count > 1L << 20) {
		return -1;
	}
	b->port = (int)strtol(argv[3], &end, 10);
	if (*end != '\0' || b->port <= 0 || b->port > 65535) {
		return -1;
	}
	b->certdir = argv[4];
	return 0;
}

int main(int argc, char **argv)
{
	struct bench b = {0};
	gnutls_priority_t prio;
	int lfd, status = 0, rc, err;
	pid_t pid;

	if (parse_args(argc, argv, &b) < 0) {
		fprintf(stderr, "usage: gtls_pair handshakes COUNT PORT CERTDIR\n");
		return 2;
	}
	if (bench_check_loaded("gtls_pair") < 0) {
		return 77;
	}
	if ((err = gnutls_global_init()) < 0 ||
	    (err = gnutls_priority_init(&prio, PRIORITY, NULL)) < 0) {
		fail("priorities", err);
		return 1;
	}
	lfd = listen_on(b.port);
	if (lfd < 0) {
		return 1;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("gtls_pair: fork");
		return 1;
	}
	if (pid == 0) {
		_exit(server(lfd, &b, prio));
	}
	close(lfd);
	rc = client(&b, prio);
	if (rc < 0) {
		kill(pid, SIGTERM);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		rc = -1;
	}
	gnutls_priority_deinit(prio);
	gnutls_global_deinit();
	return rc < 0 ? 1 : 0;
}
