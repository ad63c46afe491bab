/*
 * Check suite for the two actions in which the shim itself speaks TLS
 * (issue 17): outbound `upgrade_tls` and inbound `terminate_tls`. Every bad
 * combination is refused with its FILE:LINE; the valid ones compile to the
 * effective settings the tunnel uses, and `check -v` (policy_print) prints
 * them so that the printed text loads back to the same policy.
 *
 * Run from the top of the tree (fixtures in tests/fixtures/policy/pki).
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "policy.h"

static char pki_dir[PATH_MAX];

/* Copies text with every @PKI@ replaced by the absolute path of pki/. */
static char *subst_pki(const char *text)
{
	size_t plen = strlen(pki_dir), len = strlen(text), cap = len + 1, used = 0, i;
	char *out;

	for (i = 0; i + 5 <= len; i++)
		if (memcmp(text + i, "@PKI@", 5) == 0)
			cap += plen;
	out = malloc(cap);
	ck_assert_ptr_nonnull(out);
	for (i = 0; i < len;) {
		if (i + 5 <= len && memcmp(text + i, "@PKI@", 5) == 0) {
			memcpy(out + used, pki_dir, plen);
			used += plen;
			i += 5;
		} else {
			out[used++] = text[i++];
		}
	}
	out[used] = '\0';
	return out;
}

static struct policy *load_text(const char *text, struct policy_error *err)
{
	char *subst = subst_pki(text);
	struct policy *policy = policy_load_string(subst, strlen(subst), "t", err);

	free(subst);
	return policy;
}

static char *print_policy(const struct policy *policy)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(policy_print(policy, out), 0);
	fclose(out);
	return buf;
}

#define V        "version = 1;\n"
#define OUT1(r)  V "outbound = { rules = (" r "\n); };\n"
#define IN1(r)   V "inbound = { rules = (" r "\n); };\n"
#define TERM_TLS "tls = { cert_file = \"@PKI@/me.pem\"; key_file = \"@PKI@/me.key\"; }"

/* ---- refused ---- */

