/*
 * The mode in force (mode_select.h).
 */
#include <string.h>

#include "mode_select.h"

/* The mode env names ("enforce", "audit", "off"); -1: none. */
static int mode_named(const char *env, enum policy_mode *mode)
{
	if (strcmp(env, "enforce") == 0) {
		*mode = POLICY_MODE_ENFORCE;
	} else if (strcmp(env, "audit") == 0) {
		*mode = POLICY_MODE_AUDIT;
	} else if (strcmp(env, "off") == 0) {
		*mode = POLICY_MODE_OFF;
	} else {
		return -1;
	}
	return 0;
}

enum policy_mode mode_in_force(const struct policy *policy, const char *env_mode, bool *env_invalid)
{
	enum policy_mode mode = policy_mode(policy);
	bool invalid = false;

	if (env_mode != NULL && policy_env_override(policy)) {
		invalid = mode_named(env_mode, &mode) < 0;
	}
	if (env_invalid != NULL) {
		*env_invalid = invalid;
	}
	return mode;
}
