/*
 * The audit sender's private parts, shared by audit_format.c, audit.c and the
 * unit tests.
 */
#ifndef TLSGUARD_AUDIT_INTERNAL_H
#define TLSGUARD_AUDIT_INTERNAL_H

#include <stddef.h>
#include <time.h>

#include "audit.h"

/* Events per second a process may send; a burst beyond is counted and dropped. */
#define AUDIT_RATE_PER_SEC 100

/* Room for one formatted body; longer bodies are truncated. */
#define AUDIT_BODY_MAX 4096

/* RFC 3164 4.1: "<PRI>Mmm dd hh:mm:ss tlsguard[PID]: " into buf (always
 * NUL-terminated). Returns the length written. Pure. */
size_t audit_format_header(int pri, const struct tm *tm, long pid, char *buf, size_t len);

/* The syslog severity of a verdict: LOG_WARNING for blocks, LOG_NOTICE for
 * audit-mode verdicts, LOG_INFO for allows. */
int audit_severity(enum audit_verdict verdict);

/* audit_emit() with the monotonic time given, so the rate limit can be tested
 * without sleeping. */
void audit_emit_at(const struct audit_event *ev, const struct timespec *now);

/* Forgets the configuration, the socket and the rate-limit state, as in a new
 * process (tests only). */
void audit_reset(void);

#endif