static const struct error_case {
	const char *text;
	const char *want_prefix;
	const char *want_msg;
} error_cases[] = {
    /* 0: terminate_tls in an outbound rule */
    {OUT1("{ port = 1; action = \"terminate_tls\"; }"),
     "t:2: ", "action \"terminate_tls\" is for inbound rules"},
    /* 1: upgrade_tls in an inbound rule */
    {IN1("{ port = 1; action = \"upgrade_tls\"; }"),
     "t:2: ", "action \"upgrade_tls\" is for outbound rules"},
    /* 2: upgrade_tls over UDP */
    {OUT1("{ port = 1; proto = \"udp\"; action = \"upgrade_tls\"; }"),
     "t:2: ", "action \"upgrade_tls\" with proto \"udp\""},
    /* 3: terminate_tls without a tls group */
    {IN1("{ port = 1; action = \"terminate_tls\"; }"),
     "t:2: ", "action \"terminate_tls\" needs tls = { cert_file"},
    /* 4: terminate_tls without cert_file nor key_file */
    {IN1("{ port = 1; action = \"terminate_tls\"; tls = { min_version = \"TLSv1.3\"; }; }"),
     "t:2: ", "needs tls.cert_file (the certificate the shim serves) and tls.key_file"},
    /* 5: terminate_tls with a certificate and no key */
    {IN1("{ port = 1; action = \"terminate_tls\";\n tls = { cert_file = \"@PKI@/me.pem\"; }; }"),
     "t:3: ", "cert_file is set without key_file"},
    /* 6: terminate_tls with a key and no certificate */
    {IN1("{ port = 1; action = \"terminate_tls\";\n tls = { key_file = \"@PKI@/me.key\"; }; }"),
     "t:3: ", "needs tls.cert_file"},
    /* 7: a key given as the certificate */
    {IN1("{ port = 1; action = \"terminate_tls\";\n tls = { cert_file = \"@PKI@/me.key\";\n "
         "key_file = \"@PKI@/me.key\"; }; }"),
     "t:3: ", "holds no PEM certificate (it holds a PRIVATE KEY)"},
    /* 8: a certificate given as the key */
    {IN1("{ port = 1; action = \"terminate_tls\";\n tls = { cert_file = \"@PKI@/me.pem\";\n "
         "key_file = \"@PKI@/me.pem\"; }; }"),
     "t:4: ", "holds no PEM private key (it holds a CERTIFICATE)"},
    /* 9: an unreadable (missing) certificate */
    {IN1("{ port = 1; action = \"terminate_tls\";\n tls = { cert_file = \"@PKI@/nope.pem\"; "
         "key_file = \"@PKI@/me.key\"; }; }"),
     "t:3: ", "No such file or directory"},
    /* 10: a relative certificate path */
    {IN1("{ port = 1; action = \"terminate_tls\";\n tls = { cert_file = \"me.pem\"; "
         "key_file = \"@PKI@/me.key\"; }; }"),
     "t:3: ", "cert_file must be an absolute path"},
    /* 11: an encrypted key: the shim has no passphrase */
    {IN1("{ port = 1; action = \"terminate_tls\";\n tls = { cert_file = \"@PKI@/me.pem\";\n "
         "key_file = \"@PKI@/pkcs8-encrypted.key\"; }; }"),
     "t:4: ", "holds an encrypted private key"},
    /* 12: cert_file on an inbound require_tls rule */
    {IN1("{ port = 1; action = \"require_tls\";\n tls = { cert_file = \"@PKI@/me.pem\"; }; }"),
     "t:3: ", "cert_file only applies to action \"terminate_tls\""},
    /* 13: key_file on an inbound require_tls rule */
    {IN1("{ port = 1; action = \"require_tls\";\n tls = { key_file = \"@PKI@/me.key\"; }; }"),
     "t:3: ", "key_file only applies to action \"terminate_tls\""},
    /* 14: cert_file on an outbound upgrade_tls rule */
    {OUT1("{ port = 1; action = \"upgrade_tls\";\n tls = { cert_file = \"@PKI@/me.pem\"; }; }"),
     "t:3: ", "cert_file is only allowed in an inbound terminate_tls rule's tls group"},
    /* 15: key_file in the top-level tls group */
    {V "tls = { key_file = \"@PKI@/me.key\"; };\n",
     "t:2: ", "key_file is only allowed in an inbound terminate_tls rule's tls group"},
    /* 16: upgrade_tls as the outbound default */
    {V "outbound = { default = \"upgrade_tls\"; };\n",
     "t:2: ", "default cannot be \"upgrade_tls\""},
    /* 17: terminate_tls as the inbound default */
    {V "inbound = { default = \"terminate_tls\"; };\n",
     "t:2: ", "default cannot be \"terminate_tls\""},
    /* 18: upgrade_tls for DNS */
    {V "outbound = { dns = \"upgrade_tls\"; };\n",
     "t:2: ", "unknown dns 'upgrade_tls' (valid: allow, deny)"},
    /* 19: a starttls other than postgres on upgrade_tls */
    {OUT1("{ port = 25; action = \"upgrade_tls\"; starttls = \"smtp\"; }"),
     "t:2: ", "unknown starttls 'smtp' (valid: postgres)"},
    /* 20: starttls on an allow rule names both actions that take it */
    {OUT1("{ port = 5432; action = \"allow\"; starttls = \"postgres\"; }"),
     "t:2: ", "starttls needs action \"require_tls\" or \"upgrade_tls\""},
    /* 21: starttls on an inbound terminate_tls rule */
    {IN1("{ port = 5432; action = \"terminate_tls\"; starttls = \"postgres\"; " TERM_TLS "; }"),
     "t:2: ", "starttls applies to outbound rules only"},
    /* 22: a tls group on a deny rule */
    {OUT1("{ port = 1; action = \"deny\";\n tls = { min_version = \"TLSv1.3\"; }; }"), "t:3: ",
     "tls settings only apply to action \"require_tls\", \"upgrade_tls\" or \"terminate_tls\""},
    /* 23: external on an allow rule names both actions that take it */
    {IN1("{ port = 1; action = \"allow\"; external = true; }"),
     "t:2: ", "external only applies to action \"require_tls\" or \"terminate_tls\""},
    /* 24: inbound-only keys in an upgrade_tls rule's tls group */
    {OUT1("{ port = 1; action = \"upgrade_tls\";\n tls = { require_client_cert = true; }; }"),
     "t:3: ", "require_client_cert is only allowed in an inbound rule's tls group"},
    /* 25: server_name in a terminate_tls rule's tls group */
    {IN1("{ port = 1; action = \"terminate_tls\";\n tls = { cert_file = \"@PKI@/me.pem\"; "
         "key_file = \"@PKI@/me.key\";\n server_name = \"a.example\"; }; }"),
     "t:4: ", "server_name is only allowed in an outbound rule's tls group"},
    /* 26: require_client_cert without client_ca_file under terminate_tls */
    {IN1("{ port = 1; action = \"terminate_tls\";\n tls = { cert_file = \"@PKI@/me.pem\"; "
         "key_file = \"@PKI@/me.key\";\n require_client_cert = true; }; }"),
     "t:4: ", "require_client_cert = true needs client_ca_file"},
    /* 27: a misspelt action lists the new ones */
    {OUT1("{ port = 1; action = \"upgrade\"; }"),
     "t:2: ", "(valid: require_tls, allow, deny, upgrade_tls, terminate_tls)"},
};

