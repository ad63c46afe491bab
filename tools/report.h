/*
 * tlsguard report: audit lines in, a summary out. Private to tools/cmd_report.c
 * and its helpers (report_parse.c, report_journal.c, report_table.c,
 * report_rules.c, report_json.c).
 */
#ifndef TLSGUARD_REPORT_H
#define TLSGUARD_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "audit_line.h"

/* Longer lines are skipped and counted: the shim never writes one (its
 * datagrams are far shorter), so such a line is noise or an attack. */
#define REPORT_LINE_MAX 65536
/* "2026-11-23T12:00:01.123456789+00:00" and a little room. */
#define REPORT_TS_MAX 96
/* "2026-11-23 12:00:01 +01:00" */
#define REPORT_WHEN_LEN 80
/* The syslog HOSTNAME field (RFC 5424 6.2.4: at most 255 characters). */
#define REPORT_HOST_MAX 256

enum report_line_kind {
	REPORT_LINE_EVENT,     /* a tlsguard event, parsed */
	REPORT_LINE_OTHER,     /* not a tlsguard event: skipped */
	REPORT_LINE_MALFORMED, /* a tlsguard event line whose body does not parse */
};

/* One event: its fields as common/audit_line_parse.c read them (values in the
 * caller's scratch buffer; detail and count NULL when absent, proto "tcp" when
 * absent, in events written before it existed), and where and when it was
 * logged. */
struct report_event {
	struct audit_fields f;
	char ts[REPORT_TS_MAX];         /* the timestamp as written, "" when none */
	char when[REPORT_WHEN_LEN];     /* "2026-11-23 12:00:01 +00:00", "" when none */
	bool when_guessed;              /* RFC 3164 stamp: year and zone are this machine's */
	char loghost[REPORT_HOST_MAX];  /* the syslog HOSTNAME, "-" when the line has none */
	unsigned long long count_value; /* event=suppressed: how many were held back */
};

/* Classifies one line (no newline; may hold NUL bytes) and, for an event,
 * fills ev. scratch must hold 2 * (len + 1) bytes (a journal JSON line's
 * MESSAGE is decoded into its second half). */
enum report_line_kind report_parse_line(const char *line, size_t len, char *scratch,
                                        struct report_event *ev);

/* One line of `journalctl -o json`: for a tlsguard event, its MESSAGE decoded
 * into message (at most len bytes, *mlen of them), its time and host name into
 * ev, and REPORT_LINE_EVENT; REPORT_LINE_OTHER for anything else. */
enum report_line_kind report_journal_json(const char *line, size_t len, char *message, size_t *mlen,
                                          struct report_event *ev);

/* Events grouped by program, destination, reason and verdict. */
enum report_key {
	REPORT_KEY_EXE,
	REPORT_KEY_DIR,
	REPORT_KEY_PEER,
	REPORT_KEY_HOST,
	REPORT_KEY_REASON,
	REPORT_KEY_VERDICT,
	REPORT_KEY_PROTO,
	REPORT_KEY_LOGHOST,
	REPORT_NKEYS,
};

struct report_group {
	const char *key[REPORT_NKEYS];
	const char *event;  /* the event kind first seen */
	const char *detail; /* the first detail seen, NULL when none */
	unsigned long count;
	/* events of the group that were a TLS session the policy accepted (event
	 * handshake or upgrade, verdict allow): a successful TLS destination, the
	 * twin report_rules.c looks for beside a plaintext one */
	unsigned long tls_ok;
	char first_ts[REPORT_TS_MAX], last_ts[REPORT_TS_MAX];
	char first_when[REPORT_WHEN_LEN], last_when[REPORT_WHEN_LEN];
	size_t hash;
};

struct report_table {
	struct report_group **slots; /* open addressing, cap a power of two */
	size_t cap;
	size_t ngroups;
};

/* Counts ev into its group (adding it); 0, or -1 when out of memory. */
int report_table_add(struct report_table *t, const struct report_event *ev);
/* The groups, sorted by count (descending), program, destination, reason and
 * verdict; t->ngroups entries, free() the array (not the groups). NULL when out
 * of memory (or no groups). */
struct report_group **report_table_sorted(const struct report_table *t);
void report_table_free(struct report_table *t);

/* Writes the "Suggested rules" libconfig snippet for the groups. 0, or -1 when
 * out of memory. */
int report_rules_print(FILE *out, struct report_group *const *groups, size_t n);
/* The same suggestions as a JSON member ("suggestions": [...], no trailing
 * comma): dir, to, port, proto, action (null: a note only) and active (a
 * rule, not a comment). */
int report_rules_json(FILE *out, struct report_group *const *groups, size_t n);

/* One run of the report: the groups and the counts (tools/cmd_report.c). */
struct report {
	struct report_table table;
	unsigned long events, skipped, too_long, malformed;
	unsigned long blocked, audited, allowed;
	unsigned long long suppressed; /* the sum of event=suppressed count=N */
	bool guessed;                  /* some stamps had no year or zone */
	size_t top;                    /* groups shown per host, 0: all */
	bool wide;                     /* never cut a program name or destination */
	char first_ts[REPORT_TS_MAX], last_ts[REPORT_TS_MAX];
	char first_when[REPORT_WHEN_LEN], last_when[REPORT_WHEN_LEN];
	char *scratch; /* REPORT_LINE_MAX + 1 bytes for the parser */
};

/* Writes the summary of r as JSON on stdout; 0, or -1 when out of memory. */
int report_print_json(const struct report *r, struct report_group **groups);

/* s made plain printable ASCII (other bytes as '?') into buf of width + 1 bytes,
 * cut to width with '~' as its last character when longer. */
const char *report_ascii(const char *s, char *buf, size_t width);

#endif
