/*
 * Attempt: like tls_plaintext_after_shutdown, but the plaintext is framed as
 * a TLS application_data record (RFC 8446 5.1: type 23, legacy version
 * 0x0303, length), so a classifier that checks only record framing would
 * let it through: the body is not encrypted.
 *
 *   tls_record_after_shutdown PORT
 */
#include "bypass_tls.h"

int main(int argc, char **argv)
{
	int port = bpt_port(argc, argv);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = bpt_ssl(ctx, port);
	unsigned char rec[5 + BP_PLAINTEXT_LEN] = {23, 3, 3, 0, (unsigned char)BP_PLAINTEXT_LEN};
	int ret;

	if (!bpt_handshake(ssl) || bpt_request(ssl) != 0) {
		return 2;
	}
	ret = SSL_shutdown(ssl);
	if (ret == 0) {
		ret = SSL_shutdown(ssl);
	}
	printf("SHUTDOWN %d\n", ret);
	memcpy(rec + 5, BP_PLAINTEXT, BP_PLAINTEXT_LEN);
	return bp_report(write(SSL_get_fd(ssl), rec, sizeof(rec)));
}
