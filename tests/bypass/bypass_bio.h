/*
 * Shared by the "Handshake paths" programs: an SSL BIO client
 * (BIO_new_ssl_connect) to 127.0.0.1:PORT whose handshake is driven either by
 * BIO_do_handshake or by the first BIO_write, and one marker written through
 * it. Result lines:
 *
 *   HANDSHAKE_OK <version> <cipher>   BIO_do_handshake succeeded
 *   HANDSHAKE_FAILED                  it failed
 *   SENT <n> <cipher>                 the marker went through the session
 *   REFUSED                           the write failed
 *
 * and exit 0 when the marker was sent, 1 when it was refused, 2 on a setup
 * error.
 */
#ifndef BYPASS_BIO_H
#define BYPASS_BIO_H

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "bypass.h"

/* What must never reach the server unprotected. */
#define BPB_MARKER "GET /TLSGUARD-MARKER-7f3a HTTP/1.0\r\n\r\n"

/* bpb_connect: an SSL BIO for ctx to 127.0.0.1:PORT; *ssl is its SSL. */
static inline BIO *bpb_connect(SSL_CTX *ctx, const char *port, SSL **ssl)
{
	char target[64];
	BIO *bio = ctx != NULL ? BIO_new_ssl_connect(ctx) : NULL;

	if (bio == NULL || BIO_get_ssl(bio, ssl) != 1 || *ssl == NULL) {
		printf("SETUP_FAILED BIO_new_ssl_connect\n");
		exit(2);
	}
	snprintf(target, sizeof(target), "127.0.0.1:%s", port);
	BIO_set_conn_hostname(bio, target);
	return bio;
}

/* bpb_socket: an SSL BIO for ctx pushed onto a socket BIO of a TCP
 * connection to 127.0.0.1:PORT the program made itself; *ssl is its SSL. */
static inline BIO *bpb_socket(SSL_CTX *ctx, const char *port, SSL **ssl)
{
	BIO *bio = ctx != NULL ? BIO_new_ssl(ctx, 1) : NULL;
	BIO *sock = BIO_new_socket(bp_connect("127.0.0.1", atoi(port)), BIO_CLOSE);

	if (bio == NULL || sock == NULL || BIO_get_ssl(bio, ssl) != 1 || *ssl == NULL) {
		printf("SETUP_FAILED BIO_new_ssl\n");
		exit(2);
	}
	return BIO_push(bio, sock);
}

/* bpb_send: the handshake ("handshake": BIO_do_handshake first; "write": the
 * write drives it), then the marker; the exit status. */
static inline int bpb_send(BIO *bio, SSL *ssl, const char *how)
{
	int n;

	if (strcmp(how, "handshake") == 0) {
		if (BIO_do_handshake(bio) != 1) {
			printf("HANDSHAKE_FAILED\n");
			ERR_clear_error();
			return 1;
		}
		printf("HANDSHAKE_OK %s %s\n", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
	}
	n = BIO_write(bio, BPB_MARKER, (int)strlen(BPB_MARKER));
	if (n <= 0) {
		printf("REFUSED\n");
		ERR_clear_error();
		return 1;
	}
	(void)BIO_flush(bio);
	printf("SENT %d %s\n", n, SSL_get_cipher_name(ssl));
	return 0;
}

/* bpb_args: PORT and HOW from the command line, or a usage message. */
static inline void bpb_args(int argc, char **argv, int need)
{
	if (argc < need || (strcmp(argv[2], "handshake") != 0 && strcmp(argv[2], "write") != 0)) {
		fprintf(stderr, "usage: %s PORT handshake|write ...\n", argv[0]);
		exit(2);
	}
}

#endif
