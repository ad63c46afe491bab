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
	 * an allow rule then needs nothing more (decide_connect.c's fast path). */
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

/* Set while this thread loads the policy (init.c). The shim's own calls go
 * through real() and meet no wrapper; this is for what other code on the
 * loading thread calls by an interposed name meanwhile (a library such as an
 * NSS module, a signal handler). Honoured by the wrappers that can reach a
 * decision on a descriptor the shim does not govern yet, so would load the
 * policy again from inside its own load (load_lock: a deadlock): connect,
 * accept and accept4, sendto/sendmsg/sendmmsg with an address, syscall()'s
 * routing and the resolver calls (dns.c); they make the real call undecided.
 * The other wrappers act only on governed descriptors, and none is governed
 * before a policy is in force, so they do not test it: a test there would put
 * a thread-local load on every untracked call (bench/README.md), and a wrapper
 * that passed governed bytes undecided would be a hole. */
extern SHIM_THREAD int shim_busy;

#endif
