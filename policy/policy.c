/* The policy object: the built-in default, accessors and release. */
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

/* The contract's built-in policy, compiled through the same parser as a file so
 * the two can never drift apart. */
struct policy *policy_new_default(void)
{
	static const char text[] = "version = 1;\n";
	struct policy_error err;
	struct policy *policy;

	policy = policy_compile(text, sizeof(text) - 1, "(built-in)", &err);
	return policy;
}

void policy_free(struct policy *policy)
{
	if (policy == NULL)
		return;
	arena_release(&policy->arena);
	free(policy);
}

const char *policy_source(const struct policy *policy)
{
	return policy->source;
}

enum policy_mode policy_mode(const struct policy *policy)
{
	return policy->mode;
}

bool policy_env_override(const struct policy *policy)
{
	return policy->env_override;
}

bool policy_inherit(const struct policy *policy)
{
	return policy->inherit;
}

const struct policy_audit *policy_audit(const struct policy *policy)
{
	return &policy->audit;
}

const struct policy_tls *policy_tls_defaults(const struct policy *policy)
{
	return &policy->tls;
}

bool policy_has_host_rules(const struct policy *policy)
{
	return policy->out_tcp.hosts.used > 0 || policy->out_tcp.suffixes.used > 0 ||
	       policy->out_udp.hosts.used > 0 || policy->out_udp.suffixes.used > 0;
}
