/*
 * TLSGUARD_POLICY, TLSGUARD_MODE, TLSGUARD_FDS, LD_PRELOAD and LISTEN_* as this
 * process was started (start_env.h): a program that edits its environment
 * (env -i, setenv before exec) changes neither the policy it is held to nor
 * the one its children get.
 *
 * The values are copied into static blocks: programs that set their process
 * title (PostgreSQL, nginx) overwrite the strings of the environment they
 * started with, so pointers into them would not do, and a static block needs
 * no malloc. Every process runs this, /bin/true included, so it is one pass
 * over environ with no libc call (envscan.h), into a small block in .data (see
 * SHIM_STARTUP_DATA) that shares its page with what the loader writes anyway;
 * only values too long for it go to a larger block in .bss, a page of its own.
 */
#include <limits.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "envscan.h"
#include "shim.h"
#include "start_env.h"

enum start_var {
	START_POLICY,
	START_MODE,
	START_FDS,
	START_PRELOAD,
	START_LISTEN_PID,
	START_LISTEN_FDS,
	START_TUNNEL,
	START_VARS
};

/* Not const: in .data with the rest, so reading the names at start-up
 * touches no page of .rodata. */
static SHIM_STARTUP_DATA struct {
	const char name[16];
	size_t max; /* longest value kept, with its NUL */
	/* What a longer value becomes: a text every use refuses, naming the
	 * variable (NULL: the value is simply unknown). */
	const char *too_long;
	/* Ignored in a secure-execution process, as secure_getenv would
	 * (contract: every TLSGUARD_ variable). */
	bool secure_ignores;
} start_vars[START_VARS] = {
    [START_POLICY] = {"TLSGUARD_POLICY", PATH_MAX, "(TLSGUARD_POLICY longer than PATH_MAX)", true},
    [START_MODE] = {"TLSGUARD_MODE", 64, "(TLSGUARD_MODE too long)", true},
    [START_FDS] = {"TLSGUARD_FDS", 4096, NULL, true},
    [START_PRELOAD] = {"LD_PRELOAD", 4096, NULL, false},
    /* systemd socket activation (sd_listen_fds(3)): numbers, short */
    [START_LISTEN_PID] = {"LISTEN_PID", 24, NULL, false},
    [START_LISTEN_FDS] = {"LISTEN_FDS", 24, NULL, false},
    /* the tunnels an exec'ed parent held (shim/tunnel/exec.c) */
    [START_TUNNEL] = {"TLSGUARD_TUNNEL", 4096, NULL, true},
};

enum start_state { START_NONE, START_TAKING, START_TAKEN };

/* Where values are copied: the first block a value fits in whole. */
struct start_store {
	size_t used;
	size_t size;
	char *bytes;
};

static SHIM_STARTUP_DATA char start_near_bytes[512];
static char
    start_far_bytes[PATH_MAX + 64 + 4096 + 4096 + 24 + 24 + 4096]; /* every value at its longest */

static SHIM_STARTUP_DATA struct {
	atomic_int state;              /* enum start_state */
	atomic_int secure;             /* AT_SECURE, once asked: -1 not yet */
	const char *value[START_VARS]; /* into a store; NULL: unset */
	struct start_store near, far;
} start = {
    .secure = -1,
    .near = {.size = sizeof(start_near_bytes), .bytes = start_near_bytes},
    .far = {.size = sizeof(start_far_bytes), .bytes = start_far_bytes},
};

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

void start_env_take(void)
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
			if ((value = envscan_entry_value(*e, start_vars[v].name)) != NULL) {
				keep(v, value);
				break;
			}
		}
	}
	atomic_store(&start.state, START_TAKEN);
}

/* A setuid/setgid/capability process ignores the TLSGUARD_ variables, as
 * secure_getenv would (contract). Asked only when a value is. */
static const char *start_value(enum start_var var)
{
	const char *value;

	start_env_take();
	value = start.value[var];
	if (value == NULL || !start_vars[var].secure_ignores) {
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

const char *shim_start_listen_pid(void)
{
	return start_value(START_LISTEN_PID);
}

const char *shim_start_listen_fds(void)
{
	return start_value(START_LISTEN_FDS);
}

const char *shim_start_tunnel(void)
{
	return start_value(START_TUNNEL);
}
