/*
 * What the files of the stream classifier share (stream.h is the API): the
 * record content types, the STARTTLS preambles (stream_starttls.c) and the
 * hello parser (stream_hello.c), both called by the record layer in stream.c.
 */
#ifndef TLSGUARD_STREAM_INTERNAL_H
#define TLSGUARD_STREAM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stream.h"

/* RFC 8446 5.1 (RFC 5246 6.2.1): record content types. 24 (heartbeat, RFC 6520)
 * is refused. */
enum {
	CT_CHANGE_CIPHER_SPEC = 20,
	CT_ALERT = 21,
	CT_HANDSHAKE = 22,
	CT_APPLICATION_DATA = 23,
};

/* True when the classifier knows the preamble of starttls (POLICY_STARTTLS_NONE
 * has none: TLS from the first byte). */
bool stream_starttls_known(enum policy_starttls starttls);

/* Runs the STARTTLS preamble on the bytes it owns; on return *buf and *len are
 * what is left for the TLS part. */
enum stream_verdict stream_feed_preamble(struct stream *s, enum stream_dir dir, const uint8_t **buf,
                                         size_t *len);

/* The first byte of a direction's hello message is next. */
void stream_hello_start(struct stream_hello *h);

/* Feeds n bytes of hello records' bodies to the parser (client: a ClientHello,
 * else a ServerHello). Returns -1 when they break the message's structure, 1
 * when the message is complete (*used: the bytes it took), 0 when more is to
 * come. The client random is kept in s->random. */
int stream_hello_parse(struct stream *s, bool client, const uint8_t *p, size_t n, size_t *used);

#endif
