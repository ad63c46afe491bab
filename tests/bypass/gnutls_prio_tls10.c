/*
 * Attempt: a priority string that allows TLS 1.0 only (and SHA-1
 * signatures), no verification; set through gnutls_priority_set_direct
 * ("direct"), or gnutls_priority_init2 + gnutls_priority_set ("init").
 *
 *   gnutls_prio_tls10 PORT direct|init
 */
#include "bypass_gnutls.h"

#define TLS10_ONLY "NORMAL:-VERS-ALL:+VERS-TLS1.0:%VERIFY_ALLOW_SIGN_WITH_SHA1"

int main(int argc, char **argv)
{
	int port = bpg_port(argc, argv, "direct|init");
	gnutls_certificate_credentials_t cred = bpg_creds(NULL);
	gnutls_session_t s = bpg_session(cred, port, -1);
	gnutls_priority_t prio;
	const char *err = NULL;
	int ret;

	if (argc > 2 && strcmp(argv[2], "init") == 0) {
		ret = gnutls_priority_init2(&prio, TLS10_ONLY, &err, 0);
		if (ret == 0) {
			ret = gnutls_priority_set(s, prio);
		}
	} else {
		ret = gnutls_priority_set_direct(s, TLS10_ONLY, &err);
	}
	if (ret < 0) {
		printf("SETUP_FAILED priority %s\n", gnutls_strerror_name(ret));
		return 2;
	}
	if (!bpg_handshake(s)) {
		return 1;
	}
	return bpg_request(s);
}
