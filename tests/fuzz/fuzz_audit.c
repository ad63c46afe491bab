/*
 * libFuzzer target: audit_format_body() (common/audit_line.c) with hostile host
 * names, details, reasons and executable paths.
 *
 * Input: a 33-byte header (kind, verdict, flags, port, rule, pid, peer address;
 * missing bytes read as 0), then up to four strings separated by NUL bytes:
 * host, detail, exe, reason. The strings keep every other byte: control bytes,
 * quotes, backslashes, newlines, bytes >= 0x80.
 *
 * Properties (a violation aborts; tests/fuzz/replay.sh replays the target
 * on every saved input in make check):
 * - with room, the body parses back (a strict parser written here, independent
 *   of the formatter) into exactly the keys event verdict dir proto peer host
 *   rule reason [detail] [count] exe pid, in that order, each value decoding to the value
 *   given; a value is quoted exactly when it is the detail, empty, or holds a
 *   space, a quote or a backslash;
 * - no byte < 0x20 and no 0x7f anywhere in the body;
 * - for every buffer size: the result is NUL-terminated, strlen() equals the
 *   returned length, nothing is written past it but the NUL, the text is a prefix
 *   of the untruncated body, and the cut never falls inside an escape sequence;
 *   size 0 writes nothing and returns 0.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "replay.h"
#include "core/audit.h"

#define AUD_HEADER_LEN 33
#define AUD_NSTRINGS   4
#define AUD_MAX_FIELDS 16
#define AUD_SENTINEL   0xa5

/* What the event should print, field by field. */
struct aud_want {
	const char *keys[AUD_MAX_FIELDS];
	const char *values[AUD_MAX_FIELDS];
	bool force_quotes[AUD_MAX_FIELDS];
	int n;
};

/* One field parsed back from the body. */
struct aud_field {
	const char *key; /* points into the body; key_len bytes */
	size_t key_len;
	char *value; /* decoded, NUL-terminated, owned */
	bool quoted;
};

struct aud_input {
	struct audit_event ev;
	struct policy_addr peer;
	const char *exe;
	long pid;
	char *strings[AUD_NSTRINGS]; /* host, detail, exe, reason: owned */
};

static char aud_why[512];

static const char *aud_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *aud_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(aud_why, sizeof(aud_why), fmt, ap);
	va_end(ap);
	return aud_why;
}

static uint64_t aud_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		v = v << 8 | p[i];
	}
	return v;
}

/* Splits the bytes after the header on NUL into at most AUD_NSTRINGS strings
 * (the last one keeps any further NUL-separated parts out: they end it). */
static int aud_split(struct aud_input *in, const uint8_t *p, size_t n)
{
	size_t i, start = 0;
	int k = 0;

	for (i = 0; i <= n && k < AUD_NSTRINGS; i++) {
		if (i < n && p[i] != '\0') {
			continue;
		}
		in->strings[k] = strndup((const char *)p + start, i - start);
		if (in->strings[k] == NULL) {
			return -1;
		}
		k++;
		start = i + 1;
	}
	return 0;
}

static int aud_decode_input(struct aud_input *in, const uint8_t *data, size_t size)
{
	uint8_t h[AUD_HEADER_LEN] = {0};
	static const int families[4] = {0, AF_INET, AF_INET6, AF_UNIX};
	uint8_t flags;

	memset(in, 0, sizeof(*in));
	memcpy(h, data, size < sizeof(h) ? size : sizeof(h));
	if (size > sizeof(h) && aud_split(in, data + sizeof(h), size - sizeof(h)) != 0) {
		return -1;
	}
	flags = h[2];
	/* 7 (AUDIT_NKINDS) is no audit_kind and 3 no audit_verdict: the formatter's default:
	 * branches are fuzzed too. */
	in->ev.kind = (enum audit_kind)(h[0] % 8);
	in->ev.proto = h[0] & 0x80 ? POLICY_PROTO_UDP : POLICY_PROTO_TCP;
	in->ev.count = h[1] & 0x80 ? (unsigned long)aud_be(h + 3, 2) : 0;
	in->ev.verdict = (enum audit_verdict)(h[1] % 4);
	in->ev.inbound = flags & 1;
	in->ev.port = (uint16_t)aud_be(h + 3, 2);
	in->ev.rule = (int)(int32_t)(uint32_t)aud_be(h + 5, 4);
	in->pid = (long)(int64_t)aud_be(h + 9, 8);
	in->peer.family = families[(flags >> 5) & 3];
	memcpy(in->peer.bytes, h + 17, sizeof(in->peer.bytes));
	in->ev.peer = in->peer.family == 0 ? NULL : &in->peer;
	in->ev.host = flags & 4 ? NULL : in->strings[0] ? in->strings[0] : "";
	in->ev.detail = flags & 2 ? (in->strings[1] ? in->strings[1] : "") : NULL;
	in->exe = flags & 8 ? NULL : in->strings[2] ? in->strings[2] : "";
	in->ev.reason = flags & 16 ? NULL : in->strings[3] ? in->strings[3] : "";
	return 0;
}

