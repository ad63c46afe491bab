/*
 * What every part of the shim shares: the export marker, the lazily loaded
 * policy and the effective mode.
 */
#ifndef TLSGUARD_SHIM_H
#define TLSGUARD_SHIM_H

#include <stdatomic.h>
#include <stdbool.h>

#include "policy.h"

/* Only interposed names are exported (see exports.map). */
#define SHIM_EXPORT __attribute__((visibility("default")))

/* What the connect path reads on every call, published once the policy is
 * loaded (or has failed for good): one acquire load of `done`, then plain
 * reads. Written only by init.c. */
struct shim_loaded {
	atomic_bool done;
	const struct policy *policy; /* NULL: the load failed */
	enum policy_mode mode;
	bool host_rules;  /* policy_has_host_rules() */
	bool log_allowed; /* policy_audit()->log_allowed */
	/* A policy in force (not mode off) and allowed connections not logged:
	 * an allow rule then needs nothing more (guard.c's fast path). */
	bool quiet_allow;
};
extern struct shim_loaded shim_loaded;

/* Loads the policy (thread-safe, once; retried after a transient failure). */
void shim_load(void);

/* The policy, loaded on the first call that needs it. NULL when it could not
 * be loaded: the error was reported on stderr and as an audit event, and every
 * governed network call must then be refused (fail closed). */
static inline const struct policy *shim_policy(void)
{
	if (__builtin_expect(!atomic_load_explicit(&shim_loaded.done, memory_order_acquire), 0)) {
		shim_load();
	}
	return shim_loaded.policy;
}

/* The mode in force: the policy's, or TLSGUARD_MODE when the policy allows the
 * override. POLICY_MODE_ENFORCE when the policy could not be loaded. */
static inline enum policy_mode shim_mode(void)
{
	shim_policy();
	return shim_loaded.mode;
}

/* The environment as the process was started: core/start_env.h. */

/* The text of the load failure, or NULL. */
const char *shim_policy_error(void);

/* For the little state every process touches at start-up or exit, even one
 * that never opens a socket: .data, whose first page the loader has already
 * written (relocations, the start of .bss), so using it costs no page fault,
 * where a first touch of .bss would cost one. */
#define SHIM_STARTUP_DATA __attribute__((section(".data.startup")))

/* Thread-local variables of the shim: initial-exec, so reading one is a load
 * relative to the thread pointer rather than a call to __tls_get_addr. The
 * shim is loaded at start-up (LD_PRELOAD), where static TLS is always there. */
#define SHIM_THREAD __thread __attribute__((tls_model("initial-exec")))

/* Set while the shim itself runs, so calls it makes through libc internals that
 * land in a wrapper go straight to the real function. */
extern SHIM_THREAD int shim_busy;

#endif
