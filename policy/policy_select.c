/*
 * Which policy applies (contract "Activation"): the one rule the shim
 * (shim/core/init.c) and the CLI (tools/cli.c, tools/cmd_status.c) both follow.
 * Pure: the callers read their environment (the shim without libc) and pass
 * the values in; opening the file is theirs too.
 */
#include <errno.h>

#include "policy.h"

/* Runs in every process the shim is loaded into: beside the shim's
 * constructor in .text.startup, whose page is already faulted in (as
 * policy_open_file in policy_load.c). */
#define POLICY_STARTUP_TEXT __attribute__((section(".text.startup")))

POLICY_STARTUP_TEXT int policy_select(const char *env_policy, struct policy_selection *sel,
                                      struct policy_error *err)
{
	sel->path = POLICY_DEFAULT_PATH;
	sel->builtin_if_missing = false;
	if (env_policy == NULL) {
		/* Unset: the default file, or the built-in policy when there is none. */
		sel->builtin_if_missing = true;
		return 0;
	}
	if (env_policy[0] == '\0') {
		/* Set but empty: never "no policy" nor the default (fail closed). */
		policy_set_error(err, "(policy): no policy path given: TLSGUARD_POLICY is set but "
		                      "empty (unset it for the default policy)");
		err->sys_errno = 0;
		return -1;
	}
	sel->path = env_policy;
	return 0;
}

POLICY_STARTUP_TEXT bool policy_select_builtin(const struct policy_selection *sel, int open_errno)
{
	/* Only a missing default file means the built-in policy; one that exists
	 * but cannot be read is an error (fail closed). */
	return sel->builtin_if_missing && open_errno == ENOENT;
}
