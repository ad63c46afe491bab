/*
 * The byte-stream classifier (see stream.h), its record layer: an optional
 * STARTTLS preamble, run by a small per-protocol feed function
 * (stream_starttls.c), then TLS record framing in both directions, the hellos
 * parsed by stream_hello.c.
 *
 * Every byte is judged as soon as it arrives (a record header is checked byte by
 * byte, not once complete), so the verdict for any prefix of the stream depends
 * on that prefix only: however the bytes are split, the result is the same.
 *
 * Until both hellos have been seen, each direction may carry only what a real
 * TLS peer sends at that point (RFC 8446 4, 5.1; RFC 5246 7.3):
 *
 *   the client (the "hello direction")   the server (the "reply direction")
 *   one alert, then nothing; or          before the whole ClientHello: one
 *   the ClientHello, parsed field by     alert, then nothing; then either one
 *   field; then, until the ServerHello   alert, then nothing, or the
 *   is complete, one ChangeCipherSpec    ServerHello (or HelloRetryRequest),
 *   (RFC 8446 D.4) and one alert         parsed field by field
 *
 * Once the ServerHello is complete both directions are "framed": record headers
 * are checked, bodies are skipped (a subtraction), which is the hot path of every
 * TLS read and write. stream_hello_pending() tells the socket layer not to
 * release part of a ClientHello that has not been judged as a whole.
 */
#include <string.h>

#include "stream_internal.h"

#define TYPE_BIT(type) (1u << (type))

#define RECORD_HEADER_LEN 5
/* RFC 8446 5.1: a plaintext record (the ClientHello) carries at most 2^14 bytes. */
#define PLAINTEXT_MAX 16384
/* RFC 5246 6.2.3: a ciphertext record carries at most 2^14 + 2048 bytes. */
#define CIPHERTEXT_MAX (16384 + 2048)
/* RFC 8446 6 (RFC 5246 7.2): an alert is level(1) description(1), never
 * fragmented; a ChangeCipherSpec is the single byte 1 (RFC 5246 7.1). */
#define ALERT_LEN 2
#define CCS_LEN   1

/* Where one direction is (stream_records.phase). */
enum phase {
	PH_OPEN,   /* no record yet (the reply direction: none since the hello) */
	PH_HELLO,  /* inside the hello message of this direction */
	PH_WAIT,   /* the hello direction after its ClientHello, before the ServerHello */
	PH_CCS,    /* the same after its one ChangeCipherSpec */
	PH_FRAMED, /* both hellos seen: any record, bodies skipped */
	PH_CLOSED, /* an alert before the handshake ended this direction */
};

