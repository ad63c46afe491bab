/*
 * Outbound decisions remembered per process. The policy never changes once
 * loaded, so the rule for an IPv4 address, port and protocol, when the program
 * resolved no name for that address, is always the same: a program that
 * reconnects to the same destinations (connection pools, retries, polling)
 * pays for policy_match_out once per destination.
 *
 * Direct-mapped, one sequence lock per slot: readers take no lock and retry
 * nothing (a slot being written is a miss); a writer that finds the slot busy
 * simply does not cache. The sequence only grows, so a reader can never pair a
 * key with another key's rule.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include "match_cache.h"

#define CACHE_SLOTS 256

struct slot {
	atomic_uint seq; /* odd while being written */
	atomic_flag writing;
	_Atomic uint64_t key;
	_Atomic(const struct policy_rule *) rule;
};

static struct slot slots[CACHE_SLOTS];

/* address (32 bits) | port (16) | proto (1) | a set bit so that 0 means empty */
static uint64_t key_of(const struct policy_addr *ip, uint16_t port, enum policy_proto proto)
{
	uint32_t a = (uint32_t)ip->bytes[0] << 24 | (uint32_t)ip->bytes[1] << 16 |
	             (uint32_t)ip->bytes[2] << 8 | ip->bytes[3];

	return (uint64_t)a << 32 | (uint64_t)port << 16 | (uint64_t)proto << 1 | 1;
}

static unsigned int slot_of(uint64_t key)
{
	return (unsigned int)((key * 0x9e3779b97f4a7c15ULL) >> 56); /* 8 bits: 256 slots */
}

const struct policy_rule *match_cache_out(const struct policy *policy, const struct policy_addr *ip,
                                          uint16_t port, enum policy_proto proto,
                                          const char *hostname)
{
	const struct policy_rule *rule;
	struct slot *sl;
	uint64_t key;
	unsigned int seq;

	if (ip == NULL || ip->family != AF_INET || hostname != NULL) {
		return policy_match_out(policy, ip, port, proto, hostname);
	}
	key = key_of(ip, port, proto);
	sl = &slots[slot_of(key)];
	seq = atomic_load_explicit(&sl->seq, memory_order_acquire);
	if ((seq & 1) == 0 && atomic_load_explicit(&sl->key, memory_order_relaxed) == key) {
		rule = atomic_load_explicit(&sl->rule, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&sl->seq, memory_order_relaxed) == seq) {
			return rule;
		}
	}
	rule = policy_match_out(policy, ip, port, proto, NULL);
	if (!atomic_flag_test_and_set_explicit(&sl->writing, memory_order_acquire)) {
		seq = atomic_load_explicit(&sl->seq, memory_order_relaxed);
		atomic_store_explicit(&sl->seq, seq + 1, memory_order_relaxed);
		atomic_thread_fence(memory_order_release);
		atomic_store_explicit(&sl->key, key, memory_order_relaxed);
		atomic_store_explicit(&sl->rule, rule, memory_order_relaxed);
		atomic_store_explicit(&sl->seq, seq + 2, memory_order_release);
		atomic_flag_clear_explicit(&sl->writing, memory_order_release);
	}
	return rule;
}
