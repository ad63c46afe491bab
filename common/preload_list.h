/*
 * LD_PRELOAD's value as a list: the loader separates its entries with spaces
 * or colons (ld.so(8)), and empty entries are skipped. One reader for the
 * shim (does a child's LD_PRELOAD still load it?) and the CLI (tlsguard run
 * puts the shim first). Pure: pointers into the caller's text, no copy.
 */
#ifndef TLSGUARD_PRELOAD_LIST_H
#define TLSGUARD_PRELOAD_LIST_H

#include <stdbool.h>
#include <stddef.h>

/* The next non-empty entry of the list at *cursor: *entry points at its first
 * byte (not NUL-terminated), *len is its length, and *cursor moves past it.
 * False, at the end of the list (or when *cursor is NULL). */
bool preload_list_next(const char **cursor, const char **entry, size_t *len);

#endif
