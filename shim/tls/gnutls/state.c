/*
 * The side table of session states (state.h). Registered with fork like the
 * descriptor table: a fork while another thread holds the lock would leave
 * the child's copy locked forever.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

#define BUCKETS 256

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gtls_state *buckets[BUCKETS];
static atomic_size_t nstates;
atomic_size_t gtls_failed_sessions;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void before_fork(void)
{
	pthread_mutex_lock(&table_lock);
}

static void after_fork(void)
{
	pthread_mutex_unlock(&table_lock);
}

static void register_fork(void)
{
	conn_register_fork_handlers(); /* theirs first: prepare handlers run in reverse */
	pthread_atfork(before_fork, after_fork, after_fork);
}

static size_t bucket_of(gnutls_session_t session)
{
	uintptr_t p = (uintptr_t)session;

	return (size_t)((p >> 4) ^ (p >> 12)) % BUCKETS;
}

static struct gtls_state *find(gnutls_session_t session, struct gtls_state ***link)
{
	struct gtls_state **l = &buckets[bucket_of(session)];

	while (*l != NULL && (*l)->session != session) {
		l = &(*l)->next;
	}
	if (link != NULL) {
		*link = l;
	}
	return *l;
}

struct gtls_state *gtls_state_get(gnutls_session_t session)
{
	struct gtls_state *st;

	if (atomic_load_explicit(&nstates, memory_order_acquire) == 0 || session == NULL) {
		return NULL;
	}
	pthread_mutex_lock(&table_lock);
	st = find(session, NULL);
	pthread_mutex_unlock(&table_lock);
	return st;
}

struct gtls_state *gtls_state_make(gnutls_session_t session)
{
	struct gtls_state **link, *st;

	if (session == NULL) {
		return NULL;
	}
	pthread_once(&fork_once, register_fork);
	pthread_mutex_lock(&table_lock);
	st = find(session, &link);
	if (st == NULL && (st = calloc(1, sizeof(*st))) != NULL) {
		st->session = session;
		st->fd = -1;
		*link = st;
		atomic_fetch_add_explicit(&nstates, 1, memory_order_release);
	}
	pthread_mutex_unlock(&table_lock);
	return st;
}

struct gtls_state *gtls_state_drop(gnutls_session_t session)
{
	struct gtls_state **link, *st;

	if (atomic_load_explicit(&nstates, memory_order_acquire) == 0 || session == NULL) {
		return NULL;
	}
	pthread_mutex_lock(&table_lock);
	st = find(session, &link);
	if (st != NULL) {
		*link = st->next;
		st->next = NULL;
		atomic_fetch_sub_explicit(&nstates, 1, memory_order_release);
		if (st->failed) {
			atomic_fetch_sub_explicit(&gtls_failed_sessions, 1, memory_order_release);
		}
		free(st->prog_prio);
		st->prog_prio = NULL;
	}
	pthread_mutex_unlock(&table_lock);
	return st;
}

/* Credentials are few (usually one per program): a short list, under the
 * table's lock. A full list forgets nothing already recorded; a credential
 * beyond it keeps GnuTLS's own behaviour for its ungoverned sessions and,
 * governed, has its program's function skipped (the shim's check stands). */
#define CREDS_MAX 64

static struct cred_fn {
	void *cred;
	gnutls_certificate_verify_function *fn;
} creds[CREDS_MAX];
static size_t ncreds;

void gtls_cred_verify_set(void *cred, gnutls_certificate_verify_function *fn)
{
	size_t i;

	if (cred == NULL) {
		return;
	}
	pthread_once(&fork_once, register_fork);
	pthread_mutex_lock(&table_lock);
	for (i = 0; i < ncreds && creds[i].cred != cred; i++) {
	}
	if (i < CREDS_MAX) {
		creds[i] = (struct cred_fn){cred, fn};
		ncreds += i == ncreds ? 1 : 0;
	}
	pthread_mutex_unlock(&table_lock);
}

gnutls_certificate_verify_function *gtls_cred_verify_get(void *cred)
{
	gnutls_certificate_verify_function *fn = NULL;
	size_t i;

	if (cred == NULL) {
		return NULL;
	}
	pthread_mutex_lock(&table_lock);
	for (i = 0; i < ncreds; i++) {
		if (creds[i].cred == cred) {
			fn = creds[i].fn;
			break;
		}
	}
	pthread_mutex_unlock(&table_lock);
	return fn;
}

void gtls_cred_verify_forget(void *cred)
{
	size_t i;

	if (cred == NULL) {
		return;
	}
	pthread_mutex_lock(&table_lock);
	for (i = 0; i < ncreds; i++) {
		if (creds[i].cred == cred) {
			creds[i] = creds[--ncreds];
			break;
		}
	}
	pthread_mutex_unlock(&table_lock);
}

/* Priority caches: few per program, a short list under the table's lock. */
#define CACHES_MAX 64

static struct prio_cache {
	gnutls_priority_t cache;
	char *prio;
	unsigned flags;
} caches[CACHES_MAX];
static size_t ncaches;

static char *copy(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

void gtls_prio_record(struct gtls_state *st, const char *prio, bool on_default, unsigned flags)
{
	char *mine = copy(prio);

	free(st->prog_prio);
	st->prog_prio = mine;
	st->prog_prio_default = on_default;
	st->prog_prio_flags = flags;
	/* no memory for the copy: not known (the outcome check holds the floor) */
	st->have_prog_prio = prio == NULL || mine != NULL;
}

void gtls_prio_cache_set(gnutls_priority_t cache, const char *prio, unsigned flags)
{
	char *mine = copy(prio);
	size_t i;

	if (cache == NULL || (prio != NULL && mine == NULL)) {
		free(mine);
		return;
	}
	pthread_once(&fork_once, register_fork);
	pthread_mutex_lock(&table_lock);
	for (i = 0; i < ncaches && caches[i].cache != cache; i++) {
	}
	if (i < CACHES_MAX) {
		if (i < ncaches) {
			free(caches[i].prio);
		} else {
			ncaches++;
		}
		caches[i] = (struct prio_cache){cache, mine, flags};
		mine = NULL;
	}
	pthread_mutex_unlock(&table_lock);
	free(mine);
}

void gtls_prio_cache_apply(gnutls_priority_t cache, struct gtls_state *st)
{
	size_t i;

	pthread_mutex_lock(&table_lock);
	for (i = 0; i < ncaches && caches[i].cache != cache; i++) {
	}
	if (i < ncaches) {
		gtls_prio_record(st, caches[i].prio,
		                 caches[i].prio == NULL ||
		                     (caches[i].flags & GNUTLS_PRIORITY_INIT_DEF_APPEND) != 0,
		                 0);
	} else {
		st->have_prog_prio = false;
	}
	pthread_mutex_unlock(&table_lock);
}

void gtls_prio_cache_forget(gnutls_priority_t cache)
{
	size_t i;

	if (cache == NULL) {
		return;
	}
	pthread_mutex_lock(&table_lock);
	for (i = 0; i < ncaches; i++) {
		if (caches[i].cache == cache) {
			free(caches[i].prio);
			caches[i] = caches[--ncaches];
			break;
		}
	}
	pthread_mutex_unlock(&table_lock);
}
