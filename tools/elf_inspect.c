/*
 * Whether the shim can enforce a program. The shim only exists in a process
 * when the dynamic loader preloads it (ld.so(8), LD_PRELOAD), and only
 * validates TLS done through the system's OpenSSL 3 (libssl.so.3). So: follow
 * #! to the real program, read its ELF headers, refuse what the loader will not
 * preload into (static, secure execution, another loader or architecture), then
 * follow the loader's library search transitively and name every TLS library
 * that is not libssl.so.3, and any OpenSSL built into an object.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "elf_inspect.h"
#include "elf_inspect_internal.h"
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

/* Where the loader looks when nothing else names a directory (ld.so(8)). */
static const char *const default_dirs[] = {
    "/lib/" INSPECT_MULTIARCH, "/usr/lib/" INSPECT_MULTIARCH, "/lib64", "/usr/lib", "/lib",
};

/* TLS libraries other than OpenSSL: the shim cannot see their handshakes. */
static const struct {
	const char *prefix;
	const char *what;
} foreign_tls[] = {
    {"libgnutls", "GnuTLS"},    {"libnss3.so", "NSS"},     {"libssl3.so", "NSS"},
    {"libmbedtls", "Mbed TLS"}, {"libwolfssl", "wolfSSL"}, {"libtls.so", "LibreSSL libtls"},
    {"libbearssl", "BearSSL"},  {"libs2n.so", "s2n-tls"},  {"libmatrixssl", "MatrixSSL"},
};

/* Functions only a TLS implementation of the OpenSSL family defines. */
static const char *const openssl_tls_symbols[] = {
    "SSL_CTX_new",
    "SSL_new",
    "SSL_do_handshake",
    "OPENSSL_init_ssl",
};

/* Programs that load modules at run time, and what their TLS module loads. */
static const struct {
	const char *prefix;
	const char *tls; /* NULL: nothing known */
} interpreters[] = {
    {"python", "python3's ssl module loads libssl.so.3"},
    {"perl", "Net::SSLeay, under IO::Socket::SSL, loads libssl.so.3"},
    {"ruby", "ruby's openssl extension loads libssl.so.3"},
    {"php", "php's openssl extension loads libssl.so.3"},
    {"lua", "LuaSec loads libssl.so.3"},
    {"tclsh", "the tls package loads libssl.so.3"},
    {"guile", "guile-gnutls loads GnuTLS"},
    {"Rscript", NULL},
    {"java", NULL},
};

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

const char *inspect_verdict_name(enum inspect_level verdict)
{
	switch (verdict) {
	case INSPECT_PARTLY:
		return "partly enforceable";
	case INSPECT_NOT:
		return "not enforceable";
	case INSPECT_INFO:
	case INSPECT_NOTE:
	default:
		return "enforceable";
	}
}

/* Records a finding; reason (may be NULL) is the short form the verdict line
 * carries when this finding is among the worst. */
void inspect_add(struct inspect_report *rep, enum inspect_level level, const char *reason,
                 const char *fmt, ...)
{
	size_t used;
	va_list ap;

	if (rep->nfindings < INSPECT_MAX_FINDINGS) {
		struct inspect_finding *f = &rep->findings[rep->nfindings++];
		f->level = level;
		va_start(ap, fmt);
		vsnprintf(f->text, sizeof(f->text), fmt, ap);
		va_end(ap);
	}
	if (level < INSPECT_PARTLY || reason == NULL || level < rep->verdict) {
		rep->verdict = level > rep->verdict ? level : rep->verdict;
		return;
	}
	if (level > rep->verdict) {
		rep->verdict = level;
		rep->reason[0] = '\0';
	}
	if (strstr(rep->reason, reason) != NULL) {
		return;
	}
	used = strlen(rep->reason);
	snprintf(rep->reason + used, sizeof(rep->reason) - used, "%s%s", used ? "; " : "", reason);
}

static void inspect_error(struct inspect_report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void inspect_error(struct inspect_report *rep, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rep->error, sizeof(rep->error), fmt, ap);
	va_end(ap);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash != NULL ? slash + 1 : path;
}

