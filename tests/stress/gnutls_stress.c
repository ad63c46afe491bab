/*
 * gnutls_stress: GnuTLS sessions handshaking at once in many threads under
 * the shim (run under ThreadSanitizer by tests/stress/run.sh), to find races
 * in the shim's GnuTLS layer: its per-session state, the policy's trust list
 * shared between sessions, the dispatch between libssl and GnuTLS.
 *
 * usage: gnutls_stress SECONDS GOOD_PORT BAD_PORT [THREADS]
 *
 * Both ports are TLS servers on 127.0.0.1 that the policy requires TLS for:
 * GOOD_PORT has a certificate the policy trusts, BAD_PORT an expired one.
 * Every thread loops until SECONDS have passed, each round one careless
 * session (no verification asked for, an accept-all verify function) to each:
 * the good one must get its answer, the bad one must fail in gnutls_handshake
 * with GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR. Prints one summary line; exits
 * 0 only when every result was the expected one and both kinds happened.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#define MAX_THREADS 64
#define MAX_REPORTS 20

static int seconds, good_port, bad_port;
static time_t deadline;
static gnutls_certificate_credentials_t cred;
static atomic_long good_ok, bad_refused, wrong;
static atomic_int reports;

static void report(const char *what, int port, int err)
{
	atomic_fetch_add(&wrong, 1);
	if (atomic_fetch_add(&reports, 1) < MAX_REPORTS) {
		fprintf(stderr, "gnutls_stress: port %d: %s (%d %s)\n", port, what, err,
		        gnutls_strerror_name(err) != NULL ? gnutls_strerror_name(err) : "-");
	}
}

static int accept_all(gnutls_session_t s)
{
	(void)s;
	return 0;
}

static int tcp_connect(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {.tv_sec = 20};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0) {
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* session: one connection; the handshake's result, and with good an answer. */
static void session(int port, int good)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	gnutls_session_t s;
	char buf[64];
	int fd = tcp_connect(port), ret;
	ssize_t n;

	if (fd < 0) {
		report("connect failed", port, -errno);
		return;
	}
	if (gnutls_init(&s, GNUTLS_CLIENT) < 0) {
		report("gnutls_init failed", port, 0);
		close(fd);
		return;
	}
	gnutls_set_default_priority(s);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_server_name_set(s, GNUTLS_NAME_DNS, "localhost", strlen("localhost"));
	gnutls_session_set_verify_function(s, accept_all);
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 20000);
	do {
		ret = gnutls_handshake(s);
	} while (ret < 0 && gnutls_error_is_fatal(ret) == 0);
	if (!good) {
		if (ret == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
			atomic_fetch_add(&bad_refused, 1);
		} else {
			report("expired certificate not refused as a verification error", port,
			       ret);
		}
		goto out;
	}
	if (ret < 0) {
		report("handshake with the trusted server failed", port, ret);
		goto out;
	}
	n = gnutls_record_send(s, req, strlen(req));
	if (n > 0) {
		do { /* a TLS 1.3 session ticket comes first: GNUTLS_E_AGAIN */
			n = gnutls_record_recv(s, buf, sizeof(buf));
		} while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
	}
	if (n > 0) {
		atomic_fetch_add(&good_ok, 1);
		gnutls_bye(s, GNUTLS_SHUT_WR);
	} else {
		report("no answer from the trusted server", port, (int)n);
	}
out:
	gnutls_deinit(s);
	close(fd);
}

static void *client_main(void *arg)
{
	(void)arg;
	while (time(NULL) < deadline) {
		session(good_port, 1);
		session(bad_port, 0);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t tids[MAX_THREADS];
	int i, threads = argc > 4 ? atoi(argv[4]) : 8;

	if (argc < 4 || threads < 1 || threads > MAX_THREADS) {
		fprintf(stderr, "usage: gnutls_stress SECONDS GOOD_PORT BAD_PORT [THREADS<=%d]\n",
		        MAX_THREADS);
		return 2;
	}
	seconds = atoi(argv[1]);
	good_port = atoi(argv[2]);
	bad_port = atoi(argv[3]);
	deadline = time(NULL) + seconds;
	if (gnutls_global_init() < 0 || gnutls_certificate_allocate_credentials(&cred) < 0) {
		return 2;
	}
	gnutls_certificate_set_verify_function(cred, accept_all);
	for (i = 0; i < threads; i++) {
		if (pthread_create(&tids[i], NULL, client_main, NULL) != 0) {
			return 2;
		}
	}
	for (i = 0; i < threads; i++) {
		pthread_join(tids[i], NULL);
	}
	printf(
	    "gnutls_stress: %d threads, %d s: %ld trusted sessions answered, %ld expired refused, "
	    "%ld wrong\n",
	    threads, seconds, atomic_load(&good_ok), atomic_load(&bad_refused),
	    atomic_load(&wrong));
	gnutls_certificate_free_credentials(cred);
	gnutls_global_deinit();
	return atomic_load(&wrong) == 0 && atomic_load(&good_ok) > 0 &&
	               atomic_load(&bad_refused) > 0
	           ? 0
	           : 1;
}
