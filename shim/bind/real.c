/*
 * Binds the real libc functions once (dlsym(RTLD_NEXT, ...) under pthread_once)
 * into the one typed table of real.h, and fails closed: an entry that cannot
 * be bound keeps a stub that refuses the call, never a NULL.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "real.h"

/*
 * Every entry of struct real_fns but dlsym and dlvsym (dl.c reads those from
 * libc's symbol table): the return type, the field, the symbol bound to it,
 * the parameters, the arguments, and what the call returns when the symbol
 * cannot be bound (with errno ENOSYS; the calls that return an error number
 * return ENOSYS itself, getaddrinfo and friends EAI_SYSTEM).
 */
#define REAL_ENTRIES(X)                                                                            \
	X(int, socket, "socket", (int domain, int type, int protocol), (domain, type, protocol),   \
	  -1)                                                                                      \
	X(int, socketpair, "socketpair", (int domain, int type, int protocol, int sv[2]),          \
	  (domain, type, protocol, sv), -1)                                                        \
	X(int, connect, "connect", (int fd, const struct sockaddr *addr, socklen_t len),           \
	  (fd, addr, len), -1)                                                                     \
	X(int, accept, "accept", (int fd, struct sockaddr *addr, socklen_t *len), (fd, addr, len), \
	  -1)                                                                                      \
	X(int, accept4, "accept4", (int fd, struct sockaddr *addr, socklen_t *len, int flags),     \
	  (fd, addr, len, flags), -1)                                                              \
	X(int, close, "close", (int fd), (fd), -1)                                                 \
	X(int, close_range, "close_range", (unsigned int first, unsigned int last, int flags),     \
	  (first, last, flags), -1)                                                                \
	X(int, shutdown, "shutdown", (int fd, int how), (fd, how), -1)                             \
	X(int, dup, "dup", (int fd), (fd), -1)                                                     \
	X(int, dup2, "dup2", (int from, int to), (from, to), -1)                                   \
	X(int, dup3, "dup3", (int from, int to, int flags), (from, to, flags), -1)                 \
	X(int, setsockopt, "setsockopt",                                                           \
	  (int fd, int level, int name, const void *value, socklen_t len),                         \
	  (fd, level, name, value, len), -1)                                                       \
	X(ssize_t, write, "write", (int fd, const void *buf, size_t len), (fd, buf, len), -1)      \
	X(ssize_t, writev, "writev", (int fd, const struct iovec *iov, int iovcnt),                \
	  (fd, iov, iovcnt), -1)                                                                   \
	X(ssize_t, pwritev, "pwritev",                                                             \
	  (int fd, const struct iovec *iov, int iovcnt, off_t offset), (fd, iov, iovcnt, offset),  \
	  -1)                                                                                      \
	X(ssize_t, pwritev2, "pwritev2",                                                           \
	  (int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags),                  \
	  (fd, iov, iovcnt, offset, flags), -1)                                                    \
	X(ssize_t, send, "send", (int fd, const void *buf, size_t len, int flags),                 \
	  (fd, buf, len, flags), -1)                                                               \
	X(ssize_t, sendto, "sendto",                                                               \
	  (int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr,            \
	   socklen_t alen),                                                                        \
	  (fd, buf, len, flags, addr, alen), -1)                                                   \
	X(ssize_t, sendmsg, "sendmsg", (int fd, const struct msghdr *msg, int flags),              \
	  (fd, msg, flags), -1)                                                                    \
	X(int, sendmmsg, "sendmmsg", (int fd, struct mmsghdr *msgs, unsigned int vlen, int flags), \
	  (fd, msgs, vlen, flags), -1)                                                             \
	X(ssize_t, sendfile, "sendfile", (int out_fd, int in_fd, off_t *offset, size_t count),     \
	  (out_fd, in_fd, offset, count), -1)                                                      \
	X(ssize_t, sendfile64, "sendfile64", (int out_fd, int in_fd, off_t *offset, size_t count), \
	  (out_fd, in_fd, offset, count), -1)                                                      \
	X(ssize_t, splice, "splice",                                                               \
	  (int fd_in, off_t *off_in, int fd_out, off_t *off_out, size_t len, unsigned int flags),  \
	  (fd_in, off_in, fd_out, off_out, len, flags), -1)                                        \
	X(ssize_t, read, "read", (int fd, void *buf, size_t len), (fd, buf, len), -1)              \
	X(ssize_t, read_chk, "__read_chk", (int fd, void *buf, size_t len, size_t buflen),         \
	  (fd, buf, len, buflen), -1)                                                              \
	X(ssize_t, preadv2, "preadv2",                                                             \
	  (int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags),                  \
	  (fd, iov, iovcnt, offset, flags), -1)                                                    \
	X(ssize_t, recv_chk, "__recv_chk",                                                         \
	  (int fd, void *buf, size_t len, size_t buflen, int flags),                               \
	  (fd, buf, len, buflen, flags), -1)                                                       \
	X(ssize_t, recvfrom_chk, "__recvfrom_chk",                                                 \
	  (int fd, void *buf, size_t len, size_t buflen, int flags, struct sockaddr *addr,         \
	   socklen_t *alen),                                                                       \
	  (fd, buf, len, buflen, flags, addr, alen), -1)                                           \
	X(ssize_t, readv, "readv", (int fd, const struct iovec *iov, int iovcnt),                  \
	  (fd, iov, iovcnt), -1)                                                                   \
	X(ssize_t, recv, "recv", (int fd, void *buf, size_t len, int flags),                       \
	  (fd, buf, len, flags), -1)                                                               \
	X(ssize_t, recvfrom, "recvfrom",                                                           \
	  (int fd, void *buf, size_t len, int flags, struct sockaddr *addr, socklen_t *alen),      \
	  (fd, buf, len, flags, addr, alen), -1)                                                   \
	X(ssize_t, recvmsg, "recvmsg", (int fd, struct msghdr *msg, int flags), (fd, msg, flags),  \
	  -1)                                                                                      \
	X(int, recvmmsg, "recvmmsg",                                                               \
	  (int fd, struct mmsghdr *msgs, unsigned int vlen, int flags, struct timespec *timeout),  \
	  (fd, msgs, vlen, flags, timeout), -1)                                                    \
	X(int, getaddrinfo, "getaddrinfo",                                                         \
	  (const char *node, const char *service, const struct addrinfo *hints,                    \
	   struct addrinfo **res),                                                                 \
	  (node, service, hints, res), EAI_SYSTEM)                                                 \
	X(struct hostent *, gethostbyname, "gethostbyname", (const char *name), (name), NULL)      \
	X(struct hostent *, gethostbyname2, "gethostbyname2", (const char *name, int af),          \
	  (name, af), NULL)                                                                        \
	X(int, execve, "execve", (const char *path, char *const argv[], char *const envp[]),       \
	  (path, argv, envp), -1)                                                                  \
	X(int, execvpe, "execvpe", (const char *file, char *const argv[], char *const envp[]),     \
	  (file, argv, envp), -1)                                                                  \
	X(int, fexecve, "fexecve", (int fd, char *const argv[], char *const envp[]),               \
	  (fd, argv, envp), -1)                                                                    \
	X(int, posix_spawn, "posix_spawn",                                                         \
	  (pid_t * pid, const char *path, const posix_spawn_file_actions_t *fa,                    \
	   const posix_spawnattr_t *attr, char *const argv[], char *const envp[]),                 \
	  (pid, path, fa, attr, argv, envp), ENOSYS)                                               \
	X(int, posix_spawnp, "posix_spawnp",                                                       \
	  (pid_t * pid, const char *file, const posix_spawn_file_actions_t *fa,                    \
	   const posix_spawnattr_t *attr, char *const argv[], char *const envp[]),                 \
	  (pid, file, fa, attr, argv, envp), ENOSYS)                                               \
	X(pid_t, fork, "fork", (void), (), -1)                                                     \
	X(int, vdprintf, "vdprintf", (int fd, const char *fmt, va_list ap), (fd, fmt, ap), -1)     \
	X(int, vdprintf_chk, "__vdprintf_chk", (int fd, int flag, const char *fmt, va_list ap),    \
	  (fd, flag, fmt, ap), -1)                                                                 \
	X(int, vasprintf_chk, "__vasprintf_chk",                                                   \
	  (char **out, int flag, const char *fmt, va_list ap), (out, flag, fmt, ap), -1)           \
	X(int, aio_read, "aio_read", (struct aiocb * cb), (cb), -1)                                \
	X(int, aio_write, "aio_write", (struct aiocb * cb), (cb), -1)                              \
	X(int, lio_listio, "lio_listio",                                                           \
	  (int mode, struct aiocb *const list[], int nent, struct sigevent *sig),                  \
	  (mode, list, nent, sig), -1)                                                             \
	X(void *, dlopen, "dlopen", (const char *file, int flags), (file, flags), NULL)            \
	X(void *, dlmopen, "dlmopen", (Lmid_t lmid, const char *file, int flags),                  \
	  (lmid, file, flags), NULL)                                                               \
	X(int, getaddrinfo_a, "getaddrinfo_a",                                                     \
	  (int mode, struct gaicb **list, int nitems, struct sigevent *sig),                       \
	  (mode, list, nitems, sig), EAI_SYSTEM)                                                   \
	X(struct hostent *, gethostbyaddr, "gethostbyaddr",                                        \
	  (const void *addr, socklen_t len, int type), (addr, len, type), NULL)                    \
	X(int, gethostbyaddr_r, "gethostbyaddr_r",                                                 \
	  (const void *addr, socklen_t len, int type, struct hostent *ret, char *buf,              \
	   size_t buflen, struct hostent **result, int *h_errnop),                                 \
	  (addr, len, type, ret, buf, buflen, result, h_errnop), ENOSYS)                           \
	X(int, gethostbyname2_r, "gethostbyname2_r",                                               \
	  (const char *name, int af, struct hostent *ret, char *buf, size_t buflen,                \
	   struct hostent **result, int *h_errnop),                                                \
	  (name, af, ret, buf, buflen, result, h_errnop), ENOSYS)                                  \
	X(int, getnameinfo, "getnameinfo",                                                         \
	  (const struct sockaddr *sa, socklen_t salen, char *host, socklen_t hostlen, char *serv,  \
	   socklen_t servlen, int flags),                                                          \
	  (sa, salen, host, hostlen, serv, servlen, flags), EAI_SYSTEM)                            \
	X(int, res_nquery, "res_nquery",                                                           \
	  (struct __res_state * st, const char *dname, int class, int type, unsigned char *answer, \
	   int anslen),                                                                            \
	  (st, dname, class, type, answer, anslen), -1)                                            \
	X(int, res_nquerydomain, "res_nquerydomain",                                               \
	  (struct __res_state * st, const char *name, const char *domain, int class, int type,     \
	   unsigned char *answer, int anslen),                                                     \
	  (st, name, domain, class, type, answer, anslen), -1)                                     \
	X(int, res_nsearch, "res_nsearch",                                                         \
	  (struct __res_state * st, const char *dname, int class, int type, unsigned char *answer, \
	   int anslen),                                                                            \
	  (st, dname, class, type, answer, anslen), -1)                                            \
	X(int, res_nsend, "res_nsend",                                                             \
	  (struct __res_state * st, const unsigned char *msg, int msglen, unsigned char *answer,   \
	   int anslen),                                                                            \
	  (st, msg, msglen, answer, anslen), -1)                                                   \
	X(int, res_query, "res_query",                                                             \
	  (const char *dname, int class, int type, unsigned char *answer, int anslen),             \
	  (dname, class, type, answer, anslen), -1)                                                \
	X(int, res_querydomain, "res_querydomain",                                                 \
	  (const char *name, const char *domain, int class, int type, unsigned char *answer,       \
	   int anslen),                                                                            \
	  (name, domain, class, type, answer, anslen), -1)                                         \
	X(int, res_search, "res_search",                                                           \
	  (const char *dname, int class, int type, unsigned char *answer, int anslen),             \
	  (dname, class, type, answer, anslen), -1)                                                \
	X(int, res_send, "res_send",                                                               \
	  (const unsigned char *msg, int msglen, unsigned char *answer, int anslen),               \
	  (msg, msglen, answer, anslen), -1)                                                       \
	X(int, execveat, "execveat",                                                               \
	  (int dirfd, const char *path, char *const argv[], char *const envp[], int flags),        \
	  (dirfd, path, argv, envp, flags), -1)                                                    \
	X(FILE *, popen, "popen", (const char *command, const char *type), (command, type), NULL)  \
	X(int, system, "system", (const char *command), (command), -1)                             \
	X(int, fclose, "fclose", (FILE * fp), (fp), EOF)                                           \
	X(FILE *, fdopen, "fdopen", (int fd, const char *mode), (fd, mode), NULL)                  \
	X(int, fflush, "fflush", (FILE * fp), (fp), EOF)                                           \
	X(int, getsockopt, "getsockopt",                                                           \
	  (int fd, int level, int name, void *value, socklen_t *len),                              \
	  (fd, level, name, value, len), -1)                                                       \
	X(int, getpeername, "getpeername", (int fd, struct sockaddr *addr, socklen_t *len),        \
	  (fd, addr, len), -1)                                                                     \
	X(int, getsockname, "getsockname", (int fd, struct sockaddr *addr, socklen_t *len),        \
	  (fd, addr, len), -1)