/* --- finding commands (execvp(3)) ------------------------------------------- */

static int resolve_path_entry(const char *dir, size_t dirlen, const char *name, char *out,
                              size_t len, bool *denied)
{
	struct stat st;
	int n;

	/* An empty PATH element is the working directory (execvp(3)). */
	n = dirlen == 0 ? snprintf(out, len, "%s", name)
	                : snprintf(out, len, "%.*s/%s", (int)dirlen, dir, name);
	if (n < 0 || (size_t)n >= len || stat(out, &st) != 0) {
		return -1;
	}
	if (S_ISREG(st.st_mode) && access(out, X_OK) == 0) {
		return 0;
	}
	*denied = true;
	return -1;
}

int inspect_resolve_command(const char *name, char *out, size_t len)
{
	const char *path, *p, *end;
	bool denied = false;
	struct stat st;

	if (*name == '\0') {
		return 127;
	}
	if (strchr(name, '/') != NULL) {
		if (strlen(name) >= len || stat(name, &st) != 0) {
			return 127;
		}
		snprintf(out, len, "%s", name);
		return S_ISREG(st.st_mode) && access(name, X_OK) == 0 ? 0 : 126;
	}
	path = getenv("PATH");
	if (path == NULL) {
		path = "/bin:/usr/bin"; /* glibc's execvp default */
	}
	for (p = path;; p = end + 1) {
		end = strchrnul(p, ':');
		if (resolve_path_entry(p, end - p, name, out, len, &denied) == 0) {
			return 0;
		}
		if (*end == '\0') {
			break;
		}
	}
	return denied ? 126 : 127;
}

/* --- the loader's library search (ld.so(8)) --------------------------------- */

/* The dynamic string token at dir (ld.so(8), "Dynamic string tokens"): sets
 * *len to its length and returns its value, or NULL when there is none. */
static const char *dir_token(const char *dir, size_t left, const char *origin, size_t *len,
                             bool *is_origin)
{
	static const struct {
		const char *bare, *braced, *value;
	} tokens[] = {
	    {"$ORIGIN", "${ORIGIN}", NULL},
	    {"$LIB", "${LIB}", "lib/" INSPECT_MULTIARCH},
	    {"$PLATFORM", "${PLATFORM}", INSPECT_PLATFORM},
	};
	size_t t;

	for (t = 0; t < sizeof(tokens) / sizeof(tokens[0]); t++) {
		size_t a = strlen(tokens[t].bare), b = strlen(tokens[t].braced);
		if (left >= b && strncmp(dir, tokens[t].braced, b) == 0) {
			*len = b;
		} else if (left >= a && strncmp(dir, tokens[t].bare, a) == 0) {
			*len = a;
		} else {
			continue;
		}
		*is_origin = t == 0;
		return t == 0 ? origin : tokens[t].value;
	}
	return NULL;
}

/* dir with its tokens substituted. -1 when the result does not fit, or uses
 * $ORIGIN in secure execution, where the loader refuses it. */
static int expand_dir(const struct inspect_ctx *ctx, const char *dir, size_t dirlen,
                      const char *origin, char *out, size_t len)
{
	size_t o = 0, i = 0, skip, vlen;
	bool is_origin = false;
	const char *value;

	while (i < dirlen) {
		value = dir[i] == '$' ? dir_token(dir + i, dirlen - i, origin, &skip, &is_origin)
		                      : NULL;
		if (value == NULL) {
			value = dir + i;
			skip = vlen = 1;
		} else if (is_origin && ctx->secure) {
			return -1;
		} else {
			vlen = strlen(value);
		}
		if (o + vlen >= len) {
			return -1;
		}
		memcpy(out + o, value, vlen);
		o += vlen;
		i += skip;
	}
	out[o] = '\0';
	return 0;
}

/* A candidate is taken only if it is an ELF object of the program's class and
 * machine; the loader skips the others and keeps searching. */
