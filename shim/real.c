/*
 * Binds the real libc functions once (dlsym(RTLD_NEXT, ...) under pthread_once),
 * so the shim stacks with other preloads and never calls an interposed name.
 */
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <pthread.h>
#include <stddef.h>
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

/*
 * dlsym and dlvsym are interposed (dl.c), and every call the shim makes to
 * them lands in its own wrapper, so the real ones cannot be found by asking
 * them. They are read from the symbol table of the object that defines
 * dl_iterate_phdr (libc since glibc 2.34), through its GNU hash table (the
 * format ld.so itself reads: "gnu-hash" in the System V ABI's Linux
 * supplement). Only a default-version definition counts: the same lookup
 * ld.so makes for an unversioned reference.
 */
/* A .gnu.version entry with this bit names a non-default version (sym@V, not
 * sym@@V): ld.so never binds an unversioned reference to it. */
#define VERSYM_HIDDEN 0x8000

struct dso_syms {
	uintptr_t base;
	const ElfW(Sym) * symtab;
	const char *strtab;
	const uint32_t *gnu_hash;
	const ElfW(Half) * versym;
};

/* ld.so relocates the d_ptr entries of .dynamic in place on most targets; on
 * the others they are still offsets from the load address. */
static const void *dyn_ptr(const struct dso_syms *d, ElfW(Addr) p)
{
	return (const void *)(p < d->base ? p + d->base : p);
}

static int dso_syms_of(const void *addr, struct dso_syms *d)
{
	struct link_map *map = NULL;
	const ElfW(Dyn) * dyn;
	Dl_info info;

	memset(d, 0, sizeof(*d));
	if (dladdr1(addr, &info, (void **)&map, RTLD_DL_LINKMAP) == 0 || map == NULL) {
		return -1;
	}
	d->base = map->l_addr;
	for (dyn = map->l_ld; dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_SYMTAB:
			d->symtab = dyn_ptr(d, dyn->d_un.d_ptr);
			break;
		case DT_STRTAB:
			d->strtab = dyn_ptr(d, dyn->d_un.d_ptr);
			break;
		case DT_GNU_HASH:
			d->gnu_hash = dyn_ptr(d, dyn->d_un.d_ptr);
			break;
		case DT_VERSYM:
			d->versym = dyn_ptr(d, dyn->d_un.d_ptr);
			break;
		default:
			break;
		}
	}
	return d->symtab != NULL && d->strtab != NULL && d->gnu_hash != NULL ? 0 : -1;
}

static uint32_t gnu_hash_of(const char *name)
{
	uint32_t h = 5381;

	for (; *name != '\0'; name++) {
		h = h * 33 + (uint8_t)*name;
	}
	return h;
}

/* ELF64_ST_TYPE is ELF32_ST_TYPE: the low four bits of st_info. */
static bool sym_matches(const struct dso_syms *d, uint32_t i, const char *name)
{
	const ElfW(Sym) *sym = &d->symtab[i];

	return sym->st_shndx != SHN_UNDEF && ELF64_ST_TYPE(sym->st_info) == STT_FUNC &&
	       (d->versym == NULL || (d->versym[i] & VERSYM_HIDDEN) == 0) &&
	       strcmp(d->strtab + sym->st_name, name) == 0;
}

static void *dso_lookup(const struct dso_syms *d, const char *name)
{
	const uint32_t *h = d->gnu_hash, *buckets, *chain;
	uint32_t nbuckets = h[0], symoffset = h[1], bloom_size = h[2], hash, i;

	if (nbuckets == 0) {
		return NULL;
	}
	buckets = (const uint32_t *)((const ElfW(Addr) *)&h[4] + bloom_size);
	chain = buckets + nbuckets;
	hash = gnu_hash_of(name);
	for (i = buckets[hash % nbuckets]; i >= symoffset; i++) {
		if (((chain[i - symoffset] ^ hash) >> 1) == 0 && sym_matches(d, i, name)) {
			return (void *)(d->base + d->symtab[i].st_value);
		}
		if (chain[i - symoffset] & 1) {
			break;
		}
	}
	return NULL;
}

static pthread_once_t dl_once = PTHREAD_ONCE_INIT;
static struct dso_syms self_syms;
static bool self_syms_ok;

static void find_self_once(void)
{
	Dl_info self;

	if (dladdr((void *)real_bind, &self) != 0) {
		dl_iterate_phdr(find_self, self.dli_fbase);
	}
}

static void bind_dl(void)
{
	struct dso_syms libc;

	find_self_once();
	self_syms_ok = dso_syms_of((void *)real_bind, &self_syms) == 0;
	if (dso_syms_of((void *)dl_iterate_phdr, &libc) < 0) {
		return; /* real_dl() stays NULL: dl.c fails closed */
	}
	real_table.dlsym = (void *(*)(void *, const char *))dso_lookup(&libc, "dlsym");
	real_table.dlvsym =
	    (void *(*)(void *, const char *, const char *))dso_lookup(&libc, "dlvsym");
}

const struct real_fns *real_dl(void)
{
	pthread_once(&dl_once, bind_dl);
	return &real_table;
}

void *real_shim_export(const char *name)
{
	real_dl();
	return self_syms_ok ? dso_lookup(&self_syms, name) : NULL;
}

bool real_defines(const void *addr, const char *name)
{
	struct dso_syms d;

	return dso_syms_of(addr, &d) == 0 && dso_lookup(&d, name) != NULL;
}

bool real_in_shim(const void *addr)
{
	real_dl();
	return resolves_to_shim((void *)addr);
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
