/*
 * A careless TLS server: accepts on 127.0.0.1:PORT, never asks for client
 * certificates and, in mode "tls10", offers TLS 1.0 at security level 0. Each
 * connection: SSL_accept, read the request, answer "HTTP/1.0 200 ok". Under
 * tlsguard an inbound rule may require client certificates and the version
 * floor holds whatever the program enabled.
 *
 *   careless_server MODE PORT CERT KEY [CHAIN] (MODE: plain | tls10)
 *
 * Prints READY once listening, then one line per connection: SERVED or
 * "ACCEPT_FAILED <SSL_get_error>". Runs until killed.
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

static SSL_CTX *server_ctx(const char *mode, const char *cert, const char *key, const char *chain)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (strcmp(mode, "tls10") == 0) {
		SSL_CTX_set_cipher_list(ctx, "DEFAULT@SECLEVEL=0");
		SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
	}
	if (SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    (chain != NULL && SSL_CTX_use_certificate_chain_file(ctx, chain) != 1)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int listen_on(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0) {
		return -1;
	}
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void serve(SSL_CTX *ctx, int fd)
{
	static const char resp[] = "HTTP/1.0 200 ok\r\n\r\nhello\n";
	SSL *ssl = SSL_new(ctx);
	char buf[1024];
	int ret;

	if (ssl == NULL) {
		return;
	}
	SSL_set_fd(ssl, fd);
	ret = SSL_accept(ssl);
	if (ret != 1) {
		printf("ACCEPT_FAILED %d\n", SSL_get_error(ssl, ret));
	} else if (SSL_read(ssl, buf, sizeof(buf)) > 0 &&
	           SSL_write(ssl, resp, (int)strlen(resp)) > 0) {
		printf("SERVED %s\n", SSL_get_version(ssl));
		SSL_shutdown(ssl);
	} else {
		printf("IO_FAILED\n");
	}
	fflush(stdout);
	SSL_free(ssl);
}

int main(int argc, char **argv)
{
	SSL_CTX *ctx;
	int lfd, fd;

	if (argc < 5) {
		fprintf(stderr, "usage: careless_server MODE PORT CERT KEY [CHAIN]\n");
		return 2;
	}
	ctx = server_ctx(argv[1], argv[3], argv[4], argc > 5 ? argv[5] : NULL);
	lfd = listen_on(atoi(argv[2]));
	if (ctx == NULL || lfd < 0) {
		fprintf(stderr, "careless_server: setup failed\n");
		return 1;
	}
	printf("READY\n");
	fflush(stdout);
	for (;;) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			continue;
		}
		serve(ctx, fd);
		close(fd);
	}
}