/* The entries that return nothing, or take a variable argument list, have
 * their stubs written out below. */
#define REAL_ENTRIES_BY_HAND 7 /* fcntl fcntl64 syscall closefrom openlog vsyslog vsyslog_chk */
#define REAL_ENTRIES_DL      2 /* dlsym dlvsym */

/* Each entry starts as a stub of its own type that binds the table and then
 * makes the call, so a wrapper may call real_hot() without a "bound yet?" test
 * (bench/README.md: an untracked write is the descriptor test and one
 * indirect jump). A stub still in its slot after binding means the symbol
 * could not be bound: the call is refused (ENOSYS), it never jumps to NULL. */
#define DEFINE_STUB(ret, field, symbol, params, args, refused)                                     \
	static ret bind_then_##field params                                                        \
	{                                                                                          \
		real_bind();                                                                       \
		if (real_table.field == bind_then_##field) {                                       \
			errno = ENOSYS;                                                            \
			return refused;                                                            \
		}                                                                                  \
		return real_table.field args;                                                      \
	}

#define DEFINE_VOID_STUB(field, params, args)                                                      \
	static void bind_then_##field params                                                       \
	{                                                                                          \
		real_bind();                                                                       \
		if (real_table.field == bind_then_##field) {                                       \
			errno = ENOSYS;                                                            \
			return;                                                                    \
		}                                                                                  \
		real_table.field args;                                                             \
	}

