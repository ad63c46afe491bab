/*
 * Claiming an SSL for its connection (claim.h): the registry says which SSL a
 * ClientHello belongs to, apply.c binds the two.
 */
#include <errno.h>
#include <string.h>

#include "apply.h"
#include "claim.h"
#include "registry.h"

bool ossl_claim_hello(struct conn *c, int fd, const uint8_t random[STREAM_RANDOM_LEN])
{
	const struct ssl_fns *f = ssl_fns_if_bound();
	struct ossl_state *st = NULL;
	SSL *ssl;
	bool any = false;
	int saved = errno;

	if (f == NULL || c == NULL || random == NULL) {
		return false; /* no libssl call ever ran here: not ours */
	}
	ssl = ossl_registry_find_hello(f, c, fd, random, &st, &any);
	if (ssl != NULL && ossl_active()) {
		ossl_apply_bind(f, ssl, st, c, fd);
	}
	errno = saved;
	return ssl != NULL || any;
}

bool ossl_claim_memory(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st)
{
	static const uint8_t zero[STREAM_RANDOM_LEN];
	unsigned char mine[STREAM_RANDOM_LEN];
	const struct conn *want;
	struct conn *c;
	int fd;

	if (f->SSL_get_client_random(ssl, mine, sizeof(mine)) != sizeof(mine) ||
	    memcmp(mine, zero, sizeof(mine)) == 0) {
		return false; /* its ClientHello has not been processed yet */
	}
	want = ossl_registry_take_hello(mine, &fd);
	c = want != NULL ? conn_acquire(fd) : NULL;
	if (c != want || c == NULL) {
		conn_release(c); /* closed, and the number reused, meanwhile */
		return true;
	}
	if (ossl_active()) {
		ossl_apply_bind(f, ssl, st, c, fd);
	}
	conn_release(c);
	return true;
}
