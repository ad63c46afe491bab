/*
 * The libraries of a program, as the loader would load them: follow DT_NEEDED
 * transitively through the loader's search (elf_search.c), name every TLS
 * library the shim does not govern (it governs the system's OpenSSL 3,
 * libssl.so.3, and GnuTLS 3, libgnutls.so.30, and no other soname of either),
 * and any OpenSSL or GnuTLS built into an object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_inspect_internal.h"
#include "elf_read.h"

/* The TLS libraries the shim governs: their handshakes are its own. */
#define GOVERNED_OPENSSL "libssl.so.3"
#define GOVERNED_GNUTLS  "libgnutls.so.30"

/* Libraries of the GnuTLS project that do their TLS through libgnutls.so.30
 * (they need it themselves): DANE, the C++ API, the OpenSSL compatibility
 * layer. Whatever TLS they do is a libgnutls.so.30 session. */
static const char *const gnutls_layers[] = {
    "libgnutls-dane.so.",
    "libgnutlsxx.so.",
    "libgnutls-openssl.so.",
};

/* TLS libraries the shim does not govern: it cannot see their handshakes. */
static const struct {
	const char *prefix;
	const char *what;
} foreign_tls[] = {
    {"libnss3.so", "NSS"},
    {"libssl3.so", "NSS"},
    {"libmbedtls", "Mbed TLS"},
    {"libwolfssl", "wolfSSL"},
    {"libtls.so", "LibreSSL libtls"},
    {"libbearssl", "BearSSL"},
    {"libs2n.so", "s2n-tls"},
    {"libmatrixssl", "MatrixSSL"},
};

/* Functions only a TLS implementation of the OpenSSL family defines. */
static const char *const openssl_tls_symbols[] = {
    "SSL_CTX_new",
    "SSL_new",
    "SSL_do_handshake",
    "OPENSSL_init_ssl",
};

/* Functions only GnuTLS itself defines. */
static const char *const gnutls_tls_symbols[] = {
    "gnutls_handshake",
    "gnutls_init",
};

/* --- what each library means ------------------------------------------------- */

static bool is_gnutls_layer(const char *soname)
{
	size_t i;

	for (i = 0; i < sizeof(gnutls_layers) / sizeof(gnutls_layers[0]); i++) {
		if (strncmp(soname, gnutls_layers[i], strlen(gnutls_layers[i])) == 0) {
			return true;
		}
	}
	return false;
}

static bool is_governed(const char *soname)
{
	return strcmp(soname, GOVERNED_OPENSSL) == 0 || strcmp(soname, GOVERNED_GNUTLS) == 0;
}

static const char *foreign_tls_name(const char *soname)
{
	size_t i;

	if (strncmp(soname, "libssl.so", 9) == 0 && strcmp(soname, GOVERNED_OPENSSL) != 0) {
		return "an OpenSSL other than " GOVERNED_OPENSSL;
	}
	if (strncmp(soname, "libgnutls.so", 12) == 0 && strcmp(soname, GOVERNED_GNUTLS) != 0) {
		return "a GnuTLS other than " GOVERNED_GNUTLS;
	}
	for (i = 0; i < sizeof(foreign_tls) / sizeof(foreign_tls[0]); i++) {
		if (strncmp(soname, foreign_tls[i].prefix, strlen(foreign_tls[i].prefix)) == 0) {
			return foreign_tls[i].what;
		}
	}
	return NULL;
}

/* OpenSSL or GnuTLS built into an object (node, or a library linking one
 * statically): its handshakes never reach the system library the shim
 * watches. */
static void check_bundled(struct inspect_report *rep, const struct elf_file *elf, const char *name)
{
	size_t i;

	if (strncmp(name, "libssl.so", 9) == 0 || strncmp(name, "libcrypto.so", 12) == 0 ||
	    strncmp(name, "libgnutls.so", 12) == 0 || is_gnutls_layer(name) ||
	    foreign_tls_name(name) != NULL) {
		return;
	}
	for (i = 0; i < sizeof(gnutls_tls_symbols) / sizeof(gnutls_tls_symbols[0]); i++) {
		if (elf_defines(elf, gnutls_tls_symbols[i])) {
			inspect_add(
			    rep, INSPECT_PARTLY, "bundles its own GnuTLS",
			    "bundled: %s defines %s itself: a built-in GnuTLS the shim cannot "
			    "validate; its TLS follows tls.unmanaged",
			    name, gnutls_tls_symbols[i]);
			return;
		}
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
		    strcmp(inspect_base_name(ctx->objs[i].path), name) == 0) {
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
	obj->found =
	    parent < 0 || inspect_search_library(ctx, parent, name, obj->path, sizeof(obj->path));
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
	check_bundled(ctx->rep, elf, i == 0 ? inspect_base_name(obj->path) : obj->name);
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

static bool reaches_governed(const struct inspect_ctx *ctx)
{
	size_t i;

	for (i = 1; i < ctx->nobjs; i++) {
		if (ctx->objs[i].found && is_governed(ctx->objs[i].name)) {
			return true;
		}
	}
	return false;
}

/* One line per TLS library and per missing library. A foreign TLS library the
 * program needs itself (or the only TLS library it has) carries its TLS: partly
 * enforceable. One that only another library needs beside a governed one (a
 * library's NSS beside the program's libssl.so.3) is noted. */
static void report_libraries(struct inspect_ctx *ctx)
{
	bool governed = reaches_governed(ctx);
	char reason[INSPECT_TEXT_MAX], via[NAME_MAX + 32];
	size_t i;

	for (i = 1; i < ctx->nobjs; i++) {
		const struct inspect_obj *obj = &ctx->objs[i];
		if (obj->found && is_governed(obj->name)) {
			size_t used = strlen(ctx->rep->governed);
			snprintf(ctx->rep->governed + used, sizeof(ctx->rep->governed) - used,
			         "%s%s", used ? ", " : "", obj->name);
		}
		via[0] = '\0';
		if (obj->parent > 0) {
			snprintf(via, sizeof(via), " (needed by %.*s)", NAME_MAX,
			         ctx->objs[obj->parent].name);
		}
		if (!obj->found) {
			inspect_add(ctx->rep, INSPECT_NOTE, NULL,
			            "library: %s%s: not found: the program may not start",
			            obj->name, via);
		} else if (strcmp(obj->name, GOVERNED_OPENSSL) == 0) {
			inspect_add(
			    ctx->rep, INSPECT_INFO, NULL,
			    "library: %s => %s%s: the system OpenSSL 3: the shim validates its TLS",
			    obj->name, obj->path, via);
		} else if (strcmp(obj->name, GOVERNED_GNUTLS) == 0) {
			inspect_add(
			    ctx->rep, INSPECT_INFO, NULL,
			    "library: %s => %s%s: the system GnuTLS 3: the shim validates its TLS",
			    obj->name, obj->path, via);
		} else if (is_gnutls_layer(obj->name)) {
			inspect_add(ctx->rep, INSPECT_INFO, NULL,
			            "library: %s => %s%s: part of GnuTLS: its TLS goes through "
			            "%s",
			            obj->name, obj->path, via, GOVERNED_GNUTLS);
		} else if (obj->tls_what != NULL && (obj->parent == 0 || !governed)) {
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

void inspect_libraries(struct inspect_ctx *ctx, const char *path, const struct elf_file *elf)
{
	struct inspect_obj *prog = &ctx->objs[0];
	size_t i;

	inspect_search_dirs_init(ctx);
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

void inspect_ctx_free(struct inspect_ctx *ctx)
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