REAL_ENTRIES(DEFINE_STUB)
DEFINE_VOID_STUB(closefrom, (int lowfd), (lowfd))
DEFINE_VOID_STUB(openlog, (const char *ident, int option, int facility), (ident, option, facility))
DEFINE_VOID_STUB(vsyslog, (int pri, const char *fmt, va_list ap), (pri, fmt, ap))
DEFINE_VOID_STUB(vsyslog_chk, (int pri, int flag, const char *fmt, va_list ap),
                 (pri, flag, fmt, ap))

typedef int fcntl_fn(int, int, ...);

/* fcntl's third argument is read as glibc's own wrappers read it: one
 * pointer-sized value, whatever cmd says it is. */
static int fcntl_after_bind(fcntl_fn *const *slot, fcntl_fn *stub, int fd, int cmd, void *arg)
{
	real_bind();
	if (*slot == stub) {
		errno = ENOSYS;
		return -1;
	}
	return (*slot)(fd, cmd, arg);
}

static int bind_then_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg = (va_start(ap, cmd), va_arg(ap, void *));

	va_end(ap);
	return fcntl_after_bind(&real_table.fcntl, bind_then_fcntl, fd, cmd, arg);
}

static int bind_then_fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg = (va_start(ap, cmd), va_arg(ap, void *));

	va_end(ap);
	return fcntl_after_bind(&real_table.fcntl64, bind_then_fcntl64, fd, cmd, arg);
}

