/*
 * Attempt: finish a verified session, then SSL_clear the same SSL and take it
 * to another server (SSL_clear(3ssl): "an SSL may be reused for a new
 * connection"). The second handshake must be held to the policy as the first
 * was, and a second trusted server must still work.
 *
 *   tls_clear_reuse FIRST_PORT SECOND_PORT
 */
#include "bypass_tls.h"

int main(int argc, char **argv)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method()); /* verifies nothing itself */
	SSL *ssl;

	if (argc < 3) {
		fprintf(stderr, "usage: %s FIRST_PORT SECOND_PORT\n", argv[0]);
		return 2;
	}
	ssl = bpt_ssl(ctx, atoi(argv[1]));
	if (!bpt_handshake(ssl) || bpt_request(ssl) != 0) {
		return 2; /* the verified session is the set-up, not the attempt */
	}
	(void)SSL_shutdown(ssl);
	if (SSL_clear(ssl) != 1) {
		printf("SETUP_FAILED SSL_clear\n");
		return 2;
	}
	SSL_set_fd(ssl, bp_connect("127.0.0.1", atoi(argv[2])));
	if (!bpt_handshake(ssl)) {
		return 1;
	}
	return bpt_request(ssl);
}
