/*
 * The audit sender's private parts: its limits, shared by the files of the
 * sender (audit.c, audit_sink.c, audit_rate.c, audit_wait.c), and the hooks
 * the unit tests use.
 */
#ifndef TLSGUARD_AUDIT_INTERNAL_H
#define TLSGUARD_AUDIT_INTERNAL_H

#include <stddef.h>
#include <time.h>

#include "audit.h"

/* Events per second a process may send; a burst beyond is counted and dropped. */
#define AUDIT_RATE_PER_SEC 100

/* While events are suppressed, their count is sent at least this often. */
#define AUDIT_SUMMARY_NS 1000000000LL

/* How long one event may wait for a full audit socket, and how much waiting a
 * process may do in all (refilled at AUDIT_WAIT_REFILL_PERMILLE of the time
 * that passes): bounded, so a stalled log daemon slows the program a little
 * and never hangs it. */
#define AUDIT_WAIT_EVENT_NS        250000000LL
#define AUDIT_WAIT_BUDGET_NS       2000000000LL
#define AUDIT_WAIT_REFILL_PERMILLE 100

/* Room for one formatted body; longer bodies are truncated. */
#define AUDIT_BODY_MAX 4096

/* Nanoseconds from one monotonic time to another (negative: backwards). */
static inline long long audit_elapsed_ns(const struct timespec *from, const struct timespec *to)
{
	return (long long)(to->tv_sec - from->tv_sec) * 1000000000LL +
	       (to->tv_nsec - from->tv_nsec);
}

/* audit_emit() with the monotonic time given, so the rate limit can be tested
 * without sleeping. */
void audit_emit_at(const struct audit_event *ev, const struct timespec *now);

/* audit_flush_suppressed() with the monotonic time given (tests). */
void audit_flush_suppressed_at(const struct timespec *now);

/* The descriptor of the sender's socket, -1 when none is open (tests). */
int audit_socket_fd(void);

/* Forgets the configuration, the socket and the rate-limit state, as in a new
 * process (tests only). */
void audit_reset(void);

#endif
