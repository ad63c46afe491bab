/*
 * The TLS workloads of `make bench` (bench/README.md): a client and a server in
 * one program (the server is a forked child), over 127.0.0.1, TLS 1.3 with
 * TLS_AES_128_GCM_SHA256 and ECDHE, the client verifying the server's chain
 * and host name as a careful program would. Run with and without the shim.
 *
 *   tls_pair bulk MIB PORT CERTDIR        client sends MIB MiB through SSL_write
 *                                         in 16 KiB records; prints MiB/s
 *   tls_pair handshakes N PORT CERTDIR    N new TCP connections, each a full
 *                                         handshake (no tickets, no resumption)
 *                                         and a one-byte reply; prints per second
 *
 * CERTDIR is what tests/lib/certs.sh makes: root.pem (trusted by the client),
 * valid.pem + valid.key (the server's chain, for localhost and 127.0.0.1).
 * The figure printed is measured in the client from the first connect (the
 * handshakes) or from the end of the handshake (bulk) to the server's last
 * byte. Exit status 0 only if every byte and every handshake made it.
 *
 * With BENCH_EXPECT=WORD in the environment, exits 77 unless a loaded object's
 * path contains WORD (the shim really is in the measured process).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <link.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "bench_expect.h"

#define RECORD    16384 /* RFC 8446 5.1: the largest plaintext of one record */
#define CIPHER    "TLS_AES_128_GCM_SHA256"
#define HOST_NAME "localhost"

struct bench {
	bool bulk;
	long count; /* MiB (bulk) or handshakes */
	int port;
	const char *certdir;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *what)
{
	fprintf(stderr, "tls_pair: %s\n", what);
	ERR_print_errors_fp(stderr);
}

/* The settings both ends share: TLS 1.3 only, one AES-GCM suite, no tickets
 * (every handshake is a new session, RFC 8446 4.6.1). */
static SSL_CTX *ctx_new(const SSL_METHOD *method)
{
	SSL_CTX *ctx = SSL_CTX_new(method);

	if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, CIPHER) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return ctx;
}

static SSL_CTX *server_ctx(const char *certdir)
{
	SSL_CTX *ctx = ctx_new(TLS_server_method());
	char chain[4096], key[4096];

	snprintf(chain, sizeof(chain), "%s/valid.pem", certdir);
	snprintf(key, sizeof(key), "%s/valid.key", certdir);
	if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, chain) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static SSL_CTX *client_ctx(const char *certdir)
{
	SSL_CTX *ctx = ctx_new(TLS_client_method());
	char root[4096];

	snprintf(root, sizeof(root), "%s/root.pem", certdir);
	if (ctx == NULL || SSL_CTX_load_verify_locations(ctx, root, NULL) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
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
		perror("tls_pair: listen");
		if (fd >= 0) {
			close(fd);
		}
		return -1;
	}
	return fd;
}

/* Bulk: reads until `want` bytes arrived, then acknowledges with one byte. */
static int serve_bulk(SSL *ssl, long long want)
{
	static char buf[RECORD];
	long long got = 0;

	while (got < want) {
		int n = SSL_read(ssl, buf, sizeof(buf));

		if (n <= 0) {
			fail("server: SSL_read");
			return -1;
		}
		got += n;
	}
	return SSL_write(ssl, "k", 1) == 1 ? 0 : -1;
}

/* One accepted connection: handshake, then the workload's server side. */
static int serve_one(SSL_CTX *ctx, int lfd, const struct bench *b)
{
	int fd = accept(lfd, NULL, NULL);
	SSL *ssl;
	int rc = -1;

	if (fd < 0) {
		perror("tls_pair: accept");
		return -1;
	}
	ssl = SSL_new(ctx);
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1) {
		fail("server: handshake");
		goto out;
	}
	if (b->bulk) {
		rc = serve_bulk(ssl, b->count * 1024 * 1024);
	} else {
		rc = SSL_write(ssl, "k", 1) == 1 ? 0 : -1;
	}
out:
	SSL_free(ssl);
	close(fd);
	return rc;
}

