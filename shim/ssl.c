/*
 * The interposed OpenSSL entry points. Each exported name is a trampoline into
 * a static function; OpenSSL itself is reached only through ssl_fns().
 *
 * libssl calls some of these names itself (SSL_connect -> SSL_do_handshake,
 * the SSL BIO -> SSL_read, ...), through the PLT and so through the shim: only
 * the outermost call of a thread applies policy and checks the outcome.
 *
 * Not interposed on purpose: SSL_CTX_new/SSL_new and SSL_CTX_set_verify. An SSL
 * copies its context's settings at SSL_new, and the shim applies the policy to
 * the SSL itself at its first handshake call, after everything the program set
 * on either; what the program changes on the SSL after that goes through the
 * setters below.
 */
#include <openssl/ssl.h>
#include <openssl/tls1.h>

#include "shim.h"
#include "ssl_internal.h"

static SHIM_THREAD int depth;

/* The SSL whose handshake this thread last saw pass the shim's checks, and
 * sslg_state_frees then. While the count holds, that SSL was not freed (nor
 * another made at its address) and its state is final: applied, checked, not
 * failed, with nothing left for the shim to do on its calls. */
static SHIM_THREAD struct {
	const SSL *ssl;
	unsigned frees;
} settled;

static bool is_settled(const SSL *ssl)
{
	return ssl == settled.ssl && ssl != NULL &&
	       settled.frees == atomic_load_explicit(&sslg_state_frees, memory_order_acquire);
}

static bool enforced(const struct sslg_state *st)
{
	return st != NULL && st->applied && st->governed && shim_mode() == POLICY_MODE_ENFORCE;
}

/* Before a handshake or I/O call. false: the SSL was refused, fail now. */
static bool call_enter(const struct ssl_fns *f, SSL *ssl, enum sslg_side side,
                       struct sslg_state **out)
{
	struct sslg_state *st;

	*out = NULL;
	if (depth++ > 0 || ssl == NULL || !sslg_active()) {
		return true;
	}
	st = sslg_state_make(f, ssl);
	if (st == NULL) {
		return true; /* no memory for the state: libssl will not fare better */
	}
	if (!st->applied) {
		sslg_apply(f, ssl, st, side);
	}
	/* refused earlier, or on the spot (an inbound `external` rule) */
	if (st->failed) {
		depth--;
		sslg_push_error(f, st);
		return false;
	}
	*out = st;
	return true;
}

/* After it: ret, or failed when the finished handshake broke the policy. */
static int call_leave(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st, int ret, int failed)
{
	unsigned frees;

	depth--;
	if (st == NULL) {
		return ret;
	}
	frees = atomic_load_explicit(&sslg_state_frees, memory_order_acquire);
	if (!sslg_after(f, ssl, st, ret)) {
		sslg_push_error(f, st);
		return failed;
	}
	if (st->applied && st->checked && !st->failed) {
		settled.ssl = ssl;
		settled.frees = frees;
	}
	return ret;
}

typedef int (*handshake_fn)(SSL *);

static int handshake(SSL *ssl, size_t which)
{
	const struct ssl_fns *f = ssl_fns();
	struct sslg_state *st;
	handshake_fn fn;
	enum sslg_side side;
	int ret;

	if (f == NULL) {
		return -1; /* libssl is not OpenSSL 3: nothing safe to call */
	}
	fn = which == 0 ? f->SSL_connect : which == 1 ? f->SSL_accept : f->SSL_do_handshake;
	side = which == 0 ? SSLG_SIDE_CLIENT : which == 1 ? SSLG_SIDE_SERVER : SSLG_SIDE_ASK_SSL;
	if (!call_enter(f, ssl, side, &st)) {
		return -1;
	}
	ret = fn(ssl);
	return call_leave(f, ssl, st, ret, -1);
}

SHIM_EXPORT int SSL_connect(SSL *ssl)
{
	return handshake(ssl, 0);
}

SHIM_EXPORT int SSL_accept(SSL *ssl)
{
	return handshake(ssl, 1);
}

SHIM_EXPORT int SSL_do_handshake(SSL *ssl)
{
	return handshake(ssl, 2);
}

/* Programs that drive TLS through an SSL BIO (openssl s_server -www,
 * BIO_new_ssl_connect) never call the handshake functions: libssl runs the
 * handshake inside BIO_read/BIO_write through internal calls the shim cannot
 * see. They all name the side first, so the policy is applied (and the SSL
 * listed for sslg_claim_hello) here too; the settings then hold inside libssl,
 * only the shim's own outcome check is missed for them. */
