/*
 * tlsguard report --json: the summary as one JSON object (RFC 8259), with the
 * suggested rules of report_rules.c. Strings are escaped and invalid UTF-8
 * replaced, so a hostile host name or path cannot break the document.
 */
#include <stdio.h>

#include "report.h"

/* Length of the valid UTF-8 sequence at s (RFC 3629 4), 0 when invalid. */
static size_t utf8_len(const unsigned char *s)
{
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	}
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f)) {
			return 0; /* overlong, or a UTF-16 surrogate */
		}
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80 ||
		    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f)) {
			return 0;
		}
		return 4;
	}
	return 0;
}

/* RFC 8259 7: a JSON string; invalid UTF-8 becomes U+FFFD. */
static void json_string(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	putchar('"');
	while (*p != '\0') {
		if (*p == '"' || *p == '\\') {
			printf("\\%c", *p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			printf("\\u%04x", *p++);
		} else if (*p < 0x80) {
			putchar(*p++);
		} else if ((n = utf8_len(p)) > 0) {
			fwrite(p, 1, n, stdout);
			p += n;
		} else {
			fputs("\\ufffd", stdout);
			p++;
		}
	}
	putchar('"');
}

/* A timestamp, or null when the line had none. */
static void json_time(const char *ts)
{
	if (ts[0] == '\0') {
		fputs("null", stdout);
	} else {
		json_string(ts);
	}
}

static void json_group(const struct report_group *g)
{
	static const char *const names[REPORT_NKEYS] = {"exe",    "dir",     "peer",  "host",
	                                                "reason", "verdict", "proto", "log_host"};
	int k;

	fputs("    {", stdout);
	for (k = 0; k < REPORT_NKEYS; k++) {
		printf(" \"%s\": ", names[k]);
		json_string(g->key[k]);
		putchar(',');
	}
	printf(" \"count\": %lu, \"first_seen\": ", g->count);
	json_time(g->first_ts);
	fputs(", \"last_seen\": ", stdout);
	json_time(g->last_ts);
	fputs(" }", stdout);
}

int report_print_json(const struct report *r, struct report_group **groups)
{
	size_t i;

	printf("{\n  \"events\": %lu,\n  \"skipped\": %lu,\n  \"malformed\": %lu,\n", r->events,
	       r->skipped, r->malformed);
	printf("  \"blocked\": %lu,\n  \"audit_only\": %lu,\n  \"allowed\": %lu,\n", r->blocked,
	       r->audited, r->allowed);
	printf("  \"suppressed\": %llu,\n", r->suppressed);
	fputs("  \"first_seen\": ", stdout);
	json_time(r->first_ts);
	fputs(",\n  \"last_seen\": ", stdout);
	json_time(r->last_ts);
	fputs(",\n  \"groups\": [", stdout);
	for (i = 0; i < r->table.ngroups; i++) {
		fputs(i == 0 ? "\n" : ",\n", stdout);
		json_group(groups[i]);
	}
	fputs(r->table.ngroups > 0 ? "\n  ],\n" : "],\n", stdout);
	if (report_rules_json(stdout, groups, r->table.ngroups) != 0) {
		return -1;
	}
	fputs("}\n", stdout);
	return 0;
}
