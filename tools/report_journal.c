/*
 * tlsguard report: one line of `journalctl -o json` (RFC 8259, one object per
 * line; journal fields as strings, binary fields as arrays of byte values,
 * absent ones as null). Only the fields the report needs are decoded:
 * MESSAGE, SYSLOG_IDENTIFIER, _HOSTNAME and __REALTIME_TIMESTAMP.
 * Self-contained: no shim code, no allocation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"

#define JSON_DEPTH_MAX 16

struct jcur {
	const char *p;
	const char *end;
};

static void j_ws(struct jcur *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n')) {
		j->p++;
	}
}

static int hex4(const char *p)
{
	int v = 0, i;

	for (i = 0; i < 4; i++) {
		char ch = p[i];
		v <<= 4;
		if (ch >= '0' && ch <= '9') {
			v |= ch - '0';
		} else if (ch >= 'a' && ch <= 'f') {
			v |= ch - 'a' + 10;
		} else if (ch >= 'A' && ch <= 'F') {
			v |= ch - 'A' + 10;
		} else {
			return -1;
		}
	}
	return v;
}

/* Appends one byte when out has room; counts it either way. */
static void put(char *out, size_t cap, size_t *n, char ch)
{
	if (out != NULL && *n < cap) {
		out[*n] = ch;
	}
	(*n)++;
}

/* U+0000..U+FFFF as UTF-8 (surrogates, which need a pair, become '?'). */
static void put_utf8(char *out, size_t cap, size_t *n, int u)
{
	if (u < 0x80) {
		put(out, cap, n, (char)u);
	} else if (u < 0x800) {
		put(out, cap, n, (char)(0xc0 | (u >> 6)));
		put(out, cap, n, (char)(0x80 | (u & 0x3f)));
	} else if (u >= 0xd800 && u <= 0xdfff) {
		put(out, cap, n, '?');
	} else {
		put(out, cap, n, (char)(0xe0 | (u >> 12)));
		put(out, cap, n, (char)(0x80 | ((u >> 6) & 0x3f)));
		put(out, cap, n, (char)(0x80 | (u & 0x3f)));
	}
}

/* A JSON string at j, decoded into out (cap bytes; NULL: skipped); *n is its
 * decoded length. False when it is not a well-formed string or does not fit. */
static bool j_string(struct jcur *j, char *out, size_t cap, size_t *n)
{
	int u;

	*n = 0;
	if (j->p >= j->end || *j->p != '"') {
		return false;
	}
	for (j->p++; j->p < j->end; j->p++) {
		unsigned char ch = (unsigned char)*j->p;

		if (ch == '"') {
			j->p++;
			return out == NULL || *n <= cap;
		}
		if (ch < 0x20) {
			return false; /* RFC 8259 7: control characters are escaped */
		}
		if (ch != '\\') {
			put(out, cap, n, (char)ch);
			continue;
		}
		if (++j->p >= j->end) {
			return false;
		}
		switch (*j->p) {
		case '"':
		case '\\':
		case '/':
			put(out, cap, n, *j->p);
			break;
		case 'b':
			put(out, cap, n, '\b');
			break;
		case 'f':
			put(out, cap, n, '\f');
			break;
		case 'n':
			put(out, cap, n, '\n');
			break;
		case 'r':
			put(out, cap, n, '\r');
			break;
		case 't':
			put(out, cap, n, '\t');
			break;
		case 'u':
			if (j->end - j->p < 5 || (u = hex4(j->p + 1)) < 0) {
				return false;
			}
			put_utf8(out, cap, n, u);
			j->p += 4;
			break;
		default:
			return false;
		}
	}
	return false;
}

