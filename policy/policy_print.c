/*
 * The effective policy as libconfig text: every default written out, each rule
 * with its effective TLS settings, so `tlsguard check -v` shows what is
 * enforced and the output loads back to the same policy.
 */
#include <stdio.h>

#include "policy_internal.h"

/* libconfig(3) string escapes: \" \\ and \xHH for control bytes. */
static void print_string(FILE *out, const char *text)
{
	const unsigned char *p;

	fputc('"', out);
	for (p = (const unsigned char *)text; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void print_key_string(FILE *out, const char *key, const char *value)
{
	fprintf(out, " %s = ", key);
	print_string(out, value);
	fputc(';', out);
}

static void print_key_bool(FILE *out, const char *key, bool value)
{
	fprintf(out, " %s = %s;", key, value ? "true" : "false");
}

static void print_pins(FILE *out, const struct policy_tls *tls)
{
	char text[64];
	size_t i;

	fputs(" pin_sha256 = [ ", out);
	for (i = 0; i < tls->npins; i++) {
		policy_pin_encode(tls->pins[i], text);
		fprintf(out, "%s\"%s\"", i ? ", " : "", text);
	}
	fputs(" ];", out);
}

/* The keys every tls group may carry; rule-only keys are printed by the rule. */
static void print_tls_common(FILE *out, const struct policy_tls *tls)
{
	print_key_string(out, "min_version", policy_tls_version_name(tls->min_version));
	if (tls->ca_file != NULL)
		print_key_string(out, "ca_file", tls->ca_file);
	if (tls->ca_path != NULL)
		print_key_string(out, "ca_path", tls->ca_path);
	print_key_string(out, "trust", policy_trust_name(tls->trust));
	print_key_bool(out, "verify_hostname", tls->verify_hostname);
	print_key_string(out, "unmanaged", policy_unmanaged_name(tls->unmanaged));
	if (tls->npins != 0)
		print_pins(out, tls);
	if (tls->client_cert != NULL) {
		print_key_string(out, "client_cert", tls->client_cert);
		print_key_string(out, "client_key", tls->client_key);
	}
}

static void print_ports(FILE *out, const struct rule *rule)
{
	size_t i;

	if (rule->nports == 0)
		return;
	fputs(" port = ", out);
	if (rule->nports > 1)
		fputs("[ ", out);
	for (i = 0; i < rule->nports; i++) {
		if (i > 0)
			fputs(", ", out);
		if (rule->ports[i].lo == rule->ports[i].hi)
			fprintf(out, "%u", rule->ports[i].lo);
		else
			fprintf(out, "\"%u-%u\"", rule->ports[i].lo, rule->ports[i].hi);
	}
	fputs(rule->nports > 1 ? " ];" : ";", out);
}

static void print_net(FILE *out, const char *key, const struct rule *rule)
{
	char buf[64];

	policy_addr_format(&rule->net, buf, sizeof(buf));
	if (rule->prefix == policy_addr_bits(rule->net.family))
		fprintf(out, " %s = \"%s\";", key, buf);
	else
		fprintf(out, " %s = \"%s/%d\";", key, buf, rule->prefix);
}

static void print_rule_out(FILE *out, const struct rule *rule)
{
	fputs("\t\t{", out);
	if (rule->to == RULE_TO_NET)
		print_net(out, "to", rule);
	else if (rule->to == RULE_TO_HOST)
		fprintf(out, " to = \"%s\";", rule->host);
	else if (rule->to == RULE_TO_SUFFIX)
		fprintf(out, " to = \"*.%s\";", rule->host);
	print_ports(out, rule);
	print_key_string(out, "proto", policy_proto_name(rule->pub.proto));
	print_key_string(out, "action", policy_action_name(rule->pub.action));
	if (rule->pub.starttls != POLICY_STARTTLS_NONE)
		print_key_string(out, "starttls", policy_starttls_name(rule->pub.starttls));
	if (policy_action_has_tls(rule->pub.action)) {
		fputs("\n\t\t  tls = {", out);
		print_tls_common(out, &rule->pub.tls);
		if (rule->pub.tls.server_name != NULL)
			print_key_string(out, "server_name", rule->pub.tls.server_name);
		if (rule->pub.tls.insecure_cn_fallback)
			print_key_bool(out, "insecure_cn_fallback", true);
		fputs(" };", out);
	}
	fputs(" }", out);
}

static void print_rule_in(FILE *out, const struct rule *rule)
{
	fputs("\t\t{", out);
	print_ports(out, rule);
	if (rule->to == RULE_TO_NET)
		print_net(out, "from", rule);
	print_key_string(out, "action", policy_action_name(rule->pub.action));
	if (policy_action_has_tls(rule->pub.action)) {
		print_key_bool(out, "external", rule->pub.tls.external);
		fputs("\n\t\t  tls = {", out);
		print_tls_common(out, &rule->pub.tls);
		if (rule->pub.tls.cert_file != NULL) {
			print_key_string(out, "cert_file", rule->pub.tls.cert_file);
			print_key_string(out, "key_file", rule->pub.tls.key_file);
		}
		print_key_bool(out, "require_client_cert", rule->pub.tls.require_client_cert);
		if (rule->pub.tls.client_ca_file != NULL)
			print_key_string(out, "client_ca_file", rule->pub.tls.client_ca_file);
		fputs(" };", out);
	}
	fputs(" }", out);
}

static void print_rules(FILE *out, const struct rule *rules, size_t n, bool outbound)
{
	size_t i;

	fputs("\trules = (\n", out);
	for (i = 0; i < n; i++) {
		(outbound ? print_rule_out : print_rule_in)(out, &rules[i]);
		fputs(i + 1 < n ? ",\n" : "\n", out);
	}
	fputs("\t);\n", out);
}

static void print_top(FILE *out, const struct policy *policy)
{
	fputs("version = 1;\n", out);
	fprintf(out, "mode = \"%s\";\n", policy_mode_name(policy->mode));
	fprintf(out, "env_override = %s;\n", policy->env_override ? "true" : "false");
	fprintf(out, "inherit = %s;\n\n", policy->inherit ? "true" : "false");
	fputs("audit = {\n\tsocket = ", out);
	print_string(out, policy->audit.socket);
	fprintf(out, ";\n\tfacility = \"%s\";\n",
	        policy_name_of(policy_facility_names, policy->audit.facility));
	fprintf(out, "\tstderr = %s;\n\tlog_allowed = %s;\n};\n\n",
	        policy->audit.to_stderr ? "true" : "false",
	        policy->audit.log_allowed ? "true" : "false");
	fputs("tls = {", out);
	print_tls_common(out, &policy->tls);
	fputs(" };\n\n", out);
}

int policy_print(const struct policy *policy, FILE *out)
{
	print_top(out, policy);
	fprintf(out, "outbound = {\n\tdefault = \"%s\";\n\tdns = \"%s\";\n",
	        policy_action_name(policy->out_default), policy_action_name(policy->dns));
	print_rules(out, policy->out, policy->nout, true);
	fputs("};\n\n", out);
	fprintf(out, "inbound = {\n\tdefault = \"%s\";\n", policy_action_name(policy->in_default));
	print_rules(out, policy->in, policy->nin, false);
	fputs("};\n", out);
	return ferror(out) ? -1 : 0;
}
