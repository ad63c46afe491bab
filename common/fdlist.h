/*
 * TLSGUARD_FDS, the governed sockets an exec'ed image inherits, named by what
 * survives dup2, posix_spawn file actions and exec: the socket itself, not its
 * descriptor number (common/fdlist.c). Pure text in and out: no system call.
 */
#ifndef TLSGUARD_FDLIST_H
#define TLSGUARD_FDLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest list a parent writes (the child's start-up snapshot keeps 4096
 * bytes with the NUL). */
#define FDLIST_MAX 4095

/* How a socket is named: its SO_COOKIE (socket(7), Linux 4.12: unique per
 * socket for the life of the system), or, on a kernel without it, its sockfs
 * inode number (st_ino, unique among the sockets alive). */
enum fdlist_kind {
	FDLIST_COOKIE = 'c',
	FDLIST_INODE = 'n',
};

struct fdlist_entry {
	enum fdlist_kind kind;
	uint64_t id;
	bool inbound;
};

/* Writes the n entries to out (len bytes, NUL included) as
 * "c1f:o,c2a:i" (kind, id in hex, direction). When they do not all fit, the
 * list ends with "*": the child then decides every other socket it inherited
 * from its addresses. Returns how many entries were written. */
size_t fdlist_encode(char *out, size_t len, const struct fdlist_entry *e, size_t n);

/* Reads text into at most max entries; *more is set when the list ends with
 * "*" or holds more than max entries. Returns the count, or -1 when the text
 * is not such a list (the caller must then decide every inherited socket from
 * its addresses: a list it cannot read never means "nothing is governed"). */
int fdlist_decode(const char *text, struct fdlist_entry *out, size_t max, bool *more);

/* The entry naming (kind, id), or NULL. */
const struct fdlist_entry *fdlist_find(const struct fdlist_entry *e, size_t n,
                                       enum fdlist_kind kind, uint64_t id);

#endif
