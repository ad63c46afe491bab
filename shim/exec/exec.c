/*
 * Children stay enforced. Every way to start a program (the exec family,
 * posix_spawn, system, popen) gets an environment that preloads the shim with
 * this process's policy and mode, even if the program scrubbed them, unless the
 * policy says inherit = false. Governed sockets a child inherits are named in
 * TLSGUARD_FDS by socket (SO_COOKIE, or the inode), not by number: dup2, file
 * actions and exec move a socket to any number, and the child finds it there
 * and governs it from its first byte (fdlist.h).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/audit.h"
#include "core/conn_internal.h"
#include "exec.h"
#include "fdlist.h"
#include "sock/decide.h"
#include "bind/real.h"
#include "shim.h"
#include "sock/stdio_guard.h"

extern char **environ;

/* The names every exec compares, even a shell's forked child on its way to
 * /bin/true. In .data (SHIM_STARTUP_DATA), whose page the child shares with
 * its parent: as string literals they would sit in .rodata, a page the child
 * must fault in again. */
static SHIM_STARTUP_DATA char env_preload[] = "LD_PRELOAD";
static SHIM_STARTUP_DATA char env_policy[] = "TLSGUARD_POLICY";
static SHIM_STARTUP_DATA char env_mode[] = "TLSGUARD_MODE";
static SHIM_STARTUP_DATA char env_fds[] = "TLSGUARD_FDS";

/* The parent collects at most this many sockets: more than any list of
 * FDLIST_MAX bytes can name (an entry takes at least 5 bytes with its comma),
 * so a longer table always ends the list with "*". */
#define GOVERNED_COLLECT_MAX 1024

/* This shim's own path, for the child's LD_PRELOAD: the name the loader opened
 * it by, kept as the loader's own string when it is absolute (the usual case:
 * no system call, no copy, so a shell's forked child touches no page for it
 * before exec), else made absolute once. */
static const char *self_path = "";
static char self_resolved[PATH_MAX];
static pthread_once_t self_once = PTHREAD_ONCE_INIT;

struct self_search {
	uintptr_t addr;
	const char *name;
};

static int find_self_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct self_search *search = arg;
	uintptr_t lo;
	int i;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++) {
		if (info->dlpi_phdr[i].p_type != PT_LOAD) {
			continue;
		}
		lo = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
		if (search->addr >= lo && search->addr < lo + info->dlpi_phdr[i].p_memsz) {
			search->name = info->dlpi_name;
			return 1;
		}
	}
	return 0;
}

static void find_self(void)
{
	struct self_search search = {(uintptr_t)find_self, NULL};

	dl_iterate_phdr(find_self_object, &search);
	if (search.name != NULL && search.name[0] == '/') {
		self_path = search.name;
	} else if (search.name != NULL && realpath(search.name, self_resolved) != NULL) {
		self_path = self_resolved;
	}
}

/* The value of NAME in envp. The shim's own loop, not strncmp: a shell's
 * forked child runs this before exec, and every libc function it calls for the
 * first time there costs a lazy symbol lookup and copy-on-write page faults. */
static const char *env_value(char *const envp[], const char *name)
{
	const char *e, *n;

	for (; envp != NULL && *envp != NULL; envp++) {
		for (e = *envp, n = name; *n != '\0' && *e == *n; e++, n++) {
		}
		if (*n == '\0' && *e == '=') {
			return e + 1;
		}
	}
	return NULL;
}

