/*
 * Loading the policy: once, on the first call that needs it, thread-safely.
 * A process that never opens an IP socket never gets here.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "audit.h"
#include "exec.h"
#include "real.h"
#include "shim.h"

SHIM_THREAD int shim_busy;

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fork_handlers_once = PTHREAD_ONCE_INIT;
static void load_register_fork_handlers(void);
struct shim_loaded shim_loaded = {.mode = POLICY_MODE_ENFORCE};
static struct policy *loaded;
static enum policy_mode mode = POLICY_MODE_ENFORCE;
static struct policy_error load_error;
static bool load_failed;

/* TLSGUARD_POLICY, TLSGUARD_MODE, TLSGUARD_FDS and LD_PRELOAD as this process
 * was started: a program that edits its environment (env -i, setenv before
 * exec) changes neither the policy it is held to nor the one its children get.
 *
 * The values are copied into static blocks: programs that set their process
 * title (PostgreSQL, nginx) overwrite the strings of the environment they
 * started with, so pointers into them would not do, and a static block needs
 * no malloc. Every process runs this, /bin/true included, so it is one pass
 * over environ with no libc call, into a small block in .data (see
 * SHIM_STARTUP_DATA) that shares its page with what the loader writes anyway;
 * only values too long for it go to a larger block in .bss, a page of its own. */
enum start_var { START_POLICY, START_MODE, START_FDS, START_PRELOAD, START_VARS };

/* Not const: in .data with the rest, so reading the prefixes at start-up
 * touches no page of .rodata. */
static SHIM_STARTUP_DATA struct {
	const char prefix[20];
	size_t max; /* longest value kept, with its NUL */
	/* What a longer value becomes: a text every use refuses, naming the
	 * variable (NULL: the value is simply unknown). */
	const char *too_long;
} start_vars[START_VARS] = {
    [START_POLICY] = {"TLSGUARD_POLICY=", PATH_MAX, "(TLSGUARD_POLICY longer than PATH_MAX)"},
    [START_MODE] = {"TLSGUARD_MODE=", 64, "(TLSGUARD_MODE too long)"},
    [START_FDS] = {"TLSGUARD_FDS=", 4096, NULL},
    [START_PRELOAD] = {"LD_PRELOAD=", 4096, NULL},
};

enum { START_NONE, START_TAKING, START_TAKEN };

/* Where values are copied: the first block a value fits in whole. */
struct start_store {
	size_t used;
	size_t size;
	char *bytes;
};

static SHIM_STARTUP_DATA char start_near_bytes[512];
static char start_far_bytes[PATH_MAX + 64 + 4096 + 4096]; /* every value at its longest */

static SHIM_STARTUP_DATA struct {
	atomic_int state;
	atomic_int secure;             /* AT_SECURE, once asked: -1 not yet */
	const char *value[START_VARS]; /* into a store; NULL: unset */
	struct start_store near, far;
} start = {
    .secure = -1,
    .near = {.size = sizeof(start_near_bytes), .bytes = start_near_bytes},
    .far = {.size = sizeof(start_far_bytes), .bytes = start_far_bytes},
};

/* The value of entry when it is "prefix=value", else NULL. */
static const char *value_if(const char *entry, const char *prefix)
{
	while (*prefix != '\0' && *entry == *prefix) {
		entry++;
		prefix++;
	}
	return *prefix == '\0' ? entry : NULL;
}

static void keep(enum start_var var, const char *value)
{
	struct start_store *store;
	size_t n = 0;

	if (start.value[var] != NULL) {
		return; /* the first definition wins, as with getenv */
	}
	while (n < start_vars[var].max && value[n] != '\0') {
		n++;
	}
	if (n == start_vars[var].max) {
		start.value[var] = start_vars[var].too_long;
		return;
	}
	store = start.near.size - start.near.used > n ? &start.near : &start.far;
	start.value[var] = &store->bytes[store->used];
	while (n-- > 0) {
		store->bytes[store->used++] = *value++;
	}
	store->bytes[store->used++] = '\0';
}

static void take_start_env(void)
{
	int expected = START_NONE;
	const char *value;
	enum start_var v;
	char **e;

	/* A load first: after fork, a write would copy the page. */
	if (atomic_load(&start.state) == START_TAKEN) {
		return;
	}
	if (!atomic_compare_exchange_strong(&start.state, &expected, START_TAKING)) {
		while (expected != START_TAKEN) { /* another thread is taking it */
			expected = atomic_load(&start.state);
		}
		return;
	}
	for (e = environ; e != NULL && *e != NULL; e++) {
		if (((*e)[0] != 'T' || (*e)[1] != 'L') && ((*e)[0] != 'L' || (*e)[1] != 'D')) {
			continue; /* neither TLSGUARD_ nor LD_ */
		}
		for (v = 0; v < START_VARS; v++) {
			if ((value = value_if(*e, start_vars[v].prefix)) != NULL) {
				keep(v, value);
				break;
			}
		}
	}
	atomic_store(&start.state, START_TAKEN);
}

/* Before any other constructor, and so before main can touch the environment
 * (a wrapper called even earlier takes the snapshot itself). The sockets an
 * exec'ed parent governed are governed again before any byte moves. */
__attribute__((constructor(101))) static void take_start_env_early(void)
{
	take_start_env();
	exec_adopt_inherited(shim_start_fds());
}

/* A setuid/setgid/capability process ignores the TLSGUARD_ variables, as
 * secure_getenv would (contract). Asked only when a value is. */
static const char *start_value(enum start_var var)
{
	const char *value;

	take_start_env();
	value = start.value[var];
	if (value == NULL || var == START_PRELOAD) {
		return value;
	}
	if (atomic_load(&start.secure) < 0) {
		atomic_store(&start.secure, getauxval(AT_SECURE) != 0);
	}
	return atomic_load(&start.secure) ? NULL : value;
}

const char *shim_start_policy(void)
{
	return start_value(START_POLICY);
}

const char *shim_start_mode(void)
{
	return start_value(START_MODE);
}

const char *shim_start_fds(void)
{
	return start_value(START_FDS);
}

const char *shim_start_preload(void)
{
	return start_value(START_PRELOAD);
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
	audit_note_mode(policy_mode(loaded), mode); /* TLSGUARD_MODE=off is itself an event */
	return true;
}

/* Publishes the outcome for shim_policy()'s fast path: the fields first, then
 * `done` with release order. */
static void publish(void)
{
	shim_loaded.policy = loaded;
	shim_loaded.mode = mode;
	shim_loaded.host_rules = loaded != NULL && policy_has_host_rules(loaded);
	shim_loaded.log_allowed = loaded != NULL && policy_audit(loaded)->log_allowed;
	shim_loaded.quiet_allow =
	    loaded != NULL && mode != POLICY_MODE_OFF && !shim_loaded.log_allowed;
	atomic_store_explicit(&shim_loaded.done, true, memory_order_release);
}

void shim_load(void)
{
	int saved = errno;

	pthread_once(&fork_handlers_once, load_register_fork_handlers);
	pthread_mutex_lock(&load_lock);
	if (!atomic_load_explicit(&shim_loaded.done, memory_order_relaxed)) {
		shim_busy++;
		if (load()) {
			publish();
		}
		shim_busy--;
	}
	pthread_mutex_unlock(&load_lock);
	errno = saved;
}

/* fork: the child has one thread; a load another parent thread was running is
 * left unfinished (shim_loaded.done unset) and simply runs again in the child. The
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

const char *shim_policy_error(void)
{
	shim_policy();
	return load_failed ? load_error.msg : NULL;
}
