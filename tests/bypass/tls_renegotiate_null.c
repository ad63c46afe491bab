/*
 * Attempt: a verified TLS 1.2 session (ECDHE-RSA-AES128-GCM-SHA256), then a
 * renegotiation to NULL-SHA256 (no encryption) before the marker is written:
 * the program approves every security check with its own callback, clears
 * SSL_OP_NO_RENEGOTIATION (SSL_clear_options, or "Options -NoRenegotiation"
 * through SSL_CONF_cmd, which sets the SSL's options directly), and asks for
 * the renegotiation itself.
 *
 *   tls_renegotiate_null PORT clear|conf
 *
 * Prints HANDSHAKE_OK, then RENEGOTIATED <cipher> or RENEGOTIATE_FAILED, then
 * SENT <n> <cipher> or REFUSED.
 */
#include "bypass_tls.h"

static int allow_all(const SSL *s, const SSL_CTX *ctx, int op, int bits, int nid, void *other,
                     void *ex)
{
	(void)s, (void)ctx, (void)op, (void)bits, (void)nid, (void)other, (void)ex;
	return 1;
}

static const char marker[] = "GET /TLSGUARD-MARKER-7f3a HTTP/1.0\r\n\r\n";

int main(int argc, char **argv)
{
	int port = bpt_port(argc, argv);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL_CONF_CTX *cctx;
	SSL *ssl;
	int n;

	if (argc < 3) {
		return 2;
	}
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_cipher_list(ctx, "ECDHE-RSA-AES128-GCM-SHA256:NULL-SHA256:@SECLEVEL=0");
	ssl = bpt_ssl(ctx, port);
	if (!bpt_handshake(ssl)) {
		return 1;
	}
	SSL_set_security_callback(ssl, allow_all);
	SSL_set_security_level(ssl, 0);
	if (strcmp(argv[2], "conf") == 0) {
		cctx = SSL_CONF_CTX_new();
		SSL_CONF_CTX_set_flags(cctx, SSL_CONF_FLAG_FILE | SSL_CONF_FLAG_CLIENT);
		SSL_CONF_CTX_set_ssl(cctx, ssl);
		SSL_CONF_cmd(cctx, "Options", "-NoRenegotiation");
		SSL_CONF_CTX_free(cctx);
	} else {
		SSL_clear_options(ssl, SSL_OP_NO_RENEGOTIATION);
	}
	SSL_set_cipher_list(ssl, "NULL-SHA256:@SECLEVEL=0");
	if (SSL_renegotiate(ssl) == 1 && SSL_do_handshake(ssl) == 1) {
		printf("RENEGOTIATED %s\n", SSL_get_cipher_name(ssl));
	} else {
		printf("RENEGOTIATE_FAILED\n");
		ERR_clear_error();
	}
	n = SSL_write(ssl, marker, (int)strlen(marker));
	if (n <= 0) {
		printf("REFUSED\n");
		return 1;
	}
	printf("SENT %d %s\n", n, SSL_get_cipher_name(ssl));
	return 0;
}
