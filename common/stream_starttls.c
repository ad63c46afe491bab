/*
 * The STARTTLS preambles the stream classifier knows (stream_internal.h): the
 * plaintext steps a protocol takes before its TLS handshake, one small feed
 * function per protocol (policy key starttls, tlsguard.conf(5)).
 */
#include <string.h>

#include "stream_internal.h"

/* What a STARTTLS protocol's feed function decides about the bytes it saw. */
enum starttls_result {
	STARTTLS_NEED_MORE, /* every byte belongs to the preamble; more to come */
	STARTTLS_UPGRADED,  /* the preamble ended: the bytes after *used are TLS */
	STARTTLS_PLAINTEXT, /* not the protocol's STARTTLS step */
	STARTTLS_DOWNGRADE, /* the server refused the upgrade */
};

/* One STARTTLS protocol: feed() is given len > 0 bytes moving in dir and sets
 * *used to how many of them belong to the preamble. Its position lives in
 * s->starttls_step, s->starttls_buf and s->starttls_len. */
struct starttls_proto {
	enum starttls_result (*feed)(struct stream *s, enum stream_dir dir, const uint8_t *buf,
	                             size_t len, size_t *used);
};

/* PostgreSQL frontend/backend protocol, "SSL Session Encryption" (protocol-flow):
 * the client sends the 8-byte SSLRequest (length 8, code 80877103) and nothing
 * else until the server answers with one byte, 'S' (TLS follows) or 'N'
 * (refused). */
static const uint8_t pg_ssl_request[8] = {0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f};

enum {
	PG_SENDING_REQUEST,
	PG_AWAITING_ANSWER,
};

static enum starttls_result postgres_feed(struct stream *s, enum stream_dir dir, const uint8_t *buf,
                                          size_t len, size_t *used)
{
	size_t i = 0;

	if (s->starttls_step == PG_AWAITING_ANSWER) {
		if (dir != STREAM_IN) {
			return STARTTLS_PLAINTEXT; /* a write before the server answered */
		}
		*used = 1;
		switch (buf[0]) {
		case 'S':
			return STARTTLS_UPGRADED;
		case 'N':
			return STARTTLS_DOWNGRADE;
		default:
			return STARTTLS_PLAINTEXT; /* 'E' (an error message) or garbage */
		}
	}
	if (dir != STREAM_OUT) {
		return STARTTLS_PLAINTEXT; /* the server spoke before the SSLRequest */
	}
	if (s->starttls_len == 0 && buf[0] == CT_HANDSHAKE) {
		/* PostgreSQL 17 direct negotiation (sslnegotiation=direct): TLS at
		 * once, no SSLRequest. */
		*used = 0;
		return STARTTLS_UPGRADED;
	}
	for (; i < len && s->starttls_len < sizeof(pg_ssl_request); i++) {
		if (buf[i] != pg_ssl_request[s->starttls_len]) {
			return STARTTLS_PLAINTEXT; /* StartupMessage, GSSENCRequest, ... */
		}
		s->starttls_len++;
	}
	if (s->starttls_len == sizeof(pg_ssl_request)) {
		s->starttls_step = PG_AWAITING_ANSWER;
	}
	if (i < len) {
		return STARTTLS_PLAINTEXT; /* more bytes behind the SSLRequest */
	}
	*used = len;
	return STARTTLS_NEED_MORE;
}

/* Indexed by enum policy_starttls; a protocol missing here gets no preamble at
 * all, so its plaintext is refused (fail closed). */
static const struct starttls_proto starttls_protos[] = {
    [POLICY_STARTTLS_POSTGRES] = {.feed = postgres_feed},
};

static const struct starttls_proto *starttls_proto_of(enum policy_starttls starttls)
{
	size_t i = (size_t)starttls;

	if (i >= sizeof(starttls_protos) / sizeof(starttls_protos[0]) ||
	    starttls_protos[i].feed == NULL) {
		return NULL;
	}
	return &starttls_protos[i];
}

bool stream_starttls_known(enum policy_starttls starttls)
{
	return starttls_proto_of(starttls) != NULL;
}

enum stream_verdict stream_feed_preamble(struct stream *s, enum stream_dir dir, const uint8_t **buf,
                                         size_t *len)
{
	const struct starttls_proto *proto;
	size_t used = 0;

	if (s->upgraded || *len == 0) {
		return STREAM_OK;
	}
	proto = starttls_proto_of(s->starttls);
	switch (proto->feed(s, dir, *buf, *len, &used)) {
	case STARTTLS_NEED_MORE:
		*len = 0;
		return STREAM_OK;
	case STARTTLS_UPGRADED:
		s->upgraded = true;
		*buf += used;
		*len -= used;
		return STREAM_OK;
	case STARTTLS_DOWNGRADE:
		return STREAM_DOWNGRADE;
	case STARTTLS_PLAINTEXT:
	default:
		return STREAM_PLAINTEXT;
	}
}
