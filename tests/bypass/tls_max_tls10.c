/*
 * Attempt: cap the protocol at TLS 1.0 (and security level 0, which TLS 1.0
 * needs in OpenSSL 3), with verification off.
 *
 *   tls_max_tls10 PORT
 */
#include "bypass_tls.h"

int main(int argc, char **argv)
{
	int port = bpt_port(argc, argv);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;

	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_cipher_list(ctx, "DEFAULT@SECLEVEL=0");
	SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_VERSION);
	ssl = bpt_ssl(ctx, port);
	if (!bpt_handshake(ssl)) {
		return 1;
	}
	return bpt_request(ssl);
}