/* Equal strings (or both NULL); the shim's own loop, for the reason above. */
static bool same_value(const char *a, const char *b)
{
	if (a == b) {
		return true;
	}
	if (a == NULL || b == NULL) {
		return false;
	}
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* Does the LD_PRELOAD value (separated by spaces or colons) load this shim? The
 * very string this process was started with does: the loader loaded us from
 * it. */
static __attribute__((noinline)) bool preloads_self_by_path(const char *value)
{
	char resolved[PATH_MAX], item[PATH_MAX];
	size_t n;

	pthread_once(&self_once, find_self);
	while (value != NULL && *value != '\0') {
		n = strcspn(value, ": ");
		if (n > 0 && n < sizeof(item)) {
			memcpy(item, value, n);
			item[n] = '\0';
			if (strcmp(item, self_path) == 0 || (realpath(item, resolved) != NULL &&
			                                     strcmp(resolved, self_path) == 0)) {
				return true;
			}
		}
		value += n + (value[n] != '\0');
	}
	return false;
}

/* The fast case in its own small frame: PATH_MAX buffers would make every
 * forked child of a shell touch (stack-clash probe) two more pages. */
static bool preloads_self(const char *value)
{
	if (value != NULL && same_value(value, shim_start_preload())) {
		return true;
	}
	return preloads_self_by_path(value);
}

/* What names the socket at fd across exec (fdlist.h): its SO_COOKIE, or its
 * inode on a kernel without SO_COOKIE. -1 when fd is not a socket. Parent and
 * child run on the same kernel, so both pick the same kind. */
static int socket_id(int fd, enum fdlist_kind *kind, uint64_t *id)
{
	socklen_t len = sizeof(*id);
	struct stat st;

	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, id, &len) == 0 && len == sizeof(*id)) {
		*kind = FDLIST_COOKIE;
		return 0;
	}
	if (errno == ENOTSOCK || errno == EBADF || fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		return -1;
	}
	*kind = FDLIST_INODE;
	*id = (uint64_t)st.st_ino;
	return 0;
}

/* Adds the socket at fd to e (once: dup'ed descriptors share it). */
static void collect_one(struct fdlist_entry *e, size_t *n, int fd, bool inbound)
{
	struct fdlist_entry one = {.inbound = inbound};

	if (*n == GOVERNED_COLLECT_MAX || socket_id(fd, &one.kind, &one.id) < 0 ||
	    fdlist_find(e, *n, one.kind, one.id) != NULL) {
		return;
	}
	e[(*n)++] = one;
}

/* The governed sockets the new image can hold, as TLSGUARD_FDS: those not
 * close-on-exec, or, when spawn file actions may dup2 any descriptor (a
 * dup2 onto itself clears FD_CLOEXEC), every governed socket. */
static void governed_fds(char *out, size_t len, bool all)
{
	struct fdlist_entry *e = malloc(GOVERNED_COLLECT_MAX * sizeof(*e));
	unsigned int i, j;
	struct conn *c;
	size_t n = 0;
	int fd, flags;

	out[0] = '\0';
	if (e == NULL) {
		snprintf(out, len, "*"); /* the child decides each socket by address */
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
			flags = all ? 0 : real()->fcntl(fd, F_GETFD);
			if (flags >= 0 && (flags & FD_CLOEXEC) == 0) {
				collect_one(e, &n, fd, c->inbound);
			}
			conn_release(c);
		}
	}
	fdlist_encode(out, len, e, n);
	free(e);
}

struct child_env {
	char **envp; /* NULL: the caller's environment is already right */
	char *strings[4];
};

static void child_env_free(struct child_env *ce)
{
	size_t i;

	for (i = 0; i < sizeof(ce->strings) / sizeof(ce->strings[0]); i++) {
		free(ce->strings[i]);
	}
	free(ce->envp);
}

static char *format_var(const char *name, const char *value)
{
	char *s = NULL;

	if (asprintf(&s, "%s=%s", name, value) < 0) {
		return NULL;
	}
	return s;
}

/* The entries the child's environment lacks or has wrong, as "NAME=value";
 * "NAME=" means NAME must be absent. Returns how many, -1 when out of memory. */
static int wanted_entries(char *const envp[], char *out[4], bool all_fds)
{
	const char *preload = env_value(envp, env_preload);
	const char *fds = NULL;
	char *list = NULL;
	int n = 0;

	if (!preloads_self(preload) && self_path[0] != '\0') {
		if (preload == NULL || *preload == '\0') {
			out[n++] = format_var(env_preload, self_path);
		} else if (asprintf(&out[n++], "%s=%s:%s", env_preload, self_path, preload) < 0) {
			out[n - 1] = NULL;
		}
	}
	/* A child keeps this process's policy and mode: a program cannot point it at
	 * another policy file. */
	const char *start_policy = shim_start_policy(), *start_mode = shim_start_mode();

	if (!same_value(env_value(envp, env_policy), start_policy)) {
		out[n++] = format_var(env_policy, start_policy != NULL ? start_policy : "");
	}
	if (!same_value(env_value(envp, env_mode), start_mode)) {
		out[n++] = format_var(env_mode, start_mode != NULL ? start_mode : "");
	}
	/* A process that never governed a descriptor has no table to list. */
	if (atomic_load_explicit(&fdt_in_use, memory_order_acquire) &&
	    (list = malloc(FDLIST_MAX + 1)) != NULL) {
		governed_fds(list, FDLIST_MAX + 1, all_fds);
		fds = list[0] != '\0' ? list : NULL;
	}
	if (!same_value(env_value(envp, env_fds), fds)) {
		out[n++] = format_var(env_fds, fds != NULL ? fds : "");
	}
	if (list != NULL) {
		free(list);
	}
	return n;
}

