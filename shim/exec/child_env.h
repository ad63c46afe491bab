/*
 * A child's environment, computed without side effects (exec/child_env.c): the
 * entries the shim must put back (LD_PRELOAD loading it, TLSGUARD_POLICY and
 * TLSGUARD_MODE as this process started, TLSGUARD_FDS naming the governed
 * sockets) as named edits, then the environment with them applied. What the
 * values are is the parent side's business (inherit_parent.c).
 */
#ifndef TLSGUARD_CHILD_ENV_H
#define TLSGUARD_CHILD_ENV_H

#include <stdbool.h>

/* One change to a child's environment. */
enum env_edit_kind {
	ENV_EDIT_SET,   /* entry is "NAME=value": it replaces any NAME */
	ENV_EDIT_UNSET, /* NAME must be absent */
};

struct env_edit {
	enum env_edit_kind kind;
	const char *name;
	char *entry;       /* ENV_EDIT_SET: "NAME=value", allocated; else NULL */
	const char *value; /* ENV_EDIT_SET: into entry */
};

/* LD_PRELOAD, TLSGUARD_POLICY, TLSGUARD_MODE, TLSGUARD_FDS, TLSGUARD_TUNNEL */
#define CHILD_ENV_EDITS_MAX 5

/* What the child must get. */
struct child_env_want {
	/* This shim's absolute path ("" unknown: LD_PRELOAD is left alone);
	 * asked only when LD_PRELOAD does not hold start_preload. */
	const char *(*shim_path)(void);
	/* LD_PRELOAD as this process started: it loads the shim. */
	const char *start_preload;
	/* To carry, NULL or "": absent in the child. */
	const char *policy, *mode, *fds;
};

struct child_env {
	char **envp; /* NULL: the caller's environment is already right */
	struct env_edit edits[CHILD_ENV_EDITS_MAX];
	int nedits;
};

/* Fills ce->edits with what envp lacks or has wrong (ce->envp stays NULL).
 * -1 when out of memory. */
int child_env_edits(struct child_env *ce, char *const envp[], const struct child_env_want *want);

/* One more edit after child_env_edits: name=want in the child (want NULL
 * or "": absent). -1 when out of memory or ce is full. */
int child_env_want_value(struct child_env *ce, char *const envp[], const char *name,
                         const char *want);

/* ce->envp: the edits first, then every entry of envp they do not replace.
 * Nothing is copied but the array. -1 when out of memory. */
int child_env_apply(struct child_env *ce, char *const envp[]);

/* Frees what the two calls above allocated; ce itself stays. */
void child_env_free(struct child_env *ce);

#endif
