/*
 * The byte-stream classifier (see stream.h): an optional STARTTLS preamble, run
 * by a small per-protocol feed function, then TLS record framing in both
 * directions.
 *
 * Every byte is judged as soon as it arrives (a record header is checked byte by
 * byte, not once complete), so the verdict for any prefix of the stream depends
 * on that prefix only: however the bytes are split, the result is the same, and
 * a one-byte write of plaintext is refused before it leaves the process. Record
 * bodies are not inspected: skipping one is a subtraction.
 */
#include <string.h>

#include "stream.h"

/* RFC 8446 5.1 (RFC 5246 6.2.1): record content types. 24 (heartbeat, RFC 6520)
 * is refused. */
enum {
	CT_CHANGE_CIPHER_SPEC = 20,
	CT_ALERT = 21,
	CT_HANDSHAKE = 22,
	CT_APPLICATION_DATA = 23,
};

#define TYPE_BIT(type) (1u << (type))

#define RECORD_HEADER_LEN 5
/* RFC 8446 5.1: a plaintext record (the ClientHello) carries at most 2^14 bytes. */
#define PLAINTEXT_MAX 16384
/* RFC 5246 6.2.3: a ciphertext record carries at most 2^14 + 2048 bytes. */
#define CIPHERTEXT_MAX (16384 + 2048)

/* RFC 8446 4.1.2: the ClientHello starts with msg_type(1) length(3), then
 * legacy_version(2) and random(32). */
#define HS_CLIENT_HELLO  1
#define HELLO_PREFIX_LEN (4 + 2 + STREAM_RANDOM_LEN)
#define HELLO_RANDOM_AT  6
/* legacy_version(2) + random(32) + legacy_session_id's length(1) and more: a
 * shorter message cannot be a ClientHello. */
#define HELLO_BODY_MIN 38

/* What a record header may say at this point of the stream. */
struct record_rules {
	uint32_t types;    /* TYPE_BIT() of each allowed content type */
	uint8_t minor_min; /* version 3.minor_min .. 3.minor_max */
	uint8_t minor_max;
	uint16_t len_max;      /* body length 1..len_max */
	bool empty_appdata_ok; /* RFC 5246 6.2.1: 0-length application data is legal */
};

/* RFC 8446 5.1: legacy_record_version is 0x0301 for the first ClientHello,
 * 0x0303 is common; 0x0300 (SSLv3) is refused. Every record of the ClientHello
 * is a handshake record. */
static const struct record_rules hello_rules = {
    .types = TYPE_BIT(CT_HANDSHAKE),
    .minor_min = 1,
    .minor_max = 3,
    .len_max = PLAINTEXT_MAX,
};

/* The peer's first record answers the ClientHello: a ServerHello (or
 * HelloRetryRequest) or an alert. */
static const struct record_rules reply_rules = {
    .types = TYPE_BIT(CT_ALERT) | TYPE_BIT(CT_HANDSHAKE),
    .minor_min = 1,
    .minor_max = 4,
    .len_max = CIPHERTEXT_MAX,
};

/* The responder before the whole ClientHello arrived: only a plaintext alert
 * (RFC 8446 6: two bytes, level and description), as a server sends when the
 * client hangs up or sends garbage. */
static const struct record_rules early_alert_rules = {
    .types = TYPE_BIT(CT_ALERT),
    .minor_min = 1,
    .minor_max = 4,
    .len_max = 2,
};

/* Every later record, both ways (TLS 1.3 records say 0x0303). */
static const struct record_rules framing_rules = {
    .types = TYPE_BIT(CT_CHANGE_CIPHER_SPEC) | TYPE_BIT(CT_ALERT) | TYPE_BIT(CT_HANDSHAKE) |
             TYPE_BIT(CT_APPLICATION_DATA),
    .minor_min = 1,
    .minor_max = 4,
    .len_max = CIPHERTEXT_MAX,
    .empty_appdata_ok = true,
};

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

void stream_init(struct stream *s, enum policy_starttls starttls, bool inbound)
{
	memset(s, 0, sizeof(*s));
	s->inbound = inbound;
	s->starttls = inbound ? POLICY_STARTTLS_NONE : starttls;
	s->upgraded = starttls_proto_of(s->starttls) == NULL;
	s->failure = STREAM_OK;
}

/* Runs the STARTTLS preamble on the bytes it owns; on return *buf and *len are what
 * is left for the TLS part. */
