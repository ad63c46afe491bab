/*
 * Private to the inspect analysis (elf_inspect.c, inspect_helpers.c).
 */
#ifndef TLSGUARD_ELF_INSPECT_INTERNAL_H
#define TLSGUARD_ELF_INSPECT_INTERNAL_H

#include "elf_inspect.h"

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
