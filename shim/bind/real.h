/*
 * The real libc functions behind every interposed name, in one typed table
 * bound once with dlsym(RTLD_NEXT, ...) so the shim stacks with other preloads.
 * The shim never calls an interposed name itself (shim/exports.map lists them):
 * it goes through real() instead. (OpenSSL's functions are bound in
 * ssl_fns.[ch], libconfig's in lazy_libconfig.c: libraries, not interposed.)
 *
 * Failing closed: every entry starts as a stub of the entry's own type that
 * binds the table and then makes the call. A name that cannot be bound (or
 * that resolves back to the shim) keeps its stub, which refuses the call with
 * ENOSYS ("not implemented", the honest answer) and never crashes; and
 * real_broken() is then true, so the policy load fails (stderr line, audit
 * event) and every governed network call is refused (tlsguard.8, Activation).
 * No entry is ever NULL, except dlsym and dlvsym before real_dl() ran or when
 * libc's symbol table is unreadable (dl.c tests for that).
 */
#ifndef TLSGUARD_REAL_H
#define TLSGUARD_REAL_H

#include <aio.h>
#include <dlfcn.h>
#include <netdb.h>

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

struct __res_state; /* resolv.h, whose macros (p_type) clash with link.h */

struct real_fns {
	int (*socket)(int, int, int);
	int (*socketpair)(int, int, int, int[2]);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*close)(int);
	int (*close_range)(unsigned int, unsigned int, int);
	void (*closefrom)(int);
	int (*shutdown)(int, int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*fcntl64)(int, int, ...);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*writev)(int, const struct iovec *, int);
	ssize_t (*pwritev)(int, const struct iovec *, int, off_t);
	ssize_t (*pwritev2)(int, const struct iovec *, int, off_t, int);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	int (*sendmmsg)(int, struct mmsghdr *, unsigned int, int);
	ssize_t (*sendfile)(int, int, off_t *, size_t);
	ssize_t (*sendfile64)(int, int, off_t *, size_t);
	ssize_t (*splice)(int, off_t *, int, off_t *, size_t, unsigned int);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*read_chk)(int, void *, size_t, size_t);
	ssize_t (*preadv2)(int, const struct iovec *, int, off_t, int);
	ssize_t (*recv_chk)(int, void *, size_t, size_t, int);
	ssize_t (*recvfrom_chk)(int, void *, size_t, size_t, int, struct sockaddr *, socklen_t *);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	int (*recvmmsg)(int, struct mmsghdr *, unsigned int, int, struct timespec *);
	int (*getaddrinfo)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
	struct hostent *(*gethostbyname)(const char *);
	struct hostent *(*gethostbyname2)(const char *, int);
	int (*execve)(const char *, char *const[], char *const[]);
	int (*execvpe)(const char *, char *const[], char *const[]);
	int (*fexecve)(int, char *const[], char *const[]);
	int (*posix_spawn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
	                   const posix_spawnattr_t *, char *const[], char *const[]);
	int (*posix_spawnp)(pid_t *, const char *, const posix_spawn_file_actions_t *,
	                    const posix_spawnattr_t *, char *const[], char *const[]);
	pid_t (*fork)(void);
	long (*syscall)(long, ...);
	/* formatted output straight to a descriptor (printf.c) */
	int (*vdprintf)(int, const char *, va_list);
	int (*vdprintf_chk)(int, int, const char *, va_list);
	int (*vasprintf_chk)(char **, int, const char *, va_list);
	void (*openlog)(const char *, int, int);
	void (*vsyslog)(int, const char *, va_list);
	void (*vsyslog_chk)(int, int, const char *, va_list);
	/* POSIX AIO (opaque.c) */
	int (*aio_read)(struct aiocb *);
	int (*aio_write)(struct aiocb *);
	int (*lio_listio)(int, struct aiocb *const[], int, struct sigevent *);
	/* the dynamic linker's lookups (dl.c): bound from libc's own symbol table,
	 * since the shim's calls to dlsym land in its own wrapper */
	void *(*dlsym)(void *, const char *);
	void *(*dlvsym)(void *, const char *, const char *);
	void *(*dlopen)(const char *, int);
	void *(*dlmopen)(Lmid_t, const char *, int);
	/* resolver calls only dns.c interposes */
	int (*getaddrinfo_a)(int, struct gaicb **, int, struct sigevent *);
	struct hostent *(*gethostbyaddr)(const void *, socklen_t, int);
	int (*gethostbyaddr_r)(const void *, socklen_t, int, struct hostent *, char *, size_t,
	                       struct hostent **, int *);
	int (*gethostbyname2_r)(const char *, int, struct hostent *, char *, size_t,
	                        struct hostent **, int *);
	int (*getnameinfo)(const struct sockaddr *, socklen_t, char *, socklen_t, char *, socklen_t,
	                   int);
	int (*res_nquery)(struct __res_state *, const char *, int, int, unsigned char *, int);
	int (*res_nquerydomain)(struct __res_state *, const char *, const char *, int, int,
	                        unsigned char *, int);
	int (*res_nsearch)(struct __res_state *, const char *, int, int, unsigned char *, int);
	int (*res_nsend)(struct __res_state *, const unsigned char *, int, unsigned char *, int);
	int (*res_query)(const char *, int, int, unsigned char *, int);
	int (*res_querydomain)(const char *, const char *, int, int, unsigned char *, int);
	int (*res_search)(const char *, int, int, unsigned char *, int);
	int (*res_send)(const unsigned char *, int, unsigned char *, int);
	/* spawning calls (exec.c) */
	int (*execveat)(int, const char *, char *const[], char *const[], int);
	FILE *(*popen)(const char *, const char *);
	int (*system)(const char *);
	/* stdio calls that reach a descriptor behind the wrappers (stdio.c) */
	int (*fclose)(FILE *);
	FILE *(*fdopen)(int, const char *);
	int (*fflush)(FILE *);
	/* the socket queries the tunnels redirect (shim/tunnel/calls.c) */
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
};

