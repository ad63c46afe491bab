/*
 * Outbound decisions remembered per process (shim/core/match_cache.c).
 */
#ifndef TLSGUARD_MATCH_CACHE_H
#define TLSGUARD_MATCH_CACHE_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "policy.h"

#define MATCH_CACHE_SLOTS 256 /* match_cache_slot() takes 8 bits */

struct match_cache_slot {
	_Atomic uint64_t key; /* 0 until the slot's one destination is published */
	const struct policy_rule *rule;
};

/* Written only by match_cache.c. */
extern struct match_cache_slot match_cache_slots[MATCH_CACHE_SLOTS];

/* address (32 bits) | port (16) | proto (1) | a set bit so that 0 means empty */
static inline uint64_t match_cache_key(const struct policy_addr *ip, uint16_t port,
                                       enum policy_proto proto)
{
	uint32_t a;

	memcpy(&a, ip->bytes, sizeof(a)); /* network order: a key needs no other */
	return (uint64_t)a << 32 | (uint64_t)port << 16 | (uint64_t)proto << 1 | 1;
}

static inline unsigned int match_cache_slot(uint64_t key)
{
	return (unsigned int)((key * 0x9e3779b97f4a7c15ULL) >> 56);
}

const struct policy_rule *match_cache_miss(const struct policy *policy,
                                           const struct policy_addr *ip, uint16_t port,
                                           enum policy_proto proto, uint64_t key);

/* policy_match_out, remembered for IPv4 destinations without a host name (the
 * same arguments and the same answer). A hit is one load and a compare. */
static inline const struct policy_rule *match_cache_out(const struct policy *policy,
                                                        const struct policy_addr *ip, uint16_t port,
                                                        enum policy_proto proto,
                                                        const char *hostname)
{
	const struct match_cache_slot *sl;
	uint64_t key;

	if (ip == NULL || ip->family != AF_INET || hostname != NULL) {
		return policy_match_out(policy, ip, port, proto, hostname);
	}
	key = match_cache_key(ip, port, proto);
	sl = &match_cache_slots[match_cache_slot(key)];
	if (atomic_load_explicit(&sl->key, memory_order_acquire) == key) {
		return sl->rule;
	}
	return match_cache_miss(policy, ip, port, proto, key);
}

#endif
