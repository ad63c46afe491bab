/*
 * The audit rate limit (core/audit_rate.c): a token bucket, so a program that
 * loops on a refused call cannot flood the log, and the count of what it held
 * back, so every event is still accounted for ("event=suppressed count=N").
 */
#ifndef TLSGUARD_AUDIT_RATE_H
#define TLSGUARD_AUDIT_RATE_H

#include <stdbool.h>
#include <time.h>

#include "audit_internal.h"

/* The bucket, in nanoseconds of credit: one event costs AUDIT_TOKEN_NS, the
 * bucket holds one second's worth. */
#define AUDIT_TOKEN_NS  (1000000000LL / AUDIT_RATE_PER_SEC)
#define AUDIT_BUCKET_NS (AUDIT_TOKEN_NS * AUDIT_RATE_PER_SEC)

struct audit_rate {
	long long credit_ns;
	struct timespec last;
	bool clock_started;
	unsigned long suppressed;              /* held back since the last count sent */
	enum audit_verdict suppressed_verdict; /* the gravest one held back */
	struct timespec summary_at;            /* the last count sent, or the first held */
};

#define AUDIT_RATE_INIT                                                                            \
	{                                                                                          \
		.credit_ns = AUDIT_BUCKET_NS                                                       \
	}

/* Takes one token; false when the burst is over. */
bool audit_rate_take(struct audit_rate *r, const struct timespec *now);

/* Counts one event held back. */
void audit_rate_hold_back(struct audit_rate *r, enum audit_verdict verdict,
                          const struct timespec *now);

/* True when a count is held and the last was sent AUDIT_SUMMARY_NS ago. */
bool audit_rate_summary_due(const struct audit_rate *r, const struct timespec *now);

/* Takes the count to send now (0: none held) and starts a new interval. */
unsigned long audit_rate_take_count(struct audit_rate *r, const struct timespec *now);

#endif
