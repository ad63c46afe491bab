/*
 * Audit events: one syslog datagram per event, ident "tlsguard", sent to the
 * policy's audit.socket by the shim's own sender. It never calls openlog() or
 * syslog(), so the program's own logging state is untouched. Format: see the
 * contract and tlsguard.8.
 */
#ifndef TLSGUARD_AUDIT_H
#define TLSGUARD_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

enum audit_kind {
	AUDIT_CONNECT,
	AUDIT_PLAINTEXT,
	AUDIT_HANDSHAKE,
	AUDIT_UNMANAGED_TLS,
	AUDIT_POLICY,
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
	const char *host;   /* NULL or "": host=- */
	int rule;           /* 1-based rule index, POLICY_RULE_DEFAULT: rule=default */
	const char *reason; /* one word from the contract's list */
	const char *detail; /* NULL: no detail= field */
};

/* Formats the syslog body (the key=value part, no header) into buf; always
 * NUL-terminates, truncates safely, quotes values with spaces, and escapes
 * quotes, backslashes and control bytes so a hostile host name or path can never
 * forge a field or a second line. Returns the length written. Pure. */
size_t audit_format_body(const struct audit_event *ev, const char *exe, long pid, char *buf,
                         size_t len);

/* Takes the audit settings of the loaded policy. Until called, events go to
 * /dev/log (facility authpriv) with a copy of blocks on stderr, so a policy that
 * fails to load is still reported. */
void audit_configure(const struct policy_audit *cfg);

/* Sends one event. Thread-safe, never blocks the program (MSG_DONTWAIT), keeps
 * errno, rate-limited (a burst ends in one "suppressed N events" message). When
 * audit.socket is missing or refuses the datagram, the event goes to stderr and
 * the fallback is announced once. With audit.stderr, every block is also written
 * to stderr as one line. */
void audit_emit(const struct audit_event *ev);

#endif
