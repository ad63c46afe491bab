/*
 * Check suite for the policy engine (policy/): loading, validation errors with
 * their FILE:LINE, hostile input, matching, the permission check, printing.
 *
 * Run from the top of the tree: fixtures are read from tests/fixtures/policy
 * (or $TLSGUARD_POLICY_FIXTURES). See tests/fixtures/policy/README.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "policy.h"
#include "check_run.h"

static char fixture_dir[PATH_MAX];
static char pki_dir[PATH_MAX];
static char tmp_dir[PATH_MAX];

/* ---- helpers ---- */

/* Copies text with every @PKI@ replaced by the absolute path of pki/. */
static char *subst_pki(const char *text, size_t len, size_t *outlen)
{
	size_t plen = strlen(pki_dir), cap = len + 1, used = 0, i = 0;
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
	*outlen = used;
	return out;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long size;

	ck_assert_msg(f != NULL, "cannot open fixture %s: %s", path, strerror(errno));
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	rewind(f);
	buf = malloc((size_t)size + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	buf[size] = '\0';
	*len = (size_t)size;
	return buf;
}

/* Loads a fixture (by file name under tests/fixtures/policy) through
 * policy_load_string, named by its file name in error messages. */
static struct policy *load_fixture(const char *name, struct policy_error *err)
{
	char path[PATH_MAX * 2];
	struct policy *policy;
	char *raw, *text;
	size_t len, tlen;

	snprintf(path, sizeof(path), "%s/%s", fixture_dir, name);
	raw = read_all(path, &len);
	text = subst_pki(raw, len, &tlen);
	policy = policy_load_string(text, tlen, name, err);
	free(raw);
	free(text);
	return policy;
}

static struct policy *load_text(const char *text, size_t len, struct policy_error *err)
{
	struct policy *policy;
	char *subst;
	size_t slen;

	subst = subst_pki(text, len ? len : strlen(text), &slen);
	policy = policy_load_string(subst, slen, "t", err);
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

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

/* ---- valid fixtures ---- */

static const struct valid_case {
	const char *fixture;
	enum policy_mode want_mode;
	bool want_env_override;
	int want_facility;
	size_t want_npins;
	const char *want_print; /* a line the effective policy must contain */
} valid_cases[] = {
    /* the contract's example policy, verbatim apart from the PKI paths */
    {"contract.conf", POLICY_MODE_ENFORCE, true, LOG_AUTHPRIV, 0,
     "{ to = \"*.internal.example\"; port = [ 443, \"8443-8444\" ]; proto = \"tcp\";"},
    /* only the version: every default is printed */
    {"minimal.conf", POLICY_MODE_ENFORCE, true, LOG_AUTHPRIV, 0, "\tdns = \"allow\";"},
    /* every setting changed; v4-mapped CIDR printed as IPv4 */
    {"settings.conf", POLICY_MODE_AUDIT, false, LOG_LOCAL3, 2,
     "{ to = \"10.0.0.0/8\"; port = [ \"1-1024\", 8080 ]; proto = \"tcp\"; action = \"deny\"; }"},
    /* quotes and backslashes escaped when printed */
    {"settings.conf", POLICY_MODE_AUDIT, false, LOG_LOCAL3, 2,
     "socket = \"/run/tls\\\"guard\\\\log\";"},
    /* host names printed lower-cased without the trailing dot */
    {"settings.conf", POLICY_MODE_AUDIT, false, LOG_LOCAL3, 2,
     "{ to = \"mixed.case.example\"; port = 443;"},
    /* the CLI suite's explain fixture */
    {"../cli/explain.conf", POLICY_MODE_ENFORCE, true, LOG_AUTHPRIV, 0,
     "{ to = \"*.legacy.internal\"; port = \"8000-8099\"; proto = \"tcp\"; action = \"allow\"; }"},
};

START_TEST(test_valid_fixture)
{
	const struct valid_case *c = &valid_cases[_i];
	struct policy_error err = {0};
	struct policy *policy, *again;
	char *first, *second;

	policy = load_fixture(c->fixture, &err);
	ck_assert_msg(policy != NULL, "%s: %s", c->fixture, err.msg);
	ck_assert_int_eq(policy_mode(policy), c->want_mode);
	ck_assert_int_eq(policy_env_override(policy), c->want_env_override);
	ck_assert_int_eq(policy_audit(policy)->facility, c->want_facility);
	ck_assert_uint_eq(policy_tls_defaults(policy)->npins, c->want_npins);
	first = print_policy(policy);
	ck_assert_msg(strstr(first, c->want_print) != NULL, "%s: no '%s' in:\n%s", c->fixture,
	              c->want_print, first);
	/* Round trip: the printed policy loads and prints identically. */
	again = policy_load_string(first, strlen(first), "printed", &err);
	ck_assert_msg(again != NULL, "%s printed: %s\n%s", c->fixture, err.msg, first);
	second = print_policy(again);
	ck_assert_str_eq(first, second);
	free(first);
	free(second);
	policy_free(policy);
	policy_free(again);
}
END_TEST

/* ---- errors ---- */

#define V          "version = 1;\n"
#define OUT1(rule) V "outbound = { rules = ( " rule " ); };\n"
#define IN1(rule)  V "inbound = { rules = ( " rule " ); };\n"
#define BIN(text)  text, sizeof(text) - 1 /* text with NUL bytes: explicit length */

static const struct error_case {
	const char *fixture; /* or NULL: text, named "t" */
	const char *text;
	size_t len; /* 0: strlen(text) */
	const char *want_prefix;
	const char *want_msg;
} error_cases[] = {
    /* a typo in a key must not silently keep the default */
    {"bad_unknown_key.conf", NULL, 0,
     "bad_unknown_key.conf:4: ", "unknown key 'verify_hostnme' in tls (valid keys: min_version,"},
    /* CIDR with host bits set names the network */
    {"bad_cidr_hostbits.conf", NULL, 0,
     "bad_cidr_hostbits.conf:4: ", "host bits are set (the network is 10.0.0.0/8)"},
    /* @include would escape the ownership check */
    {"bad_include.conf", NULL, 0, "bad_include.conf:2: ", "@include is not allowed"},
    /* libconfig refuses duplicate keys; the message carries the line */
    {"bad_duplicate.conf", NULL, 0, "bad_duplicate.conf:3: ", "duplicate setting name"},
    /* no TLS over UDP: reported on the action line */
    {"bad_udp_tls.conf", NULL, 0, "bad_udp_tls.conf:5: ", "there is no TLS over UDP here"},
    /* inbound rules have no proto, and the message says why */
    {"bad_inbound_proto.conf", NULL, 0,
     "bad_inbound_proto.conf:5: ", "inbound rules govern TCP listeners; proto is not allowed here"},
    /* a pin that is not 32 bytes, reported on its element's line */
    {"bad_pin.conf", NULL, 0,
     "bad_pin.conf:6: ", "pin_sha256 entry 'c2hvcnQ=' is not the base64 of a 32-byte"},
    /* a CA file that does not exist */
    {"bad_missing_ca.conf", NULL, 0, "bad_missing_ca.conf:3: ", "No such file or directory"},
    /* libconfig's own parse error, with its line */
    {"bad_syntax.conf", NULL, 0, "bad_syntax.conf:4: ", "syntax error"},
    /* a rule without action, reported on the rule's line */
    {"bad_no_action.conf", NULL, 0, "bad_no_action.conf:5: ", "rule 2 has no action"},
    /* libconfig 1.5 would truncate 4294967376 to 80 */
    {"bad_big_int.conf", NULL, 0, "bad_big_int.conf:5: ", "integer 4294967376 is out of range"},
    /* the same through a hexadecimal literal */
    {NULL, OUT1("{ port = 0x100000050; action = \"allow\"; }"), 0,
     "t:2: ", "integer 0x100000050 is out of range"},
    /* version other than 1 */
    {NULL, "version = 2;\n", 0, "t:1: ", "unsupported version 2"},
    /* version missing: no line applies */
    {NULL, "mode = \"enforce\";\n", 0, "t: ", "missing required 'version = 1;'"},
    /* version of the wrong type */
    {NULL, "version = \"1\";\n", 0, "t:1: ", "version must be an integer"},
    /* unknown mode lists the valid ones */
    {NULL, V "mode = \"strict\";\n", 0,
     "t:2: ", "unknown mode 'strict' (valid: enforce, audit, off)"},
    /* unknown top-level key */
    {NULL, V "outbund = { };\n", 0, "t:2: ", "unknown key 'outbund' in the policy"},
    /* a bool written as a string */
    {NULL, V "audit = {\n stderr = \"yes\"; };\n", 0, "t:3: ", "stderr must be true or false"},
    /* inherit written as an integer */
    {NULL, V "inherit = 1;\n", 0, "t:2: ", "inherit must be true or false"},
    /* facility not in the list */
    {NULL, V "audit = { facility = \"kern\"; };\n", 0, "t:2: ", "unknown facility 'kern'"},
    /* audit socket must be absolute */
    {NULL, V "audit = { socket = \"dev/log\"; };\n", 0,
     "t:2: ", "audit socket must be an absolute path"},
    /* unknown trust */
    {NULL, V "tls = { trust = \"app\"; };\n", 0, "t:2: ", "unknown trust 'app'"},
    /* unknown unmanaged */
    {NULL, V "tls = { unmanaged = \"warn\"; };\n", 0, "t:2: ", "unknown unmanaged 'warn'"},
    /* TLS 1.1 is not an option */
    {NULL, V "tls = { min_version = \"TLSv1.1\"; };\n", 0,
     "t:2: ", "unknown min_version 'TLSv1.1'"},
    /* rule-only tls keys at top level */
    {NULL, V "tls = { server_name = \"a.example\"; };\n", 0,
     "t:2: ", "server_name is only allowed in an outbound rule's tls group"},
    /* inbound-only tls key at top level */
    {NULL, V "tls = { require_client_cert = true; };\n", 0,
     "t:2: ", "require_client_cert is only allowed in an inbound rule's tls group"},
    /* certificate without key */
    {NULL, V "tls = { client_cert = \"@PKI@/me.pem\"; };\n", 0,
     "t:2: ", "client_cert is set without client_key"},
    /* key without certificate */
    {NULL, V "tls = { client_key = \"@PKI@/me.key\"; };\n", 0,
     "t:2: ", "client_key is set without client_cert"},
    /* relative path */
    {NULL, V "tls = { ca_file = \"pki/ca.pem\"; };\n", 0,
     "t:2: ", "ca_file must be an absolute path"},
    /* a private key given as the CA file */
    {NULL, V "tls = { ca_file = \"@PKI@/me.key\"; };\n", 0,
     "t:2: ", "holds no PEM certificate (it holds a PRIVATE KEY)"},
    /* an empty CA file */
    {NULL, V "tls = { ca_file = \"@PKI@/empty.pem\"; };\n", 0, "t:2: ", "holds no PEM certificate"},
    /* a certificate given as the client key */
    {NULL, V "tls = {\n client_cert = \"@PKI@/me.pem\";\n client_key = \"@PKI@/me.pem\"; };\n", 0,
     "t:4: ", "holds no PEM private key (it holds a CERTIFICATE)"},
    /* a PKCS#8 encrypted key: the shim has no passphrase (and must not prompt) */
    {NULL,
     V "tls = { client_cert = \"@PKI@/me.pem\"; client_key = \"@PKI@/pkcs8-encrypted.key\"; };\n",
     0, "t:2: ", "holds an encrypted private key"},
    /* a traditional (RFC 1421 Proc-Type) encrypted key */
    {NULL,
     V "tls = { client_cert = \"@PKI@/me.pem\"; client_key = \"@PKI@/legacy-encrypted.key\"; };\n",
     0, "t:2: ", "holds an encrypted private key"},
    /* a client_ca_file that is a key */
    {NULL,
     IN1("{ port = 1; action = \"require_tls\"; tls = { require_client_cert = true; client_ca_file "
         "= \"@PKI@/me.key\"; }; }"),
     0, "t:2: ", "client_ca_file '"},
    /* ca_path must be a directory */
    {NULL, V "tls = { ca_path = \"@PKI@/me.pem\"; };\n", 0, "t:2: ", "Not a directory"},
    /* ca_file must be a regular file */
    {NULL, V "tls = { ca_file = \"@PKI@\"; };\n", 0, "t:2: ", "not a regular file"},
    /* an empty pin list */
    {NULL, V "tls = { pin_sha256 = [ ]; };\n", 0, "t:2: ", "pin_sha256 is empty"},
    /* base64 of 33 bytes */
    {NULL, V "tls = { pin_sha256 = [ \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\" ]; };\n", 0,
     "t:2: ", "is not the base64 of a 32-byte"},
    /* port as a service name */
    {NULL, OUT1("{ port = \"http\"; action = \"allow\"; }"), 0,
     "t:2: ", "port 'http' is not a number from 1 to 65535"},
    /* port 0 */
    {NULL, OUT1("{ port = 0; action = \"allow\"; }"), 0, "t:2: ", "port 0 is out of range"},
    /* port 65536 */
    {NULL, OUT1("{ port = 65536; action = \"allow\"; }"), 0, "t:2: ", "port 65536 is out of range"},
    /* inverted range */
    {NULL, OUT1("{ port = \"9000-8000\"; action = \"allow\"; }"), 0,
     "t:2: ", "port range '9000-8000' is inverted"},
    /* range without a start */
    {NULL, OUT1("{ port = \"-5\"; action = \"allow\"; }"), 0,
     "t:2: ", "port range '-5' must be \"a-b\""},
    /* range without an end */
    {NULL, OUT1("{ port = \"5-\"; action = \"allow\"; }"), 0,
     "t:2: ", "port range '5-' must be \"a-b\""},
    /* empty port list */
    {NULL, OUT1("{ port = [ ]; action = \"allow\"; }"), 0, "t:2: ", "port list is empty"},
    /* a bad element in a port list is reported on its own line */
    {NULL, V "outbound = { rules = ( { port = [ 80,\n 70000 ]; action = \"allow\"; } ); };\n", 0,
     "t:3: ", "port 70000 is out of range"},
    /* prefix too long */
    {NULL, OUT1("{ to = \"10.0.0.0/33\"; action = \"deny\"; }"), 0,
     "t:2: ", "prefix length '33' is not a number from 0 to 32"},
    /* IPv6 host bits */
    {NULL, OUT1("{ to = \"fd00::1/8\"; action = \"deny\"; }"), 0,
     "t:2: ", "host bits are set (the network is fd00::/8)"},
    /* empty to */
    {NULL, OUT1("{ to = \"\"; action = \"deny\"; }"), 0, "t:2: ", "to is empty"},
    /* "*." alone */
    {NULL, OUT1("{ to = \"*.\"; action = \"deny\"; }"), 0, "t:2: ", "empty host name"},
    /* "*" alone */
    {NULL, OUT1("{ to = \"*\"; action = \"deny\"; }"), 0,
     "t:2: ", "a wildcard must be written \"*.suffix\""},
    /* wildcard not at the start */
    {NULL, OUT1("{ to = \"a.*.b\"; action = \"deny\"; }"), 0,
     "t:2: ", "'*' is only allowed as the first label"},
    /* bad characters in a host name */
    {NULL, OUT1("{ to = \"exa mple.com\"; action = \"deny\"; }"), 0,
     "t:2: ", "byte 0x20 is not allowed"},
    /* a mistyped address is not a host name */
    {NULL, OUT1("{ to = \"10.0.0.300\"; action = \"deny\"; }"), 0,
     "t:2: ", "neither an IP address nor a host name"},
    /* unknown action */
    {NULL, OUT1("{ action = \"permit\"; }"), 0, "t:2: ", "unknown action 'permit'"},
    /* unknown starttls */
    {NULL, OUT1("{ action = \"require_tls\"; starttls = \"smtp\"; }"), 0,
     "t:2: ", "unknown starttls 'smtp' (valid: postgres)"},
    /* starttls on an allow rule */
    {NULL, OUT1("{ action = \"allow\"; starttls = \"postgres\"; }"), 0,
     "t:2: ", "starttls needs action \"require_tls\""},
    /* tls on a deny rule would be ignored */
    {NULL, OUT1("{ action = \"deny\"; tls = { min_version = \"TLSv1.3\"; }; }"), 0,
     "t:2: ", "tls settings only apply to action \"require_tls\""},
    /* outbound rules take to, not from */
    {NULL, OUT1("{ from = \"10.0.0.0/8\"; action = \"deny\"; }"), 0, "t:2: ", "use to, not from"},
    /* unknown dns action */
    {NULL, V "outbound = { dns = \"require_tls\"; };\n", 0,
     "t:2: ", "unknown dns 'require_tls' (valid: allow, deny)"},
    /* rules must be a list */
    {NULL, V "outbound = { rules = { a = 1; }; };\n", 0, "t:2: ", "rules must be a list"},
    /* a rule that is not a group */
    {NULL, OUT1("5"), 0, "t:2: ", "outbound rule 1 must be a group"},
    /* a section of the wrong type */
    {NULL, V "outbound = 5;\n", 0, "t:2: ", "outbound must be a group"},
    /* inbound rule without port */
    {NULL, IN1("{ action = \"allow\"; }"), 0, "t:2: ", "inbound rule 1 has no port"},
    /* inbound rules take from, not to */
    {NULL, IN1("{ port = 1; to = \"10.0.0.1\"; action = \"allow\"; }"), 0,
     "t:2: ", "use from for the peer"},
    /* inbound rules have no starttls */
    {NULL, IN1("{ port = 1; starttls = \"postgres\"; action = \"require_tls\"; }"), 0,
     "t:2: ", "starttls applies to outbound rules only"},
    /* from is an address, not a name */
    {NULL, IN1("{ port = 1; from = \"example.com\"; action = \"allow\"; }"), 0,
     "t:2: ", "from takes an address or a CIDR"},
    /* server_name in an inbound rule */
    {NULL, IN1("{ port = 1; action = \"require_tls\"; tls = { server_name = \"a.b\"; }; }"), 0,
     "t:2: ", "server_name is only allowed in an outbound rule's tls group"},
    /* insecure_cn_fallback is a per-rule, outbound-only opt-in */
    {NULL, V "tls = { insecure_cn_fallback = true; };\n", 0,
     "t:2: ", "insecure_cn_fallback is only allowed in an outbound rule's tls group"},
    {NULL, IN1("{ port = 1; action = \"require_tls\"; tls = { insecure_cn_fallback = true; }; }"),
     0, "t:2: ", "insecure_cn_fallback is only allowed in an outbound rule's tls group"},
    {NULL,
     OUT1("{ to = \"a.example\"; action = \"require_tls\"; "
          "tls = { insecure_cn_fallback = \"yes\"; }; }"),
     0, "t:2: ", "insecure_cn_fallback must be true or false"},
    /* require_client_cert without the CA that checks clients */
    {NULL, IN1("{ port = 1; action = \"require_tls\"; tls = { require_client_cert = true; }; }"), 0,
     "t:2: ", "require_client_cert = true needs client_ca_file"},
    /* client_ca_file alone means nothing */
    {NULL,
     IN1("{ port = 1; action = \"require_tls\"; tls = { client_ca_file = \"@PKI@/me.pem\"; }; }"),
     0, "t:2: ", "client_ca_file is only used with require_client_cert = true"},
    /* external on an allow rule */
    {NULL, IN1("{ port = 1; action = \"allow\"; external = true; }"), 0,
     "t:2: ", "external only applies to action \"require_tls\""},
    /* hostile: a NUL byte in the file, on line 2 */
    {NULL, BIN(V "mode = \"enf\0orce\";\n"), "t:2: ", "NUL byte in the policy text"},
    /* hostile: a NUL byte after a comment, on line 3 */
    {NULL, BIN(V "# comment\n\0"), "t:3: ", "NUL byte in the policy text"},
    /* hostile: libconfig would silently drop an escaped NUL from a path */
    {NULL, V "tls = { ca_file = \"@PKI@/me.pem\\x00.txt\"; };\n", 0,
     "t:2: ", "NUL byte (\\x00) in a string"},
    /* hostile: non-UTF-8 bytes in a host name */
    {NULL, OUT1("{ to = \"\xff\xfe.example\"; action = \"deny\"; }"), 0,
     "t:2: ", "byte 0xff is not allowed"},
    /* hostile: deep nesting stops early, on the line where it happens */
    {NULL,
     V "a = {\nb = {\nc = ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( 1 ) ) ) ) ) ) ) ) ) ) ) ) ) ) );};};\n", 0,
     "t:4: ", "nested deeper than 16 levels"},
};

/* PEM files the policy engine must accept: what OpenSSL's PEM readers read. */
static const struct pem_case {
	const char *text;
} pem_cases[] = {
    /* a key file written on Windows (CRLF line ends) */
    {V "tls = { client_cert = \"@PKI@/me.pem\"; client_key = \"@PKI@/crlf-rsa.key\"; };\n"},
    /* a CA file whose last line has no newline */
    {V "tls = { ca_file = \"@PKI@/no-final-newline.pem\"; };\n"},
    /* comment text before the armour, as openssl x509 -text writes it */
    {V "tls = { ca_file = \"@PKI@/public-ca.pem\"; };\n"},
};

START_TEST(test_pem_accepted)
{
	struct policy_error err = {0};
	struct policy *policy = load_text(pem_cases[_i].text, 0, &err);

	ck_assert_msg(policy != NULL, "refused: %s", err.msg);
	policy_free(policy);
}
END_TEST

static void check_error(const struct error_case *c, struct policy *policy,
                        const struct policy_error *err)
{
	ck_assert_msg(policy == NULL, "accepted: %s", c->fixture ? c->fixture : c->text);
	ck_assert_msg(strncmp(err->msg, c->want_prefix, strlen(c->want_prefix)) == 0,
	              "want prefix '%s', got '%s'", c->want_prefix, err->msg);
	ck_assert_msg(strstr(err->msg, c->want_msg) != NULL, "want '%s' in '%s'", c->want_msg,
	              err->msg);
}

START_TEST(test_error)
{
	const struct error_case *c = &error_cases[_i];
	struct policy_error err = {0};
	struct policy *policy;

	if (c->fixture != NULL)
		policy = load_fixture(c->fixture, &err);
	else
		policy = load_text(c->text, c->len, &err);
	check_error(c, policy, &err);
}
END_TEST

/* ---- hostile inputs that are generated ---- */

static char *repeat(const char *head, const char *unit, size_t n, const char *tail)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail), i;
	char *buf = malloc(hl + ul * n + tl + 1);

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, head, hl);
	for (i = 0; i < n; i++)
		memcpy(buf + hl + i * ul, unit, ul);
	memcpy(buf + hl + n * ul, tail, tl + 1);
	return buf;
}

