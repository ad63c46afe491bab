/*
 * Attempt: the program asks for verification
 * (gnutls_session_set_verify_cert(session, "localhost", 0)), then installs
 * verify functions that accept every certificate, on the credentials
 * (gnutls_certificate_set_verify_function) and on the session
 * (gnutls_session_set_verify_function, which replaces the one
 * set_verify_cert installed).
 *
 *   gnutls_verify_accept_all PORT
 */
#include "bypass_gnutls.h"

int main(int argc, char **argv)
{
	int port = bpg_port(argc, argv, "");
	gnutls_certificate_credentials_t cred = bpg_creds(NULL);
	gnutls_session_t s;

	gnutls_certificate_set_verify_function(cred, bpg_accept_all);
	s = bpg_session(cred, port, -1);
	gnutls_session_set_verify_cert(s, "localhost", 0);
	gnutls_session_set_verify_function(s, bpg_accept_all);
	if (!bpg_handshake(s)) {
		return 1;
	}
	return bpg_request(s);
}