static bool try_candidate(const char *path, char *out, size_t len)
{
	struct policy_error err;
	struct elf_file elf;
	bool fits;

	if (elf_open(&elf, path, &err) != 0) {
		return false;
	}
	fits = elf.is64 == INSPECT_IS64 && elf.machine == INSPECT_MACHINE;
	elf_close(&elf);
	if (fits && realpath(path, out) == NULL) {
		snprintf(out, len, "%s", path);
	}
	return fits;
}

/* Searches a ':'-separated list (seps) of directories for name. */
static bool search_list(const struct inspect_ctx *ctx, const char *list, const char *seps,
                        const char *origin, const char *name, char *out, size_t len)
{
	char dir[PATH_MAX], cand[PATH_MAX];
	const char *p = list;

	while (*p != '\0') {
		size_t n = strcspn(p, seps);
		int w;
		if (n != 0 && expand_dir(ctx, p, n, origin, dir, sizeof(dir)) == 0) {
			w = snprintf(cand, sizeof(cand), "%s/%s", dir, name);
			if (w > 0 && (size_t)w < sizeof(cand) && try_candidate(cand, out, len)) {
				return true;
			}
		}
		p += n;
		p += *p != '\0';
	}
	return false;
}

static void origin_of(const struct inspect_obj *obj, char *out, size_t len)
{
	const char *slash = strrchr(obj->path, '/');
	size_t n = slash != NULL ? (size_t)(slash - obj->path) : 0;

	snprintf(out, len, "%.*s", (int)n, obj->path);
}

/* The order of ld.so(8): DT_RPATH of the needing object and of the objects that
 * loaded it (unless the needing object has DT_RUNPATH), LD_LIBRARY_PATH (not in
 * secure execution), the needing object's DT_RUNPATH, then the system
 * directories (ld.so.conf stands in for /etc/ld.so.cache). */
static bool search_library(const struct inspect_ctx *ctx, int parent, const char *name, char *out,
                           size_t len)
{
	const struct inspect_obj *obj = &ctx->objs[parent];
	const char *llp = getenv("LD_LIBRARY_PATH");
	char origin[PATH_MAX];
	int i;
	size_t d;

	if (strchr(name, '/') != NULL) {
		return try_candidate(name, out, len);
	}
	for (i = parent; obj->runpath == NULL && i >= 0; i = ctx->objs[i].parent) {
		if (ctx->objs[i].rpath == NULL || ctx->objs[i].runpath != NULL) {
			continue;
		}
		origin_of(&ctx->objs[i], origin, sizeof(origin));
		if (search_list(ctx, ctx->objs[i].rpath, ":", origin, name, out, len)) {
			return true;
		}
	}
	origin_of(&ctx->objs[0], origin, sizeof(origin));
	if (!ctx->secure && llp != NULL && search_list(ctx, llp, ":;", origin, name, out, len)) {
		return true;
	}
	origin_of(obj, origin, sizeof(origin));
	if (obj->runpath != NULL && search_list(ctx, obj->runpath, ":", origin, name, out, len)) {
		return true;
	}
	for (d = 0; d < ctx->ndirs; d++) {
		if (search_list(ctx, ctx->dirs[d], "", origin, name, out, len)) {
			return true;
		}
	}
	return false;
}

static void add_dir(struct inspect_ctx *ctx, const char *dir)
{
	size_t i;

	for (i = 0; i < ctx->ndirs; i++) {
		if (strcmp(ctx->dirs[i], dir) == 0) {
			return;
		}
	}
	if (ctx->ndirs < INSPECT_MAX_DIRS && (ctx->dirs[ctx->ndirs] = strdup(dir)) != NULL) {
		ctx->ndirs++;
	}
}

/* ld.so.conf(5): one directory per line, '#' comments, "include GLOB". */
static void read_ldso_conf(struct inspect_ctx *ctx, const char *path, int depth)
{
	char line[PATH_MAX];
	FILE *f = fopen(path, "re");
	glob_t g;
	size_t i;

	if (f == NULL) {
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "#\r\n")] = '\0';
		char *p = line + strspn(line, " \t"), *end = p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t')) {
			*--end = '\0';
		}
		if (*p == '/') {
			add_dir(ctx, p);
		} else if (strncmp(p, "include", 7) == 0 && (p[7] == ' ' || p[7] == '\t') &&
		           depth < 2 && glob(p + 8 + strspn(p + 8, " \t"), 0, NULL, &g) == 0) {
			for (i = 0; i < g.gl_pathc; i++) {
				read_ldso_conf(ctx, g.gl_pathv[i], depth + 1);
			}
			globfree(&g);
		}
	}
	fclose(f);
}

