/*
 * The descriptor table (shim/core/conn.c): state follows dup, dies with close, never
 * leaks into a reused number, and copes with descriptor numbers far beyond the
 * first chunk. No preloading: the table is driven directly.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/conn_internal.h"
#include "check_run.h"

static struct policy_rule rule = {.index = 1, .action = POLICY_ACTION_REQUIRE_TLS};

static struct conn *track(int fd)
{
	struct conn *c = conn_new(false, &rule);

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(fdt_set(fd, c), 0);
	conn_release(c);
	return c;
}

struct range_case {
	int fd;
	int want_set; /* fdt_set's result */
};

static const struct range_case range_cases[] = {
    {0, 0},               /* the first slot */
    {1023, 0},            /* the end of the first chunk */
    {1024, 0},            /* the start of the second chunk */
    {100000, 0},          /* a program with 100,000 descriptors */
    {FDT_MAX - 1, 0},     /* the last trackable number */
    {FDT_MAX, -1},        /* beyond the table: the caller must refuse */
    {-1, -1},             /* never a descriptor */
    {-2147483647 - 1, -1} /* INT_MIN */
};

START_TEST(test_range)
{
	const struct range_case *tc = &range_cases[_i];
	struct conn *c = conn_new(false, &rule);

	ck_assert_int_eq(fdt_set(tc->fd, c), tc->want_set);
	if (tc->want_set == 0) {
		ck_assert_ptr_eq(fdt_peek(tc->fd), c);
		fdt_clear(tc->fd);
	}
	ck_assert_ptr_null(fdt_peek(tc->fd));
	conn_release(c);
}
END_TEST

/* The hot-path test may say "governed" for a number beyond the table that
 * shares its low bits with a governed one; the exact lookup never does. */
START_TEST(test_aliased_number_is_not_governed)
{
	track(5);
	ck_assert(fdt_governed(5));
	ck_assert_ptr_null(conn_acquire(FDT_MAX + 5));
	ck_assert_ptr_null(fdt_peek(FDT_MAX + 5));
	fdt_clear(5);
	ck_assert(!fdt_governed(5));
}
END_TEST

START_TEST(test_dup_shares_and_close_forgets)
{
	struct conn *c = track(40), *got;

	fdt_copy(40, 41);
	ck_assert_ptr_eq(fdt_peek(41), c);
	fdt_clear(40); /* the conn lives on through 41 */
	got = conn_acquire(41);
	ck_assert_ptr_eq(got, c);
	ck_assert_uint_eq(got->refs, 2); /* the table's and ours */
	conn_release(got);
	fdt_clear(41);
	ck_assert_ptr_null(fdt_peek(41));
}
END_TEST

/* A conn whose last reference goes is kept and handed out again, never taken
 * through the descriptor it left. */
START_TEST(test_released_conn_is_reused_not_reacquired)
{
	struct conn *c = track(60), *again;

	fdt_clear(60); /* the table held the last reference */
	ck_assert_ptr_null(conn_acquire(60));
	again = conn_new(true, &rule);
	ck_assert_ptr_eq(again, c);
	ck_assert_uint_eq(atomic_load(&again->refs), 1);
	ck_assert(again->inbound);
	ck_assert_ptr_null(conn_acquire(60)); /* not in the table: still nobody's */
	conn_release(again);
}
END_TEST

#define CHURN_ROUNDS 20000

static atomic_bool churn_done;

/* Readers take and drop the conn of fd 70 while it is replaced and cleared:
 * every conn they get is live and is one the table gave fd 70. */
static void *churn_reader(void *arg)
{
	uintptr_t got = 0, wrong = 0;
	struct conn *c;

	(void)arg;
	while (!atomic_load(&churn_done)) {
		if ((c = conn_acquire(70)) == NULL) {
			continue;
		}
		got++;
		wrong += atomic_load(&c->refs) == 0 || c->port != 70;
		conn_release(c);
	}
	return (void *)(wrong != 0 ? UINTPTR_MAX : got);
}

START_TEST(test_acquire_races_with_replace_and_clear)
{
	pthread_t readers[4];
	struct conn *c;
	uintptr_t got = 0;
	void *result;
	int i;

	atomic_store(&churn_done, false);
	for (i = 0; i < 4; i++) {
		pthread_create(&readers[i], NULL, churn_reader, NULL);
	}
	for (i = 0; i < CHURN_ROUNDS; i++) {
		c = conn_new(false, &rule);
		ck_assert_ptr_nonnull(c);
		c->port = 70;
		ck_assert_int_eq(fdt_set(70, c), 0);
		conn_release(c);
		if (i % 2 == 0) {
			fdt_clear(70);
		}
	}
	atomic_store(&churn_done, true);
	for (i = 0; i < 4; i++) {
		pthread_join(readers[i], &result);
		ck_assert((uintptr_t)result != UINTPTR_MAX);
		got += (uintptr_t)result;
	}
	fdt_clear(70);
	ck_assert_uint_gt(got, 0); /* the readers did meet conns */
}
END_TEST

START_TEST(test_copy_from_untracked_clears_target)
{
	track(50);
	fdt_copy(51, 50); /* dup2(untracked 51, 50) */
	ck_assert_ptr_null(fdt_peek(50));
}
END_TEST

START_TEST(test_clear_range_crosses_chunks)
{
	int fds[] = {1020, 1023, 1024, 2047, 5000};
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		track(fds[i]);
	}
	track(900);
	fdt_clear_range(1000, 4999);
	for (i = 0; i < 4; i++) {
		ck_assert_ptr_null(fdt_peek(fds[i]));
	}
	ck_assert_ptr_nonnull(fdt_peek(5000)); /* past the range */
	ck_assert_ptr_nonnull(fdt_peek(900));  /* before it */
	fdt_clear_range(0, ~0u);               /* closefrom(0) */
	ck_assert_ptr_null(fdt_peek(5000));
	ck_assert_ptr_null(fdt_peek(900));
}
END_TEST

START_TEST(test_stale_entry_is_recognised)
{
	int p[2], q[2];
	struct conn *c;

	ck_assert_int_eq(pipe(p), 0);
	track(p[1]);
	c = conn_acquire(p[1]); /* kept: this binary's close() is the shim's */
	conn_identify(c, p[1]);
	ck_assert(!conn_is_stale(c, p[1]));
	/* The number is closed behind the table's back and reused. */
	close(p[1]);
	close(p[0]);
	ck_assert_int_eq(pipe(q), 0);
	ck_assert(q[0] == p[1] || q[1] == p[1]);
	ck_assert(conn_is_stale(c, p[1]));
	conn_release(c);
	close(q[0]);
	close(q[1]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("conn");
	TCase *tc = tcase_create("table");

	tcase_add_loop_test(tc, test_range, 0, sizeof(range_cases) / sizeof(range_cases[0]));
	tcase_add_test(tc, test_aliased_number_is_not_governed);
	tcase_add_test(tc, test_dup_shares_and_close_forgets);
	tcase_add_test(tc, test_released_conn_is_reused_not_reacquired);
	tcase_add_test(tc, test_acquire_races_with_replace_and_clear);
	tcase_add_test(tc, test_copy_from_untracked_clears_target);
	tcase_add_test(tc, test_clear_range_crosses_chunks);
	tcase_add_test(tc, test_stale_entry_is_recognised);
	suite_add_tcase(s, tc);
	return check_run(s);
}
