/*
 * Attempt: an SSL BIO session with a NULL (unencrypted) cipher suite:
 * "NULL-SHA256:@SECLEVEL=0", TLS 1.2 at most, and a security callback on the
 * SSL that approves everything, so the security level the shim forces would
 * no longer be consulted. The SSL BIO sits on a socket BIO of the program's
 * own connection. The server's certificate is valid: only the cipher is
 * wrong, and the marker would cross in clear.
 *
 *   tls_bio_null PORT handshake|write
 */
#include "bypass_bio.h"

static int allow_all(const SSL *s, const SSL_CTX *ctx, int op, int bits, int nid, void *other,
                     void *ex)
{
	(void)s, (void)ctx, (void)op, (void)bits, (void)nid, (void)other, (void)ex;
	return 1;
}

int main(int argc, char **argv)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;
	BIO *bio;

	bpb_args(argc, argv, 3);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_cipher_list(ctx, "NULL-SHA256:@SECLEVEL=0");
	bio = bpb_socket(ctx, argv[1], &ssl);
	SSL_set_security_callback(ssl, allow_all);
	SSL_set_security_level(ssl, 0);
	return bpb_send(bio, ssl, argv[2]);
}