enum gen_kind {
	GEN_TEN_MB,       /* 10 MB of comments */
	GEN_DEEP,         /* 10,000 nested groups */
	GEN_LONG_HOST,    /* a 100,000-character to */
	GEN_LONG_PATH,    /* a 5,000-character ca_file */
	GEN_LONG_COMMENT, /* a 3 MB comment line: accepted */
	GEN_HIGH_BYTES,   /* non-UTF-8 bytes in a comment: accepted */
};

static const struct gen_case {
	enum gen_kind kind;
	bool want_ok;
	const char *want_msg;
} gen_cases[] = {
    /* over POLICY_MAX_FILE before any parsing */
    {GEN_TEN_MB, false, "t: policy is larger than 4194304 bytes"},
    /* no stack exhaustion in libconfig's parser */
    {GEN_DEEP, false, "t:2: groups and lists nested deeper than 16 levels"},
    /* a host name far over 253 characters */
    {GEN_LONG_HOST, false, "t:2: to '"},
    /* the kernel's ENAMETOOLONG reported with the line */
    {GEN_LONG_PATH, false, "t:2: ca_file '"},
    /* long but under the limit */
    {GEN_LONG_COMMENT, true, NULL},
    /* comments may hold any bytes */
    {GEN_HIGH_BYTES, true, NULL},
};