static long bind_then_syscall(long nr, ...)
{
	long a[6];
	va_list ap;

	va_start(ap, nr);
	real_syscall_args(&ap, a);
	va_end(ap);
	real_bind();
	if (real_table.syscall == bind_then_syscall) {
		errno = ENOSYS;
		return -1;
	}
	return real_table.syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

#define INIT_STUB(ret, field, ...) .field = bind_then_##field,

struct real_fns real_table = {
    REAL_ENTRIES(INIT_STUB).closefrom = bind_then_closefrom,
    .openlog = bind_then_openlog,
    .vsyslog = bind_then_vsyslog,
    .vsyslog_chk = bind_then_vsyslog_chk,
    .fcntl = bind_then_fcntl,
    .fcntl64 = bind_then_fcntl64,
    .syscall = bind_then_syscall,
};

/* Every field has a stub and a binding: a field added to struct real_fns
 * without an entry here does not compile. */
#define COUNT_ENTRY(...) +1
_Static_assert(sizeof(struct real_fns) ==
                   (0 REAL_ENTRIES(COUNT_ENTRY) + REAL_ENTRIES_BY_HAND + REAL_ENTRIES_DL) *
                       sizeof(void *),
               "every entry of struct real_fns is listed in REAL_ENTRIES or by hand");

atomic_bool real_ready;
static bool broken;
static pthread_once_t bind_once = PTHREAD_ONCE_INIT;

/* The address range of this shared object's segments, found once. */
static uintptr_t self_lo = UINTPTR_MAX, self_hi;

static int find_self(struct dl_phdr_info *info, size_t size, void *base)
{
	const ElfW(Phdr) * ph;
	uintptr_t lo, hi;
	int i;

	(void)size;
	if ((void *)info->dlpi_addr != base) {
		return 0;
	}
	for (i = 0; i < info->dlpi_phnum; i++) {
		ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD) {
			continue;
		}
		lo = info->dlpi_addr + ph->p_vaddr;
		hi = lo + ph->p_memsz;
		self_lo = lo < self_lo ? lo : self_lo;
		self_hi = hi > self_hi ? hi : self_hi;
	}
	return 1;
}

