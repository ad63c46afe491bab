/*
 * The dynamic loader's search, as tlsguard inspect follows it (ld.so(8)):
 * finding a command in $PATH (execvp(3)), expanding $ORIGIN, $LIB and
 * $PLATFORM, DT_RPATH, LD_LIBRARY_PATH, DT_RUNPATH, ld.so.conf(5) and the
 * default directories. No library offers this: it is the loader's own logic.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_inspect_internal.h"
#include "elf_read.h"

/* Where the loader looks when nothing else names a directory (ld.so(8)). */
static const char *const default_dirs[] = {
    "/lib/" INSPECT_MULTIARCH, "/usr/lib/" INSPECT_MULTIARCH, "/lib64", "/usr/lib", "/lib",
};

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
bool inspect_search_library(const struct inspect_ctx *ctx, int parent, const char *name, char *out,
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

void inspect_search_dirs_init(struct inspect_ctx *ctx)
{
	size_t i;

	read_ldso_conf(ctx, INSPECT_LDSO_CONF, 0);
	for (i = 0; i < sizeof(default_dirs) / sizeof(default_dirs[0]); i++) {
		add_dir(ctx, default_dirs[i]);
	}
}

const char *inspect_base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash != NULL ? slash + 1 : path;
}
