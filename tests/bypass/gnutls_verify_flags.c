/*
 * Attempt: the program verifies against its own CAFILE, for the right name,
 * but with every GNUTLS_VERIFY_DISABLE_* / ALLOW_* flag and the very weak
 * profile, on the credentials (gnutls_certificate_set_verify_flags) and on
 * the session (gnutls_session_set_verify_cert's flags): an expired
 * certificate of a trusted chain passes on its own.
 *
 *   gnutls_verify_flags PORT CAFILE
 */
#include "bypass_gnutls.h"

int main(int argc, char **argv)
{
	int port = bpg_port(argc, argv, "CAFILE");
	gnutls_certificate_credentials_t cred = bpg_creds(argc > 2 ? argv[2] : NULL);
	gnutls_session_t s;

	gnutls_certificate_set_verify_flags(cred, BPG_LOOSE_FLAGS);
	s = bpg_session(cred, port, -1);
	gnutls_session_set_verify_cert(s, "localhost", BPG_LOOSE_FLAGS);
	if (!bpg_handshake(s)) {
		return 1;
	}
	return bpg_request(s);
}
