/*
 * The shim's callbacks on an SSL (hooks.h), and when the outcome check runs.
 *
 * libssl tells every SSL's info callback when a handshake starts and ends
 * (SSL_CTX_set_info_callback(3ssl)), from inside its state machine, whatever
 * drove it: SSL_connect, SSL_read, an SSL BIO's internal calls, a
 * renegotiation. SSL_CB_HANDSHAKE_DONE comes after the peer's Finished and
 * before the first application byte either way (libssl finishes a pending
 * handshake before it reads or writes application data, and clears in_init
 * before the callback), so the outcome check runs there; a refusal shuts the
 * governed socket (verdict.c), and nothing more crosses it. The program's own
 * info callback, of the SSL or else of its context, is called after the
 * shim's.
 */
#include <errno.h>

#include <pthread.h>

#include "apply.h"
#include "claim.h"
#include "hooks.h"
#include "outcome.h"
#include "state.h"

/* A client whose transport was unknown when the policy was applied (an SSL
 * BIO pushed onto a socket BIO later) and whose handshake failed before a
 * ClientHello left: tied to its socket now, so that the failure is recorded
 * against the rule of the connection. */
static void bind_late(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st)
{
	struct conn *c;
	int fd;

	if (st->bound || st->server) {
		return;
	}
	fd = f->SSL_get_fd(ssl);
	c = fd >= 0 ? conn_acquire(fd) : NULL;
	if (c == NULL) {
		return;
	}
	ossl_apply_bind(f, ssl, st, c, fd);
	conn_release(c);
}

static void watch(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st, int where, int ret)
{
	if (!st->applied || !ossl_active()) {
		return;
	}
	/* A server on memory BIOs: its connection is known once it has
	 * processed the ClientHello the socket layer saw come in, before it
	 * writes its first flight, so the rule's settings still take effect. */
	if (st->hooks.unclaimed && ossl_claim_memory(f, ssl, st)) {
		st->hooks.unclaimed = false;
		ossl_hook(f, ssl, st);
	}
	/* TLS 1.2 renegotiation (TLS 1.3 reports no start after its first
	 * handshake): SSL_OP_NO_RENEGOTIATION forbids it under enforce, but what
	 * one handshake passed says nothing about the next. */
	if ((where & SSL_CB_HANDSHAKE_START) != 0 && st->checked && !st->failed) {
		st->checked = false;
		ossl_settled_forget(ssl);
		return;
	}
	if ((where & (SSL_CB_HANDSHAKE_DONE | SSL_CB_EXIT)) == 0) {
		return;
	}
	if ((where & SSL_CB_EXIT) != 0 && ret <= 0) {
		bind_late(f, ssl, st);
	}
	if (!ossl_outcome_check(f, ssl, st, (where & SSL_CB_HANDSHAKE_DONE) != 0 ? 1 : ret)) {
		ossl_settled_forget(ssl);
	}
}

void ossl_info_cb(const SSL *cssl, int where, int ret)
{
	const struct ssl_fns *f = ssl_fns_if_bound();
	SSL *ssl = (SSL *)cssl;
	struct ossl_state *st;
	ossl_info_fn prog = NULL;
	int saved = errno;

	if (f == NULL || ssl == NULL) {
		return;
	}
	st = ossl_state_get(f, ssl);
	if (st != NULL) {
		prog = st->hooks.prog_info;
		watch(f, ssl, st, where, ret);
	}
	if (prog == NULL) {
		prog = f->SSL_CTX_get_info_callback(f->SSL_get_SSL_CTX(ssl));
	}
	errno = saved;
	if (prog != NULL && prog != ossl_info_cb) {
		prog(cssl, where, ret);
	}
}

/* libssl's own security callback (ssl_security_default_callback, static in
 * libssl): the one a new context has. */
static pthread_once_t default_sec_once = PTHREAD_ONCE_INIT;
static ossl_sec_fn default_sec;

