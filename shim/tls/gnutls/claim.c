/*
 * Claiming a session for its connection (claim.h): the registry says which
 * session a ClientHello belongs to, apply.c binds the two.
 */
#include <errno.h>

#include "apply.h"
#include "claim.h"
#include "registry.h"

bool gtls_claim_hello(struct conn *c, int fd, const uint8_t random[STREAM_RANDOM_LEN])
{
	const struct gnutls_fns *f = gnutls_fns_if_bound();
	struct gtls_state *st = NULL;
	gnutls_session_t session;
	bool any = false;
	int saved = errno;

	if (f == NULL || c == NULL || random == NULL) {
		return false; /* no GnuTLS call ever ran here: not ours */
	}
	session = gtls_registry_find_hello(f, c, fd, random, &st, &any);
	if (session != NULL && st != NULL && gtls_active()) {
		gtls_apply_bind(f, session, st, c, fd);
	}
	errno = saved;
	return session != NULL || any;
}

void gtls_claim_late(const struct gnutls_fns *f, gnutls_session_t session, struct gtls_state *st)
{
	gnutls_datum_t client = {NULL, 0};
	const struct conn *want;
	struct conn *c;
	int fd;

	if (!st->server || st->bound) {
		return;
	}
	f->gnutls_session_get_random(session, &client, NULL);
	if (client.data == NULL || client.size != STREAM_RANDOM_LEN) {
		return;
	}
	want = gtls_registry_take_hello(client.data, &fd);
	c = want != NULL ? conn_acquire(fd) : NULL;
	if (c == want && c != NULL && gtls_active()) {
		gtls_apply_bind(f, session, st, c, fd);
	}
	conn_release(c); /* closed, and the number reused, meanwhile: left alone */
}
