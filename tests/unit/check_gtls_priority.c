/*
 * The priority strings of the GnuTLS layer (shim/tls/gnutls/priority_str.h):
 * the suffix itself, and what GnuTLS's own parser makes of the program's
 * string with it (gnutls_priority_init(3)): the versions below the floor are
 * gone whatever the program asked for, and a program string that parses
 * alone still parses with the suffix.
 */
#include <check.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "check_run.h"
#include "tls/gnutls/priority_str.h"

static const struct compose_case {
	const char *prog;
	enum policy_tls_version floor;
	bool with_floor;
	const char *want;
} compose_cases[] = {
    /* no program string: the suffix alone, for GNUTLS_PRIORITY_INIT_DEF_APPEND */
    {NULL, POLICY_TLS_1_2, false,
     "-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1:-VERS-DTLS0.9:-VERS-DTLS1.0:%PROFILE_MEDIUM"},
    /* "" is no string either */
    {"", POLICY_TLS_1_2, false,
     "-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1:-VERS-DTLS0.9:-VERS-DTLS1.0:%PROFILE_MEDIUM"},
    /* appended after the program's own, which stays first and unchanged */
    {"NORMAL", POLICY_TLS_1_2, false,
     "NORMAL:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1:-VERS-DTLS0.9:-VERS-DTLS1.0:%PROFILE_MEDIUM"},
    /* a TLS 1.3 floor removes 1.2 as well */
    {"NORMAL", POLICY_TLS_1_3, false,
     "NORMAL:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1:-VERS-DTLS0.9:-VERS-DTLS1.0:-VERS-TLS1.2:"
     "-VERS-DTLS1.2:%PROFILE_MEDIUM"},
    /* the second try adds the floor version itself */
    {"NONE:+VERS-TLS1.0", POLICY_TLS_1_2, true,
     "NONE:+VERS-TLS1.0:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1:-VERS-DTLS0.9:-VERS-DTLS1.0:"
     "%PROFILE_MEDIUM:+VERS-TLS1.2"},
    {"NONE:+VERS-TLS1.2", POLICY_TLS_1_3, true,
     "NONE:+VERS-TLS1.2:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1:-VERS-DTLS0.9:-VERS-DTLS1.0:"
     "-VERS-TLS1.2:-VERS-DTLS1.2:%PROFILE_MEDIUM:+VERS-TLS1.3"},
};

START_TEST(test_compose)
{
	const struct compose_case *c = &compose_cases[_i];
	char out[512];

	ck_assert_int_eq(gtls_priority_compose(c->prog, c->floor, c->with_floor, out, sizeof(out)),
	                 0);
	ck_assert_str_eq(out, c->want);
}
END_TEST

/* A string that does not fit is refused whole: never a truncated suffix that
 * would leave low versions in. */
START_TEST(test_compose_too_long)
{
	char out[40];

	memset(out, 'x', sizeof(out));
	ck_assert_int_eq(gtls_priority_compose("NORMAL", POLICY_TLS_1_2, false, out, sizeof(out)),
	                 -1);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(gtls_priority_compose("NORMAL", POLICY_TLS_1_2, false, out, 0), -1);
}
END_TEST

static const struct parse_case {
	const char *prog; /* what a program passes to gnutls_priority_init */
	enum policy_tls_version floor;
} parse_cases[] = {
    {"NORMAL", POLICY_TLS_1_2},
    {"NORMAL", POLICY_TLS_1_3},
    {"PERFORMANCE", POLICY_TLS_1_2},
    {"SECURE128", POLICY_TLS_1_2},
    {"NORMAL:%COMPAT", POLICY_TLS_1_2},
    /* the system's configured string (parses only where one is configured) */
    {"@SYSTEM", POLICY_TLS_1_2},
    /* a careless program: TLS 1.0 alone, legacy suites */
    {"NONE:+VERS-TLS1.0:+AES-128-CBC:+SHA1:+RSA:+COMP-NULL:+SIGN-ALL:+CTYPE-X509", POLICY_TLS_1_2},
    /* versions re-enabled explicitly */
    {"NORMAL:+VERS-TLS1.0:+VERS-TLS1.1:+VERS-SSL3.0", POLICY_TLS_1_2},
    {"NORMAL:-VERS-TLS1.3", POLICY_TLS_1_3},
    /* verification loosened in the string: parses, and the shim's own
     * verification ignores it */
    {"NORMAL:%VERIFY_ALLOW_BROKEN:%VERIFY_ALLOW_SIGN_WITH_SHA1", POLICY_TLS_1_2},
};

static bool below_floor(gnutls_protocol_t v, enum policy_tls_version floor)
{
	switch (v) {
	case GNUTLS_TLS1_3:
		return false;
	case GNUTLS_TLS1_2:
	case GNUTLS_DTLS1_2:
		return floor == POLICY_TLS_1_3;
	default:
		return true;
	}
}

/* What priority.c does: the suffixed string, then with the floor added; the
 * cache it makes, or NULL when neither parses. */
static gnutls_priority_t shim_cache(const char *prog, enum policy_tls_version floor)
{
	gnutls_priority_t cache = NULL;
	char s[1024];
	int ret;

	ck_assert_int_eq(gtls_priority_compose(prog, floor, false, s, sizeof(s)), 0);
	ret = gnutls_priority_init(&cache, s, NULL);
	if (ret == GNUTLS_E_NO_PRIORITIES_WERE_SET) {
		ck_assert_int_eq(gtls_priority_compose(prog, floor, true, s, sizeof(s)), 0);
		ret = gnutls_priority_init(&cache, s, NULL);
	}
	return ret == GNUTLS_E_SUCCESS ? cache : NULL;
}

START_TEST(test_parse)
{
	const struct parse_case *c = &parse_cases[_i];
	gnutls_priority_t alone = NULL, cache;
	const unsigned *list = NULL;
	bool parses_alone = gnutls_priority_init(&alone, c->prog, NULL) == GNUTLS_E_SUCCESS;
	int i, n;

	cache = shim_cache(c->prog, c->floor);
	/* wherever the program's string parses, the shim's does too */
	ck_assert_msg(!parses_alone || cache != NULL, "\"%s\" parses alone, not with the suffix",
	              c->prog);
	if (cache != NULL) {
		n = gnutls_priority_protocol_list(cache, &list);
		ck_assert_int_gt(n, 0);
		for (i = 0; i < n; i++) {
			ck_assert_msg(!below_floor((gnutls_protocol_t)list[i], c->floor),
			              "\"%s\" keeps %s", c->prog,
			              gnutls_protocol_get_name((gnutls_protocol_t)list[i]));
		}
		gnutls_priority_deinit(cache);
	}
	if (alone != NULL) {
		gnutls_priority_deinit(alone);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("gtls_priority");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_compose, 0, sizeof(compose_cases) / sizeof(compose_cases[0]));
	tcase_add_test(tc, test_compose_too_long);
	tcase_add_loop_test(tc, test_parse, 0, sizeof(parse_cases) / sizeof(parse_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
