/*
 * `outbound` and `inbound`: defaults and rule lists. Each rule is compiled to a
 * struct rule with its effective TLS settings; policy_index.c builds the lookup
 * tables from them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

static int port_number(const char *text, size_t len, uint16_t *out)
{
	unsigned long value = 0;
	size_t i;

	if (len == 0 || len > 5)
		return -1;
	for (i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		value = value * 10 + (unsigned long)(text[i] - '0');
	}
	if (value < 1 || value > 65535)
		return -1;
	*out = (uint16_t)value;
	return 0;
}

static int port_one(struct parse *ps, const config_setting_t *s, struct port_range *out)
{
	const char *text, *dash;
	long long value = 0;

	if (config_setting_type(s) == CONFIG_TYPE_INT ||
	    config_setting_type(s) == CONFIG_TYPE_INT64) {
		if (parse_int(ps, s, &value) != 0)
			return -1;
		if (value < 1 || value > 65535)
			return parse_error(ps, s, "port %lld is out of range (1-65535)", value);
		out->lo = out->hi = (uint16_t)value;
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return parse_error(ps, s,
		                   "port must be a number, an \"a-b\" range, or a list of them");
	text = config_setting_get_string(s);
	dash = strchr(text, '-');
	if (dash == NULL) {
		if (port_number(text, strlen(text), &out->lo) != 0)
			return parse_error(ps, s,
			                   "port '%.40s' is not a number from 1 to 65535 or an "
			                   "\"a-b\" range",
			                   text);
		out->hi = out->lo;
		return 0;
	}
	if (port_number(text, (size_t)(dash - text), &out->lo) != 0 ||
	    port_number(dash + 1, strlen(dash + 1), &out->hi) != 0)
		return parse_error(
		    ps, s, "port range '%.40s' must be \"a-b\" with 1 <= a <= b <= 65535", text);
	if (out->lo > out->hi)
		return parse_error(ps, s, "port range '%.40s' is inverted (%u > %u)", text, out->lo,
		                   out->hi);
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct port_range *x = a, *y = b;

	return (int)x->lo - (int)y->lo;
}

static int rule_ports(struct parse *ps, const config_setting_t *s, struct rule *rule)
{
	struct port_range *ports, *sorted;
	bool agg = config_setting_type(s) == CONFIG_TYPE_LIST ||
	           config_setting_type(s) == CONFIG_TYPE_ARRAY;
	int i, n = agg ? config_setting_length(s) : 1;

	if (n == 0)
		return parse_error(ps, s, "port list is empty");
	ports = arena_calloc(&ps->policy->arena, (size_t)n, sizeof(*ports));
	sorted = arena_calloc(&ps->policy->arena, (size_t)n, sizeof(*sorted));
	if (ports == NULL || sorted == NULL)
		return parse_error(ps, s, "out of memory");
	for (i = 0; i < n; i++) {
		if (port_one(ps, agg ? config_setting_get_elem(s, (unsigned)i) : s, &ports[i]) != 0)
			return -1;
	}
	memcpy(sorted, ports, (size_t)n * sizeof(*ports));
	qsort(sorted, (size_t)n, sizeof(*sorted), cmp_range);
	rule->ports = ports;
	rule->sorted = sorted;
	rule->nports = (size_t)n;
	return 0;
}

/* `to`: an address, a CIDR, an exact host name or "*.suffix". */
static int rule_to(struct parse *ps, const config_setting_t *s, struct rule *rule)
{
	char host[POLICY_HOST_MAX + 1];
	char why[160];
	const char *text = NULL;

	if (parse_string(ps, s, &text) != 0)
		return -1;
	if (text[0] == '\0')
		return parse_error(ps, s, "to is empty (leave it out to match any destination)");
	if (strchr(text, '/') != NULL || policy_addr_parse(&rule->net, text) == 0) {
		if (policy_net_parse(text, &rule->net, &rule->prefix, why, sizeof(why)) != 0)
			return parse_error(ps, s, "to '%.80s': %s", text, why);
		rule->to = RULE_TO_NET;
		return 0;
	}
	rule->to = RULE_TO_HOST;
	if (text[0] == '*') {
		if (text[1] != '.')
			return parse_error(
			    ps, s, "to '%.80s': a wildcard must be written \"*.suffix\"", text);
		text += 2;
		rule->to = RULE_TO_SUFFIX;
	}
	if (strchr(text, '*') != NULL)
		return parse_error(ps, s, "to '%.80s': '*' is only allowed as the first label",
		                   config_setting_get_string(s));
	if (policy_host_normalise(text, host, why, sizeof(why)) != 0)
		return parse_error(ps, s, "to '%.80s': %s", config_setting_get_string(s), why);
	rule->host = arena_strdup(&ps->policy->arena, host);
	if (rule->host == NULL)
		return parse_error(ps, s, "out of memory");
	return 0;
}

