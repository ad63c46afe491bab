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
#include <errno.h>
#include <pthread.h>
#include <string.h>

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

static void hook(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st);

/* The policy applied to ssl, and the shim's callbacks put in place. What the
 * program set its verify mode to is kept first, for SSL_get_verify_mode. */
static void apply_policy(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st,
                         enum sslg_side side)
{
	if (!st->hooks.have_mode) {
		st->hooks.prog_mode = f->SSL_get_verify_mode(ssl);
		st->hooks.have_mode = true;
	}
	sslg_apply(f, ssl, st, side);
	hook(f, ssl, st);
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
		apply_policy(f, ssl, st, side);
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
 * BIO_new_ssl_connect) never call the handshake functions: libssl 3.0's SSL
 * BIO reads and writes through ssl_read_internal/ssl_write_internal, calls
 * inside libssl that no PLT entry (and so no wrapper) sees; only
 * BIO_do_handshake reaches SSL_do_handshake through the PLT. They all name the
 * side first, so the policy is applied (and the SSL listed for
 * sslg_claim_hello) here; the outcome check then runs from the info callback
 * hook() installs, inside libssl, whatever drives the handshake. */
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
		apply_policy(f, ssl, st, server ? SSLG_SIDE_SERVER : SSLG_SIDE_CLIENT);
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

/* The records libssl left in ssl's memory BIO (python's ssl.MemoryBIO, BIO
 * pairs), its close_notify among them: the program moves them to the socket
 * itself after SSL_shutdown returned (c->lock held). Too many to keep: none
 * pass. */
static void keep_close_tail(const struct ssl_fns *f, SSL *ssl, struct conn *c)
{
	BIO *wbio = f->SSL_get_wbio(ssl);
	char *data = NULL;
	long len;

	c->close_tail_len = 0;
	c->close_tail_off = 0;
	if (!c->tls_closed || wbio == NULL || f->BIO_method_type(wbio) != BIO_TYPE_MEM) {
		return;
	}
	len = f->BIO_ctrl(wbio, BIO_CTRL_INFO, 0, &data); /* BIO_get_mem_data(3) */
	if (len > 0 && len <= CONN_CLOSE_TAIL_MAX && data != NULL) {
		memcpy(c->close_tail, data, (size_t)len);
		c->close_tail_len = (uint8_t)len;
	}
}

