/*
 * The send bookkeeping of governed sockets (shim/sock/decide_send.c): what a check saw is
 * committed as is only when nothing moved the stream in between.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/conn_internal.h"
#include "sock/decide.h"
#include "check_run.h"

static const struct policy_rule rule = {
    .index = 1,
    .action = POLICY_ACTION_REQUIRE_TLS,
    .starttls = POLICY_STARTTLS_NONE,
    .tls = {.unmanaged = POLICY_UNMANAGED_ALLOW},
};

/* A minimal ClientHello record: one cipher suite, null compression, no
 * extensions. */
static const uint8_t hello[] = {
    0x16, 0x03, 0x01, 0x00, 0x2d, 0x01, 0x00, 0x00, 0x29, 0x03, 0x03, 0xa0, 0xa1,
    0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae,
    0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb,
    0xbc, 0xbd, 0xbe, 0xbf, 0x00, 0x00, 0x02, 0x13, 0x01, 0x01, 0x00,
};

/* One end of a new socketpair in sv, governed by rule. */
static struct conn *governed(int sv[2])
{
	struct conn *c;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c = conn_new(false, &rule);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(conn_identify(c, sv[0]), 0);
	ck_assert_int_eq(fdt_set(sv[0], c), 0);
	return c;
}

static void ungoverned(struct conn *c, int sv[2])
{
	conn_release(c);
	fdt_clear(sv[0]);
	close(sv[0]);
	close(sv[1]);
}

/* Two threads check a send each from the same state (a ClientHello, and an
 * alert: a client giving up), then both commit: the second commit reads its
 * bytes again instead of taking what it saw, or the first record would be lost
 * from the count. */
START_TEST(test_second_commit_rereads)
{
	static const uint8_t alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00};
	struct iovec iov = {(void *)hello, sizeof(hello)};
	struct iovec iov2 = {(void *)alert, sizeof(alert)};
	struct send_ticket first, second;
	int sv[2];
	struct conn *c;

	c = governed(sv);
	ck_assert_int_eq(decide_send_check(sv[0], c, &iov, 1, &first), 0);
	ck_assert_int_eq(decide_send_check(sv[0], c, &iov2, 1, &second), 0);
	decide_send_commit(c, &iov, 1, sizeof(hello), &first);
	ck_assert_uint_eq(c->stream.out.records, 1);
	decide_send_commit(c, &iov2, 1, sizeof(alert), &second);
	ck_assert_uint_eq(c->stream.out.records, 2);
	ungoverned(c, sv);
}
END_TEST

/* A call that sent part of what was checked commits only that part. */
START_TEST(test_partial_send_commits_the_part)
{
	struct iovec iov = {(void *)hello, sizeof(hello)};
	struct send_ticket t;
	int sv[2];
	struct conn *c;

	c = governed(sv);
	ck_assert_int_eq(decide_send_check(sv[0], c, &iov, 1, &t), 0);
	decide_send_commit(c, &iov, 1, 3, &t); /* three bytes of the header went */
	ck_assert_uint_eq(c->stream.out.records, 0);
	ck_assert_uint_eq(c->stream.out.header_len, 3);
	ungoverned(c, sv);
}
END_TEST

/* A send that ends inside the ClientHello is refused before any of it leaves:
 * the hello is judged whole (its structure and its random), or not at all. */
START_TEST(test_partial_hello_refused)
{
	struct iovec iov = {(void *)hello, sizeof(hello) - 1};
	struct send_ticket t;
	char byte;
	int sv[2];
	struct conn *c;

	c = governed(sv);
	ck_assert_int_eq(decide_send_check(sv[0], c, &iov, 1, &t), -1);
	ck_assert_int_eq(errno, EACCES);
	ck_assert(c->blocked);
	/* the socket was shut down: the peer reads end of file, not a byte */
	ck_assert_int_eq(read(sv[1], &byte, 1), 0);
	ungoverned(c, sv);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("decide");
	TCase *tc = tcase_create("send");

	tcase_add_test(tc, test_second_commit_rereads);
	tcase_add_test(tc, test_partial_send_commits_the_part);
	tcase_add_test(tc, test_partial_hello_refused);
	suite_add_tcase(s, tc);
	return check_run(s);
}
