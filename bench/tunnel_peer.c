/*
 * The tunnel workloads of `make bench` (bench/README.md, "The tunnel rows"): one
 * plaintext client and one plaintext server, the same program whichever way
 * their bytes travel: direct, through the shim's tunnel (upgrade_tls in the
 * client, terminate_tls in the server), or through stunnel4. With --tls the
 * same side speaks TLS itself through OpenSSL (TLS 1.3, TLS_AES_128_GCM_SHA256
 * only, no tickets), the fixed far end a tunnel is measured against.
 *
 *   tunnel_peer server PORT PORTFILE [--tls CERTDIR]
 *       listens on 127.0.0.1:PORT (0: a port the kernel picks), writes the
 *       port to PORTFILE once it listens (the readiness signal), and serves one connection after
 * the other until killed. The first byte the client sends says what follows: 'B' + 8-byte length
 * reads that many bytes, answers 'k' 'P'                  echoes every byte until end of file 'C'
 * answers 'c' (the first response), then waits for end of file tunnel_peer client bulk MIB PORT
 * [--tls CERTDIR] sends MIB MiB in 16 KiB writes; prints MiB/s from the first byte written to the
 * server's 'k' tunnel_peer client ping N PORT [--tls CERTDIR] one connection, N one-byte round
 * trips; prints microseconds per round trip tunnel_peer client connect N PORT [--tls CERTDIR] N new
 * connections, each timed from socket() to the server's first response ('c'); prints the median in
 * microseconds
 *
 * CERTDIR is what tests/lib/certs.sh makes: root.pem (the client's anchor),
 * valid.pem + valid.key (the server's chain for localhost). Both sides set
 * TCP_NODELAY, as a request/response program would. Exit status 0 only when
 * every byte made it; with BENCH_EXPECT=WORD, 77 unless an object whose path
 * contains WORD is loaded (bench_expect.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "bench_expect.h"

#define CHUNK     16384
#define CIPHER    "TLS_AES_128_GCM_SHA256"
#define HOST_NAME "localhost"
#define MAX_CONNS 100000

/* One connection: plaintext on fd, or TLS through ssl. */
struct peer_conn {
	int fd;
	SSL *ssl;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *what)
{
	fprintf(stderr, "tunnel_peer: %s: %s\n", what, strerror(errno));
	ERR_print_errors_fp(stderr);
}