static enum stream_verdict feed_preamble(struct stream *s, enum stream_dir dir, const uint8_t **buf,
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

/* Checks the n bytes of a record header seen so far: a wrong byte is refused as
 * soon as it arrives. Inlined, so that a whole header checked against constant
 * rules (feed_framed) is a handful of compares. */
static inline __attribute__((always_inline)) bool header_prefix_ok(const uint8_t *h, size_t n,
                                                                   const struct record_rules *rules)
{
	unsigned body_len;

	if (n >= 1 && (h[0] >= 32 || (rules->types & TYPE_BIT(h[0])) == 0)) {
		return false; /* not a TLS content type: plaintext, or an SSLv2 hello */
	}
	if (n >= 2 && h[1] != 3) {
		return false;
	}
	if (n >= 3 && (h[2] < rules->minor_min || h[2] > rules->minor_max)) {
		return false;
	}
	if (n >= 4 && h[3] > rules->len_max >> 8) {
		return false;
	}
	if (n < RECORD_HEADER_LEN) {
		return true;
	}
	body_len = (unsigned)h[3] << 8 | h[4];
	if (body_len > rules->len_max) {
		return false;
	}
	return body_len > 0 || (rules->empty_appdata_ok && h[0] == CT_APPLICATION_DATA);
}

/* Checks the bytes of the ClientHello prefix seen so far. */
static bool hello_prefix_ok(const uint8_t *h, size_t n)
{
	uint32_t body_len;

	if (n >= 1 && h[0] != HS_CLIENT_HELLO) {
		return false;
	}
	if (n >= 4) {
		/* 24-bit length: <= 2^24-1 by construction. */
		body_len = (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
		if (body_len < HELLO_BODY_MIN) {
			return false;
		}
	}
	/* legacy_version 0x0301..0x0303 (TLS 1.3 clients say 0x0303). */
	if (n >= 5 && h[4] != 3) {
		return false;
	}
	return n < 6 || (h[5] >= 1 && h[5] <= 3);
}

/* Feeds n bytes of ClientHello record bodies. Handshake bytes past the random
 * are counted, not read. */
static bool hello_feed(struct stream *s, const uint8_t *p, size_t n, bool *random_completed)
{
	size_t take;
	uint32_t body_len;

	if (s->hello_seen < HELLO_PREFIX_LEN) {
		take = HELLO_PREFIX_LEN - s->hello_seen;
		take = n < take ? n : take;
		memcpy(s->hello_prefix + s->hello_seen, p, take);
		s->hello_seen += take;
		n -= take;
		if (!hello_prefix_ok(s->hello_prefix, s->hello_seen)) {
			return false;
		}
		if (s->hello_seen < HELLO_PREFIX_LEN) {
			return true;
		}
		memcpy(s->random, s->hello_prefix + HELLO_RANDOM_AT, STREAM_RANDOM_LEN);
		s->random_ready = true;
		*random_completed = true;
		body_len = (uint32_t)s->hello_prefix[1] << 16 | (uint32_t)s->hello_prefix[2] << 8 |
		           s->hello_prefix[3];
		s->hello_left = body_len - (HELLO_PREFIX_LEN - 4);
	}
	take = n < s->hello_left ? n : s->hello_left;
	s->hello_left -= take;
	s->hello_done = s->hello_left == 0;
	return true;
}

/* The rules for the next record header in one direction. */
static const struct record_rules *rules_for(const struct stream *s, const struct stream_records *r,
                                            bool hello_dir)
{
	if (hello_dir) {
		if (s->hello_done) {
			return &framing_rules;
		}
		/* Before any ClientHello byte a client may only give up, with an
		 * alert (no cipher suite left to offer, say): TLS, not plaintext. */
		return s->hello_seen == 0 && r->header[0] == CT_ALERT ? &early_alert_rules
		                                                      : &hello_rules;
	}
	if (!s->hello_done) {
		/* TLS: the client speaks first and the server answers the whole
		 * ClientHello; other bytes before that are a banner, an error, or
		 * bytes injected ahead of the handshake (CVE-2021-23222). */
		return &early_alert_rules;
	}
	return r->records == 0 ? &reply_rules : &framing_rules;
}

/* Takes header bytes; returns how many, or 0 when they break the rules. */
static size_t header_feed(const struct stream *s, struct stream_records *r, bool hello_dir,
                          const uint8_t *p, size_t len)
{
	const struct record_rules *rules;
	size_t take = RECORD_HEADER_LEN - r->header_len;

	take = len < take ? len : take;
	memcpy(r->header + r->header_len, p, take);
	r->header_len += take;
	rules = rules_for(s, r, hello_dir); /* may depend on the record type */
	if (!header_prefix_ok(r->header, r->header_len, rules)) {
		return 0;
	}
	if (r->header_len == RECORD_HEADER_LEN) {
		r->body_left = (uint32_t)r->header[3] << 8 | r->header[4];
		r->header_len = 0;
		if (r->records < UINT32_MAX) {
			r->records++; /* saturates: records == 0 must mean "none yet" */
		}
	}
	return take;
}

static enum stream_verdict feed_tls(struct stream *s, enum stream_dir dir, const uint8_t *p,
                                    size_t len, bool *random_completed)
{
	struct stream_records *r = dir == STREAM_OUT ? &s->out : &s->in;
	bool hello_dir = (dir == STREAM_OUT) != s->inbound;
	size_t take;

	while (len > 0) {
		if (r->body_left == 0) {
			take = header_feed(s, r, hello_dir, p, len);
			if (take == 0) {
				return STREAM_PLAINTEXT;
			}
			p += take;
			len -= take;
			continue;
		}
		take = len < r->body_left ? len : r->body_left;
		if (hello_dir && !s->hello_done && r->header[0] == CT_HANDSHAKE &&
		    !hello_feed(s, p, take, random_completed)) {
			return STREAM_PLAINTEXT;
		}
		r->body_left -= take;
		p += take;
		len -= take;
	}
	return STREAM_OK;
}

/* Once the ClientHello is complete and the peer's first record has been seen,
 * every record in this direction is held to framing_rules, whatever came
 * before: nothing but the framing is left to follow. */
static bool framed(const struct stream *s, const struct stream_records *r, bool hello_dir)
{
	return s->hello_done && (hello_dir || r->records > 0);
}

/* The steady state of a framed direction, on the hot path of every TLS read
 * and write: skips bodies and checks headers that arrive whole. Leaves *buf
 * and *len at the first byte it did not take (a header split across calls),
 * for feed_tls, which would have judged every taken byte the same way. */
static bool feed_framed(struct stream_records *r, const uint8_t **buf, size_t *len)
{
	const uint8_t *p = *buf;
	size_t n = *len;

	while (n > r->body_left) {
		p += r->body_left;
		n -= r->body_left;
		r->body_left = 0;
		if (r->header_len != 0 || n < RECORD_HEADER_LEN) {
			break;
		}
		if (!header_prefix_ok(p, RECORD_HEADER_LEN, &framing_rules)) {
			return false;
		}
		memcpy(r->header, p, RECORD_HEADER_LEN);
		r->body_left = (uint32_t)p[3] << 8 | p[4];
		if (r->records < UINT32_MAX) {
			r->records++;
		}
		p += RECORD_HEADER_LEN;
		n -= RECORD_HEADER_LEN;
	}
	if (n <= r->body_left) {
		r->body_left -= n;
		p += n;
		n = 0;
	}
	*buf = p;
	*len = n;
	return true;
}

static enum stream_verdict fail(struct stream *s, enum stream_verdict verdict)
{
	s->failed = true;
	s->failure = verdict;
	return verdict;
}

/* Everything but the steady state: the preamble, the handshake's opening
 * records, a header split across calls, and the verdict once given. */
static __attribute__((noinline)) enum stream_verdict feed_general(struct stream *s,
                                                                  enum stream_dir dir,
                                                                  const uint8_t *buf, size_t len,
                                                                  bool *random_completed)
{
	enum stream_verdict verdict;
	bool completed = false;

	if (s->failed) {
		return s->failure;
	}
	if (dir != STREAM_OUT && dir != STREAM_IN) {
		return fail(s, STREAM_PLAINTEXT);
	}
	verdict = feed_preamble(s, dir, &buf, &len);
	if (verdict == STREAM_OK) {
		verdict = feed_tls(s, dir, buf, len, &completed);
	}
	if (verdict != STREAM_OK) {
		return fail(s, verdict);
	}
	if (random_completed != NULL) {
		*random_completed = completed;
	}
	return STREAM_OK;
}

enum stream_verdict stream_feed(struct stream *s, enum stream_dir dir, const uint8_t *buf,
                                size_t len, bool *random_completed)
{
	struct stream_records *r = dir == STREAM_OUT ? &s->out : &s->in;

	if (random_completed != NULL) {
		*random_completed = false;
	}
	if (!s->failed && (dir == STREAM_OUT || dir == STREAM_IN) &&
	    framed(s, r, (dir == STREAM_OUT) != s->inbound)) {
		if (!feed_framed(r, &buf, &len)) {
			return fail(s, STREAM_PLAINTEXT);
		}
		if (len == 0) {
			return STREAM_OK;
		}
	}
	return feed_general(s, dir, buf, len, random_completed);
}

const char *stream_verdict_reason(enum stream_verdict verdict)
{
	switch (verdict) {
	case STREAM_OK:
		return "ok";
	case STREAM_DOWNGRADE:
		return "downgrade";
	case STREAM_PLAINTEXT:
	default:
		return "plaintext";
	}
}