START_TEST(test_generated)
{
	const struct gen_case *c = &gen_cases[_i];
	struct policy_error err = {0};
	struct policy *policy;
	char *text = NULL;

	switch (c->kind) {
	case GEN_TEN_MB:
		text = repeat(V, "# padding padding padding padding padding padding pad\n",
		              10 * 1024 * 1024 / 54, "");
		break;
	case GEN_DEEP:
		text = repeat(V "x = ", "{ a = ", 10000, "1; };");
		break;
	case GEN_LONG_HOST:
		text = repeat(V "outbound = { rules = ( { to = \"", "a", 100000,
		              ".example\"; action = \"deny\"; } ); };\n");
		break;
	case GEN_LONG_PATH:
		text = repeat(V "tls = { ca_file = \"", "/x", 2500, "\"; };\n");
		break;
	case GEN_LONG_COMMENT:
		text = repeat(V "#", "c", 3 * 1024 * 1024, "\nmode = \"audit\";\n");
		break;
	case GEN_HIGH_BYTES:
	default:
		text = repeat(V "# ", "\xff\xfe\x80", 100, "\nmode = \"audit\";\n");
		break;
	}
	policy = policy_load_string(text, strlen(text), "t", &err);
	if (c->want_ok) {
		ck_assert_msg(policy != NULL, "%s", err.msg);
		ck_assert_int_eq(policy_mode(policy), POLICY_MODE_AUDIT);
	} else {
		ck_assert_ptr_null(policy);
		ck_assert_msg(strncmp(err.msg, c->want_msg, strlen(c->want_msg)) == 0,
		              "want '%s', got '%.200s'", c->want_msg, err.msg);
	}
	policy_free(policy);
	free(text);
}
END_TEST

