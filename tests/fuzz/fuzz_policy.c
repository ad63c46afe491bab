/*
 * libFuzzer target: the policy engine (policy/), from libconfig text to matches.
 *
 * Input: policy text, loaded with policy_load_string() under the name "fuzz".
 * Every "@PKI@" is first replaced by the absolute path of
 * tests/fixtures/policy/pki (or $TLSGUARD_POLICY_FIXTURES/pki), as the policy
 * suite does, so the seeds' certificate paths exist.
 *
 * Properties (a violation aborts; tests/fuzz/replay.sh replays the target
 * on every saved input in make check):
 * - a refused policy has a message "fuzz:LINE: ..." or "fuzz: ..." (policy.h);
 * - a loaded policy prints (policy_print) to text that loads again, and that
 *   text prints identically (policy.h: "valid libconfig text that
 *   policy_load_string accepts and that compiles to the same policy");
 * - the reloaded policy has the same settings, and answers every
 *   policy_match_out / policy_match_in question asked here (addresses and host
 *   names quoted in the input, fixed ones, a spread of ports, TCP and UDP, with
 *   and without an address or name) with the same rule: index, action, proto,
 *   starttls and effective TLS settings (the line differs: it is the printed
 *   text's);
 * - a match is never NULL, and a UDP match is never require_tls.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "replay.h"
#include "policy.h"

#define POL_MAX_NAMES 8
#define POL_NAME_MAX  256

static char pol_pki[PATH_MAX];
static char pol_why[POLICY_ERROR_MAX + 256];

/* Finds pki/ once; without it the seeds' paths do not exist, which only costs
 * coverage. */
static void fuzz_policy_init(void)
{
	const char *env = getenv("TLSGUARD_POLICY_FIXTURES");
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/pki", env != NULL ? env : "tests/fixtures/policy");
	if (realpath(dir, pol_pki) == NULL) {
		fprintf(stderr,
		        "fuzz_policy: no %s (run from the top of the tree): @PKI@ "
		        "paths will not exist\n",
		        dir);
		snprintf(pol_pki, sizeof(pol_pki), "/nonexistent");
	}
}

static char *pol_substitute(const uint8_t *data, size_t size, size_t *out_len)
{
	size_t pki_len = strlen(pol_pki), i, o = 0, n = 0;
	char *text;

	for (i = 0; i + 5 <= size; i++) {
		n += memcmp(data + i, "@PKI@", 5) == 0;
	}
	text = malloc(size + n * pki_len + 1);
	if (text == NULL) {
		return NULL;
	}
	for (i = 0; i < size; i++) {
		if (i + 5 <= size && memcmp(data + i, "@PKI@", 5) == 0) {
			memcpy(text + o, pol_pki, pki_len);
			o += pki_len;
			i += 4;
			continue;
		}
		text[o++] = (char)data[i];
	}
	text[o] = '\0';
	*out_len = o;
	return text;
}

/* A growing buffer behind a FILE. Not open_memstream(): clang 14's
 * AddressSanitizer fails an internal CHECK in its open_memstream interceptor
 * after some thousands of streams. */
struct pol_buf {
	char *text;
	size_t len;
	size_t cap;
};

static ssize_t pol_buf_write(void *cookie, const char *data, size_t n)
{
	struct pol_buf *b = cookie;
	char *bigger;

	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		bigger = realloc(b->text, b->cap);
		if (bigger == NULL) {
			return -1;
		}
		b->text = bigger;
	}
	memcpy(b->text + b->len, data, n);
	b->len += n;
	b->text[b->len] = '\0';
	return (ssize_t)n;
}

static char *pol_print(const struct policy *policy, size_t *len)
{
	static const cookie_io_functions_t io = {.write = pol_buf_write};
	struct pol_buf b = {NULL, 0, 0};
	FILE *out = fopencookie(&b, "w", io);
	int rc;

	if (out == NULL) {
		return NULL;
	}
	rc = policy_print(policy, out);
	if (fclose(out) != 0 || rc != 0 || b.text == NULL) {
		free(b.text);
		return NULL;
	}
	*len = b.len;
	return b.text;
}

