/*
 * A TLS program that verifies certificates, but loosens its own verification
 * in one of the ways real programs do (X509_VERIFY_PARAM flags, purpose,
 * clock, auth level, callbacks, extra host names, DANE). Under tlsguard none
 * of them may change the verdict: the shim verifies the peer itself.
 *
 *   loose_verify client MODE HOST PORT CAFILE [SNI|-] [COUNT]
 *       resolves HOST (getaddrinfo, IPv4), connects COUNT times (default 1)
 *       in one process, SNI = SNI or HOST; after each handshake writes
 *       "MARKER <MODE>\n" and reads what comes back.
 *       Prints per connection HANDSHAKE_OK <version> or
 *       "HANDSHAKE_FAILED <SSL_get_error> <SSL_get_verify_result>".
 *       Exits 0 only if every connection sent its marker.
 *   loose_verify server MODE PORT CERT KEY CAFILE
 *       accepts on 127.0.0.1:PORT, asks for a client certificate verified
 *       with CAFILE and MODE's loosening; prints READY, then per connection
 *       "SERVED <first line>" or "ACCEPT_FAILED <SSL_get_error>". Runs until
 *       killed.
 *
 * MODE: plain          nothing loosened
 *       nocheck_time   X509_V_FLAG_NO_CHECK_TIME
 *       partial_chain  X509_V_FLAG_PARTIAL_CHAIN (CAFILE may be a leaf)
 *       ignore_critical X509_V_FLAG_IGNORE_CRITICAL
 *       purpose_any    purpose X509_PURPOSE_ANY, trust X509_TRUST_COMPAT
 *       auth0          auth level 0, security level 0
 *       past_time      X509_VERIFY_PARAM_set_time(2020-07-01)
 *       future_time    X509_VERIFY_PARAM_set_time(2035-07-01)
 *       tofu           a verify callback that adds the failing certificate
 *                      to the store of X509_STORE_CTX_get0_store, and sets
 *                      X509_V_FLAG_PARTIAL_CHAIN on it (trust on first use)
 *       clearerr       a verify callback that clears every error
 *       add1_host      SSL_add1_host("wrong.example") from an info callback
 *       dane           DANE-EE 3 1 1 record for the SPKI in $DANE_SPKI (hex)
 *       seccb_null     a security callback that allows everything, TLS 1.2,
 *                      cipher ECDHE-ECDSA-NULL-SHA only (no encryption)
 *       psk            TLS 1.2 PSK-AES128-GCM-SHA256 with the key 1a2b3c4d,
 *                      identity "client" (no server certificate at all)
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static const char *mode;

static bool is(const char *m)
{
	return strcmp(mode, m) == 0;
}

static int clear_errors(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	X509_STORE_CTX_set_error(x, X509_V_OK);
	return 1;
}

/* Trust on first use: the certificate that failed becomes an anchor of the
 * store this verification runs with. */
static int tofu(int ok, X509_STORE_CTX *x)
{
	X509_STORE *store = X509_STORE_CTX_get0_store(x);
	X509 *cert = X509_STORE_CTX_get_current_cert(x);

	if (!ok && store != NULL && cert != NULL) {
		X509_STORE_add_cert(store, cert);
		X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_NO_CHECK_TIME);
	}
	X509_STORE_CTX_set_error(x, X509_V_OK);
	return 1;
}

static void add_host(const SSL *ssl, int where, int ret)
{
	(void)ret;
	if (where & SSL_CB_HANDSHAKE_START) {
		SSL_add1_host((SSL *)ssl, "wrong.example");
	}
}

static int allow_all(const SSL *s, const SSL_CTX *ctx, int op, int bits, int nid, void *other,
                     void *ex)
{
	(void)s, (void)ctx, (void)op, (void)bits, (void)nid, (void)other, (void)ex;
	return 1;
}