/* --- what each library means ------------------------------------------------- */

static const char *foreign_tls_name(const char *soname)
{
	size_t i;

	if (strncmp(soname, "libssl.so", 9) == 0 && strcmp(soname, "libssl.so.3") != 0) {
		return "an OpenSSL other than libssl.so.3";
	}
	for (i = 0; i < sizeof(foreign_tls) / sizeof(foreign_tls[0]); i++) {
		if (strncmp(soname, foreign_tls[i].prefix, strlen(foreign_tls[i].prefix)) == 0) {
			return foreign_tls[i].what;
		}
	}
	return NULL;
}

/* OpenSSL built into an object (node, or a library linking it statically):
 * its handshakes never reach the system libssl the shim watches. */
static void check_bundled(struct inspect_report *rep, const struct elf_file *elf, const char *name)
{
	size_t i;

	if (strncmp(name, "libssl.so", 9) == 0 || strncmp(name, "libcrypto.so", 12) == 0 ||
	    foreign_tls_name(name) != NULL) {
		return;
	}
	for (i = 0; i < sizeof(openssl_tls_symbols) / sizeof(openssl_tls_symbols[0]); i++) {
		if (elf_defines(elf, openssl_tls_symbols[i])) {
			inspect_add(
			    rep, INSPECT_PARTLY, "bundles its own OpenSSL",
			    "bundled: %s defines %s itself: a built-in OpenSSL the shim cannot "
			    "validate; its TLS follows tls.unmanaged",
			    name, openssl_tls_symbols[i]);
			return;
		}
	}
	if (elf_defines_prefix(elf, "OPENSSL_")) {
		inspect_add(
		    rep, INSPECT_NOTE, NULL,
		    "bundled: %s carries OpenSSL's libcrypto (OPENSSL_* symbols) but no TLS", name);
	}
}

static int add_object(struct inspect_ctx *ctx, const char *name, int parent)
{
	struct inspect_obj *obj;
	size_t i;

	for (i = 0; i < ctx->nobjs; i++) {
		if (strcmp(ctx->objs[i].name, name) == 0 ||
		    strcmp(base_name(ctx->objs[i].path), name) == 0) {
			return 0; /* the loader loads an object once */
		}
	}
	if (ctx->nobjs == INSPECT_MAX_OBJECTS) {
		return -1;
	}
	obj = &ctx->objs[ctx->nobjs];
	memset(obj, 0, sizeof(*obj));
	if ((obj->name = strdup(name)) == NULL) {
		return -1;
	}
	obj->parent = parent;
	obj->found = parent < 0 || search_library(ctx, parent, name, obj->path, sizeof(obj->path));
	obj->tls_what = foreign_tls_name(name);
	ctx->nobjs++;
	return 0;
}

/* Reads object i: its search paths (for its own needs and its dependants'), its
 * own OpenSSL, and its DT_NEEDED entries, queued for the same treatment. */
static void visit_object(struct inspect_ctx *ctx, size_t i, const struct elf_file *program)
{
	struct inspect_obj *obj = &ctx->objs[i];
	struct policy_error err;
	struct elf_file lib;
	const struct elf_file *elf = program;
	size_t n;

	if (i != 0) {
		if (!obj->found) {
			return;
		}
		if (elf_open(&lib, obj->path, &err) != 0) {
			inspect_add(ctx->rep, INSPECT_NOTE, NULL,
			            "library: %s => %s: cannot read: %s", obj->name, obj->path,
			            err.msg);
			return;
		}
		elf = &lib;
	}
	obj->rpath = elf->rpath != NULL ? strdup(elf->rpath) : NULL;
	obj->runpath = elf->runpath != NULL ? strdup(elf->runpath) : NULL;
	check_bundled(ctx->rep, elf, i == 0 ? base_name(obj->path) : obj->name);
	for (n = 0; n < elf->nneeded; n++) {
		if (add_object(ctx, elf->needed[n], (int)i) != 0) {
			inspect_add(ctx->rep, INSPECT_NOTE, NULL,
			            "library: more than %d objects: the rest is not inspected",
			            INSPECT_MAX_OBJECTS);
			break;
		}
	}
	if (i != 0) {
		elf_close(&lib);
	}
}

