/*
 * The flow of one handshake, I/O or teardown call (call.h). A thread's
 * nesting depth tells the outermost call; the SSL whose state is final
 * (state.h, ossl_settled) takes the fast path straight to libssl.
 */
#include <string.h>

#include "call.h"
#include "hooks.h"
#include "outcome.h"
#include "state.h"
#include "verdict.h"

static SHIM_THREAD int depth;

/* The policy applied to ssl, and the shim's callbacks put in place. What the
 * program set its verify mode to is kept first, for SSL_get_verify_mode. */
static void apply_policy(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st,
                         enum ossl_side side)
{
	if (!st->hooks.have_mode) {
		st->hooks.prog_mode = f->SSL_get_verify_mode(ssl);
		st->hooks.have_mode = true;
	}
	ossl_apply(f, ssl, st, side);
	ossl_hook(f, ssl, st);
}

/* Before a handshake or I/O call. false: the SSL was refused, fail now. */
static bool call_enter(const struct ssl_fns *f, SSL *ssl, enum ossl_side side,
                       struct ossl_state **out)
{
	struct ossl_state *st;

	*out = NULL;
	if (depth++ > 0 || ssl == NULL || !ossl_active()) {
		return true;
	}
	st = ossl_state_make(f, ssl);
	if (st == NULL) {
		return true; /* no memory for the state: libssl will not fare better */
	}
	if (!st->applied) {
		apply_policy(f, ssl, st, side);
	}
	/* refused earlier, or on the spot (an inbound `external` rule) */
	if (st->failed) {
		depth--;
		ossl_push_error(f, st);
		return false;
	}
	*out = st;
	return true;
}

/* After it: ret, or failed when the finished handshake broke the policy. */
static int call_leave(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st, int ret, int failed)
{
	unsigned frees;

	depth--;
	if (st == NULL) {
		return ret;
	}
	frees = ossl_state_frees_now();
	if (!ossl_outcome_check(f, ssl, st, ret)) {
		ossl_push_error(f, st);
		return failed;
	}
	if (st->applied && st->checked && !st->failed) {
		ossl_settled_mark(ssl, frees);
	}
	return ret;
}

int ossl_call_handshake(SSL *ssl, enum ossl_handshake_call which)
{
	const struct ssl_fns *f = ssl_fns();
	struct ossl_state *st;
	int (*fn)(SSL *);
	enum ossl_side side;
	int ret;

	if (f == NULL) {
		return -1; /* libssl is not OpenSSL 3: nothing safe to call */
	}
	switch (which) {
	case OSSL_CALL_CONNECT:
		fn = f->SSL_connect;
		side = OSSL_SIDE_CLIENT;
		break;
	case OSSL_CALL_ACCEPT:
		fn = f->SSL_accept;
		side = OSSL_SIDE_SERVER;
		break;
	case OSSL_CALL_DO_HANDSHAKE:
	default:
		fn = f->SSL_do_handshake;
		side = OSSL_SIDE_ASK_SSL;
		break;
	}
	if (!call_enter(f, ssl, side, &st)) {
		return -1;
	}
	ret = fn(ssl);
	return call_leave(f, ssl, st, ret, -1);
}

/* Programs that drive TLS through an SSL BIO (openssl s_server -www,
 * BIO_new_ssl_connect) never call the handshake functions: libssl 3.0's SSL
 * BIO reads and writes through ssl_read_internal/ssl_write_internal, calls
 * inside libssl that no PLT entry (and so no wrapper) sees; only
 * BIO_do_handshake reaches SSL_do_handshake through the PLT. They all name the
 * side first, so the policy is applied (and the SSL listed for
 * tls_claim_hello) here; the outcome check then runs from the info callback
 * (hooks.c), inside libssl, whatever drives the handshake. */
void ossl_call_set_side(SSL *ssl, enum ossl_side side)
{
	const struct ssl_fns *f = ssl_fns();
	struct ossl_state *st;

	if (f == NULL) {
		return;
	}
	if (side == OSSL_SIDE_SERVER) {
		f->SSL_set_accept_state(ssl);
	} else {
		f->SSL_set_connect_state(ssl);
	}
	if (depth > 0 || ssl == NULL || !ossl_active()) {
		return;
	}
	st = ossl_state_make(f, ssl);
	if (st != NULL && !st->applied) {
		apply_policy(f, ssl, st, side);
	}
}

static inline int real_io(const struct ssl_fns *f, SSL *ssl, enum ossl_io_op op, void *buf, int num)
{
	switch (op) {
	case OSSL_IO_READ:
		return f->SSL_read(ssl, buf, num);
	case OSSL_IO_PEEK:
		return f->SSL_peek(ssl, buf, num);
	case OSSL_IO_WRITE:
	default:
		return f->SSL_write(ssl, buf, num);
	}
}