static bool replaces(const char *entry, char *const set[], int nset)
{
	int i;
	size_t len;

	for (i = 0; i < nset; i++) {
		len = strcspn(set[i], "=");
		if (strncmp(entry, set[i], len) == 0 && entry[len] == '=') {
			return true;
		}
	}
	return false;
}

/* Builds ce->envp from envp with the shim's entries put back; all_fds: see
 * governed_fds. */
static int child_env_build(struct child_env *ce, char *const envp[], bool all_fds)
{
	static char *const empty[] = {NULL};
	const struct policy *policy;
	size_t count = 0, i, k = 0;
	int nset;

	*ce = (struct child_env){0}; /* no memset: see env_value */
	envp = envp != NULL ? envp : empty;
	nset = wanted_entries(envp, ce->strings, all_fds);
	if (nset <= 0) {
		return nset;
	}
	policy = shim_policy();
	if (policy != NULL && !policy_inherit(policy)) {
		return 0; /* the operator chose: children are not governed */
	}
	while (envp[count] != NULL) {
		count++;
	}
	ce->envp = calloc(count + (size_t)nset + 1, sizeof(char *));
	if (ce->envp == NULL) {
		return -1;
	}
	for (i = 0; i < (size_t)nset; i++) {
		if (ce->strings[i] == NULL) {
			return -1;
		}
		/* "NAME=" alone means: leave NAME out. */
		if (ce->strings[i][strcspn(ce->strings[i], "=") + 1] != '\0') {
			ce->envp[k++] = ce->strings[i];
		}
	}
	for (i = 0; i < count; i++) {
		if (!replaces(envp[i], ce->strings, nset)) {
			ce->envp[k++] = envp[i];
		}
	}
	return 0;
}

/* Runs the real call with the child's environment; refuses (ENOMEM) rather than
 * start an ungoverned child when the environment cannot be built. */
#define WITH_CHILD_ENV(envp, all_fds, call)                                                        \
	do {                                                                                       \
		struct child_env ce_;                                                              \
		int rc_, saved_;                                                                   \
		if (child_env_build(&ce_, envp, all_fds) < 0) {                                    \
			child_env_free(&ce_);                                                      \
			errno = ENOMEM;                                                            \
			return -1;                                                                 \
		}                                                                                  \
		char *const *env_ = ce_.envp != NULL ? ce_.envp : (envp);                          \
		audit_flush_suppressed(); /* exec drops the count with the image */                \
		rc_ = call;                                                                        \
		saved_ = errno;                                                                    \
		child_env_free(&ce_);                                                              \
		errno = saved_;                                                                    \
		return rc_;                                                                        \
	} while (0)

SHIM_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	WITH_CHILD_ENV(envp, false, real()->execve(path, argv, env_));
}

SHIM_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	WITH_CHILD_ENV(envp, false, real()->execvpe(file, argv, env_));
}

SHIM_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	WITH_CHILD_ENV(envp, false, real()->fexecve(fd, argv, env_));
}

/* execveat(2) (glibc 2.34): bound here, once, because older glibc has no
 * such function; the system call itself is then made through the real
 * syscall(). */
typedef int execveat_fn(int, const char *, char *const[], char *const[], int);
static execveat_fn *real_execveat;
static pthread_once_t execveat_once = PTHREAD_ONCE_INIT;

static void bind_execveat(void)
{
	real_execveat = (execveat_fn *)dlsym(RTLD_NEXT, "execveat");
}

static int execveat_call(int dirfd, const char *path, char *const argv[], char *const envp[],
                         int flags)
{
	pthread_once(&execveat_once, bind_execveat);
	if (real_execveat != NULL) {
		return real_execveat(dirfd, path, argv, envp, flags);
	}
	return (int)real()->syscall(SYS_execveat, dirfd, path, argv, envp, flags);
}

