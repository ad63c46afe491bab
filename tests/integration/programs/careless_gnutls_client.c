/*
 * A careless GnuTLS client: connects to 127.0.0.1:PORT, does a TLS handshake
 * and sends "GET / HTTP/1.0", after switching certificate verification off in
 * the ways MODE says. Under tlsguard every mode must fail against a bad
 * certificate; without it every mode gets through.
 *
 *   careless_gnutls_client [OPTIONS] MODE PORT
 *
 * MODE: none     nothing at all: no gnutls_session_set_verify_cert, so GnuTLS
 *                verifies nothing (the default of the API)
 *       credcb   gnutls_certificate_set_verify_function returning 0 (accept)
 *       sesscb   gnutls_session_set_verify_cert(session, "localhost"), then
 *                gnutls_session_set_verify_function returning 0 over it
 *       flags    the policy's own root as the program's trust,
 *                gnutls_session_set_verify_cert(session, NULL) (no host name
 *                check) and every GNUTLS_VERIFY_DISABLE_* / ALLOW_* flag
 *       tls10    priority "NORMAL:+VERS-TLS1.0:+VERS-TLS1.1:%NO_ETM" (and
 *                %VERIFY_ALLOW_SIGN_WITH_SHA1, %DEBUG_ALLOW_KEY_USAGE_VIOLATIONS,
 *                %PROFILE_VERY_WEAK),
 *                no verification
 *       careful  the opposite, for comparison: gnutls_session_set_verify_cert
 *                (session, NAME given with -n or NULL, 0) against the trust
 *                file given with -a
 *       all      every one of the above at once (priority of tls10, both
 *                verify functions, every flag, no verify_cert)
 *
 * OPTIONS:
 *   -n NAME      gnutls_server_name_set(NAME) (default: none, as many
 *                programs connecting by address)
 *   -c CERT -k KEY  present this client certificate
 *   -a CAFILE    the program's own trust file (modes flags and all use it too)
 *   -P PRIO      this priority string instead of the mode's
 *   -p           custom push/pull functions (send/recv on the descriptor)
 *   -f           with -p: the push function writes at most 7 bytes a call
 *                (the ClientHello leaves in pieces)
 *   -v           custom vector push (gnutls_transport_set_vec_push_function:
 *                writev on the descriptor) and pull
 *   -r           resume: a second connection with the first one's session
 *                data; prints "RESUMED yes|no" for the second
 *   -S FILE      save the session data to FILE after the exchange
 *   -L FILE      load session data from FILE before the handshake
 *   -t THREADS   run THREADS connections at once (prints OK_COUNT n)
 *
 * Prints "HANDSHAKE_OK <version>" or "HANDSHAKE_FAILED <code> <name>", then
 * "RESPONSE <first line>" or "RECORD_FAILED <code> <name>". Exits 0 only if a
 * response came back (with -t: only if every thread got one; with -r: only if
 * both connections got one).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define CARELESS_PRIORITY                                                                          \
	"NORMAL:+VERS-TLS1.0:+VERS-TLS1.1:%NO_ETM:%VERIFY_ALLOW_SIGN_WITH_SHA1:"                   \
	"%DEBUG_ALLOW_KEY_USAGE_VIOLATIONS:%PROFILE_VERY_WEAK"

/* Every flag that loosens gnutls_certificate_verify_peers. */
#define LOOSE_FLAGS                                                                                \
	(GNUTLS_VERIFY_DISABLE_CA_SIGN | GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS |               \
	 GNUTLS_VERIFY_DISABLE_TIME_CHECKS | GNUTLS_VERIFY_DISABLE_CRL_CHECKS |                    \
	 GNUTLS_VERIFY_ALLOW_X509_V1_CA_CRT | GNUTLS_VERIFY_ALLOW_ANY_X509_V1_CA_CRT |             \
	 GNUTLS_VERIFY_ALLOW_SIGN_RSA_MD2 | GNUTLS_VERIFY_ALLOW_SIGN_RSA_MD5 |                     \
	 GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1 | GNUTLS_VERIFY_ALLOW_BROKEN |                         \
	 GNUTLS_VERIFY_IGNORE_UNKNOWN_CRIT_EXTENSIONS)

struct opts {
	const char *mode, *sni, *cert, *key, *cafile, *prio, *save, *load;
	int port;
	bool push, fragment, vec, resume;
};

struct job {
	const struct opts *o;
	bool quiet;
	int ok;
};

static bool is(const struct opts *o, const char *mode)
{
	return strcmp(o->mode, mode) == 0;
}

static int accept_all(gnutls_session_t s)
{
	(void)s;
	return 0;
}

static bool fragment;

static ssize_t push_fn(gnutls_transport_ptr_t p, const void *buf, size_t len)
{
	return send((int)(intptr_t)p, buf, fragment && len > 7 ? 7 : len, MSG_NOSIGNAL);
}

static ssize_t vec_push_fn(gnutls_transport_ptr_t p, const giovec_t *iov, int n)
{
	return writev((int)(intptr_t)p, (const struct iovec *)iov, n);
}