static bool pol_str_eq(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool pol_tls_eq(const struct policy_tls *a, const struct policy_tls *b)
{
	return a->min_version == b->min_version && pol_str_eq(a->ca_file, b->ca_file) &&
	       pol_str_eq(a->ca_path, b->ca_path) && a->trust == b->trust &&
	       a->verify_hostname == b->verify_hostname && a->unmanaged == b->unmanaged &&
	       a->npins == b->npins &&
	       (a->npins == 0 || memcmp(a->pins, b->pins, a->npins * POLICY_PIN_LEN) == 0) &&
	       pol_str_eq(a->client_cert, b->client_cert) &&
	       pol_str_eq(a->client_key, b->client_key) &&
	       pol_str_eq(a->server_name, b->server_name) &&
	       a->require_client_cert == b->require_client_cert &&
	       pol_str_eq(a->client_ca_file, b->client_ca_file) && a->external == b->external;
}

static bool pol_rule_eq(const struct policy_rule *a, const struct policy_rule *b)
{
	return a->index == b->index && a->action == b->action && a->proto == b->proto &&
	       a->starttls == b->starttls && pol_tls_eq(&a->tls, &b->tls);
}

static const char *pol_settings_eq(const struct policy *a, const struct policy *b)
{
	const struct policy_audit *x = policy_audit(a), *y = policy_audit(b);

	if (policy_mode(a) != policy_mode(b) || policy_env_override(a) != policy_env_override(b) ||
	    policy_inherit(a) != policy_inherit(b)) {
		return "mode, env_override or inherit changed by the round trip";
	}
	if (!pol_str_eq(x->socket, y->socket) || x->facility != y->facility ||
	    x->to_stderr != y->to_stderr || x->log_allowed != y->log_allowed) {
		return "audit settings changed by the round trip";
	}
	if (!pol_tls_eq(policy_tls_defaults(a), policy_tls_defaults(b))) {
		return "top-level tls settings changed by the round trip";
	}
	return NULL;
}

/* The questions: names quoted in the input (CIDR suffix cut, "*." made a
 * concrete name), then fixed ones. */
struct pol_names {
	char names[POL_MAX_NAMES + 6][POL_NAME_MAX];
	int n;
};

static void pol_add_name(struct pol_names *q, const char *s, size_t len)
{
	const char *slash = memchr(s, '/', len);
	char *out;

	if (q->n >= POL_MAX_NAMES + 6 || len + 2 >= POL_NAME_MAX) {
		return;
	}
	out = q->names[q->n++];
	if (slash != NULL) {
		len = (size_t)(slash - s);
	}
	if (len >= 2 && s[0] == '*' && s[1] == '.') {
		snprintf(out, POL_NAME_MAX, "x%.*s", (int)len - 1, s + 1);
		return;
	}
	snprintf(out, POL_NAME_MAX, "%.*s", (int)len, s);
}

static void pol_collect_names(struct pol_names *q, const char *text, size_t len)
{
	static const char *const fixed[] = {"127.0.0.1",       "::1",       "10.20.1.2",
	                                    "::ffff:10.0.0.1", "localhost", "a.internal.example"};
	const char *p = text, *end = text + len, *close;
	size_t i;

	q->n = 0;
	while (q->n < POL_MAX_NAMES && (p = memchr(p, '"', (size_t)(end - p))) != NULL) {
		close = memchr(p + 1, '"', (size_t)(end - p - 1));
		if (close == NULL) {
			break;
		}
		pol_add_name(q, p + 1, (size_t)(close - p - 1));
		p = close + 1;
	}
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		pol_add_name(q, fixed[i], strlen(fixed[i]));
	}
}

