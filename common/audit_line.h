/*
 * The audit line: what one event says, how it is written as a syslog datagram
 * (audit_line.c) and how its body is read back (audit_line_parse.c). Pure (no
 * I/O, no allocation): the shim's sender writes with it, `tlsguard report`
 * parses with it, and the tests check both without preloading anything.
 */
#ifndef TLSGUARD_AUDIT_LINE_H
#define TLSGUARD_AUDIT_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "policy.h"

enum audit_kind {
	AUDIT_CONNECT,
	AUDIT_PLAINTEXT,
	AUDIT_HANDSHAKE,
	AUDIT_UNMANAGED_TLS,
	AUDIT_POLICY,
	AUDIT_UPGRADE,    /* a connection the shim speaks TLS for (upgrade_tls, terminate_tls) */
	AUDIT_SUPPRESSED, /* the rate limit held count events back */
};

enum audit_verdict {
	AUDIT_VERDICT_ALLOW,
	AUDIT_VERDICT_BLOCK,
	AUDIT_VERDICT_AUDIT, /* audit mode: would have been blocked, let through */
};

struct audit_event {
	enum audit_kind kind;
	enum audit_verdict verdict;
	bool inbound;
	const struct policy_addr *peer; /* NULL: peer=- */
	uint16_t port;
	const char *host;        /* NULL or "": host=- */
	int rule;                /* 1-based rule index, POLICY_RULE_DEFAULT: rule=default */
	const char *reason;      /* one word from the contract's list */
	const char *detail;      /* NULL: no detail= field */
	unsigned long count;     /* 0: no count= field (event=suppressed has one) */
	enum policy_proto proto; /* zero-initialised: tcp */
};

/* The body's keys, in the order the writer puts them (contract "Audit
 * events"); audit_field_names holds their spelling, for writer and parser. */
enum audit_field {
	AUDIT_FIELD_EVENT,
	AUDIT_FIELD_VERDICT,
	AUDIT_FIELD_DIR,
	AUDIT_FIELD_PROTO,
	AUDIT_FIELD_PEER,
	AUDIT_FIELD_HOST,
	AUDIT_FIELD_RULE,
	AUDIT_FIELD_REASON,
	AUDIT_FIELD_DETAIL, /* optional */
	AUDIT_FIELD_COUNT,  /* event=suppressed only */
	AUDIT_FIELD_EXE,
	AUDIT_FIELD_PID,
	AUDIT_NFIELDS
};
extern const char *const audit_field_names[AUDIT_NFIELDS];
/* "connect", ..., indexed by enum audit_kind; "allow", ... by enum audit_verdict. */
#define AUDIT_NKINDS    (AUDIT_SUPPRESSED + 1)
#define AUDIT_NVERDICTS (AUDIT_VERDICT_AUDIT + 1)
extern const char *const audit_kind_names[AUDIT_NKINDS];
extern const char *const audit_verdict_names[AUDIT_NVERDICTS];

/* A body read back: each value as the writer was given it (quotes and \" \\
 * escapes undone), except that control bytes stay written as \xNN, so no value
 * holds one. NULL where the field is absent (detail, count, and proto in lines
 * written before it existed). */
struct audit_fields {
	const char *value[AUDIT_NFIELDS];
};

/* Parses the key=value body (len bytes, no NUL needed) into f, values copied
 * into scratch (len + 1 bytes). Unknown keys are skipped (a later shim may add
 * fields); a repeated key, a raw control byte, a missing or invalid required
 * field (event, verdict, dir, peer, host, rule, reason, exe, pid), or a count
 * on any event but suppressed make it -1 (truncated or forged). 0 on success. */
int audit_parse_body(const char *body, size_t len, char *scratch, struct audit_fields *f);

/* Formats the syslog body (the key=value part, no header) into buf; always
 * NUL-terminates, truncates safely, quotes values with spaces, and escapes
 * quotes, backslashes and control bytes so a hostile host name or path can never
 * forge a field or a second line. Returns the length written. Pure. */
size_t audit_format_body(const struct audit_event *ev, const char *exe, long pid, char *buf,
                         size_t len);

/* RFC 3164 4.1: "<PRI>Mmm dd hh:mm:ss tlsguard[PID]: " into buf (always
 * NUL-terminated). Returns the length written. Pure. */
size_t audit_format_header(int pri, const struct tm *tm, long pid, char *buf, size_t len);

/* The syslog severity of a verdict: LOG_WARNING for blocks, LOG_NOTICE for
 * audit-mode verdicts, LOG_INFO for allows. */
int audit_severity(enum audit_verdict verdict);

#endif
