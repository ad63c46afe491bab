/*
 * Attempt: a handshake that starts verified (gnutls_session_set_verify_cert
 * with the system's trust); once gnutls_handshake has returned
 * GNUTLS_E_AGAIN (its pull function says "would block" once, after the
 * ClientHello went out), the program installs accept-all verify functions on
 * the credentials and the session and every loosening flag, and goes on.
 *
 *   gnutls_verify_fn_after PORT
 */
#include "bypass_gnutls.h"

static int blocked_once;

static ssize_t push(gnutls_transport_ptr_t p, const void *buf, size_t len)
{
	return send((int)(intptr_t)p, buf, len, MSG_NOSIGNAL);
}

static ssize_t pull(gnutls_transport_ptr_t p, void *buf, size_t len)
{
	return recv((int)(intptr_t)p, buf, len, 0);
}

static ssize_t pull_once_again(gnutls_transport_ptr_t p, void *buf, size_t len)
{
	(void)p, (void)buf, (void)len;
	errno = EAGAIN;
	return -1;
}

static int pull_timeout(gnutls_transport_ptr_t p, unsigned ms)
{
	(void)p, (void)ms;
	return 1;
}

int main(int argc, char **argv)
{
	int port = bpg_port(argc, argv, "");
	gnutls_certificate_credentials_t cred = bpg_creds(NULL);
	int fd = bp_connect("127.0.0.1", port), ret;
	gnutls_session_t s = bpg_session(cred, port, fd);

	gnutls_certificate_set_x509_system_trust(cred);
	gnutls_session_set_verify_cert(s, "localhost", 0);
	gnutls_transport_set_ptr(s, (gnutls_transport_ptr_t)(intptr_t)fd);
	gnutls_transport_set_push_function(s, push);
	gnutls_transport_set_pull_function(s, pull_once_again);
	gnutls_transport_set_pull_timeout_function(s, pull_timeout);
	do {
		ret = gnutls_handshake(s);
		if (ret == GNUTLS_E_AGAIN && !blocked_once) {
			blocked_once = 1;
			gnutls_certificate_set_verify_function(cred, bpg_accept_all);
			gnutls_certificate_set_verify_flags(cred, BPG_LOOSE_FLAGS);
			gnutls_session_set_verify_function(s, bpg_accept_all);
			gnutls_transport_set_pull_function(s, pull);
		}
	} while (ret < 0 && gnutls_error_is_fatal(ret) == 0);
	printf("LOOSENED_DURING_HANDSHAKE %s\n", blocked_once ? "yes" : "no");
	if (ret < 0) {
		printf("HANDSHAKE_FAILED %d %s\n", ret, gnutls_strerror_name(ret));
		return 1;
	}
	printf("HANDSHAKE_OK %s\n", gnutls_protocol_get_name(gnutls_protocol_get_version(s)));
	return bpg_request(s);
}
