/*
 * Binds the real libc functions once (dlsym(RTLD_NEXT, ...) under pthread_once),
 * so the shim stacks with other preloads and never calls an interposed name.
 */
#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stdint.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "real.h"

/* The hottest entries start as stubs that bind the table and then make the
 * call, so their wrappers need no "bound yet?" test: an untracked write is the
 * descriptor test and one indirect jump (bench/README.md). */
static ssize_t bind_then_write(int fd, const void *buf, size_t len)
{
	real_bind();
	return real_table.write(fd, buf, len);
}

static ssize_t bind_then_read(int fd, void *buf, size_t len)
{
	real_bind();
	return real_table.read(fd, buf, len);
}

static ssize_t bind_then_send(int fd, const void *buf, size_t len, int flags)
{
	real_bind();
	return real_table.send(fd, buf, len, flags);
}

static ssize_t bind_then_recv(int fd, void *buf, size_t len, int flags)
{
	real_bind();
	return real_table.recv(fd, buf, len, flags);
}

static ssize_t bind_then_read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	real_bind();
	return real_table.read_chk(fd, buf, len, buflen);
}

static ssize_t bind_then_recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	real_bind();
	return real_table.recv_chk(fd, buf, len, buflen, flags);
}

static int bind_then_socket(int domain, int type, int protocol)
{
	real_bind();
	return real_table.socket(domain, type, protocol);
}

static int bind_then_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	real_bind();
	return real_table.connect(fd, addr, len);
}

static int bind_then_close(int fd)
{
	real_bind();
	return real_table.close(fd);
}

struct real_fns real_table = {
    .socket = bind_then_socket,
    .connect = bind_then_connect,
    .close = bind_then_close,
    .write = bind_then_write,
    .read = bind_then_read,
    .send = bind_then_send,
    .recv = bind_then_recv,
    .read_chk = bind_then_read_chk,
    .recv_chk = bind_then_recv_chk,
};
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

static void bind_one(void **slot, const char *name)
{
	void *fn = real_table.dlsym != NULL ? real_table.dlsym(RTLD_NEXT, name) : NULL;

	if (fn == NULL || resolves_to_shim(fn)) {
		broken = true; /* reported when the policy loads (init.c) */
		*slot = NULL;
		return;
	}
	*slot = fn;
}

#define BIND(name)             bind_one((void **)&real_table.name, #name)
#define BIND_AS(field, symbol) bind_one((void **)&real_table.field, symbol)

static void bind_all(void)
{
	Dl_info self;

	if (dladdr((void *)real_bind, &self) != 0) {
		dl_iterate_phdr(find_self, self.dli_fbase);
	}
	if (real_dl()->dlsym == NULL || real_table.dlvsym == NULL) {
		broken = true;
	}
	BIND(socket);
	BIND(socketpair);
	BIND(connect);
	BIND(bind);
	BIND(listen);
	BIND(accept);
	BIND(accept4);
	BIND(close);
	BIND(close_range);
	BIND(closefrom);
	BIND(shutdown);
	BIND(dup);
	BIND(dup2);
	BIND(dup3);
	BIND(fcntl);
	BIND(fcntl64);
	BIND(setsockopt);
	BIND(write);
	BIND(writev);
	BIND(pwritev);
	BIND(pwritev2);
	BIND(send);
	BIND(sendto);
	BIND(sendmsg);
	BIND(sendmmsg);
	BIND(sendfile);
	BIND(sendfile64);
	BIND(splice);
	BIND(read);
	BIND_AS(read_chk, "__read_chk");
	BIND(preadv2);
	BIND_AS(recv_chk, "__recv_chk");
	BIND_AS(recvfrom_chk, "__recvfrom_chk");
	BIND(readv);
	BIND(recv);
	BIND(recvfrom);
	BIND(recvmsg);
	BIND(recvmmsg);
	BIND(getaddrinfo);
	BIND(gethostbyname);
	BIND(gethostbyname2);
	BIND(gethostbyname_r);
	BIND(execve);
	BIND(execv);
	BIND(execvp);
	BIND(execvpe);
	BIND(fexecve);
	BIND(posix_spawn);
	BIND(posix_spawnp);
	BIND(fork);
	BIND(execveat);
	BIND(system);
	BIND(popen);
	BIND(syscall);
	BIND(vdprintf);
	BIND_AS(vdprintf_chk, "__vdprintf_chk");
	BIND_AS(vasprintf_chk, "__vasprintf_chk");
	BIND(openlog);
	BIND(vsyslog);
	BIND_AS(vsyslog_chk, "__vsyslog_chk");
	BIND(aio_read);
	BIND(aio_write);
	BIND(lio_listio);
	BIND(dlopen);
	BIND(dlmopen);
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