static SSL_CTX *ctx_new(bool server, const char *certdir)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	char path[4096], key[4096];

	if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, CIPHER) != 1) {
		goto err;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (server) {
		snprintf(path, sizeof(path), "%s/valid.pem", certdir);
		snprintf(key, sizeof(key), "%s/valid.key", certdir);
		if (SSL_CTX_use_certificate_chain_file(ctx, path) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
			goto err;
		}
		return ctx;
	}
	snprintf(path, sizeof(path), "%s/root.pem", certdir);
	if (SSL_CTX_load_verify_locations(ctx, path, NULL) != 1) {
		goto err;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
err:
	SSL_CTX_free(ctx);
	return NULL;
}

static void nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Wraps fd in TLS when ctx is set: 0, or -1 (fd left to the caller). */
static int conn_start(struct peer_conn *c, int fd, SSL_CTX *ctx, bool server)
{
	c->fd = fd;
	c->ssl = NULL;
	if (ctx == NULL) {
		return 0;
	}
	c->ssl = SSL_new(ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
		goto err;
	}
	if (server ? SSL_accept(c->ssl) != 1
	           : SSL_set_tlsext_host_name(c->ssl, HOST_NAME) != 1 ||
	                 SSL_set1_host(c->ssl, HOST_NAME) != 1 || SSL_connect(c->ssl) != 1) {
		goto err;
	}
	return 0;
err:
	fail(server ? "TLS accept" : "TLS connect");
	SSL_free(c->ssl);
	c->ssl = NULL;
	return -1;
}

static void conn_end(struct peer_conn *c)
{
	if (c->ssl != NULL) {
		(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	close(c->fd);
}

/* Some bytes (at most len); 0 at end of file, -1 on error. */
static long conn_read(struct peer_conn *c, void *buf, size_t len)
{
	if (c->ssl != NULL) {
		int n = SSL_read(c->ssl, buf, (int)len);
		if (n > 0) {
			return n;
		}
		return SSL_get_error(c->ssl, n) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
	}
	for (;;) {
		ssize_t n = read(c->fd, buf, len);
		if (n >= 0 || errno != EINTR) {
			return n;
		}
	}
}

/* Exactly len bytes; 0, or -1 (end of file counts as an error). */
static int conn_read_full(struct peer_conn *c, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		long n = conn_read(c, (char *)buf + got, len - got);
		if (n <= 0) {
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

static int conn_write(struct peer_conn *c, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		long n;
		if (c->ssl != NULL) {
			n = SSL_write(c->ssl, (const char *)buf + done, (int)(len - done));
		} else {
			n = write(c->fd, (const char *)buf + done, len - done);
			if (n < 0 && errno == EINTR) {
				continue;
			}
		}
		if (n <= 0) {
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The server. */

static int serve_bulk(struct peer_conn *c)
{
	static char buf[CHUNK];
	uint64_t want, got = 0;

	if (conn_read_full(c, &want, sizeof(want)) < 0) {
		return -1;
	}
	while (got < want) {
		long n = conn_read(c, buf, sizeof(buf));
		if (n <= 0) {
			return -1;
		}
		got += (uint64_t)n;
	}
	return conn_write(c, "k", 1);
}

static int serve_ping(struct peer_conn *c)
{
	char b;
	long n;

	while ((n = conn_read(c, &b, 1)) == 1) {
		if (conn_write(c, &b, 1) < 0) {
			return -1;
		}
	}
	return n == 0 ? 0 : -1;
}

static int serve_connect(struct peer_conn *c)
{
	char b;

	if (conn_write(c, "c", 1) < 0) {
		return -1;
	}
	return conn_read(c, &b, 1) == 0 ? 0 : -1;
}

static void serve_one(int fd, SSL_CTX *ctx)
{
	struct peer_conn c;
	char cmd;
	int rc = -1;

	nodelay(fd);
	if (conn_start(&c, fd, ctx, true) < 0) {
		close(fd);
		return;
	}
	if (conn_read_full(&c, &cmd, 1) == 0) {
		switch (cmd) {
		case 'B':
			rc = serve_bulk(&c);
			break;
		case 'P':
			rc = serve_ping(&c);
			break;
		case 'C':
			rc = serve_connect(&c);
			break;
		default:
			errno = EPROTO;
			break;
		}
	}
	if (rc < 0) {
		fail("server: a connection failed");
	}
	conn_end(&c);
}

/* SIGTERM ends the server through exit_group, not by the signal's default
 * action, so that callgrind (which writes its profile only at a normal exit)
 * can count a server it runs (bench/tunnel.sh). */
static void on_term(int sig)
{
	(void)sig;
	_exit(0);
}

static int server(long port, const char *portfile, SSL_CTX *ctx)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	socklen_t len = sizeof(sin);
	int one = 1, lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	FILE *f;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	signal(SIGTERM, on_term);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lfd, 128) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) < 0) {
		fail("server: listen");
		return 1;
	}
	f = fopen(portfile, "w");
	if (f == NULL || fprintf(f, "%u\n", ntohs(sin.sin_port)) < 0 || fclose(f) != 0) {
		fail("server: port file");
		return 1;
	}
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED) {
				continue;
			}
			fail("server: accept");
			return 1;
		}
		serve_one(fd, ctx);
	}
}

/* ------------------------------------------------------------------------ */
/* The client. */

static int client_open(struct peer_conn *c, int port, SSL_CTX *ctx)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		fail("client: connect");
		if (fd >= 0) {
			close(fd);
		}
		return -1;
	}
	nodelay(fd);
	if (conn_start(c, fd, ctx, false) < 0) {
		close(fd);
		return -1;
	}
	return 0;
}

static int client_bulk(struct peer_conn *c, long mib, double *figure)
{
	static char buf[CHUNK];
	uint64_t left = (uint64_t)mib * 1024 * 1024;
	double start = now();
	char hdr[1 + sizeof(uint64_t)] = {'B'}, ack;

	memcpy(hdr + 1, &left, sizeof(left));
	memset(buf, 'x', sizeof(buf));
	if (conn_write(c, hdr, sizeof(hdr)) < 0) {
		return -1;
	}
	while (left > 0) {
		size_t len = left < sizeof(buf) ? (size_t)left : sizeof(buf);
		if (conn_write(c, buf, len) < 0) {
			return -1;
		}
		left -= len;
	}
	if (conn_read_full(c, &ack, 1) < 0 || ack != 'k') {
		return -1;
	}
	*figure = (double)mib / (now() - start);
	return 0;
}

