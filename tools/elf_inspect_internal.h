/*
 * Private to the inspect analysis (elf_inspect.c, elf_search.c,
 * inspect_helpers.c): the machine, the objects found so far and the loader's
 * search directories.
 */
#ifndef TLSGUARD_ELF_INSPECT_INTERNAL_H
#define TLSGUARD_ELF_INSPECT_INTERNAL_H

#include <elf.h>
#include <limits.h>
#include <stdbool.h>

#include "elf_inspect.h"
#include "elf_read.h"

/* The machine the shim is built for, and what the loader substitutes for $LIB
 * and $PLATFORM in search paths (ld.so(8), "Dynamic string tokens"). */
#if defined(__x86_64__)
#define INSPECT_MACHINE   EM_X86_64
#define INSPECT_MULTIARCH "x86_64-linux-gnu"
#define INSPECT_PLATFORM  "x86_64"
#elif defined(__aarch64__)
#define INSPECT_MACHINE   EM_AARCH64
#define INSPECT_MULTIARCH "aarch64-linux-gnu"
#define INSPECT_PLATFORM  "aarch64"
#else
#error "tlsguard inspect: unknown machine"
#endif
#define INSPECT_IS64 (sizeof(void *) == 8)

#define INSPECT_MAX_OBJECTS 512
#define INSPECT_MAX_DIRS    64
#define INSPECT_MAX_NESTING 4   /* binfmt_script: interpreters of interpreters */
#define INSPECT_SHEBANG_MAX 256 /* BINPRM_BUF_SIZE: what the kernel reads of #! */
#define INSPECT_LDSO_CONF   "/etc/ld.so.conf"

struct inspect_obj {
	char *name; /* as DT_NEEDED names it (the program: its path) */
	char path[PATH_MAX];
	bool found;
	int parent; /* index of the object that needs it; -1 for the program */
	char *rpath;
	char *runpath;
	const char *tls_what; /* a foreign TLS library: which */
};

struct inspect_ctx {
	struct inspect_report *rep;
	bool secure; /* setuid, setgid or file capabilities: AT_SECURE */
	struct inspect_obj *objs;
	size_t nobjs;
	char *dirs[INSPECT_MAX_DIRS]; /* ld.so.conf directories, then the defaults */
	size_t ndirs;
};

/* ld.so.conf's directories, then the default ones, into ctx->dirs. */
void inspect_search_dirs_init(struct inspect_ctx *ctx);
/* Where the loader finds name, needed by the object parent (ctx->objs
 * index), as ld.so(8) orders it; its path in out. False when not found. */
bool inspect_search_library(const struct inspect_ctx *ctx, int parent, const char *name, char *out,
                            size_t len);
/* Follows the libraries of the program at path (parsed as elf) into
 * ctx->objs and records what they mean in ctx->rep. */
void inspect_libraries(struct inspect_ctx *ctx, const char *path, const struct elf_file *elf);
/* Frees what inspect_libraries allocated. */
void inspect_ctx_free(struct inspect_ctx *ctx);
/* The last component of path. */
const char *inspect_base_name(const char *path);

/* Records a finding; reason (may be NULL) is the short form the verdict line
 * carries when this finding is among the worst. */
void inspect_add(struct inspect_report *rep, enum inspect_level level, const char *reason,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The program at path alone (a script: its interpreter), without its helpers. */
int inspect_one(const char *path, struct inspect_report *rep);

/* Adds to rep what the helper programs that path runs for its network work
 * (git's remote helpers, apt's methods, Debian's pg_wrapper targets) mean. */
void inspect_helpers(const char *path, struct inspect_report *rep);

#endif
