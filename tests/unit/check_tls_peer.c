/*
 * The library-neutral decisions both TLS layers share (shim/tls/peer.h): the
 * one name a certificate must carry, IP literals, and the pin match.
 */
#include <check.h>
#include <string.h>
#include <sys/socket.h>

#include "check_run.h"
#include "tls/peer.h"

static const struct name_case {
	const char *server_name; /* the rule's server_name, or NULL */
	const char *resolved;    /* the name the program resolved, or NULL */
	const char *sni;         /* the SNI the program set, or NULL */
	const char *peer;        /* the peer's address, or NULL */
	const char *want;
} name_cases[] = {
    /* the rule's server_name wins over everything the program says */
    {"api.internal.example", "localhost", "evil.example", "127.0.0.1", "api.internal.example"},
    /* the resolved name comes before the SNI: where it connected, not what it says */
    {NULL, "localhost", "evil.example", "127.0.0.1", "localhost"},
    /* an address it did not resolve: the SNI it sent */
    {NULL, NULL, "svc.example", "127.0.0.1", "svc.example"},
    {NULL, "", "svc.example", "127.0.0.1", "svc.example"},
    /* nothing but the address */
    {NULL, NULL, NULL, "127.0.0.1", "127.0.0.1"},
    {NULL, NULL, "", "::1", "::1"},
    /* nothing at all: no name, and the host check then fails closed elsewhere */
    {NULL, NULL, NULL, NULL, ""},
};

START_TEST(test_choose_name)
{
	const struct name_case *c = &name_cases[_i];
	struct policy_tls tls = {.server_name = c->server_name};
	struct policy_addr peer;
	char out[256];

	if (c->peer != NULL) {
		ck_assert_int_eq(policy_addr_parse(&peer, c->peer), 0);
	}
	memset(out, 'x', sizeof(out));
	tls_choose_name(&tls, c->resolved, c->sni, c->peer != NULL ? &peer : NULL, out,
	                sizeof(out));
	ck_assert_str_eq(out, c->want);
}
END_TEST

/* A name longer than the buffer is cut, never overflows, and stays a C string. */
START_TEST(test_choose_name_short_buffer)
{
	struct policy_tls tls = {.server_name = "a-rather-long-name.example"};
	char out[8];

	tls_choose_name(&tls, NULL, NULL, NULL, out, sizeof(out));
	ck_assert_str_eq(out, "a-rathe");
}
END_TEST

static const struct ip_case {
	const char *name;
	bool want;
} ip_cases[] = {
    {"127.0.0.1", true},        {"::1", true}, {"2001:db8::5", true}, {"localhost", false},
    {"1.2.3.4.example", false}, {"", false},   {NULL, false},         {"999.1.1.1", false},
};

START_TEST(test_name_is_ip)
{
	ck_assert_int_eq(tls_name_is_ip(ip_cases[_i].name), ip_cases[_i].want);
}
END_TEST

START_TEST(test_pin_match)
{
	static const uint8_t pins[2][POLICY_PIN_LEN] = {{1, 2, 3}, {9, 9, 9}};
	struct policy_tls none = {.npins = 0};
	struct policy_tls two = {.pins = pins, .npins = 2};
	uint8_t digest[POLICY_PIN_LEN] = {9, 9, 9};

	ck_assert(tls_pin_match(&two, digest));
	digest[POLICY_PIN_LEN - 1] = 1; /* one bit off at the end */
	ck_assert(!tls_pin_match(&two, digest));
	/* no pins: nothing matches (the callers skip the check then) */
	ck_assert(!tls_pin_match(&none, pins[0]));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("tls_peer");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_choose_name, 0, sizeof(name_cases) / sizeof(name_cases[0]));
	tcase_add_test(tc, test_choose_name_short_buffer);
	tcase_add_loop_test(tc, test_name_is_ip, 0, sizeof(ip_cases) / sizeof(ip_cases[0]));
	tcase_add_test(tc, test_pin_match);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
