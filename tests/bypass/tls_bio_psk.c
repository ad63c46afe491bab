/*
 * Attempt: an SSL BIO session authenticated by a pre-shared key only, with a
 * server that has no certificate at all (openssl s_server -psk -nocert):
 * nothing proves the server's identity to the policy's anchors. The client
 * switches verification off and gives the key from a PSK callback.
 *
 *   tls_bio_psk PORT handshake|write HEXKEY
 */
#include "bypass_bio.h"

static unsigned char key[64];
static long keylen;

static unsigned int psk_cb(SSL *ssl, const char *hint, char *identity, unsigned int max_identity,
                           unsigned char *psk, unsigned int max_psk)
{
	(void)ssl, (void)hint;
	snprintf(identity, max_identity, "Client_identity");
	if ((unsigned long)keylen > max_psk) {
		return 0;
	}
	memcpy(psk, key, (size_t)keylen);
	return (unsigned int)keylen;
}

int main(int argc, char **argv)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	unsigned char *k;
	SSL *ssl;
	BIO *bio;

	bpb_args(argc, argv, 4);
	k = OPENSSL_hexstr2buf(argv[3], &keylen);
	if (k == NULL || keylen > (long)sizeof(key)) {
		printf("SETUP_FAILED key\n");
		return 2;
	}
	memcpy(key, k, (size_t)keylen);
	OPENSSL_free(k);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_psk_client_callback(ctx, psk_cb);
	bio = bpb_connect(ctx, argv[1], &ssl);
	return bpb_send(bio, ssl, argv[2]);
}
