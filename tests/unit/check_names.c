/*
 * The table of names the program resolved (shim/core/names.c): which name a
 * connection to an address is matched and verified against. A wrong answer
 * would let a host-name rule match the wrong peer, so every row asks what the
 * table says for an address after the program resolved names.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "core/conn.h"
#include "core/names.h"
#include "check_run.h"

struct name_case {
	const char *addr;  /* the address the answer held; NULL: a Unix socket */
	const char *first; /* a name resolved to it before, or NULL */
	const char *name;  /* the name resolved to it (NULL: none given) */
	size_t long_name;  /* > 0: the name is this many 'h' instead */
	const char *ask;   /* the address asked about */
	size_t out_len;    /* the caller's buffer (0: CONN_HOST_MAX) */
	const char *want;  /* the name the table gives; NULL: none */
};

static const struct name_case cases[] = {
    /* an IPv4 answer */
    {"10.1.0.1", NULL, "api.example", 0, "10.1.0.1", 0, "api.example"},
    /* an IPv6 answer */
    {"2001:db8::1", NULL, "v6.example", 0, "2001:db8::1", 0, "v6.example"},
    /* an IPv4-mapped answer is the IPv4 address it maps */
    {"::ffff:10.1.0.2", NULL, "mapped.example", 0, "10.1.0.2", 0, "mapped.example"},
    /* an address nobody resolved */
    {"10.1.0.3", NULL, "three.example", 0, "10.1.0.4", 0, NULL},
    /* the same bytes in the other family are another address */
    {"10.1.0.5", NULL, "five.example", 0, "::a01:5", 0, NULL},
    /* the newest answer for an address wins */
    {"10.1.0.6", "old.example", "new.example", 0, "10.1.0.6", 0, "new.example"},
    /* an address literal is no name: it does not replace the real one */
    {"10.1.0.7", "real.example", "10.1.0.7", 0, "10.1.0.7", 0, "real.example"},
    /* nor is an IPv6 literal recorded at all */
    {"10.1.0.8", NULL, "::1", 0, "10.1.0.8", 0, NULL},
    /* an empty name is not recorded */
    {"10.1.0.9", NULL, "", 0, "10.1.0.9", 0, NULL},
    /* a NULL name is not recorded */
    {"10.1.0.10", NULL, NULL, 0, "10.1.0.10", 0, NULL},
    /* a Unix socket has no address to remember */
    {NULL, NULL, "unix.example", 0, "10.1.0.11", 0, NULL},
    /* the longest name that fits (CONN_HOST_MAX - 1 bytes) */
    {"10.1.0.12", NULL, NULL, CONN_HOST_MAX - 1, "10.1.0.12", 0, "LONG"},
    /* one byte longer: forgotten rather than cut (a cut name could match a
     * shorter rule) */
    {"10.1.0.13", NULL, NULL, CONN_HOST_MAX, "10.1.0.13", 0, NULL},
    /* a caller's buffer one byte short of the name and its NUL */
    {"10.1.0.14", NULL, "abc.example", 0, "10.1.0.14", 11, NULL},
    /* exactly big enough */
    {"10.1.0.15", NULL, "abc.example", 0, "10.1.0.15", 12, "abc.example"},
    /* hostile bytes are kept as given: the audit line escapes them */
    {"10.1.0.16", NULL, "evil\nevent=connect verdict=allow", 0, "10.1.0.16", 0,
     "evil\nevent=connect verdict=allow"},
    /* format directives are data */
    {"10.1.0.17", NULL, "%s%n.example", 0, "10.1.0.17", 0, "%s%n.example"},
};

/* addr as a sockaddr in ss (NULL: a Unix socket address). */
static const struct sockaddr *sockaddr_of(const char *addr, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_un *sun = (struct sockaddr_un *)ss;

	memset(ss, 0, sizeof(*ss));
	if (addr == NULL) {
		sun->sun_family = AF_UNIX;
		snprintf(sun->sun_path, sizeof(sun->sun_path), "/tmp/names.sock");
	} else if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, addr, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
	}
	return (const struct sockaddr *)ss;
}

