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
#include <sys/syscall.h>
#include <unistd.h>

#include "audit.h"
#include "bind/real.h"
#include "init.h"
#include "mode_select.h"
#include "shim.h"
#include "start_env.h"

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
 * read. Written by shim_policy_read_at_start, then only by load() under
 * load_lock. */
static SHIM_STARTUP_DATA struct {
	atomic_int state; /* enum start_read */
	bool builtin;     /* no file: the built-in default policy */
	const char *path;
	char *text; /* NULL: the read failed, see error */
	size_t len;
	int sys_errno;              /* of the failure */
	struct policy_error *error; /* NULL, or the failure (start_policy_error) */
} start_policy;
/* In .bss, a page of its own: written only when the read failed. */
static struct policy_error start_policy_error;

enum start_read { START_NONE, START_TAKING, START_TAKEN };

static void say(const char *text)
{
	real()->write(2, text, strlen(text));
}

/* The mode in force: the policy's, or TLSGUARD_MODE when the policy lets it
 * override the file's mode (mode_select.h). */
static void choose_mode(void)
{
	const char *env = shim_start_mode();
	bool env_invalid;
	char line[256];

	mode = mode_in_force(loaded, env, &env_invalid);
	if (env_invalid) {
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

/* Once, from the start-up constructor (or from a wrapper some other library's
 * constructor called even earlier); another thread waits for the bytes. No
 * lock: the constructor runs with every process, and pthread_mutex_lock's code
 * would be one more page to fault in. */
void shim_policy_read_at_start(void)
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
	shim_policy_read_at_start(); /* done unless a wrapper ran before the constructor */
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
	choose_mode();
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
