/*
 * Loading the policy: once, on the first call that needs it, thread-safely.
 * A process that never opens an IP socket never gets here.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "real.h"
#include "shim.h"

__thread int shim_busy;

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fork_handlers_once = PTHREAD_ONCE_INIT;
static void load_register_fork_handlers(void);
static atomic_bool load_done; /* loaded, or failed for good: the fast path's test */
static struct policy *loaded;
static enum policy_mode mode = POLICY_MODE_ENFORCE;
static struct policy_error load_error;
static bool load_failed;

/* TLSGUARD_POLICY and TLSGUARD_MODE as this process was started: a program
 * that edits its environment (env -i, setenv before exec) changes neither the
 * policy it is held to nor the one its children get. secure_getenv ignores them
 * in a setuid/setgid/capability process (contract). */
static const char *start_policy;
static const char *start_mode;
static const char *start_preload;
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool start_taken;

/* The pointers are kept, not copied: the strings of the environment a process
 * starts with are never freed (setenv and unsetenv only change which strings
 * environ points to), and copying would make every process, /bin/true
 * included, set up malloc at start-up. A mutex, not pthread_once, whose first
 * completion always costs a futex system call. */
static void take_start_env(void)
{
	if (atomic_load_explicit(&start_taken, memory_order_acquire)) {
		return;
	}
	pthread_mutex_lock(&start_lock);
	if (!atomic_load_explicit(&start_taken, memory_order_relaxed)) {
		start_policy = secure_getenv("TLSGUARD_POLICY");
		start_mode = secure_getenv("TLSGUARD_MODE");
		start_preload = getenv("LD_PRELOAD");
		atomic_store_explicit(&start_taken, true, memory_order_release);
	}
	pthread_mutex_unlock(&start_lock);
}

/* Before any other constructor, and so before main can touch the environment;
 * a wrapper called even earlier takes the snapshot itself. */
__attribute__((constructor(101))) static void take_start_env_early(void)
{
	take_start_env();
}

const char *shim_start_policy(void)
{
	take_start_env();
	return start_policy;
}

const char *shim_start_mode(void)
{
	take_start_env();
	return start_mode;
}

const char *shim_start_preload(void)
{
	take_start_env();
	return start_preload;
}

static void say(const char *text)
{
	real()->write(2, text, strlen(text));
}

/* TLSGUARD_MODE, when the policy lets it override the file's mode. */
static void apply_mode_override(void)
{
	const char *env = shim_start_mode();
	char line[256];

	if (env == NULL || !policy_env_override(loaded)) {
		return;
	}
	if (strcmp(env, "enforce") == 0) {
		mode = POLICY_MODE_ENFORCE;
	} else if (strcmp(env, "audit") == 0) {
		mode = POLICY_MODE_AUDIT;
	} else if (strcmp(env, "off") == 0) {
		mode = POLICY_MODE_OFF;
	} else {
		/* A typo must not change the mode silently: keep the policy's. */
		snprintf(line, sizeof(line),
		         "tlsguard: ignoring TLSGUARD_MODE=\"%.64s\" (want enforce, audit or "
		         "off); mode stays %s\n",
		         env, policy_mode_name(mode));
		say(line);
	}
}

static void report_failure(void)
{
	struct audit_event ev = {
	    .kind = AUDIT_POLICY,
	    .verdict = AUDIT_VERDICT_BLOCK,
	    .rule = POLICY_RULE_DEFAULT,
	    .reason = "policy_error",
	    .detail = load_error.msg,
	};
	char line[POLICY_ERROR_MAX + 96];

	snprintf(line, sizeof(line), "tlsguard: %s; refusing every network connection\n",
	         load_error.msg);
	say(line);
	audit_emit(&ev);
}

/* A failure for want of descriptors or memory may pass: the next call tries
 * again (and is refused meanwhile). Any other failure is final. */
static bool transient(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOMEM;
}

/* Loads the policy; false when the failure may pass and loading should be
 * tried again by the next call. */
static bool load(void)
{
	const char *path = shim_start_policy();

	if (real_broken()) {
		policy_set_error(&load_error, "cannot bind the real libc functions "
		                              "(another preload in the way?)");
		load_failed = true;
		report_failure();
		return true;
	}
	if (path == NULL && access(POLICY_DEFAULT_PATH, F_OK) == 0) {
		path = POLICY_DEFAULT_PATH;
	}
	if (path == NULL) {
		loaded = policy_new_default();
		if (loaded == NULL) {
			policy_set_error(&load_error, "(built-in): out of memory");
			load_error.sys_errno = ENOMEM;
		}
	} else {
		loaded = policy_load_file(path, &load_error);
	}
	if (loaded == NULL) {
		load_failed = true;
		report_failure();
		return !transient(load_error.sys_errno);
	}
	load_failed = false;
	mode = policy_mode(loaded);
	apply_mode_override();
	audit_configure(policy_audit(loaded));
	return true;
}

const struct policy *shim_policy(void)
{
	int saved;

	if (__builtin_expect(!atomic_load_explicit(&load_done, memory_order_acquire), 0)) {
		saved = errno;
		pthread_once(&fork_handlers_once, load_register_fork_handlers);
		pthread_mutex_lock(&load_lock);
		if (!atomic_load_explicit(&load_done, memory_order_relaxed)) {
			shim_busy++;
			if (load()) {
				atomic_store_explicit(&load_done, true, memory_order_release);
			}
			shim_busy--;
		}
		pthread_mutex_unlock(&load_lock);
		errno = saved;
	}
	return loaded;
}

/* fork: the child has one thread; a load another parent thread was running is
 * left unfinished (load_done unset) and simply runs again in the child. The
 * lock is not taken around fork: load() calls into audit, whose own fork
 * handler holds the audit lock, and the two orders would deadlock. */
static void load_after_fork_child(void)
{
	pthread_mutex_init(&load_lock, NULL);
}

static void load_register_fork_handlers(void)
{
	pthread_atfork(NULL, NULL, load_after_fork_child);
}

enum policy_mode shim_mode(void)
{
	shim_policy();
	return mode;
}

const char *shim_policy_error(void)
{
	shim_policy();
	return load_failed ? load_error.msg : NULL;
}
