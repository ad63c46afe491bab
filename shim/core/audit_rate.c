/*
 * The audit rate limit (audit_rate.h): pure arithmetic on the caller's
 * state and clock, under the audit lock.
 */
#include "audit_rate.h"

bool audit_rate_take(struct audit_rate *r, const struct timespec *now)
{
	long long elapsed;

	if (r->clock_started) {
		elapsed = audit_elapsed_ns(&r->last, now);
		if (elapsed < 0) {
			elapsed = 0; /* not monotonic: keep the older time */
		} else {
			r->last = *now;
		}
		r->credit_ns =
		    elapsed >= AUDIT_BUCKET_NS ? AUDIT_BUCKET_NS : r->credit_ns + elapsed;
		if (r->credit_ns > AUDIT_BUCKET_NS) {
			r->credit_ns = AUDIT_BUCKET_NS;
		}
	} else {
		r->last = *now;
		r->clock_started = true;
	}
	if (r->credit_ns < AUDIT_TOKEN_NS) {
		return false;
	}
	r->credit_ns -= AUDIT_TOKEN_NS;
	return true;
}

/* The gravest verdict wins: a count that holds one block is a block. */
static int verdict_rank(enum audit_verdict v)
{
	switch (v) {
	case AUDIT_VERDICT_ALLOW:
		return 0;
	case AUDIT_VERDICT_AUDIT:
		return 1;
	case AUDIT_VERDICT_BLOCK:
	default:
		return 2;
	}
}

void audit_rate_hold_back(struct audit_rate *r, enum audit_verdict verdict,
                          const struct timespec *now)
{
	if (r->suppressed == 0) {
		r->summary_at = *now; /* the first count goes one interval later */
		r->suppressed_verdict = verdict;
	} else if (verdict_rank(verdict) > verdict_rank(r->suppressed_verdict)) {
		r->suppressed_verdict = verdict;
	}
	r->suppressed++;
}

bool audit_rate_summary_due(const struct audit_rate *r, const struct timespec *now)
{
	return r->suppressed > 0 && audit_elapsed_ns(&r->summary_at, now) >= AUDIT_SUMMARY_NS;
}

unsigned long audit_rate_take_count(struct audit_rate *r, const struct timespec *now)
{
	unsigned long count = r->suppressed;

	r->suppressed = 0;
	r->summary_at = *now;
	return count;
}
