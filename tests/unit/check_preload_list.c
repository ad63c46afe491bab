/*
 * common/preload_list.[ch]: LD_PRELOAD's entries as the loader reads them
 * (ld.so(8): separated by spaces or colons). The shim decides from them
 * whether a child still loads it, and tlsguard run whether to put it first.
 */
#include <check.h>
#include <stddef.h>
#include <string.h>

#include "check_run.h"
#include "preload_list.h"

struct split_case {
	const char *value;
	const char *want[5]; /* the entries, NULL-terminated */
};

static const struct split_case split_cases[] = {
    /* one entry */
    {"/lib/a.so", {"/lib/a.so", NULL}},
    /* colons */
    {"/lib/a.so:/lib/b.so", {"/lib/a.so", "/lib/b.so", NULL}},
    /* spaces, and both mixed */
    {"/lib/a.so /lib/b.so:/lib/c.so", {"/lib/a.so", "/lib/b.so", "/lib/c.so", NULL}},
    /* empty entries (leading, doubled, trailing separators) are skipped */
    {"::/lib/a.so  :: /lib/b.so: ", {"/lib/a.so", "/lib/b.so", NULL}},
    /* only separators, and nothing */
    {" : :", {NULL}},
    {"", {NULL}},
    /* a relative name is an entry like any other */
    {"libtlsguard.so", {"libtlsguard.so", NULL}},
    /* a tab is not a separator (the loader's are space and colon only) */
    {"/lib/a.so\t/lib/b.so", {"/lib/a.so\t/lib/b.so", NULL}},
};

START_TEST(test_split)
{
	const struct split_case *tc = &split_cases[_i];
	const char *cursor = tc->value, *entry;
	size_t len, n = 0;

	while (preload_list_next(&cursor, &entry, &len)) {
		ck_assert_msg(tc->want[n] != NULL, "\"%s\": more than %zu entries", tc->value, n);
		ck_assert_msg(len == strlen(tc->want[n]) && strncmp(entry, tc->want[n], len) == 0,
		              "\"%s\": entry %zu is \"%.*s\", want \"%s\"", tc->value, n, (int)len,
		              entry, tc->want[n]);
		n++;
	}
	ck_assert_msg(tc->want[n] == NULL, "\"%s\": only %zu entries", tc->value, n);
	/* at the end it stays at the end */
	ck_assert(!preload_list_next(&cursor, &entry, &len));
}
END_TEST

START_TEST(test_null)
{
	const char *cursor = NULL, *entry;
	size_t len;

	/* an unset LD_PRELOAD has no entries */
	ck_assert(!preload_list_next(&cursor, &entry, &len));
}
END_TEST

static Suite *preload_list_suite(void)
{
	Suite *s = suite_create("preload_list");
	TCase *tc = tcase_create("split");

	tcase_add_loop_test(tc, test_split, 0, sizeof(split_cases) / sizeof(split_cases[0]));
	tcase_add_test(tc, test_null);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(preload_list_suite());
}
