/*
 * The policy: its bytes are read when the program starts (a constructor, before
 * main), so what the program later does to the file or its path changes
 * nothing; they are parsed once, on the first call that needs the policy,
 * thread-safely. A process that never opens an IP socket only reads them.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "audit.h"
#include "exec/exec.h"
#include "bind/real.h"
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

/* The policy as read at start: the file's bytes, the built-in default (no
 * TLSGUARD_POLICY and no /etc/tlsguard/policy.conf), or why it could not be
 * read. Written by read_policy_once, then only by load() under load_lock. */
static SHIM_STARTUP_DATA struct {
	atomic_int state; /* START_NONE, START_TAKING, START_TAKEN */
	bool builtin;     /* no file: the built-in default policy */
	const char *path;
	char *text; /* NULL: the read failed, see error */
	size_t len;
	int sys_errno;              /* of the failure */
	struct policy_error *error; /* NULL, or the failure (start_policy_error) */
} start_policy;
/* In .bss, a page of its own: written only when the read failed. */
static struct policy_error start_policy_error;

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
enum start_var {
	START_POLICY,
	START_MODE,
	START_FDS,
	START_PRELOAD,
	START_LISTEN_PID,
	START_LISTEN_FDS,
	START_VARS
};

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
    /* systemd socket activation (sd_listen_fds(3)): numbers, short */
    [START_LISTEN_PID] = {"LISTEN_PID=", 24, NULL},
    [START_LISTEN_FDS] = {"LISTEN_FDS=", 24, NULL},
};

enum { START_NONE, START_TAKING, START_TAKEN };

/* Where values are copied: the first block a value fits in whole. */
struct start_store {
	size_t used;
	size_t size;
	char *bytes;
};

