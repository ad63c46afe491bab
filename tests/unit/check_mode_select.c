/*
 * common/mode_select.[ch]: which mode is in force, the rule the shim enforces
 * with and tlsguard status reports. A wrong row is a program that switches
 * enforcement off through its environment when the policy forbids it, or a
 * typo that does so silently.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "check_run.h"
#include "mode_select.h"
#include "policy.h"

struct mode_case {
	const char *policy_mode; /* the file's mode = "..." */
	bool env_override;
	const char *env; /* TLSGUARD_MODE, NULL: unset */
	enum policy_mode want;
	bool want_invalid;
};

static const struct mode_case mode_cases[] = {
    /* unset: the policy's */
    {"enforce", true, NULL, POLICY_MODE_ENFORCE, false},
    {"audit", true, NULL, POLICY_MODE_AUDIT, false},
    /* allowed: the environment's */
    {"enforce", true, "audit", POLICY_MODE_AUDIT, false},
    {"enforce", true, "off", POLICY_MODE_OFF, false},
    {"off", true, "enforce", POLICY_MODE_ENFORCE, false},
    /* env_override = false: ignored, and not called a typo */
    {"enforce", false, "off", POLICY_MODE_ENFORCE, false},
    {"enforce", false, "bogus", POLICY_MODE_ENFORCE, false},
    /* a typo keeps the policy's mode and is reported */
    {"enforce", true, "of", POLICY_MODE_ENFORCE, true},
    {"audit", true, "OFF", POLICY_MODE_AUDIT, true},
    /* set but empty names no mode */
    {"enforce", true, "", POLICY_MODE_ENFORCE, true},
    /* trailing junk */
    {"enforce", true, "off ", POLICY_MODE_ENFORCE, true},
};

START_TEST(test_mode)
{
	const struct mode_case *tc = &mode_cases[_i];
	struct policy_error err = {0};
	struct policy *policy;
	bool invalid = !tc->want_invalid;
	char text[256];
	int n;

	n = snprintf(text, sizeof(text), "version = 1;\nmode = \"%s\";\nenv_override = %s;\n",
	             tc->policy_mode, tc->env_override ? "true" : "false");
	policy = policy_load_string(text, (size_t)n, "test.conf", &err);
	ck_assert_msg(policy != NULL, "%s", err.msg);
	ck_assert_int_eq(mode_in_force(policy, tc->env, &invalid), tc->want);
	ck_assert(invalid == tc->want_invalid);
	ck_assert_int_eq(mode_in_force(policy, tc->env, NULL), tc->want);
	policy_free(policy);
}
END_TEST

static Suite *mode_select_suite(void)
{
	Suite *s = suite_create("mode_select");
	TCase *tc = tcase_create("mode");

	tcase_add_loop_test(tc, test_mode, 0, sizeof(mode_cases) / sizeof(mode_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(mode_select_suite());
}
