/*
 * How long the audit sender may wait for a full log socket (core/audit_wait.c):
 * a per-event allowance and a per-process budget that refills slowly with the
 * time that passes, so a stalled log daemon slows the program a little and
 * never hangs it.
 */
#ifndef TLSGUARD_AUDIT_WAIT_H
#define TLSGUARD_AUDIT_WAIT_H

#include <time.h>

#include "audit_internal.h"

struct audit_wait {
	long long budget_ns; /* what is left of the process's budget */
	struct timespec at;  /* when it was last refilled; zero: never */
};

#define AUDIT_WAIT_INIT                                                                            \
	{                                                                                          \
		.budget_ns = AUDIT_WAIT_BUDGET_NS                                                  \
	}

/* Refills the budget with the time passed since the last refill. */
void audit_wait_refill(struct audit_wait *w, const struct timespec *now);

/* What the next wait may last: the event's allowance left, or the budget's,
 * whichever is less (<= 0: no more waiting). */
long long audit_wait_allowed(const struct audit_wait *w, long long event_left_ns);

/* Charges a wait of waited_ns to the budget; returns what it counts as (a wait
 * that returns at once still costs), for the event's own allowance. */
long long audit_wait_charge(struct audit_wait *w, long long waited_ns);

#endif