static bool reaches_libssl3(const struct inspect_ctx *ctx)
{
	size_t i;

	for (i = 1; i < ctx->nobjs; i++) {
		if (ctx->objs[i].found && strcmp(ctx->objs[i].name, "libssl.so.3") == 0) {
			return true;
		}
	}
	return false;
}

/* One line per TLS library and per missing library. A foreign TLS library the
 * program needs itself (or the only TLS library it has) carries its TLS: partly
 * enforceable. One that only another library needs beside libssl.so.3 (curl's
 * librtmp uses GnuTLS for RTMPS) is noted. */
static void report_libraries(struct inspect_ctx *ctx)
{
	bool libssl3 = reaches_libssl3(ctx);
	char reason[INSPECT_TEXT_MAX], via[NAME_MAX + 32];
	size_t i;

	for (i = 1; i < ctx->nobjs; i++) {
		const struct inspect_obj *obj = &ctx->objs[i];
		via[0] = '\0';
		if (obj->parent > 0) {
			snprintf(via, sizeof(via), " (needed by %.*s)", NAME_MAX,
			         ctx->objs[obj->parent].name);
		}
		if (!obj->found) {
			inspect_add(ctx->rep, INSPECT_NOTE, NULL,
			            "library: %s%s: not found: the program may not start",
			            obj->name, via);
		} else if (strcmp(obj->name, "libssl.so.3") == 0) {
			inspect_add(
			    ctx->rep, INSPECT_INFO, NULL,
			    "library: %s => %s%s: the system OpenSSL 3: the shim validates its TLS",
			    obj->name, obj->path, via);
		} else if (obj->tls_what != NULL && (obj->parent == 0 || !libssl3)) {
			snprintf(reason, sizeof(reason), "TLS through %s (%s) is not validated",
			         obj->tls_what, obj->name);
			inspect_add(ctx->rep, INSPECT_PARTLY, reason,
			            "library: %s => %s%s: %s: the shim cannot validate TLS done "
			            "through it; "
			            "such connections follow tls.unmanaged",
			            obj->name, obj->path, via, obj->tls_what);
		} else if (obj->tls_what != NULL) {
			inspect_add(ctx->rep, INSPECT_NOTE, NULL,
			            "library: %s => %s%s: %s, used by that library only: its TLS "
			            "connections follow tls.unmanaged",
			            obj->name, obj->path, via, obj->tls_what);
		}
	}
}

static void inspect_libraries(struct inspect_ctx *ctx, const char *path, const struct elf_file *elf)
{
	struct inspect_obj *prog = &ctx->objs[0];
	size_t i;

	read_ldso_conf(ctx, INSPECT_LDSO_CONF, 0);
	for (i = 0; i < sizeof(default_dirs) / sizeof(default_dirs[0]); i++) {
		add_dir(ctx, default_dirs[i]);
	}
	memset(prog, 0, sizeof(*prog));
	prog->name = strdup(path);
	prog->parent = -1;
	prog->found = true;
	if (prog->name == NULL) {
		return;
	}
	if (realpath(path, prog->path) == NULL) {
		snprintf(prog->path, sizeof(prog->path), "%s", path);
	}
	ctx->nobjs = 1;
	for (i = 0; i < ctx->nobjs; i++) {
		visit_object(ctx, i, elf);
	}
	report_libraries(ctx);
}

static void free_ctx(struct inspect_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->nobjs; i++) {
		free(ctx->objs[i].name);
		free(ctx->objs[i].rpath);
		free(ctx->objs[i].runpath);
	}
	for (i = 0; i < ctx->ndirs; i++) {
		free(ctx->dirs[i]);
	}
	free(ctx->objs);
}

