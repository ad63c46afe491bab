/*
 * The byte-stream classifier of one TCP connection that must carry TLS: an
 * optional STARTTLS preamble, then TLS records in both directions for the life
 * of the connection. Pure logic (no I/O, no locks): the socket layer feeds it the
 * bytes a call would move and acts on the verdict.
 *
 * Bytes may arrive in any split, down to one byte per call; the verdict is the
 * same as for the whole stream at once.
 */
#ifndef TLSGUARD_STREAM_H
#define TLSGUARD_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define STREAM_RANDOM_LEN 32

enum stream_dir {
	STREAM_OUT, /* bytes this process writes */
	STREAM_IN,  /* bytes this process reads */
};

enum stream_verdict {
	STREAM_OK,        /* everything so far is legal */
	STREAM_PLAINTEXT, /* bytes that are not TLS (or not the STARTTLS step) */
	STREAM_DOWNGRADE, /* the peer refused the STARTTLS upgrade */
};

/* One direction's record framing. */
struct stream_records {
	uint8_t header[5];
	uint8_t header_len; /* bytes of header[] filled */
	uint32_t body_left; /* bytes of the current record body still to come */
	uint32_t records;   /* complete record headers seen */
};

/* Fields are private to stream.c. */
struct stream {
	enum policy_starttls starttls;
	bool inbound;          /* we are the server: the ClientHello comes in, not out */
	uint8_t starttls_step; /* protocol-specific position, 0 at start */
	uint8_t starttls_buf[16];
	uint8_t starttls_len;
	bool upgraded; /* preamble done (or none): TLS records from here on */
	bool failed;   /* a verdict other than STREAM_OK was returned; sticky */
	enum stream_verdict failure;
	struct stream_records out;
	struct stream_records in;
	/* The first ClientHello (written when outbound, read when inbound): its
	 * client random, once all 32 bytes have been seen. */
	uint8_t hello_seen; /* bytes of hello_prefix filled */
	/* The ClientHello's handshake header, legacy_version and random. */
	uint8_t hello_prefix[4 + 2 + STREAM_RANDOM_LEN];
	uint32_t hello_left; /* bytes of the ClientHello after hello_prefix still to come */
	bool hello_done;     /* the whole ClientHello message has been seen */
	bool random_ready;
	uint8_t random[STREAM_RANDOM_LEN];
};

/* inbound: the connection was accepted (this process is the TLS server). STARTTLS
 * applies to outbound connections only. */
void stream_init(struct stream *s, enum policy_starttls starttls, bool inbound);

/* Feeds len bytes moving in direction dir. Returns STREAM_OK while every byte so
 * far is legal; otherwise the verdict, which stays for every later call. On
 * STREAM_OK, *random_completed is set to true by the call during which the
 * client random of the first ClientHello became complete (may be NULL). */
enum stream_verdict stream_feed(struct stream *s, enum stream_dir dir, const uint8_t *buf,
                                size_t len, bool *random_completed);

/* The reason word for a verdict, as audit events print it. */
const char *stream_verdict_reason(enum stream_verdict verdict);

#endif