SHIM_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
                         int flags)
{
	WITH_CHILD_ENV(envp, false, execveat_call(dirfd, path, argv, env_, flags));
}

SHIM_EXPORT int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

SHIM_EXPORT int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
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
	EXEC_VARIADIC(arg, false, execve(path, argv_, envp_));
}

SHIM_EXPORT int execlp(const char *file, const char *arg, ...)
{
	EXEC_VARIADIC(arg, false, execvpe(file, argv_, envp_));
}

SHIM_EXPORT int execle(const char *path, const char *arg, ...)
{
	EXEC_VARIADIC(arg, true, execve(path, argv_, envp_));
}

/* system() and popen() spawn through glibc internals with `environ`: the shim's
 * entries are put back into this process's own environment first. */
static void restore_own_environ(void)
{
	struct child_env ce;
	size_t i;
	char *eq;

	if (child_env_build(&ce, environ, false) < 0 || ce.envp == NULL) {
		child_env_free(&ce);
		return;
	}
	for (i = 0; i < sizeof(ce.strings) / sizeof(ce.strings[0]) && ce.strings[i]; i++) {
		eq = strchr(ce.strings[i], '=');
		*eq = '\0';
		if (eq[1] == '\0') {
			unsetenv(ce.strings[i]);
		} else {
			setenv(ce.strings[i], eq + 1, 1);
		}
	}
	child_env_free(&ce);
}

SHIM_EXPORT int system(const char *command)
{
	static int (*real_system)(const char *);

	if (real_system == NULL) {
		real_system = (int (*)(const char *))dlsym(RTLD_NEXT, "system");
	}
	restore_own_environ();
	return real_system(command);
}

SHIM_EXPORT FILE *popen(const char *command, const char *type)
{
	static FILE *(*real_popen)(const char *, const char *);

	if (real_popen == NULL) {
		real_popen = (FILE * (*)(const char *, const char *)) dlsym(RTLD_NEXT, "popen");
	}
	restore_own_environ();
	return real_popen(command, type);
}

/* glibc's exported aliases meet the same wrappers (tlsguard.8). */
SHIM_EXPORT int __libc_system(const char *command) __attribute__((alias("system")));
SHIM_EXPORT FILE *_IO_popen(const char *command, const char *type)
    __attribute__((alias("popen"), malloc));

/* The real functions are bound, and the start-up environment read, here in
 * the parent: a shell's children (fork, then exec, a thousand times in a
 * loop) inherit both instead of each binding some sixty symbols again. */
SHIM_EXPORT pid_t fork(void)
{
	(void)shim_start_policy();
	return real()->fork();
}

/* vfork's child shares the parent's memory, and the exec wrappers allocate: a
 * plain fork keeps the parent safe (POSIX allows vfork to be fork). */
SHIM_EXPORT pid_t vfork(void)
{
	return fork();
}

/* Calls fn for every descriptor this process holds above `from` (the
 * directory's own excepted), from /proc/self/fd, or, without /proc, for every
 * number up to the descriptor limit (fn then sees EBADF for the unused). */
static void each_fd(int from, void (*fn)(int fd, void *arg), void *arg)
{
	struct rlimit rl;
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *d;
	long fd, last;

	if (dir != NULL) {
		while ((d = readdir(dir)) != NULL) {
			fd = strtol(d->d_name, NULL, 10);
			if (d->d_name[0] >= '0' && d->d_name[0] <= '9' && fd >= from &&
			    fd < FDT_MAX && fd != dirfd(dir)) {
				fn((int)fd, arg);
			}
		}
		closedir(dir);
		return;
	}
	last = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < FDT_MAX ? (long)rl.rlim_cur
	                                                                   : FDT_MAX;
	for (fd = from; fd < last; fd++) {
		fn((int)fd, arg);
	}
}

/* TLSGUARD_FDS decoded, and where each socket was first found. */
struct inherited {
	struct fdlist_entry *e;
	int *first_fd; /* -1: not found yet */
	int n;
	bool more;
};

/* The socket at fd: governed again when the parent governed it, sharing the
 * state of another descriptor of the same socket; decided from its addresses
 * when the list was cut short ("*") and did not name it. 0 to 2 not named are
 * left to adopt_standard_streams. */