static void aud_free_input(struct aud_input *in)
{
	int k;

	for (k = 0; k < AUD_NSTRINGS; k++) {
		free(in->strings[k]);
	}
}

static void aud_add(struct aud_want *w, const char *key, const char *value, bool force)
{
	w->keys[w->n] = key;
	w->values[w->n] = value;
	w->force_quotes[w->n] = force;
	w->n++;
}

/* The expected fields, worked out from the contract's list, not from the
 * formatter. peer and rule point into the given buffers. */
static void aud_expect(const struct aud_input *in, struct aud_want *w, char *peer, size_t peer_len,
                       char *rule, size_t rule_len, char *pid, size_t pid_len)
{
	static const char *const kinds[8] = {"connect", "plaintext", "handshake",  "unmanaged_tls",
	                                     "policy",  "upgrade",   "suppressed", "policy"};
	static const char *const verdicts[4] = {"allow", "block", "audit", "block"};
	const struct audit_event *ev = &in->ev;
	static char count[24];
	char ip[INET6_ADDRSTRLEN];

	snprintf(peer, peer_len, "-");
	if (ev->peer != NULL && ev->peer->family != AF_UNIX &&
	    inet_ntop(ev->peer->family, ev->peer->bytes, ip, sizeof(ip)) != NULL) {
		snprintf(peer, peer_len, ev->peer->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
		         (unsigned)ev->port);
	}
	snprintf(rule, rule_len, ev->rule == POLICY_RULE_DEFAULT ? "default" : "%d", ev->rule);
	snprintf(pid, pid_len, "%ld", in->pid);
	w->n = 0;
	aud_add(w, "event", kinds[ev->kind], false);
	aud_add(w, "verdict", verdicts[ev->verdict], false);
	aud_add(w, "dir", ev->inbound ? "in" : "out", false);
	aud_add(w, "proto", ev->proto == POLICY_PROTO_UDP ? "udp" : "tcp", false);
	aud_add(w, "peer", peer, false);
	aud_add(w, "host", ev->host != NULL && ev->host[0] != '\0' ? ev->host : "-", false);
	aud_add(w, "rule", rule, false);
	aud_add(w, "reason", ev->reason != NULL ? ev->reason : "-", false);
	if (ev->detail != NULL) {
		aud_add(w, "detail", ev->detail, true);
	}
	if (ev->count > 0) {
		snprintf(count, sizeof(count), "%lu", ev->count);
		aud_add(w, "count", count, false);
	}
	aud_add(w, "exe", in->exe != NULL && in->exe[0] != '\0' ? in->exe : "-", false);
	aud_add(w, "pid", pid, false);
}

static int aud_hex(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	return -1; /* "%02x" never writes upper case */
}

/* Decodes one value starting at body[*pos]; marks in mid[] the positions that
 * fall inside an escape sequence. Returns NULL (and sets why) if the value
 * breaks the format. */
static char *aud_parse_value(const char *body, size_t len, size_t *pos, bool *quoted, uint8_t *mid,
                             const char **why)
{
	char *out = malloc(len + 1);
	size_t i = *pos, o = 0;
	int hi, lo;

	if (out == NULL) {
		*why = "out of memory";
		return NULL;
	}
	*quoted = i < len && body[i] == '"';
	i += *quoted;
	for (; i < len; i++) {
		unsigned char c = (unsigned char)body[i];

		if (c == ' ' && !*quoted) {
			break;
		}
		if (c == '"') {
			if (!*quoted) {
				*why = "a raw quote in a bare value";
				goto err;
			}
			break;
		}
		if (c != '\\') {
			out[o++] = (char)c;
			continue;
		}
		if (i + 1 < len && (body[i + 1] == '"' || body[i + 1] == '\\') && *quoted) {
			mid[i + 1] = 1;
			out[o++] = body[++i];
			continue;
		}
		if (i + 3 >= len || body[i + 1] != 'x' || (hi = aud_hex(body[i + 2])) < 0 ||
		    (lo = aud_hex(body[i + 3])) < 0 || (hi << 4 | lo) == 0) {
			*why = "a backslash that starts no escape";
			goto err;
		}
		mid[i + 1] = mid[i + 2] = mid[i + 3] = 1;
		out[o++] = (char)(hi << 4 | lo);
		i += 3;
	}
	if (*quoted) {
		if (i >= len) {
			*why = "a quoted value without its closing quote";
			goto err;
		}
		i++;
	}
	out[o] = '\0';
	*pos = i;
	return out;
err:
	free(out);
	return NULL;
}

