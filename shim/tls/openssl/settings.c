/*
 * The program's setters and getters on an SSL held to the policy
 * (settings.h).
 *
 * What the program reads back about its own settings is what it set
 * (SSL_get_verify_mode(3ssl)): a program that saw the mode the shim forces
 * would run checks of its own that it never meant to run (ncat's host check,
 * which knows no IP addresses, refused valid sessions). The shim's settings
 * stay in force behind the answer. Context getters need nothing: the shim
 * changes SSLs only.
 */
#include "hooks.h"
#include "settings.h"
#include "state.h"
#include "verify.h"

/* The state of ssl while the layer acts, or NULL. */
static struct ossl_state *active_state(const struct ssl_fns *f, const SSL *ssl)
{
	return ssl != NULL && ossl_active() ? ossl_state_get(f, ssl) : NULL;
}

static bool enforced(const struct ossl_state *st)
{
	return st != NULL && st->applied && st->governed && ossl_enforcing();
}

/* The state of an SSL the policy governs in enforce mode, else NULL. */
static struct ossl_state *enforced_state(const struct ssl_fns *f, const SSL *ssl)
{
	struct ossl_state *st = active_state(f, ssl);

	return enforced(st) ? st : NULL;
}

/* The shim's callbacks are on ssl, in enforce mode (ossl_hook_security): a
 * governed SSL, or a client whose transport is not known yet. */
static bool hooks_enforced(const struct ssl_fns *f, const SSL *ssl)
{
	const struct ossl_state *st = active_state(f, ssl);

	return st != NULL && st->hooks.security && ossl_enforcing();
}

/* After the policy was applied, SSL_VERIFY_NONE (before or during the
 * handshake) is ignored; the new callback can only make things stricter. */
void ossl_set_verify(SSL *ssl, int mode, SSL_verify_cb cb)
{
	const struct ssl_fns *f = ssl_fns();
	struct ossl_state *st;

	if (f == NULL) {
		return;
	}
	st = active_state(f, ssl);
	if (st != NULL && st->hooks.have_mode) {
		st->hooks.prog_mode = mode; /* what SSL_get_verify_mode gives back */
	}
	st = enforced_state(f, ssl);
	if (st == NULL || (st->server && !st->tls->require_client_cert)) {
		f->SSL_set_verify(ssl, mode, cb);
		return;
	}
	if (cb != ossl_verify_cb) {
		st->prog_cb = cb;
	}
	mode =
	    st->server ? mode | SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER;
	f->SSL_set_verify(ssl, mode, ossl_verify_cb);
}

void ossl_ctx_set_cert_verify_callback(SSL_CTX *ctx, int (*cb)(X509_STORE_CTX *, void *), void *arg)
{
	const struct ssl_fns *f = ssl_fns();

	if (f == NULL || ctx == NULL) {
		return;
	}
	/* NULL is kept too: the shim's wrapper then runs OpenSSL's own
	 * verification, and stays in place for the shim's verifier. */
	if (ossl_ctx_set_app_verify(f, ctx, cb, arg) < 0) {
		/* NULL restores OpenSSL's own verification: nothing to wrap. Out of
		 * memory: the shim's wrapper without the program's callback is
		 * OpenSSL's own verification too. */
		f->SSL_CTX_set_cert_verify_callback(ctx, cb == NULL ? NULL : ossl_cert_verify_cb,
		                                    ctx);
		return;
	}
	f->SSL_CTX_set_cert_verify_callback(ctx, ossl_cert_verify_cb, ctx);
}

/* A recorded failure cannot be covered, and on an enforced SSL "OK" is never
 * the program's to claim. */
void ossl_set_verify_result(SSL *ssl, long result)
{
	const struct ssl_fns *f = ssl_fns();
	struct ossl_state *st;

	if (f == NULL) {
		return;
	}
	st = active_state(f, ssl);
	if (st != NULL && (st->failed || (enforced(st) && result == X509_V_OK))) {
		return;
	}
	f->SSL_set_verify_result(ssl, result);
}

long ossl_get_verify_result(const SSL *ssl)
{
	const struct ssl_fns *f = ssl_fns();
	const struct ossl_state *st;

	if (f == NULL) {
		return X509_V_ERR_UNSPECIFIED;
	}
	st = ssl != NULL ? ossl_state_get(f, ssl) : NULL;
	if (st != NULL && st->failed) {
		return st->verify_result;
	}
	return f->SSL_get_verify_result(ssl);
}

