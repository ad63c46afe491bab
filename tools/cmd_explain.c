/*
 * tlsguard explain [-p POLICY] [--in] [--udp] HOST[:PORT]: which rule applies to a
 * connection and what it requires. Never resolves names: a host name is matched
 * against name rules only, an address against address rules only.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/evp.h>

#include "cli.h"

#define EXPLAIN_DEFAULT_PORT 443
#define EXPLAIN_HOST_MAX     253 /* RFC 1035 2.3.4, without the trailing dot */
#define EXPLAIN_LABEL_MAX    63
#define EXPLAIN_KEY_WIDTH    18
/* What a program sees when the shim refuses a tunnel (TUNNEL_REFUSED_ERRNO_OUT
 * and _IN in shim/tunnel/tunnel.h, which tools/ does not include), and the audit
 * reason of a ClientHello the program sends itself on an upgraded connection. */
#define EXPLAIN_UPGRADE_ERRNO   "ECONNREFUSED"
#define EXPLAIN_TERMINATE_ERRNO "ECONNRESET"
#define EXPLAIN_TLS_IN_TLS      "tls_in_tls"

static int run_explain(int argc, char **argv);

const struct cli_command cli_cmd_explain = {
    .name = "explain",
    .synopsis = "[-p POLICY] [--in] [--udp] HOST[:PORT]",
    .summary = "show which rule applies to a connection and what it requires",
    .run = run_explain,
};

/* What the user asked about. Outbound: the destination. Inbound: the local port
 * and, when given, the peer address. */
struct explain_target {
	bool inbound;
	enum policy_proto proto;
	bool have_addr;
	struct policy_addr addr;
	char host[EXPLAIN_HOST_MAX + 1]; /* "" unless a host name was given */
	uint16_t port;
};

/* Decimal 1-65535, digits only (no sign, no spaces). */
static int explain_parse_port(const char *text, size_t len, uint16_t *port)
{
	unsigned long value = 0;
	size_t i;

	if (len == 0 || len > 5) {
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)text[i])) {
			return -1;
		}
		value = value * 10 + (unsigned long)(text[i] - '0');
	}
	if (value == 0 || value > 65535) {
		return -1;
	}
	*port = (uint16_t)value;
	return 0;
}

