/*
 * The GnuTLS layer's side tables (shim/tls/gnutls/state.h): GnuTLS has no
 * ex_data, so the shim keys its state by the session pointer, and remembers
 * the program's verify functions per credentials and its priority strings per
 * cache. No GnuTLS call is made: the keys are only compared.
 */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "check_run.h"
#include "tls/gnutls/state.h"

#define SESSIONS 1000

static gnutls_session_t fake_session(uintptr_t i)
{
	return (gnutls_session_t)(0x100000 + i * 0x400); /* malloc-like spacing */
}

/* Made once, found again, the same object; dropped, gone; a dropped one does
 * not take its neighbours (same bucket) with it. */
START_TEST(test_make_get_drop)
{
	struct gtls_state *st[SESSIONS];
	uintptr_t i;

	ck_assert_ptr_null(gtls_state_get(fake_session(0)));
	for (i = 0; i < SESSIONS; i++) {
		st[i] = gtls_state_make(fake_session(i));
		ck_assert_ptr_nonnull(st[i]);
		ck_assert_int_eq(st[i]->fd, -1); /* secure default: no descriptor */
		ck_assert(!st[i]->failed && !st[i]->governed && !st[i]->applied);
	}
	for (i = 0; i < SESSIONS; i++) {
		ck_assert_ptr_eq(gtls_state_make(fake_session(i)), st[i]);
		ck_assert_ptr_eq(gtls_state_get(fake_session(i)), st[i]);
	}
	for (i = 0; i < SESSIONS; i += 2) {
		ck_assert_ptr_eq(gtls_state_drop(fake_session(i)), st[i]);
		free(st[i]);
	}
	for (i = 0; i < SESSIONS; i++) {
		if (i % 2 == 0) {
			ck_assert_ptr_null(gtls_state_get(fake_session(i)));
			ck_assert_ptr_null(gtls_state_drop(fake_session(i)));
		} else {
			ck_assert_ptr_eq(gtls_state_get(fake_session(i)), st[i]);
		}
	}
	for (i = 1; i < SESSIONS; i += 2) {
		free(gtls_state_drop(fake_session(i)));
	}
	ck_assert_ptr_null(gtls_state_get(NULL));
	ck_assert_ptr_null(gtls_state_make(NULL));
}
END_TEST

/* A refused session counts until it is dropped: the record fast path keys on
 * the count. */
START_TEST(test_failed_count)
{
	struct gtls_state *st = gtls_state_make(fake_session(7));
	size_t before = atomic_load(&gtls_failed_sessions);

	ck_assert_ptr_nonnull(st);
	st->failed = true;
	atomic_fetch_add(&gtls_failed_sessions, 1); /* as verdict.c does */
	free(gtls_state_drop(fake_session(7)));
	ck_assert_uint_eq(atomic_load(&gtls_failed_sessions), before);
}
END_TEST

static int fn_a(gnutls_session_t s)
{
	(void)s;
	return 0;
}

static int fn_b(gnutls_session_t s)
{
	(void)s;
	return -1;
}

START_TEST(test_cred_verify)
{
	int cred1, cred2;

	ck_assert_ptr_null(gtls_cred_verify_get(&cred1));
	gtls_cred_verify_set(&cred1, fn_a);
	gtls_cred_verify_set(&cred2, fn_b);
	ck_assert_ptr_eq(gtls_cred_verify_get(&cred1), fn_a);
	ck_assert_ptr_eq(gtls_cred_verify_get(&cred2), fn_b);
	/* set again: replaced, not duplicated */
	gtls_cred_verify_set(&cred1, fn_b);
	ck_assert_ptr_eq(gtls_cred_verify_get(&cred1), fn_b);
	/* freed credentials: a new one at the same address starts without */
	gtls_cred_verify_forget(&cred1);
	ck_assert_ptr_null(gtls_cred_verify_get(&cred1));
	ck_assert_ptr_eq(gtls_cred_verify_get(&cred2), fn_b);
	gtls_cred_verify_forget(&cred2);
	ck_assert_ptr_null(gtls_cred_verify_get(NULL));
}
END_TEST

