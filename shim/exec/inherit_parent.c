/*
 * Children stay enforced (parent side). Every way to start a program (the
 * exec family, posix_spawn, system, popen: spawn.c) gets an environment that
 * preloads the shim with this process's policy and mode, even if the program
 * scrubbed them, unless the policy says inherit = false. Governed sockets a
 * child can hold are named in TLSGUARD_FDS by socket, not by number: dup2,
 * file actions and exec move a socket to any number, and the child finds it
 * there (inherit_child.c).
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "bind/real.h"
#include "core/conn_internal.h"
#include "core/start_env.h"
#include "fdlist.h"
#include "inherit_parent.h"
#include "shim.h"
#include "socket_name.h"
#include "tunnel/tunnel.h"

/* The parent collects at most this many sockets: more than any list of
 * FDLIST_MAX bytes can name (an entry takes at least 5 bytes with its comma),
 * so a longer table always ends the list with "*". */
#define GOVERNED_COLLECT_MAX 1024

static SHIM_STARTUP_DATA char env_tunnel[] = "TLSGUARD_TUNNEL";

/* Adds the socket at fd to e (once: dup'ed descriptors share it). */
static void collect_one(struct fdlist_entry *e, size_t *n, int fd, bool inbound)
{
	struct fdlist_entry one = {.inbound = inbound};

	if (*n == GOVERNED_COLLECT_MAX || socket_name(fd, &one.kind, &one.id) < 0 ||
	    fdlist_find(e, *n, one.kind, one.id) != NULL) {
		return;
	}
	e[(*n)++] = one;
}

/* The governed sockets the new image can hold, as TLSGUARD_FDS (all_fds: see
 * inherit_child_env). */
static void governed_fds(char *out, size_t len, bool all_fds, char *tunnels, size_t tlen)
{
	struct fdlist_entry *e = malloc(GOVERNED_COLLECT_MAX * sizeof(*e));
	unsigned int i, j;
	struct conn *c;
	size_t n = 0;
	int fd, flags;

	out[0] = '\0';
	if (e == NULL) {
		out[0] = '*'; /* the child decides each socket by address */
		out[1] = '\0';
		return;
	}
	for (i = 0; i < FDT_CHUNKS; i++) {
		if (fdt_chunks[i] == NULL) {
			continue;
		}
		for (j = 0; j < FDT_CHUNK_SIZE; j++) {
			fd = (int)(i << FDT_CHUNK_BITS | j);
			c = conn_acquire(fd);
			if (c == NULL) {
				continue;
			}
			flags = all_fds ? 0 : real()->fcntl(fd, F_GETFD);
			if (flags >= 0 && (flags & FD_CLOEXEC) == 0) {
				if (c->tunnel != NULL) {
					/* a tunnel's pair end: named apart, with
					 * what the new image answers for it */
					tunnel_env_add(c->tunnel, fd, tunnels, tlen);
				} else {
					collect_one(e, &n, fd, c->inbound);
				}
			}
			conn_release(c);
		}
	}
	fdlist_encode(out, len, e, n);
	free(e);
}

int inherit_child_env(struct child_env *ce, char *const envp[], bool all_fds)
{
	/* A child keeps this process's policy and mode: a program cannot point
	 * it at another policy file. */
	struct child_env_want want = {
	    .shim_path = real_shim_path,
	    .start_preload = shim_start_preload(),
	    .policy = shim_start_policy(),
	    .mode = shim_start_mode(),
	};
	const struct policy *policy;
	char *list = NULL, *tunnels = NULL;
	int rc;

	/* A process that never governed a descriptor has no table to list. */
	if (atomic_load_explicit(&fdt_in_use, memory_order_acquire) &&
	    (list = malloc(FDLIST_MAX + 1)) != NULL &&
	    (tunnels = malloc(TUNNEL_ENV_MAX + 1)) != NULL) {
		tunnels[0] = '\0';
		governed_fds(list, FDLIST_MAX + 1, all_fds, tunnels, TUNNEL_ENV_MAX + 1);
		want.fds = list;
	}
	rc = child_env_edits(ce, envp, &want);
	if (rc == 0) {
		rc = child_env_want_value(ce, envp, env_tunnel, tunnels);
	}
	free(list);
	free(tunnels);
	if (rc == 0 && ce->nedits == 0) {
		return 0; /* the common case: the policy is not even parsed */
	}
	policy = shim_policy();
	if (policy != NULL && !policy_inherit(policy)) {
		return 0; /* the operator chose: children are not governed */
	}
	if (rc < 0) {
		return -1;
	}
	return child_env_apply(ce, envp);
}

void inherit_fix_own_environ(void)
{
	struct child_env ce;
	int i;

	if (inherit_child_env(&ce, environ, false) < 0 || ce.envp == NULL) {
		child_env_free(&ce);
		return;
	}
	for (i = 0; i < ce.nedits; i++) {
		switch (ce.edits[i].kind) {
		case ENV_EDIT_SET:
			setenv(ce.edits[i].name, ce.edits[i].value, 1);
			break;
		case ENV_EDIT_UNSET:
		default:
			unsetenv(ce.edits[i].name);
			break;
		}
	}
	child_env_free(&ce);
}