/* --- one program ------------------------------------------------------------- */

/* The loader runs a setuid, setgid or capability-carrying program in secure
 * execution (AT_SECURE, ld.so(8)): LD_PRELOAD is then ignored. Linux ignores
 * these bits on scripts (execve(2)), so there they are only noted. */
static bool check_secure(struct inspect_report *rep, const char *path, const struct stat *st,
                         bool script)
{
	bool caps = getxattr(path, "security.capability", NULL, 0) > 0;
	enum inspect_level level = script ? INSPECT_NOTE : INSPECT_NOT;
	const char *why = script ? "Linux ignores it on scripts"
	                         : "the loader ignores LD_PRELOAD in secure execution";

	if (st->st_mode & S_ISUID) {
		inspect_add(rep, level, "setuid", "setuid: owner uid %u: %s", (unsigned)st->st_uid,
		            why);
	}
	if (st->st_mode & S_ISGID) {
		inspect_add(rep, level, "setgid", "setgid: group gid %u: %s", (unsigned)st->st_gid,
		            why);
	}
	if (caps) {
		inspect_add(rep, level, "file capabilities",
		            "capabilities: the file carries "
		            "security.capability: %s",
		            why);
	}
	return !script && ((st->st_mode & (S_ISUID | S_ISGID)) || caps);
}

static void check_loader(struct inspect_report *rep, const struct elf_file *elf, bool secure)
{
	if (strncmp(base_name(elf->interp), "ld-linux", 8) == 0) {
		inspect_add(rep, INSPECT_INFO, NULL, "loader: %s: dynamically linked%s",
		            elf->interp,
		            secure ? ", but in secure execution it ignores LD_PRELOAD"
		                   : ": LD_PRELOAD applies");
		return;
	}
	inspect_add(
	    rep, INSPECT_NOT, "not glibc's loader",
	    "loader: %s is not glibc's ld.so: the shim (built for glibc) cannot be preloaded",
	    elf->interp);
}

static void note_interpreter(struct inspect_report *rep, const char *path)
{
	const char *name = base_name(path);
	size_t i;

	for (i = 0; i < sizeof(interpreters) / sizeof(interpreters[0]); i++) {
		if (strncmp(name, interpreters[i].prefix, strlen(interpreters[i].prefix)) != 0) {
			continue;
		}
		inspect_add(rep, INSPECT_NOTE, NULL,
		            "note: %s loads modules later with dlopen(3)%s%s%s: inspect cannot see "
		            "what a script will load",
		            name, interpreters[i].tls != NULL ? " (" : "",
		            interpreters[i].tls != NULL ? interpreters[i].tls : "",
		            interpreters[i].tls != NULL ? ")" : "");
		return;
	}
}

static int inspect_elf(const char *path, const struct stat *st, struct inspect_report *rep)
{
	struct inspect_ctx ctx = {.rep = rep};
	struct policy_error err;
	struct elf_file elf;

	if (elf_open(&elf, path, &err) != 0) {
		inspect_error(rep, "%s", err.msg);
		return -1;
	}
	if (elf.type != ET_EXEC && elf.type != ET_DYN) {
		inspect_error(rep, "not an executable ELF file (type %u)", elf.type);
		elf_close(&elf);
		return -1;
	}
	inspect_add(rep, INSPECT_INFO, NULL, "program: %s: ELF %d-bit %s", path, elf.is64 ? 64 : 32,
	            elf.type == ET_EXEC ? "executable" : "position-independent executable");
	if (elf.is64 != INSPECT_IS64 || elf.machine != INSPECT_MACHINE) {
		inspect_add(
		    rep, INSPECT_NOT, "built for another architecture",
		    "machine: ELF %d-bit, machine %u: the shim (%s) cannot be loaded into it",
		    elf.is64 ? 64 : 32, elf.machine, INSPECT_PLATFORM);
		elf_close(&elf);
		return 0;
	}
	ctx.secure = check_secure(rep, path, st, false);
	if (elf.interp == NULL) {
		inspect_add(
		    rep, INSPECT_NOT, "statically linked",
		    "static: statically linked (no program interpreter): no loader runs, so "
		    "LD_PRELOAD has no effect");
		elf_close(&elf);
		return 0;
	}
	check_loader(rep, &elf, ctx.secure);
	if (elf.go_runtime) {
		inspect_add(rep, INSPECT_NOT, "Go program",
		            "go: the Go runtime makes its own system calls and does its own TLS: "
		            "the shim sees neither");
	}
	ctx.objs = calloc(INSPECT_MAX_OBJECTS, sizeof(*ctx.objs));
	if (ctx.objs == NULL) {
		inspect_error(rep, "out of memory");
		elf_close(&elf);
		return -1;
	}
	inspect_libraries(&ctx, path, &elf);
	note_interpreter(rep, path);
	free_ctx(&ctx);
	elf_close(&elf);
	return 0;
}