/* Asks both policies the same questions about one name. */
static const char *pol_ask(const struct policy *a, const struct policy *b, const char *name,
                           uint16_t extra_port)
{
	const uint16_t ports[] = {0, 1, 23, 53, 443, 5432, 8443, 65535, extra_port};
	const struct policy_rule *ra, *rb;
	struct policy_addr addr;
	bool is_addr = policy_addr_parse(&addr, name) == 0;
	const struct policy_addr *ip = is_addr ? &addr : NULL;
	size_t i;
	int proto;

	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		for (proto = POLICY_PROTO_TCP; proto <= POLICY_PROTO_UDP; proto++) {
			ra = policy_match_out(a, ip, ports[i], (enum policy_proto)proto, name);
			rb = policy_match_out(b, ip, ports[i], (enum policy_proto)proto, name);
			if (ra == NULL || rb == NULL) {
				return "policy_match_out returned NULL";
			}
			if (proto == POLICY_PROTO_UDP && ra->action == POLICY_ACTION_REQUIRE_TLS) {
				return "a UDP match says require_tls";
			}
			if (!pol_rule_eq(ra, rb)) {
				snprintf(pol_why, sizeof(pol_why),
				         "out %s port %u %s: rule %d %s, after the round trip rule "
				         "%d %s",
				         name, ports[i],
				         policy_proto_name((enum policy_proto)proto), ra->index,
				         policy_action_name(ra->action), rb->index,
				         policy_action_name(rb->action));
				return pol_why;
			}
		}
		if (!pol_rule_eq(policy_match_out(a, ip, ports[i], POLICY_PROTO_TCP, NULL),
		                 policy_match_out(b, ip, ports[i], POLICY_PROTO_TCP, NULL)) ||
		    !pol_rule_eq(policy_match_in(a, ports[i], ip),
		                 policy_match_in(b, ports[i], ip))) {
			snprintf(
			    pol_why, sizeof(pol_why),
			    "%s port %u: address-only or inbound match changed by the round trip",
			    name, ports[i]);
			return pol_why;
		}
	}
	return NULL;
}

static const char *pol_check_loaded(struct policy *policy, const char *text, size_t len,
                                    const uint8_t *data, size_t size)
{
	struct policy_error err = {0};
	struct policy *again = NULL;
	char *first = NULL, *second = NULL;
	size_t first_len, second_len;
	struct pol_names q;
	const char *why = "policy_print failed";
	int i;

	memset(&err, 0, sizeof(err));
	first = pol_print(policy, &first_len);
	if (first == NULL) {
		goto out;
	}
	again = policy_load_string(first, first_len, "printed", &err);
	if (again == NULL) {
		snprintf(pol_why, sizeof(pol_why), "the printed policy does not load: %s", err.msg);
		why = pol_why;
		goto out;
	}
	second = pol_print(again, &second_len);
	if (second == NULL) {
		goto out;
	}
	why = "printing the reloaded policy gives other text";
	if (first_len != second_len || memcmp(first, second, first_len) != 0) {
		goto out;
	}
	why = pol_settings_eq(policy, again);
	pol_collect_names(&q, text, len);
	for (i = 0; i < q.n && why == NULL; i++) {
		why = pol_ask(policy, again, q.names[i],
		              (uint16_t)(data[i % size] << 8 | data[(i * 7 + 1) % size]));
	}
	if (why == NULL) {
		why = pol_ask(policy, again, "", 443);
	}
out:
	free(first);
	free(second);
	policy_free(again);
	return why;
}

static const char *pol_check_error(const struct policy_error *err)
{
	if (memchr(err->msg, '\0', sizeof(err->msg)) == NULL) {
		return "the error message is not NUL-terminated";
	}
	if (strncmp(err->msg, "fuzz:", 5) != 0 || strlen(err->msg) < 7) {
		snprintf(pol_why, sizeof(pol_why), "the error does not start with 'fuzz:': %s",
		         err->msg);
		return pol_why;
	}
	return NULL;
}

static const char *fuzz_policy_check(const uint8_t *data, size_t size)
{
	struct policy_error err = {0};
	struct policy *policy;
	const char *why;
	size_t len;
	char *text;

	if (size == 0) {
		return NULL;
	}
	memset(&err, 0, sizeof(err));
	text = pol_substitute(data, size, &len);
	if (text == NULL) {
		return "out of memory";
	}
	policy = policy_load_string(text, len, "fuzz", &err);
	if (policy == NULL) {
		why = pol_check_error(&err);
	} else {
		why = pol_check_loaded(policy, text, len, data, size);
	}
	policy_free(policy);
	free(text);
	return why;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_policy_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = fuzz_policy_check(data, size);

	if (why != NULL) {
		fprintf(stderr, "fuzz_policy: property violated: %s\n", why);
		abort();
	}
	return 0;
}
