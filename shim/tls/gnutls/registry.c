/*
 * The registry of handshakes under way (registry.h): a short list under one
 * short lock that is never held across a GnuTLS handshake call.
 *
 * An outbound hello is matched by its client random against
 * gnutls_session_get_random of the listed clients. That works whatever moves
 * the records (libcurl-gnutls's own push function, a memory transport): GnuTLS
 * has made the random before its push function writes the ClientHello. The
 * clients handshaking in the calling thread are asked first: the push function
 * runs inside gnutls_handshake, so the hello is nearly always theirs, and
 * reading a session another thread is handshaking on is then never needed.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

struct reg_entry {
	gnutls_session_t session;
	struct gtls_state *st;
	pthread_t thread;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct reg_entry *reg;
static size_t reg_len, reg_cap;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void before_fork(void)
{
	pthread_mutex_lock(&reg_lock);
}

static void after_fork(void)
{
	pthread_mutex_unlock(&reg_lock);
}

static void register_fork(void)
{
	conn_register_fork_handlers();
	pthread_atfork(before_fork, after_fork, after_fork);
}

void gtls_registry_add(gnutls_session_t session, struct gtls_state *st)
{
	struct reg_entry *grown;

	pthread_once(&fork_once, register_fork);
	pthread_mutex_lock(&reg_lock);
	if (st->in_handshake) {
		goto out;
	}
	if (reg_len == reg_cap) {
		size_t cap = reg_cap == 0 ? 16 : reg_cap * 2;

		grown = realloc(reg, cap * sizeof(*reg));
		if (grown == NULL) {
			goto out; /* unlisted: its ClientHello will look unmanaged */
		}
		reg = grown;
		reg_cap = cap;
	}
	reg[reg_len].session = session;
	reg[reg_len].st = st;
	reg[reg_len].thread = pthread_self();
	reg_len++;
	st->in_handshake = true;
out:
	pthread_mutex_unlock(&reg_lock);
}

void gtls_registry_remove(gnutls_session_t session, struct gtls_state *st)
{
	size_t i;

	pthread_mutex_lock(&reg_lock);
	if (!st->in_handshake) {
		goto out;
	}
	for (i = 0; i < reg_len; i++) {
		if (reg[i].session == session) {
			reg[i] = reg[--reg_len];
			break;
		}
	}
	st->in_handshake = false;
out:
	pthread_mutex_unlock(&reg_lock);
}

static bool random_is(const struct gnutls_fns *f, gnutls_session_t session, const uint8_t *random)
{
	gnutls_datum_t client = {NULL, 0};

	f->gnutls_session_get_random(session, &client, NULL);
	return client.data != NULL && client.size == STREAM_RANDOM_LEN &&
	       memcmp(client.data, random, STREAM_RANDOM_LEN) == 0;
}

/* An outbound ClientHello: the client session whose random it carries, this
 * thread's first. */
static gnutls_session_t find_client(const struct gnutls_fns *f, const uint8_t *random,
                                    struct gtls_state **out)
{
	pthread_t self = pthread_self();
	size_t i;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < reg_len; i++) {
			bool mine = pthread_equal(reg[i].thread, self) != 0;

			if (reg[i].st->server || mine != (pass == 0)) {
				continue;
			}
			if (random_is(f, reg[i].session, random)) {
				*out = reg[i].st;
				return reg[i].session;
			}
		}
	}
	return NULL;
}

/* Inbound ClientHellos read on a governed socket that no server handshaking
 * on that descriptor claimed, while servers on their own transport (no
 * descriptor) were handshaking: which of them consumes one is known only once
 * it has parsed it (gtls_claim_late). A short ring under reg_lock; no
 * reference is held: the entry names the conn and its descriptor, both
 * checked again when it is taken. */
#define PENDING_MAX 32

static struct pending_hello {
	int fd;
	const struct conn *c;
	uint8_t random[STREAM_RANDOM_LEN];
} pending[PENDING_MAX];
static size_t pending_next;

static void remember_hello(const struct conn *c, int fd, const uint8_t *random)
{
	struct pending_hello *p = &pending[pending_next++ % PENDING_MAX];

	p->fd = fd;
	p->c = c;
	memcpy(p->random, random, STREAM_RANDOM_LEN);
}

/* An inbound ClientHello: the server session handshaking on fd. *any: a
 * server on its own transport is handshaking, which may be the one reading
 * it (a process that also writes hand-made TLS on a socket at that moment
 * gets it counted as managed: the same approximation as the OpenSSL layer's
 * memory BIOs). */
static gnutls_session_t find_server(int fd, struct gtls_state **out, bool *any)
{
	size_t i;

	for (i = 0; i < reg_len; i++) {
		if (!reg[i].st->server) {
			continue;
		}
		if (reg[i].st->fd == fd) {
			*out = reg[i].st;
			return reg[i].session;
		}
		*any = *any || reg[i].st->fd < 0;
	}
	return NULL;
}

gnutls_session_t gtls_registry_find_hello(const struct gnutls_fns *f, const struct conn *c, int fd,
                                          const uint8_t random[STREAM_RANDOM_LEN],
                                          struct gtls_state **st, bool *any)
{
	gnutls_session_t session;

	*any = false;
	*st = NULL;
	pthread_mutex_lock(&reg_lock);
	if (c->inbound) {
		session = find_server(fd, st, any);
		if (session == NULL && *any) {
			remember_hello(c, fd, random);
		}
	} else {
		session = find_client(f, random, st);
	}
	pthread_mutex_unlock(&reg_lock);
	return session;
}

const struct conn *gtls_registry_take_hello(const uint8_t random[STREAM_RANDOM_LEN], int *fd)
{
	const struct conn *c = NULL;
	size_t i;

	*fd = -1;
	pthread_mutex_lock(&reg_lock);
	for (i = 0; i < PENDING_MAX; i++) {
		if (pending[i].c != NULL &&
		    memcmp(pending[i].random, random, STREAM_RANDOM_LEN) == 0) {
			c = pending[i].c;
			*fd = pending[i].fd;
			pending[i].c = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&reg_lock);
	return c;
}
