/*
 * tlsguard report: one input line in, an event out. Recognised forms (see
 * tlsguard(1)):
 *
 *   Nov 23 12:00:01 host tlsguard[123]: BODY        syslog file, journalctl -o short
 *   2026-11-23T12:00:01.123456+00:00 host tlsguard[123]: BODY     RFC 3339 timestamps
 *   <84>Nov 23 12:00:01 tlsguard[123]: BODY         the datagram the shim sends
 *   tlsguard: blocked: BODY, tlsguard: audit: BODY, tlsguard: BODY    the shim's stderr
 *   BODY                                            journalctl -o cat
 *   {"MESSAGE":"BODY","_HOSTNAME":...}              journalctl -o json (one object a line)
 *
 * The HOSTNAME field before the tag (a collector's files hold many hosts) is
 * kept, so the report can group by host. RFC 3164 stamps have no year and no
 * zone: the year is the one that puts the stamp in the last twelve months and
 * the zone this machine's, and the event says they were guessed.
 *
 * BODY is the shim's key=value line, written by common/audit_line.c and read
 * here by common/audit_line_parse.c (the same names and quoting rule).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"

#define TAG "tlsguard"

static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* A cursor over the line: never reads at or past end. */
struct cur {
	const char *p;
	const char *end;
};

static bool cur_skip(struct cur *c, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0) {
		return false;
	}
	c->p += n;
	return true;
}

/* Exactly n decimal digits; their value in *v. */
static bool cur_digits(struct cur *c, size_t n, int *v)
{
	size_t i;

	if ((size_t)(c->end - c->p) < n) {
		return false;
	}
	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)c->p[i])) {
			return false;
		}
		*v = *v * 10 + (c->p[i] - '0');
	}
	c->p += n;
	return true;
}

/* "hh:mm:ss" */
static bool cur_clock(struct cur *c, int *h, int *m, int *s)
{
	return cur_digits(c, 2, h) && cur_skip(c, ":") && cur_digits(c, 2, m) && cur_skip(c, ":") &&
	       cur_digits(c, 2, s) && *h < 24 && *m < 60 && *s < 61;
}

/* A parsed timestamp. */
struct stamp {
	int year, mon, day, h, m, s;
	int tz_min;   /* offset east of UTC, in minutes */
	bool guessed; /* RFC 3164: year and zone are inferred */
};

/* This machine's offset from UTC at that local time. */
static void guess_zone(struct stamp *st)
{
	struct tm tm = {.tm_year = st->year - 1900,
	                .tm_mon = st->mon,
	                .tm_mday = st->day,
	                .tm_hour = st->h,
	                .tm_min = st->m,
	                .tm_sec = st->s,
	                .tm_isdst = -1};

	st->guessed = true;
	st->tz_min = mktime(&tm) == (time_t)-1 ? 0 : (int)(tm.tm_gmtoff / 60);
}

/* RFC 3164 has no year: the latest year that does not put the stamp more
 * than a day in the future (a log read in January holds December's lines). */
static void guess_year(struct stamp *st)
{
	const char *fixed = getenv("TLSGUARD_REPORT_NOW"); /* reproducible reports (tests) */
	time_t now = fixed != NULL ? (time_t)strtoll(fixed, NULL, 10) : time(NULL);
	struct tm tm;

	if (localtime_r(&now, &tm) == NULL) {
		st->year = 1970;
		return;
	}
	st->year = tm.tm_year + 1900;
	if (st->mon > tm.tm_mon || (st->mon == tm.tm_mon && st->day > tm.tm_mday + 1)) {
		st->year--;
	}
	guess_zone(st);
}

/* RFC 3164 4.1.2: "Mmm dd hh:mm:ss", the day space-padded ("Nov  3"). */
static bool parse_bsd_time(struct cur *c, int *mon, int *day, int *h, int *m, int *s)
{
	int i;

	for (i = 0; i < 12; i++) {
		if (cur_skip(c, months[i])) {
			break;
		}
	}
	if (i == 12 || !cur_skip(c, " ")) {
		return false;
	}
	*mon = i;
	if (!cur_skip(c, " ") && cur_digits(c, 2, day)) {
		/* two-digit day */
	} else if (!cur_digits(c, 1, day)) {
		return false;
	}
	return *day >= 1 && *day <= 31 && cur_skip(c, " ") && cur_clock(c, h, m, s);
}

/* RFC 3339: "YYYY-MM-DDThh:mm:ss[.frac][Z|+hh:mm|+hhmm]". */
static bool parse_iso_time(struct cur *c, struct stamp *st)
{
	int *mon = &st->mon, *day = &st->day, *h = &st->h, *m = &st->m, *s = &st->s;
	int tzh, tzm, sign;

	if (!cur_digits(c, 4, &st->year) || !cur_skip(c, "-") || !cur_digits(c, 2, mon) ||
	    !cur_skip(c, "-") || !cur_digits(c, 2, day) || !cur_skip(c, "T") ||
	    !cur_clock(c, h, m, s) || *mon < 1 || *mon > 12 || *day < 1 || *day > 31) {
		return false;
	}
	*mon -= 1;
	if (cur_skip(c, ".")) {
		while (c->p < c->end && isdigit((unsigned char)*c->p)) {
			c->p++;
		}
	}
	st->tz_min = 0;
	if (cur_skip(c, "Z")) {
		return true;
	}
	if (cur_skip(c, "+")) {
		sign = 1;
	} else if (cur_skip(c, "-")) {
		sign = -1;
	} else {
		guess_zone(st); /* no zone: local time */
		return true;
	}
	if (!cur_digits(c, 2, &tzh)) {
		return false;
	}
	(void)cur_skip(c, ":");
	if (!cur_digits(c, 2, &tzm)) {
		return false;
	}
	st->tz_min = sign * (tzh * 60 + tzm);
	return true;
}

