/*
 * Which policy applies (policy_select): the rule the shim and the CLI share.
 * Unset means the default file, or the built-in policy when that file is
 * missing; set means that file; set but empty is an error (fail closed), never
 * the default.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "check_run.h"
#include "policy.h"

struct select_case {
	const char *env_policy; /* NULL: TLSGUARD_POLICY unset */
	int want_rc;
	const char *want_path;       /* when want_rc == 0 */
	bool want_builtin_on_enoent; /* a missing file means the built-in policy */
	bool want_builtin_on_eacces; /* an unreadable file means the built-in policy */
	const char *want_error;      /* a part of the message, when want_rc == -1 */
};

static const struct select_case select_cases[] = {
    /* unset: the default file, the built-in policy only when it is missing */
    {NULL, 0, POLICY_DEFAULT_PATH, true, false, NULL},
    /* set: that file, and a missing one is an error, not the default */
    {"/etc/tlsguard/db.conf", 0, "/etc/tlsguard/db.conf", false, false, NULL},
    /* a relative path is passed on: policy_open_file refuses it by name */
    {"policy.conf", 0, "policy.conf", false, false, NULL},
    /* the default file named explicitly: missing is an error then */
    {POLICY_DEFAULT_PATH, 0, POLICY_DEFAULT_PATH, false, false, NULL},
    /* set but empty: fail closed, the same message in the shim and the CLI */
    {"", -1, NULL, false, false, "TLSGUARD_POLICY is set but empty"},
};

START_TEST(test_select)
{
	const struct select_case *c = &select_cases[_i];
	struct policy_selection sel;
	struct policy_error err;
	int rc;

	memset(&err, 0, sizeof(err));
	err.sys_errno = 12345;
	rc = policy_select(c->env_policy, &sel, &err);
	ck_assert_int_eq(rc, c->want_rc);
	if (rc != 0) {
		ck_assert_ptr_nonnull(strstr(err.msg, c->want_error));
		ck_assert_int_eq(err.sys_errno, 0); /* not a failure that may pass */
		return;
	}
	ck_assert_str_eq(sel.path, c->want_path);
	ck_assert_int_eq(policy_select_builtin(&sel, ENOENT), c->want_builtin_on_enoent);
	ck_assert_int_eq(policy_select_builtin(&sel, EACCES), c->want_builtin_on_eacces);
	ck_assert(!policy_select_builtin(&sel, 0));
}
END_TEST

/* The error is what `tlsguard check` prints: it loads as nothing. */
START_TEST(test_empty_never_loads)
{
	struct policy_selection sel;
	struct policy_error err;

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(policy_select("", &sel, &err), -1);
	ck_assert_ptr_eq(strstr(err.msg, "OK"), NULL);
	ck_assert_ptr_nonnull(strstr(err.msg, "no policy path given"));
}
END_TEST

static Suite *policy_select_suite(void)
{
	Suite *s = suite_create("policy_select");
	TCase *tc = tcase_create("select");

	tcase_add_loop_test(tc, test_select, 0, sizeof(select_cases) / sizeof(select_cases[0]));
	tcase_add_test(tc, test_empty_never_loads);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(policy_select_suite());
}