/* An address in text[0..len), copied out so policy_addr_parse sees a string. */
static int explain_parse_addr(const char *text, size_t len, struct policy_addr *out)
{
	char buf[64];

	if (len == 0 || len >= sizeof(buf)) {
		return -1;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	return policy_addr_parse(out, buf);
}

/* RFC 1123 2.1 host name: labels of letters, digits and '-' (and '_', seen in
 * real service names), not all-numeric at the end (so "10.0.0" is junk, not a
 * name). Stored lower-case: names compare case-insensitively (RFC 4343). */
static int explain_parse_hostname(const char *text, size_t len, char *out)
{
	size_t i, label = 0;
	bool numeric = true;

	if (len > 0 && text[len - 1] == '.') {
		len--; /* fully qualified form */
	}
	if (len == 0 || len > EXPLAIN_HOST_MAX) {
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (ch == '.') {
			if (label == 0) {
				return -1;
			}
			label = 0;
			numeric = true;
			out[i] = '.';
			continue;
		}
		if (!isalnum(ch) && ch != '-' && ch != '_') {
			return -1;
		}
		/* RFC 952: a label neither starts nor ends with a hyphen. */
		if (ch == '-' && (label == 0 || i + 1 == len || text[i + 1] == '.')) {
			return -1;
		}
		if (++label > EXPLAIN_LABEL_MAX) {
			return -1;
		}
		numeric = numeric && isdigit(ch);
		out[i] = (char)tolower(ch);
	}
	if (label == 0 || numeric) {
		return -1;
	}
	out[len] = '\0';
	return 0;
}

/* Outbound: "[v6]:PORT", "[v6]", bare "v6", "HOST:PORT", "HOST". */
static int explain_parse_out(const char *arg, struct explain_target *t)
{
	const char *colon, *end;
	size_t hostlen;

	t->port = EXPLAIN_DEFAULT_PORT;
	if (arg[0] == '[') {
		end = strchr(arg, ']');
		if (end == NULL || memchr(arg + 1, ':', (size_t)(end - arg - 1)) == NULL ||
		    explain_parse_addr(arg + 1, (size_t)(end - arg - 1), &t->addr) != 0) {
			return -1;
		}
		t->have_addr = true;
		if (end[1] == '\0') {
			return 0;
		}
		return end[1] == ':' ? explain_parse_port(end + 2, strlen(end + 2), &t->port) : -1;
	}
	colon = strchr(arg, ':');
	if (colon != NULL && strchr(colon + 1, ':') != NULL) {
		/* Two colons or more: a bare IPv6 address, no port. */
		t->have_addr = explain_parse_addr(arg, strlen(arg), &t->addr) == 0;
		return t->have_addr ? 0 : -1;
	}
	hostlen = colon != NULL ? (size_t)(colon - arg) : strlen(arg);
	if (colon != NULL && explain_parse_port(colon + 1, strlen(colon + 1), &t->port) != 0) {
		return -1;
	}
	if (explain_parse_addr(arg, hostlen, &t->addr) == 0) {
		t->have_addr = true;
		return 0;
	}
	return explain_parse_hostname(arg, hostlen, t->host);
}

/* Inbound: "PORT", "ADDR:PORT" (IPv4 peer) or "[v6]:PORT". */
static int explain_parse_in(const char *arg, struct explain_target *t)
{
	const char *colon, *end;

	colon = strrchr(arg, ':');
	if (colon == NULL) {
		return explain_parse_port(arg, strlen(arg), &t->port);
	}
	if (explain_parse_port(colon + 1, strlen(colon + 1), &t->port) != 0) {
		return -1;
	}
	if (arg[0] == '[') {
		end = strchr(arg, ']');
		if (end == NULL || end + 1 != colon) {
			return -1;
		}
		t->have_addr = explain_parse_addr(arg + 1, (size_t)(end - arg - 1), &t->addr) == 0;
	} else if (memchr(arg, ':', (size_t)(colon - arg)) == NULL) {
		t->have_addr = explain_parse_addr(arg, (size_t)(colon - arg), &t->addr) == 0;
	}
	return t->have_addr ? 0 : -1;
}

/* One aligned "key: value" line. */
static void explain_line(const char *key, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void explain_line(const char *key, const char *fmt, ...)
{
	char label[EXPLAIN_KEY_WIDTH + 2];
	va_list ap;

	snprintf(label, sizeof(label), "%s:", key);
	printf("%-*s ", EXPLAIN_KEY_WIDTH, label);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void explain_mode(const struct policy *policy)
{
	const char *override = policy_env_override(policy) ? "TLSGUARD_MODE may override it"
	                                                   : "TLSGUARD_MODE is ignored";

	switch (policy_mode(policy)) {
	case POLICY_MODE_ENFORCE:
		explain_line("mode", "enforce (%s)", override);
		break;
	case POLICY_MODE_AUDIT:
		explain_line("mode", "audit: nothing is blocked, would-be blocks are recorded (%s)",
		             override);
		break;
	case POLICY_MODE_OFF:
		explain_line("mode", "off: nothing is enforced or recorded (%s)", override);
		break;
	default:
		explain_line("mode", "%s", policy_mode_name(policy_mode(policy)));
		break;
	}
}

static void explain_connection(const struct explain_target *t)
{
	char addr[64];

	if (t->have_addr) {
		policy_addr_format(&t->addr, addr, sizeof(addr));
	}
	if (t->inbound) {
		explain_line("connection", "inbound tcp on local port %u from %s", t->port,
		             t->have_addr ? addr : "any peer");
		return;
	}
	explain_line("connection", "outbound %s to %s port %u", policy_proto_name(t->proto),
	             t->have_addr ? addr : t->host, t->port);
}

static void explain_rule(const struct policy *policy, const struct policy_rule *rule,
                         const struct explain_target *t)
{
	if (rule->index != POLICY_RULE_DEFAULT) {
		explain_line("rule", "%d (%s:%d)", rule->index, policy_source(policy), rule->line);
	} else if (t->inbound) {
		explain_line("rule", "default (inbound.default)");
	} else if (t->port == 53) {
		explain_line("rule", "default (outbound.dns)");
	} else {
		explain_line("rule", "default (outbound.default)");
	}
	explain_line("action", "%s", policy_action_name(rule->action));
	if (t->inbound && !t->have_addr) {
		explain_line("note", "rules with `from` not consulted: give FROM_ADDR:PORT to "
		                     "see them");
	} else if (!t->inbound && !t->have_addr) {
		explain_line("note", "address rules not consulted: give an address to see them");
	} else if (!t->inbound) {
		explain_line("note", "name rules not consulted: give the host name the program "
		                     "resolves to see them");
	}
}

static void explain_trust(const struct policy_tls *tls)
{
	if (tls->ca_file != NULL && tls->ca_path != NULL) {
		explain_line("trust anchors", "ca_file %s, ca_path %s", tls->ca_file, tls->ca_path);
	} else if (tls->ca_file != NULL) {
		explain_line("trust anchors", "ca_file %s", tls->ca_file);
	} else if (tls->ca_path != NULL) {
		explain_line("trust anchors", "ca_path %s", tls->ca_path);
	} else {
		explain_line("trust anchors", "system store");
	}
	switch (tls->trust) {
	case POLICY_TRUST_POLICY:
		explain_line("trust", "policy (only the policy's anchors)");
		break;
	case POLICY_TRUST_POLICY_AND_APP:
		explain_line("trust", "policy+app (also the anchors the program loads)");
		break;
	default:
		explain_line("trust", "%s", policy_trust_name(tls->trust));
		break;
	}
}

static void explain_pins(const struct policy_tls *tls)
{
	/* EVP_EncodeBlock: 4 output bytes per 3 input bytes, plus the NUL. */
	unsigned char b64[((POLICY_PIN_LEN + 2) / 3) * 4 + 1];
	size_t i;

	if (tls->npins == 0) {
		explain_line("pins", "none");
		return;
	}
	explain_line("pins", "%zu (the server key must match one)", tls->npins);
	for (i = 0; i < tls->npins; i++) {
		EVP_EncodeBlock(b64, tls->pins[i], POLICY_PIN_LEN);
		explain_line("  pin_sha256", "%s", (const char *)b64);
	}
}

/* upgrade_tls: who speaks TLS, and what the program sees when it is refused
 * (tlsguard.8, The tunnel). */
static void explain_upgrade(const struct policy_rule *rule)
{
	explain_line("tunnel", "upgrade_tls: the program writes plaintext, the shim speaks TLS "
	                       "to the peer");
	explain_line(
	    "handshake", "before any program byte leaves%s",
	    rule->starttls == POLICY_STARTTLS_POSTGRES ? ", after the shim's own SSLRequest" : "");
	explain_line("refused", "no program byte reaches the peer; the program's next call "
	                        "fails with " EXPLAIN_UPGRADE_ERRNO);
	explain_line("program's own TLS",
	             "refused (reason " EXPLAIN_TLS_IN_TLS "): no TLS inside TLS");
}

/* terminate_tls: the certificate the shim serves. */
static void explain_terminate(const struct policy_rule *rule)
{
	explain_line("tunnel", "terminate_tls: the shim serves TLS, the program reads and "
	                       "writes plaintext");
	explain_line("certificate", "%s, key %s",
	             rule->tls.cert_file != NULL ? rule->tls.cert_file : "-",
	             rule->tls.key_file != NULL ? rule->tls.key_file : "-");
	explain_line("refused", "plaintext, a refused handshake or a missing client certificate: "
	                        "the program's calls fail with " EXPLAIN_TERMINATE_ERRNO
	                        ", it never sees the client's bytes");
}

static void explain_tls_out(const struct policy_rule *rule, const struct explain_target *t)
{
	const struct policy_tls *tls = &rule->tls;
	char addr[64];
	const char *name = t->host;

	if (t->have_addr) {
		name = policy_addr_format(&t->addr, addr, sizeof(addr));
	}
	if (rule->action == POLICY_ACTION_UPGRADE_TLS) {
		explain_upgrade(rule);
	}
	explain_line("min version", "%s", policy_tls_version_name(tls->min_version));
	explain_trust(tls);
	if (!tls->verify_hostname) {
		explain_line("verify hostname", "no (verify_hostname = false)");
	} else if (tls->server_name != NULL) {
		explain_line("verify hostname", "yes, name checked: %s (server_name)",
		             tls->server_name);
	} else if (t->have_addr) {
		/* tlsguard.conf.5, Host names: an address the program did not
		 * resolve is checked by the SNI it sends, if any */
		explain_line("verify hostname",
		             "yes, name checked: the name the program resolved to %s, else the "
		             "SNI it sends, else %s",
		             name, name);
	} else {
		explain_line("verify hostname", "yes, name checked: %s", name);
	}
	if (tls->verify_hostname) {
		explain_line("name rules",
		             tls->insecure_cn_fallback
		                 ? "subjectAltName; a certificate without one may match by "
		                   "its subject CN (insecure_cn_fallback, audited); no partial "
		                   "wildcards"
		                 : "subjectAltName only (no subject CN fallback, no partial "
		                   "wildcards)");
	}
	explain_pins(tls);
	if (tls->client_cert != NULL) {
		explain_line("client cert", "%s, key %s (%s)", tls->client_cert,
		             tls->client_key != NULL ? tls->client_key : "-",
		             rule->action == POLICY_ACTION_UPGRADE_TLS
		                 ? "the shim presents it when the server asks"
		                 : "presented when the program has none");
	} else {
		explain_line("client cert", "none from the policy");
	}
	if (rule->starttls == POLICY_STARTTLS_POSTGRES) {
		explain_line("starttls",
		             "%s (SSLRequest in plaintext, then the server must "
		             "answer S and TLS follows)",
		             policy_starttls_name(rule->starttls));
	} else {
		explain_line("starttls", "%s", policy_starttls_name(rule->starttls));
	}
	explain_line("unmanaged tls", "%s", policy_unmanaged_name(tls->unmanaged));
}

static void explain_tls_in(const struct policy_rule *rule)
{
	const struct policy_tls *tls = &rule->tls;

	if (rule->action == POLICY_ACTION_TERMINATE_TLS) {
		explain_terminate(rule);
	}
	explain_line("min version", "%s", policy_tls_version_name(tls->min_version));
	if (tls->require_client_cert) {
		explain_line("client cert", "required, issued by %s",
		             tls->client_ca_file != NULL ? tls->client_ca_file
		                                         : "the policy's trust anchors");
	} else {
		explain_line("client cert", "not required");
	}
	explain_line("external", "%s",
	             tls->external ? (rule->action == POLICY_ACTION_TERMINATE_TLS
	                                  ? "yes (cert_file must chain to a public root)"
	                                  : "yes (server certificate must chain to a public root)")
	                           : "no");
	explain_line("unmanaged tls", "%s", policy_unmanaged_name(tls->unmanaged));
}

static void explain(const struct policy *policy, const struct explain_target *t)
{
	const struct policy_rule *rule;

	if (t->inbound) {
		rule = policy_match_in(policy, t->port, t->have_addr ? &t->addr : NULL);
	} else {
		rule = policy_match_out(policy, t->have_addr ? &t->addr : NULL, t->port, t->proto,
		                        t->have_addr ? NULL : t->host);
	}
	explain_line("policy", "%s",
	             cli_policy_is_builtin(policy) ? "built-in default" : policy_source(policy));
	explain_mode(policy);
	explain_connection(t);
	explain_rule(policy, rule, t);
	if (!policy_action_has_tls(rule->action)) {
		return;
	}
	if (t->inbound) {
		explain_tls_in(rule);
	} else {
		explain_tls_out(rule, t);
	}
}

static int run_explain(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"policy", required_argument, NULL, 'p'},
	    {"in", no_argument, NULL, 'i'},
	    {"udp", no_argument, NULL, 'u'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct explain_target target = {.proto = POLICY_PROTO_TCP};
	struct policy_error err = {0};
	struct policy *policy;
	const char *path = NULL;
	int c, rc;

	cli_options_begin();
	while ((c = getopt_long(argc, argv, ":p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			path = optarg;
			break;
		case 'i':
			target.inbound = true;
			break;
		case 'u':
			target.proto = POLICY_PROTO_UDP;
			break;
		default:
			return cli_option_other(&cli_cmd_explain, c, argv);
		}
	}
	if (argc - optind != 1) {
		return cli_usage_error(&cli_cmd_explain, "one HOST[:PORT] argument expected");
	}
	if (target.inbound && target.proto == POLICY_PROTO_UDP) {
		return cli_usage_error(&cli_cmd_explain, "--in applies to TCP only");
	}
	rc = target.inbound ? explain_parse_in(argv[optind], &target)
	                    : explain_parse_out(argv[optind], &target);
	if (rc != 0) {
		return cli_usage_error(&cli_cmd_explain, "'%s' is not %s", argv[optind],
		                       target.inbound
		                           ? "[FROM_ADDR:]PORT with a port from 1 to 65535"
		                           : "HOST[:PORT] (an address, [IPv6], or a host name, "
		                             "port 1-65535)");
	}

	policy = cli_policy_load(path, &err);
	if (policy == NULL) {
		fprintf(stderr, "%s\n", err.msg);
		return CLI_EXIT_INVALID;
	}
	explain(policy, &target);
	policy_free(policy);
	return CLI_EXIT_OK;
}