static void set_side(SSL *ssl, bool server)
{
	const struct ssl_fns *f = ssl_fns();
	struct sslg_state *st;

	if (f == NULL) {
		return;
	}
	if (server) {
		f->SSL_set_accept_state(ssl);
	} else {
		f->SSL_set_connect_state(ssl);
	}
	if (depth > 0 || ssl == NULL || !sslg_active()) {
		return;
	}
	st = sslg_state_make(f, ssl);
	if (st != NULL && !st->applied) {
		sslg_apply(f, ssl, st, server ? SSLG_SIDE_SERVER : SSLG_SIDE_CLIENT);
	}
}

SHIM_EXPORT void SSL_set_accept_state(SSL *ssl)
{
	set_side(ssl, true);
}

SHIM_EXPORT void SSL_set_connect_state(SSL *ssl)
{
	set_side(ssl, false);
}

enum io_op {
	IO_READ,
	IO_PEEK,
	IO_WRITE,
};

static inline int real_io_int(const struct ssl_fns *f, SSL *ssl, enum io_op op, void *buf, int num)
{
	switch (op) {
	case IO_READ:
		return f->SSL_read(ssl, buf, num);
	case IO_PEEK:
		return f->SSL_peek(ssl, buf, num);
	case IO_WRITE:
	default:
		return f->SSL_write(ssl, buf, num);
	}
}

static inline int real_io_ex(const struct ssl_fns *f, SSL *ssl, enum io_op op, void *buf,
                             size_t num, size_t *done)
{
	switch (op) {
	case IO_READ:
		return f->SSL_read_ex(ssl, buf, num, done);
	case IO_PEEK:
		return f->SSL_peek_ex(ssl, buf, num, done);
	case IO_WRITE:
	default:
		return f->SSL_write_ex(ssl, buf, num, done);
	}
}

static int io_int(SSL *ssl, enum io_op op, void *buf, int num)
{
	const struct ssl_fns *f = ssl_fns();
	struct sslg_state *st;
	int ret;

	if (f == NULL) {
		return -1;
	}
	if (depth == 0 && is_settled(ssl)) {
		depth++;
		ret = real_io_int(f, ssl, op, buf, num);
		depth--;
		return ret;
	}
	if (!call_enter(f, ssl, SSLG_SIDE_ASK_SSL, &st)) {
		return -1;
	}
	ret = real_io_int(f, ssl, op, buf, num);
	return call_leave(f, ssl, st, ret, -1);
}

static int io_ex(SSL *ssl, enum io_op op, void *buf, size_t num, size_t *done)
{
	const struct ssl_fns *f = ssl_fns();
	struct sslg_state *st;
	int ret;

	if (f == NULL) {
		return 0;
	}
	if (depth == 0 && is_settled(ssl)) {
		depth++;
		ret = real_io_ex(f, ssl, op, buf, num, done);
		depth--;
		return ret;
	}
	if (!call_enter(f, ssl, SSLG_SIDE_ASK_SSL, &st)) {
		return 0;
	}
	ret = real_io_ex(f, ssl, op, buf, num, done);
	ret = call_leave(f, ssl, st, ret, 0);
	if (ret == 0 && done != NULL) {
		*done = 0;
	}
	return ret;
}

SHIM_EXPORT int SSL_read(SSL *ssl, void *buf, int num)
{
	return io_int(ssl, IO_READ, buf, num);
}

SHIM_EXPORT int SSL_peek(SSL *ssl, void *buf, int num)
{
	return io_int(ssl, IO_PEEK, buf, num);
}

SHIM_EXPORT int SSL_write(SSL *ssl, const void *buf, int num)
{
	return io_int(ssl, IO_WRITE, (void *)buf, num);
}

SHIM_EXPORT int SSL_read_ex(SSL *ssl, void *buf, size_t num, size_t *readbytes)
{
	return io_ex(ssl, IO_READ, buf, num, readbytes);
}

SHIM_EXPORT int SSL_peek_ex(SSL *ssl, void *buf, size_t num, size_t *readbytes)
{
	return io_ex(ssl, IO_PEEK, buf, num, readbytes);
}

SHIM_EXPORT int SSL_write_ex(SSL *ssl, const void *buf, size_t num, size_t *written)
{
	return io_ex(ssl, IO_WRITE, (void *)buf, num, written);
}

/* Once the program has shut a TLS session down (close_notify sent), nothing
 * more may be written on its socket: bytes after it can only be plaintext,
 * whatever framing they wear. The mark is set after the real call, whose own
 * close_notify must still go out. */