/* 5,000 rules: accepted, the last one matches, a miss falls to the default. */
START_TEST(test_many_rules)
{
	struct policy_error err = {0};
	const struct policy_rule *rule;
	struct policy_addr addr;
	struct policy *policy;
	char *text, *p;
	size_t i, cap = 5000 * 96 + 256;

	text = malloc(cap);
	ck_assert_ptr_nonnull(text);
	p = text + sprintf(text, V "outbound = { default = \"deny\"; rules = (\n");
	for (i = 0; i < 5000; i++)
		p += sprintf(p, "{ to = \"10.%zu.%zu.0/24\"; port = %zu; action = \"allow\"; }%s\n",
		             i / 256, i % 256, 1000 + i, i + 1 < 5000 ? "," : "");
	sprintf(p, "); };\n");
	policy = policy_load_string(text, strlen(text), "t", &err);
	ck_assert_msg(policy != NULL, "%s", err.msg);
	ck_assert_int_eq(policy_addr_parse(&addr, "10.19.135.77"), 0); /* rule 5000: 10.19.135 */
	rule = policy_match_out(policy, &addr, 5999, POLICY_PROTO_TCP, NULL);
	ck_assert_int_eq(rule->index, 5000);
	ck_assert_int_eq(rule->line, 5002);
	ck_assert_int_eq(rule->action, POLICY_ACTION_ALLOW);
	rule = policy_match_out(policy, &addr, 5998, POLICY_PROTO_TCP, NULL);
	ck_assert_int_eq(rule->index, POLICY_RULE_DEFAULT);
	ck_assert_int_eq(rule->action, POLICY_ACTION_DENY);
	ck_assert_int_eq(policy_addr_parse(&addr, "10.200.0.1"), 0);
	rule = policy_match_out(policy, &addr, 1000, POLICY_PROTO_TCP, NULL);
	ck_assert_int_eq(rule->index, POLICY_RULE_DEFAULT);
	policy_free(policy);
	free(text);
}
END_TEST

/* ---- matching ---- */

