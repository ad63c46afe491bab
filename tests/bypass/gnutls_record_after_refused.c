/*
 * Attempt: no verification; when gnutls_handshake fails, call it again, then
 * send the request anyway: gnutls_record_send on the failed session, then
 * write() of the plaintext on its socket. Prints the handshake's line, then
 * "HANDSHAKE_AGAIN <ret> <name>", "RECORD_SEND <ret> <name>" and
 * "WRITE SENT n" / "WRITE REFUSED ERRNO".
 * Exits 0 only if a response came back through the session.
 *
 *   gnutls_record_after_refused PORT
 */
#include "bypass_gnutls.h"

int main(int argc, char **argv)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	int port = bpg_port(argc, argv, "");
	gnutls_certificate_credentials_t cred = bpg_creds(NULL);
	gnutls_session_t s = bpg_session(cred, port, -1);
	int fd = gnutls_transport_get_int(s);
	ssize_t n;
	int ret;

	if (bpg_handshake(s)) {
		return bpg_request(s);
	}
	ret = gnutls_handshake(s);
	printf("HANDSHAKE_AGAIN %d %s\n", ret, gnutls_strerror_name(ret));
	n = gnutls_record_send(s, req, strlen(req));
	printf("RECORD_SEND %zd %s\n", n, n < 0 ? gnutls_strerror_name((int)n) : "-");
	n = write(fd, BP_PLAINTEXT, BP_PLAINTEXT_LEN);
	if (n < 0) {
		printf("WRITE REFUSED %s\n", strerrorname_np(errno));
	} else {
		printf("WRITE SENT %zd\n", n);
	}
	return 1;
}
