/*
 * Shared by the TLS bypass programs: a TCP connection to 127.0.0.1:PORT, a
 * handshake for "localhost" (SNI), and one HTTP request. Result lines:
 *
 *   HANDSHAKE_OK <version> <cipher>
 *   HANDSHAKE_FAILED <SSL_get_error> <SSL_get_verify_result>
 *   RESPONSE <first line>       an answer came back through the session
 *   NO_RESPONSE <SSL_get_error>
 *
 * and exit 0 only when a response came back.
 */
#ifndef BYPASS_TLS_H
#define BYPASS_TLS_H

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "bypass.h"

/* bpt_ssl: an SSL on a fresh connection to 127.0.0.1:PORT, SNI localhost. */
static inline SSL *bpt_ssl(SSL_CTX *ctx, int port)
{
	SSL *ssl = ctx != NULL ? SSL_new(ctx) : NULL;

	if (ssl == NULL) {
		printf("SETUP_FAILED SSL_new\n");
		exit(2);
	}
	SSL_set_fd(ssl, bp_connect("127.0.0.1", port));
	SSL_set_tlsext_host_name(ssl, "localhost");
	return ssl;
}

/* bpt_handshake: SSL_connect and its result line; 1 when it succeeded. */
static inline int bpt_handshake(SSL *ssl)
{
	int ret = SSL_connect(ssl);

	if (ret != 1) {
		printf("HANDSHAKE_FAILED %d %ld\n", SSL_get_error(ssl, ret),
		       SSL_get_verify_result(ssl));
		ERR_clear_error();
		return 0;
	}
	printf("HANDSHAKE_OK %s %s\n", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
	return 1;
}

/* bpt_request: "GET /" through the session; 0 when a response came back. */
static inline int bpt_request(SSL *ssl)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	char buf[256];
	int n;

	n = SSL_write(ssl, req, (int)strlen(req));
	if (n > 0) {
		n = SSL_read(ssl, buf, sizeof(buf) - 1);
	}
	if (n <= 0) {
		printf("NO_RESPONSE %d\n", SSL_get_error(ssl, n));
		return 1;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	printf("RESPONSE %s\n", buf);
	return 0;
}

/* bpt_port: PORT from the command line, or a usage message. */
static inline int bpt_port(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		exit(2);
	}
	return atoi(argv[1]);
}

#endif
