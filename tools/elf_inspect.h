/*
 * Whether the shim can enforce a program: the analysis shared by
 * `tlsguard inspect` (a report) and `tlsguard run` (warnings before exec).
 * Reads the program's ELF headers and follows the loader's library search
 * (ld.so(8)) without running anything.
 */
#ifndef TLSGUARD_ELF_INSPECT_H
#define TLSGUARD_ELF_INSPECT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* Ordered: the verdict is the worst level of any finding. */
enum inspect_level {
	INSPECT_INFO,   /* a fact; enforcement is not affected */
	INSPECT_NOTE,   /* worth knowing; enforcement is not affected */
	INSPECT_PARTLY, /* sockets enforced, TLS validation not (tls.unmanaged decides) */
	INSPECT_NOT,    /* the shim is never loaded, or cannot see the calls */
};

#define INSPECT_MAX_FINDINGS 64
#define INSPECT_TEXT_MAX     512

struct inspect_finding {
	enum inspect_level level;
	char text[INSPECT_TEXT_MAX];
};

struct inspect_report {
	enum inspect_level verdict;
	char reason[INSPECT_TEXT_MAX]; /* the reasons of the worst level, "; "-joined */
	char governed[64];             /* the governed TLS libraries it loads, ", "-joined */
	size_t nfindings;
	struct inspect_finding findings[INSPECT_MAX_FINDINGS];
	char error[INSPECT_TEXT_MAX]; /* set when the program could not be analysed */
};

/* Finds a command as execvp(3) would: a name with '/' is taken as is, anything
 * else is searched on $PATH. Returns 0 with the path in out, 127 when there is
 * no such file, 126 when it exists but cannot be executed. */
int inspect_resolve_command(const char *name, char *out, size_t len);

/* Analyses the program at path (a script: its interpreter). Returns 0 with the
 * findings and the verdict in rep, or -1 with rep->error set ("not an ELF file
 * or script", "truncated ELF file: ..."). */
int inspect_program(const char *path, struct inspect_report *rep);

/* "enforceable", "partly enforceable" or "not enforceable". */
const char *inspect_verdict_name(enum inspect_level verdict);

#endif