static bool aud_needs_quotes(const char *v)
{
	return *v == '\0' || strpbrk(v, " \"\\") != NULL;
}

/* Parses the untruncated body field by field against the expectation. */
static const char *aud_check_fields(const char *body, size_t len, const struct aud_want *w,
                                    uint8_t *mid)
{
	const char *why = NULL, *eq;
	size_t pos = 0;
	bool quoted;
	char *value;
	int k;

	for (k = 0; k < w->n; k++) {
		if (k > 0 && (pos >= len || body[pos++] != ' ')) {
			return aud_fail("field '%s' missing or not after one space", w->keys[k]);
		}
		eq = memchr(body + pos, '=', len - pos);
		if (eq == NULL || (size_t)(eq - body - pos) != strlen(w->keys[k]) ||
		    memcmp(body + pos, w->keys[k], strlen(w->keys[k])) != 0) {
			return aud_fail("field %s expected at '%.40s'", w->keys[k], body + pos);
		}
		pos = (size_t)(eq - body) + 1;
		value = aud_parse_value(body, len, &pos, &quoted, mid, &why);
		if (value == NULL) {
			return aud_fail("%s: %s", w->keys[k], why);
		}
		if (strcmp(value, w->values[k]) != 0) {
			free(value);
			return aud_fail("%s decodes to something else than '%.200s'", w->keys[k],
			                w->values[k]);
		}
		free(value);
		if (quoted != (w->force_quotes[k] || aud_needs_quotes(w->values[k]))) {
			return aud_fail("%s is %s", w->keys[k], quoted ? "quoted" : "not quoted");
		}
	}
	if (pos != len) {
		return aud_fail("bytes after pid: '%.40s'", body + pos);
	}
	return NULL;
}

static const char *aud_check_bytes(const char *body, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)body[i];

		if (c < 0x20 || c == 0x7f) {
			return aud_fail("control byte in the body at '%.40s'", body + i);
		}
	}
	return NULL;
}

/* Formats into a buffer of exactly len bytes and checks it against the full
 * body. mid[] marks cuts that would split an escape. */
static const char *aud_check_size(const struct aud_input *in, const char *full, size_t full_len,
                                  const uint8_t *mid, size_t len)
{
	unsigned char *buf = malloc(len + 1);
	const char *why = NULL;
	size_t ret, i;

	if (buf == NULL) {
		return "out of memory";
	}
	memset(buf, AUD_SENTINEL, len + 1);
	ret = audit_format_body(&in->ev, in->exe, in->pid, (char *)buf, len);
	if (len == 0) {
		if (ret != 0 || buf[0] != AUD_SENTINEL) {
			why = "size 0: something was written or returned";
		}
		goto out;
	}
	if (ret >= len || buf[ret] != '\0' || strlen((char *)buf) != ret) {
		why = "the length returned is not the string's";
		goto out;
	}
	for (i = ret + 1; i <= len; i++) {
		if (buf[i] != AUD_SENTINEL) {
			why = "a byte written past the terminating NUL";
			goto out;
		}
	}
	if (ret > full_len || memcmp(buf, full, ret) != 0) {
		why = "a truncated body is not a prefix of the whole body";
		goto out;
	}
	if (ret < full_len && mid[ret]) {
		why = aud_fail("truncation cut an escape sequence: '%.60s'", (char *)buf);
	}
out:
	free(buf);
	return why;
}

/* Whether a buffer of len bytes is worth a try: the small ones, those that cut
 * at or next to an escape sequence, a spread of 16 over the body, and those
 * around an exact fit. */
static bool aud_size_wanted(size_t len, size_t full_len, const uint8_t *mid)
{
	size_t i;

	if (len <= 64 || len + 1 >= full_len || len % (full_len / 16 + 1) == 0) {
		return true;
	}
	for (i = len - 2; i <= len && i <= full_len; i++) {
		if (mid[i]) {
			return true;
		}
	}
	return false;
}

static const char *aud_check_sizes(const struct aud_input *in, const char *full, size_t full_len,
                                   const uint8_t *mid)
{
	const char *why = NULL;
	size_t len;

	for (len = 0; len <= full_len + 1 && why == NULL; len++) {
		if (aud_size_wanted(len, full_len, mid)) {
			why = aud_check_size(in, full, full_len, mid, len);
		}
	}
	return why;
}

