/*
 * The pump's state (pump.c), shared with the direct path (direct.c). Both
 * touch it only while they hold the tunnel (tunnel_hold).
 */
#ifndef TLSGUARD_TUNNEL_PUMP_H
#define TLSGUARD_TUNNEL_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunnel_internal.h"

#define PUMP_BUF    65536 /* four full records: fewer wake-ups */
#define PUMP_RECORD 16384

enum pump_stage {
	PUMP_NEW,     /* the handshake is still to be made */
	PUMP_OPEN,    /* made: bytes move */
	PUMP_REFUSED, /* refused: the pump only cleans up */
};

struct pump {
	struct tunnel *t;
	enum pump_stage stage;
	const struct ssl_fns *f;
	const struct tunnel_ssl_fns *tf;
	SSL *ssl;
	size_t txlen;        /* bytes in tx */
	size_t rxlen, rxoff; /* bytes in rx, and how many went to the program */
	bool first;          /* the program's first bytes are still to come */
	bool prog_eof;       /* the program shut its write side (or closed) */
	bool peer_eof;       /* close_notify or EOF from the peer */
	bool peer_drained;   /* libssl holds no whole record of the peer's (its
	                      * last read wanted the socket) */
	bool pair_shut;      /* the program was given EOF */
	bool want_tcp_in, want_tcp_out;
	/* The direct path's bookkeeping (direct.c): how often the pump wrote
	 * into the pair, and the count when the pair was last seen empty; the
	 * program's writes into the pair begun when the pair was last seen
	 * empty of them. */
	unsigned pair_in_seq, pair_in_checked;
	unsigned writes_checked;
	/* last: the buffers are written before they are read, and not zeroed */
	uint8_t tx[PUMP_BUF]; /* from the program, for SSL_write */
	uint8_t rx[PUMP_BUF]; /* from SSL_read, for the program */
};

/* Whether the program's first bytes start a TLS record: TLS inside TLS,
 * refused (reason tls_in_tls). */
bool pump_tls_in_tls(const uint8_t *bytes, size_t len);
/* Decrypts what libssl and the TCP socket hold into rx, as much as fits
 * (nothing while rx still holds bytes for the program). */
void pump_from_peer(struct pump *p);
/* Moves rx into the pair, and gives the program EOF once the peer's end
 * has come. false: the program is gone (its end closed). */
bool pump_to_program(struct pump *p);

#endif
