/*
 * Formatting of audit events (see audit_line.h): pure, no I/O, no allocation.
 * The names and the quoting rule below are also what audit_line_parse.c
 * reads back.
 *
 * A value is written bare unless it is empty or holds a space, a quote or a
 * backslash; then it is quoted and quotes and backslashes inside are escaped.
 * Control bytes (< 0x20, 0x7f) are written as \xNN everywhere, so no value can
 * end a field early or start a second syslog line.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "audit_line.h"

/* A bounded writer: never past len - 1, always NUL-terminated, and once
 * something did not fit nothing more is written (no field is skipped and a
 * later, shorter one written in its place). */
struct out {
	char *buf;
	size_t len;
	size_t pos;
	bool full;
};

/* Writes as much of s as fits. */
static void put_raw(struct out *o, const char *s, size_t n)
{
	size_t room;

	if (o->full) {
		return;
	}
	room = o->len - 1 - o->pos;
	if (n > room) {
		n = room;
		o->full = true;
	}
	memcpy(o->buf + o->pos, s, n);
	o->pos += n;
	o->buf[o->pos] = '\0';
}

/* Writes s whole or not at all (an escape sequence is never cut). */
static void put_unit(struct out *o, const char *s, size_t n)
{
	if (o->full) {
		return;
	}
	if (n > o->len - 1 - o->pos) {
		o->full = true;
		return;
	}
	put_raw(o, s, n);
}

static void put_str(struct out *o, const char *s)
{
	put_raw(o, s, strlen(s));
}

static bool needs_quotes(const char *v)
{
	return *v == '\0' || strpbrk(v, " \"\\") != NULL;
}

static void put_value(struct out *o, const char *v, bool force_quotes)
{
	bool quoted = force_quotes || needs_quotes(v);
	const unsigned char *p;
	char esc[5];

	if (quoted) {
		put_unit(o, "\"", 1);
	}
	for (p = (const unsigned char *)v; *p != '\0' && !o->full; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", *p);
			put_unit(o, esc, 4);
		} else if (*p == '"' || *p == '\\') {
			/* Only reached quoted: needs_quotes() saw it. */
			esc[0] = '\\';
			esc[1] = (char)*p;
			put_unit(o, esc, 2);
		} else {
			put_unit(o, (const char *)p, 1);
		}
	}
	if (quoted) {
		put_unit(o, "\"", 1);
	}
}

/* " key=value" */
static void put_field(struct out *o, enum audit_field key, const char *value, bool force_quotes)
{
	put_str(o, " ");
	put_str(o, audit_field_names[key]);
	put_str(o, "=");
	put_value(o, value, force_quotes);
}

const char *const audit_field_names[AUDIT_NFIELDS] = {
    [AUDIT_FIELD_EVENT] = "event",   [AUDIT_FIELD_VERDICT] = "verdict",
    [AUDIT_FIELD_DIR] = "dir",       [AUDIT_FIELD_PROTO] = "proto",
    [AUDIT_FIELD_PEER] = "peer",     [AUDIT_FIELD_HOST] = "host",
    [AUDIT_FIELD_RULE] = "rule",     [AUDIT_FIELD_REASON] = "reason",
    [AUDIT_FIELD_DETAIL] = "detail", [AUDIT_FIELD_COUNT] = "count",
    [AUDIT_FIELD_EXE] = "exe",       [AUDIT_FIELD_PID] = "pid",
};

const char *const audit_kind_names[AUDIT_NKINDS] = {
    [AUDIT_CONNECT] = "connect",       [AUDIT_PLAINTEXT] = "plaintext",
    [AUDIT_HANDSHAKE] = "handshake",   [AUDIT_UNMANAGED_TLS] = "unmanaged_tls",
    [AUDIT_POLICY] = "policy",         [AUDIT_UPGRADE] = "upgrade",
    [AUDIT_SUPPRESSED] = "suppressed",
};

const char *const audit_verdict_names[AUDIT_NVERDICTS] = {
    [AUDIT_VERDICT_ALLOW] = "allow",
    [AUDIT_VERDICT_BLOCK] = "block",
    [AUDIT_VERDICT_AUDIT] = "audit",
};

