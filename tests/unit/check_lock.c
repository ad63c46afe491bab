/*
 * The lock of a governed connection (shim/core/lock.h): it excludes, and a thread
 * that sleeps on it is woken when it is given back.
 */
#include <check.h>
#include <pthread.h>
#include <sched.h>

#include "check_run.h"
#include "core/lock.h"

#define THREADS    4
#define INCREMENTS 200000

static struct lock shared = LOCK_INIT;
static volatile unsigned long counter; /* written only under the lock */

static void *increment(void *arg)
{
	unsigned long v;
	int i;

	(void)arg;
	for (i = 0; i < INCREMENTS; i++) {
		lock_take(&shared);
		v = counter; /* a read and a write apart: a second holder would lose one */
		sched_yield();
		counter = v + 1;
		lock_give(&shared);
	}
	return NULL;
}

/* Four threads, each adding 200,000 under the lock: none is lost. */
START_TEST(test_excludes)
{
	pthread_t t[THREADS];
	int i;

	counter = 0;
	for (i = 0; i < THREADS; i++) {
		ck_assert_int_eq(pthread_create(&t[i], NULL, increment, NULL), 0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
	}
	ck_assert_uint_eq(counter, (unsigned long)THREADS * INCREMENTS);
	ck_assert_uint_eq(atomic_load(&shared.state), LOCK_FREE);
}
END_TEST

static void *take_and_give(void *arg)
{
	struct lock *l = arg;

	lock_take(l);
	lock_give(l);
	return NULL;
}

/* A thread asleep on a held lock (its state says so) gets it once it is
 * given back: without the wake-up, the join below never returns and the
 * test times out. */
START_TEST(test_wakes_a_sleeper)
{
	struct lock l = LOCK_INIT;
	pthread_t t;

	lock_take(&l);
	ck_assert_int_eq(pthread_create(&t, NULL, take_and_give, &l), 0);
	while (atomic_load(&l.state) != LOCK_WAITED) {
		sched_yield();
	}
	lock_give(&l);
	pthread_join(t, NULL);
	ck_assert_uint_eq(atomic_load(&l.state), LOCK_FREE);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lock");
	TCase *tc = tcase_create("lock");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_excludes);
	tcase_add_test(tc, test_wakes_a_sleeper);
	suite_add_tcase(s, tc);
	return check_run(s);
}
