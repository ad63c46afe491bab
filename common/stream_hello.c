/*
 * The hello parser of the stream classifier (stream_internal.h): the first
 * ClientHello and the ServerHello (or HelloRetryRequest) read field by field
 * as their bytes arrive (RFC 8446 4.1.2, 4.1.3; RFC 5246 7.4.1.2, 7.4.1.3), so
 * that a malformed hello is refused at its first wrong byte and the client
 * random is known once the whole ClientHello is in.
 */
#include <string.h>

#include "stream_internal.h"

#define HS_CLIENT_HELLO 1
#define HS_SERVER_HELLO 2 /* also a HelloRetryRequest (RFC 8446 4.1.4) */
/* The shortest bodies: legacy_version(2) random(32) session_id<0..32>(1)
 * cipher_suites<2..>(2+2) compression_methods<1..>(1+1) for a ClientHello;
 * legacy_version(2) random(32) session_id(1) cipher_suite(2)
 * compression_method(1) for a ServerHello. */
#define CLIENT_HELLO_MIN 41
#define SERVER_HELLO_MIN 38
#define SESSION_ID_MAX   32

/* The hello's fields (struct stream_hello.field), in order. A ServerHello has a
 * single cipher_suite and compression_method, without length bytes. */
enum hello_field {
	HF_TYPE,         /* msg_type */
	HF_LENGTH,       /* uint24 length */
	HF_VERSION,      /* legacy_version */
	HF_RANDOM,       /* random[32] */
	HF_SID_LEN,      /* legacy_session_id<0..32> */
	HF_SID,          /*   its bytes */
	HF_SUITES_LEN,   /* cipher_suites<2..2^16-2> */
	HF_SUITES,       /*   its bytes (the ServerHello's one suite) */
	HF_COMP_LEN,     /* legacy_compression_methods<1..2^8-1> */
	HF_COMP,         /*   its bytes (the ServerHello's one method) */
	HF_EXT_LEN,      /* extensions<0..2^16-1> */
	HF_EXT_TYPE,     /* one extension: extension_type */
	HF_EXT_DATA_LEN, /*   extension_data<0..2^16-1> */
	HF_EXT_DATA,     /*   its bytes */
	HF_DONE,         /* the whole message is in and well formed */
};

/* Fields whose bytes are taken in bulk rather than read as a number. */
#define HF_BULK                                                                                    \
	(1u << HF_RANDOM | 1u << HF_SID | 1u << HF_SUITES | 1u << HF_COMP | 1u << HF_EXT_DATA)

/* Moves the parser to field f of need bytes: false when the message has fewer
 * bytes left than that (a length that overruns its message). */
static bool hello_enter(struct stream_hello *h, enum hello_field f, uint32_t need)
{
	if (f >= HF_VERSION && f != HF_DONE && need > h->msg_left) {
		return false;
	}
	h->field = (uint8_t)f;
	h->need = (uint16_t)need; /* every field is at most 2^16-1 bytes */
	h->acc = 0;
	return true;
}

/* After the compression methods, and after each extension: the message ends
 * here, or an extension (block) follows. */
static bool hello_after(struct stream_hello *h, enum hello_field next)
{
	if (h->msg_left == 0) {
		return hello_enter(h, HF_DONE, 0);
	}
	return hello_enter(h, next, 2);
}

/* The field h->field is complete (acc holds it when numeric): judges it and
 * enters the next field. client: a ClientHello, else a ServerHello. */
static bool hello_field_done(struct stream_hello *h, bool client)
{
	uint32_t v = h->acc;

	switch (h->field) {
	case HF_TYPE:
		if (v != (client ? HS_CLIENT_HELLO : HS_SERVER_HELLO)) {
			return false;
		}
		return hello_enter(h, HF_LENGTH, 3);
	case HF_LENGTH:
		if (v < (client ? CLIENT_HELLO_MIN : SERVER_HELLO_MIN)) {
			return false;
		}
		h->msg_left = v;
		return hello_enter(h, HF_VERSION, 2);
	case HF_VERSION:
		/* legacy_version 0x0301..0x0303 (TLS 1.3 says 0x0303 there). */
		if (v >> 8 != 3 || (v & 0xff) < 1 || (v & 0xff) > 3) {
			return false;
		}
		return hello_enter(h, HF_RANDOM, STREAM_RANDOM_LEN);
	case HF_RANDOM:
		return hello_enter(h, HF_SID_LEN, 1);
	case HF_SID_LEN:
		return v <= SESSION_ID_MAX && hello_enter(h, HF_SID, v);
	case HF_SID:
		return client ? hello_enter(h, HF_SUITES_LEN, 2) : hello_enter(h, HF_SUITES, 2);
	case HF_SUITES_LEN:
		/* RFC 8446 4.1.2: two-byte suites, at least one. */
		return v >= 2 && v % 2 == 0 && hello_enter(h, HF_SUITES, v);
	case HF_SUITES:
		h->null_seen = false;
		return client ? hello_enter(h, HF_COMP_LEN, 1) : hello_enter(h, HF_COMP, 1);
	case HF_COMP_LEN:
		return v >= 1 && hello_enter(h, HF_COMP, v);
	case HF_COMP:
		/* RFC 5246 7.4.1.2: the list MUST include null; RFC 8446 4.1.2/4.1.3:
		 * a ServerHello's method is null. */
		return h->null_seen && hello_after(h, HF_EXT_LEN);
	case HF_EXT_LEN:
		/* The extensions fill the rest of the message exactly. */
		return v == h->msg_left && hello_after(h, HF_EXT_TYPE);
	case HF_EXT_TYPE:
		return hello_enter(h, HF_EXT_DATA_LEN, 2);
	case HF_EXT_DATA_LEN:
		return hello_enter(h, HF_EXT_DATA, v);
	case HF_EXT_DATA:
		return hello_after(h, HF_EXT_TYPE);
	case HF_DONE:
	default:
		return false;
	}
}

/* Enters a field, then completes every empty field that follows (a zero-length
 * session id, extension or extension block). */
static bool hello_settle(struct stream_hello *h, bool client)
{
	while (h->need == 0 && h->field != HF_DONE) {
		if (!hello_field_done(h, client)) {
			return false;
		}
	}
	return true;
}

int stream_hello_parse(struct stream *s, bool client, const uint8_t *p, size_t n, size_t *used)
{
	struct stream_hello *h = &s->hello;
	size_t i = 0, take;

	while (i < n && h->field != HF_DONE) {
		if ((HF_BULK >> h->field & 1) != 0) {
			take = n - i < h->need ? n - i : h->need;
			if (h->field == HF_RANDOM && client) {
				memcpy(s->random + STREAM_RANDOM_LEN - h->need, p + i, take);
			} else if (h->field == HF_COMP && memchr(p + i, 0, take) != NULL) {
				h->null_seen = true;
			}
		} else {
			take = 1;
			h->acc = h->acc << 8 | p[i];
		}
		h->need -= (uint16_t)take;
		if (h->field >= HF_VERSION) {
			h->msg_left -= (uint32_t)take; /* hello_enter kept need <= msg_left */
		}
		i += take;
		if (h->need == 0 && (!hello_field_done(h, client) || !hello_settle(h, client))) {
			*used = i;
			return -1;
		}
	}
	*used = i;
	return h->field == HF_DONE ? 1 : 0;
}

void stream_hello_start(struct stream_hello *h)
{
	memset(h, 0, sizeof(*h));
	h->need = 1; /* HF_TYPE, one byte */
}