static unsigned int psk_cb(SSL *ssl, const char *hint, char *identity, unsigned int max_identity,
                           unsigned char *psk, unsigned int max_psk)
{
	static const unsigned char key[] = {0x1a, 0x2b, 0x3c, 0x4d};

	(void)ssl, (void)hint;
	if (max_identity < 7 || max_psk < sizeof(key)) {
		return 0;
	}
	memcpy(identity, "client", 7);
	memcpy(psk, key, sizeof(key));
	return sizeof(key);
}

static void loosen(SSL_CTX *ctx)
{
	X509_VERIFY_PARAM *p = SSL_CTX_get0_param(ctx);

	if (is("nocheck_time")) {
		X509_VERIFY_PARAM_set_flags(p, X509_V_FLAG_NO_CHECK_TIME);
	} else if (is("partial_chain")) {
		X509_VERIFY_PARAM_set_flags(p, X509_V_FLAG_PARTIAL_CHAIN);
	} else if (is("ignore_critical")) {
		X509_VERIFY_PARAM_set_flags(p, X509_V_FLAG_IGNORE_CRITICAL);
	} else if (is("purpose_any")) {
		X509_VERIFY_PARAM_set_purpose(p, X509_PURPOSE_ANY);
		X509_VERIFY_PARAM_set_trust(p, X509_TRUST_COMPAT);
		SSL_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
		SSL_CTX_set_trust(ctx, X509_TRUST_COMPAT);
	} else if (is("auth0")) {
		X509_VERIFY_PARAM_set_auth_level(p, 0);
		SSL_CTX_set_security_level(ctx, 0);
		SSL_CTX_set_cipher_list(ctx, "ALL@SECLEVEL=0");
	} else if (is("past_time")) {
		X509_VERIFY_PARAM_set_time(p, (time_t)1593561600); /* 2020-07-01 */
	} else if (is("seccb_null")) {
		SSL_CTX_set_security_callback(ctx, allow_all);
		SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
		SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-NULL-SHA");
	} else if (is("psk")) {
		SSL_CTX_set_psk_client_callback(ctx, psk_cb);
		SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
		SSL_CTX_set_cipher_list(ctx, "PSK-AES128-GCM-SHA256");
	} else if (is("future_time")) {
		X509_VERIFY_PARAM_set_time(p, (time_t)2066860800); /* 2035-07-01 */
	}
}

static SSL_CTX *make_ctx(bool server, const char *cafile)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	int vmode = SSL_VERIFY_PEER | (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);

	if (ctx == NULL) {
		return NULL;
	}
	if (SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) {
		fprintf(stderr, "loose_verify: cannot load %s\n", cafile);
	}
	if (is("clearerr")) {
		SSL_CTX_set_verify(ctx, vmode, clear_errors);
	} else if (is("tofu")) {
		SSL_CTX_set_verify(ctx, vmode, tofu);
	} else {
		SSL_CTX_set_verify(ctx, vmode, NULL);
	}
	if (is("dane")) {
		SSL_CTX_dane_enable(ctx);
	}
	loosen(ctx);
	return ctx;
}

