/*
 * Attempt: a ClientHello made by a GnuTLS session, written by the program
 * itself after that session is gone. A session's push function keeps the
 * first flight in memory instead of sending it; the session is deinit'ed;
 * then the program write()s those bytes on a fresh connection to
 * 127.0.0.1:PORT. No governed session wrote them: the hello must be judged
 * as TLS from something else (unmanaged), not tied to the dead session.
 *
 *   gnutls_replayed_hello PORT
 *
 * Prints "CAPTURED n", then SENT n / REFUSED ERRNO for the write.
 */
#include "bypass_gnutls.h"

static unsigned char hello[16384];
static size_t hello_len;

static ssize_t capture(gnutls_transport_ptr_t p, const void *buf, size_t len)
{
	(void)p;
	if (hello_len == 0 && len <= sizeof(hello)) {
		memcpy(hello, buf, len);
		hello_len = len;
	}
	return (ssize_t)len;
}

static ssize_t nothing(gnutls_transport_ptr_t p, void *buf, size_t len)
{
	(void)p, (void)buf, (void)len;
	errno = EAGAIN;
	return -1;
}

int main(int argc, char **argv)
{
	int port = bpg_port(argc, argv, "");
	gnutls_certificate_credentials_t cred = bpg_creds(NULL);
	gnutls_session_t s;
	int fd;

	if (gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0 ||
	    gnutls_set_default_priority(s) < 0) {
		printf("SETUP_FAILED gnutls_init\n");
		return 2;
	}
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_server_name_set(s, GNUTLS_NAME_DNS, "localhost", strlen("localhost"));
	gnutls_transport_set_push_function(s, capture);
	gnutls_transport_set_pull_function(s, nothing);
	gnutls_handshake(s); /* GNUTLS_E_AGAIN once the hello is "sent" */
	gnutls_deinit(s);
	printf("CAPTURED %zu\n", hello_len);
	if (hello_len == 0) {
		return 2;
	}
	fd = bp_connect("127.0.0.1", port);
	return bp_report(write(fd, hello, hello_len));
}
