/*
 * Attempt: a verified TLS 1.2 session (the program asks for verification
 * against CAFILE), then priorities with NULL ciphers only
 * (gnutls_priority_set_direct) and a second gnutls_handshake: a
 * renegotiation, after the checks of the first handshake, to a session that
 * encrypts nothing.
 *
 *   gnutls_renegotiate_null PORT CAFILE
 *
 * Prints the first handshake's line and its cipher, then "REHANDSHAKE_OK
 * <cipher>" or "REHANDSHAKE_FAILED <code> <name>", then the request's line.
 */
#include "bypass_gnutls.h"

#define NULL_ONLY                                                                                  \
	"NONE:+VERS-TLS1.2:+NULL:+SHA1:+SHA256:+ECDHE-ECDSA:+SIGN-ALL:+GROUP-ALL:+COMP-NULL:"      \
	"+CTYPE-X509"

int main(int argc, char **argv)
{
	int port = bpg_port(argc, argv, "CAFILE");
	gnutls_certificate_credentials_t cred = bpg_creds(argc > 2 ? argv[2] : NULL);
	gnutls_session_t s = bpg_session(cred, port, -1);
	const char *err = NULL;
	int ret;

	gnutls_priority_set_direct(s, "NORMAL:-VERS-TLS1.3:+NULL:%NO_ETM", &err);
	gnutls_session_set_verify_cert(s, "localhost", 0);
	if (!bpg_handshake(s)) {
		return 1;
	}
	printf("CIPHER %s\n", gnutls_cipher_get_name(gnutls_cipher_get(s)));
	if (gnutls_priority_set_direct(s, NULL_ONLY, &err) < 0) {
		printf("SETUP_FAILED priority at [%s]\n", err ? err : "");
	}
	do {
		ret = gnutls_handshake(s);
	} while (ret < 0 && gnutls_error_is_fatal(ret) == 0);
	if (ret < 0) {
		printf("REHANDSHAKE_FAILED %d %s\n", ret, gnutls_strerror_name(ret));
	} else {
		printf("REHANDSHAKE_OK %s\n", gnutls_cipher_get_name(gnutls_cipher_get(s)));
	}
	return bpg_request(s);
}
