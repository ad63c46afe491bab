/*
 * Attempt: SSL_VERIFY_PEER with a verify callback that forgives every error
 * by returning 1 (SSL_CTX_set_verify(3ssl)).
 *
 *   tls_verify_cb_accept PORT
 */
#include "bypass_tls.h"

static int forgive_everything(int preverify_ok, X509_STORE_CTX *x)
{
	(void)preverify_ok, (void)x;
	return 1;
}

int main(int argc, char **argv)
{
	int port = bpt_port(argc, argv);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;

	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, forgive_everything);
	ssl = bpt_ssl(ctx, port);
	if (!bpt_handshake(ssl)) {
		return 1;
	}
	return bpt_request(ssl);
}
