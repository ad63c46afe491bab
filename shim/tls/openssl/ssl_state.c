/*
 * Per-SSL state in ex_data, the registry of handshakes under way (what
 * sslg_claim_hello searches), and the cache of trust stores.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ssl_internal.h"
#include "sslg.h"

static int ssl_index = -1;
static int ctx_index = -1;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;
static const struct ssl_fns *index_fns;
atomic_uint sslg_state_frees;

/* ctx ex_data: the program's SSL_CTX_set_cert_verify_callback arguments, and
 * the context store the policy's anchors were added to (trust "policy+app"). */
struct ctx_app_verify {
	int (*cb)(X509_STORE_CTX *, void *);
	void *arg;
	bool taken; /* sslg_cert_verify_cb is the context's chain verification */
};

static void state_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	struct sslg_state *st = ptr;

	(void)ad, (void)idx, (void)argl, (void)argp;
	if (st == NULL) {
		return;
	}
	atomic_fetch_add_explicit(&sslg_state_frees, 1, memory_order_release);
	sslg_registry_remove(parent, st);
	sslg_state_release(index_fns, st);
	free(st);
}

static void ctx_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	free(ptr);
}

static void make_indexes(void)
{
	const struct ssl_fns *f = ssl_fns();

	index_fns = f;
	ssl_index =
	    f->CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, NULL, NULL, NULL, state_free);
	ctx_index =
	    f->CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL_CTX, 0, NULL, NULL, NULL, ctx_free);
}

struct sslg_state *sslg_state_get(const struct ssl_fns *f, const SSL *ssl)
{
	pthread_once(&index_once, make_indexes);
	if (ssl == NULL || ssl_index < 0) {
		return NULL;
	}
	return f->SSL_get_ex_data(ssl, ssl_index);
}

/* A zeroed state as it starts: no socket yet, nothing wrong. */
static void state_start(struct sslg_state *st)
{
	st->fd = -1;
	st->verify_result = X509_V_OK;
}

struct sslg_state *sslg_state_make(const struct ssl_fns *f, SSL *ssl)
{
	struct sslg_state *st = sslg_state_get(f, ssl);

	if (st != NULL || ssl == NULL || ssl_index < 0) {
		return st;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		return NULL;
	}
	state_start(st);
	if (f->SSL_set_ex_data(ssl, ssl_index, st) != 1) {
		free(st);
		return NULL;
	}
	return st;
}

void sslg_state_reset(const struct ssl_fns *f, SSL *ssl)
{
	struct sslg_state *st = sslg_state_get(f, ssl);
	SSL_verify_cb prog_cb;
	struct sslg_hooks hooks;

	/* Only a state whose handshake ended (checked, or refused) belongs to a
	 * finished connection: libssl clears an SSL itself as its first handshake
	 * begins, inside a BIO read the shim does not wrap, with the policy
	 * already applied for that handshake. */
	if (st == NULL || !(st->checked || st->failed)) {
		return;
	}
	atomic_fetch_add_explicit(&sslg_state_frees, 1, memory_order_release);
	sslg_registry_remove(ssl, st);
	sslg_state_release(f, st);
	/* The program's verify callback lives on in the SSL behind the shim's
	 * own (SSL_get_verify_callback now returns sslg_verify_cb). */
	prog_cb = st->prog_cb;
	hooks = st->hooks; /* the callbacks stay installed on the SSL */
	memset(st, 0, sizeof(*st));
	state_start(st);
	st->prog_cb = prog_cb;
	st->hooks = hooks;
}

bool sslg_ctx_app_verify(const struct ssl_fns *f, const SSL_CTX *ctx,
                         int (**cb)(X509_STORE_CTX *, void *), void **arg)
{
	const struct ctx_app_verify *v;

	pthread_once(&index_once, make_indexes);
	if (ctx == NULL || ctx_index < 0) {
		return false;
	}
	v = f->SSL_CTX_get_ex_data(ctx, ctx_index);
	if (v == NULL || v->cb == NULL) {
		return false;
	}
	*cb = v->cb;
	*arg = v->arg;
	return true;
}

void sslg_state_release(const struct ssl_fns *f, struct sslg_state *st)
{
	if (st->store != NULL) {
		f->X509_STORE_free(st->store);
		st->store = NULL;
	}
	if (st->verified_leaf != NULL) {
		f->X509_free(st->verified_leaf);
		st->verified_leaf = NULL;
	}
}

