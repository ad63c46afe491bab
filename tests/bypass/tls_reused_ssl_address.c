/*
 * Attempt: finish a verified session with one SSL and free it, so that the
 * next SSL_new returns the same address; then drive that new SSL to the
 * untrusted server without SSL_connect, the handshake running inside
 * SSL_write. The shim keeps a per-thread note of the last SSL whose handshake
 * passed its checks: it must not take the new SSL for the old one.
 *
 * The program's own allocator (CRYPTO_set_mem_functions, as any program may
 * install) keeps the freed SSL's block and hands it to the next SSL_new, so
 * the address is reused every time, not by luck of malloc.
 *
 *   tls_reused_ssl_address GOOD_PORT BAD_PORT
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bypass_tls.h"

union block {
	size_t size;
	max_align_t align;
};

static bool learning; /* inside the first SSL_new: its first allocation is the SSL */
static size_t ssl_size;
static union block *kept; /* one freed block of ssl_size, handed out first */

static void *keep_malloc(size_t n, const char *file, int line)
{
	union block *b;

	(void)file, (void)line;
	if (learning && ssl_size == 0) {
		ssl_size = n;
	}
	if (n == ssl_size && kept != NULL) {
		b = kept;
		kept = NULL;
		return b + 1;
	}
	b = malloc(sizeof(*b) + n);
	if (b == NULL) {
		return NULL;
	}
	b->size = n;
	return b + 1;
}

static void keep_free(void *p, const char *file, int line)
{
	union block *b = p != NULL ? (union block *)p - 1 : NULL;

	(void)file, (void)line;
	if (b != NULL && b->size == ssl_size && kept == NULL) {
		kept = b;
		return;
	}
	free(b);
}

static void *keep_realloc(void *p, size_t n, const char *file, int line)
{
	union block *b = p != NULL ? (union block *)p - 1 : NULL;
	void *q = keep_malloc(n, file, line);

	if (q != NULL && b != NULL) {
		memcpy(q, p, b->size < n ? b->size : n);
		keep_free(p, file, line);
	}
	return q;
}

int main(int argc, char **argv)
{
	SSL_CTX *ctx;
	uintptr_t first_at;
	SSL *ssl;

	if (argc < 3) {
		fprintf(stderr, "usage: %s GOOD_PORT BAD_PORT\n", argv[0]);
		return 2;
	}
	if (!CRYPTO_set_mem_functions(keep_malloc, keep_realloc, keep_free)) {
		printf("SETUP_FAILED CRYPTO_set_mem_functions\n");
		return 2;
	}
	ctx = SSL_CTX_new(TLS_client_method()); /* verifies nothing itself */
	learning = true;
	ssl = bpt_ssl(ctx, atoi(argv[1]));
	learning = false;
	if (!bpt_handshake(ssl) || bpt_request(ssl) != 0) {
		return 2; /* the verified session is the set-up, not the attempt */
	}
	first_at = (uintptr_t)ssl;
	SSL_free(ssl);
	ssl = bpt_ssl(ctx, atoi(argv[2]));
	printf("SAME_ADDRESS %s\n", (uintptr_t)ssl == first_at ? "yes" : "no");
	SSL_set_connect_state(ssl);
	return bpt_request(ssl);
}
