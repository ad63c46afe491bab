/*
 * Which name the program resolved to which address (shim/core/names.c): what
 * host-name rules match and the TLS layer verifies a connection against. The
 * resolver wrappers (shim/sock/dns_*.c) record, the connect path asks.
 */
#ifndef TLSGUARD_NAMES_H
#define TLSGUARD_NAMES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "policy.h"

#define NAMES_SLOTS 512 /* names_slot() takes 9 bits */

/* Per slot, the hash of the address it holds (0: empty), readable without a
 * lock. Written only by names.c. */
extern _Atomic uint32_t names_tags[NAMES_SLOTS];

/* Multiplicative hashing on whole words: the connect path pays a few
 * instructions for it. The slot is the top bits, the tag the whole hash. */
static inline uint32_t names_hash(const struct policy_addr *addr)
{
	uint32_t w[4], h;
	int i;

	if (addr->family == AF_INET) {
		memcpy(w, addr->bytes, 4);
		return (w[0] * 0x9e3779b1u) | 1; /* never 0, the empty tag */
	}
	memcpy(w, addr->bytes, sizeof(w));
	for (h = 0, i = 0; i < 4; i++) {
		h = (h ^ w[i]) * 0x9e3779b1u;
	}
	return h | 1;
}

static inline unsigned int names_slot(uint32_t hash)
{
	return hash >> 23;
}

/* False when the program surely resolved no name for addr: a connect to an
 * address it never resolved, the common case, costs a hash and one load. True
 * may be a collision: names_lookup tells. */
static inline bool names_known(const struct policy_addr *addr)
{
	uint32_t hash = names_hash(addr);

	return atomic_load_explicit(&names_tags[names_slot(hash)], memory_order_acquire) == hash;
}

/* Remembers that the program resolved name to the address in sa. */
void names_record(const struct sockaddr *sa, const char *name);

/* The name the program resolved for addr (learned from getaddrinfo and the
 * gethostbyname family), copied into out; false if unknown. */
bool names_lookup(const struct policy_addr *addr, char *out, size_t len);

#endif