static int server(int lfd, const struct bench *b)
{
	SSL_CTX *ctx = server_ctx(b->certdir);
	long i, conns = b->bulk ? 1 : b->count;

	if (ctx == NULL) {
		fail("server: certificate");
		return 1;
	}
	for (i = 0; i < conns; i++) {
		if (serve_one(ctx, lfd, b) < 0) {
			SSL_CTX_free(ctx);
			return 1;
		}
	}
	SSL_CTX_free(ctx);
	return 0;
}

/* A verified connection to the server, or NULL. */
static SSL *client_connect(SSL_CTX *ctx, int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	SSL *ssl = NULL;

	loopback(&sin, port);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("tls_pair: connect");
		goto err;
	}
	ssl = SSL_new(ctx);
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 ||
	    SSL_set_tlsext_host_name(ssl, HOST_NAME) != 1 || SSL_set1_host(ssl, HOST_NAME) != 1 ||
	    SSL_connect(ssl) != 1) {
		fail("client: handshake");
		goto err;
	}
	return ssl;
err:
	SSL_free(ssl);
	if (fd >= 0) {
		close(fd);
	}
	return NULL;
}

static void client_close(SSL *ssl)
{
	int fd = SSL_get_fd(ssl);

	SSL_free(ssl);
	close(fd);
}

/* The client side of bulk: MiB/s from the end of the handshake to the ack. */
static int client_bulk(SSL_CTX *ctx, const struct bench *b, double *rate)
{
	static char buf[RECORD];
	long long left = b->count * 1024 * 1024;
	SSL *ssl = client_connect(ctx, b->port);
	double start;
	char ack;

	if (ssl == NULL) {
		return -1;
	}
	memset(buf, 'x', sizeof(buf));
	start = now();
	while (left > 0) {
		int len = left < RECORD ? (int)left : RECORD;

		if (SSL_write(ssl, buf, len) != len) {
			fail("client: SSL_write");
			client_close(ssl);
			return -1;
		}
		left -= len;
	}
	if (SSL_read(ssl, &ack, 1) != 1) {
		fail("client: no acknowledgement");
		client_close(ssl);
		return -1;
	}
	*rate = (double)b->count / (now() - start);
	client_close(ssl);
	return 0;
}

/* The client side of handshakes: each a new connection, done when the server's
 * byte arrived (so the server finished its side too). */
static int client_handshakes(SSL_CTX *ctx, const struct bench *b, double *rate)
{
	double start = now();
	long i;

	for (i = 0; i < b->count; i++) {
		SSL *ssl = client_connect(ctx, b->port);
		char ack;

		if (ssl == NULL) {
			return -1;
		}
		if (SSL_read(ssl, &ack, 1) != 1) {
			fail("client: no reply");
			client_close(ssl);
			return -1;
		}
		client_close(ssl);
	}
	*rate = (double)b->count / (now() - start);
	return 0;
}

static int client(const struct bench *b)
{
	SSL_CTX *ctx = client_ctx(b->certdir);
	double rate = 0;
	int rc;

	if (ctx == NULL) {
		fail("client: trust anchor");
		return -1;
	}
	rc = b->bulk ? client_bulk(ctx, b, &rate) : client_handshakes(ctx, b, &rate);
	SSL_CTX_free(ctx);
	if (rc == 0) {
		printf("%.3f\n", rate);
	}
	return rc;
}

static int parse_args(int argc, char **argv, struct bench *b)
{
	char *end;

	if (argc != 5) {
		return -1;
	}
	if (strcmp(argv[1], "bulk") == 0) {
		b->bulk = true;
	} else if (strcmp(argv[1], "handshakes") != 0) {
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
	int lfd, status = 0, rc;
	pid_t pid;

	if (parse_args(argc, argv, &b) < 0) {
		fprintf(stderr, "usage: tls_pair bulk|handshakes COUNT PORT CERTDIR\n");
		return 2;
	}
	if (bench_check_loaded("tls_pair") < 0) {
		return 77;
	}
	lfd = listen_on(b.port);
	if (lfd < 0) {
		return 1;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("tls_pair: fork");
		return 1;
	}
	if (pid == 0) {
		_exit(server(lfd, &b));
	}
	close(lfd);
	rc = client(&b);
	if (rc < 0) {
		kill(pid, SIGTERM);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		rc = -1;
	}
	return rc < 0 ? 1 : 0;
}
