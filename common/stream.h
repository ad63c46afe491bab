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
	uint8_t phase;      /* where this direction is in the handshake (stream.c) */
	uint32_t body_left; /* bytes of the current record body still to come */
	uint32_t records;   /* complete record headers seen (saturates) */
};

/* The incremental parser of a hello message (RFC 8446 4.1.2, 4.1.3; RFC 5246
 * 7.4.1.2, 7.4.1.3): first the ClientHello, then the ServerHello. */
struct stream_hello {
	uint8_t field;     /* the field the next byte belongs to (stream_hello.c) */
	bool null_seen;    /* the compression methods so far include null (0) */
	uint16_t need;     /* bytes of that field still to come */
	uint32_t acc;      /* a length or code being read, big endian */
	uint32_t msg_left; /* bytes of the handshake message body still to come */
};

/* Fields are private to stream*.c. */
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
	struct stream_hello hello;
	bool hello_done; /* the whole first ClientHello was seen and is well formed */
	bool random_ready;
	/* The client random of that ClientHello, once the whole message is in. */
	uint8_t random[STREAM_RANDOM_LEN];
};

/* inbound: the connection was accepted (this process is the TLS server). STARTTLS
 * applies to outbound connections only. */
void stream_init(struct stream *s, enum policy_starttls starttls, bool inbound);

/* Feeds len bytes moving in direction dir. Returns STREAM_OK while every byte so
 * far is legal; otherwise the verdict, which stays for every later call. On
 * STREAM_OK, *random_completed is set to true by the call during which the
 * first ClientHello became complete and was found well formed: its client
 * random is then in s->random (may be NULL). */
enum stream_verdict stream_feed(struct stream *s, enum stream_dir dir, const uint8_t *buf,
                                size_t len, bool *random_completed);

/* True when the bytes fed so far in dir end inside the first ClientHello: part
 * of a hello that has not been judged as a whole yet. The socket layer releases
 * no such byte (a TLS library writes its whole ClientHello in one call). */
bool stream_hello_pending(const struct stream *s, enum stream_dir dir);

/* The reason word for a verdict, as audit events print it. */
const char *stream_verdict_reason(enum stream_verdict verdict);

#endif