static int connect_to(const char *host, const char *port)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
	int fd;

	if (getaddrinfo(host, port, &hints, &res) != 0) {
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype, 0);
	if (fd >= 0) {
		/* a server that never answers (s_server) must not hold the run */
		struct timeval tv = {.tv_sec = 3};

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void add_dane(SSL *ssl, const char *host)
{
	const char *hex = getenv("DANE_SPKI");
	unsigned char data[64];
	size_t n = 0;

	if (SSL_dane_enable(ssl, host) <= 0 || hex == NULL) {
		fprintf(stderr, "loose_verify: DANE setup failed\n");
		return;
	}
	while (hex[0] != '\0' && hex[1] != '\0' && n < sizeof(data)) {
		data[n++] = (unsigned char)(hexval(hex[0]) * 16 + hexval(hex[1]));
		hex += 2;
	}
	/* DANE-EE(3) SPKI(1) SHA2-256(1): any certificate with this key is it */
	SSL_dane_tlsa_add(ssl, 3, 1, 1, data, n);
}

static bool one_client(SSL_CTX *ctx, const char *host, const char *port, const char *sni)
{
	char buf[256], marker[64];
	SSL *ssl;
	int fd, ret;
	bool sent = false;

	fd = connect_to(host, port);
	ssl = fd >= 0 ? SSL_new(ctx) : NULL;
	if (ssl == NULL) {
		printf("CONNECT_FAILED\n");
		return false;
	}
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, sni);
	SSL_set1_host(ssl, sni);
	if (is("add1_host")) {
		SSL_set_info_callback(ssl, add_host);
	} else if (is("dane")) {
		add_dane(ssl, sni);
	}
	ret = SSL_connect(ssl);
	if (ret != 1) {
		printf("HANDSHAKE_FAILED %d %ld\n", SSL_get_error(ssl, ret),
		       SSL_get_verify_result(ssl));
	} else {
		printf("HANDSHAKE_OK %s\n", SSL_get_version(ssl));
		snprintf(marker, sizeof(marker), "MARKER %s\n", mode);
		sent = SSL_write(ssl, marker, (int)strlen(marker)) > 0;
		printf("%s\n", sent ? "SENT" : "WRITE_FAILED");
		if (sent && SSL_read(ssl, buf, sizeof(buf) - 1) > 0) {
			printf("REPLY\n");
		}
		SSL_shutdown(ssl);
	}
	fflush(stdout);
	SSL_free(ssl);
	close(fd);
	return sent;
}

static int run_client(int argc, char **argv)
{
	const char *host = argv[3], *port = argv[4], *cafile = argv[5];
	const char *sni = argc > 6 && strcmp(argv[6], "-") != 0 ? argv[6] : host;
	int i, count = argc > 7 ? atoi(argv[7]) : 1;
	SSL_CTX *ctx = make_ctx(false, cafile);
	bool all = ctx != NULL;

	for (i = 0; i < count && ctx != NULL; i++) {
		all = one_client(ctx, host, port, sni) && all;
	}
	return all ? 0 : 1;
}

static int run_server(char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
	SSL_CTX *ctx = make_ctx(true, argv[6]);
	int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0), fd, ret;
	char buf[256];

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, argv[4]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[5], SSL_FILETYPE_PEM) != 1 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 8) != 0) {
		fprintf(stderr, "loose_verify: server setup failed\n");
		return 1;
	}
	SSL_CTX_set_client_CA_list(ctx, SSL_load_client_CA_file(argv[6]));
	printf("READY\n");
	fflush(stdout);
	for (;;) {
		SSL *ssl;

		fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			continue;
		}
		ssl = SSL_new(ctx);
		SSL_set_fd(ssl, fd);
		ret = SSL_accept(ssl);
		if (ret != 1) {
			printf("ACCEPT_FAILED %d\n", SSL_get_error(ssl, ret));
		} else if ((ret = SSL_read(ssl, buf, sizeof(buf) - 1)) > 0) {
			buf[ret] = '\0';
			buf[strcspn(buf, "\r\n")] = '\0';
			printf("SERVED %s\n", buf);
			SSL_write(ssl, "ok\n", 3);
			SSL_shutdown(ssl);
		} else {
			printf("IO_FAILED\n");
		}
		fflush(stdout);
		SSL_free(ssl);
		close(fd);
	}
}

int main(int argc, char **argv)
{
	if (argc < 6 || (strcmp(argv[1], "server") == 0 && argc < 7)) {
		fprintf(stderr, "usage: loose_verify client MODE HOST PORT CAFILE [SNI] [COUNT]\n"
		                "       loose_verify server MODE PORT CERT KEY CAFILE\n");
		return 2;
	}
	mode = argv[2];
	return strcmp(argv[1], "server") == 0 ? run_server(argv) : run_client(argc, argv);
}
