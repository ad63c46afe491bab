/* Names of the policy's enumerations: parsing, printing, audit events. */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "policy_internal.h"

const struct policy_name policy_mode_names[] = {
    {"enforce", POLICY_MODE_ENFORCE},
    {"audit", POLICY_MODE_AUDIT},
    {"off", POLICY_MODE_OFF},
    {NULL, 0},
};

const struct policy_name policy_action_names[] = {
    {"require_tls", POLICY_ACTION_REQUIRE_TLS},
    {"allow", POLICY_ACTION_ALLOW},
    {"deny", POLICY_ACTION_DENY},
    {"upgrade_tls", POLICY_ACTION_UPGRADE_TLS},
    {"terminate_tls", POLICY_ACTION_TERMINATE_TLS},
    {NULL, 0},
};

/* A section's default: never upgrade_tls or terminate_tls (policy_rules.c says
 * why). */
const struct policy_name policy_default_names[] = {
    {"require_tls", POLICY_ACTION_REQUIRE_TLS},
    {"allow", POLICY_ACTION_ALLOW},
    {"deny", POLICY_ACTION_DENY},
    {NULL, 0},
};

const struct policy_name policy_dns_names[] = {
    {"allow", POLICY_ACTION_ALLOW},
    {"deny", POLICY_ACTION_DENY},
    {NULL, 0},
};

const struct policy_name policy_proto_names[] = {
    {"tcp", POLICY_PROTO_TCP},
    {"udp", POLICY_PROTO_UDP},
    {NULL, 0},
};

const struct policy_name policy_tls_version_names[] = {
    {"TLSv1.2", POLICY_TLS_1_2},
    {"TLSv1.3", POLICY_TLS_1_3},
    {NULL, 0},
};

const struct policy_name policy_trust_names[] = {
    {"policy", POLICY_TRUST_POLICY},
    {"policy+app", POLICY_TRUST_POLICY_AND_APP},
    {NULL, 0},
};

const struct policy_name policy_unmanaged_names[] = {
    {"deny", POLICY_UNMANAGED_DENY},
    {"audit", POLICY_UNMANAGED_AUDIT},
    {"allow", POLICY_UNMANAGED_ALLOW},
    {NULL, 0},
};

const struct policy_name policy_starttls_names[] = {
    {"postgres", POLICY_STARTTLS_POSTGRES},
    {NULL, 0},
};

/* syslog(3): the facilities a security audit trail may sensibly go to. */
const struct policy_name policy_facility_names[] = {
    {"auth", LOG_AUTH},
    {"authpriv", LOG_AUTHPRIV},
    {"daemon", LOG_DAEMON},
    {"user", LOG_USER},
    {"local0", LOG_LOCAL0},
    {"local1", LOG_LOCAL1},
    {"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3},
    {"local4", LOG_LOCAL4},
    {"local5", LOG_LOCAL5},
    {"local6", LOG_LOCAL6},
    {"local7", LOG_LOCAL7},
    {NULL, 0},
};

int policy_name_lookup(const struct policy_name *table, const char *name, int *value)
{
	for (; table->name != NULL; table++) {
		if (strcmp(table->name, name) == 0) {
			*value = table->value;
			return 0;
		}
	}
	return -1;
}

const char *policy_name_of(const struct policy_name *table, int value)
{
	for (; table->name != NULL; table++) {
		if (table->value == value)
			return table->name;
	}
	return "?";
}

const char *policy_name_list(const struct policy_name *table, char *buf, size_t len)
{
	size_t used = 0;
	int n;

	buf[0] = '\0';
	for (; table->name != NULL; table++) {
		n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", table->name);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	return buf;
}

const char *policy_mode_name(enum policy_mode mode)
{
	return policy_name_of(policy_mode_names, (int)mode);
}

const char *policy_action_name(enum policy_action action)
{
	return policy_name_of(policy_action_names, (int)action);
}

const char *policy_proto_name(enum policy_proto proto)
{
	return policy_name_of(policy_proto_names, (int)proto);
}

const char *policy_tls_version_name(enum policy_tls_version version)
{
	return policy_name_of(policy_tls_version_names, (int)version);
}

const char *policy_trust_name(enum policy_trust trust)
{
	return policy_name_of(policy_trust_names, (int)trust);
}

const char *policy_unmanaged_name(enum policy_unmanaged unmanaged)
{
	return policy_name_of(policy_unmanaged_names, (int)unmanaged);
}

const char *policy_starttls_name(enum policy_starttls starttls)
{
	if (starttls == POLICY_STARTTLS_NONE)
		return "none";
	return policy_name_of(policy_starttls_names, (int)starttls);
}