static void adopt_if_listed(int fd, void *arg)
{
	struct inherited *in = arg;
	const struct fdlist_entry *e;
	enum fdlist_kind kind;
	uint64_t id;
	int i;

	if (socket_id(fd, &kind, &id) < 0) {
		return;
	}
	e = fdlist_find(in->e, (size_t)in->n, kind, id);
	if (e == NULL) {
		if (in->more && fd > 2 && fdt_peek(fd) == NULL) {
			decide_adopt(fd);
		}
		return;
	}
	i = (int)(e - in->e);
	if (in->first_fd[i] >= 0) {
		fdt_copy(in->first_fd[i], fd);
	} else {
		decide_adopt_as(fd, e->inbound);
		in->first_fd[i] = fd;
	}
	if (fd <= 2) {
		stdio_guard_fd(fd);
	}
}

/* Every descriptor is looked at: the parent named sockets, not numbers, and
 * file actions may have put one anywhere. Only a process whose parent held
 * governed sockets gets here. */
static void adopt_listed(const char *list)
{
	struct inherited in = {0};
	size_t cap = FDLIST_MAX / 5 + 1, i;

	in.e = malloc(cap * sizeof(*in.e));
	in.first_fd = malloc(cap * sizeof(*in.first_fd));
	if (in.e == NULL || in.first_fd == NULL) {
		in.n = 0; /* decide every socket by address */
		in.more = true;
	} else {
		in.n = fdlist_decode(list, in.e, cap, &in.more);
		if (in.n < 0) { /* not written by a shim: decide every socket by address */
			in.n = 0;
			in.more = true;
		}
		for (i = 0; i < (size_t)in.n; i++) {
			in.first_fd[i] = -1;
		}
	}
	each_fd(0, adopt_if_listed, &in);
	free(in.e);
	free(in.first_fd);
}

/* A super-server that runs without the shim (inetd, xinetd, socat, systemd's
 * StandardInput=socket) hands its child the accepted connection as standard
 * input and output, where no TLSGUARD_FDS names it: descriptors 0 to 2 are
 * always decided from their addresses. A terminal, pipe or file costs one
 * failing getsockopt. */
static void adopt_standard_streams(void)
{
	int fd, type;
	socklen_t len;

	for (fd = 0; fd <= 2; fd++) {
		len = sizeof(type);
		/* fdt_in_use first: until a descriptor is governed, the table's
		 * pages have never been touched, and reading them costs a fault. */
		if ((atomic_load_explicit(&fdt_in_use, memory_order_acquire) &&
		     fdt_peek(fd) != NULL) ||
		    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) {
			continue; /* governed already (listed), or not a stream socket */
		}
		decide_adopt(fd);
		if (fdt_peek(fd) != NULL) {
			stdio_guard_fd(fd);
		}
	}
}

/* sd_listen_fds(3): "LISTEN_FDS=n" sockets from descriptor 3 (SD_LISTEN_FDS_START)
 * on, meant for this process only when LISTEN_PID is its pid. A listener needs
 * nothing here (accept() decides each connection); a connected stream socket
 * (Accept=yes) was accepted for this service: governed as inbound, like an
 * inetd service's standard streams. */
static void adopt_listen_fds(const char *pid_text, const char *count_text)
{
	int fd, listening, type;
	long pid, count;
	socklen_t len;
	char *end;

	if (pid_text == NULL || count_text == NULL) {
		return;
	}
	pid = strtol(pid_text, &end, 10);
	if (end == pid_text || *end != '\0' || pid != (long)getpid()) {
		return;
	}
	count = strtol(count_text, &end, 10);
	if (end == count_text || *end != '\0' || count <= 0) {
		return;
	}
	count = count < FDT_MAX - 3 ? count : FDT_MAX - 3;
	for (fd = 3; fd < 3 + count; fd++) {
		len = sizeof(type);
		if ((atomic_load_explicit(&fdt_in_use, memory_order_acquire) &&
		     fdt_peek(fd) != NULL) ||
		    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) {
			continue; /* governed already, or not a stream socket */
		}
		len = sizeof(listening);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || listening) {
			continue;
		}
		decide_adopt_as(fd, true);
	}
}

void exec_adopt_inherited(const char *list, const char *listen_pid, const char *listen_fds)
{
	if (list != NULL && *list != '\0') {
		adopt_listed(list);
	}
	adopt_standard_streams();
	adopt_listen_fds(listen_pid, listen_fds);
}
