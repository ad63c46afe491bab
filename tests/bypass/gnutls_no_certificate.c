/*
 * Attempt: TLS without any certificate to verify. "psk": PSK credentials
 * only (gnutls_psk_set_client_credentials, identity Client_identity, the
 * key given in hex) and a priority that allows the PSK key exchanges; "anon":
 * anonymous credentials (gnutls_anon_allocate_client_credentials) and
 * ANON-ECDH/ANON-DH at TLS 1.2. The server presents no certificate
 * (openssl s_server -nocert).
 *
 *   gnutls_no_certificate PORT psk HEXKEY | PORT anon
 */
#include "bypass_gnutls.h"

int main(int argc, char **argv)
{
	int port = bpg_port(argc, argv, "psk HEXKEY | anon");
	const char *mode = argc > 2 ? argv[2] : "";
	const char *prio, *err = NULL;
	gnutls_session_t s;
	int fd, ret;

	if (gnutls_global_init() < 0 || gnutls_init(&s, GNUTLS_CLIENT) < 0) {
		printf("SETUP_FAILED gnutls_init\n");
		return 2;
	}
	if (strcmp(mode, "psk") == 0 && argc > 3) {
		gnutls_psk_client_credentials_t psk;
		gnutls_datum_t key = {(unsigned char *)argv[3], (unsigned)strlen(argv[3])};

		gnutls_psk_allocate_client_credentials(&psk);
		gnutls_psk_set_client_credentials(psk, "Client_identity", &key, GNUTLS_PSK_KEY_HEX);
		gnutls_credentials_set(s, GNUTLS_CRD_PSK, psk);
		prio = "NORMAL:+PSK:+ECDHE-PSK:+DHE-PSK";
	} else if (strcmp(mode, "anon") == 0) {
		gnutls_anon_client_credentials_t anon;

		gnutls_anon_allocate_client_credentials(&anon);
		gnutls_credentials_set(s, GNUTLS_CRD_ANON, anon);
		prio = "NORMAL:-VERS-TLS1.3:+ANON-ECDH:+ANON-DH";
	} else {
		fprintf(stderr, "usage: %s PORT psk HEXKEY | PORT anon\n", argv[0]);
		return 2;
	}
	ret = gnutls_priority_set_direct(s, prio, &err);
	if (ret < 0) {
		printf("SETUP_FAILED priority %s at [%s]\n", gnutls_strerror_name(ret),
		       err ? err : "");
		return 2;
	}
	fd = bp_connect("127.0.0.1", port);
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 10000);
	if (!bpg_handshake(s)) {
		return 1;
	}
	return bpg_request(s);
}
