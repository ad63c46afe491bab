/*
 * A careless TLS client: connects to 127.0.0.1:PORT, does a TLS handshake and
 * "GET / HTTP/1.0", after switching certificate verification off in the way
 * MODE says. Under tlsguard every mode must fail against a bad certificate.
 *
 *   careless_client MODE PORT [SNI|-] [THREADS]
 *
 * MODE: none       SSL_CTX_set_verify(SSL_VERIFY_NONE)
 *       ssl-none   SSL_set_verify(SSL_VERIFY_NONE) after SSL_new
 *       cb1        SSL_VERIFY_PEER with a verify callback that returns 1
 *       certcb1    SSL_CTX_set_cert_verify_callback returning 1
 *       seclevel0  security level 0, NULL and anonymous ciphers allowed
 *       tls10      maximum version TLS 1.0 (and level 0, which TLS 1.0 needs)
 *       setresult  SSL_set_verify_result(X509_V_OK) after the handshake, then
 *                  insists on SSL_get_verify_result() == X509_V_OK
 *       after      non-blocking; SSL_VERIFY_NONE set once SSL_connect started
 *       ktls       SSL_OP_ENABLE_KTLS; prints KTLS_OPTION=0|1 after the handshake
 *       generic    SSL_VERIFY_NONE on a TLS_method() (either side) context
 *
 * Prints HANDSHAKE_OK or "HANDSHAKE_FAILED <SSL_get_error> <verify result>",
 * then the first line of the response. Exits 0 only if a response came back
 * (with THREADS > 1: only if every thread got one).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

struct job {
	const char *mode;
	int port;
	const char *sni;
	bool quiet;
	int ok;
};

static int accept_all(int ok, X509_STORE_CTX *x)
{
	(void)ok, (void)x;
	return 1;
}

static int accept_chain(X509_STORE_CTX *x, void *arg)
{
	(void)x, (void)arg;
	return 1;
}

static bool is(const struct job *j, const char *mode)
{
	return strcmp(j->mode, mode) == 0;
}

static SSL_CTX *careless_ctx(const struct job *j)
{
	/* TLS_method() serves both sides: its SSLs say "server" until
	 * SSL_connect (libpq does this) */
	SSL_CTX *ctx = SSL_CTX_new(is(j, "generic") ? TLS_method() : TLS_client_method());

	if (ctx == NULL) {
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (is(j, "cb1")) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_all);
	} else if (is(j, "certcb1")) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_cert_verify_callback(ctx, accept_chain, NULL);
	} else if (is(j, "seclevel0")) {
		SSL_CTX_set_security_level(ctx, 0);
		SSL_CTX_set_cipher_list(ctx, "ALL:eNULL:aNULL:NULL@SECLEVEL=0");
	} else if (is(j, "tls10")) {
		SSL_CTX_set_cipher_list(ctx, "DEFAULT@SECLEVEL=0");
		SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
		SSL_CTX_set_max_proto_version(ctx, TLS1_VERSION);
	} else if (is(j, "ktls")) {
		SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS);
	}
	return ctx;
}

static int tcp_connect(int port, bool nonblocking)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | (nonblocking ? SOCK_NONBLOCK : 0), 0);

	if (fd < 0) {
		return -1;
	}
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Drives a non-blocking handshake to its end, switching verification off
 * while it is under way. */
static int connect_after(SSL *ssl, int fd)
{
	struct pollfd p = {.fd = fd};
	int ret, err, rounds = 0;

	for (;;) {
		ret = SSL_connect(ssl);
		if (ret == 1) {
			return 1;
		}
		err = SSL_get_error(ssl, ret);
		if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
			return ret;
		}
		if (rounds++ == 0) {
			SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
		}
		p.events = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		if (poll(&p, 1, 5000) <= 0) {
			return -1;
		}
	}
}

static void report_failure(const struct job *j, SSL *ssl, int ret)
{
	if (!j->quiet) {
		printf("HANDSHAKE_FAILED %d %ld\n", SSL_get_error(ssl, ret),
		       SSL_get_verify_result(ssl));
		ERR_print_errors_fp(stdout);
	}
}

static int handshake(const struct job *j, SSL *ssl, int fd)
{
	if (is(j, "after")) {
		return connect_after(ssl, fd);
	}
	return SSL_connect(ssl);
}

static int talk(struct job *j, SSL *ssl)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	char buf[512];
	int n;

	if (SSL_write(ssl, req, (int)strlen(req)) <= 0) {
		if (!j->quiet) {
			printf("WRITE_FAILED\n");
		}
		return -1;
	}
	/* non-blocking in mode "after": wait for the answer */
	while ((n = SSL_read(ssl, buf, sizeof(buf) - 1)) <= 0 &&
	       SSL_get_error(ssl, n) == SSL_ERROR_WANT_READ) {
		struct pollfd p = {.fd = SSL_get_fd(ssl), .events = POLLIN};

		if (poll(&p, 1, 5000) <= 0) {
			break;
		}
	}
	if (n <= 0) {
		if (!j->quiet) {
			printf("READ_FAILED %d\n", SSL_get_error(ssl, n));
		}
		return -1;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!j->quiet) {
		printf("RESPONSE %s\n", buf);
	}
	return 0;
}

static void *run(void *arg)
{
	struct job *j = arg;
	SSL_CTX *ctx = careless_ctx(j);
	SSL *ssl = ctx != NULL ? SSL_new(ctx) : NULL;
	int fd = tcp_connect(j->port, is(j, "after"));
	int ret;

	if (ssl == NULL || fd < 0) {
		printf("SETUP_FAILED\n");
		goto out;
	}
	if (is(j, "ssl-none")) {
		SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	}
	if (j->sni != NULL) {
		SSL_set_tlsext_host_name(ssl, j->sni);
	}
	SSL_set_fd(ssl, fd);
	ret = handshake(j, ssl, fd);
	if (ret != 1) {
		report_failure(j, ssl, ret);
		goto out;
	}
	if (is(j, "setresult")) {
		SSL_set_verify_result(ssl, X509_V_OK);
		if (SSL_get_verify_result(ssl) != X509_V_OK) {
			printf("VERIFY_RESULT %ld\n", SSL_get_verify_result(ssl));
			goto out;
		}
	}
	if (!j->quiet) {
		printf("HANDSHAKE_OK %s\n", SSL_get_version(ssl));
	}
	if (is(j, "ktls") && !j->quiet) {
		printf("KTLS_OPTION=%d\n", (SSL_get_options(ssl) & SSL_OP_ENABLE_KTLS) != 0);
	}
	j->ok = talk(j, ssl) == 0;
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	if (fd >= 0) {
		close(fd);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct job jobs[64];
	pthread_t tids[64];
	int i, n = argc > 4 ? atoi(argv[4]) : 1, good = 0;

	if (argc < 3 || n < 1 || n > 64) {
		fprintf(stderr, "usage: careless_client MODE PORT [SNI|-] [THREADS<=64]\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		jobs[i] = (struct job){.mode = argv[1], .port = atoi(argv[2]), .quiet = i > 0};
		jobs[i].sni = argc > 3 && strcmp(argv[3], "-") != 0 ? argv[3] : NULL;
		if (pthread_create(&tids[i], NULL, run, &jobs[i]) != 0) {
			return 2;
		}
	}
	for (i = 0; i < n; i++) {
		pthread_join(tids[i], NULL);
		good += jobs[i].ok;
	}
	if (n > 1) {
		printf("OK_COUNT %d\n", good);
	}
	fflush(stdout);
	return good == n ? 0 : 1;
}
