/*
 * Environment lookup without libc: the value of NAME in an environment block,
 * and string equality. The shim reads its start-up variables with these in
 * every process (a constructor, before main) and builds a child's environment
 * with them in a shell's forked child on its way to exec; there every libc
 * function called for the first time costs a lazy symbol lookup and
 * copy-on-write page faults. Static inline, so the code sits beside its caller
 * and touches no other page of text.
 */
#ifndef TLSGUARD_ENVSCAN_H
#define TLSGUARD_ENVSCAN_H

#include <stdbool.h>
#include <stddef.h>

/* The value of entry when it reads "name=value" (name without its '='), else
 * NULL. */
static inline const char *envscan_entry_value(const char *entry, const char *name)
{
	while (*name != '\0' && *entry == *name) {
		entry++;
		name++;
	}
	return *name == '\0' && *entry == '=' ? entry + 1 : NULL;
}

/* The value of the first "name=..." entry of envp (NULL-terminated, or NULL
 * itself), as getenv(3) would find it; NULL when there is none. */
static inline const char *envscan_value(char *const envp[], const char *name)
{
	const char *value;

	for (; envp != NULL && *envp != NULL; envp++) {
		if ((value = envscan_entry_value(*envp, name)) != NULL) {
			return value;
		}
	}
	return NULL;
}

/* Equal strings, or both NULL (an unset variable equals only another). */
static inline bool envscan_same(const char *a, const char *b)
{
	if (a == b) {
		return true;
	}
	if (a == NULL || b == NULL) {
		return false;
	}
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

#endif