/* SSL_set_min/max_proto_version and SSL_set1_verify_cert_store are macros over
 * SSL_ctrl (ssl.h): after the policy was applied they may not weaken it. */
long ossl_ctrl(SSL *ssl, int cmd, long larg, void *parg)
{
	const struct ssl_fns *f = ssl_fns();
	struct ossl_state *st;
	long floor;

	if (f == NULL) {
		return 0;
	}
	if (cmd != SSL_CTRL_SET_MIN_PROTO_VERSION && cmd != SSL_CTRL_SET_MAX_PROTO_VERSION &&
	    cmd != SSL_CTRL_SET_VERIFY_CERT_STORE) {
		return f->SSL_ctrl(ssl, cmd, larg, parg);
	}
	st = enforced_state(f, ssl);
	if (st == NULL) {
		return f->SSL_ctrl(ssl, cmd, larg, parg);
	}
	floor = ossl_version_floor(st->tls);
	switch (cmd) {
	case SSL_CTRL_SET_MIN_PROTO_VERSION:
		larg = larg == 0 || larg < floor ? floor : larg;
		break;
	case SSL_CTRL_SET_MAX_PROTO_VERSION:
		larg = larg != 0 && larg < floor ? floor : larg;
		break;
	case SSL_CTRL_SET_VERIFY_CERT_STORE:
	default:
		if (st->store != NULL) {
			return 1; /* the policy's anchors stay */
		}
		break;
	}
	return f->SSL_ctrl(ssl, cmd, larg, parg);
}

void ossl_set_security_level(SSL *ssl, int level)
{
	const struct ssl_fns *f = ssl_fns();

	if (f == NULL) {
		return;
	}
	if (hooks_enforced(f, ssl) && level < OSSL_MIN_SECURITY_LEVEL) {
		level = OSSL_MIN_SECURITY_LEVEL;
	}
	f->SSL_set_security_level(ssl, level);
}

/* "@SECLEVEL=0" in a cipher string lowers the security level too. */
int ossl_set_cipher_list(SSL *ssl, const char *str)
{
	const struct ssl_fns *f = ssl_fns();
	int ret;

	if (f == NULL) {
		return 0;
	}
	ret = f->SSL_set_cipher_list(ssl, str);
	if (hooks_enforced(f, ssl) && f->SSL_get_security_level(ssl) < OSSL_MIN_SECURITY_LEVEL) {
		f->SSL_set_security_level(ssl, OSSL_MIN_SECURITY_LEVEL);
	}
	return ret;
}

/* Kernel TLS would put the plaintext into the kernel behind the socket layer's
 * back (SSL_CTX_set_options(3ssl), SSL_OP_ENABLE_KTLS): not in enforce mode. */
static uint64_t without_ktls(uint64_t op)
{
	if (ossl_active() && ossl_enforcing()) {
		op &= ~(uint64_t)SSL_OP_ENABLE_KTLS;
	}
	return op;
}

uint64_t ossl_set_options(SSL *ssl, uint64_t op)
{
	const struct ssl_fns *f = ssl_fns();

	return f != NULL ? f->SSL_set_options(ssl, without_ktls(op)) : 0;
}

uint64_t ossl_ctx_set_options(SSL_CTX *ctx, uint64_t op)
{
	const struct ssl_fns *f = ssl_fns();

	return f != NULL ? f->SSL_CTX_set_options(ctx, without_ktls(op)) : 0;
}

/* The SSL_OP_NO_RENEGOTIATION the shim set stays set. */
uint64_t ossl_clear_options(SSL *ssl, uint64_t op)
{
	const struct ssl_fns *f = ssl_fns();

	if (f == NULL) {
		return 0;
	}
	if (hooks_enforced(f, ssl)) {
		op &= ~(uint64_t)SSL_OP_NO_RENEGOTIATION;
	}
	return f->SSL_clear_options(ssl, op);
}

/* A resumed session carries the verification result of the handshake that
 * made it, which may predate enforcement or a weaker rule. In enforce mode the
 * offered session is dropped (success is returned, as the program expects):
 * every connection does a full, verified handshake. Resumption is lost; the
 * check stays simple and has no way to be fooled by a session's history. */
