/*
 * Attempt: a custom push function (gnutls_transport_set_push_function) that
 * writes plaintext on the socket before the ClientHello ("before") or
 * instead of it ("instead"), through the program's own send().
 *
 *   gnutls_push_plaintext PORT before|instead
 *
 * Prints SENT n / REFUSED ERRNO for the plaintext, then the handshake's
 * result line; exits 1 when the plaintext was refused, 0 when it was sent.
 */
#include "bypass_gnutls.h"

static int plaintext_done, refused;
static const char *mode;

static ssize_t push(gnutls_transport_ptr_t p, const void *buf, size_t len)
{
	int fd = (int)(intptr_t)p;

	if (!plaintext_done) {
		plaintext_done = 1;
		ssize_t n = send(fd, BP_PLAINTEXT, BP_PLAINTEXT_LEN, MSG_NOSIGNAL);

		refused = bp_report(n);
		if (n < 0) {
			return -1;
		}
		if (strcmp(mode, "instead") == 0) {
			return (ssize_t)len;
		}
	}
	return send(fd, buf, len, MSG_NOSIGNAL);
}

static ssize_t pull(gnutls_transport_ptr_t p, void *buf, size_t len)
{
	return recv((int)(intptr_t)p, buf, len, 0);
}

static int pull_timeout(gnutls_transport_ptr_t p, unsigned ms)
{
	(void)p, (void)ms;
	return 1;
}

int main(int argc, char **argv)
{
	int port = bpg_port(argc, argv, "before|instead");
	gnutls_certificate_credentials_t cred = bpg_creds(NULL);
	int fd = bp_connect("127.0.0.1", port);
	gnutls_session_t s = bpg_session(cred, port, fd);

	mode = argc > 2 ? argv[2] : "before";
	gnutls_transport_set_ptr(s, (gnutls_transport_ptr_t)(intptr_t)fd);
	gnutls_transport_set_push_function(s, push);
	gnutls_transport_set_pull_function(s, pull);
	gnutls_transport_set_pull_timeout_function(s, pull_timeout);
	bpg_handshake(s);
	fflush(stdout);
	return refused;
}
