/*
 * The descriptor table: fd -> governed connection.
 *
 * Reads on the hot path are lock-free (two acquire loads), and so is taking a
 * reference for the slow path: every I/O call on a governed socket does, so a
 * lock there would serialise all the threads of a server. Conns are
 * type-stable: one whose last reference goes is kept on a free list for reuse,
 * never returned to malloc, so a reader that loaded a pointer from the table
 * just before the conn was released still reads valid memory. It takes a
 * reference only while the count is not zero, then checks that the table
 * still holds that conn for its descriptor, and otherwise lets go. Changes to
 * the table happen under one table lock. Chunks of the table are allocated
 * lazily, so a fork copies only the pages of descriptors in use.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "conn_internal.h"
#include "shim.h"
#include "bind/real.h"

_Atomic(struct conn *) *_Atomic fdt_chunks[FDT_CHUNKS];
_Atomic unsigned char fdt_flags[FDT_MAX];
SHIM_STARTUP_DATA atomic_bool fdt_in_use; /* read at exit (stdio.c) */

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t free_lock = PTHREAD_MUTEX_INITIALIZER; /* after table_lock */
static struct conn *free_conns;
static pthread_once_t fork_handlers_once = PTHREAD_ONCE_INIT;
static void register_fork_handlers(void);

struct conn *conn_acquire(int fd)
{
	struct conn *c;
	unsigned refs;

	while ((c = fdt_peek(fd)) != NULL) {
		refs = atomic_load_explicit(&c->refs, memory_order_relaxed);
		while (refs != 0 &&
		       !atomic_compare_exchange_weak_explicit(
		           &c->refs, &refs, refs + 1, memory_order_acquire, memory_order_relaxed)) {
		}
		if (refs != 0) {
			if (fdt_peek(fd) == c) {
				return c;
			}
			conn_release(c); /* reused for another descriptor meanwhile */
		}
	}
	return NULL;
}

void (*_Atomic conn_tunnel_drop)(struct tunnel *t);

void conn_release(struct conn *c)
{
	void (*drop)(struct tunnel *);

	if (c == NULL || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1) {
		return;
	}
	if (c->tunnel != NULL) {
		drop = atomic_load_explicit(&conn_tunnel_drop, memory_order_acquire);
		if (drop != NULL) {
			drop(c->tunnel);
		}
		c->tunnel = NULL;
	}
	pthread_mutex_lock(&free_lock);
	c->next = free_conns;
	free_conns = c;
	pthread_mutex_unlock(&free_lock);
}

/* The slot of fd, allocating its chunk; NULL when fd is out of range or memory
 * is short. Called with the table lock held. */
static _Atomic(struct conn *) *slot_of(int fd)
{
	_Atomic(struct conn *) *chunk;

	if (fd < 0 || fd >= FDT_MAX) {
		return NULL;
	}
	chunk = atomic_load_explicit(&fdt_chunks[fd >> FDT_CHUNK_BITS], memory_order_acquire);
	if (chunk == NULL) {
		chunk = calloc(FDT_CHUNK_SIZE, sizeof(*chunk));
		if (chunk == NULL) {
			return NULL;
		}
		atomic_store_explicit(&fdt_chunks[fd >> FDT_CHUNK_BITS], chunk,
		                      memory_order_release);
		atomic_store_explicit(&fdt_in_use, true, memory_order_release);
	}
	return &chunk[fd & (FDT_CHUNK_SIZE - 1)];
}

/* The slot of fd if its chunk exists; never allocates. */
static _Atomic(struct conn *) *existing_slot(int fd)
{
	_Atomic(struct conn *) *chunk;

	if (fd < 0 || fd >= FDT_MAX) {
		return NULL;
	}
	chunk = atomic_load_explicit(&fdt_chunks[fd >> FDT_CHUNK_BITS], memory_order_acquire);
	return chunk != NULL ? &chunk[fd & (FDT_CHUNK_SIZE - 1)] : NULL;
}

int fdt_set(int fd, struct conn *c)
{
	_Atomic(struct conn *) *slot;
	struct conn *old;

	/* The fork handlers only once there is a table to protect: a process that
	 * never governs a descriptor (a shell) forks without them, and without
	 * their copy-on-write faults. Registered outside the table lock, which the
	 * prepare handler takes. */
	if (c != NULL) {
		conn_register_fork_handlers();
	}
	pthread_mutex_lock(&table_lock);
	slot = c != NULL ? slot_of(fd) : existing_slot(fd);
	if (slot == NULL) {
		pthread_mutex_unlock(&table_lock);
		return c != NULL ? -1 : 0;
	}
	if (c != NULL) {
		atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
	}
	old = atomic_exchange_explicit(slot, c, memory_order_acq_rel);
	atomic_store_explicit(&fdt_flags[fd],
	                      c == NULL           ? 0
	                      : c->tunnel != NULL ? FDT_GOVERNED | FDT_TUNNEL
	                                          : FDT_GOVERNED,
	                      memory_order_release);
	pthread_mutex_unlock(&table_lock);
	conn_release(old);
	return 0;
}

