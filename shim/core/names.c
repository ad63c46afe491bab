/*
 * Which name the program resolved to which address, learned from its
 * getaddrinfo/gethostbyname calls (shim/sock/dns_addrinfo.c, dns_hostent.c),
 * for host-name rules and for host-name verification. A fixed table: the
 * newest answer for an address wins, and an old entry may be overwritten by an
 * unrelated one; a forgotten name only means name rules cannot match that
 * address (address rules still do).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "conn.h"
#include "names.h"

struct name_entry {
	struct policy_addr addr;
	char name[CONN_HOST_MAX];
};

static struct name_entry table[NAMES_SLOTS];
_Atomic uint32_t names_tags[NAMES_SLOTS];
static pthread_mutex_t names_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fork_handlers_once = PTHREAD_ONCE_INIT;
static void names_register_fork_handlers(void);

static bool same_addr(const struct policy_addr *a, const struct policy_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : 16) == 0;
}

void names_record(const struct sockaddr *sa, const char *name)
{
	struct policy_addr addr;
	struct name_entry *e;
	uint32_t hash;

	if (sa == NULL || name == NULL || name[0] == '\0' || strlen(name) >= CONN_HOST_MAX ||
	    policy_addr_from_sockaddr(&addr, sa, NULL) < 0) {
		return;
	}
	/* An address literal is no name: it must not replace a real one. */
	if (policy_addr_parse(&(struct policy_addr){0}, name) == 0) {
		return;
	}
	hash = names_hash(&addr);
	e = &table[names_slot(hash)];
	pthread_once(&fork_handlers_once, names_register_fork_handlers); /* first name */
	pthread_mutex_lock(&names_lock);
	e->addr = addr;
	strcpy(e->name, name);
	atomic_store_explicit(&names_tags[names_slot(hash)], hash, memory_order_release);
	pthread_mutex_unlock(&names_lock);
}

bool names_lookup(const struct policy_addr *addr, char *out, size_t len)
{
	uint32_t hash = names_hash(addr);
	struct name_entry *e = &table[names_slot(hash)];
	bool found = false;

	if (atomic_load_explicit(&names_tags[names_slot(hash)], memory_order_acquire) != hash) {
		return false;
	}
	pthread_mutex_lock(&names_lock);
	if (e->name[0] != '\0' && same_addr(&e->addr, addr) && strlen(e->name) < len) {
		strcpy(out, e->name);
		found = true;
	}
	pthread_mutex_unlock(&names_lock);
	return found;
}

/* fork: a child must not inherit the lock held by another parent thread. */
static void names_before_fork(void)
{
	pthread_mutex_lock(&names_lock);
}

static void names_after_fork(void)
{
	pthread_mutex_unlock(&names_lock);
}

static void names_register_fork_handlers(void)
{
	pthread_atfork(names_before_fork, names_after_fork, names_after_fork);
}