static const char *kind_name(enum audit_kind kind)
{
	/* An out-of-range kind is written as a policy event, never skipped. */
	return (unsigned)kind < AUDIT_NKINDS ? audit_kind_names[kind] : "policy";
}

static const char *verdict_name(enum audit_verdict verdict)
{
	/* An out-of-range verdict is written as the strictest. */
	return (unsigned)verdict < AUDIT_NVERDICTS ? audit_verdict_names[verdict] : "block";
}

/* "10.0.0.1:443", "[::1]:443", or "-". */
static void format_peer(const struct policy_addr *peer, uint16_t port, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (peer == NULL || (peer->family != AF_INET && peer->family != AF_INET6) ||
	    inet_ntop(peer->family, peer->bytes, ip, sizeof(ip)) == NULL) {
		snprintf(buf, len, "-");
		return;
	}
	snprintf(buf, len, peer->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, (unsigned)port);
}

size_t audit_format_body(const struct audit_event *ev, const char *exe, long pid, char *buf,
                         size_t len)
{
	struct out o = {.buf = buf, .len = len};
	char peer[INET6_ADDRSTRLEN + 16], num[24];

	if (len == 0) {
		return 0;
	}
	buf[0] = '\0';
	format_peer(ev->peer, ev->port, peer, sizeof(peer));
	put_str(&o, audit_field_names[AUDIT_FIELD_EVENT]);
	put_str(&o, "=");
	put_str(&o, kind_name(ev->kind));
	put_field(&o, AUDIT_FIELD_VERDICT, verdict_name(ev->verdict), false);
	put_field(&o, AUDIT_FIELD_DIR, ev->inbound ? "in" : "out", false);
	put_field(&o, AUDIT_FIELD_PROTO, ev->proto == POLICY_PROTO_UDP ? "udp" : "tcp", false);
	put_field(&o, AUDIT_FIELD_PEER, peer, false);
	put_field(&o, AUDIT_FIELD_HOST, ev->host != NULL && ev->host[0] != '\0' ? ev->host : "-",
	          false);
	if (ev->rule == POLICY_RULE_DEFAULT) {
		snprintf(num, sizeof(num), "default");
	} else {
		snprintf(num, sizeof(num), "%d", ev->rule);
	}
	put_field(&o, AUDIT_FIELD_RULE, num, false);
	put_field(&o, AUDIT_FIELD_REASON, ev->reason != NULL ? ev->reason : "-", false);
	if (ev->detail != NULL) {
		put_field(&o, AUDIT_FIELD_DETAIL, ev->detail, true);
	}
	if (ev->count > 0) {
		snprintf(num, sizeof(num), "%lu", ev->count);
		put_field(&o, AUDIT_FIELD_COUNT, num, false);
	}
	put_field(&o, AUDIT_FIELD_EXE, exe != NULL && exe[0] != '\0' ? exe : "-", false);
	snprintf(num, sizeof(num), "%ld", pid);
	put_field(&o, AUDIT_FIELD_PID, num, false);
	return o.pos;
}

size_t audit_format_header(int pri, const struct tm *tm, long pid, char *buf, size_t len)
{
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	int mon = tm->tm_mon >= 0 && tm->tm_mon < 12 ? tm->tm_mon : 0;
	int n;

	if (len == 0) {
		return 0;
	}
	/* RFC 3164 4.1.2: the day of the month is space-padded ("Oct  1"). */
	n = snprintf(buf, len, "<%d>%s %2d %02d:%02d:%02d tlsguard[%ld]: ", pri, months[mon],
	             tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec, pid);
	if (n < 0) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)n < len ? (size_t)n : len - 1;
}

int audit_severity(enum audit_verdict verdict)
{
	switch (verdict) {
	case AUDIT_VERDICT_ALLOW:
		return LOG_INFO;
	case AUDIT_VERDICT_AUDIT:
		return LOG_NOTICE;
	case AUDIT_VERDICT_BLOCK:
	default:
		return LOG_WARNING;
	}
}