static inline int real_io_ex(const struct ssl_fns *f, SSL *ssl, enum ossl_io_op op, void *buf,
                             size_t num, size_t *done)
{
	switch (op) {
	case OSSL_IO_READ:
		return f->SSL_read_ex(ssl, buf, num, done);
	case OSSL_IO_PEEK:
		return f->SSL_peek_ex(ssl, buf, num, done);
	case OSSL_IO_WRITE:
	default:
		return f->SSL_write_ex(ssl, buf, num, done);
	}
}

int ossl_call_io(SSL *ssl, enum ossl_io_op op, void *buf, int num)
{
	const struct ssl_fns *f = ssl_fns();
	struct ossl_state *st;
	int ret;

	if (f == NULL) {
		return -1;
	}
	if (depth == 0 && ossl_settled_is(ssl)) {
		depth++;
		ret = real_io(f, ssl, op, buf, num);
		depth--;
		return ret;
	}
	if (!call_enter(f, ssl, OSSL_SIDE_ASK_SSL, &st)) {
		return -1;
	}
	ret = real_io(f, ssl, op, buf, num);
	return call_leave(f, ssl, st, ret, -1);
}

int ossl_call_io_ex(SSL *ssl, enum ossl_io_op op, void *buf, size_t num, size_t *done)
{
	const struct ssl_fns *f = ssl_fns();
	struct ossl_state *st;
	int ret;

	if (f == NULL) {
		return 0;
	}
	if (depth == 0 && ossl_settled_is(ssl)) {
		depth++;
		ret = real_io_ex(f, ssl, op, buf, num, done);
		depth--;
		return ret;
	}
	if (!call_enter(f, ssl, OSSL_SIDE_ASK_SSL, &st)) {
		return 0;
	}
	ret = real_io_ex(f, ssl, op, buf, num, done);
	ret = call_leave(f, ssl, st, ret, 0);
	if (ret == 0 && done != NULL) {
		*done = 0;
	}
	return ret;
}

/* The records libssl left in ssl's memory BIO (python's ssl.MemoryBIO, BIO
 * pairs), its close_notify among them, for the socket layer to let through
 * (conn_tls_closed): the program moves them to the socket itself after
 * SSL_shutdown returned. *data NULL: none. */
static long close_tail(const struct ssl_fns *f, SSL *ssl, char **data)
{
	BIO *wbio = f->SSL_get_wbio(ssl);

	*data = NULL;
	if (wbio == NULL || f->BIO_method_type(wbio) != BIO_TYPE_MEM) {
		return 0;
	}
	return f->BIO_ctrl(wbio, BIO_CTRL_INFO, 0, data); /* BIO_get_mem_data(3) */
}

/* Once the program has shut a TLS session down (close_notify sent), nothing
 * more may be written on its socket: bytes after it can only be plaintext,
 * whatever framing they wear. The mark is set after the real call, whose own
 * close_notify must still go out; over a memory BIO the program sends it
 * itself, and exactly those bytes still pass. */
int ossl_call_shutdown(SSL *ssl)
{
	const struct ssl_fns *f = ssl_fns();
	struct ossl_state *st;
	struct conn *c;
	char *tail;
	long len;
	int ret, fd;

	if (f == NULL) {
		return -1;
	}
	depth++;
	ret = f->SSL_shutdown(ssl);
	depth--;
	if (ret < 0 || depth > 0 || ssl == NULL || !ossl_active()) {
		return ret;
	}
	st = ossl_state_get(f, ssl);
	fd = st != NULL && st->fd >= 0 ? st->fd : f->SSL_get_fd(ssl);
	c = conn_acquire(fd);
	if (c != NULL) {
		len = close_tail(f, ssl, &tail);
		conn_tls_closed(c, ssl, tail, len > 0 ? (size_t)len : 0);
		conn_release(c);
	}
	return ret;
}

/* SSL_clear(3ssl) readies an SSL for another connection: the shim's state
 * for it starts over, so that the next handshake is held to the rule of its
 * own connection. libssl clears an SSL itself as a handshake begins, mostly
 * inside a call the shim wraps (depth > 0): nothing to start over then. */
int ossl_call_clear(SSL *ssl)
{
	const struct ssl_fns *f = ssl_fns();
	int ret;

	if (f == NULL) {
		return 0;
	}
	depth++;
	ret = f->SSL_clear(ssl);
	depth--;
	if (ret == 1 && depth == 0 && ssl != NULL && ossl_active()) {
		ossl_state_reset(f, ssl);
	}
	return ret;
}