static int rule_from(struct parse *ps, const config_setting_t *s, struct rule *rule)
{
	const char *text = NULL;
	char why[160];

	if (parse_string(ps, s, &text) != 0)
		return -1;
	if (policy_net_parse(text, &rule->net, &rule->prefix, why, sizeof(why)) != 0)
		return parse_error(ps, s, "from '%.80s': %s (from takes an address or a CIDR)",
		                   text, why);
	rule->to = RULE_TO_NET;
	return 0;
}

static int rule_action(struct parse *ps, const config_setting_t *group, int n, bool out,
                       struct rule *rule)
{
	const config_setting_t *s = config_setting_get_member(group, "action");
	char list[128];
	int value = 0;

	if (s == NULL)
		return parse_error(ps, group, "rule %d has no action (one of: %s)", n,
		                   policy_name_list(policy_action_names, list, sizeof(list)));
	if (parse_enum(ps, s, policy_action_names, &value) != 0)
		return -1;
	rule->pub.action = (enum policy_action)value;
	if (out && rule->pub.action == POLICY_ACTION_TERMINATE_TLS)
		return parse_error(ps, s,
		                   "action \"terminate_tls\" is for inbound rules (a plaintext "
		                   "client going out: upgrade_tls)");
	if (!out && rule->pub.action == POLICY_ACTION_UPGRADE_TLS)
		return parse_error(ps, s,
		                   "action \"upgrade_tls\" is for outbound rules (a plaintext "
		                   "server: terminate_tls)");
	return 0;
}

/* A tls group on a rule that does not speak TLS would be ignored silently. */
static int rule_tls(struct parse *ps, const config_setting_t *group, enum tls_where where,
                    struct rule *rule)
{
	const config_setting_t *s = config_setting_get_member(group, "tls");

	rule->pub.tls = ps->policy->tls;
	if (rule->pub.action == POLICY_ACTION_TERMINATE_TLS) {
		if (s == NULL)
			return parse_error(
			    ps, group,
			    "action \"terminate_tls\" needs tls = { cert_file = ...; "
			    "key_file = ...; } (the certificate the shim serves)");
		where = TLS_TERMINATE_RULE;
	}
	if (s == NULL)
		return 0;
	if (!policy_action_has_tls(rule->pub.action))
		return parse_error(ps, s,
		                   "tls settings only apply to action \"require_tls\", "
		                   "\"upgrade_tls\" or \"terminate_tls\"");
	return parse_tls(ps, s, where, &rule->pub.tls);
}

static int rule_out_proto(struct parse *ps, const config_setting_t *group, struct rule *rule)
{
	const config_setting_t *s;
	int value = 0;

	if ((s = config_setting_get_member(group, "proto")) != NULL) {
		if (parse_enum(ps, s, policy_proto_names, &value) != 0)
			return -1;
		rule->pub.proto = (enum policy_proto)value;
	}
	if (rule->pub.proto == POLICY_PROTO_UDP && policy_action_has_tls(rule->pub.action))
		return parse_error(ps, config_setting_get_member(group, "action"),
		                   "action \"%s\" with proto \"udp\": there is no TLS over "
		                   "UDP here; use allow or deny",
		                   policy_action_name(rule->pub.action));
	if ((s = config_setting_get_member(group, "starttls")) != NULL) {
		if (parse_enum(ps, s, policy_starttls_names, &value) != 0)
			return -1;
		if ((rule->pub.action != POLICY_ACTION_REQUIRE_TLS &&
		     rule->pub.action != POLICY_ACTION_UPGRADE_TLS) ||
		    rule->pub.proto != POLICY_PROTO_TCP)
			return parse_error(
			    ps, s,
			    "starttls needs action \"require_tls\" or \"upgrade_tls\" "
			    "and proto \"tcp\"");
		rule->pub.starttls = (enum policy_starttls)value;
	}
	return 0;
}

static int rule_out(struct parse *ps, const config_setting_t *group, int n, struct rule *rule)
{
	static const char *const valid[] = {"to",  "port",     "proto", "action",
	                                    "tls", "starttls", NULL};
	static const struct key_reason reasons[] = {
	    {"from", "outbound rules match the destination: use to, not from"},
	    {"external", "external applies to inbound rules only"},
	    {NULL, NULL},
	};
	const config_setting_t *s;

	if (config_setting_type(group) != CONFIG_TYPE_GROUP)
		return parse_error(ps, group, "outbound rule %d must be a group { ... }", n);
	rule->pub.index = n;
	rule->pub.line = config_setting_source_line(group);
	if (parse_check_keys(ps, group, "an outbound rule", valid, reasons) != 0 ||
	    rule_action(ps, group, n, true, rule) != 0 || rule_out_proto(ps, group, rule) != 0)
		return -1;
	if ((s = config_setting_get_member(group, "to")) != NULL && rule_to(ps, s, rule) != 0)
		return -1;
	if ((s = config_setting_get_member(group, "port")) != NULL && rule_ports(ps, s, rule) != 0)
		return -1;
	return rule_tls(ps, group, TLS_OUT_RULE, rule);
}