static struct ctx_app_verify *ctx_extra(const struct ssl_fns *f, SSL_CTX *ctx)
{
	struct ctx_app_verify *v;

	pthread_once(&index_once, make_indexes);
	if (ctx == NULL || ctx_index < 0) {
		return NULL;
	}
	v = f->SSL_CTX_get_ex_data(ctx, ctx_index);
	if (v == NULL) {
		v = calloc(1, sizeof(*v));
		if (v == NULL || f->SSL_CTX_set_ex_data(ctx, ctx_index, v) != 1) {
			free(v);
			return NULL;
		}
	}
	return v;
}

int sslg_ctx_app_verify_set(const struct ssl_fns *f, SSL_CTX *ctx,
                            int (*cb)(X509_STORE_CTX *, void *), void *arg)
{
	struct ctx_app_verify *v = ctx_extra(f, ctx);

	if (v == NULL) {
		return -1;
	}
	v->cb = cb;
	v->arg = arg;
	return 0;
}

/* The handshakes under way: few at a time, searched under one short lock that
 * is never held across an OpenSSL handshake call. */
struct reg_entry {
	SSL *ssl;
	struct sslg_state *st;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct reg_entry *reg;
static size_t reg_len, reg_cap;

void sslg_registry_add(SSL *ssl, struct sslg_state *st)
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

void sslg_registry_remove(SSL *ssl, struct sslg_state *st)
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
static SSL *find_client(const struct ssl_fns *f, const uint8_t *random, struct sslg_state **out)
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
static SSL *find_server(int fd, struct sslg_state **out, bool *any)
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
 * once it has processed it (sslg_claim_memory). A short ring under reg_lock;
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

bool sslg_claim_memory(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st)
{
	static const uint8_t zero[STREAM_RANDOM_LEN];
	unsigned char mine[STREAM_RANDOM_LEN];
	const struct conn *want = NULL;
	struct conn *c;
	int fd = -1;
	size_t i;

	if (f->SSL_get_client_random(ssl, mine, sizeof(mine)) != sizeof(mine) ||
	    memcmp(mine, zero, sizeof(mine)) == 0) {
		return false; /* its ClientHello has not been processed yet */
	}
	pthread_mutex_lock(&reg_lock);
	for (i = 0; i < PENDING_MAX; i++) {
		if (pending[i].c != NULL && memcmp(pending[i].random, mine, sizeof(mine)) == 0) {
			want = pending[i].c;
			fd = pending[i].fd;
			pending[i].c = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&reg_lock);
	c = want != NULL ? conn_acquire(fd) : NULL;
	if (c != want || c == NULL) {
		conn_release(c); /* closed, and the number reused, meanwhile */
		return true;
	}
	if (sslg_active()) {
		sslg_bind(f, ssl, st, c, fd);
		lock_take(&c->lock);
		c->ssl = ssl;
		lock_give(&c->lock);
	}
	conn_release(c);
	return true;
}

bool sslg_claim_hello(struct conn *c, int fd, const uint8_t random[STREAM_RANDOM_LEN])
{
	const struct ssl_fns *f = ssl_fns_if_bound();
	struct sslg_state *st = NULL;
	SSL *ssl;
	bool any = false;
	int saved = errno;

	if (f == NULL || c == NULL || random == NULL) {
		return false; /* no libssl call ever ran here: not ours */
	}
	pthread_mutex_lock(&reg_lock);
	if (c->inbound) {
		ssl = find_server(fd, &st, &any);
		if (ssl == NULL && any) {
			remember_hello(c, fd, random);
		}
	} else {
		ssl = find_client(f, random, &st);
	}
	pthread_mutex_unlock(&reg_lock);
	if (ssl != NULL && sslg_active()) {
		sslg_bind(f, ssl, st, c, fd);
		lock_take(&c->lock);
		c->ssl = ssl;
		lock_give(&c->lock);
	}
	errno = saved;
	return ssl != NULL || any;
}

/* Trust stores, loaded once per (ca_file, ca_path) and shared by reference. */
#define STORE_CACHE_MAX 16

struct store_slot {
	const char *ca_file;
	const char *ca_path;
	X509_STORE *store;
};

static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store_slot stores[STORE_CACHE_MAX];
static size_t nstores;

static bool same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void store_add_policy(const struct ssl_fns *f, X509_STORE *s, const struct policy_tls *tls)
{
	if (tls->ca_file == NULL && tls->ca_path == NULL) {
		(void)f->X509_STORE_set_default_paths(s);
		return;
	}
	if (tls->ca_file != NULL) {
		(void)f->X509_STORE_load_file(s, tls->ca_file);
	}
	if (tls->ca_path != NULL) {
		(void)f->X509_STORE_load_path(s, tls->ca_path);
	}
}

/* A new store with the policy's anchors. A missing or unreadable file leaves
 * it without them: verification then fails (closed), it never falls back to
 * something wider. */
static X509_STORE *store_load(const struct ssl_fns *f, const struct policy_tls *tls)
{
	X509_STORE *s = f->X509_STORE_new();

	if (s != NULL) {
		store_add_policy(f, s, tls);
	}
	return s;
}

/* Every certificate of src, added to dst, under src's lock (the program may
 * be changing its own store in another thread). */
static void copy_certs(const struct ssl_fns *f, X509_STORE *dst, X509_STORE *src)
{
	STACK_OF(X509_OBJECT) * objs;
	int i, n;

	if (f->X509_STORE_lock(src) != 1) {
		return;
	}
	objs = f->X509_STORE_get0_objects(src);
	n = objs != NULL ? f->OPENSSL_sk_num((const OPENSSL_STACK *)objs) : 0;
	for (i = 0; i < n; i++) {
		X509 *cert =
		    f->X509_OBJECT_get0_X509(f->OPENSSL_sk_value((const OPENSSL_STACK *)objs, i));

		if (cert != NULL) {
			(void)f->X509_STORE_add_cert(dst, cert);
		}
	}
	(void)f->X509_STORE_unlock(src);
}

/* trust "policy+app": built afresh for each verification, because programs
 * fill their store late (curl 7.88 loads its CA file only after the
 * ClientHello went out) and because a store the program can reach (its own,
 * or one handed to libssl, which a verify callback gets back through
 * X509_STORE_CTX_get0_store) must never be the shim's. */
X509_STORE *sslg_store_with_app(const struct ssl_fns *f, X509_STORE *anchors, SSL_CTX *ctx,
                                const struct policy_tls *tls)
{
	X509_STORE *app = ctx != NULL ? f->SSL_CTX_get_cert_store(ctx) : NULL;
	X509_STORE *s = f->X509_STORE_new();

	if (s == NULL) {
		return NULL;
	}
	if (anchors != NULL) {
		copy_certs(f, s, anchors);
	}
	if (tls->ca_path != NULL) {
		(void)f->X509_STORE_load_path(s, tls->ca_path); /* a lazy hashed-dir lookup */
	}
	if (app != NULL) {
		copy_certs(f, s, app);
	}
	return s;
}

void sslg_ctx_take_verify(const struct ssl_fns *f, SSL_CTX *ctx)
{
	struct ctx_app_verify *v;

	pthread_mutex_lock(&store_lock);
	v = ctx_extra(f, ctx);
	if (v != NULL && !v->taken) {
		/* the program's own callback, if any, was kept by
		 * sslg_ctx_app_verify_set and still runs, behind the shim's */
		f->SSL_CTX_set_cert_verify_callback(ctx, sslg_cert_verify_cb, ctx);
		v->taken = true;
	}
	pthread_mutex_unlock(&store_lock);
}

X509_STORE *sslg_store_for(const struct ssl_fns *f, const struct policy_tls *tls)
{
	X509_STORE *s = NULL;
	size_t i;

	pthread_mutex_lock(&store_lock);
	for (i = 0; i < nstores; i++) {
		if (same(stores[i].ca_file, tls->ca_file) &&
		    same(stores[i].ca_path, tls->ca_path)) {
			s = stores[i].store;
			break;
		}
	}
	if (s == NULL) {
		s = store_load(f, tls);
		if (s != NULL && nstores < STORE_CACHE_MAX) {
			stores[nstores++] = (struct store_slot){tls->ca_file, tls->ca_path, s};
		} else if (s != NULL) {
			pthread_mutex_unlock(&store_lock);
			return s; /* cache full: this reference is the caller's */
		}
	}
	if (s != NULL && f->X509_STORE_up_ref(s) != 1) {
		s = NULL;
	}
	pthread_mutex_unlock(&store_lock);
	return s;
}
