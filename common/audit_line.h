/*
 * The audit line: what one event says and how it is written as a syslog
 * datagram. Pure (no I/O, no allocation): the shim's sender writes with it and
 * the tests check it without preloading anything.
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
