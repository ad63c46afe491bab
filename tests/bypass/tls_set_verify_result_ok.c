/*
 * Attempt: overwrite the verification result with X509_V_OK
 * (SSL_set_verify_result) and carry on as if the handshake had been fine,
 * even when SSL_connect reported a failure.
 *
 *   tls_set_verify_result_ok PORT
 *
 * Prints "VERIFY_RESULT <n>": what SSL_get_verify_result says afterwards.
 */
#include "bypass_tls.h"

int main(int argc, char **argv)
{
	int port = bpt_port(argc, argv);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;

	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	ssl = bpt_ssl(ctx, port);
	(void)bpt_handshake(ssl);
	SSL_set_verify_result(ssl, X509_V_OK);
	printf("VERIFY_RESULT %ld\n", SSL_get_verify_result(ssl));
	return bpt_request(ssl);
}