static int inspect_file(const char *path, struct inspect_report *rep, int depth);

/* #!INTERPRETER [ARG] (execve(2)): the kernel runs the interpreter, which is
 * what the loader sees. "#!/usr/bin/env NAME" runs NAME from PATH. */
static int inspect_script(const char *path, const struct stat *st, char *line,
                          struct inspect_report *rep, int depth)
{
	char *interp, *arg, *name, *save = NULL, found[PATH_MAX];

	line[strcspn(line, "\n")] = '\0';
	interp = strtok_r(line + 2, " \t", &save);
	arg = strtok_r(NULL, "", &save);
	if (interp == NULL) {
		inspect_error(rep, "script without an interpreter");
		return -1;
	}
	check_secure(rep, path, st, true);
	inspect_add(rep, INSPECT_INFO, NULL, "script: %s: interpreter %s%s%s", path, interp,
	            arg != NULL ? " " : "", arg != NULL ? arg : "");
	if (depth >= INSPECT_MAX_NESTING) {
		inspect_error(rep, "more than %d nested interpreters", INSPECT_MAX_NESTING);
		return -1;
	}
	if (strcmp(base_name(interp), "env") != 0 || arg == NULL) {
		return inspect_file(interp, rep, depth + 1);
	}
	/* env [-S] [-i] [NAME=VALUE]... COMMAND: the first other word runs. */
	for (name = strtok_r(arg, " \t", &save); name != NULL;
	     name = strtok_r(NULL, " \t", &save)) {
		if (name[0] != '-' && strchr(name, '=') == NULL) {
			break;
		}
	}
	if (name == NULL) {
		return inspect_file(interp, rep, depth + 1);
	}
	if (inspect_resolve_command(name, found, sizeof(found)) != 0) {
		inspect_error(rep, "%s runs %s, which is not found on PATH", interp, name);
		return -1;
	}
	inspect_add(rep, INSPECT_INFO, NULL, "script: %s runs %s", interp, found);
	return inspect_file(found, rep, depth + 1);
}

static int inspect_file(const char *path, struct inspect_report *rep, int depth)
{
	char head[INSPECT_SHEBANG_MAX + 1];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		inspect_error(rep, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		inspect_error(rep, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	n = pread(fd, head, INSPECT_SHEBANG_MAX, 0);
	close(fd);
	if (n < 0) {
		inspect_error(rep, "%s: %s", path, strerror(errno));
		return -1;
	}
	head[n] = '\0';
	if (n >= 2 && head[0] == '#' && head[1] == '!') {
		return inspect_script(path, &st, head, rep, depth);
	}
	if (!elf_has_magic((const unsigned char *)head, n)) {
		inspect_error(rep, "%s: not an ELF file or script", path);
		return -1;
	}
	if (inspect_elf(path, &st, rep) != 0) {
		char msg[INSPECT_TEXT_MAX];
		snprintf(msg, sizeof(msg), "%s", rep->error);
		inspect_error(rep, "%s: %s", path, msg);
		return -1;
	}
	return 0;
}

int inspect_one(const char *path, struct inspect_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	return inspect_file(path, rep, 0);
}

int inspect_program(const char *path, struct inspect_report *rep)
{
	if (inspect_one(path, rep) != 0) {
		return -1;
	}
	inspect_helpers(path, rep);
	return 0;
}
