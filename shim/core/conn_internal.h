/*
 * The socket layer's private view of the descriptor table (shim/core/conn.c).
 */
#ifndef TLSGUARD_CONN_INTERNAL_H
#define TLSGUARD_CONN_INTERNAL_H

#include <stdatomic.h>

#include "conn.h"

#define FDT_CHUNK_BITS 10
#define FDT_CHUNK_SIZE (1 << FDT_CHUNK_BITS)
#define FDT_MAX        (1 << 20) /* the kernel's default nr_open */
#define FDT_CHUNKS     (FDT_MAX >> FDT_CHUNK_BITS)

extern _Atomic(struct conn *) *_Atomic fdt_chunks[FDT_CHUNKS];
/* One byte per descriptor, set while it is governed: the hot path's only read.
 * Never-touched pages are the kernel's shared zero page, so the map costs no
 * memory (and no copy at fork) beyond the pages of descriptors in use. */
extern _Atomic unsigned char fdt_flags[FDT_MAX];
#define FDT_GOVERNED 1
#define FDT_TUNNEL   2 /* and the conn is a tunnel's program descriptor */
/* Set once the first chunk exists: before that no descriptor was ever governed,
 * and nothing needs to walk the table. */
extern atomic_bool fdt_in_use;

/* The hot path of every wrapper: is fd governed? A mask, a load, a branch. A
 * number at or beyond FDT_MAX (or negative) reads some other descriptor's byte:
 * such a number is never governed (fdt_set refuses it), and a wrong "yes" only
 * sends the call down the slow path, which looks fd up exactly. */
static inline bool fdt_governed(int fd)
{
	return atomic_load_explicit(&fdt_flags[(unsigned int)fd & (FDT_MAX - 1)],
	                            memory_order_relaxed);
}

/* Whether fd is a tunnel's program descriptor, as a hint the same way: "yes"
 * is checked on the conn (conn_acquire), "no" sends a call the ordinary way,
 * which is right for a tunnel too (shim/tunnel/direct.c). */
static inline bool fdt_tunnel(int fd)
{
	return (atomic_load_explicit(&fdt_flags[(unsigned int)fd & (FDT_MAX - 1)],
	                             memory_order_relaxed) &
	        FDT_TUNNEL) != 0;
}

/* The conn of fd without a reference (a lock-free read of the table): only to
 * test for one; the pointer may only be dereferenced through conn_acquire. */
static inline struct conn *fdt_peek(int fd)
{
	_Atomic(struct conn *) *chunk;

	if ((unsigned int)fd >= FDT_MAX) {
		return NULL;
	}
	chunk = atomic_load_explicit(&fdt_chunks[(unsigned int)fd >> FDT_CHUNK_BITS],
	                             memory_order_acquire);
	if (chunk == NULL) {
		return NULL;
	}
	return atomic_load_explicit(&chunk[fd & (FDT_CHUNK_SIZE - 1)], memory_order_acquire);
}

/* A new conn; the caller holds its one reference (conn_release when done). */
struct conn *conn_new(bool inbound, const struct policy_rule *rule);
/* Records fd's identity (st_dev/st_ino) in c. */
int conn_identify(struct conn *c, int fd);
/* True when fd is no longer the socket c was made for (closed behind our back
 * and its number reused by a call the shim does not see). */
bool conn_is_stale(const struct conn *c, int fd);

/* Points fd at c (c == NULL: untracks fd). -1 when fd is beyond the table or
 * memory is short: the caller must refuse the connection. */
int fdt_set(int fd, struct conn *c);
void fdt_clear(int fd);
void fdt_clear_range(unsigned int first, unsigned int last);
/* dup: to shares from's connection (or is cleared when from is untracked). */
void fdt_copy(int from, int to);

#endif