static SHIM_STARTUP_DATA char start_near_bytes[512];
static char start_far_bytes[PATH_MAX + 64 + 4096 + 4096 + 24 + 24]; /* every value at its longest */

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
		if (((*e)[0] != 'T' || (*e)[1] != 'L') &&
		    ((*e)[0] != 'L' || ((*e)[1] != 'D' && (*e)[1] != 'I'))) {
			continue; /* neither TLSGUARD_ nor LD_ nor LISTEN_ */
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

static const char *start_value(enum start_var var);
static void read_policy_once(void);

/* Before any other constructor, and so before main can touch the environment
 * or the policy file (a wrapper called even earlier takes the snapshot and
 * reads the policy itself). The sockets an exec'ed parent governed are
 * governed again before any byte moves. */
__attribute__((constructor(101))) static void take_start_env_early(void)
{
	take_start_env();
	read_policy_once();
	exec_adopt_inherited(shim_start_fds(), start_value(START_LISTEN_PID),
	                     start_value(START_LISTEN_FDS));
}

/* A setuid/setgid/capability process ignores the TLSGUARD_ variables, as
 * secure_getenv would (contract). Asked only when a value is. */
static const char *start_value(enum start_var var)
{
	const char *value;

	take_start_env();
	value = start.value[var];
	/* LISTEN_* only ever add sockets to govern: kept in every process. */
	if (value == NULL || var == START_PRELOAD || var == START_LISTEN_PID ||
	    var == START_LISTEN_FDS) {
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
	return err == EMFILE || err == ENFILE || err == ENOMEM || err == EAGAIN;
}

/* close(2) of the policy file at start-up, without a libc call: close is
 * interposed, and the first call of its wrapper binds the whole real table
 * (some sixty lookups, and their page faults), which a process that never
 * opens a socket must not pay; a dlsym of close alone still costs three page
 * faults in every process. Elsewhere, through the real table. */
#if defined(__x86_64__)
static void start_close(int fd)
{
	long rc;

	__asm__ volatile("syscall"
	                 : "=a"(rc)
	                 : "0"((long)SYS_close), "D"((long)fd)
	                 : "rcx", "r11", "memory");
	(void)rc;
}
#else
static void start_close(int fd)
{
	real()->close(fd);
}
#endif

/* Where a policy read at start lives: a short one (the usual few rules) in
 * .data beside the start-up state (SHIM_STARTUP_DATA: a page already
 * written, so no page fault), a longer one in pages of .bss, touched only as
 * far as it reaches, and a very long one on the heap. */
static SHIM_STARTUP_DATA char start_policy_near[1024];
static char start_policy_far[64 * 1024];

static bool is_start_buffer(const char *buf)
{
	return buf == start_policy_near || buf == start_policy_far;
}

/* Reads size bytes (fstat's size) and asks for one more: a file that grew
 * meanwhile (an editor writing it now) is reported as a failure that may
 * pass (EAGAIN), read again at the first call that needs the policy. A short
 * read of a regular file is its end (read(2)). */
static char *read_policy_fd(int fd, size_t size, size_t *len, struct policy_error *err)
{
	size_t cap = size + 1;
	char *buf = cap <= sizeof(start_policy_near)  ? start_policy_near
	            : cap <= sizeof(start_policy_far) ? start_policy_far
	                                              : malloc(cap);
	ssize_t n;

	if (buf == NULL) {
		policy_set_error(err, "%s: out of memory", start_policy.path);
		err->sys_errno = ENOMEM;
		return NULL;
	}
	do {
		n = pread(fd, buf, cap, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n == cap) {
		err->sys_errno = n < 0 ? errno : EAGAIN;
		policy_set_error(err, "%s: %s", start_policy.path,
		                 n < 0 ? strerror(errno) : "changed while being read");
		if (!is_start_buffer(buf)) {
			free(buf);
		}
		return NULL;
	}
	*len = (size_t)n;
	return buf;
}

/* Reads the policy's bytes, from the file policy_select names (with
 * TLSGUARD_POLICY unset, /etc/tlsguard/policy.conf if it exists, else the
 * built-in policy; set but empty, an error). The file
 * checks (absolute path, regular file, owner, mode, size) run on the opened
 * descriptor, as for every load (policy_open_file). */
static void read_policy(void)
{
	struct policy_selection sel;
	struct policy_error err; /* on the stack: see start_policy_error */
	size_t size = 0;
	int fd = -1;

	start_policy.text = NULL;
	start_policy.error = NULL;
	start_policy.builtin = false;
	if (policy_select(shim_start_policy(), &sel, &err) != 0) {
		start_policy.path = "(policy)";
	} else {
		start_policy.path = sel.path;
		fd = policy_open_file(start_policy.path, &size, &err);
		start_policy.builtin = fd < 0 && policy_select_builtin(&sel, err.sys_errno);
	}
	if (fd >= 0) {
		start_policy.text = read_policy_fd(fd, size, &start_policy.len, &err);
		start_close(fd);
	}
	if (start_policy.text == NULL && !start_policy.builtin) {
		start_policy_error = err;
		start_policy.error = &start_policy_error;
		start_policy.sys_errno = err.sys_errno;
	}
}

/* Once, in the constructor (or in a wrapper some other library's constructor
 * called even earlier); another thread waits for the bytes. No lock: the
 * constructor runs with every process, and pthread_mutex_lock's code would be
 * one more page to fault in. */
static void read_policy_once(void)
{
	int expected = START_NONE;

	if (atomic_load(&start_policy.state) == START_TAKEN) {
		return;
	}
	if (!atomic_compare_exchange_strong(&start_policy.state, &expected, START_TAKING)) {
		while (expected != START_TAKEN) {
			expected = atomic_load(&start_policy.state);
		}
		return;
	}
	read_policy();
	atomic_store(&start_policy.state, START_TAKEN);
}

/* Loads the policy from what was read at start; false when the failure may
 * pass and loading should be tried again by the next call. */
static bool load(void)
{
	if (real_broken()) {
		policy_set_error(&load_error, "cannot bind the real libc functions "
		                              "(another preload in the way?)");
		load_failed = true;
		report_failure();
		return true;
	}
	read_policy_once(); /* done unless a wrapper ran before the constructor */
	if (start_policy.text == NULL && !start_policy.builtin &&
	    transient(start_policy.sys_errno)) {
		read_policy(); /* a failure that may pass: read again (under load_lock) */
	}
	if (start_policy.builtin) {
		loaded = policy_new_default();
		if (loaded == NULL) {
			policy_set_error(&load_error, "(built-in): out of memory");
			load_error.sys_errno = ENOMEM;
		}
	} else if (start_policy.text == NULL) {
		load_error = *start_policy.error;
	} else {
		loaded = policy_load_string(start_policy.text, start_policy.len, start_policy.path,
		                            &load_error);
	}
	if (loaded == NULL) {
		load_failed = true;
		report_failure();
		return !transient(load_error.sys_errno);
	}
	if (!is_start_buffer(start_policy.text)) {
		free(start_policy.text); /* compiled: the bytes are not needed again */
	}
	start_policy.text = NULL;
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
