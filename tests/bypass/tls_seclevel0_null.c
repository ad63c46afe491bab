/*
 * Attempt: security level 0 and only the NULL (unencrypted) cipher suites,
 * capped at TLS 1.2 (TLS 1.3 has no NULL suites by default): a "TLS"
 * session whose records carry the plaintext, with verification off.
 *
 *   tls_seclevel0_null PORT
 */
#include "bypass_tls.h"

int main(int argc, char **argv)
{
	int port = bpt_port(argc, argv);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;

	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_cipher_list(ctx, "eNULL@SECLEVEL=0");
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	ssl = bpt_ssl(ctx, port);
	if (!bpt_handshake(ssl)) {
		return 1;
	}
	return bpt_request(ssl);
}
