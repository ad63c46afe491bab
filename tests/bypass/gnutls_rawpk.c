/*
 * Attempt: a raw public key instead of a certificate (RFC 7250). The
 * session allows raw public keys (GNUTLS_ENABLE_RAWPK) and asks the server
 * for one (+CTYPE-SRV-RAWPK); the server (gnutls-serv --rawpkfile) sends a
 * bare key, no chain, nothing a trust anchor could vouch for. No
 * verification by the program.
 *
 *   gnutls_rawpk PORT
 */
#include "bypass_gnutls.h"

int main(int argc, char **argv)
{
	int port = bpg_port(argc, argv, "");
	gnutls_certificate_credentials_t cred = bpg_creds(NULL);
	const char *err = NULL;
	gnutls_session_t s;
	int fd, ret;

	if (gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_ENABLE_RAWPK) < 0) {
		printf("SETUP_FAILED gnutls_init\n");
		return 2;
	}
	ret = gnutls_priority_set_direct(s, "NORMAL:-CTYPE-ALL:+CTYPE-SRV-RAWPK:+CTYPE-CLI-ALL",
	                                 &err);
	if (ret < 0) {
		printf("SETUP_FAILED priority %s at [%s]\n", gnutls_strerror_name(ret),
		       err ? err : "");
		return 2;
	}
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_server_name_set(s, GNUTLS_NAME_DNS, "localhost", strlen("localhost"));
	fd = bp_connect("127.0.0.1", port);
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 10000);
	if (!bpg_handshake(s)) {
		return 1;
	}
	printf("SERVER_CERT_TYPE %s\n", gnutls_certificate_type_get_name(
	                                    gnutls_certificate_type_get2(s, GNUTLS_CTYPE_SERVER)));
	return bpg_request(s);
}
