/*
 * What every part of the shim shares: the export marker, the lazily loaded
 * policy and the effective mode.
 */
#ifndef TLSGUARD_SHIM_H
#define TLSGUARD_SHIM_H

#include <stdbool.h>

#include "policy.h"

/* Only interposed names are exported (see exports.map). */
#define SHIM_EXPORT __attribute__((visibility("default")))

/* The policy, loaded on the first call that needs it (thread-safe, once). NULL
 * when it could not be loaded: the error was reported on stderr and as an audit
 * event, and every governed network call must then be refused (fail closed). */
const struct policy *shim_policy(void);

/* The mode in force: the policy's, or TLSGUARD_MODE when the policy allows the
 * override. POLICY_MODE_ENFORCE when the policy could not be loaded. */
enum policy_mode shim_mode(void);

/* TLSGUARD_POLICY and TLSGUARD_MODE as the process was started (NULL: unset,
 * or a secure-execution process). */
const char *shim_start_policy(void);
const char *shim_start_mode(void);
/* LD_PRELOAD's value as the process was started (the string itself, for
 * comparison by address). */
const char *shim_start_preload(void);

/* The text of the load failure, or NULL. */
const char *shim_policy_error(void);

/* Set while the shim itself runs, so calls it makes through libc internals that
 * land in a wrapper go straight to the real function. */
extern __thread int shim_busy;

#endif
