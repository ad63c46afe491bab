/*
 * Governed connections and the descriptor table that maps fds to them.
 *
 * The table is indexed by fd, allocated lazily in chunks, and read without a
 * lock: an untracked descriptor costs a load and a branch. A tracked descriptor
 * points to a reference-counted struct conn shared by every fd dup'ed from it.
 */
#ifndef TLSGUARD_CONN_H
#define TLSGUARD_CONN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lock.h"
#include "policy.h"
#include "stream.h"

#define CONN_HOST_MAX 256
/* A TLS 1.2 CBC close_notify with a SHA-384 MAC is 5 + 16 + 2 + 48 + 16 bytes. */
#define CONN_CLOSE_TAIL_MAX 128

struct conn {
	atomic_uint refs;  /* 0: free (conns are kept for reuse, see conn.c) */
	struct conn *next; /* the free list */
	struct lock lock;  /* serialises the stream state and the fields below */
	bool inbound;
	const struct policy_rule *rule;
	struct policy_addr peer;
	uint16_t port;            /* peer port */
	uint16_t local_port;      /* inbound: the listener's port */
	enum policy_proto proto;  /* tcp or udp, for the audit events */
	char host[CONN_HOST_MAX]; /* the name the program resolved for peer, or "" */
	struct stream stream;
	uint64_t stream_changes; /* how often stream moved on (shim/sock/decide_send.c) */
	bool blocked;            /* refused: every later I/O fails */
	void *ssl;               /* the SSL bound to this connection by the SSL layer, or NULL */
	bool tls_closed;         /* that SSL was shut down: no byte may follow on the socket */
	/* ...but the records libssl had left in a memory BIO by then (its
	 * close_notify among them), which the program still moves itself
	 * (python asyncio): exactly those bytes, once (shim/sock/decide_send.c). */
	uint8_t close_tail[CONN_CLOSE_TAIL_MAX];
	uint8_t close_tail_len;
	uint8_t close_tail_off;
	bool shim_own; /* the shim's own audit socket: the program gets EBADF */
	/* fd is the program's end of a tunnel (shim/tunnel/tunnel.h): its bytes
	 * are plaintext by design, never classified; one reference is held */
	struct tunnel *tunnel;
	/* fd is a tunnel's TCP socket, which the shim writes in program threads
	 * too (shim/tunnel/direct.c): write() goes as send(MSG_NOSIGNAL), a
	 * peer's reset never raises SIGPIPE in the program */
	bool nosignal;
	dev_t dev; /* identity of the socket, to recognise a stale entry */
	ino_t ino;
};

struct tunnel;
/* Set once by shim/tunnel: drops a conn's reference to its tunnel when the
 * conn is freed (core/ does not call up into tunnel/). */
extern void (*_Atomic conn_tunnel_drop)(struct tunnel *t);

/* The conn of fd with a reference taken, or NULL when fd is untracked. */
struct conn *conn_acquire(int fd);
void conn_release(struct conn *c);

/* Registers the table's fork handlers (once). A layer whose lock is held
 * while it calls into the table registers its own handlers after this, so
 * that fork takes its lock first (prepare handlers run in reverse order). */
void conn_register_fork_handlers(void);

/* Marks fd as the shim's own (the audit socket): every read, write or send
 * the program makes on it fails with EBADF, as on a descriptor it never
 * opened. -1 when the table cannot hold it. */
int conn_reserve_fd(int fd);
/* Before the shim closes its own descriptor. */
void conn_unreserve_fd(int fd);

/* Marks c refused and shuts the socket both ways (real shutdown). */
void conn_refuse(struct conn *c, int fd);

/* The TLS layer's seam (tls/): the fields above that describe c's TLS
 * session are written only through these, under c->lock. session (the SSL,
 * or another library's session object) now carries c's TLS. */
void conn_tls_bind(struct conn *c, void *session);
/* session was shut down (close_notify sent). If it is c's, no byte may follow
 * on the socket but tail: the len bytes of records that a memory BIO still
 * held then, which the program moves itself. Longer than
 * CONN_CLOSE_TAIL_MAX: none pass. */
void conn_tls_closed(struct conn *c, const void *session, const void *tail, size_t len);

#endif
