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
