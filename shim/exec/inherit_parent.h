/*
 * What a parent passes to the program it starts (exec/inherit_parent.c): an
 * environment that preloads the shim with this process's policy and mode and
 * names the governed sockets the child can hold.
 */
#ifndef TLSGUARD_INHERIT_PARENT_H
#define TLSGUARD_INHERIT_PARENT_H

#include <stdbool.h>

#include "child_env.h"

/* Fills ce for a child started with envp (NULL: empty). ce->envp stays NULL
 * when envp is already right or the policy says inherit = false. all_fds:
 * list every governed socket, not only those without FD_CLOEXEC (spawn file
 * actions may dup2 any descriptor, and a dup2 onto itself clears the flag).
 * -1 when out of memory: the caller must then refuse to start the child.
 * child_env_free(ce) in every case. */
int inherit_child_env(struct child_env *ce, char *const envp[], bool all_fds);

/* Puts the shim's entries back into this process's own environment, for
 * system() and popen(), which spawn through glibc internals with environ. */
void inherit_fix_own_environ(void);

#endif
