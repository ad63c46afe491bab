/*
 * Whether the shim can enforce a program. The shim only exists in a process
 * when the dynamic loader preloads it (ld.so(8), LD_PRELOAD), and only
 * validates TLS done through the system's OpenSSL 3 (libssl.so.3) and GnuTLS 3
 * (libgnutls.so.30). So: follow #! to the real program, read its ELF headers,
 * refuse what the loader will not preload into (static, secure execution,
 * another loader or architecture), then follow the loader's library search
 * transitively and name every TLS library that is neither, and any OpenSSL or
 * GnuTLS built into an object. This file:
 * one program (#!, ELF header, loader, secure execution); the library walk is
 * inspect_libraries.c, the loader's search elf_search.c.
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
    {"guile", "guile-gnutls loads libgnutls.so.30"},
    {"Rscript", NULL},
    {"java", NULL},
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
	if (strncmp(inspect_base_name(elf->interp), "ld-linux", 8) == 0) {
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

/* Run-times that do TLS in their own code, with neither libssl.so.3 nor
 * libgnutls.so.30: the shim sees their sockets, not their handshakes. */
static const struct {
	const char *name;
	const char *reason;
	const char *text;
} own_tls_runtimes[] = {
    {"java", "TLS inside the JVM (JSSE) is not validated",
     "java: the JVM does its TLS itself (JSSE), through neither libssl.so.3 nor "
     "libgnutls.so.30: the shim cannot validate it; its TLS follows tls.unmanaged"},
};

static void note_interpreter(struct inspect_report *rep, const char *path)
{
	const char *name = inspect_base_name(path);
	size_t i;

	for (i = 0; i < sizeof(own_tls_runtimes) / sizeof(own_tls_runtimes[0]); i++) {
		if (strcmp(name, own_tls_runtimes[i].name) == 0) {
			inspect_add(rep, INSPECT_PARTLY, own_tls_runtimes[i].reason, "%s",
			            own_tls_runtimes[i].text);
		}
	}

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
	inspect_ctx_free(&ctx);
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
	if (strcmp(inspect_base_name(interp), "env") != 0 || arg == NULL) {
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
