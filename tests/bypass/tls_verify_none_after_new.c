/*
 * Attempt: create the SSL from a context that verifies, then switch
 * verification off on the context (SSL_CTX_set_verify) and on the SSL
 * (SSL_set_verify) after SSL_new, before the handshake.
 *
 *   tls_verify_none_after_new PORT
 */
#include "bypass_tls.h"

int main(int argc, char **argv)
{
	int port = bpt_port(argc, argv);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;

	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	ssl = bpt_ssl(ctx, port);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	if (!bpt_handshake(ssl)) {
		return 1;
	}
	return bpt_request(ssl);
}