static void find_default_sec(void)
{
	const struct ssl_fns *f = ssl_fns_if_bound();
	SSL_CTX *ctx = f != NULL ? f->SSL_CTX_new(f->TLS_method()) : NULL;

	if (ctx != NULL) {
		default_sec = f->SSL_CTX_get_security_callback(ctx);
		f->SSL_CTX_free(ctx);
	}
}

ossl_sec_fn ossl_default_sec(void)
{
	return default_sec;
}

/* SSL_set_security_callback(3ssl) replaces the check of the security level
 * (key sizes, NULL and anonymous suites, versions, digests) wholesale: a
 * callback that says yes to everything undoes the level the shim forces.
 * Under enforce, libssl's own check at the SSL's level (never below
 * OSSL_MIN_SECURITY_LEVEL) must pass first; the program's callback may only
 * refuse more. Elsewhere the program's callback, or libssl's, as it set. */
int ossl_sec_cb(const SSL *s, const SSL_CTX *ctx, int op, int bits, int nid, void *other, void *ex)
{
	const struct ssl_fns *f = ssl_fns_if_bound();
	const struct ossl_state *st = f != NULL && s != NULL ? ossl_state_get(f, s) : NULL;
	ossl_sec_fn prog = st != NULL ? st->hooks.prog_sec : NULL;
	bool strict = st != NULL && st->tls != NULL && ossl_enforcing();

	if (default_sec == NULL) {
		return strict ? 0 : prog != NULL ? prog(s, ctx, op, bits, nid, other, ex) : 1;
	}
	if (!strict) {
		return (prog != NULL ? prog : default_sec)(s, ctx, op, bits, nid, other, ex);
	}
	if (default_sec(s, ctx, op, bits, nid, other, ex) == 0) {
		return 0;
	}
	return prog != NULL ? prog(s, ctx, op, bits, nid, other, ex) : 1;
}

void ossl_hook_security(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st)
{
	ossl_sec_fn cur = f->SSL_get_security_callback(ssl);

	pthread_once(&default_sec_once, find_default_sec);
	if (cur != ossl_sec_cb) {
		st->hooks.prog_sec = cur == default_sec ? NULL : cur;
		f->SSL_set_security_callback(ssl, ossl_sec_cb);
	}
	st->hooks.security = true;
	if (f->SSL_get_security_level(ssl) < OSSL_MIN_SECURITY_LEVEL) {
		f->SSL_set_security_level(ssl, OSSL_MIN_SECURITY_LEVEL);
	}
}

/* st->tls is set for an SSL on a governed socket and for a client on a
 * transport not known yet (memory BIOs, claimed at its ClientHello); NULL for
 * one on a socket the policy lets through, which the shim leaves alone, and
 * for a server on memory BIOs until its ClientHello ties it to a socket. */
void ossl_hook(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st)
{
	ossl_info_fn cur;

	/* a server on memory BIOs (no descriptor): its connection shows up
	 * when its ClientHello is processed, in the info callback */
	st->hooks.unclaimed = st->server && !st->bound && st->tls == NULL && f->SSL_get_fd(ssl) < 0;
	if (st->tls == NULL && !st->hooks.unclaimed) {
		return;
	}
	if (!st->hooks.info) {
		cur = f->SSL_get_info_callback(ssl);
		st->hooks.prog_info = cur == ossl_info_cb ? NULL : cur;
		f->SSL_set_info_callback(ssl, ossl_info_cb);
		st->hooks.info = true;
	}
	if (st->tls != NULL && ossl_enforcing()) {
		ossl_hook_security(f, ssl, st);
		/* SSL_CTX_set_options(3ssl): refuses renegotiation both ways (a
		 * client ignores HelloRequest, a server refuses a new ClientHello). */
		(void)f->SSL_set_options(ssl, SSL_OP_NO_RENEGOTIATION);
	}
}
