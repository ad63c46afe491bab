/*
 * The environment a governed parent gives its child (shim/exec/child_env.c):
 * LD_PRELOAD kept or put back first, TLSGUARD_POLICY and TLSGUARD_MODE as
 * the parent started, TLSGUARD_FDS naming the governed sockets, whatever the
 * program did to its environment before exec. A wrong row here is a child
 * that runs without the shim, or under a policy the program chose.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check_run.h"
#include "exec/child_env.h"
#include "fdlist.h"

#define SHIM "/opt/tlsguard/libtlsguard.so"

static const char *shim_path(void)
{
	return SHIM;
}

static const char *no_shim_path(void)
{
	return "";
}

/* A real file reached by another path (/bin is a link to usr/bin). */
static const char *env_binary_path(void)
{
	return "/usr/bin/env";
}

struct env_case {
	const char *(*shim_path)(void);
	const char *start_preload, *policy, *mode, *fds; /* what the child must get */
	const char *env[8];                              /* the program's, NULL-terminated */
	bool env_is_null;                                /* envp itself NULL */
	const char *want[8]; /* the child's, in order; want[0] NULL: left as it is */
};

#define STARTED SHIM, "/etc/p.conf"
/* The two entries a child of that parent must hold. */
#define AS_STARTED "LD_PRELOAD=" SHIM, "TLSGUARD_POLICY=/etc/p.conf"

static const struct env_case env_cases[] = {
    /* nothing touched: the child's environment is the program's own */
    {shim_path, STARTED, NULL, NULL, {AS_STARTED, NULL}, false, {NULL}},
    /* env -i: everything put back, what the program set kept after */
    {shim_path,
     STARTED,
     "audit",
     NULL,
     {"PATH=/bin", NULL},
     false,
     {AS_STARTED, "TLSGUARD_MODE=audit", "PATH=/bin", NULL}},
    /* execve(path, argv, NULL) */
    {shim_path, STARTED, NULL, NULL, {NULL}, true, {AS_STARTED, NULL}},
    /* LD_PRELOAD replaced by another library: the shim goes first, the other stays */
    {shim_path,
     STARTED,
     NULL,
     NULL,
     {"LD_PRELOAD=/lib/other.so", "TLSGUARD_POLICY=/etc/p.conf", NULL},
     false,
     {"LD_PRELOAD=" SHIM ":/lib/other.so", "TLSGUARD_POLICY=/etc/p.conf", NULL}},
    /* another string that still loads the shim (space-separated) is kept */
    {shim_path,
     STARTED,
     NULL,
     NULL,
     {"LD_PRELOAD=/lib/other.so " SHIM, "TLSGUARD_POLICY=/etc/p.conf", NULL},
     false,
     {NULL}},
    /* ... and one that names it by another path (a link, "..") */
    {env_binary_path,
     "/x.so",
     "/etc/p.conf",
     NULL,
     NULL,
     {"LD_PRELOAD=/lib/a.so:/bin/../bin/env", "TLSGUARD_POLICY=/etc/p.conf", NULL},
     false,
     {NULL}},
    /* LD_PRELOAD set but empty */
    {shim_path,
     STARTED,
     NULL,
     NULL,
     {"LD_PRELOAD=", "TLSGUARD_POLICY=/etc/p.conf", NULL},
     false,
     {AS_STARTED, NULL}},
    /* the shim's own path unknown: LD_PRELOAD left alone, the rest carried */
    {no_shim_path,
     STARTED,
     NULL,
     NULL,
     {"HOME=/root", NULL},
     false,
     {"TLSGUARD_POLICY=/etc/p.conf", "HOME=/root", NULL}},
    /* the program points its child at another policy: refused, replaced */
    {shim_path,
     STARTED,
     NULL,
     NULL,
     {"TLSGUARD_POLICY=/tmp/evil.conf", "LD_PRELOAD=" SHIM, NULL},
     false,
     {"TLSGUARD_POLICY=/etc/p.conf", "LD_PRELOAD=" SHIM, NULL}},
    /* ... twice: no copy of the program's survives */
    {shim_path,
     STARTED,
     NULL,
     NULL,
     {"TLSGUARD_POLICY=/tmp/a.conf", "LD_PRELOAD=" SHIM, "TLSGUARD_POLICY=/tmp/b.conf", NULL},
     false,
     {"TLSGUARD_POLICY=/etc/p.conf", "LD_PRELOAD=" SHIM, NULL}},
    /* the program switches enforcement off for its child: the mode is removed */
    {shim_path,
     STARTED,
     NULL,
     NULL,
     {AS_STARTED, "TLSGUARD_MODE=off", NULL},
     false,
     {AS_STARTED, NULL}},
    /* names that only look alike are the program's own */
    {shim_path,
     STARTED,
     NULL,
     NULL,
     {"LD_PRELOAD=" SHIM, "TLSGUARD_POLICYX=1", "TLSGUARD_POLICY", "TLSGUARD_POLICY=/etc/p.conf",
      NULL},
     false,
     {NULL}},
    /* governed sockets: TLSGUARD_FDS carried */
    {shim_path,
     STARTED,
     NULL,
     "c1f:o,c2a:i",
     {AS_STARTED, NULL},
     false,
     {"TLSGUARD_FDS=c1f:o,c2a:i", AS_STARTED, NULL}},
    /* a forged TLSGUARD_FDS is replaced by the parent's own list */
    {shim_path,
     STARTED,
     NULL,
     "c1f:o",
     {"TLSGUARD_FDS=*", AS_STARTED, NULL},
     false,
     {"TLSGUARD_FDS=c1f:o", AS_STARTED, NULL}},
    /* ... and a stale one (no governed socket now) removed */
    {shim_path,
     STARTED,
     NULL,
     NULL,
     {"TLSGUARD_FDS=c1f:o", AS_STARTED, NULL},
     false,
     {AS_STARTED, NULL}},
    /* no TLSGUARD_POLICY at start (default policy): the program's is removed */
    {shim_path,
     SHIM,
     NULL,
     NULL,
     NULL,
     {"LD_PRELOAD=" SHIM, "TLSGUARD_POLICY=/tmp/evil.conf", NULL},
     false,
     {"LD_PRELOAD=" SHIM, NULL}},
};