/* Once the program has shut a TLS session down (close_notify sent), nothing
 * more may be written on its socket: bytes after it can only be plaintext,
 * whatever framing they wear. The mark is set after the real call, whose own
 * close_notify must still go out; over a memory BIO the program sends it
 * itself, and exactly those bytes still pass. */
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
		keep_close_tail(f, ssl, c);
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
	st = ssl != NULL && sslg_active() ? sslg_state_get(f, ssl) : NULL;
	if (st != NULL && st->hooks.have_mode) {
		st->hooks.prog_mode = mode; /* what SSL_get_verify_mode gives back */
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

/* The security level was forced on ssl (hook_security): a governed SSL, or a
 * client whose transport is not known yet, under enforce. */
static bool floor_forced(const struct ssl_fns *f, const SSL *ssl)
{
	const struct sslg_state *st = ssl != NULL && sslg_active() ? sslg_state_get(f, ssl) : NULL;

	return st != NULL && st->hooks.security && shim_mode() == POLICY_MODE_ENFORCE;
}

static void set_security_level(SSL *ssl, int level)
{
	const struct ssl_fns *f = ssl_fns();

	if (f == NULL) {
		return;
	}
	if (floor_forced(f, ssl) && level < SSLG_MIN_SECURITY_LEVEL) {
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
	if (floor_forced(f, ssl) && f->SSL_get_security_level(ssl) < SSLG_MIN_SECURITY_LEVEL) {
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

/*
 * When the check runs. libssl tells every SSL's info callback when a handshake
 * starts and ends (SSL_CTX_set_info_callback(3ssl)), from inside its state
 * machine, whatever drove it: SSL_connect, SSL_read, an SSL BIO's internal
 * calls, a renegotiation. SSL_CB_HANDSHAKE_DONE comes after the peer's
 * Finished and before the first application byte either way (libssl finishes a
 * pending handshake before it reads or writes application data, and clears
 * in_init before the callback), so the outcome check runs there; a refusal
 * shuts the governed socket (ssl_check.c), and nothing more crosses it. The
 * program's own info callback, of the SSL or else of its context, is called
 * after the shim's.
 */
/* A client whose transport was unknown when the policy was applied (an SSL
 * BIO pushed onto a socket BIO later) and whose handshake failed before a
 * ClientHello left: tied to its socket now, so that the failure is recorded
 * against the rule of the connection. */
static void bind_late(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st)
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
	sslg_bind(f, ssl, st, c, fd);
	lock_take(&c->lock);
	c->ssl = ssl;
	lock_give(&c->lock);
	conn_release(c);
}

static void watch(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st, int where, int ret)
{
	if (!st->applied || !sslg_active()) {
		return;
	}
	/* A server on memory BIOs: its connection is known once it has
	 * processed the ClientHello the socket layer saw come in, before it
	 * writes its first flight, so the rule's settings still take effect. */
	if (st->hooks.unclaimed && sslg_claim_memory(f, ssl, st)) {
		st->hooks.unclaimed = false;
		hook(f, ssl, st);
	}
	/* TLS 1.2 renegotiation (TLS 1.3 reports no start after its first
	 * handshake): SSL_OP_NO_RENEGOTIATION forbids it under enforce, but what
	 * one handshake passed says nothing about the next. */
	if ((where & SSL_CB_HANDSHAKE_START) != 0 && st->checked && !st->failed) {
		st->checked = false;
		if (settled.ssl == ssl) {
			settled.ssl = NULL;
		}
		return;
	}
	if ((where & (SSL_CB_HANDSHAKE_DONE | SSL_CB_EXIT)) == 0) {
		return;
	}
	if ((where & SSL_CB_EXIT) != 0 && ret <= 0) {
		bind_late(f, ssl, st);
	}
	if (!sslg_after(f, ssl, st, (where & SSL_CB_HANDSHAKE_DONE) != 0 ? 1 : ret) &&
	    settled.ssl == ssl) {
		settled.ssl = NULL;
	}
}

static void info_cb(const SSL *cssl, int where, int ret)
{
	const struct ssl_fns *f = ssl_fns_if_bound();
	SSL *ssl = (SSL *)cssl;
	struct sslg_state *st;
	sslg_info_fn prog = NULL;
	int saved = errno;

	if (f == NULL || ssl == NULL) {
		return;
	}
	st = sslg_state_get(f, ssl);
	if (st != NULL) {
		prog = st->hooks.prog_info;
		watch(f, ssl, st, where, ret);
	}
	if (prog == NULL) {
		prog = f->SSL_CTX_get_info_callback(f->SSL_get_SSL_CTX(ssl));
	}
	errno = saved;
	if (prog != NULL && prog != info_cb) {
		prog(cssl, where, ret);
	}
}

/* libssl's own security callback (ssl_security_default_callback, static in
 * libssl): the one a new context has. */
static pthread_once_t default_sec_once = PTHREAD_ONCE_INIT;
static sslg_sec_fn default_sec;

static void find_default_sec(void)
{
	const struct ssl_fns *f = ssl_fns_if_bound();
	SSL_CTX *ctx = f != NULL ? f->SSL_CTX_new(f->TLS_method()) : NULL;

	if (ctx != NULL) {
		default_sec = f->SSL_CTX_get_security_callback(ctx);
		f->SSL_CTX_free(ctx);
	}
}

/* SSL_set_security_callback(3ssl) replaces the check of the security level
 * (key sizes, NULL and anonymous suites, versions, digests) wholesale: a
 * callback that says yes to everything undoes the level the shim forces.
 * Under enforce, libssl's own check at the SSL's level (never below
 * SSLG_MIN_SECURITY_LEVEL) must pass first; the program's callback may only
 * refuse more. Elsewhere the program's callback, or libssl's, as it set. */
static int sec_cb(const SSL *s, const SSL_CTX *ctx, int op, int bits, int nid, void *other,
                  void *ex)
{
	const struct ssl_fns *f = ssl_fns_if_bound();
	const struct sslg_state *st = f != NULL && s != NULL ? sslg_state_get(f, s) : NULL;
	sslg_sec_fn prog = st != NULL ? st->hooks.prog_sec : NULL;
	bool strict = st != NULL && st->tls != NULL && shim_mode() == POLICY_MODE_ENFORCE;

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

/* The shim's security callback on ssl (again after SSL_set_SSL_CTX, which
 * gives the SSL its new context's), with the level at least the minimum. */
static void hook_security(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st)
{
	sslg_sec_fn cur = f->SSL_get_security_callback(ssl);

	pthread_once(&default_sec_once, find_default_sec);
	if (cur != sec_cb) {
		st->hooks.prog_sec = cur == default_sec ? NULL : cur;
		f->SSL_set_security_callback(ssl, sec_cb);
	}
	st->hooks.security = true;
	if (f->SSL_get_security_level(ssl) < SSLG_MIN_SECURITY_LEVEL) {
		f->SSL_set_security_level(ssl, SSLG_MIN_SECURITY_LEVEL);
	}
}

/* st->tls is set for an SSL on a governed socket and for a client on a
 * transport not known yet (memory BIOs, claimed at its ClientHello); NULL for
 * one on a socket the policy lets through, which the shim leaves alone, and
 * for a server on memory BIOs until its ClientHello ties it to a socket. */
static void hook(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st)
{
	sslg_info_fn cur;

	/* a server on memory BIOs (no descriptor): its connection shows up
	 * when its ClientHello is processed, in the info callback */
	st->hooks.unclaimed = st->server && !st->bound && st->tls == NULL && f->SSL_get_fd(ssl) < 0;
	if (st->tls == NULL && !st->hooks.unclaimed) {
		return;
	}
	if (!st->hooks.info) {
		cur = f->SSL_get_info_callback(ssl);
		st->hooks.prog_info = cur == info_cb ? NULL : cur;
		f->SSL_set_info_callback(ssl, info_cb);
		st->hooks.info = true;
	}
	if (st->tls != NULL && shim_mode() == POLICY_MODE_ENFORCE) {
		hook_security(f, ssl, st);
		/* SSL_CTX_set_options(3ssl): refuses renegotiation both ways (a
		 * client ignores HelloRequest, a server refuses a new ClientHello). */
		(void)f->SSL_set_options(ssl, SSL_OP_NO_RENEGOTIATION);
	}
}

static struct sslg_state *hooked_state(const struct ssl_fns *f, const SSL *ssl)
{
	return ssl != NULL && sslg_active() ? sslg_state_get(f, ssl) : NULL;
}

static void set_info_callback(SSL *ssl, sslg_info_fn cb)
{
	const struct ssl_fns *f = ssl_fns();
	struct sslg_state *st;

	if (f == NULL) {
		return;
	}
	st = hooked_state(f, ssl);
	if (st != NULL && st->hooks.info) {
		st->hooks.prog_info = cb == info_cb ? NULL : cb; /* the shim's stays in front */
		return;
	}
	f->SSL_set_info_callback(ssl, cb);
}

SHIM_EXPORT void SSL_set_info_callback(SSL *ssl, void (*cb)(const SSL *, int, int))
{
	set_info_callback(ssl, cb);
}

static sslg_info_fn get_info_callback(const SSL *ssl)
{
	const struct ssl_fns *f = ssl_fns();
	const struct sslg_state *st;

	if (f == NULL) {
		return NULL;
	}
	st = hooked_state(f, ssl);
	return st != NULL && st->hooks.info ? st->hooks.prog_info : f->SSL_get_info_callback(ssl);
}

SHIM_EXPORT void (*SSL_get_info_callback(const SSL *ssl))(const SSL *, int, int)
{
	return get_info_callback(ssl);
}

static void set_security_callback(SSL *ssl, sslg_sec_fn cb)
{
	const struct ssl_fns *f = ssl_fns();
	struct sslg_state *st;

	if (f == NULL) {
		return;
	}
	st = hooked_state(f, ssl);
	if (st != NULL && st->hooks.security) {
		st->hooks.prog_sec = cb == sec_cb || cb == default_sec ? NULL : cb;
		return;
	}
	f->SSL_set_security_callback(ssl, cb);
}

SHIM_EXPORT void SSL_set_security_callback(SSL *ssl, int (*cb)(const SSL *, const SSL_CTX *, int,
                                                               int, int, void *, void *))
{
	set_security_callback(ssl, cb);
}

static sslg_sec_fn get_security_callback(const SSL *ssl)
{
	const struct ssl_fns *f = ssl_fns();
	const struct sslg_state *st;

	if (f == NULL) {
		return NULL;
	}
	st = hooked_state(f, ssl);
	if (st == NULL || !st->hooks.security) {
		return f->SSL_get_security_callback(ssl);
	}
	return st->hooks.prog_sec != NULL ? st->hooks.prog_sec : default_sec;
}

SHIM_EXPORT int (*SSL_get_security_callback(const SSL *ssl))(const SSL *, const SSL_CTX *, int, int,
                                                             int, void *, void *)
{
	return get_security_callback(ssl);
}

/* SSL_set_SSL_CTX(3ssl) gives the SSL its new context's certificate settings,
 * security level and callback among them, at any point of a handshake (a
 * server's SNI callback, or a client's info callback after the ServerHello):
 * the shim's are put back, and an `external` server's new certificate is held
 * to that rule again, and the new context verifies chains with the shim's
 * verifier. The outcome check still runs at the end. */
static SSL_CTX *set_ssl_ctx(SSL *ssl, SSL_CTX *ctx)
{
	const struct ssl_fns *f = ssl_fns();
	struct sslg_state *st;
	SSL_CTX *ret;

	if (f == NULL) {
		return NULL;
	}
	ret = f->SSL_set_SSL_CTX(ssl, ctx);
	st = hooked_state(f, ssl);
	if (ret == NULL || st == NULL || !st->applied || st->tls == NULL ||
	    shim_mode() != POLICY_MODE_ENFORCE) {
		return ret;
	}
	/* the new context's chain verification is the shim's too (ssl_check.c) */
	sslg_ctx_take_verify(f, ctx);
	hook_security(f, ssl, st);
	if (st->governed && st->server && st->tls->external && !st->failed) {
		(void)sslg_check_external(f, ssl, st);
	}
	return ret;
}

SHIM_EXPORT SSL_CTX *SSL_set_SSL_CTX(SSL *ssl, SSL_CTX *ctx)
{
	return set_ssl_ctx(ssl, ctx);
}

/* The SSL_OP_NO_RENEGOTIATION the shim set stays set. */
static uint64_t clear_options(SSL *ssl, uint64_t op)
{
	const struct ssl_fns *f = ssl_fns();
	const struct sslg_state *st;

	if (f == NULL) {
		return 0;
	}
	st = hooked_state(f, ssl);
	if (st != NULL && st->hooks.security && shim_mode() == POLICY_MODE_ENFORCE) {
		op &= ~(uint64_t)SSL_OP_NO_RENEGOTIATION;
	}
	return f->SSL_clear_options(ssl, op);
}

SHIM_EXPORT uint64_t SSL_clear_options(SSL *ssl, uint64_t op)
{
	return clear_options(ssl, op);
}

/*
 * What the program reads back about its own settings is what it set
 * (SSL_get_verify_mode(3ssl)): a program that saw the mode the shim forces
 * would run checks of its own that it never meant to run (ncat's host check,
 * which knows no IP addresses, refused valid sessions). The shim's settings
 * stay in force behind the answer. Context getters need nothing: the shim
 * changes SSLs only.
 */
static int get_verify_mode(const SSL *ssl)
{
	const struct ssl_fns *f = ssl_fns();
	const struct sslg_state *st;

	if (f == NULL) {
		return SSL_VERIFY_NONE;
	}
	st = hooked_state(f, ssl);
	return st != NULL && st->hooks.have_mode ? st->hooks.prog_mode
	                                         : f->SSL_get_verify_mode(ssl);
}

SHIM_EXPORT int SSL_get_verify_mode(const SSL *ssl)
{
	return get_verify_mode(ssl);
}

static SSL_verify_cb get_verify_callback(const SSL *ssl)
{
	const struct ssl_fns *f = ssl_fns();
	const struct sslg_state *st;
	SSL_verify_cb cb;

	if (f == NULL) {
		return NULL;
	}
	cb = f->SSL_get_verify_callback(ssl);
	if (cb != sslg_verify_cb) {
		return cb;
	}
	st = hooked_state(f, ssl);
	return st != NULL ? st->prog_cb : NULL;
}

SHIM_EXPORT SSL_verify_cb SSL_get_verify_callback(const SSL *ssl)
{
	return get_verify_callback(ssl);
}