SHIM_EXPORT int SSL_shutdown(SSL *ssl)
{
	const struct ssl_fns *f = ssl_fns();
	struct sslg_state *st;
	struct conn *c;
	int ret, fd;

	if (f == NULL) {
		return -1;
	}
	depth++;
	ret = f->SSL_shutdown(ssl);
	depth--;
	if (ret < 0 || depth > 0 || ssl == NULL || !sslg_active()) {
		return ret;
	}
	st = sslg_state_get(f, ssl);
	fd = st != NULL && st->fd >= 0 ? st->fd : f->SSL_get_fd(ssl);
	c = conn_acquire(fd);
	if (c != NULL) {
		lock_take(&c->lock);
		c->tls_closed = c->ssl == ssl;
		lock_give(&c->lock);
		conn_release(c);
	}
	return ret;
}

/* SSL_clear(3ssl) readies an SSL for another connection: the shim's state
 * for it starts over, so that the next handshake is held to the rule of its
 * own connection. libssl clears an SSL itself as a handshake begins, mostly
 * inside a call the shim wraps (depth > 0): nothing to start over then. */
SHIM_EXPORT int SSL_clear(SSL *ssl)
{
	const struct ssl_fns *f = ssl_fns();
	int ret;

	if (f == NULL) {
		return 0;
	}
	depth++;
	ret = f->SSL_clear(ssl);
	depth--;
	if (ret == 1 && depth == 0 && ssl != NULL && sslg_active()) {
		sslg_state_reset(f, ssl);
	}
	return ret;
}

/* The state of an SSL the policy governs in enforce mode, else NULL. */
static struct sslg_state *enforced_state(const struct ssl_fns *f, const SSL *ssl)
{
	struct sslg_state *st;

	if (ssl == NULL || !sslg_active()) {
		return NULL;
	}
	st = sslg_state_get(f, ssl);
	return enforced(st) ? st : NULL;
}

/* After the policy was applied, SSL_VERIFY_NONE (before or during the
 * handshake) is ignored; the new callback can only make things stricter. */
static void set_verify(SSL *ssl, int mode, SSL_verify_cb cb)
{
	const struct ssl_fns *f = ssl_fns();
	struct sslg_state *st;

	if (f == NULL) {
		return;
	}
	st = enforced_state(f, ssl);
	if (st == NULL || (st->server && !st->tls->require_client_cert)) {
		f->SSL_set_verify(ssl, mode, cb);
		return;
	}
	if (cb != sslg_verify_cb) {
		st->prog_cb = cb;
	}
	mode =
	    st->server ? mode | SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER;
	f->SSL_set_verify(ssl, mode, sslg_verify_cb);
}

SHIM_EXPORT void SSL_set_verify(SSL *ssl, int mode, SSL_verify_cb cb)
{
	set_verify(ssl, mode, cb);
}

static void set_cert_verify_callback(SSL_CTX *ctx, int (*cb)(X509_STORE_CTX *, void *), void *arg)
{
	const struct ssl_fns *f = ssl_fns();

	if (f == NULL || ctx == NULL) {
		return;
	}
	/* NULL is kept too: the shim's wrapper then runs OpenSSL's own
	 * verification, and stays in place for the shim's verifier. */
	if (sslg_ctx_app_verify_set(f, ctx, cb, arg) < 0) {
		/* NULL restores OpenSSL's own verification: nothing to wrap. Out of
		 * memory: the shim's wrapper without the program's callback is
		 * OpenSSL's own verification too. */
		f->SSL_CTX_set_cert_verify_callback(ctx, cb == NULL ? NULL : sslg_cert_verify_cb,
		                                    ctx);
		return;
	}
	f->SSL_CTX_set_cert_verify_callback(ctx, sslg_cert_verify_cb, ctx);
}

SHIM_EXPORT void SSL_CTX_set_cert_verify_callback(SSL_CTX *ctx, int (*cb)(X509_STORE_CTX *, void *),
                                                  void *arg)
{
	set_cert_verify_callback(ctx, cb, arg);
}

/* A recorded failure cannot be covered, and on an enforced SSL "OK" is never
 * the program's to claim. */
static void set_verify_result(SSL *ssl, long result)
{
	const struct ssl_fns *f = ssl_fns();
	struct sslg_state *st;

	if (f == NULL) {
		return;
	}
	st = ssl != NULL && sslg_active() ? sslg_state_get(f, ssl) : NULL;
	if (st != NULL && (st->failed || (enforced(st) && result == X509_V_OK))) {
		return;
	}
	f->SSL_set_verify_result(ssl, result);
}

SHIM_EXPORT void SSL_set_verify_result(SSL *ssl, long result)
{
	set_verify_result(ssl, result);
}