START_TEST(test_error)
{
	const struct error_case *c = &error_cases[_i];
	struct policy_error err = {0};
	struct policy *policy = load_text(c->text, &err);

	ck_assert_msg(policy == NULL, "case %d accepted", _i);
	ck_assert_msg(strncmp(err.msg, c->want_prefix, strlen(c->want_prefix)) == 0,
	              "case %d: want prefix '%s', got '%s'", _i, c->want_prefix, err.msg);
	ck_assert_msg(strstr(err.msg, c->want_msg) != NULL, "case %d: want '%s' in '%s'", _i,
	              c->want_msg, err.msg);
}
END_TEST

/* ---- accepted ---- */

static const char contract_example[] =
    V "tls = { verify_hostname = true; };\n"
      "outbound = { rules = (\n"
      "  { to = \"10.30.0.5\"; port = 6379; action = \"upgrade_tls\";\n"
      "    tls = { ca_file = \"@PKI@/internal-ca.pem\"; server_name = "
      "\"cache.internal.example\"; }; },\n"
      "  { to = \"10.20.0.0/16\"; port = 5432; action = \"upgrade_tls\"; starttls = "
      "\"postgres\";\n"
      "    tls = { min_version = \"TLSv1.3\"; pin_sha256 = [ "
      "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\" ];\n"
      "            client_cert = \"@PKI@/me.pem\"; client_key = \"@PKI@/me.key\"; }; },\n"
      "  { port = 80; action = \"upgrade_tls\"; }\n"
      "); };\n"
      "inbound = { rules = (\n"
      "  { port = 8080; action = \"terminate_tls\"; external = true;\n"
      "    tls = { cert_file = \"@PKI@/me.pem\"; key_file = \"@PKI@/me.key\"; "
      "require_client_cert = true;\n"
      "            client_ca_file = \"@PKI@/clients-ca.pem\"; min_version = \"TLSv1.3\"; }; },\n"
      "  { port = 8081; action = \"terminate_tls\"; " TERM_TLS "; }\n"
      "); };\n";

static struct policy_addr addr(const char *text)
{
	struct policy_addr a;

	ck_assert_int_eq(policy_addr_parse(&a, text), 0);
	return a;
}

static void check_effective(const struct policy *policy)
{
	struct policy_addr cache = addr("10.30.0.5"), pg = addr("10.20.1.2"), web = addr("1.2.3.4");
	const struct policy_rule *r;

	r = policy_match_out(policy, &cache, 6379, POLICY_PROTO_TCP, NULL);
	ck_assert_int_eq(r->action, POLICY_ACTION_UPGRADE_TLS);
	ck_assert_int_eq(r->index, 1);
	ck_assert_str_eq(r->tls.server_name, "cache.internal.example");
	ck_assert_ptr_nonnull(r->tls.ca_file);
	ck_assert(strstr(r->tls.ca_file, "internal-ca.pem") != NULL);
	ck_assert_int_eq(r->starttls, POLICY_STARTTLS_NONE);
	ck_assert_ptr_null(r->tls.cert_file);

	r = policy_match_out(policy, &pg, 5432, POLICY_PROTO_TCP, NULL);
	ck_assert_int_eq(r->action, POLICY_ACTION_UPGRADE_TLS);
	ck_assert_int_eq(r->starttls, POLICY_STARTTLS_POSTGRES);
	ck_assert_int_eq(r->tls.min_version, POLICY_TLS_1_3);
	ck_assert_uint_eq(r->tls.npins, 1);
	ck_assert_ptr_nonnull(r->tls.client_cert);
	ck_assert_ptr_nonnull(r->tls.client_key);

	/* a rule without a tls group takes the top-level defaults */
	r = policy_match_out(policy, &web, 80, POLICY_PROTO_TCP, NULL);
	ck_assert_int_eq(r->action, POLICY_ACTION_UPGRADE_TLS);
	ck_assert(r->tls.verify_hostname);
	ck_assert_int_eq(r->tls.min_version, POLICY_TLS_1_2);
	/* UDP to the same port is not upgraded (the rule is TCP) */
	r = policy_match_out(policy, &web, 80, POLICY_PROTO_UDP, NULL);
	ck_assert_int_ne(r->action, POLICY_ACTION_UPGRADE_TLS);

	r = policy_match_in(policy, 8080, &web);
	ck_assert_int_eq(r->action, POLICY_ACTION_TERMINATE_TLS);
	ck_assert(r->tls.external);
	ck_assert(r->tls.require_client_cert);
	ck_assert_ptr_nonnull(r->tls.client_ca_file);
	ck_assert(strstr(r->tls.cert_file, "/me.pem") != NULL);
	ck_assert(strstr(r->tls.key_file, "/me.key") != NULL);
	ck_assert_int_eq(r->tls.min_version, POLICY_TLS_1_3);

	r = policy_match_in(policy, 8081, &web);
	ck_assert_int_eq(r->action, POLICY_ACTION_TERMINATE_TLS);
	ck_assert(!r->tls.require_client_cert);
	ck_assert(!r->tls.external);
}