/* True when fn lives in this shared object: binding it would make a wrapper
 * call itself forever. */
static bool resolves_to_shim(void *fn)
{
	return (uintptr_t)fn >= self_lo && (uintptr_t)fn < self_hi;
}

/* A name that cannot be bound keeps its stub (which refuses the call) and
 * marks the table broken: reported when the policy loads (init.c), which then
 * refuses every governed call. */
static void bind_one(void **slot, const char *name)
{
	void *fn = real_table.dlsym != NULL ? real_table.dlsym(RTLD_NEXT, name) : NULL;

	if (fn == NULL || resolves_to_shim(fn)) {
		broken = true;
		return;
	}
	*slot = fn;
}

#define BIND_ENTRY(ret, field, symbol, ...) bind_one((void **)&real_table.field, symbol);
#define BIND(field)                         bind_one((void **)&real_table.field, #field)

static void bind_all(void)
{
	Dl_info self;

	if (dladdr((void *)real_bind, &self) != 0) {
		dl_iterate_phdr(find_self, self.dli_fbase);
	}
	if (real_dl()->dlsym == NULL || real_table.dlvsym == NULL) {
		broken = true;
	}
	REAL_ENTRIES(BIND_ENTRY)
	BIND(closefrom);
	BIND(openlog);
	BIND(vsyslog);
	bind_one((void **)&real_table.vsyslog_chk, "__vsyslog_chk");
	BIND(fcntl);
	BIND(fcntl64);
	BIND(syscall);
}

void real_bind(void)
{
	pthread_once(&bind_once, bind_all);
	atomic_store_explicit(&real_ready, true, memory_order_release);
}

bool real_broken(void)
{
	real();
	return broken;
}

/* The shim's own path: the loader's string when it is absolute (the usual
 * case: no system call, no copy, so a shell's forked child touches no page for
 * it before exec), else made absolute once. */
static const char *shim_path = "";
static char shim_path_resolved[PATH_MAX];
static pthread_once_t shim_path_once = PTHREAD_ONCE_INIT;

struct shim_name_search {
	uintptr_t addr;
	const char *name;
};

static int find_shim_name(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct shim_name_search *search = arg;
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

static void find_shim_path(void)
{
	struct shim_name_search search = {(uintptr_t)find_shim_path, NULL};

	dl_iterate_phdr(find_shim_name, &search);
	if (search.name != NULL && search.name[0] == '/') {
		shim_path = search.name;
	} else if (search.name != NULL && realpath(search.name, shim_path_resolved) != NULL) {
		shim_path = shim_path_resolved;
	}
}

const char *real_shim_path(void)
{
	pthread_once(&shim_path_once, find_shim_path);
	return shim_path;
}
