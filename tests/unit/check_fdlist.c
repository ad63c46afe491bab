/*
 * TLSGUARD_FDS: the governed sockets a child inherits, named by socket
 * (SO_COOKIE or inode) rather than by descriptor number. Round trips, the
 * "*" marker when the list is cut, and hostile text a parent without the
 * shim (or a program editing its environment) could hand a child.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check_run.h"
#include "fdlist.h"

struct decode_case {
	const char *text;
	int want_n;       /* -1: refused as malformed */
	bool want_more;   /* ends with "*" (or more entries than room) */
	uint64_t want_id; /* of the first entry, when want_n > 0 */
	char want_kind;
	bool want_inbound;
};

static const struct decode_case decode_cases[] = {
    /* unset or empty: nothing inherited, nothing to scan for */
    {"", 0, false, 0, 0, false},
    /* one cookie, outbound */
    {"c1f:o", 1, false, 0x1f, 'c', false},
    /* an inode, inbound, next to a cookie */
    {"n2a:i,c3:o", 2, false, 0x2a, 'n', true},
    /* the largest 64-bit cookie */
    {"cffffffffffffffff:o", 1, false, UINT64_MAX, 'c', false},
    /* cut short by the parent: the rest are decided from their addresses */
    {"c1:o,*", 1, true, 1, 'c', false},
    /* only the marker */
    {"*", 0, true, 0, 0, false},
    /* the old format (descriptor numbers) is not a list of sockets */
    {"3:o,7:i", -1, false, 0, 0, false},
    /* 65 bits */
    {"c1ffffffffffffffff:o", -1, false, 0, 0, false},
    /* upper-case hex is not what a parent writes */
    {"cAB:o", -1, false, 0, 0, false},
    /* no id */
    {"c:o", -1, false, 0, 0, false},
    /* unknown direction */
    {"c1:x", -1, false, 0, 0, false},
    /* unknown kind */
    {"x1:o", -1, false, 0, 0, false},
    /* trailing comma */
    {"c1:o,", -1, false, 0, 0, false},
    /* the marker anywhere but last */
    {"*,c1:o", -1, false, 0, 0, false},
    /* junk after an entry */
    {"c1:oo", -1, false, 0, 0, false},
    /* a space */
    {"c1:o, c2:o", -1, false, 0, 0, false},
    /* a negative number */
    {"c-1:o", -1, false, 0, 0, false},
};

START_TEST(test_decode)
{
	const struct decode_case *tc = &decode_cases[_i];
	struct fdlist_entry e[8];
	bool more = !tc->want_more;
	int n = fdlist_decode(tc->text, e, 8, &more);

	ck_assert_msg(n == tc->want_n, "%s: want %d entries, got %d", tc->text, tc->want_n, n);
	if (n < 0) {
		return;
	}
	ck_assert_msg(more == tc->want_more, "%s: more", tc->text);
	if (n > 0) {
		ck_assert_msg(e[0].id == tc->want_id, "%s: id", tc->text);
		ck_assert_int_eq(e[0].kind, tc->want_kind);
		ck_assert(e[0].inbound == tc->want_inbound);
	}
}
END_TEST

/* What a parent writes, its child reads back the same, and finds by id. */
START_TEST(test_round_trip)
{
	const struct fdlist_entry in[] = {
	    {FDLIST_COOKIE, 0x1000, false},
	    {FDLIST_COOKIE, UINT64_MAX, true},
	    {FDLIST_INODE, 0, false},
	    {FDLIST_INODE, 123456789, true},
	};
	struct fdlist_entry out[8];
	char text[FDLIST_MAX + 1];
	bool more;
	size_t i;

	ck_assert_uint_eq(fdlist_encode(text, sizeof(text), in, 4), 4);
	ck_assert_str_eq(text, "c1000:o,cffffffffffffffff:i,n0:o,n75bcd15:i");
	ck_assert_int_eq(fdlist_decode(text, out, 8, &more), 4);
	ck_assert(!more);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(out[i].kind, in[i].kind);
		ck_assert(out[i].id == in[i].id);
		ck_assert(out[i].inbound == in[i].inbound);
	}
	ck_assert_ptr_eq(fdlist_find(out, 4, FDLIST_INODE, 123456789), &out[3]);
	/* the same number as a cookie is another socket */
	ck_assert_ptr_null(fdlist_find(out, 4, FDLIST_COOKIE, 123456789));
	ck_assert_ptr_null(fdlist_find(out, 4, FDLIST_COOKIE, 0x1001));
}
END_TEST

/* More sockets than the variable can hold: every entry written is whole, the
 * list ends with "*", and it still reads back. */
START_TEST(test_cut_short)
{
	static struct fdlist_entry in[1000];
	static struct fdlist_entry out[1000];
	char text[FDLIST_MAX + 1];
	size_t i, written;
	bool more;
	int n;

	for (i = 0; i < 1000; i++) {
		in[i] = (struct fdlist_entry){FDLIST_COOKIE, UINT64_MAX - i, i % 2 == 0};
	}
	written = fdlist_encode(text, sizeof(text), in, 1000);
	ck_assert_uint_gt(written, 100);
	ck_assert_uint_lt(written, 1000);
	ck_assert_uint_le(strlen(text), FDLIST_MAX);
	ck_assert_str_eq(text + strlen(text) - 2, ",*");
	n = fdlist_decode(text, out, 1000, &more);
	ck_assert_int_eq(n, (int)written);
	ck_assert(more);
	ck_assert(out[n - 1].id == in[n - 1].id);
}
END_TEST

/* A list with more entries than the reader has room for: the extra ones are
 * not dropped silently, they make the reader look at every socket. */
START_TEST(test_reader_room)
{
	struct fdlist_entry out[2];
	bool more;

	ck_assert_int_eq(fdlist_decode("c1:o,c2:o,c3:i", out, 2, &more), 2);
	ck_assert(more);
}
END_TEST

/* A buffer too small for even one entry gets only the marker. */
START_TEST(test_tiny_buffer)
{
	const struct fdlist_entry in[] = {{FDLIST_COOKIE, 1, false}};
	char text[8];
	bool more;

	ck_assert_uint_eq(fdlist_encode(text, sizeof(text), in, 1), 0);
	ck_assert_str_eq(text, "*");
	ck_assert_int_eq(fdlist_decode(text, NULL, 0, &more), 0);
	ck_assert(more);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fdlist");
	TCase *tc = tcase_create("fdlist");

	tcase_add_loop_test(tc, test_decode, 0,
	                    (int)(sizeof(decode_cases) / sizeof(decode_cases[0])));
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_cut_short);
	tcase_add_test(tc, test_reader_room);
	tcase_add_test(tc, test_tiny_buffer);
	suite_add_tcase(s, tc);
	return check_run(s);
}
