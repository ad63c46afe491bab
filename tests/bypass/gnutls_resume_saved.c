/*
 * Attempt: resume a session saved from an earlier connection (made without
 * verification, or before the shim), so that no certificate is looked at.
 * "save" does a full handshake and request and writes the session data
 * (gnutls_session_get_data2) to FILE; "load" sets it
 * (gnutls_session_set_data) before the handshake and prints whether the
 * session was resumed.
 *
 *   gnutls_resume_saved PORT FILE save|load
 */
#include "bypass_gnutls.h"

int main(int argc, char **argv)
{
	int port = bpg_port(argc, argv, "FILE save|load");
	gnutls_certificate_credentials_t cred = bpg_creds(NULL);
	gnutls_session_t s = bpg_session(cred, port, -1);
	unsigned char buf[16384];
	gnutls_datum_t d;
	FILE *f;
	size_t n;
	int rc;

	if (argc < 4) {
		return 2;
	}
	if (strcmp(argv[3], "load") == 0) {
		f = fopen(argv[2], "rb");
		if (f == NULL) {
			printf("SETUP_FAILED no session file\n");
			return 2;
		}
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		if (gnutls_session_set_data(s, buf, n) < 0) {
			printf("SETUP_FAILED gnutls_session_set_data\n");
		}
	}
	if (!bpg_handshake(s)) {
		return 1;
	}
	printf("RESUMED %s\n", gnutls_session_is_resumed(s) ? "yes" : "no");
	rc = bpg_request(s);
	if (rc == 0 && strcmp(argv[3], "save") == 0 && gnutls_session_get_data2(s, &d) == 0) {
		f = fopen(argv[2], "wb");
		if (f != NULL) {
			fwrite(d.data, 1, d.size, f);
			fclose(f);
		}
		gnutls_free(d.data);
	}
	return rc;
}
