/*
 * Shared by the GnuTLS bypass programs (gnutls_*.c): a session on a TCP
 * connection to 127.0.0.1:PORT with SNI "localhost", its handshake, and one
 * HTTP request. Result lines:
 *
 *   HANDSHAKE_OK <version>
 *   HANDSHAKE_FAILED <gnutls error code> <error name>
 *   RESPONSE <first line>       an answer came back through the session
 *   NO_RESPONSE <gnutls error code> <error name>
 *
 * and exit 0 only when a response came back.
 */
#ifndef BYPASS_GNUTLS_H
#define BYPASS_GNUTLS_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "bypass.h"

/* Every flag that loosens the verification of gnutls_certificate_verify_peers,
 * and the weakest profile. */
#define BPG_LOOSE_FLAGS                                                                            \
	(GNUTLS_VERIFY_DISABLE_CA_SIGN | GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS |               \
	 GNUTLS_VERIFY_DISABLE_TIME_CHECKS | GNUTLS_VERIFY_DISABLE_CRL_CHECKS |                    \
	 GNUTLS_VERIFY_ALLOW_ANY_X509_V1_CA_CRT | GNUTLS_VERIFY_ALLOW_BROKEN |                     \
	 GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1 | GNUTLS_VERIFY_ALLOW_UNSORTED_CHAIN |                 \
	 GNUTLS_VERIFY_IGNORE_UNKNOWN_CRIT_EXTENSIONS |                                            \
	 GNUTLS_PROFILE_TO_VFLAGS(GNUTLS_PROFILE_VERY_WEAK))

/* bpg_accept_all: a verify function that accepts every certificate. */
static inline int bpg_accept_all(gnutls_session_t s)
{
	(void)s;
	return 0;
}

/* bpg_creds: certificate credentials, trusting CAFILE when it is not NULL. */
static inline gnutls_certificate_credentials_t bpg_creds(const char *cafile)
{
	gnutls_certificate_credentials_t cred;

	if (gnutls_global_init() < 0 || gnutls_certificate_allocate_credentials(&cred) < 0) {
		printf("SETUP_FAILED credentials\n");
		exit(2);
	}
	if (cafile != NULL &&
	    gnutls_certificate_set_x509_trust_file(cred, cafile, GNUTLS_X509_FMT_PEM) <= 0) {
		printf("SETUP_FAILED trust file\n");
		exit(2);
	}
	return cred;
}

/* bpg_session: a client session on FD with CRED, default priorities, SNI
 * localhost; FD -1 connects to 127.0.0.1:PORT. */
static inline gnutls_session_t bpg_session(gnutls_certificate_credentials_t cred, int port, int fd)
{
	gnutls_session_t s;

	if (gnutls_init(&s, GNUTLS_CLIENT) < 0 || gnutls_set_default_priority(s) < 0) {
		printf("SETUP_FAILED gnutls_init\n");
		exit(2);
	}
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_server_name_set(s, GNUTLS_NAME_DNS, "localhost", strlen("localhost"));
	/* gnutls_transport_set_int is a macro that evaluates its argument twice */
	if (fd < 0) {
		fd = bp_connect("127.0.0.1", port);
	}
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 10000);
	return s;
}

/* bpg_handshake: gnutls_handshake to its end and its result line; 1 when it
 * succeeded. */
static inline int bpg_handshake(gnutls_session_t s)
{
	int ret;

	do {
		ret = gnutls_handshake(s);
	} while (ret < 0 && gnutls_error_is_fatal(ret) == 0);
	if (ret < 0) {
		printf("HANDSHAKE_FAILED %d %s\n", ret, gnutls_strerror_name(ret));
		return 0;
	}
	printf("HANDSHAKE_OK %s\n", gnutls_protocol_get_name(gnutls_protocol_get_version(s)));
	return 1;
}

/* bpg_request: "GET /" through the session; 0 when a response came back. */
static inline int bpg_request(gnutls_session_t s)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	char buf[256];
	ssize_t n;

	n = gnutls_record_send(s, req, strlen(req));
	if (n >= 0) {
		do {
			n = gnutls_record_recv(s, buf, sizeof(buf) - 1);
		} while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
	}
	if (n <= 0) {
		printf("NO_RESPONSE %zd %s\n", n, n < 0 ? gnutls_strerror_name((int)n) : "EOF");
		return 1;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	printf("RESPONSE %s\n", buf);
	return 0;
}

/* bpg_port: PORT from the command line, or a usage message. */
static inline int bpg_port(int argc, char **argv, const char *usage)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PORT %s\n", argv[0], usage);
		exit(2);
	}
	return atoi(argv[1]);
}

#endif