/* "2026-11-23 12:00:01 +01:00" */
static void format_when(const struct stamp *st, struct report_event *ev)
{
	int off = st->tz_min < 0 ? -st->tz_min : st->tz_min;

	snprintf(ev->when, sizeof(ev->when), "%04d-%02d-%02d %02d:%02d:%02d %c%02d:%02d", st->year,
	         st->mon + 1, st->day, st->h, st->m, st->s, st->tz_min < 0 ? '-' : '+', off / 60,
	         off % 60);
	ev->when_guessed = st->guessed;
}

/* A timestamp then one space; copies it out. False when there is none. */
static bool parse_time(struct cur *c, struct report_event *ev)
{
	const char *start = c->p;
	struct stamp st = {0};
	size_t n;

	if (parse_bsd_time(c, &st.mon, &st.day, &st.h, &st.m, &st.s)) {
		guess_year(&st);
	} else {
		c->p = start;
		if (!parse_iso_time(c, &st)) {
			c->p = start;
			return false;
		}
	}
	n = (size_t)(c->p - start);
	if (n >= sizeof(ev->ts) || !cur_skip(c, " ")) {
		c->p = start;
		return false;
	}
	memcpy(ev->ts, start, n);
	ev->ts[n] = '\0';
	format_when(&st, ev);
	return true;
}

/* "tlsguard[PID]: " or "tlsguard: " */
static bool parse_tag(struct cur *c)
{
	const char *start = c->p;

	if (!cur_skip(c, TAG)) {
		return false;
	}
	if (cur_skip(c, "[")) {
		const char *digits = c->p;
		while (c->p < c->end && isdigit((unsigned char)*c->p)) {
			c->p++;
		}
		if (c->p == digits || !cur_skip(c, "]")) {
			c->p = start;
			return false;
		}
	}
	if (!cur_skip(c, ": ")) {
		c->p = start;
		return false;
	}
	return true;
}

/* RFC 3164 4.1.1: "<PRI>", one to three digits. */
static void skip_priority(struct cur *c)
{
	const char *start = c->p;
	int digits = 0;

	if (!cur_skip(c, "<")) {
		return;
	}
	while (c->p < c->end && isdigit((unsigned char)*c->p) && digits < 3) {
		c->p++;
		digits++;
	}
	if (digits == 0 || !cur_skip(c, ">")) {
		c->p = start;
	}
}

/* Moves c to the event body; false when the line is not from tlsguard. */
static bool find_body(struct cur *c, struct report_event *ev)
{
	skip_priority(c);
	if (!parse_tag(c) && parse_time(c, ev) && !parse_tag(c)) {
		/* "HOST tlsguard[PID]: ": one word for the host name */
		const char *host = c->p;
		size_t n;

		while (c->p < c->end && *c->p != ' ') {
			c->p++;
		}
		n = (size_t)(c->p - host);
		if (n == 0 || n >= sizeof(ev->loghost) || !cur_skip(c, " ") || !parse_tag(c)) {
			return false;
		}
		memcpy(ev->loghost, host, n);
		ev->loghost[n] = '\0';
	}
	/* The shim's stderr copies: "tlsguard: blocked: ", "tlsguard: audit: " */
	if (!cur_skip(c, "blocked: ")) {
		(void)cur_skip(c, "audit: ");
	}
	return (size_t)(c->end - c->p) > 6 && memcmp(c->p, "event=", 6) == 0;
}

/* The body at c, parsed by the writer's own rules (audit_line_parse.c). */
static enum report_line_kind parse_body(struct cur c, char *scratch, struct report_event *ev)
{
	const char **proto = &ev->f.value[AUDIT_FIELD_PROTO];
	const char *count;

	if (audit_parse_body(c.p, (size_t)(c.end - c.p), scratch, &ev->f) != 0) {
		return REPORT_LINE_MALFORMED;
	}
	if (*proto == NULL) {
		*proto = "tcp";
	}
	count = ev->f.value[AUDIT_FIELD_COUNT];
	if (count != NULL) {
		ev->count_value = strtoull(count, NULL, 10);
	}
	if (ev->loghost[0] == '\0') {
		memcpy(ev->loghost, "-", 2);
	}
	return REPORT_LINE_EVENT;
}

enum report_line_kind report_parse_line(const char *line, size_t len, char *scratch,
                                        struct report_event *ev)
{
	struct cur c = {line, line + len};
	char *message = scratch + len + 1;
	size_t mlen;

	memset(ev, 0, sizeof(*ev));
	/* CRLF files, and the padding some exporters leave at the end */
	while (c.end > c.p && (c.end[-1] == '\r' || c.end[-1] == ' ')) {
		c.end--;
	}
	if (c.p < c.end && *c.p == '{') {
		switch (report_journal_json(c.p, (size_t)(c.end - c.p), message, &mlen, ev)) {
		case REPORT_LINE_EVENT:
			return parse_body((struct cur){message, message + mlen}, scratch, ev);
		case REPORT_LINE_MALFORMED:
			return REPORT_LINE_MALFORMED;
		case REPORT_LINE_OTHER:
		default:
			return REPORT_LINE_OTHER;
		}
	}
	if (!find_body(&c, ev)) {
		return REPORT_LINE_OTHER;
	}
	return parse_body(c, scratch, ev);
}
