/*
 * The outbound decision cache (shim/core/match_cache.c) must answer exactly as
 * policy_match_out does, for every destination, however often slots collide.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/match_cache.h"
#include "check_run.h"

static struct policy *policy;

static void setup(void)
{
	static const char text[] =
	    "version = 1;\n"
	    "outbound = { default = \"deny\"; rules = (\n"
	    "  { to = \"10.0.0.0/8\"; port = 443; action = \"require_tls\"; },\n"
	    "  { to = \"10.1.2.3\"; action = \"allow\"; },\n"
	    "  { to = \"192.168.0.0/16\"; port = \"1-1024\"; action = \"allow\"; },\n"
	    "  { to = \"*.example.com\"; action = \"allow\"; },\n"
	    "  { port = 53; proto = \"udp\"; action = \"deny\"; }\n"
	    "); };\n";
	struct policy_error err = {0};

	policy = policy_load_string(text, sizeof(text) - 1, "cache-test", &err);
	ck_assert_msg(policy != NULL, "%s", err.msg);
}

static void teardown(void)
{
	policy_free(policy);
}

static struct policy_addr v4(uint32_t a)
{
	struct policy_addr addr = {.family = AF_INET};

	addr.bytes[0] = (uint8_t)(a >> 24);
	addr.bytes[1] = (uint8_t)(a >> 16);
	addr.bytes[2] = (uint8_t)(a >> 8);
	addr.bytes[3] = (uint8_t)a;
	return addr;
}

/* Far more destinations than slots, each asked several times, in a shuffled
 * order: every answer must be the matcher's. */
START_TEST(test_same_answers_as_the_matcher)
{
	static const uint32_t bases[] = {0x0a000000, 0x0a010203, 0xc0a80000, 0x08080808};
	unsigned int round, i, seed = 12345;
	struct policy_addr addr;
	uint16_t port;
	enum policy_proto proto;

	for (round = 0; round < 20000; round++) {
		seed = seed * 1103515245u + 12345u;
		i = (seed >> 8) % 4;
		addr = v4(bases[i] + ((seed >> 12) & 0x3ff));
		port = (uint16_t)(((seed >> 4) % 3 == 0) ? 443 : (seed >> 16) % 2000);
		proto = (seed & 1) ? POLICY_PROTO_UDP : POLICY_PROTO_TCP;
		ck_assert_ptr_eq(match_cache_out(policy, &addr, port, proto, NULL),
		                 policy_match_out(policy, &addr, port, proto, NULL));
	}
}
END_TEST

/* A host name or an IPv6 address is never served from the cache. */
START_TEST(test_names_and_ipv6_bypass_the_cache)
{
	struct policy_addr addr = v4(0x08080808), six = {.family = AF_INET6};

	six.bytes[15] = 1;
	/* Cache the address-only answer (deny), then ask with a name that allows. */
	ck_assert_int_eq(match_cache_out(policy, &addr, 443, POLICY_PROTO_TCP, NULL)->action,
	                 POLICY_ACTION_DENY);
	ck_assert_int_eq(
	    match_cache_out(policy, &addr, 443, POLICY_PROTO_TCP, "www.example.com")->action,
	    POLICY_ACTION_ALLOW);
	ck_assert_ptr_eq(match_cache_out(policy, &six, 443, POLICY_PROTO_TCP, NULL),
	                 policy_match_out(policy, &six, 443, POLICY_PROTO_TCP, NULL));
}
END_TEST

static void *hammer(void *arg)
{
	unsigned int i, seed = (unsigned int)(uintptr_t)arg;
	struct policy_addr addr;
	long wrong = 0;

	for (i = 0; i < 50000; i++) {
		seed = seed * 1103515245u + 12345u;
		addr = v4(0x0a000000 + ((seed >> 8) & 0x1ff));
		wrong += match_cache_out(policy, &addr, 443, POLICY_PROTO_TCP, NULL) !=
		         policy_match_out(policy, &addr, 443, POLICY_PROTO_TCP, NULL);
		addr = v4(0xc0a80000 + ((seed >> 8) & 0x1ff));
		wrong += match_cache_out(policy, &addr, 80, POLICY_PROTO_TCP, NULL) !=
		         policy_match_out(policy, &addr, 80, POLICY_PROTO_TCP, NULL);
	}
	return (void *)wrong;
}

/* Many threads filling and reading the same slots never get a torn answer. */
START_TEST(test_threads_never_see_a_torn_slot)
{
	pthread_t t[8];
	void *wrong;
	uintptr_t i;

	for (i = 0; i < 8; i++) {
		pthread_create(&t[i], NULL, hammer, (void *)(i + 1));
	}
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], &wrong);
		ck_assert_int_eq((long)wrong, 0);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("match_cache");
	TCase *tc = tcase_create("cache");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_same_answers_as_the_matcher);
	tcase_add_test(tc, test_names_and_ipv6_bypass_the_cache);
	tcase_add_test(tc, test_threads_never_see_a_torn_slot);
	suite_add_tcase(s, tc);
	return check_run(s);
}