static int client_ping(struct peer_conn *c, long n, double *figure)
{
	double start;
	char b = 'P';
	long i;

	if (conn_write(c, &b, 1) < 0) {
		return -1;
	}
	start = now();
	for (i = 0; i < n; i++) {
		char got;
		b = (char)('a' + i % 26);
		if (conn_write(c, &b, 1) < 0 || conn_read_full(c, &got, 1) < 0 || got != b) {
			return -1;
		}
	}
	*figure = (now() - start) * 1e6 / (double)n;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Each connection from socket() to the first response byte. */
static int client_connect(int port, SSL_CTX *ctx, long n, double *figure)
{
	double *t = calloc((size_t)n, sizeof(*t));
	long i;

	if (t == NULL) {
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct peer_conn c;
		double start = now();
		char got;
		if (client_open(&c, port, ctx) < 0) {
			free(t);
			return -1;
		}
		if (conn_write(&c, "C", 1) < 0 || conn_read_full(&c, &got, 1) < 0 || got != 'c') {
			fail("client: no first response");
			conn_end(&c);
			free(t);
			return -1;
		}
		t[i] = (now() - start) * 1e6;
		conn_end(&c);
	}
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	*figure = t[n / 2];
	free(t);
	return 0;
}

static int client(const char *mode, long n, int port, SSL_CTX *ctx)
{
	struct peer_conn c;
	double figure = 0;
	int rc;

	if (strcmp(mode, "connect") == 0) {
		rc = client_connect(port, ctx, n, &figure);
	} else {
		if (client_open(&c, port, ctx) < 0) {
			return 1;
		}
		rc = strcmp(mode, "bulk") == 0 ? client_bulk(&c, n, &figure)
		                               : client_ping(&c, n, &figure);
		if (rc < 0) {
			fail(mode);
		}
		conn_end(&c);
	}
	if (rc < 0) {
		return 1;
	}
	printf("%.3f\n", figure);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: tunnel_peer server PORT PORTFILE [--tls CERTDIR]\n"
	                "       tunnel_peer client bulk|ping|connect N PORT [--tls CERTDIR]\n");
	exit(2);
}

/* "--tls CERTDIR" at argv[i], or nothing. */
static const char *tls_arg(int argc, char **argv, int i)
{
	if (argc == i) {
		return NULL;
	}
	if (argc != i + 2 || strcmp(argv[i], "--tls") != 0) {
		usage();
	}
	return argv[i + 1];
}

int main(int argc, char **argv)
{
	const char *certdir;
	SSL_CTX *ctx = NULL;
	char *end;
	long n, port;

	signal(SIGPIPE, SIG_IGN);
	if (bench_check_loaded("tunnel_peer") < 0) {
		return 77;
	}
	if (argc >= 4 && strcmp(argv[1], "server") == 0) {
		port = strtol(argv[2], &end, 10);
		if (*end != '\0' || port < 0 || port > 65535) {
			usage();
		}
		certdir = tls_arg(argc, argv, 4);
		if (certdir != NULL && (ctx = ctx_new(true, certdir)) == NULL) {
			fail("server: certificate");
			return 1;
		}
		return server(port, argv[3], ctx);
	}
	if (argc < 5 || strcmp(argv[1], "client") != 0 ||
	    (strcmp(argv[2], "bulk") != 0 && strcmp(argv[2], "ping") != 0 &&
	     strcmp(argv[2], "connect") != 0)) {
		usage();
	}
	n = strtol(argv[3], &end, 10);
	if (*end != '\0' || n <= 0 || n > MAX_CONNS * 10) {
		usage();
	}
	port = strtol(argv[4], &end, 10);
	if (*end != '\0' || port <= 0 || port > 65535) {
		usage();
	}
	certdir = tls_arg(argc, argv, 5);
	if (certdir != NULL && (ctx = ctx_new(false, certdir)) == NULL) {
		fail("client: trust anchor");
		return 1;
	}
	n = client(argv[2], n, (int)port, ctx);
	SSL_CTX_free(ctx);
	return (int)n;
}
