/*
 * Attempt: an SSL BIO session whose SSL is moved to another context
 * (SSL_set_SSL_CTX) from the program's info callback right after the
 * ServerHello arrived. The second context trusts the untrusted server's own
 * root: libssl then verifies the server's chain against that store.
 *
 *   tls_bio_set_ctx PORT handshake|write CAFILE
 */
#include "bypass_bio.h"

static SSL_CTX *other;
static int switched;

static void info_cb(const SSL *ssl, int where, int ret)
{
	(void)ret;
	if ((where & SSL_CB_LOOP) != 0 && SSL_get_state(ssl) == TLS_ST_CR_SRVR_HELLO && !switched) {
		switched = 1;
		SSL_set_SSL_CTX((SSL *)ssl, other);
	}
}

int main(int argc, char **argv)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;
	BIO *bio;
	int rc;

	bpb_args(argc, argv, 4);
	other = SSL_CTX_new(TLS_client_method());
	if (other == NULL || SSL_CTX_load_verify_locations(other, argv[3], NULL) != 1) {
		printf("SETUP_FAILED %s\n", argv[3]);
		return 2;
	}
	SSL_CTX_set_verify(other, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_info_callback(ctx, info_cb);
	bio = bpb_connect(ctx, argv[1], &ssl);
	rc = bpb_send(bio, ssl, argv[2]);
	printf("SWITCHED %d\n", switched);
	return rc;
}
