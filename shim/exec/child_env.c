/*
 * A child's environment, as pure functions of the parent's environment block
 * and what the child must get (child_env.h). A shell's forked child runs this
 * on its way to exec: the common case (nothing to change) uses no libc
 * function at all (envscan.h), since every libc function called for the first
 * time there costs a lazy symbol lookup and copy-on-write page faults.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "child_env.h"
#include "envscan.h"
#include "preload_list.h"
#include "shim.h"

/* The names every exec compares, even a shell's forked child on its way to
 * /bin/true. In .data (SHIM_STARTUP_DATA), whose page the child shares with
 * its parent: as string literals they would sit in .rodata, a page the child
 * must fault in again. */
static SHIM_STARTUP_DATA char env_preload[] = "LD_PRELOAD";
static SHIM_STARTUP_DATA char env_policy[] = "TLSGUARD_POLICY";
static SHIM_STARTUP_DATA char env_mode[] = "TLSGUARD_MODE";
static SHIM_STARTUP_DATA char env_fds[] = "TLSGUARD_FDS";

/* Does the LD_PRELOAD value name the shim at shim_path, by that name or by a
 * path that resolves to it? In a small frame of its own: PATH_MAX buffers
 * would make every forked child of a shell touch (stack-clash probe) two more
 * pages on the fast path. */
static __attribute__((noinline)) bool preload_names_shim(const char *value, const char *shim_path)
{
	char resolved[PATH_MAX], item[PATH_MAX];
	const char *entry;
	size_t n;

	while (preload_list_next(&value, &entry, &n)) {
		if (n >= sizeof(item)) {
			continue; /* no path the loader could open */
		}
		memcpy(item, entry, n);
		item[n] = '\0';
		if (strcmp(item, shim_path) == 0 ||
		    (realpath(item, resolved) != NULL && strcmp(resolved, shim_path) == 0)) {
			return true;
		}
	}
	return false;
}

/* Sets name to value, or to "value:rest" when rest is not NULL. */
static int add_set(struct child_env *ce, const char *name, const char *value, const char *rest)
{
	struct env_edit *e = &ce->edits[ce->nedits];
	int n = rest == NULL ? asprintf(&e->entry, "%s=%s", name, value)
	                     : asprintf(&e->entry, "%s=%s:%s", name, value, rest);

	if (n < 0) {
		e->entry = NULL;
		return -1;
	}
	e->kind = ENV_EDIT_SET;
	e->name = name;
	e->value = e->entry + strlen(name) + 1;
	ce->nedits++;
	return 0;
}

/* name must hold want (NULL or empty: be absent, as the shim always carried
 * an empty value). */
static int want_value(struct child_env *ce, char *const envp[], const char *name, const char *want)
{
	if (envscan_same(envscan_value(envp, name), want)) {
		return 0;
	}
	if (want == NULL || *want == '\0') {
		ce->edits[ce->nedits++] = (struct env_edit){.kind = ENV_EDIT_UNSET, .name = name};
		return 0;
	}
	return add_set(ce, name, want, NULL);
}

/* LD_PRELOAD must load the shim: the very string this process was started
 * with does (the loader loaded us from it); otherwise the shim goes first. */
static int want_preload(struct child_env *ce, char *const envp[], const struct child_env_want *want)
{
	const char *preload = envscan_value(envp, env_preload), *shim;

	if (preload != NULL && envscan_same(preload, want->start_preload)) {
		return 0;
	}
	shim = want->shim_path();
	if (shim[0] == '\0' || preload_names_shim(preload, shim)) {
		return 0;
	}
	if (preload == NULL || *preload == '\0') {
		return add_set(ce, env_preload, shim, NULL);
	}
	return add_set(ce, env_preload, shim, preload);
}

int child_env_edits(struct child_env *ce, char *const envp[], const struct child_env_want *want)
{
	*ce = (struct child_env){0}; /* no memset: see the top of the file */
	if (want_preload(ce, envp, want) < 0 ||
	    want_value(ce, envp, env_policy, want->policy) < 0 ||
	    want_value(ce, envp, env_mode, want->mode) < 0 ||
	    want_value(ce, envp, env_fds, want->fds) < 0) {
		return -1;
	}
	return 0;
}

int child_env_want_value(struct child_env *ce, char *const envp[], const char *name,
                         const char *want)
{
	if (ce->nedits >= CHILD_ENV_EDITS_MAX) {
		return -1;
	}
	return want_value(ce, envp, name, want);
}

static bool edited(const char *entry, const struct child_env *ce)
{
	int i;

	for (i = 0; i < ce->nedits; i++) {
		if (envscan_entry_value(entry, ce->edits[i].name) != NULL) {
			return true;
		}
	}
	return false;
}

int child_env_apply(struct child_env *ce, char *const envp[])
{
	size_t count = 0, i, k = 0;
	int e;

	while (envp != NULL && envp[count] != NULL) {
		count++;
	}
	ce->envp = calloc(count + (size_t)ce->nedits + 1, sizeof(char *));
	if (ce->envp == NULL) {
		return -1;
	}
	for (e = 0; e < ce->nedits; e++) {
		if (ce->edits[e].kind == ENV_EDIT_SET) {
			ce->envp[k++] = ce->edits[e].entry;
		}
	}
	for (i = 0; i < count; i++) {
		if (!edited(envp[i], ce)) {
			ce->envp[k++] = envp[i];
		}
	}
	return 0;
}

void child_env_free(struct child_env *ce)
{
	int i;

	for (i = 0; i < ce->nedits; i++) {
		free(ce->edits[i].entry);
	}
	free(ce->envp);
}
