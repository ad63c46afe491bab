/*
 * A TLS client that loosens every verification setting a program can reach,
 * the way programs do when "the certificate is a bit off": it connects to
 * 127.0.0.1:PORT, asks "GET / HTTP/1.0" and prints the first line of the answer.
 *
 *   loose_client PORT
 *
 * What it loosens (each one alone made a bad certificate pass before the
 * shim verified independently: issue 12):
 *   - SSL_VERIFY_PEER with a verify callback that clears every error;
 *   - X509_V_FLAG_NO_CHECK_TIME, X509_V_FLAG_PARTIAL_CHAIN,
 *     X509_V_FLAG_IGNORE_CRITICAL on the context's verification parameters;
 *   - purpose and trust "any" (X509_PURPOSE_ANY, X509_TRUST_COMPAT);
 *   - security level 0 (authentication level 0: any key size and digest).
 * It sends no SNI and sets no host name: the name comes from the policy.
 *
 * Exits 0 only if an answer came back.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

static int accept_all(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	X509_STORE_CTX_set_error(x, X509_V_OK);
	return 1;
}

static SSL_CTX *loose_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	X509_VERIFY_PARAM *param;

	if (ctx == NULL) {
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_all);
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
	param = SSL_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME | X509_V_FLAG_PARTIAL_CHAIN |
	                                       X509_V_FLAG_IGNORE_CRITICAL);
	X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_ANY);
	X509_VERIFY_PARAM_set_trust(param, X509_TRUST_COMPAT);
	X509_VERIFY_PARAM_set_auth_level(param, 0);
	return ctx;
}

static int tcp_connect(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0) {
		return -1;
	}
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	SSL_CTX *ctx = loose_ctx();
	SSL *ssl = ctx != NULL ? SSL_new(ctx) : NULL;
	int fd = argc > 1 ? tcp_connect(atoi(argv[1])) : -1;
	char buf[256];
	int n, rc = 1;

	if (ssl == NULL || fd < 0) {
		printf("SETUP_FAILED\n");
		goto out;
	}
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		printf("HANDSHAKE_FAILED %ld\n", SSL_get_verify_result(ssl));
		ERR_print_errors_fp(stdout);
		goto out;
	}
	printf("HANDSHAKE_OK %s\n", SSL_get_version(ssl));
	if (SSL_write(ssl, req, (int)strlen(req)) <= 0 ||
	    (n = SSL_read(ssl, buf, sizeof(buf) - 1)) <= 0) {
		printf("EXCHANGE_FAILED\n");
		goto out;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	printf("RESPONSE %s\n", buf);
	rc = 0;
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	if (fd >= 0) {
		close(fd);
	}
	return rc;
}