static const char *fuzz_audit_check(const uint8_t *data, size_t size)
{
	struct aud_input in;
	struct aud_want want;
	char peer[INET6_ADDRSTRLEN + 16], rule[16], pid[24];
	size_t cap = 4 * size + 512, full_len;
	char *full = NULL;
	uint8_t *mid = NULL;
	const char *why = "out of memory";

	if (aud_decode_input(&in, data, size) != 0) {
		goto out;
	}
	aud_expect(&in, &want, peer, sizeof(peer), rule, sizeof(rule), pid, sizeof(pid));
	full = malloc(cap);
	mid = calloc(cap + 1, 1);
	if (full == NULL || mid == NULL) {
		goto out;
	}
	/* Each byte becomes at most 4 ("\xNN"): cap always has room. */
	full_len = audit_format_body(&in.ev, in.exe, in.pid, full, cap);
	if (full_len + 1 >= cap) {
		why = "the body filled a buffer that had room for all of it";
		goto out;
	}
	why = aud_check_bytes(full, full_len);
	if (why == NULL) {
		why = aud_check_fields(full, full_len, &want, mid);
	}
	if (why == NULL) {
		why = aud_check_sizes(&in, full, full_len, mid);
	}
out:
	free(full);
	free(mid);
	aud_free_input(&in);
	return why;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = fuzz_audit_check(data, size);

	if (why != NULL) {
		fprintf(stderr, "fuzz_audit: property violated: %s\n", why);
		abort();
	}
	return 0;
}

/* ---- the checker catches what it exists to catch (replay --self-test) ---- */

#define AUD_GOOD_BODY                                                                              \
	"event=connect verdict=block dir=out peer=127.0.0.1:443 host=a.example rule=3 "            \
	"reason=denied detail=\"x y\" exe=/bin/curl pid=42"
#define AUD_HEAD "event=connect verdict=block dir=out peer=127.0.0.1:443 "
#define AUD_TAIL "reason=denied detail=\"x y\" exe=/bin/curl pid=42"

static const struct {
	const char *body;
	bool want_ok;
} aud_forged[] = {
    /* the body the fields below describe */
    {AUD_GOOD_BODY, true},
    /* a raw newline: a second syslog line */
    {AUD_HEAD "host=a.example\n rule=3 " AUD_TAIL, false},
    /* a forged field inside the host name */
    {AUD_HEAD "host=a.example rule=1 rule=3 " AUD_TAIL, false},
    /* the detail field missing */
    {AUD_HEAD "host=a.example rule=3 reason=denied exe=/bin/curl pid=42", false},
    /* a quote in a bare value */
    {AUD_HEAD "host=a\"example rule=3 " AUD_TAIL, false},
    /* quotes where none are needed */
    {AUD_HEAD "host=\"a.example\" rule=3 " AUD_TAIL, false},
    /* an unterminated quoted detail */
    {AUD_HEAD "host=a.example rule=3 reason=denied detail=\"x y exe=/bin/curl pid=42", false},
    /* an escape that is not one of \" \\ \xNN */
    {AUD_HEAD "host=a.example rule=3 reason=denied detail=\"x\\ny\" exe=/bin/curl pid=42", false},
    /* a field after pid */
    {AUD_GOOD_BODY " exe=/bin/sh", false},
};

int fuzz_self_test(void)
{
	struct aud_want want = {.n = 0};
	const char *why;
	uint8_t *mid;
	size_t i, len;
	int misses = 0;

	aud_add(&want, "event", "connect", false);
	aud_add(&want, "verdict", "block", false);
	aud_add(&want, "dir", "out", false);
	aud_add(&want, "peer", "127.0.0.1:443", false);
	aud_add(&want, "host", "a.example", false);
	aud_add(&want, "rule", "3", false);
	aud_add(&want, "reason", "denied", false);
	aud_add(&want, "detail", "x y", true);
	aud_add(&want, "exe", "/bin/curl", false);
	aud_add(&want, "pid", "42", false);
	for (i = 0; i < sizeof(aud_forged) / sizeof(aud_forged[0]); i++) {
		len = strlen(aud_forged[i].body);
		mid = calloc(len + 1, 1);
		if (mid == NULL) {
			return misses + 1;
		}
		why = aud_check_bytes(aud_forged[i].body, len);
		if (why == NULL) {
			why = aud_check_fields(aud_forged[i].body, len, &want, mid);
		}
		if ((why == NULL) != aud_forged[i].want_ok) {
			fprintf(stderr, "fuzz_audit self-test, row %zu: %s\n", i,
			        why != NULL ? why : "accepted");
			misses++;
		}
		free(mid);
	}
	return misses;
}