static struct policy_addr addr_of(const char *text)
{
	struct policy_addr a;

	ck_assert_int_eq(policy_addr_parse(&a, text), 0);
	return a;
}

START_TEST(test_names)
{
	const struct name_case *c = &cases[_i];
	char long_name[CONN_HOST_MAX + 1], out[CONN_HOST_MAX];
	struct sockaddr_storage ss;
	struct policy_addr ask = addr_of(c->ask);
	const char *name = c->name;
	bool found;

	if (c->long_name > 0) {
		memset(long_name, 'h', c->long_name);
		long_name[c->long_name] = '\0';
		name = long_name;
	}
	if (c->first != NULL) {
		names_record(sockaddr_of(c->addr, &ss), c->first);
	}
	names_record(sockaddr_of(c->addr, &ss), name);
	memset(out, 0, sizeof(out));
	found = names_lookup(&ask, out, c->out_len != 0 ? c->out_len : sizeof(out));
	if (c->want == NULL) {
		ck_assert_msg(!found, "row %d: %s gave \"%s\"", _i, c->ask, out);
		return;
	}
	ck_assert_msg(found, "row %d: %s unknown", _i, c->ask);
	ck_assert_msg(names_known(&ask), "row %d: the lock-free test says unknown", _i);
	ck_assert_str_eq(out, c->long_name > 0 ? long_name : c->want);
}
END_TEST

/* Two addresses in the same slot: the newer answer evicts the older one, and
 * the older address is then unknown, never answered with the other's name. */
START_TEST(test_eviction)
{
	struct policy_addr first = addr_of("10.2.0.1"), other;
	struct sockaddr_storage ss;
	char text[INET_ADDRSTRLEN], out[CONN_HOST_MAX];
	unsigned int i;

	for (i = 2; i < 1u << 20; i++) {
		snprintf(text, sizeof(text), "10.%u.%u.%u", 3 + (i >> 16), (i >> 8) & 0xff,
		         i & 0xff);
		other = addr_of(text);
		if (names_slot(names_hash(&other)) == names_slot(names_hash(&first))) {
			break;
		}
	}
	ck_assert_uint_eq(names_slot(names_hash(&other)), names_slot(names_hash(&first)));
	names_record(sockaddr_of("10.2.0.1", &ss), "first.example");
	ck_assert(names_lookup(&first, out, sizeof(out)));
	names_record(sockaddr_of(text, &ss), "second.example");
	ck_assert(names_lookup(&other, out, sizeof(out)));
	ck_assert_str_eq(out, "second.example");
	ck_assert(!names_known(&first));
	ck_assert(!names_lookup(&first, out, sizeof(out)));
}
END_TEST

/* Far more answers than slots: every address asked afterwards gets its own
 * name or none, never another address's. */
START_TEST(test_no_cross_talk)
{
	char text[INET_ADDRSTRLEN], name[64], out[CONN_HOST_MAX];
	struct sockaddr_storage ss;
	struct policy_addr a;
	unsigned int i, kept = 0;

	for (i = 0; i < NAMES_SLOTS * 4; i++) {
		snprintf(text, sizeof(text), "172.16.%u.%u", i >> 8, i & 0xff);
		snprintf(name, sizeof(name), "host%u.example", i);
		names_record(sockaddr_of(text, &ss), name);
	}
	for (i = 0; i < NAMES_SLOTS * 4; i++) {
		snprintf(text, sizeof(text), "172.16.%u.%u", i >> 8, i & 0xff);
		snprintf(name, sizeof(name), "host%u.example", i);
		a = addr_of(text);
		if (names_lookup(&a, out, sizeof(out))) {
			ck_assert_str_eq(out, name);
			kept++;
		}
	}
	/* the table holds at most one answer per slot, and keeps some */
	ck_assert_uint_le(kept, NAMES_SLOTS);
	ck_assert_uint_gt(kept, 0);
}
END_TEST

static Suite *names_suite(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("names");

	tcase_add_loop_test(tc, test_names, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_eviction);
	tcase_add_test(tc, test_no_cross_talk);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(names_suite());
}