void fdt_clear(int fd)
{
	if (fdt_peek(fd) != NULL) {
		fdt_set(fd, NULL);
	}
}

void fdt_clear_range(unsigned int first, unsigned int last)
{
	unsigned int fd;

	if (last >= FDT_MAX) {
		last = FDT_MAX - 1;
	}
	for (fd = first; fd <= last && fd >= first; fd++) {
		if (fdt_chunks[fd >> FDT_CHUNK_BITS] == NULL) {
			fd |= FDT_CHUNK_SIZE - 1; /* skip the whole empty chunk */
			continue;
		}
		fdt_clear((int)fd);
	}
}

void fdt_copy(int from, int to)
{
	struct conn *c = conn_acquire(from);

	if (c == NULL) {
		fdt_clear(to);
		return;
	}
	if (fdt_set(to, c) < 0) {
		/* Cannot follow the copy: the new descriptor would carry the
		 * connection unenforced. Refuse it instead. */
		real()->shutdown(to, SHUT_RDWR);
	}
	conn_release(c);
}

struct conn *conn_new(bool inbound, const struct policy_rule *rule)
{
	struct conn *c;

	conn_register_fork_handlers(); /* free_lock */
	pthread_mutex_lock(&free_lock);
	c = free_conns;
	if (c != NULL) {
		free_conns = c->next;
	}
	pthread_mutex_unlock(&free_lock);
	if (c == NULL && (c = calloc(1, sizeof(*c))) == NULL) {
		return NULL;
	}
	/* Everything but refs, which a reader holding an old pointer may be
	 * reading (it stays 0, so no reader can take this conn yet). */
	memset((char *)c + sizeof(c->refs), 0, sizeof(*c) - sizeof(c->refs));
	lock_reset(&c->lock);
	c->inbound = inbound;
	c->rule = rule;
	stream_init(&c->stream, rule != NULL ? rule->starttls : POLICY_STARTTLS_NONE, inbound);
	atomic_store_explicit(&c->refs, 1, memory_order_release); /* the caller's */
	return c;
}

int conn_identify(struct conn *c, int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		return -1;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	return 0;
}

bool conn_is_stale(const struct conn *c, int fd)
{
	struct stat st;

	return fstat(fd, &st) < 0 || st.st_dev != c->dev || st.st_ino != c->ino;
}

/* The rule of the shim's own descriptors: nothing of the program's moves. */
static const struct policy_rule shim_own_rule = {
    .index = POLICY_RULE_DEFAULT,
    .action = POLICY_ACTION_DENY,
};

int conn_reserve_fd(int fd)
{
	struct conn *c = conn_new(false, &shim_own_rule);
	int rc = -1;

	if (c == NULL) {
		return -1;
	}
	c->blocked = true;
	c->shim_own = true;
	if (conn_identify(c, fd) == 0) {
		rc = fdt_set(fd, c);
	}
	conn_release(c);
	return rc;
}

void conn_unreserve_fd(int fd)
{
	fdt_clear(fd);
}

void conn_refuse(struct conn *c, int fd)
{
	lock_take(&c->lock);
	c->blocked = true;
	lock_give(&c->lock);
	real()->shutdown(fd, SHUT_RDWR);
}

/* fork: no lock may be held across it, or the child deadlocks. The child has one
 * thread: locks of conns that another parent thread held are re-made. */
void conn_tls_bind(struct conn *c, void *session)
{
	lock_take(&c->lock);
	c->ssl = session;
	lock_give(&c->lock);
}

void conn_tls_closed(struct conn *c, const void *session, const void *tail, size_t len)
{
	lock_take(&c->lock);
	c->tls_closed = c->ssl == session;
	c->close_tail_len = 0;
	c->close_tail_off = 0;
	if (c->tls_closed && tail != NULL && len > 0 && len <= CONN_CLOSE_TAIL_MAX) {
		memcpy(c->close_tail, tail, len);
		c->close_tail_len = (uint8_t)len;
	}
	lock_give(&c->lock);
}

static void before_fork(void)
{
	pthread_mutex_lock(&table_lock);
	pthread_mutex_lock(&free_lock);
}

static void after_fork_parent(void)
{
	pthread_mutex_unlock(&free_lock);
	pthread_mutex_unlock(&table_lock);
}

static void after_fork_child(void)
{
	unsigned int i, j;
	struct conn *c;

	for (i = 0; i < FDT_CHUNKS; i++) {
		if (fdt_chunks[i] == NULL) {
			continue;
		}
		for (j = 0; j < FDT_CHUNK_SIZE; j++) {
			c = atomic_load_explicit(&fdt_chunks[i][j], memory_order_relaxed);
			if (c != NULL) {
				lock_reset(&c->lock);
			}
		}
	}
	pthread_mutex_init(&free_lock, NULL);
	pthread_mutex_init(&table_lock, NULL);
}

static void register_fork_handlers(void)
{
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

void conn_register_fork_handlers(void)
{
	pthread_once(&fork_handlers_once, register_fork_handlers);
}