/* What a record header may say at this point of the stream. */
struct record_rules {
	uint32_t types;    /* TYPE_BIT() of each allowed content type */
	uint8_t minor_min; /* version 3.minor_min .. 3.minor_max */
	uint8_t minor_max;
	uint16_t len_max;      /* body length 1..len_max */
	uint16_t len_exact;    /* nonzero: the body length must be exactly this */
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

/* The records of the ServerHello (or HelloRetryRequest). */
static const struct record_rules server_hello_rules = {
    .types = TYPE_BIT(CT_HANDSHAKE),
    .minor_min = 1,
    .minor_max = 4,
    .len_max = CIPHERTEXT_MAX,
};

/* An alert outside the handshake: before a hello, or instead of the server's
 * (RFC 8446 6: two bytes, level and description), as a peer sends when the
 * other hangs up or sends garbage. */
static const struct record_rules early_alert_rules = {
    .types = TYPE_BIT(CT_ALERT),
    .minor_min = 1,
    .minor_max = 4,
    .len_max = ALERT_LEN,
    .len_exact = ALERT_LEN,
};

/* RFC 8446 D.4: a client in middlebox compatibility mode may send one
 * ChangeCipherSpec right after its first ClientHello. */
static const struct record_rules early_ccs_rules = {
    .types = TYPE_BIT(CT_CHANGE_CIPHER_SPEC),
    .minor_min = 1,
    .minor_max = 4,
    .len_max = CCS_LEN,
    .len_exact = CCS_LEN,
};

/* A direction an alert ended: nothing is legal. */
static const struct record_rules closed_rules = {
    .types = 0,
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

void stream_init(struct stream *s, enum policy_starttls starttls, bool inbound)
{
	memset(s, 0, sizeof(*s));
	s->inbound = inbound;
	s->starttls = inbound ? POLICY_STARTTLS_NONE : starttls;
	s->upgraded = !stream_starttls_known(s->starttls);
	s->failure = STREAM_OK;
	s->out.phase = PH_OPEN;
	s->in.phase = PH_OPEN;
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
	if (body_len > rules->len_max || (rules->len_exact != 0 && body_len != rules->len_exact)) {
		return false;
	}
	return body_len > 0 || (rules->empty_appdata_ok && h[0] == CT_APPLICATION_DATA);
}

/* RFC 8446 6 and B.2, RFC 5246 7.2: the alert descriptions, as a bit map. An
 * alert that is not one of them is not a TLS peer's. */
static bool alert_description_known(uint8_t d)
{
	static const uint64_t known[2] = {
	    1ull << 0 | 1ull << 10 | 1ull << 20 | 1ull << 21 | 1ull << 22 | 1ull << 30 |
	        1ull << 40 | 1ull << 41 | 1ull << 42 | 1ull << 43 | 1ull << 44 | 1ull << 45 |
	        1ull << 46 | 1ull << 47 | 1ull << 48 | 1ull << 49 | 1ull << 50 | 1ull << 51 |
	        1ull << 60,
	    1ull << (70 - 64) | 1ull << (71 - 64) | 1ull << (80 - 64) | 1ull << (86 - 64) |
	        1ull << (90 - 64) | 1ull << (100 - 64) | 1ull << (109 - 64) | 1ull << (110 - 64) |
	        1ull << (111 - 64) | 1ull << (112 - 64) | 1ull << (113 - 64) | 1ull << (114 - 64) |
	        1ull << (115 - 64) | 1ull << (116 - 64) | 1ull << (120 - 64),
	};

	return d < 128 && (known[d >> 6] >> (d & 63) & 1) != 0;
}

/* Checks the bytes of an alert or ChangeCipherSpec sent outside the
 * handshake; at is the position of p[0] in the record body. */
static bool small_body_ok(uint8_t type, size_t at, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++, at++) {
		if (type == CT_CHANGE_CIPHER_SPEC && p[i] != 1) {
			return false;
		}
		/* level: warning(1) or fatal(2); then a known description */
		if (type == CT_ALERT && at == 0 && p[i] != 1 && p[i] != 2) {
			return false;
		}
		if (type == CT_ALERT && at == 1 && !alert_description_known(p[i])) {
			return false;
		}
	}
	return true;
}

static struct stream_records *records_of(struct stream *s, bool hello_dir)
{
	return (hello_dir != s->inbound) ? &s->out : &s->in;
}

/* The rules for the next record header in one direction (r->header[0] may be
 * in already: the rules may depend on the record type). */
static const struct record_rules *rules_for(const struct stream *s, const struct stream_records *r,
                                            bool hello_dir)
{
	switch (r->phase) {
	case PH_FRAMED:
		return &framing_rules;
	case PH_HELLO:
		return hello_dir ? &hello_rules : &server_hello_rules;
	case PH_WAIT:
		/* RFC 8446 2, 4.1.2: after its ClientHello a client waits for the
		 * server; it has nothing to send (early data is refused) but the
		 * compatibility ChangeCipherSpec, or an alert when it gives up. */
		return r->header_len > 0 && r->header[0] == CT_CHANGE_CIPHER_SPEC
		           ? &early_ccs_rules
		           : &early_alert_rules;
	case PH_CCS:
		return &early_alert_rules;
	case PH_OPEN:
		if (r->header_len > 0 && r->header[0] == CT_ALERT) {
			return &early_alert_rules;
		}
		if (hello_dir) {
			return &hello_rules;
		}
		/* TLS: the client speaks first and the server answers the whole
		 * ClientHello; other bytes before that are a banner, an error, or
		 * bytes injected ahead of the handshake (CVE-2021-23222). */
		return s->hello_done ? &server_hello_rules : &early_alert_rules;
	case PH_CLOSED:
	default:
		return &closed_rules;
	}
}

/* Takes header bytes; returns how many, or 0 when they break the rules. */
static size_t header_feed(struct stream *s, struct stream_records *r, bool hello_dir,
                          const uint8_t *p, size_t len)
{
	const struct record_rules *rules;
	size_t take = RECORD_HEADER_LEN - r->header_len;

	take = len < take ? len : take;
	memcpy(r->header + r->header_len, p, take);
	r->header_len += take;
	rules = rules_for(s, r, hello_dir);
	if (!header_prefix_ok(r->header, r->header_len, rules)) {
		return 0;
	}
	if (r->phase == PH_OPEN && r->header[0] == CT_HANDSHAKE) {
		/* The first byte of this direction's hello. */
		r->phase = PH_HELLO;
		stream_hello_start(&s->hello);
	}
	if (r->header_len == RECORD_HEADER_LEN) {
		r->body_left = (uint32_t)r->header[3] << 8 | r->header[4];
		r->header_len = 0;
		if (r->records < UINT32_MAX) {
			r->records++;
		}
	}
	return take;
}

/* The hello of one direction is complete. */
static void hello_complete(struct stream *s, bool hello_dir, bool *random_completed)
{
	struct stream_records *r = records_of(s, hello_dir);
	struct stream_records *other = records_of(s, !hello_dir);

	if (hello_dir) {
		r->phase = PH_WAIT;
		s->hello_done = true;
		s->random_ready = true;
		*random_completed = true;
		return;
	}
	/* The ServerHello: both sides speak TLS, from here on only framing. */
	r->phase = PH_FRAMED;
	if (other->phase == PH_WAIT || other->phase == PH_CCS) {
		other->phase = PH_FRAMED;
	}
}

/* n > 0 bytes of the current record body, outside the framed phase; returns
 * how many were taken (n, or fewer when the ServerHello ended within them), or
 * 0 when they break the rules. */
static size_t body_feed(struct stream *s, struct stream_records *r, bool hello_dir,
                        const uint8_t *p, size_t n, bool *random_completed)
{
	size_t used;
	int rc;

	switch (r->phase) {
	case PH_HELLO:
		rc = stream_hello_parse(s, hello_dir, p, n, &used);
		if (rc < 0) {
			return 0;
		}
		if (rc > 0) {
			/* A ClientHello's record ends with it: bytes behind it in
			 * the same record would be judged by nobody. */
			if (hello_dir && r->body_left != used) {
				return 0;
			}
			hello_complete(s, hello_dir, random_completed);
		}
		return used;
	case PH_OPEN:
	case PH_WAIT:
	case PH_CCS:
		if (!small_body_ok(r->header[0],
		                   (r->header[0] == CT_ALERT ? ALERT_LEN : CCS_LEN) - r->body_left,
		                   p, n)) {
			return 0;
		}
		if (n == r->body_left) {
			/* One alert, then nothing: a TLS peer that sends an alert
			 * before the handshake has ended the connection. */
			r->phase = r->header[0] == CT_ALERT ? PH_CLOSED : PH_CCS;
		}
		return n;
	default:
		return n; /* framed: the body is not inspected */
	}
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
		} else {
			take = len < r->body_left ? len : r->body_left;
			take = body_feed(s, r, hello_dir, p, take, random_completed);
			r->body_left -= (uint32_t)take;
		}
		if (take == 0) {
			return STREAM_PLAINTEXT;
		}
		p += take;
		len -= take;
	}
	return STREAM_OK;
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
	verdict = stream_feed_preamble(s, dir, &buf, &len);
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
	if (!s->failed && (dir == STREAM_OUT || dir == STREAM_IN) && r->phase == PH_FRAMED) {
		if (!feed_framed(r, &buf, &len)) {
			return fail(s, STREAM_PLAINTEXT);
		}
		if (len == 0) {
			return STREAM_OK;
		}
	}
	return feed_general(s, dir, buf, len, random_completed);
}

bool stream_hello_pending(const struct stream *s, enum stream_dir dir)
{
	bool hello_dir = (dir == STREAM_OUT) != s->inbound;
	const struct stream_records *r = dir == STREAM_OUT ? &s->out : &s->in;

	return hello_dir && s->upgraded && !s->failed && r->phase == PH_HELLO;
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