static ssize_t pull_fn(gnutls_transport_ptr_t p, void *buf, size_t len)
{
	return recv((int)(intptr_t)p, buf, len, 0);
}

static int pull_timeout_fn(gnutls_transport_ptr_t p, unsigned ms)
{
	struct pollfd pfd = {.fd = (int)(intptr_t)p, .events = POLLIN};

	return poll(&pfd, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
}

static int tcp_connect(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = {.tv_sec = 10};

	if (fd < 0) {
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		printf("CONNECT_FAILED %s\n", strerrorname_np(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static gnutls_certificate_credentials_t careless_creds(const struct opts *o)
{
	gnutls_certificate_credentials_t cred;

	if (gnutls_certificate_allocate_credentials(&cred) < 0) {
		return NULL;
	}
	if (o->cafile != NULL) {
		gnutls_certificate_set_x509_trust_file(cred, o->cafile, GNUTLS_X509_FMT_PEM);
	}
	if (o->cert != NULL &&
	    gnutls_certificate_set_x509_key_file(cred, o->cert, o->key, GNUTLS_X509_FMT_PEM) < 0) {
		printf("SETUP_FAILED client certificate\n");
	}
	if (is(o, "credcb") || is(o, "all")) {
		gnutls_certificate_set_verify_function(cred, accept_all);
	}
	if (is(o, "flags") || is(o, "all")) {
		gnutls_certificate_set_verify_flags(cred, LOOSE_FLAGS);
		gnutls_certificate_set_verify_limits(cred, 1 << 20, 64);
	}
	return cred;
}

static const char *priority(const struct opts *o)
{
	if (o->prio != NULL) {
		return o->prio;
	}
	return is(o, "tls10") || is(o, "all") ? CARELESS_PRIORITY : NULL;
}

static gnutls_session_t careless_session(const struct opts *o,
                                         gnutls_certificate_credentials_t cred, int fd)
{
	gnutls_session_t s;
	const char *prio = priority(o), *err = NULL;

	if (gnutls_init(&s, GNUTLS_CLIENT) < 0) {
		return NULL;
	}
	if (prio != NULL ? gnutls_priority_set_direct(s, prio, &err) < 0
	                 : gnutls_set_default_priority(s) < 0) {
		printf("SETUP_FAILED priority at [%s]\n", err != NULL ? err : "");
	}
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	if (o->sni != NULL) {
		gnutls_server_name_set(s, GNUTLS_NAME_DNS, o->sni, strlen(o->sni));
	}
	if (is(o, "sesscb")) {
		gnutls_session_set_verify_cert(s, "localhost", 0);
	}
	if (is(o, "flags")) {
		gnutls_session_set_verify_cert(s, NULL, LOOSE_FLAGS);
	}
	if (is(o, "careful")) {
		gnutls_session_set_verify_cert(s, o->sni, 0);
	}
	if (is(o, "sesscb") || is(o, "all")) {
		gnutls_session_set_verify_function(s, accept_all);
	}
	if (o->push || o->vec) {
		gnutls_transport_set_ptr(s, (gnutls_transport_ptr_t)(intptr_t)fd);
		if (o->vec) {
			gnutls_transport_set_vec_push_function(s, vec_push_fn);
		} else {
			gnutls_transport_set_push_function(s, push_fn);
		}
		gnutls_transport_set_pull_function(s, pull_fn);
		gnutls_transport_set_pull_timeout_function(s, pull_timeout_fn);
	} else {
		gnutls_transport_set_int(s, fd);
	}
	gnutls_handshake_set_timeout(s, 10000);
	return s;
}

static bool load_session(const char *path, gnutls_session_t s)
{
	unsigned char buf[16384];
	FILE *f = fopen(path, "rb");
	gnutls_datum_t d;
	size_t n;

	if (f == NULL) {
		printf("SETUP_FAILED no session file\n");
		return false;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	d = (gnutls_datum_t){.data = buf, .size = (unsigned)n};
	return gnutls_session_set_data(s, d.data, d.size) == 0;
}

static void save_session(const char *path, gnutls_session_t s)
{
	gnutls_datum_t d;
	FILE *f;

	if (gnutls_session_get_data2(s, &d) < 0) {
		return;
	}
	f = fopen(path, "wb");
	if (f != NULL) {
		fwrite(d.data, 1, d.size, f);
		fclose(f);
	}
	gnutls_free(d.data);
}

/* print_status: after a verification failure, what GnuTLS says of it. */
static void print_status(gnutls_session_t s)
{
	unsigned status = gnutls_session_get_verify_cert_status(s);
	gnutls_datum_t text;

	if (status != 0 &&
	    gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) == 0) {
		printf("VERIFY_STATUS %#x %s\n", status, text.data);
		gnutls_free(text.data);
	}
}

/* talk: the request and the first line of the answer; 0 when one came. */
static int talk(gnutls_session_t s, bool quiet)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	char buf[512];
	ssize_t n;

	n = gnutls_record_send(s, req, strlen(req));
	if (n >= 0) {
		do {
			n = gnutls_record_recv(s, buf, sizeof(buf) - 1);
		} while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
	}
	if (n <= 0) {
		if (!quiet) {
			printf("RECORD_FAILED %zd %s\n", n, gnutls_strerror_name((int)n));
		}
		return -1;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!quiet) {
		printf("RESPONSE %s\n", buf);
	}
	return 0;
}

/* one: a connection; data/out carry session data to and from it. */
static int one(const struct opts *o, bool quiet, const gnutls_datum_t *data, gnutls_datum_t *out)
{
	gnutls_certificate_credentials_t cred = careless_creds(o);
	int fd = tcp_connect(o->port), ret, rc = -1;
	gnutls_session_t s = cred != NULL && fd >= 0 ? careless_session(o, cred, fd) : NULL;

	if (s == NULL) {
		printf("SETUP_FAILED\n");
		goto out;
	}
	if (o->load != NULL && !load_session(o->load, s)) {
		printf("SETUP_FAILED session data refused\n");
	}
	if (data != NULL) {
		gnutls_session_set_data(s, data->data, data->size);
	}
	do {
		ret = gnutls_handshake(s);
	} while (ret < 0 && gnutls_error_is_fatal(ret) == 0);
	if (ret < 0) {
		if (!quiet) {
			printf("HANDSHAKE_FAILED %d %s\n", ret, gnutls_strerror_name(ret));
			if (ret == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
				print_status(s);
			}
		}
		goto out;
	}
	if (!quiet) {
		char *v = gnutls_session_get_desc(s);

		printf("HANDSHAKE_OK %s %s\n",
		       gnutls_protocol_get_name(gnutls_protocol_get_version(s)),
		       v != NULL ? v : "");
		gnutls_free(v);
		if (data != NULL || o->load != NULL) {
			printf("RESUMED %s\n", gnutls_session_is_resumed(s) ? "yes" : "no");
		}
	}
	rc = talk(s, quiet);
	if (rc == 0 && o->save != NULL) {
		save_session(o->save, s);
	}
	if (rc == 0 && out != NULL && gnutls_session_get_data2(s, out) < 0) {
		out->data = NULL;
	}
	gnutls_bye(s, GNUTLS_SHUT_WR);
out:
	if (s != NULL) {
		gnutls_deinit(s);
	}
	if (cred != NULL) {
		gnutls_certificate_free_credentials(cred);
	}
	if (fd >= 0) {
		close(fd);
	}
	return rc;
}

static void *run(void *arg)
{
	struct job *j = arg;
	gnutls_datum_t data = {0};

	if (!j->o->resume) {
		j->ok = one(j->o, j->quiet, NULL, NULL) == 0;
		return NULL;
	}
	j->ok = one(j->o, j->quiet, NULL, &data) == 0;
	if (data.data == NULL) {
		printf("NO_SESSION_DATA\n");
		j->ok = 0;
		return NULL;
	}
	j->ok &= one(j->o, j->quiet, &data, NULL) == 0;
	gnutls_free(data.data);
	return NULL;
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: careless_gnutls_client [-n NAME] [-c CERT -k KEY] [-a CAFILE] "
	        "[-P PRIO] [-p [-f]] [-v] [-r] [-S FILE] [-L FILE] [-t THREADS] MODE PORT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	struct job jobs[64];
	pthread_t tids[64];
	int c, i, n = 1, good = 0;

	while ((c = getopt(argc, argv, "n:c:k:a:P:pfvrS:L:t:")) != -1) {
		switch (c) {
		case 'n':
			o.sni = optarg;
			break;
		case 'c':
			o.cert = optarg;
			break;
		case 'k':
			o.key = optarg;
			break;
		case 'a':
			o.cafile = optarg;
			break;
		case 'P':
			o.prio = optarg;
			break;
		case 'f':
			o.fragment = fragment = true;
			break;
		case 'v':
			o.vec = true;
			break;
		case 'p':
			o.push = true;
			break;
		case 'r':
			o.resume = true;
			break;
		case 'S':
			o.save = optarg;
			break;
		case 'L':
			o.load = optarg;
			break;
		case 't':
			n = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || n < 1 || n > 64) {
		usage();
	}
	o.mode = argv[optind];
	o.port = atoi(argv[optind + 1]);
	if (!is(&o, "none") && !is(&o, "credcb") && !is(&o, "sesscb") && !is(&o, "flags") &&
	    !is(&o, "tls10") && !is(&o, "careful") && !is(&o, "all")) {
		usage();
	}
	if (gnutls_global_init() < 0) {
		return 2;
	}
	for (i = 0; i < n; i++) {
		jobs[i] = (struct job){.o = &o, .quiet = i > 0};
		if (pthread_create(&tids[i], NULL, run, &jobs[i]) != 0) {
			return 2;
		}
	}
	for (i = 0; i < n; i++) {
		pthread_join(tids[i], NULL);
		good += jobs[i].ok;
	}
	if (n > 1) {
		printf("OK_COUNT %d\n", good);
	}
	fflush(stdout);
	gnutls_global_deinit();
	return good == n ? 0 : 1;
}
