/*
 * The tunnel's state, shared by the files of shim/tunnel/ (see tunnel.h).
 */
#ifndef TLSGUARD_TUNNEL_INTERNAL_H
#define TLSGUARD_TUNNEL_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "bind/tunnel_ssl.h"
#include "tunnel.h"

enum tunnel_state {
	TUNNEL_CONNECTING, /* the TCP connect is under way */
	TUNNEL_HANDSHAKE,  /* STARTTLS and the TLS handshake */
	TUNNEL_OPEN,       /* bytes move */
	TUNNEL_REFUSED,    /* refused or failed before any program byte left */
	TUNNEL_CLOSED,     /* ended after it was open */
};

/* What every process that holds the program's descriptor must see: a shared
 * anonymous mapping, so that a forked child reads the state its parent's pump
 * writes (and waits on it with a futex). */
struct tunnel_shared {
	_Atomic int state;       /* enum tunnel_state */
	_Atomic int error;       /* the errno of a refusal */
	_Atomic int progress;    /* bumped (and woken) when the pump has sent bytes */
	_Atomic bool tx_pending; /* the pump holds bytes of the program not sent yet */
	/* The program's writes into the pair, begun and finished, and whether
	 * anything the shim does not count may write there too (another
	 * process, sendfile, AIO): the direct path's order (direct.c). */
	_Atomic unsigned writes_begun, writes_done;
	_Atomic bool pair_shared;
	/* The program shut the descriptor down (either way): from then on the
	 * pair carries every byte, and the kernel answers a write after SHUT_WR
	 * (EPIPE) and a read after SHUT_RD as it would on the socket. */
	_Atomic bool pair_only;
	struct sockaddr_storage peer, local;
	socklen_t peer_len, local_len;
};

struct tunnel {
	atomic_uint refs; /* the pump's, and one per conn of a program descriptor */
	struct tunnel_shared *sh;
	unsigned sh_gen;      /* sh's generation (shared.c) */
	_Atomic int tcp;      /* the real socket (hidden, close-on-exec), or -1 */
	_Atomic int pump_end; /* the pump's end of the pair (close-on-exec), or -1 */
	_Atomic int kick;     /* an eventfd that wakes the pump (direct.c), or -1 */
	int prog_fd;          /* the program's descriptor when made */
	bool inbound;
	atomic_bool pumped; /* a pump for it runs in this process */
	pid_t owner;        /* the process whose pump serves it */
	const struct policy_rule *rule;
	struct policy_addr peer_addr;
	uint16_t peer_port;
	uint16_t local_port;
	char host[CONN_HOST_MAX];
	void *pump;           /* the pump's state (pump.c) */
	pthread_mutex_t lock; /* held by the pump while it works (not while it
	                       * waits): fork and the exec keeper take it */
	struct tunnel *next;  /* every tunnel of the process (tunnel.c) */
	/* Under lock: program threads waiting in a direct read for the peer's
	 * bytes, and whether the pump stopped watching the TCP socket for them
	 * (it must be kicked when the last one leaves). */
	unsigned direct_readers;
	bool tcp_parked;
};

/* tunnel.c */
void tunnel_ref(struct tunnel *t);
void tunnel_unref(struct tunnel *t);
/* Records the outcome and wakes whoever waits for it. */
void tunnel_set_state(struct tunnel *t, enum tunnel_state state, int error);
/* Waits until the handshake has an outcome (OPEN, REFUSED or CLOSED), at most
 * ms milliseconds (-1: as long as it takes); the state then. */
int tunnel_wait_outcome(struct tunnel *t, int ms);
/* How long getsockopt(SO_ERROR) waits for a handshake under way: a
 * non-blocking program asks once the descriptor looks writable (the pair is
 * at once), and its event loop must not stall on an unreachable peer. Still
 * pending then: 0, and a later refusal fails the next call. */
#define TUNNEL_SO_ERROR_WAIT_MS 2000
/* How long an exec waits for a handshake under way before the keeper takes
 * the tunnels; one still pending then ends with the exec. */
#define TUNNEL_EXEC_WAIT_MS 5000
/* The pump has sent the program's bytes it held: wakes tunnel_drain. */
void tunnel_progress(struct tunnel *t);

/* The tunnel of a program descriptor with a reference taken, or NULL. */
struct tunnel *tunnel_of_fd(int fd);
/* Audit event=upgrade for a refusal the tunnel itself decides. */
void tunnel_report(const struct tunnel *t, const char *reason, const char *detail);

/* Read-held by every pump whenever it works (with its tunnel's lock: see
 * tunnel_hold), and while libcrypto releases a pump thread's state (which
 * takes libcrypto's own locks); write-held by fork and by the exec keeper's
 * maker, which so find every pump where it waits, no libcrypto lock held by
 * one. Writers go first: a busy pump cannot keep fork waiting. */
extern pthread_rwlock_t tunnel_work_lock;
/* The pump takes and gives back its right to work. */
void tunnel_hold(struct tunnel *t);
void tunnel_release(struct tunnel *t);
/* tunnel_hold when nobody works on t (or waits to fork): false at once
 * otherwise. A direct read's way in: when the pump is busy, the pair
 * carries the read, and neither waits for the other. */
bool tunnel_try_hold(struct tunnel *t);

/* Set while the exec keeper is forked: its child keeps the descriptors. */
extern bool tunnel_forking_keeper;
/* The tunnels whose pump runs in this process, a reference taken on each. */
size_t tunnel_collect_owned(struct tunnel **out, size_t max);
/* A tunnel named by an exec'ed parent (its pump runs elsewhere): open, with
 * these addresses; the caller's reference. */
struct tunnel *tunnel_adopted(bool inbound, const struct sockaddr_storage *peer, socklen_t peer_len,
                              const struct sockaddr_storage *local, socklen_t local_len);

/* shared.c: a zeroed slot of shared memory for a tunnel's state (its
 * generation in *gen), or NULL; giving it back; the fork handlers. */
struct tunnel_shared *tunnel_shared_new(unsigned *gen);
void tunnel_shared_free(struct tunnel_shared *sh, unsigned gen);
void tunnel_shared_before_fork(void);
void tunnel_shared_after_fork(bool child);

/* pump.c: the thread; starts it (0) or -1. handshake_here: the calling
 * thread (a program's blocking connect, which waits for the outcome anyway)
 * makes the handshake itself first, with no hand-over to the pump and back
 * on the way to the first byte; the thread then only moves bytes. */
int tunnel_pump_start(struct tunnel *t, bool handshake_here);
/* In the keeper: a new thread carries on t's pump where the exec'ing
 * process's stood (its state is in t->pump). live is decremented (and woken)
 * when it ends. 0 or -1. */
int tunnel_pump_resume(struct tunnel *t, _Atomic int *live);

/* ctx.c: the SSL_CTX for rule (made once per rule), or NULL with a reason. */
SSL_CTX *tunnel_ctx(const struct ssl_fns *f, const struct tunnel_ssl_fns *tf,
                    const struct policy_rule *rule, bool server, char *why, size_t whylen);

#endif
