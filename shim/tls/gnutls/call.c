/*
 * The flow of one session call (call.h). The record calls take the fast path
 * straight to GnuTLS unless the session was refused: one lookup in the side
 * table, nothing more.
 */
#include <stdlib.h>

#include "apply.h"
#include "call.h"
#include "claim.h"
#include "outcome.h"
#include "registry.h"
#include "state.h"

static SHIM_THREAD int depth;

bool gtls_call_outer(void)
{
	return depth == 0;
}

void gtls_call_in(void)
{
	depth++;
}

void gtls_call_out(void)
{
	depth--;
}

/* In enforce mode a session never ends its handshake before the peer is
 * verified, nor takes application data before it: a TLS 1.3 server returns
 * early (GNUTLS_ENABLE_EARLY_START) before the client's certificate arrived,
 * and 0-RTT data (GNUTLS_ENABLE_EARLY_DATA) comes before any verification.
 * (Client early data needs resumption, which enforce mode refuses.) */
#define EARLY_FLAGS (GNUTLS_ENABLE_EARLY_START | GNUTLS_ENABLE_EARLY_DATA)

/* GnuTLS gives no way to ask a session which side it is: the init flags are
 * recorded here. */
int gtls_call_init(gnutls_session_t *session, unsigned int flags)
{
	const struct gnutls_fns *f = gnutls_fns();
	struct gtls_state *st;
	int ret;

	if (f == NULL) {
		return GNUTLS_E_INTERNAL_ERROR;
	}
	if (depth == 0 && gtls_active() && gtls_enforcing()) {
		flags &= ~(unsigned)EARLY_FLAGS;
	}
	depth++;
	ret = f->gnutls_init(session, flags);
	depth--;
	if (ret == GNUTLS_E_SUCCESS && session != NULL && gtls_active() &&
	    (st = gtls_state_make(*session)) != NULL) {
		st->server = (flags & GNUTLS_SERVER) != 0;
	}
	return ret;
}

void gtls_call_deinit(gnutls_session_t session)
{
	const struct gnutls_fns *f = gnutls_fns();
	struct gtls_state *st = gtls_state_drop(session);

	if (f == NULL) {
		return;
	}
	if (st != NULL) {
		gtls_registry_remove(session, st);
	}
	depth++;
	f->gnutls_deinit(session);
	depth--;
	/* after the session, which referred to them */
	if (st != NULL && st->shim_cred != NULL) {
		f->gnutls_certificate_free_credentials(st->shim_cred);
	}
	free(st);
}

int gtls_call_handshake(gnutls_session_t session)
{
	const struct gnutls_fns *f = gnutls_fns();
	struct gtls_state *st = NULL;
	int ret;

	if (f == NULL) {
		return GNUTLS_E_INTERNAL_ERROR;
	}
	if (depth == 0 && gtls_active()) {
		st = gtls_state_make(session);
	}
	if (st != NULL && st->failed) {
		return GTLS_REFUSED;
	}
	if (st != NULL && !st->applied) {
		/* what apply.c sets reaches libgnutls's own PLT calls: those pass */
		depth++;
		gtls_apply(f, session, st);
		depth--;
		if (st->failed) {
			gtls_registry_remove(session, st);
			return GTLS_REFUSED; /* on the spot: an inbound `external` rule */
		}
	} else if (st != NULL && !st->in_handshake) {
		/* another handshake on a session already checked (TLS 1.2
		 * renegotiation): verified and checked afresh */
		st->verified = false;
		st->checked = false;
		gtls_registry_add(session, st);
	}
	depth++;
	ret = f->gnutls_handshake(session);
	depth--;
	if (st == NULL) {
		return ret;
	}
	if (ret == GNUTLS_E_SUCCESS) {
		gtls_claim_late(f, session, st);
	}
	return gtls_outcome_check(f, session, st, ret);
}

static ssize_t real_io(const struct gnutls_fns *f, gnutls_session_t session,
                       const struct gtls_io *io)
{
	switch (io->op) {
	case GTLS_SEND:
		return f->gnutls_record_send(session, io->buf, io->len);
	case GTLS_SEND2:
		return f->gnutls_record_send2(session, io->buf, io->len, io->pad, io->flags);
	case GTLS_SEND_RANGE:
		return f->gnutls_record_send_range(session, io->buf, io->len, io->range);
	case GTLS_SEND_EARLY:
		return f->gnutls_record_send_early_data(session, io->buf, io->len);
	case GTLS_RECV_SEQ:
		return f->gnutls_record_recv_seq(session, io->buf, io->len, io->seq);
	case GTLS_RECV_EARLY:
		return f->gnutls_record_recv_early_data(session, io->buf, io->len);
	case GTLS_RECV:
	default:
		return f->gnutls_record_recv(session, io->buf, io->len);
	}
}

/* A refused session moves no application byte, either way. While no
 * session is refused, one atomic load. */
static bool refused(gnutls_session_t session)
{
	struct gtls_state *st;

	if (depth > 0 || atomic_load_explicit(&gtls_failed_sessions, memory_order_acquire) == 0) {
		return false;
	}
	st = gtls_state_get(session);
	return st != NULL && st->failed;
}

ssize_t gtls_call_io(gnutls_session_t session, const struct gtls_io *io)
{
	const struct gnutls_fns *f = gnutls_fns();
	ssize_t ret;

	if (f == NULL) {
		return GNUTLS_E_INTERNAL_ERROR;
	}
	if (refused(session)) {
		return GTLS_REFUSED;
	}
	depth++;
	ret = real_io(f, session, io);
	depth--;
	return ret;
}

ssize_t gtls_call_recv_packet(gnutls_session_t session, gnutls_packet_t *packet)
{
	const struct gnutls_fns *f = gnutls_fns();
	ssize_t ret;

	if (f == NULL) {
		return GNUTLS_E_INTERNAL_ERROR;
	}
	if (refused(session)) {
		return GTLS_REFUSED;
	}
	depth++;
	ret = f->gnutls_record_recv_packet(session, packet);
	depth--;
	return ret;
}

ssize_t gtls_call_send_file(gnutls_session_t session, int fd, off_t *offset, size_t count)
{
	const struct gnutls_fns *f = gnutls_fns();
	ssize_t ret;

	if (f == NULL || f->gnutls_record_send_file == NULL) {
		return GNUTLS_E_INTERNAL_ERROR;
	}
	if (refused(session)) {
		return GTLS_REFUSED;
	}
	depth++;
	ret = f->gnutls_record_send_file(session, fd, offset, count);
	depth--;
	return ret;
}

/* Once the program has shut a session down (close_notify sent), nothing more
 * may be written on its socket: bytes after it can only be plaintext. The
 * mark is set after the real call, whose own close_notify must still go out. */
int gtls_call_bye(gnutls_session_t session, gnutls_close_request_t how)
{
	const struct gnutls_fns *f = gnutls_fns();
	struct gtls_state *st;
	struct conn *c;
	int ret;

	if (f == NULL) {
		return GNUTLS_E_INTERNAL_ERROR;
	}
	depth++;
	ret = f->gnutls_bye(session, how);
	depth--;
	if (ret < 0 || depth > 0 || !gtls_active()) {
		return ret;
	}
	st = gtls_state_get(session);
	if (st == NULL || st->fd < 0) {
		return ret;
	}
	c = conn_acquire(st->fd);
	if (c != NULL) {
		conn_tls_closed(c, session, NULL, 0);
		conn_release(c);
	}
	return ret;
}
