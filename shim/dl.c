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
 */
#include <dlfcn.h>
#include <link.h>
#include <stdbool.h>
#include <stddef.h>

#include "real.h"
#include "shim.h"

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

/* RTLD_NEXT from caller finds the shim, or a wrapper that leads to it, when the
 * caller was loaded before the shim (the executable, an earlier preload). */
static bool caller_precedes_shim(const void *caller)
{
	struct link_map *self = map_of((const void *)map_of), *m = map_of(caller);

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

/* A handle lookup found r for an interposed name: the shim's function when r
 * is in the object the shim's own wrapper calls into (libc, libssl). */
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

/* The flags dlopen/dlmopen pass on; the real function, or NULL. */
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
/* Each trampoline saves the argument registers, asks the router, and either
 * jumps to the real function with them restored (its return address is the
 * caller's) or returns the router's answer. The stack stays 16-byte aligned at
 * every call (System V x86-64 ABI 3.2.2). */
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
        "	jz 1f\n"
        "	add $24, %rsp\n"
        "	pop %rsi\n"
        "	pop %rdi\n"
        "	jmp *%rax\n"
        "1:	mov (%rsp), %rax\n"
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
        "	jz 1f\n"
        "	add $16, %rsp\n"
        "	pop %rdx\n"
        "	pop %rsi\n"
        "	pop %rdi\n"
        "	jmp *%rax\n"
        "1:	mov (%rsp), %rax\n"
        "	add $40, %rsp\n"
        "	ret\n"
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
        "	test %rax, %rax\n"
        "	jz 1f\n"
        "	jmp *%rax\n"
        "1:	ret\n"
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
        "	test %rax, %rax\n"
        "	jz 1f\n"
        "	jmp *%rax\n"
        "1:	ret\n"
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

	return fn != NULL ? ((void *(*)(const char *, int))fn)(file, flags) : NULL;
}

SHIM_EXPORT void *dlmopen(Lmid_t lmid, const char *file, int flags)
{
	void *fn = tlsguard_dl_route_open(&flags, true);

	return fn != NULL ? ((void *(*)(Lmid_t, const char *, int))fn)(lmid, file, flags) : NULL;
}
#endif
