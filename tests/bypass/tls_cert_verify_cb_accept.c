/*
 * Attempt: replace OpenSSL's whole chain verification with a callback that
 * returns 1 without looking (SSL_CTX_set_cert_verify_callback(3ssl)).
 *
 *   tls_cert_verify_cb_accept PORT
 */
#include "bypass_tls.h"

static int skip_chain_check(X509_STORE_CTX *x, void *arg)
{
	(void)x, (void)arg;
	return 1;
}

int main(int argc, char **argv)
{
	int port = bpt_port(argc, argv);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;

	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, skip_chain_check, NULL);
	ssl = bpt_ssl(ctx, port);
	if (!bpt_handshake(ssl)) {
		return 1;
	}
	return bpt_request(ssl);
}