static const struct prio_case {
	const char *prio;
	unsigned flags;
	bool want_default; /* re-set on GnuTLS's default (append) */
} prio_cases[] = {
    {"NORMAL:-VERS-TLS1.3", 0, false},
    /* NULL: the default priorities */
    {NULL, 0, true},
    /* gnutls_priority_init2 appending to the default */
    {"-CIPHER-ALL:+AES-256-GCM", GNUTLS_PRIORITY_INIT_DEF_APPEND, true},
    /* "" is a string of its own, kept as given */
    {"", 0, false},
};

START_TEST(test_prio_cache)
{
	const struct prio_case *c = &prio_cases[_i];
	gnutls_priority_t cache = (gnutls_priority_t)(uintptr_t)(0x7000 + _i * 16);
	struct gtls_state *st = gtls_state_make(fake_session(5000 + _i));

	ck_assert_ptr_nonnull(st);
	gtls_prio_cache_set(cache, c->prio, c->flags);
	gtls_prio_cache_apply(cache, st);
	ck_assert(st->have_prog_prio);
	ck_assert_int_eq(st->prog_prio_default, c->want_default);
	if (c->prio == NULL) {
		ck_assert_ptr_null(st->prog_prio);
	} else {
		ck_assert_str_eq(st->prog_prio, c->prio);
		ck_assert_ptr_ne(st->prog_prio, c->prio); /* a copy: the program may free its own */
	}
	/* a forgotten cache is unknown: the session knows no string then */
	gtls_prio_cache_forget(cache);
	gtls_prio_cache_apply(cache, st);
	ck_assert(!st->have_prog_prio);
	free(gtls_state_drop(fake_session(5000 + _i)));
}
END_TEST

START_TEST(test_prio_record)
{
	struct gtls_state *st = gtls_state_make(fake_session(6000));

	ck_assert_ptr_nonnull(st);
	gtls_prio_record(st, "PERFORMANCE", false, 0);
	ck_assert(st->have_prog_prio && !st->prog_prio_default);
	ck_assert_str_eq(st->prog_prio, "PERFORMANCE");
	/* set again (gnutls_set_default_priority_append): the last one counts */
	gtls_prio_record(st, "+SRP", true, 0);
	ck_assert(st->prog_prio_default);
	ck_assert_str_eq(st->prog_prio, "+SRP");
	free(gtls_state_drop(fake_session(6000))); /* the copy goes with the state */
}
END_TEST

/* Threads making, finding and dropping their own sessions at once. */
static void *churn(void *arg)
{
	uintptr_t base = (uintptr_t)arg, i;
	int round;

	for (round = 0; round < 50; round++) {
		for (i = 0; i < 64; i++) {
			if (gtls_state_make(fake_session(base + i)) == NULL) {
				return (void *)1;
			}
		}
		for (i = 0; i < 64; i++) {
			struct gtls_state *st = gtls_state_get(fake_session(base + i));

			if (st == NULL || st->session != fake_session(base + i)) {
				return (void *)1;
			}
			free(gtls_state_drop(fake_session(base + i)));
		}
	}
	return NULL;
}

START_TEST(test_threads)
{
	pthread_t t[4];
	void *ret;
	int i;

	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(
		    pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(10000 + i * 100)), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], &ret);
		ck_assert_ptr_null(ret);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("gtls_state");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_make_get_drop);
	tcase_add_test(tc, test_failed_count);
	tcase_add_test(tc, test_cred_verify);
	tcase_add_loop_test(tc, test_prio_cache, 0, sizeof(prio_cases) / sizeof(prio_cases[0]));
	tcase_add_test(tc, test_prio_record);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
