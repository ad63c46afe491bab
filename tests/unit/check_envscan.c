/*
 * common/envscan.h: the libc-free environment lookup the shim reads its
 * start-up variables and a child's environment with. A wrong answer here
 * would let a program hand its child another policy, or drop the shim.
 */
#include <check.h>
#include <stdbool.h>
#include <stddef.h>

#include "check_run.h"
#include "envscan.h"

struct value_case {
	const char *env[5]; /* NULL-terminated */
	bool env_is_null;   /* look up in a NULL environment */
	const char *name;
	const char *want; /* NULL: not found */
};

static const struct value_case value_cases[] = {
    /* found among others */
    {{"PATH=/bin", "TLSGUARD_POLICY=/etc/p.conf", NULL}, false, "TLSGUARD_POLICY", "/etc/p.conf"},
    /* the first definition wins, as with getenv(3) */
    {{"TLSGUARD_MODE=enforce", "TLSGUARD_MODE=off", NULL}, false, "TLSGUARD_MODE", "enforce"},
    /* set but empty is set */
    {{"TLSGUARD_POLICY=", NULL}, false, "TLSGUARD_POLICY", ""},
    /* a longer name with the same start is another variable */
    {{"TLSGUARD_POLICYX=/evil", NULL}, false, "TLSGUARD_POLICY", NULL},
    /* a shorter name is another variable too */
    {{"TLSGUARD_POLIC=/evil", NULL}, false, "TLSGUARD_POLICY", NULL},
    /* an entry without '=' defines nothing */
    {{"TLSGUARD_POLICY", NULL}, false, "TLSGUARD_POLICY", NULL},
    /* the value may itself hold '=' */
    {{"LD_PRELOAD=/a=b.so", NULL}, false, "LD_PRELOAD", "/a=b.so"},
    /* names are case-sensitive */
    {{"tlsguard_policy=/evil", NULL}, false, "TLSGUARD_POLICY", NULL},
    /* an empty environment, and none at all */
    {{NULL}, false, "LD_PRELOAD", NULL},
    {{NULL}, true, "LD_PRELOAD", NULL},
};

START_TEST(test_value)
{
	const struct value_case *tc = &value_cases[_i];
	const char *got = envscan_value(tc->env_is_null ? NULL : (char *const *)tc->env, tc->name);

	if (tc->want == NULL) {
		ck_assert_msg(got == NULL, "%s: want unset, got \"%s\"", tc->name, got);
	} else {
		ck_assert_msg(got != NULL, "%s: want \"%s\", got unset", tc->name, tc->want);
		ck_assert_str_eq(got, tc->want);
	}
}
END_TEST

struct same_case {
	const char *a, *b;
	bool want;
};

static const struct same_case same_cases[] = {
    /* both unset */
    {NULL, NULL, true},
    /* unset differs from empty: the child must get the variable */
    {NULL, "", false},
    {"", NULL, false},
    {"", "", true},
    {"/etc/p.conf", "/etc/p.conf", true},
    /* a prefix is not equal */
    {"/etc/p.conf", "/etc/p.conf.evil", false},
    {"/etc/p.conf.evil", "/etc/p.conf", false},
};

START_TEST(test_same)
{
	const struct same_case *tc = &same_cases[_i];

	ck_assert_msg(envscan_same(tc->a, tc->b) == tc->want, "\"%s\" vs \"%s\"",
	              tc->a != NULL ? tc->a : "(null)", tc->b != NULL ? tc->b : "(null)");
}
END_TEST

static Suite *envscan_suite(void)
{
	Suite *s = suite_create("envscan");
	TCase *tc = tcase_create("lookup");

	tcase_add_loop_test(tc, test_value, 0, sizeof(value_cases) / sizeof(value_cases[0]));
	tcase_add_loop_test(tc, test_same, 0, sizeof(same_cases) / sizeof(same_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(envscan_suite());
}