int ossl_set_session(SSL *ssl, SSL_SESSION *session)
{
	const struct ssl_fns *f = ssl_fns();

	if (f == NULL) {
		return 0;
	}
	if (session != NULL && ssl != NULL && ossl_active() && ossl_enforcing()) {
		return 1;
	}
	return f->SSL_set_session(ssl, session);
}

void ossl_set_info_callback(SSL *ssl, ossl_info_fn cb)
{
	const struct ssl_fns *f = ssl_fns();
	struct ossl_state *st;

	if (f == NULL) {
		return;
	}
	st = active_state(f, ssl);
	if (st == NULL || !st->hooks.info) {
		f->SSL_set_info_callback(ssl, cb);
		return;
	}
	st->hooks.prog_info = cb == ossl_info_cb ? NULL : cb; /* the shim's stays in front */
}

ossl_info_fn ossl_get_info_callback(const SSL *ssl)
{
	const struct ssl_fns *f = ssl_fns();
	const struct ossl_state *st;

	if (f == NULL) {
		return NULL;
	}
	st = active_state(f, ssl);
	return st != NULL && st->hooks.info ? st->hooks.prog_info : f->SSL_get_info_callback(ssl);
}

void ossl_set_security_callback(SSL *ssl, ossl_sec_fn cb)
{
	const struct ssl_fns *f = ssl_fns();
	struct ossl_state *st;

	if (f == NULL) {
		return;
	}
	st = active_state(f, ssl);
	if (st == NULL || !st->hooks.security) {
		f->SSL_set_security_callback(ssl, cb);
		return;
	}
	st->hooks.prog_sec = cb == ossl_sec_cb || cb == ossl_default_sec() ? NULL : cb;
}

ossl_sec_fn ossl_get_security_callback(const SSL *ssl)
{
	const struct ssl_fns *f = ssl_fns();
	const struct ossl_state *st;

	if (f == NULL) {
		return NULL;
	}
	st = active_state(f, ssl);
	if (st == NULL || !st->hooks.security) {
		return f->SSL_get_security_callback(ssl);
	}
	return st->hooks.prog_sec != NULL ? st->hooks.prog_sec : ossl_default_sec();
}

/* SSL_set_SSL_CTX(3ssl) gives the SSL its new context's certificate settings,
 * security level and callback among them, at any point of a handshake (a
 * server's SNI callback, or a client's info callback after the ServerHello):
 * the shim's are put back, and an `external` server's new certificate is held
 * to that rule again, and the new context verifies chains with the shim's
 * verifier. The outcome check still runs at the end. */
SSL_CTX *ossl_set_ssl_ctx(SSL *ssl, SSL_CTX *ctx)
{
	const struct ssl_fns *f = ssl_fns();
	struct ossl_state *st;
	SSL_CTX *ret;

	if (f == NULL) {
		return NULL;
	}
	ret = f->SSL_set_SSL_CTX(ssl, ctx);
	st = active_state(f, ssl);
	if (ret == NULL || st == NULL || !st->applied || st->tls == NULL || !ossl_enforcing()) {
		return ret;
	}
	ossl_verify_own_ctx(f, ctx);
	ossl_hook_security(f, ssl, st);
	if (st->governed && st->server && st->tls->external && !st->failed) {
		(void)ossl_verify_served(f, ssl, st);
	}
	return ret;
}

int ossl_get_verify_mode(const SSL *ssl)
{
	const struct ssl_fns *f = ssl_fns();
	const struct ossl_state *st;

	if (f == NULL) {
		return SSL_VERIFY_NONE;
	}
	st = active_state(f, ssl);
	return st != NULL && st->hooks.have_mode ? st->hooks.prog_mode
	                                         : f->SSL_get_verify_mode(ssl);
}

SSL_verify_cb ossl_get_verify_callback(const SSL *ssl)
{
	const struct ssl_fns *f = ssl_fns();
	const struct ossl_state *st;
	SSL_verify_cb cb;

	if (f == NULL) {
		return NULL;
	}
	cb = f->SSL_get_verify_callback(ssl);
	if (cb != ossl_verify_cb) {
		return cb;
	}
	st = active_state(f, ssl);
	return st != NULL ? st->prog_cb : NULL;
}
