/*
 * The registry of handshakes under way (registry.h): a short list under one
 * short lock that is never held across an OpenSSL handshake call, and a ring of
 * the inbound ClientHellos no SSL claimed yet.
 */
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "registry.h"

struct reg_entry {
	SSL *ssl;
	struct ossl_state *st;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct reg_entry *reg;
static size_t reg_len, reg_cap;

void ossl_registry_add(SSL *ssl, struct ossl_state *st)
{
	struct reg_entry *grown;

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
	reg[reg_len].ssl = ssl;
	reg[reg_len].st = st;
	reg_len++;
	st->in_handshake = true;
out:
	pthread_mutex_unlock(&reg_lock);
}

void ossl_registry_remove(SSL *ssl, struct ossl_state *st)
{
	size_t i;

	pthread_mutex_lock(&reg_lock);
	if (!st->in_handshake) {
		goto out;
	}
	for (i = 0; i < reg_len; i++) {
		if (reg[i].ssl == ssl) {
			reg[i] = reg[--reg_len];
			break;
		}
	}
	st->in_handshake = false;
out:
	pthread_mutex_unlock(&reg_lock);
}

/* An outbound ClientHello: the client SSL whose random it carries. */
static SSL *find_client(const struct ssl_fns *f, const uint8_t *random, struct ossl_state **out)
{
	unsigned char mine[STREAM_RANDOM_LEN];
	size_t i;

	for (i = 0; i < reg_len; i++) {
		if (reg[i].st->server) {
			continue;
		}
		if (f->SSL_get_client_random(reg[i].ssl, mine, sizeof(mine)) != sizeof(mine)) {
			continue;
		}
		if (memcmp(mine, random, sizeof(mine)) == 0) {
			*out = reg[i].st;
			return reg[i].ssl;
		}
	}
	return NULL;
}

/* An inbound ClientHello: the server SSL handshaking on fd, else (memory BIOs
 * hide the descriptor) any server SSL of this process in a handshake. The
 * second case is an approximation: a process that runs libssl server handshakes
 * on memory BIOs and also hand-made TLS on a socket at the same moment gets the
 * hand-made one counted as managed. */
static SSL *find_server(int fd, struct ossl_state **out, bool *any)
{
	size_t i;

	*any = false;
	for (i = 0; i < reg_len; i++) {
		if (!reg[i].st->server) {
			continue;
		}
		*any = true;
		if (reg[i].st->fd == fd) {
			*out = reg[i].st;
			return reg[i].ssl;
		}
	}
	return NULL;
}

/* Inbound ClientHellos read on a governed socket that no server SSL handshaking
 * on that descriptor claimed, while servers on memory BIOs were handshaking
 * (python asyncio, ssl.MemoryBIO): which of them consumes one is known only
 * once it has processed it (ossl_claim_memory). A short ring under reg_lock;
 * no reference is held: the entry names the conn and its descriptor, both
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

SSL *ossl_registry_find_hello(const struct ssl_fns *f, const struct conn *c, int fd,
                              const uint8_t random[STREAM_RANDOM_LEN], struct ossl_state **st,
                              bool *any)
{
	SSL *ssl;

	*any = false;
	pthread_mutex_lock(&reg_lock);
	if (c->inbound) {
		ssl = find_server(fd, st, any);
		if (ssl == NULL && *any) {
			remember_hello(c, fd, random);
		}
	} else {
		ssl = find_client(f, random, st);
	}
	pthread_mutex_unlock(&reg_lock);
	return ssl;
}

const struct conn *ossl_registry_take_hello(const uint8_t random[STREAM_RANDOM_LEN], int *fd)
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