static const char *const match_policies[] = {
    /* 0: address, name and port rules under a require_tls default */
    V "outbound = { rules = (\n"
      "{ to = \"10.1.2.3\"; port = 80; action = \"allow\"; },\n"                     /* 1 */
      "{ to = \"10.0.0.0/8\"; port = [ 22, \"8000-8099\" ]; action = \"deny\"; },\n" /* 2 */
      "{ to = \"0.0.0.0/0\"; port = 23; action = \"deny\"; },\n"                     /* 3 */
      "{ to = \"192.168.1.255/32\"; action = \"allow\"; },\n"                        /* 4 */
      "{ to = \"2001:db8::/32\"; port = 443; action = \"allow\"; },\n"               /* 5 */
      "{ to = \"::1\"; port = 25; action = \"deny\"; },\n"                           /* 6 */
      "{ to = \"::/0\"; port = 24; action = \"deny\"; },\n"                          /* 7 */
      "{ to = \"api.example.com\"; port = 443; action = \"allow\"; },\n"             /* 8 */
      "{ to = \"*.example.com\"; port = 443; action = \"deny\"; },\n"                /* 9 */
      "{ to = \"*.b.example.org\"; action = \"allow\"; },\n"                         /* 10 */
      "{ to = \"10.1.2.3\"; port = 81; proto = \"udp\"; action = \"allow\"; },\n"    /* 11 */
      "{ to = \"172.16.0.0/12\"; port = 9999; action = \"allow\"; },\n"              /* 12 */
      "{ port = \"60000-60010\"; action = \"allow\"; },\n"                           /* 13 */
      "{ to = \"10.9.9.9\"; port = 60005; action = \"deny\"; },\n"                   /* 14 */
      "{ to = \"128.0.0.0/1\"; port = 7; action = \"deny\"; }\n"                     /* 15 */
      "); };\n",
    /* 1: default allow, dns deny */
    V "outbound = { default = \"allow\"; dns = \"deny\"; };\n",
    /* 2: default deny, dns left at allow */
    V "outbound = { default = \"deny\"; };\n",
    /* 3: a CIDR written as v4-mapped IPv6 */
    V "outbound = { rules = (\n{ to = \"::ffff:10.0.0.0/104\"; action = \"deny\"; },\n"
      "{ port = 8080; action = \"allow\"; },\n"
      "{ port = [ 8080, 9090 ]; action = \"deny\"; }\n); };\n",
};

#define TCP   POLICY_PROTO_TCP
#define UDP   POLICY_PROTO_UDP
#define RTLS  POLICY_ACTION_REQUIRE_TLS
#define ALLOW POLICY_ACTION_ALLOW
#define DENY  POLICY_ACTION_DENY

static const struct match_case {
	int policy;
	const char *ip; /* NULL: no address */
	const char *host;
	uint16_t port;
	enum policy_proto proto;
	int want_index;
	enum policy_action want_action;
} match_cases[] = {
    {0, "10.1.2.3", NULL, 80, TCP, 1, ALLOW},               /* exact IPv4 */
    {0, "10.1.2.3", NULL, 22, TCP, 2, DENY},                /* /8 with a listed port */
    {0, "10.0.0.0", NULL, 8000, TCP, 2, DENY},              /* first address, range start */
    {0, "10.255.255.255", NULL, 8099, TCP, 2, DENY},        /* last address, range end */
    {0, "10.1.2.3", NULL, 8100, TCP, 0, RTLS},              /* one past the range */
    {0, "11.0.0.0", NULL, 22, TCP, 0, RTLS},                /* one past the /8 */
    {0, "9.255.255.255", NULL, 8050, TCP, 0, RTLS},         /* one before the /8 */
    {0, "1.2.3.4", NULL, 23, TCP, 3, DENY},                 /* /0 matches every IPv4 */
    {0, "192.168.1.255", NULL, 1, TCP, 4, ALLOW},           /* /32, no port: any port */
    {0, "192.168.1.254", NULL, 1, TCP, 0, RTLS},            /* next to the /32 */
    {0, "::ffff:10.1.2.3", NULL, 80, TCP, 1, ALLOW},        /* v4-mapped matches IPv4 rules */
    {0, "2001:db8:ffff::1", NULL, 443, TCP, 5, ALLOW},      /* IPv6 /32 */
    {0, "2001:db9::", NULL, 443, TCP, 0, RTLS},             /* one past the IPv6 /32 */
    {0, "::1", NULL, 25, TCP, 6, DENY},                     /* IPv6 /128 */
    {0, "::2", NULL, 25, TCP, 0, RTLS},                     /* next to the /128 */
    {0, "::2", NULL, 24, TCP, 7, DENY},                     /* ::/0 matches IPv6 */
    {0, "1.2.3.4", NULL, 24, TCP, 0, RTLS},                 /* ::/0 does not match IPv4 */
    {0, NULL, "API.Example.COM.", 443, TCP, 8, ALLOW},      /* exact name: case, trailing dot */
    {0, NULL, "x.example.com", 443, TCP, 9, DENY},          /* wildcard, one label */
    {0, NULL, "a.b.example.com", 443, TCP, 9, DENY},        /* wildcard, several labels */
    {0, NULL, "example.com", 443, TCP, 0, RTLS},            /* never the bare suffix */
    {0, NULL, "b.example.org", 1, TCP, 0, RTLS},            /* never the bare suffix (2 labels) */
    {0, NULL, "X.B.Example.Org.", 1, TCP, 10, ALLOW},       /* wildcard, case and trailing dot */
    {0, NULL, "api.example.com", 80, TCP, 0, RTLS},         /* name matches, port does not */
    {0, "10.1.2.3", "api.example.com", 80, TCP, 1, ALLOW},  /* address rule comes first */
    {0, "10.1.2.3", "api.example.com", 443, TCP, 8, ALLOW}, /* then the name rule */
    {0, "10.1.2.3", NULL, 81, UDP, 11, ALLOW},              /* UDP rule */
    {0, "10.1.2.3", NULL, 80, UDP, 0, DENY},                /* TCP rule, UDP lookup: default deny */
    {0, "10.1.2.3", NULL, 81, TCP, 0, RTLS},                /* UDP rule, TCP lookup */
    {0, "172.31.255.255", NULL, 9999, TCP, 12, ALLOW},      /* last address of a /12 */
    {0, "172.32.0.0", NULL, 9999, TCP, 0, RTLS},            /* one past the /12 */
    {0, "10.9.9.9", NULL, 60005, TCP, 13, ALLOW},           /* two match: the first wins */
    {0, "200.0.0.1", NULL, 7, TCP, 15, DENY},               /* /1 */
    {0, "127.0.0.1", NULL, 7, TCP, 0, RTLS},                /* outside the /1 */
    {0, NULL, NULL, 60001, TCP, 13, ALLOW},                 /* no address, no name: any-rules */
    {0, "10.1.2.3", NULL, 53, UDP, 0, ALLOW},               /* DNS allowed under require_tls */
    {0, "10.1.2.3", NULL, 53, TCP, 0, ALLOW},               /* DNS over TCP too */
    {1, "1.2.3.4", NULL, 5000, UDP, 0, ALLOW},              /* UDP default follows allow */
    {1, "1.2.3.4", NULL, 53, UDP, 0, DENY},                 /* dns = deny */
    {1, "1.2.3.4", NULL, 53, TCP, 0, DENY},                 /* dns = deny, TCP */
    {1, "1.2.3.4", NULL, 80, TCP, 0, ALLOW},                /* default allow */
    {2, "1.2.3.4", NULL, 5000, UDP, 0, DENY},               /* UDP default deny */
    {2, "1.2.3.4", NULL, 53, UDP, 0, ALLOW},                /* DNS still allowed */
    {3, "10.200.0.1", NULL, 443, TCP, 1, DENY},             /* v4-mapped CIDR matches IPv4 */
    {3, "::ffff:10.0.0.1", NULL, 443, TCP, 1, DENY},        /* and v4-mapped addresses */
    {3, "11.0.0.1", NULL, 443, TCP, 0, RTLS},               /* but not outside the /8 */
    {3, "11.0.0.1", NULL, 8080, TCP, 2, ALLOW},             /* port-only rule */
    {3, "11.0.0.1", NULL, 9090, TCP, 3, DENY},              /* second port of a list */
    {3, "10.0.0.1", NULL, 8080, TCP, 1, DENY},              /* address rule is earlier */
    {3, NULL, NULL, 8081, TCP, 0, RTLS},                    /* no port-only rule for 8081 */
};