static long get_verify_result(const SSL *ssl)
{
	const struct ssl_fns *f = ssl_fns();
	const struct sslg_state *st;

	if (f == NULL) {
		return X509_V_ERR_UNSPECIFIED;
	}
	st = ssl != NULL ? sslg_state_get(f, ssl) : NULL;
	if (st != NULL && st->failed) {
		return st->verify_result;
	}
	return f->SSL_get_verify_result(ssl);
}

SHIM_EXPORT long SSL_get_verify_result(const SSL *ssl)
{
	return get_verify_result(ssl);
}

static long version_floor(const struct sslg_state *st)
{
	return st->tls->min_version == POLICY_TLS_1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

/* SSL_set_min/max_proto_version and SSL_set1_verify_cert_store are macros over
 * SSL_ctrl (ssl.h): after the policy was applied they may not weaken it. */
static long ctrl(SSL *ssl, int cmd, long larg, void *parg)
{
	const struct ssl_fns *f = ssl_fns();
	struct sslg_state *st;

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
	switch (cmd) {
	case SSL_CTRL_SET_MIN_PROTO_VERSION:
		larg = larg == 0 || larg < version_floor(st) ? version_floor(st) : larg;
		break;
	case SSL_CTRL_SET_MAX_PROTO_VERSION:
		larg = larg != 0 && larg < version_floor(st) ? version_floor(st) : larg;
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

SHIM_EXPORT long SSL_ctrl(SSL *ssl, int cmd, long larg, void *parg)
{
	return ctrl(ssl, cmd, larg, parg);
}

static void set_security_level(SSL *ssl, int level)
{
	const struct ssl_fns *f = ssl_fns();

	if (f == NULL) {
		return;
	}
	if (enforced_state(f, ssl) != NULL && level < SSLG_MIN_SECURITY_LEVEL) {
		level = SSLG_MIN_SECURITY_LEVEL;
	}
	f->SSL_set_security_level(ssl, level);
}

SHIM_EXPORT void SSL_set_security_level(SSL *ssl, int level)
{
	set_security_level(ssl, level);
}

/* "@SECLEVEL=0" in a cipher string lowers the security level too. */
static int set_cipher_list(SSL *ssl, const char *str)
{
	const struct ssl_fns *f = ssl_fns();
	int ret;

	if (f == NULL) {
		return 0;
	}
	ret = f->SSL_set_cipher_list(ssl, str);
	if (enforced_state(f, ssl) != NULL &&
	    f->SSL_get_security_level(ssl) < SSLG_MIN_SECURITY_LEVEL) {
		f->SSL_set_security_level(ssl, SSLG_MIN_SECURITY_LEVEL);
	}
	return ret;
}

SHIM_EXPORT int SSL_set_cipher_list(SSL *ssl, const char *str)
{
	return set_cipher_list(ssl, str);
}

/* Kernel TLS would put the plaintext into the kernel behind the socket layer's
 * back (SSL_CTX_set_options(3ssl), SSL_OP_ENABLE_KTLS): not in enforce mode. */
static uint64_t without_ktls(uint64_t op)
{
	if (sslg_active() && shim_mode() == POLICY_MODE_ENFORCE) {
		op &= ~(uint64_t)SSL_OP_ENABLE_KTLS;
	}
	return op;
}

SHIM_EXPORT uint64_t SSL_set_options(SSL *ssl, uint64_t op)
{
	const struct ssl_fns *f = ssl_fns();

	return f != NULL ? f->SSL_set_options(ssl, without_ktls(op)) : 0;
}

SHIM_EXPORT uint64_t SSL_CTX_set_options(SSL_CTX *ctx, uint64_t op)
{
	const struct ssl_fns *f = ssl_fns();

	return f != NULL ? f->SSL_CTX_set_options(ctx, without_ktls(op)) : 0;
}

/* A resumed session carries the verification result of the handshake that
 * made it, which may predate enforcement or a weaker rule. In enforce mode the
 * offered session is dropped (success is returned, as the program expects):
 * every connection does a full, verified handshake. Resumption is lost; the
 * check stays simple and has no way to be fooled by a session's history. */
static int set_session(SSL *ssl, SSL_SESSION *session)
{
	const struct ssl_fns *f = ssl_fns();

	if (f == NULL) {
		return 0;
	}
	if (session != NULL && ssl != NULL && sslg_active() && shim_mode() == POLICY_MODE_ENFORCE) {
		return 1;
	}
	return f->SSL_set_session(ssl, session);
}

SHIM_EXPORT int SSL_set_session(SSL *ssl, SSL_SESSION *session)
{
	return set_session(ssl, session);
}
