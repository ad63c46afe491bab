/*
 * libconfig settings to the policy structures: the top level, `audit`, and the
 * typed getters every section uses. Every string is copied into the policy's
 * arena before config_destroy().
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "policy_internal.h"

int parse_error(struct parse *ps, const config_setting_t *at, const char *fmt, ...)
{
	char msg[POLICY_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (at == NULL || config_setting_source_line(at) == 0)
		policy_set_error(ps->err, "%s: %s", ps->name, msg);
	else
		policy_set_error(ps->err, "%s:%d: %s", ps->name, config_setting_source_line(at),
		                 msg);
	return -1;
}

static const char *setting_name(const config_setting_t *s)
{
	const char *name = config_setting_name(s);

	return name != NULL ? name : "list element";
}

static bool key_in(const char *key, const char *const *valid)
{
	for (; *valid != NULL; valid++) {
		if (strcmp(key, *valid) == 0)
			return true;
	}
	return false;
}

static void key_list(const char *const *valid, char *buf, size_t len)
{
	size_t used = 0;
	int n;

	buf[0] = '\0';
	for (; *valid != NULL; valid++) {
		n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", *valid);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
}

int parse_check_keys(struct parse *ps, const config_setting_t *group, const char *where,
                     const char *const *valid, const struct key_reason *reasons)
{
	const config_setting_t *child;
	const struct key_reason *r;
	char list[512];
	int i, n = config_setting_length(group);

	for (i = 0; i < n; i++) {
		child = config_setting_get_elem(group, (unsigned)i);
		if (key_in(config_setting_name(child), valid))
			continue;
		for (r = reasons; r != NULL && r->key != NULL; r++) {
			if (strcmp(r->key, config_setting_name(child)) == 0)
				return parse_error(ps, child, "%s", r->reason);
		}
		key_list(valid, list, sizeof(list));
		return parse_error(ps, child, "unknown key '%s' in %s (valid keys: %s)",
		                   config_setting_name(child), where, list);
	}
	return 0;
}

int parse_group(struct parse *ps, const config_setting_t *s)
{
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return parse_error(ps, s, "%s must be a group { ... }", setting_name(s));
	return 0;
}

int parse_bool(struct parse *ps, const config_setting_t *s, bool *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return parse_error(ps, s, "%s must be true or false", setting_name(s));
	*out = config_setting_get_bool(s) != 0;
	return 0;
}

int parse_int(struct parse *ps, const config_setting_t *s, long long *out)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		*out = config_setting_get_int(s);
		return 0;
	case CONFIG_TYPE_INT64:
		*out = config_setting_get_int64(s);
		return 0;
	default:
		return parse_error(ps, s, "%s must be an integer", setting_name(s));
	}
}

int parse_string(struct parse *ps, const config_setting_t *s, const char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return parse_error(ps, s, "%s must be a string", setting_name(s));
	*out = config_setting_get_string(s);
	return 0;
}

int parse_enum(struct parse *ps, const config_setting_t *s, const struct policy_name *table,
               int *out)
{
	const char *text = NULL;
	char list[256];

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return parse_error(ps, s, "%s must be a string, one of: %s", setting_name(s),
		                   policy_name_list(table, list, sizeof(list)));
	text = config_setting_get_string(s);
	if (policy_name_lookup(table, text, out) == 0)
		return 0;
	return parse_error(ps, s, "unknown %s '%s' (valid: %s)", setting_name(s), text,
	                   policy_name_list(table, list, sizeof(list)));
}

static int parse_audit(struct parse *ps, const config_setting_t *group)
{
	static const char *const valid[] = {"socket", "facility", "stderr", "log_allowed", NULL};
	struct policy_audit *audit = &ps->policy->audit;
	const config_setting_t *s;
	const char *text = NULL;

	if (parse_group(ps, group) != 0 || parse_check_keys(ps, group, "audit", valid, NULL) != 0)
		return -1;
	if ((s = config_setting_get_member(group, "socket")) != NULL) {
		if (parse_string(ps, s, &text) != 0)
			return -1;
		if (text[0] != '/')
			return parse_error(ps, s, "audit socket must be an absolute path");
		audit->socket = arena_strdup(&ps->policy->arena, text);
		if (audit->socket == NULL)
			return parse_error(ps, s, "out of memory");
		audit->socket_line = config_setting_source_line(s);
	}
	if ((s = config_setting_get_member(group, "facility")) != NULL &&
	    parse_enum(ps, s, policy_facility_names, &audit->facility) != 0)
		return -1;
	if ((s = config_setting_get_member(group, "stderr")) != NULL &&
	    parse_bool(ps, s, &audit->to_stderr) != 0)
		return -1;
	if ((s = config_setting_get_member(group, "log_allowed")) != NULL &&
	    parse_bool(ps, s, &audit->log_allowed) != 0)
		return -1;
	return 0;
}

static int parse_version(struct parse *ps, const config_setting_t *root)
{
	const config_setting_t *s = config_setting_get_member(root, "version");
	long long version = 0;

	if (s == NULL)
		return parse_error(ps, NULL, "missing required 'version = 1;'");
	if (parse_int(ps, s, &version) != 0)
		return -1;
	if (version != 1)
		return parse_error(
		    ps, s, "unsupported version %lld (this tlsguard reads version 1)", version);
	return 0;
}

static void parse_defaults(struct policy *policy)
{
	policy->mode = POLICY_MODE_ENFORCE;
	policy->env_override = true;
	policy->inherit = true;
	policy->audit.socket = "/dev/log";
	policy->audit.facility = LOG_AUTHPRIV;
	policy->audit.to_stderr = true;
	policy->audit.log_allowed = false;
	memset(&policy->tls, 0, sizeof(policy->tls));
	policy->tls.min_version = POLICY_TLS_1_2;
	policy->tls.trust = POLICY_TRUST_POLICY;
	policy->tls.verify_hostname = true;
	policy->tls.unmanaged = POLICY_UNMANAGED_DENY;
	policy->out_default = POLICY_ACTION_REQUIRE_TLS;
	policy->dns = POLICY_ACTION_ALLOW;
	policy->in_default = POLICY_ACTION_REQUIRE_TLS;
}

int parse_policy(struct parse *ps, const config_t *cfg)
{
	static const char *const valid[] = {"version",  "mode",    "env_override",
	                                    "inherit",  "audit",   "tls",
	                                    "outbound", "inbound", NULL};
	const config_setting_t *root = config_root_setting(cfg);
	struct policy *policy = ps->policy;
	const config_setting_t *s;
	int mode = 0;

	parse_defaults(policy);
	if (parse_check_keys(ps, root, "the policy", valid, NULL) != 0 ||
	    parse_version(ps, root) != 0)
		return -1;
	if ((s = config_setting_get_member(root, "mode")) != NULL) {
		if (parse_enum(ps, s, policy_mode_names, &mode) != 0)
			return -1;
		policy->mode = (enum policy_mode)mode;
	}
	if ((s = config_setting_get_member(root, "env_override")) != NULL &&
	    parse_bool(ps, s, &policy->env_override) != 0)
		return -1;
	if ((s = config_setting_get_member(root, "inherit")) != NULL &&
	    parse_bool(ps, s, &policy->inherit) != 0)
		return -1;
	if ((s = config_setting_get_member(root, "audit")) != NULL && parse_audit(ps, s) != 0)
		return -1;
	/* tls before the rules: every rule starts from the top-level values. */
	if ((s = config_setting_get_member(root, "tls")) != NULL &&
	    parse_tls(ps, s, TLS_TOP, &policy->tls) != 0)
		return -1;
	if ((s = config_setting_get_member(root, "outbound")) != NULL && parse_outbound(ps, s) != 0)
		return -1;
	if ((s = config_setting_get_member(root, "inbound")) != NULL && parse_inbound(ps, s) != 0)
		return -1;
	return 0;
}