START_TEST(test_match_out)
{
	const struct match_case *c = &match_cases[_i];
	struct policy_error err = {0};
	const struct policy_rule *rule;
	struct policy_addr addr;
	struct policy *policy;

	policy = load_text(match_policies[c->policy], 0, &err);
	ck_assert_msg(policy != NULL, "%s", err.msg);
	if (c->ip != NULL)
		ck_assert_int_eq(policy_addr_parse(&addr, c->ip), 0);
	rule = policy_match_out(policy, c->ip ? &addr : NULL, c->port, c->proto, c->host);
	ck_assert_ptr_nonnull(rule);
	ck_assert_msg(rule->index == c->want_index, "%s %s :%u: rule %d, want %d", c->ip, c->host,
	              c->port, rule->index, c->want_index);
	ck_assert_int_eq(rule->action, c->want_action);
	ck_assert_int_eq(rule->proto, c->proto);
	if (c->want_index == POLICY_RULE_DEFAULT)
		ck_assert_int_eq(rule->line, 0);
	else
		ck_assert_int_eq(rule->line, c->want_index + 2); /* one rule per line from line 3 */
	policy_free(policy);
}
END_TEST

/* Many IPv4 networks of every prefix length, some repeated with other ports:
 * the index answers what a scan of the rules in file order answers. */
#define SCAN_RULES 400

struct scan_rule {
	uint32_t net;
	int prefix;
	uint16_t port; /* 0: any */
};

