/*
 * The dynamic linker's lookups, which otherwise hand a program libc's own
 * socket functions behind every wrapper:
 *
 *  - dlsym/dlvsym on a handle (dlopen("libc.so.6"), RTLD_DEFAULT, a libssl
 *    handle) of a name the shim interposes return the shim's function when
 *    the lookup found the definition the shim itself wraps;
 *  - RTLD_NEXT keeps its meaning, "the next definition after the caller"
 *    (dlsym(3)): the call reaches libc's dlsym by a jump, with the caller's
 *    return address in place, because glibc finds the caller's object from
 *    it. Only a caller that would skip the shim (a plugin, or a library loaded
 *    after the shim that does not wrap the name itself) gets the shim's
 *    function instead;
 *  - dlopen/dlmopen drop RTLD_DEEPBIND: a plugin bound "deep" resolves its own
 *    references to libc before the shim (dlopen(3)), so its send() would never
 *    pass a wrapper. Without the flag its references resolve in the global
 *    scope first, as every other library's do.
 *
 * Names the shim does not export take the jump at once: nothing changes for
 * them. On x86-64 the exported symbols are small assembly trampolines (a C
 * function cannot jump to another with its own return address in place);
 * elsewhere they are C, and RTLD_NEXT is then resolved from the shim's place
 * (tlsguard.8, Limits).
 *
 * A sanitizer runtime looks its interceptors' real functions up through dlsym
 * before it is initialised, so this file is built without sanitizer
 * instrumentation (Makefile) and calls nothing a sanitizer intercepts on the
 * way to the real dlsym.
 */
#include <dlfcn.h>
#include <elf.h>
#include <gnu/libc-version.h>
#include <link.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "real.h"
#include "shim.h"

/*
 * dlsym and dlvsym are interposed, and every call the shim makes to them
 * lands in its own wrapper, so the real ones cannot be found by asking
 * them. They are read from the symbol table of the object that defines
 * gnu_get_libc_version, libc (dlsym lives there since glibc 2.34; no sanitizer
 * intercepts gnu_get_libc_version), through its GNU hash table (the
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

/* The address that a d_ptr entry of .dynamic with this tag holds, or NULL. */
static const void *dyn_find(const struct dso_syms *d, const ElfW(Dyn) * dyn, ElfW(Sxword) tag)
{
	for (; dyn->d_tag != DT_NULL; dyn++) {
		if (dyn->d_tag == tag) {
			return dyn_ptr(d, dyn->d_un.d_ptr);
		}
	}
	return NULL;
}

