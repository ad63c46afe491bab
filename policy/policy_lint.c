/*
 * Warnings about a policy that loads but probably does not do what its author
 * meant: a rule that can never match because an earlier one takes every
 * connection it would, and an audit socket that is not there. `tlsguard check`
 * prints them; they never make a policy invalid.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "policy_internal.h"

/* "*.example.com" matches names strictly below example.com (policy_match.c). */
static bool name_below(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n > s + 1 && name[n - s - 1] == '.' && strcmp(name + n - s, suffix) == 0;
}

/* Does every destination j's `to` (or inbound `from`) names match i's too? */
static bool to_covers(const struct rule *i, const struct rule *j)
{
	switch (i->to) {
	case RULE_TO_ANY:
		return true;
	case RULE_TO_NET:
		return j->to == RULE_TO_NET && i->net.family == j->net.family &&
		       i->prefix <= j->prefix && policy_net_contains(&i->net, i->prefix, &j->net);
	case RULE_TO_SUFFIX:
		return (j->to == RULE_TO_HOST || j->to == RULE_TO_SUFFIX) &&
		       (name_below(j->host, i->host) ||
		        (j->to == RULE_TO_SUFFIX && strcmp(j->host, i->host) == 0));
	case RULE_TO_HOST:
		return j->to == RULE_TO_HOST && strcmp(j->host, i->host) == 0;
	default:
		return false;
	}
}

/* Is [lo, hi] inside the union of i's port ranges (sorted by lo)? */
static bool range_covered(const struct rule *i, uint32_t lo, uint32_t hi)
{
	uint32_t next = lo; /* the lowest port not yet known to be covered */
	size_t k;

	for (k = 0; k < i->nports && next <= hi; k++) {
		if (i->sorted[k].lo <= next && i->sorted[k].hi >= next)
			next = (uint32_t)i->sorted[k].hi + 1;
	}
	return next > hi;
}

static bool ports_cover(const struct rule *i, const struct rule *j)
{
	size_t k;

	if (i->nports == 0)
		return true;
	if (j->nports == 0)
		return false;
	for (k = 0; k < j->nports; k++) {
		if (!range_covered(i, j->ports[k].lo, j->ports[k].hi))
			return false;
	}
	return true;
}

static size_t lint_shadowed(const struct policy *policy, const struct rule *rules, size_t n,
                            const char *section, policy_warn_fn warn, void *arg)
{
	char msg[POLICY_ERROR_MAX];
	size_t i, j, count = 0;

	for (j = 1; j < n; j++) {
		for (i = 0; i < j; i++) {
			if (rules[i].pub.proto != rules[j].pub.proto ||
			    !to_covers(&rules[i], &rules[j]) || !ports_cover(&rules[i], &rules[j]))
				continue;
			snprintf(msg, sizeof(msg),
			         "%s:%d: warning: %s rule %d can never match: rule %d (line %d) "
			         "takes every connection it names",
			         policy->source, rules[j].pub.line, section, rules[j].pub.index,
			         rules[i].pub.index, rules[i].pub.line);
			warn(arg, msg);
			count++;
			break;
		}
	}
	return count;
}

static size_t lint_audit_socket(const struct policy *policy, policy_warn_fn warn, void *arg)
{
	const struct policy_audit *audit = &policy->audit;
	char msg[POLICY_ERROR_MAX], where[64] = "";
	const char *why = NULL;
	struct stat st;

	if (stat(audit->socket, &st) != 0)
		why = errno == ENOENT ? "does not exist" : strerror(errno);
	else if (!S_ISSOCK(st.st_mode))
		why = "is not a socket";
	if (why == NULL)
		return 0;
	if (audit->socket_line > 0)
		snprintf(where, sizeof(where), ":%d", audit->socket_line);
	snprintf(msg, sizeof(msg),
	         "%s%s: warning: audit socket '%.200s'%s %s: events will go to stderr only "
	         "(is a syslog daemon running?)",
	         policy->source, where, audit->socket,
	         audit->socket_line > 0 ? "" : " (the default)", why);
	warn(arg, msg);
	return 1;
}

size_t policy_lint(const struct policy *policy, policy_warn_fn warn, void *arg)
{
	return lint_shadowed(policy, policy->out, policy->nout, "outbound", warn, arg) +
	       lint_shadowed(policy, policy->in, policy->nin, "inbound", warn, arg) +
	       lint_audit_socket(policy, warn, arg);
}

void policy_each_tls(const struct policy *policy, policy_tls_fn fn, void *arg)
{
	size_t i;

	fn(arg, &policy->tls);
	for (i = 0; i < policy->nout; i++)
		fn(arg, &policy->out[i].pub.tls);
	for (i = 0; i < policy->nin; i++)
		fn(arg, &policy->in[i].pub.tls);
}
