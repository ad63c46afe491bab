/*
 * The audit sender's wait budget (audit_wait.h), under the audit lock.
 */
#include "audit_internal.h"
#include "audit_wait.h"

/* The least a wait is charged: a poll() that returns at once still costs. */
#define WAIT_MIN_CHARGE_NS 100000LL

void audit_wait_refill(struct audit_wait *w, const struct timespec *now)
{
	long long passed;

	if (w->at.tv_sec == 0 && w->at.tv_nsec == 0) {
		w->at = *now;
		return;
	}
	passed = audit_elapsed_ns(&w->at, now);
	if (passed <= 0) {
		return;
	}
	w->at = *now;
	w->budget_ns += passed / 1000 * AUDIT_WAIT_REFILL_PERMILLE;
	if (w->budget_ns > AUDIT_WAIT_BUDGET_NS) {
		w->budget_ns = AUDIT_WAIT_BUDGET_NS;
	}
}

long long audit_wait_allowed(const struct audit_wait *w, long long event_left_ns)
{
	return event_left_ns < w->budget_ns ? event_left_ns : w->budget_ns;
}

long long audit_wait_charge(struct audit_wait *w, long long waited_ns)
{
	if (waited_ns < WAIT_MIN_CHARGE_NS) {
		waited_ns = WAIT_MIN_CHARGE_NS;
	}
	w->budget_ns = w->budget_ns > waited_ns ? w->budget_ns - waited_ns : 0;
	return waited_ns;
}