/* The child's environment as the exec wrappers would pass it. */
static char *const *child_envp(const struct child_env *ce, char *const *envp)
{
	return ce->envp != NULL ? ce->envp : envp;
}

START_TEST(test_child_env)
{
	const struct env_case *tc = &env_cases[_i];
	const struct child_env_want want = {
	    .shim_path = tc->shim_path,
	    .start_preload = tc->start_preload,
	    .policy = tc->policy,
	    .mode = tc->mode,
	    .fds = tc->fds,
	};
	char *const *envp = tc->env_is_null ? NULL : (char *const *)tc->env;
	char *const *got;
	struct child_env ce;
	size_t i;

	ck_assert_int_eq(child_env_edits(&ce, envp, &want), 0);
	if (tc->want[0] == NULL) {
		ck_assert_msg(ce.nedits == 0, "row %d: %d edits for an environment already right",
		              _i, ce.nedits);
		child_env_free(&ce);
		return;
	}
	ck_assert_int_eq(child_env_apply(&ce, envp), 0);
	got = child_envp(&ce, envp);
	for (i = 0; tc->want[i] != NULL; i++) {
		ck_assert_msg(got[i] != NULL, "row %d: entry %zu missing, want \"%s\"", _i, i,
		              tc->want[i]);
		ck_assert_msg(strcmp(got[i], tc->want[i]) == 0,
		              "row %d: entry %zu is \"%s\", want \"%s\"", _i, i, got[i],
		              tc->want[i]);
	}
	ck_assert_msg(got[i] == NULL, "row %d: extra entry \"%s\"", _i, got[i]);
	child_env_free(&ce);
}
END_TEST

/* The list a parent writes reaches the child whole and decodes to the same
 * sockets; one too long for TLSGUARD_FDS ends with "*", so the child decides
 * the rest from their addresses. */
START_TEST(test_fds_round_trip)
{
	static struct fdlist_entry sent[600], got[600];
	static char list[FDLIST_MAX + 1];
	char *const envp[] = {"LD_PRELOAD=" SHIM, NULL};
	const char *value = NULL;
	struct child_env_want want = {shim_path, SHIM, NULL, NULL, list};
	struct child_env ce;
	size_t written, i;
	bool more;
	int n;

	for (i = 0; i < 600; i++) {
		sent[i] = (struct fdlist_entry){FDLIST_COOKIE, 0x1000000000ULL + i, i % 2 == 0};
	}
	written = fdlist_encode(list, sizeof(list), sent, 600);
	ck_assert_uint_lt(written, 600);
	ck_assert_int_eq(child_env_edits(&ce, envp, &want), 0);
	ck_assert_int_eq(child_env_apply(&ce, envp), 0);
	for (i = 0; ce.envp[i] != NULL; i++) {
		if (strncmp(ce.envp[i], "TLSGUARD_FDS=", 13) == 0) {
			value = ce.envp[i] + 13;
		}
	}
	ck_assert_ptr_nonnull(value);
	n = fdlist_decode(value, got, 600, &more);
	ck_assert_int_eq(n, (int)written);
	ck_assert(more);
	for (i = 0; i < written; i++) {
		ck_assert(got[i].id == sent[i].id && got[i].inbound == sent[i].inbound);
	}
	child_env_free(&ce);
}
END_TEST

/* system() and popen() edit this process's own environment: the edits name
 * what to set and what to unset, never an "NAME=" entry. */
START_TEST(test_edits_named)
{
	char *const envp[] = {"TLSGUARD_MODE=off", "TLSGUARD_POLICY=/tmp/evil.conf", NULL};
	const struct child_env_want want = {shim_path, SHIM, "/etc/p.conf", NULL, NULL};
	struct child_env ce;
	bool set_policy = false, unset_mode = false;
	int i;

	ck_assert_int_eq(child_env_edits(&ce, envp, &want), 0);
	for (i = 0; i < ce.nedits; i++) {
		if (strcmp(ce.edits[i].name, "TLSGUARD_POLICY") == 0) {
			set_policy = ce.edits[i].kind == ENV_EDIT_SET &&
			             strcmp(ce.edits[i].value, "/etc/p.conf") == 0;
		}
		if (strcmp(ce.edits[i].name, "TLSGUARD_MODE") == 0) {
			unset_mode =
			    ce.edits[i].kind == ENV_EDIT_UNSET && ce.edits[i].entry == NULL;
		}
	}
	ck_assert(set_policy);
	ck_assert(unset_mode);
	child_env_free(&ce);
}
END_TEST

static Suite *exec_env_suite(void)
{
	Suite *s = suite_create("exec_env");
	TCase *tc = tcase_create("child");

	tcase_add_loop_test(tc, test_child_env, 0, sizeof(env_cases) / sizeof(env_cases[0]));
	tcase_add_test(tc, test_fds_round_trip);
	tcase_add_test(tc, test_edits_named);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(exec_env_suite());
}