extern struct real_fns real_table;
extern atomic_bool real_ready;
void real_bind(void);

/* The table, bound on first use (pthread_once inside real_bind). After that a
 * call costs one load and a branch. If a name cannot be bound, or resolves back
 * to the shim itself, its entry refuses with ENOSYS and real_broken() is true:
 * the shim fails closed, every network call it governs is refused. */
static inline const struct real_fns *real(void)
{
	if (__builtin_expect(!atomic_load_explicit(&real_ready, memory_order_acquire), 0)) {
		real_bind();
	}
	return &real_table;
}

/* The table without the "bound yet?" test, for the hottest paths. Safe because
 * every entry is a stub until bound (above): a caller sees either the stub,
 * which binds and calls, or the real function. real()'s acquire load is what
 * orders the binder's stores before the caller's read for race detectors. */
#define real_hot() (&real_table)

bool real_broken(void);

/* syscall(2)'s arguments after the number: at most six, read as longs, as
 * the kernel's calling convention passes them. */
static inline void real_syscall_args(va_list *ap, long a[6])
{
	for (int i = 0; i < 6; i++) {
		a[i] = va_arg(*ap, long);
	}
}

/* The table with at least dlsym and dlvsym bound (NULL when libc's symbol
 * table could not be read), without binding anything else: what dl.c needs
 * before, and while, the rest is bound. */
const struct real_fns *real_dl(void);

/* The shim's own exported function of that name (an interposed name), or
 * NULL: read from the shim's dynamic symbol table, so the list is the export
 * map itself. */
void *real_shim_export(const char *name);
/* True when the object that contains addr itself defines the function name. */
bool real_defines(const void *addr, const char *name);

/* True when addr lies in this shared object. */
bool real_in_shim(const void *addr);

/* This shared object's path, absolute, for a child's LD_PRELOAD: the name the
 * loader opened it by, made absolute once when it was not; "" when unknown. */
const char *real_shim_path(void);

#endif
