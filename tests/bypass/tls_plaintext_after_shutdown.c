/*
 * Attempt: a genuine, verified TLS session, closed with SSL_shutdown (both
 * close_notify alerts exchanged), and then plaintext with write() on the
 * same socket, hoping the shim stops watching once TLS was seen.
 *
 *   tls_plaintext_after_shutdown PORT
 */
#include "bypass_tls.h"

int main(int argc, char **argv)
{
	int port = bpt_port(argc, argv);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = bpt_ssl(ctx, port);
	int ret;

	if (!bpt_handshake(ssl) || bpt_request(ssl) != 0) {
		return 2;
	}
	/* SSL_shutdown(3ssl): 0 means our close_notify went out, call again to
	 * wait for the peer's */
	ret = SSL_shutdown(ssl);
	if (ret == 0) {
		ret = SSL_shutdown(ssl);
	}
	printf("SHUTDOWN %d\n", ret);
	return bp_report(write(SSL_get_fd(ssl), BP_PLAINTEXT, BP_PLAINTEXT_LEN));
}