/* Skips any JSON value (bounded nesting). */
static bool j_skip(struct jcur *j, int depth)
{
	size_t n;
	char close;

	j_ws(j);
	if (j->p >= j->end || depth > JSON_DEPTH_MAX) {
		return false;
	}
	if (*j->p == '"') {
		return j_string(j, NULL, 0, &n);
	}
	if (*j->p == '[' || *j->p == '{') {
		close = *j->p == '[' ? ']' : '}';
		j->p++;
		j_ws(j);
		if (j->p < j->end && *j->p == close) {
			j->p++;
			return true;
		}
		for (;;) {
			if (close == '}') {
				j_ws(j);
				if (!j_string(j, NULL, 0, &n)) {
					return false;
				}
				j_ws(j);
				if (j->p >= j->end || *j->p++ != ':') {
					return false;
				}
			}
			if (!j_skip(j, depth + 1)) {
				return false;
			}
			j_ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			if (j->p < j->end && *j->p == close) {
				j->p++;
				return true;
			}
			return false;
		}
	}
	/* number, true, false, null */
	n = 0;
	while (j->p + n < j->end && j->p[n] != '\0' &&
	       strchr("0123456789+-.eEtruefalsn", j->p[n]) != NULL) {
		n++;
	}
	if (n == 0) {
		return false;
	}
	j->p += n;
	return true;
}

static void set_time(unsigned long long usec, struct report_event *ev)
{
	time_t t = (time_t)(usec / 1000000ULL);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		return;
	}
	snprintf(ev->ts, sizeof(ev->ts), "%04d-%02d-%02dT%02d:%02d:%02d.%06llu+00:00",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	         usec % 1000000ULL);
	snprintf(ev->when, sizeof(ev->when), "%04d-%02d-%02d %02d:%02d:%02d +00:00",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

enum report_line_kind report_journal_json(const char *line, size_t len, char *message, size_t *mlen,
                                          struct report_event *ev)
{
	struct jcur j = {line, line + len};
	char key[32], ident[16] = "", num[32];
	size_t n, klen;
	bool have_message = false, ours = false;

	*mlen = 0;
	if (j.p >= j.end || *j.p++ != '{') {
		return REPORT_LINE_OTHER;
	}
	for (;;) {
		j_ws(&j);
		if (!j_string(&j, key, sizeof(key) - 1, &klen)) {
			return REPORT_LINE_OTHER; /* not JSON, or a key we never need */
		}
		key[klen < sizeof(key) ? klen : sizeof(key) - 1] = '\0';
		j_ws(&j);
		if (j.p >= j.end || *j.p++ != ':') {
			return REPORT_LINE_OTHER;
		}
		j_ws(&j);
		if (strcmp(key, "MESSAGE") == 0 && j.p < j.end && *j.p == '"') {
			if (!j_string(&j, message, len, mlen)) {
				return REPORT_LINE_OTHER;
			}
			have_message = true;
		} else if (strcmp(key, "SYSLOG_IDENTIFIER") == 0 && j.p < j.end && *j.p == '"') {
			if (!j_string(&j, ident, sizeof(ident) - 1, &n)) {
				return REPORT_LINE_OTHER;
			}
			ident[n < sizeof(ident) ? n : sizeof(ident) - 1] = '\0';
			ours = n == strlen("tlsguard") && strcmp(ident, "tlsguard") == 0;
		} else if (strcmp(key, "_HOSTNAME") == 0 && j.p < j.end && *j.p == '"') {
			if (!j_string(&j, ev->loghost, sizeof(ev->loghost) - 1, &n) || n == 0 ||
			    n >= sizeof(ev->loghost) || memchr(ev->loghost, ' ', n) != NULL) {
				return REPORT_LINE_OTHER;
			}
			ev->loghost[n] = '\0';
		} else if (strcmp(key, "__REALTIME_TIMESTAMP") == 0 && j.p < j.end && *j.p == '"') {
			if (!j_string(&j, num, sizeof(num) - 1, &n) || n == 0 || n >= sizeof(num)) {
				return REPORT_LINE_OTHER;
			}
			num[n] = '\0';
			if (strspn(num, "0123456789") == n) {
				set_time(strtoull(num, NULL, 10), ev);
			}
		} else if (!j_skip(&j, 1)) {
			return REPORT_LINE_OTHER;
		}
		j_ws(&j);
		if (j.p < j.end && *j.p == ',') {
			j.p++;
			continue;
		}
		if (j.p < j.end && *j.p == '}') {
			break;
		}
		return REPORT_LINE_OTHER;
	}
	if (!have_message || !(ours || (*mlen > 6 && memcmp(message, "event=", 6) == 0))) {
		return REPORT_LINE_OTHER;
	}
	if (*mlen < 6 || memcmp(message, "event=", 6) != 0) {
		return REPORT_LINE_OTHER; /* tlsguard's own notices ("audit socket ...") */
	}
	return REPORT_LINE_EVENT;
}