static int dso_syms_of(const void *addr, struct dso_syms *d)
{
	struct link_map *map = NULL;
	Dl_info info;

	d->symtab = NULL;
	d->strtab = NULL;
	d->gnu_hash = NULL;
	d->versym = NULL;
	if (dladdr1(addr, &info, (void **)&map, RTLD_DL_LINKMAP) == 0 || map == NULL) {
		return -1;
	}
	d->base = map->l_addr;
	d->symtab = dyn_find(d, map->l_ld, DT_SYMTAB);
	d->strtab = dyn_find(d, map->l_ld, DT_STRTAB);
	d->gnu_hash = dyn_find(d, map->l_ld, DT_GNU_HASH);
	d->versym = dyn_find(d, map->l_ld, DT_VERSYM);
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

/* strcmp without libc: a sanitizer's strcmp interceptor may not be ready. */
static bool same_name(const char *a, const char *b)
{
	for (; *a != '\0' && *a == *b; a++, b++) {
	}
	return *a == *b;
}

/* ELF64_ST_TYPE is ELF32_ST_TYPE: the low four bits of st_info. */
static bool sym_matches(const struct dso_syms *d, uint32_t i, const char *name)
{
	const ElfW(Sym) *sym = &d->symtab[i];

	return sym->st_shndx != SHN_UNDEF && ELF64_ST_TYPE(sym->st_info) == STT_FUNC &&
	       (d->versym == NULL || (d->versym[i] & VERSYM_HIDDEN) == 0) &&
	       same_name(d->strtab + sym->st_name, name);
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

/* Bound once; idempotent, so threads racing here compute the same values.
 * No pthread_once: a sanitizer's interceptor of it may not be ready. */
static atomic_int dl_state; /* 0: not yet, 1: bound */
static struct dso_syms self_syms;
static bool self_syms_ok;
static struct link_map *self_map;

/* The object (link map) that contains addr, or NULL. */
static struct link_map *map_of(const void *addr)
{
	struct link_map *map = NULL;
	Dl_info info;

	if (dladdr1(addr, &info, (void **)&map, RTLD_DL_LINKMAP) == 0) {
		return NULL;
	}
	return map;
}

const struct real_fns *real_dl(void)
{
	struct dso_syms libc;

	if (atomic_load_explicit(&dl_state, memory_order_acquire) == 1) {
		return &real_table;
	}
	self_map = map_of((const void *)map_of);
	self_syms_ok = dso_syms_of((const void *)map_of, &self_syms) == 0;
	if (dso_syms_of((const void *)gnu_get_libc_version, &libc) == 0) {
		real_table.dlsym = (void *(*)(void *, const char *))dso_lookup(&libc, "dlsym");
		real_table.dlvsym =
		    (void *(*)(void *, const char *, const char *))dso_lookup(&libc, "dlvsym");
	}
	atomic_store_explicit(&dl_state, 1, memory_order_release);
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
	return self_map != NULL && map_of(addr) == self_map;
}

/* RTLD_NEXT from caller finds the shim, or a wrapper that leads to it, when the
 * caller was loaded before the shim (the executable, an earlier preload). */
static bool caller_precedes_shim(const void *caller)
{
	struct link_map *self = self_map, *m = map_of(caller);

	for (; m != NULL && self != NULL; m = m->l_next) {
		if (m == self) {
			return true;
		}
	}
	return false;
}

/* What RTLD_NEXT from caller must return for an interposed name, when not the
 * real lookup's own answer: NULL to let the real dlsym/dlvsym answer. */
static void *next_for(const void *caller, const char *name, void *mine)
{
	if (caller_precedes_shim(caller) || real_defines(caller, name)) {
		return NULL; /* a wrapper chain, or one that reaches the shim */
	}
	return mine;
}

static bool has_prefix(const char *s, const char *prefix)
{
	while (*prefix != '\0' && *s == *prefix) {
		s++, prefix++;
	}
	return *prefix == '\0';
}

/* The function the shim's GnuTLS wrapper calls into when libgnutls is outside
 * the global scope (dlopen'ed RTLD_LOCAL, so RTLD_NEXT cannot see it): the
 * one of the libgnutls.so.30 already loaded (shim/bind/gnutls_fns.c binds the
 * same), or NULL. Only gnutls_ names reach here; libc's never do. */
static void *local_library_fn(const char *name)
{
	static _Atomic(void *) gnutls_handle;
	const struct real_fns *rf;
	void *h;

	if (!has_prefix(name, "gnutls_")) {
		return NULL;
	}
	rf = real();
	h = atomic_load_explicit(&gnutls_handle, memory_order_acquire);
	if (h == NULL) {
		h = rf->dlopen("libgnutls.so.30", RTLD_LAZY | RTLD_NOLOAD);
		if (h == NULL) {
			return NULL;
		}
		atomic_store_explicit(&gnutls_handle, h, memory_order_release);
	}
	return rf->dlsym(h, name);
}

/* A handle lookup found r for an interposed name: the shim's function when r
 * is in the object the shim's own wrapper calls into (libc, libssl,
 * libgnutls). */
static void *instead_of(void *r, const char *name, void *mine)
{
	const struct real_fns *rf = real_dl();
	Dl_info a, b;
	void *wrapped;

	if (r == NULL || r == mine) {
		return r;
	}
	wrapped = rf->dlsym(RTLD_NEXT, name);
	if (wrapped == NULL) {
		wrapped = local_library_fn(name);
	}
	if (wrapped == NULL) {
		(void)dlerror(); /* the program's lookup succeeded: no stale error */
		return r;
	}
	if (dladdr(r, &a) == 0 || dladdr(wrapped, &b) == 0 || a.dli_fbase != b.dli_fbase) {
		return r; /* another object's function of the same name */
	}
	return mine;
}

/* The real function to jump to with the caller's arguments, or NULL with the
 * answer in *out. Called by the trampolines below. */
__attribute__((used)) void *tlsguard_dl_route_sym(void *handle, const char *name,
                                                  const char *version, const void *caller,
                                                  void **out)
{
	const struct real_fns *rf = real_dl();
	void *direct = version != NULL ? (void *)rf->dlvsym : (void *)rf->dlsym;
	void *mine, *r;

	*out = NULL;
	if (direct == NULL) {
		return NULL; /* libc's symbol table unreadable: fail closed */
	}
	if (name == NULL || real_in_shim(caller) || (mine = real_shim_export(name)) == NULL) {
		return direct;
	}
	if (handle == RTLD_NEXT) {
		*out = next_for(caller, name, mine);
		return *out != NULL ? NULL : direct;
	}
	r = version != NULL ? rf->dlvsym(handle, name, version) : rf->dlsym(handle, name);
	*out = instead_of(r, name, mine);
	return NULL;
}

/* The flags dlopen/dlmopen pass on; the real function (never NULL: an entry
 * that could not be bound refuses the call itself, real.h). */
__attribute__((used)) void *tlsguard_dl_route_open(int *flags, bool lmid)
{
	const struct real_fns *rf = real();

	/* Off means off: only a policy loaded with mode off keeps the flag. */
	if (!(atomic_load_explicit(&shim_loaded.done, memory_order_acquire) &&
	      shim_loaded.policy != NULL && shim_loaded.mode == POLICY_MODE_OFF)) {
		*flags &= ~RTLD_DEEPBIND;
	}
	return lmid ? (void *)rf->dlmopen : (void *)rf->dlopen;
}

#if defined(__x86_64__)
/* Each trampoline saves the argument registers, asks the router, and jumps to
 * the real function with them restored (its return address is the caller's);
 * dlsym and dlvsym may instead return the router's answer. The stack stays
 * 16-byte aligned at every call (System V x86-64 ABI 3.2.2). */
__asm__(".text\n"
        ".globl dlsym\n"
        ".type dlsym, @function\n"
        "dlsym:\n"
        "	endbr64\n"
        "	push %rdi\n"
        "	push %rsi\n"
        "	sub $24, %rsp\n"
        "	xor %edx, %edx\n"     /* version */
        "	mov 40(%rsp), %rcx\n" /* the caller's return address */
        "	mov %rsp, %r8\n"      /* out */
        "	call tlsguard_dl_route_sym\n"
        "	test %rax, %rax\n"
        "	jz .Ldl_sym_answer\n"
        "	add $24, %rsp\n"
        "	pop %rsi\n"
        "	pop %rdi\n"
        "	jmp *%rax\n"
        /* the router's answer is in out, at the top of the 40 bytes both
         * dlsym and dlvsym keep on the stack */
        ".Ldl_sym_answer:\n"
        "	mov (%rsp), %rax\n"
        "	add $40, %rsp\n"
        "	ret\n"
        ".size dlsym, .-dlsym\n"

        ".globl dlvsym\n"
        ".type dlvsym, @function\n"
        "dlvsym:\n"
        "	endbr64\n"
        "	push %rdi\n"
        "	push %rsi\n"
        "	push %rdx\n"
        "	sub $16, %rsp\n"
        "	mov 40(%rsp), %rcx\n"
        "	mov %rsp, %r8\n"
        "	call tlsguard_dl_route_sym\n"
        "	test %rax, %rax\n"
        "	jz .Ldl_sym_answer\n"
        "	add $16, %rsp\n"
        "	pop %rdx\n"
        "	pop %rsi\n"
        "	pop %rdi\n"
        "	jmp *%rax\n"
        ".size dlvsym, .-dlvsym\n"

        ".globl dlopen\n"
        ".type dlopen, @function\n"
        "dlopen:\n"
        "	endbr64\n"
        "	push %rdi\n"
        "	push %rsi\n"
        "	sub $8, %rsp\n"
        "	lea 8(%rsp), %rdi\n" /* the saved flags */
        "	xor %esi, %esi\n"
        "	call tlsguard_dl_route_open\n"
        "	add $8, %rsp\n"
        "	pop %rsi\n"
        "	pop %rdi\n"
        "	jmp *%rax\n"
        ".size dlopen, .-dlopen\n"

        ".globl dlmopen\n"
        ".type dlmopen, @function\n"
        "dlmopen:\n"
        "	endbr64\n"
        "	push %rdi\n"
        "	push %rsi\n"
        "	push %rdx\n"
        "	mov %rsp, %rdi\n"
        "	mov $1, %esi\n"
        "	call tlsguard_dl_route_open\n"
        "	pop %rdx\n"
        "	pop %rsi\n"
        "	pop %rdi\n"
        "	jmp *%rax\n"
        ".size dlmopen, .-dlmopen\n");
#else
static void *dl_sym(void *handle, const char *name, const char *version, const void *caller)
{
	void *out, *fn = tlsguard_dl_route_sym(handle, name, version, caller, &out);

	if (fn == NULL) {
		return out;
	}
	return version != NULL
	           ? ((void *(*)(void *, const char *, const char *))fn)(handle, name, version)
	           : ((void *(*)(void *, const char *))fn)(handle, name);
}

SHIM_EXPORT void *dlsym(void *handle, const char *name)
{
	return dl_sym(handle, name, NULL, __builtin_return_address(0));
}

SHIM_EXPORT void *dlvsym(void *handle, const char *name, const char *version)
{
	return dl_sym(handle, name, version, __builtin_return_address(0));
}

SHIM_EXPORT void *dlopen(const char *file, int flags)
{
	void *fn = tlsguard_dl_route_open(&flags, false);

	return ((void *(*)(const char *, int))fn)(file, flags);
}

SHIM_EXPORT void *dlmopen(Lmid_t lmid, const char *file, int flags)
{
	void *fn = tlsguard_dl_route_open(&flags, true);

	return ((void *(*)(Lmid_t, const char *, int))fn)(lmid, file, flags);
}
#endif