START_TEST(test_contract_example)
{
	struct policy_error err = {0};
	struct policy *policy = load_text(contract_example, &err);

	ck_assert_msg(policy != NULL, "refused: %s", err.msg);
	check_effective(policy);
	policy_free(policy);
}
END_TEST

/* check -v: the printed policy shows both actions with their tls groups, and
 * loads back to the same effective settings (and prints the same again). */
START_TEST(test_print_round_trip)
{
	struct policy_error err = {0};
	struct policy *policy = load_text(contract_example, &err), *again;
	char *text, *text2;

	ck_assert_msg(policy != NULL, "refused: %s", err.msg);
	text = print_policy(policy);
	ck_assert_msg(strstr(text, "action = \"upgrade_tls\";") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "action = \"terminate_tls\";") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "starttls = \"postgres\";") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "cert_file = \"") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "key_file = \"") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "server_name = \"cache.internal.example\";") != NULL, "%s",
	              text);
	again = policy_load_string(text, strlen(text), "printed", &err);
	ck_assert_msg(again != NULL, "printed policy refused: %s\n%s", err.msg, text);
	check_effective(again);
	text2 = print_policy(again);
	ck_assert_str_eq(text, text2);
	free(text);
	free(text2);
	policy_free(again);
	policy_free(policy);
}
END_TEST

/* The names audit events and explain print. */
START_TEST(test_names)
{
	ck_assert_str_eq(policy_action_name(POLICY_ACTION_UPGRADE_TLS), "upgrade_tls");
	ck_assert_str_eq(policy_action_name(POLICY_ACTION_TERMINATE_TLS), "terminate_tls");
	ck_assert(policy_action_has_tls(POLICY_ACTION_UPGRADE_TLS));
	ck_assert(policy_action_has_tls(POLICY_ACTION_TERMINATE_TLS));
	ck_assert(policy_action_has_tls(POLICY_ACTION_REQUIRE_TLS));
	ck_assert(!policy_action_has_tls(POLICY_ACTION_ALLOW));
	ck_assert(policy_action_is_tunnel(POLICY_ACTION_UPGRADE_TLS));
	ck_assert(!policy_action_is_tunnel(POLICY_ACTION_REQUIRE_TLS));
}
END_TEST

static void setup_dirs(void)
{
	const char *env = getenv("TLSGUARD_POLICY_FIXTURES");
	char pki[PATH_MAX + 8];

	snprintf(pki, sizeof(pki), "%s/pki", env ? env : "tests/fixtures/policy");
	if (realpath(pki, pki_dir) == NULL) {
		fprintf(stderr, "check_policy_tunnel: no %s (run from the top of the tree)\n", pki);
		exit(1);
	}
}

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

int main(void)
{
	Suite *s = suite_create("policy_tunnel");
	TCase *tc = tcase_create("tunnel");

	setup_dirs();
	tcase_add_loop_test(tc, test_error, 0, N(error_cases));
	tcase_add_test(tc, test_contract_example);
	tcase_add_test(tc, test_print_round_trip);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return check_run(s);
}