static int rule_in(struct parse *ps, const config_setting_t *group, int n, struct rule *rule)
{
	static const char *const valid[] = {"port", "from", "action", "tls", "external", NULL};
	static const struct key_reason reasons[] = {
	    {"to", "inbound rules match the local port and the peer: use from for the peer"},
	    {"proto", "inbound rules govern TCP listeners; proto is not allowed here"},
	    {"starttls", "starttls applies to outbound rules only"},
	    {NULL, NULL},
	};
	const config_setting_t *s;

	if (config_setting_type(group) != CONFIG_TYPE_GROUP)
		return parse_error(ps, group, "inbound rule %d must be a group { ... }", n);
	rule->pub.index = n;
	rule->pub.line = config_setting_source_line(group);
	if (parse_check_keys(ps, group, "an inbound rule", valid, reasons) != 0 ||
	    rule_action(ps, group, n, false, rule) != 0)
		return -1;
	if ((s = config_setting_get_member(group, "port")) == NULL)
		return parse_error(ps, group, "inbound rule %d has no port", n);
	if (rule_ports(ps, s, rule) != 0)
		return -1;
	if ((s = config_setting_get_member(group, "from")) != NULL && rule_from(ps, s, rule) != 0)
		return -1;
	if (rule_tls(ps, group, TLS_IN_RULE, rule) != 0)
		return -1;
	if ((s = config_setting_get_member(group, "external")) != NULL) {
		if (rule->pub.action != POLICY_ACTION_REQUIRE_TLS &&
		    rule->pub.action != POLICY_ACTION_TERMINATE_TLS)
			return parse_error(ps, s,
			                   "external only applies to action \"require_tls\" or "
			                   "\"terminate_tls\"");
		if (parse_bool(ps, s, &rule->pub.tls.external) != 0)
			return -1;
	}
	return 0;
}

/* A section's default: upgrade_tls as the outbound default would wrap every
 * connection in TLS, also those of programs that already speak TLS (TLS inside
 * TLS, refused) and those to servers that speak none; terminate_tls as the
 * inbound default would serve one certificate on every port. Both name their
 * destinations or ports in rules. */
static int parse_default(struct parse *ps, const config_setting_t *s, enum policy_action *out)
{
	int value = 0;

	if (config_setting_type(s) == CONFIG_TYPE_STRING &&
	    policy_name_lookup(policy_action_names, config_setting_get_string(s), &value) == 0 &&
	    policy_action_is_tunnel((enum policy_action)value))
		return parse_error(ps, s,
		                   "default cannot be \"%s\": the shim speaks TLS only for the "
		                   "destinations and ports a rule names",
		                   config_setting_get_string(s));
	if (parse_enum(ps, s, policy_default_names, &value) != 0)
		return -1;
	*out = (enum policy_action)value;
	return 0;
}

static int parse_rules(struct parse *ps, const config_setting_t *list, bool out,
                       struct rule **rules, size_t *nrules)
{
	int i, n;

	if (config_setting_type(list) != CONFIG_TYPE_LIST)
		return parse_error(ps, list, "rules must be a list ( { ... }, ... )");
	n = config_setting_length(list);
	*rules = arena_calloc(&ps->policy->arena, n > 0 ? (size_t)n : 1, sizeof(**rules));
	if (*rules == NULL)
		return parse_error(ps, list, "out of memory");
	for (i = 0; i < n; i++) {
		const config_setting_t *group = config_setting_get_elem(list, (unsigned)i);

		if ((out ? rule_out : rule_in)(ps, group, i + 1, &(*rules)[i]) != 0)
			return -1;
	}
	*nrules = (size_t)n;
	return 0;
}

int parse_outbound(struct parse *ps, const config_setting_t *group)
{
	static const char *const valid[] = {"default", "dns", "rules", NULL};
	struct policy *policy = ps->policy;
	const config_setting_t *s;
	int value = 0;

	if (parse_group(ps, group) != 0 ||
	    parse_check_keys(ps, group, "outbound", valid, NULL) != 0)
		return -1;
	if ((s = config_setting_get_member(group, "default")) != NULL &&
	    parse_default(ps, s, &policy->out_default) != 0)
		return -1;
	if ((s = config_setting_get_member(group, "dns")) != NULL) {
		if (parse_enum(ps, s, policy_dns_names, &value) != 0)
			return -1;
		policy->dns = (enum policy_action)value;
	}
	if ((s = config_setting_get_member(group, "rules")) != NULL)
		return parse_rules(ps, s, true, &policy->out, &policy->nout);
	return 0;
}

int parse_inbound(struct parse *ps, const config_setting_t *group)
{
	static const char *const valid[] = {"default", "rules", NULL};
	static const struct key_reason reasons[] = {
	    {"dns", "dns applies to outbound only"},
	    {NULL, NULL},
	};
	struct policy *policy = ps->policy;
	const config_setting_t *s;

	if (parse_group(ps, group) != 0 ||
	    parse_check_keys(ps, group, "inbound", valid, reasons) != 0)
		return -1;
	if ((s = config_setting_get_member(group, "default")) != NULL &&
	    parse_default(ps, s, &policy->in_default) != 0)
		return -1;
	if ((s = config_setting_get_member(group, "rules")) != NULL)
		return parse_rules(ps, s, false, &policy->in, &policy->nin);
	return 0;
}