static uint32_t scan_random(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

static uint32_t scan_mask(int prefix)
{
	return prefix == 0 ? 0 : ~0u << (32 - prefix);
}

START_TEST(test_match_out_agrees_with_a_scan)
{
	static struct scan_rule rules[SCAN_RULES];
	struct policy_error err = {0};
	const struct policy_rule *rule;
	struct policy_addr addr;
	struct policy *policy;
	uint32_t state = 2463534242u, a;
	size_t cap = 64 * SCAN_RULES + 256, len = 0;
	char *text = malloc(cap);
	int i, k, want;
	uint16_t port;

	ck_assert_ptr_nonnull(text);
	len += (size_t)snprintf(text + len, cap - len,
	                        V "outbound = { default = \"deny\"; rules = (\n");
	for (i = 0; i < SCAN_RULES; i++) {
		/* A quarter reuse an earlier network, so runs hold several rules. */
		if (i > 0 && scan_random(&state) % 4 == 0) {
			rules[i] = rules[scan_random(&state) % (uint32_t)i];
		} else {
			rules[i].prefix = (int)(scan_random(&state) % 33);
			rules[i].net = scan_random(&state) & scan_mask(rules[i].prefix);
		}
		rules[i].port =
		    (uint16_t)(scan_random(&state) % 3 == 0 ? 0 : 1 + scan_random(&state) % 4);
		a = rules[i].net;
		len +=
		    (size_t)snprintf(text + len, cap - len, "{ to = \"%u.%u.%u.%u/%d\"; ", a >> 24,
		                     (a >> 16) & 255, (a >> 8) & 255, a & 255, rules[i].prefix);
		if (rules[i].port != 0)
			len +=
			    (size_t)snprintf(text + len, cap - len, "port = %u; ", rules[i].port);
		len += (size_t)snprintf(text + len, cap - len, "action = \"allow\"; }%s\n",
		                        i + 1 < SCAN_RULES ? "," : "");
	}
	snprintf(text + len, cap - len, "); };\n");
	policy = load_text(text, 0, &err);
	ck_assert_msg(policy != NULL, "%s", err.msg);
	for (k = 0; k < 20000; k++) {
		/* Half the addresses inside some rule's network, half anywhere. */
		a = scan_random(&state);
		if (k % 2 == 0) {
			const struct scan_rule *r = &rules[scan_random(&state) % SCAN_RULES];

			a = r->net | (a & ~scan_mask(r->prefix));
		}
		port = (uint16_t)(1 + scan_random(&state) % 5);
		for (want = 0, i = 0; i < SCAN_RULES && want == 0; i++) {
			if ((a & scan_mask(rules[i].prefix)) == rules[i].net &&
			    (rules[i].port == 0 || rules[i].port == port))
				want = i + 1;
		}
		addr.family = AF_INET;
		memset(addr.bytes, 0, sizeof(addr.bytes));
		addr.bytes[0] = (uint8_t)(a >> 24);
		addr.bytes[1] = (uint8_t)(a >> 16);
		addr.bytes[2] = (uint8_t)(a >> 8);
		addr.bytes[3] = (uint8_t)a;
		rule = policy_match_out(policy, &addr, port, POLICY_PROTO_TCP, NULL);
		ck_assert_msg(rule->index == want, "%u.%u.%u.%u:%u: rule %d, want %d", a >> 24,
		              (a >> 16) & 255, (a >> 8) & 255, a & 255, port, rule->index, want);
	}
	policy_free(policy);
	free(text);
}
END_TEST

static const char in_policy[] =
    V "inbound = { default = \"deny\"; rules = (\n"
      "{ port = 9100; from = \"127.0.0.0/8\"; action = \"allow\"; },\n"          /* 1 */
      "{ port = 9100; action = \"require_tls\"; },\n"                            /* 2 */
      "{ port = [ 80, \"8000-8010\" ]; from = \"::1\"; action = \"allow\"; },\n" /* 3 */
      "{ port = \"1-1023\"; action = \"require_tls\"; },\n"                      /* 4 */
      "{ port = 65535; action = \"allow\"; }\n"                                  /* 5 */
      "); };\n";

static const struct in_case {
	uint16_t port;
	const char *peer; /* NULL: peer unknown */
	int want_index;
	enum policy_action want_action;
} in_cases[] = {
    {9100, "127.0.0.1", 1, ALLOW},        /* port and from */
    {9100, "::ffff:127.0.0.5", 1, ALLOW}, /* v4-mapped peer */
    {9100, "10.0.0.1", 2, RTLS},          /* from does not match: next rule */
    {9100, NULL, 2, RTLS},                /* unknown peer: only rules without from */
    {80, "::1", 3, ALLOW},                /* port list, IPv6 peer */
    {80, "127.0.0.1", 4, RTLS},           /* from mismatch falls to the range rule */
    {8005, "::1", 3, ALLOW},              /* inside the range */
    {8011, "::1", 0, DENY},               /* one past the range: default */
    {1, "192.0.2.1", 4, RTLS},            /* range start */
    {1023, "192.0.2.1", 4, RTLS},         /* range end */
    {1024, "192.0.2.1", 0, DENY},         /* one past the range */
    {65535, NULL, 5, ALLOW},              /* highest port */
};

START_TEST(test_match_in)
{
	const struct in_case *c = &in_cases[_i];
	struct policy_error err = {0};
	const struct policy_rule *rule;
	struct policy_addr addr;
	struct policy *policy;

	policy = load_text(in_policy, 0, &err);
	ck_assert_msg(policy != NULL, "%s", err.msg);
	if (c->peer != NULL)
		ck_assert_int_eq(policy_addr_parse(&addr, c->peer), 0);
	rule = policy_match_in(policy, c->port, c->peer ? &addr : NULL);
	ck_assert_msg(rule->index == c->want_index, "%u from %s: rule %d, want %d", c->port,
	              c->peer, rule->index, c->want_index);
	ck_assert_int_eq(rule->action, c->want_action);
	policy_free(policy);
}
END_TEST

/* Effective TLS: rule over top level over built-in defaults. */
START_TEST(test_effective_tls)
{
	struct policy_error err = {0};
	const struct policy_rule *rule;
	struct policy_addr addr;
	struct policy *policy;

	policy = load_fixture("contract.conf", &err);
	ck_assert_msg(policy != NULL, "%s", err.msg);
	rule = policy_match_out(policy, NULL, 8444, TCP, "db.internal.example");
	ck_assert_int_eq(rule->index, 2);
	ck_assert_str_eq(rule->tls.server_name, "api.internal.example");
	ck_assert_ptr_nonnull(strstr(rule->tls.ca_file, "/internal-ca.pem"));
	ck_assert_ptr_nonnull(strstr(rule->tls.ca_path, "/pki")); /* inherited */
	ck_assert_uint_eq(rule->tls.npins, 1);
	ck_assert_uint_eq(rule->tls.pins[0][0], 0xe3); /* 47DE... */
	ck_assert_ptr_nonnull(strstr(rule->tls.client_key, "/me.key"));
	ck_assert_int_eq(policy_addr_parse(&addr, "10.20.255.1"), 0);
	rule = policy_match_out(policy, &addr, 5432, TCP, NULL);
	ck_assert_int_eq(rule->index, 3);
	ck_assert_int_eq(rule->starttls, POLICY_STARTTLS_POSTGRES);
	ck_assert_ptr_nonnull(strstr(rule->tls.ca_file, "/public-ca.pem")); /* top level */
	ck_assert_ptr_null(rule->tls.server_name);
	rule = policy_match_in(policy, 8443, NULL);
	ck_assert_int_eq(rule->tls.require_client_cert, true);
	ck_assert_ptr_nonnull(strstr(rule->tls.client_ca_file, "/clients-ca.pem"));
	rule = policy_match_in(policy, 443, NULL);
	ck_assert_int_eq(rule->tls.external, true);
	ck_assert_int_eq(rule->line, 45);
	policy_free(policy);
}
END_TEST

/* insecure_cn_fallback: off unless the rule says so; printed (check -v) only
 * where it is on, and the printed policy loads back the same. */
START_TEST(test_cn_fallback)
{
	static const char text[] = OUT1("{ to = \"old.example\"; action = \"require_tls\"; "
	                                "tls = { insecure_cn_fallback = true; }; }, "
	                                "{ to = \"new.example\"; action = \"require_tls\"; }");
	struct policy_error err = {0};
	struct policy *policy, *again;
	const struct policy_rule *rule;
	char *printed;

	policy = load_text(text, 0, &err);
	ck_assert_msg(policy != NULL, "%s", err.msg);
	ck_assert(!policy_tls_defaults(policy)->insecure_cn_fallback);
	rule = policy_match_out(policy, NULL, 443, TCP, "old.example");
	ck_assert_int_eq(rule->index, 1);
	ck_assert(rule->tls.insecure_cn_fallback);
	rule = policy_match_out(policy, NULL, 443, TCP, "new.example");
	ck_assert_int_eq(rule->index, 2);
	ck_assert(!rule->tls.insecure_cn_fallback);
	printed = print_policy(policy);
	ck_assert_ptr_nonnull(strstr(printed, "insecure_cn_fallback = true;"));
	ck_assert_ptr_eq(
	    strstr(strstr(printed, "insecure_cn_fallback") + 1, "insecure_cn_fallback"), NULL);
	again = policy_load_string(printed, strlen(printed), "printed", &err);
	ck_assert_msg(again != NULL, "%s", err.msg);
	ck_assert(policy_match_out(again, NULL, 443, TCP, "old.example")->tls.insecure_cn_fallback);
	policy_free(again);
	free(printed);
	policy_free(policy);
}
END_TEST

START_TEST(test_default_policy)
{
	struct policy *policy = policy_new_default();
	const struct policy_rule *rule;
	struct policy_addr addr;

	ck_assert_ptr_nonnull(policy);
	ck_assert_str_eq(policy_source(policy), "(built-in)");
	ck_assert_int_eq(policy_mode(policy), POLICY_MODE_ENFORCE);
	ck_assert(policy_env_override(policy));
	ck_assert(policy_inherit(policy));
	ck_assert_str_eq(policy_audit(policy)->socket, "/dev/log");
	ck_assert_int_eq(policy_audit(policy)->facility, LOG_AUTHPRIV);
	ck_assert(policy_audit(policy)->to_stderr);
	ck_assert(!policy_audit(policy)->log_allowed);
	ck_assert_int_eq(policy_tls_defaults(policy)->min_version, POLICY_TLS_1_2);
	ck_assert(policy_tls_defaults(policy)->verify_hostname);
	ck_assert_ptr_null(policy_tls_defaults(policy)->ca_file);
	ck_assert_int_eq(policy_tls_defaults(policy)->unmanaged, POLICY_UNMANAGED_DENY);
	ck_assert_int_eq(policy_addr_parse(&addr, "192.0.2.1"), 0);
	rule = policy_match_out(policy, &addr, 443, TCP, "www.example.com");
	ck_assert_int_eq(rule->action, RTLS);
	ck_assert(rule->tls.verify_hostname);
	ck_assert_int_eq(policy_match_out(policy, &addr, 123, UDP, NULL)->action, DENY);
	ck_assert_int_eq(policy_match_out(policy, &addr, 53, UDP, NULL)->action, ALLOW);
	ck_assert_int_eq(policy_match_in(policy, 8080, &addr)->action, RTLS);
	policy_free(policy);
	policy_free(NULL); /* harmless */
}
END_TEST

/* ---- addresses ---- */

static const struct addr_case {
	const char *text;
	int want_rc;
	int want_family;
	const char *want_text;
} addr_cases[] = {
    {"10.0.0.1", 0, AF_INET, "10.0.0.1"},        /* IPv4 */
    {"::1", 0, AF_INET6, "::1"},                 /* IPv6 */
    {"::ffff:10.0.0.1", 0, AF_INET, "10.0.0.1"}, /* v4-mapped becomes IPv4 */
    {"2001:DB8::1", 0, AF_INET6, "2001:db8::1"}, /* upper case hex */
    {"10.0.0.256", -1, 0, NULL},                 /* octet out of range */
    {"10.1", -1, 0, NULL},                       /* inet_aton shorthand refused */
    {"", -1, 0, NULL},                           /* empty */
    {"fe80::1%eth0", -1, 0, NULL},               /* scope ids are not addresses */
    {"example.com", -1, 0, NULL},                /* a name */
};

START_TEST(test_addr_parse)
{
	const struct addr_case *c = &addr_cases[_i];
	struct policy_addr addr;
	char buf[64];

	ck_assert_int_eq(policy_addr_parse(&addr, c->text), c->want_rc);
	if (c->want_rc != 0)
		return;
	ck_assert_int_eq(addr.family, c->want_family);
	ck_assert_str_eq(policy_addr_format(&addr, buf, sizeof(buf)), c->want_text);
}
END_TEST

START_TEST(test_addr_sockaddr)
{
	struct sockaddr_in6 sin6;
	struct sockaddr_un sun;
	struct policy_addr addr;
	uint16_t port = 0;
	char buf[64];

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(8443);
	ck_assert_int_eq(inet_pton(AF_INET6, "::ffff:192.0.2.7", &sin6.sin6_addr), 1);
	ck_assert_int_eq(policy_addr_from_sockaddr(&addr, (struct sockaddr *)&sin6, &port), 0);
	ck_assert_int_eq(addr.family, AF_INET);
	ck_assert_uint_eq(port, 8443);
	ck_assert_str_eq(policy_addr_format(&addr, buf, sizeof(buf)), "192.0.2.7");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_int_eq(policy_addr_from_sockaddr(&addr, (struct sockaddr *)&sun, NULL), -1);
}
END_TEST

/* ---- policy_load_file: file type, owner, mode, size ---- */

enum file_kind {
	FILE_MODE,     /* a good policy with the given mode and owner */
	FILE_RELATIVE, /* a relative path */
	FILE_MISSING,  /* no such file */
	FILE_DIR,      /* a directory */
	FILE_FIFO,     /* a FIFO: refused without blocking */
	FILE_BIG,      /* 10 MB */
	FILE_SYMLINK,  /* a symlink to a good file: normal in /etc */
	FILE_BROKEN,   /* an error inside: the message names the path and line */
};

static const struct file_case {
	enum file_kind kind;
	mode_t mode;
	uid_t owner; /* (uid_t)-1: leave as created (needs root otherwise) */
	bool want_ok;
	const char *want_msg;
} file_cases[] = {
    {FILE_MODE, 0644, (uid_t)-1, true, NULL}, /* the usual mode */
    {FILE_MODE, 0600, (uid_t)-1, true, NULL}, /* private */
    {FILE_MODE, 0664, (uid_t)-1, false,
     "refusing policy writable by group/others (mode 0664); fix with: chmod go-w "},
    {FILE_MODE, 0666, (uid_t)-1, false,
     "refusing policy writable by group/others (mode 0666); fix with: chmod go-w "},
    {FILE_MODE, 0602, (uid_t)-1, false, "(mode 0602)"}, /* others only */
    {FILE_MODE, 0644, 65534, false,
     "refusing policy owned by uid 65534 (not root or the current user "},
    {FILE_RELATIVE, 0644, (uid_t)-1, false, "policy path must be absolute"},
    {FILE_MISSING, 0644, (uid_t)-1, false, "cannot open: No such file or directory"},
    {FILE_DIR, 0755, (uid_t)-1, false, "not a regular file"},
    {FILE_FIFO, 0600, (uid_t)-1, false, "not a regular file"},
    {FILE_BIG, 0644, (uid_t)-1, false, "policy is larger than 4194304 bytes"},
    {FILE_SYMLINK, 0644, (uid_t)-1, true, NULL},
    {FILE_BROKEN, 0644, (uid_t)-1, false, ":2: unknown mode 'loud'"},
};

static void make_file(const struct file_case *c, const char *path)
{
	char target[PATH_MAX + 32];
	int fd;

	switch (c->kind) {
	case FILE_MODE:
		write_file(path, V "mode = \"audit\";\n", c->mode);
		if (c->owner != (uid_t)-1)
			ck_assert_int_eq(chown(path, c->owner, (gid_t)-1), 0);
		break;
	case FILE_DIR:
		ck_assert_int_eq(mkdir(path, c->mode), 0);
		break;
	case FILE_FIFO:
		ck_assert_int_eq(mkfifo(path, c->mode), 0);
		break;
	case FILE_BIG:
		write_file(path, V, c->mode);
		fd = open(path, O_WRONLY);
		ck_assert_int_eq(ftruncate(fd, 10 * 1024 * 1024), 0);
		close(fd);
		break;
	case FILE_SYMLINK:
		snprintf(target, sizeof(target), "%s.target", path);
		write_file(target, V "mode = \"audit\";\n", c->mode);
		ck_assert_int_eq(symlink(target, path), 0);
		break;
	case FILE_BROKEN:
		write_file(path, V "mode = \"loud\";\n", c->mode);
		break;
	case FILE_RELATIVE:
	case FILE_MISSING:
	default:
		break;
	}
}

START_TEST(test_load_file)
{
	const struct file_case *c = &file_cases[_i];
	struct policy_error err = {0};
	struct policy *policy;
	char path[PATH_MAX];

	if (c->owner != (uid_t)-1 && geteuid() != 0)
		return; /* chown to another uid needs root: nothing to test */
	snprintf(path, sizeof(path), "%.200s/file%d.conf", tmp_dir, _i);
	make_file(c, path);
	policy = policy_load_file(c->kind == FILE_RELATIVE ? "policy.conf" : path, &err);
	if (c->want_ok) {
		ck_assert_msg(policy != NULL, "%s", err.msg);
		ck_assert_int_eq(policy_mode(policy), POLICY_MODE_AUDIT);
		ck_assert_str_eq(policy_source(policy), path);
	} else {
		ck_assert_ptr_null(policy);
		ck_assert_msg(strstr(err.msg, c->want_msg) != NULL, "want '%s' in '%s'",
		              c->want_msg, err.msg);
		if (c->kind != FILE_RELATIVE)
			ck_assert_msg(strncmp(err.msg, path, strlen(path)) == 0,
			              "message does not start with the path: %s", err.msg);
	}
	policy_free(policy);
}
END_TEST

/* ---- main ---- */

static void setup_dirs(void)
{
	const char *env = getenv("TLSGUARD_POLICY_FIXTURES");
	char pki[PATH_MAX + 8];

	if (realpath(env ? env : "tests/fixtures/policy", fixture_dir) == NULL) {
		fprintf(stderr, "check_policy: cannot find the fixtures (run from the top of the "
		                "tree or set TLSGUARD_POLICY_FIXTURES)\n");
		exit(1);
	}
	snprintf(pki, sizeof(pki), "%s/pki", fixture_dir);
	if (realpath(pki, pki_dir) == NULL) {
		fprintf(stderr, "check_policy: no %s\n", pki);
		exit(1);
	}
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/check_policy.XXXXXX");
	if (mkdtemp(tmp_dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
}

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_loop_test(tc, test_valid_fixture, 0, N(valid_cases));
	tcase_add_test(tc, test_effective_tls);
	tcase_add_test(tc, test_default_policy);
	tcase_add_test(tc, test_cn_fallback);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_error, 0, N(error_cases));
	tcase_add_loop_test(tc, test_pem_accepted, 0, N(pem_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_generated, 0, N(gen_cases));
	tcase_add_test(tc, test_many_rules);
	suite_add_tcase(s, tc);

	tc = tcase_create("match");
	tcase_add_loop_test(tc, test_match_out, 0, N(match_cases));
	tcase_add_test(tc, test_match_out_agrees_with_a_scan);
	tcase_add_loop_test(tc, test_match_in, 0, N(in_cases));
	tcase_add_loop_test(tc, test_addr_parse, 0, N(addr_cases));
	tcase_add_test(tc, test_addr_sockaddr);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_loop_test(tc, test_load_file, 0, N(file_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	char cmd[PATH_MAX + 16];
	int status;

	setup_dirs();
	status = check_run(policy_suite());
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "check_policy: could not remove %s\n", tmp_dir);
	return status;
}
