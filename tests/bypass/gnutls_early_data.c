/*
 * Attempt: TLS 1.3 early data (0-RTT). The program resumes a session saved
 * from an earlier connection (gnutls_resume_saved save), with
 * GNUTLS_ENABLE_EARLY_DATA, and queues a marker with
 * gnutls_record_send_early_data before the handshake: on resumption it
 * leaves with the ClientHello, before any certificate could be checked.
 *
 *   gnutls_early_data PORT FILE
 *
 * Prints the handshake's line, "EARLY_DATA accepted|not-accepted" (the
 * server's answer, GNUTLS_SFLAGS_EARLY_DATA) and "RESUMED yes|no".
 */
#include "bypass_gnutls.h"

#define MARKER "EARLY MARKER\n"

int main(int argc, char **argv)
{
	int port = bpg_port(argc, argv, "FILE");
	gnutls_certificate_credentials_t cred = bpg_creds(NULL);
	gnutls_session_t s;
	unsigned char buf[16384];
	FILE *f;
	size_t n;
	int fd;

	if (argc < 3 || (f = fopen(argv[2], "rb")) == NULL) {
		printf("SETUP_FAILED no session file\n");
		return 2;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_ENABLE_EARLY_DATA) < 0 ||
	    gnutls_set_default_priority(s) < 0) {
		printf("SETUP_FAILED gnutls_init\n");
		return 2;
	}
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_server_name_set(s, GNUTLS_NAME_DNS, "localhost", strlen("localhost"));
	fd = bp_connect("127.0.0.1", port);
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 10000);
	if (gnutls_session_set_data(s, buf, n) < 0) {
		printf("SETUP_FAILED gnutls_session_set_data\n");
	}
	if (gnutls_record_send_early_data(s, MARKER, strlen(MARKER)) < 0) {
		printf("EARLY_DATA not-queued\n");
	}
	if (!bpg_handshake(s)) {
		return 1;
	}
	printf("EARLY_DATA %s\n", gnutls_session_get_flags(s) & GNUTLS_SFLAGS_EARLY_DATA
	                              ? "accepted"
	                              : "not-accepted");
	printf("RESUMED %s\n", gnutls_session_is_resumed(s) ? "yes" : "no");
	return bpg_request(s);
}
