/*
 * The flow of one session call: gnutls_init, the handshake, record I/O,
 * gnutls_bye, gnutls_deinit. A thread's nesting depth tells the program's own
 * (outermost) call from libgnutls calling its own public names through its
 * PLT: only the outermost applies the policy.
 */
#ifndef TLSGUARD_GTLS_CALL_H
#define TLSGUARD_GTLS_CALL_H

#include "gtls.h"

/* The depth, for the setters (priority.c, settings.c): gtls_call_outer says
 * whether the call at hand is the program's own; gtls_call_in/out bracket a
 * real call that may come back through the PLT. */
bool gtls_call_outer(void);
void gtls_call_in(void);
void gtls_call_out(void);

enum gtls_io_op {
	GTLS_SEND,
	GTLS_SEND2,
	GTLS_SEND_RANGE,
	GTLS_SEND_EARLY,
	GTLS_RECV,
	GTLS_RECV_SEQ,
	GTLS_RECV_EARLY,
};

/* The arguments of one record call (a union of their shapes). */
struct gtls_io {
	enum gtls_io_op op;
	void *buf;
	size_t len;
	size_t pad;
	unsigned flags;
	const gnutls_range_st *range;
	unsigned char *seq;
};

int gtls_call_init(gnutls_session_t *session, unsigned int flags);
void gtls_call_deinit(gnutls_session_t session);
int gtls_call_handshake(gnutls_session_t session);
int gtls_call_bye(gnutls_session_t session, gnutls_close_request_t how);
ssize_t gtls_call_io(gnutls_session_t session, const struct gtls_io *io);
ssize_t gtls_call_recv_packet(gnutls_session_t session, gnutls_packet_t *packet);
ssize_t gtls_call_send_file(gnutls_session_t session, int fd, off_t *offset, size_t count);

#endif
