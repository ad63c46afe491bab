/*
 * Every way to start a program, as thin wrappers: the exec family,
 * posix_spawn, system and popen run the real call with the environment the
 * parent side builds (inherit_parent.c); fork and vfork prepare the parent so
 * that its children need not. Refused (ENOMEM) rather than start an ungoverned
 * child when that environment cannot be built.
 */
#include <errno.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bind/real.h"
#include "core/audit.h"
#include "core/start_env.h"
#include "inherit_parent.h"
#include "shim.h"
#include "tunnel/tunnel.h"

/* Runs the real call with the child's environment; refuses (ENOMEM) rather than
 * start an ungoverned child when the environment cannot be built. */
#define WITH_CHILD_ENV(envp, all_fds, call) WITH_CHILD_ENV_KEEP(envp, all_fds, false, call)

/* keep: the call replaces this process's image (the exec family), whose
 * tunnel pumps a keeper process takes over first (shim/tunnel/exec.c). */
#define WITH_CHILD_ENV_KEEP(envp, all_fds, keep, call)                                             \
	do {                                                                                       \
		struct child_env ce_;                                                              \
		struct tunnel_keep keep_ = {.go = -1};                                             \
		int rc_, saved_;                                                                   \
		if (inherit_child_env(&ce_, envp, all_fds) < 0) {                                  \
			child_env_free(&ce_);                                                      \
			errno = ENOMEM;                                                            \
			return -1;                                                                 \
		}                                                                                  \
		char *const *env_ = ce_.envp != NULL ? ce_.envp : (envp);                          \
		audit_flush_suppressed(); /* exec drops the count with the image */                \
		if (keep) {                                                                        \
			tunnel_exec_prepare(&keep_);                                               \
		}                                                                                  \
		rc_ = call;                                                                        \
		saved_ = errno;                                                                    \
		tunnel_exec_abort(&keep_); /* still here: the exec failed */                       \
		child_env_free(&ce_);                                                              \
		errno = saved_;                                                                    \
		return rc_;                                                                        \
	} while (0)

/* The two every other exec form ends in: static, so that the shim never
 * calls an interposed name. */
static int execve_governed(const char *path, char *const argv[], char *const envp[])
{
	WITH_CHILD_ENV_KEEP(envp, false, true, real()->execve(path, argv, env_));
}

static int execvpe_governed(const char *file, char *const argv[], char *const envp[])
{
	WITH_CHILD_ENV_KEEP(envp, false, true, real()->execvpe(file, argv, env_));
}

SHIM_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	return execve_governed(path, argv, envp);
}

SHIM_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	return execvpe_governed(file, argv, envp);
}

SHIM_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	WITH_CHILD_ENV_KEEP(envp, false, true, real()->fexecve(fd, argv, env_));
}

/* execveat(2) (glibc 2.34). */
SHIM_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
                         int flags)
{
	WITH_CHILD_ENV_KEEP(envp, false, true, real()->execveat(dirfd, path, argv, env_, flags));
}

SHIM_EXPORT int execv(const char *path, char *const argv[])
{
	return execve_governed(path, argv, environ);
}

SHIM_EXPORT int execvp(const char *file, char *const argv[])
{
	return execvpe_governed(file, argv, environ);
}

SHIM_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                            const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	WITH_CHILD_ENV(envp, fa != NULL, real()->posix_spawn(pid, path, fa, attr, argv, env_));
}

SHIM_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                             const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	WITH_CHILD_ENV(envp, fa != NULL, real()->posix_spawnp(pid, file, fa, attr, argv, env_));
}

/* execl, execlp, execle: the variadic forms, gathered into an argv. */
static char **gather_args(const char *arg0, va_list ap, char ***envp_out)
{
	size_t n = 1, cap = 16;
	char **argv = malloc(cap * sizeof(char *));
	char **grown;

	if (argv == NULL) {
		return NULL;
	}
	argv[0] = (char *)arg0;
	while (argv[n - 1] != NULL) {
		if (n == cap) {
			cap *= 2;
			grown = realloc(argv, cap * sizeof(char *));
			if (grown == NULL) {
				free(argv);
				return NULL;
			}
			argv = grown;
		}
		argv[n++] = va_arg(ap, char *);
	}
	if (envp_out != NULL) {
		*envp_out = va_arg(ap, char **);
	}
	return argv;
}

#define EXEC_VARIADIC(arg0, with_env, call)                                                        \
	do {                                                                                       \
		va_list ap;                                                                        \
		char **envp_ = environ, **argv_;                                                   \
		int rc_, saved_;                                                                   \
		va_start(ap, arg0);                                                                \
		argv_ = gather_args(arg0, ap, with_env ? &envp_ : NULL);                           \
		va_end(ap);                                                                        \
		if (argv_ == NULL) {                                                               \
			errno = ENOMEM;                                                            \
			return -1;                                                                 \
		}                                                                                  \
		rc_ = call;                                                                        \
		saved_ = errno;                                                                    \
		free(argv_);                                                                       \
		errno = saved_;                                                                    \
		return rc_;                                                                        \
	} while (0)

SHIM_EXPORT int execl(const char *path, const char *arg, ...)
{
	EXEC_VARIADIC(arg, false, execve_governed(path, argv_, envp_));
}

SHIM_EXPORT int execlp(const char *file, const char *arg, ...)
{
	EXEC_VARIADIC(arg, false, execvpe_governed(file, argv_, envp_));
}

SHIM_EXPORT int execle(const char *path, const char *arg, ...)
{
	EXEC_VARIADIC(arg, true, execve_governed(path, argv_, envp_));
}

/* system() and popen() spawn through glibc internals with `environ`: the
 * shim's entries are put back into this process's own environment first. */
SHIM_EXPORT int system(const char *command)
{
	inherit_fix_own_environ();
	return real()->system(command);
}

SHIM_EXPORT FILE *popen(const char *command, const char *type)
{
	inherit_fix_own_environ();
	return real()->popen(command, type);
}

/* glibc's exported aliases meet the same wrappers (tlsguard.8). */
SHIM_EXPORT int __libc_system(const char *command) __attribute__((alias("system")));
SHIM_EXPORT FILE *_IO_popen(const char *command, const char *type)
    __attribute__((alias("popen"), malloc));

/* The real functions are bound, and the start-up environment read, here in
 * the parent: a shell's children (fork, then exec, a thousand times in a
 * loop) inherit both instead of each binding some sixty symbols again. */
static pid_t fork_prepared(void)
{
	(void)shim_start_policy(); /* the snapshot, and AT_SECURE asked */
	return real()->fork();
}

SHIM_EXPORT pid_t fork(void)
{
	return fork_prepared();
}

/* vfork's child shares the parent's memory, and the exec wrappers allocate: a
 * plain fork keeps the parent safe (POSIX allows vfork to be fork). */
SHIM_EXPORT pid_t vfork(void)
{
	return fork_prepared();
}
