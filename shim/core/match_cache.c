/*
 * Outbound decisions remembered per process. The policy never changes once
 * loaded, so the rule for an IPv4 address, port and protocol, when the program
 * resolved no name for that address, is always the same: a program that
 * reconnects to the same destinations (connection pools, retries, polling)
 * pays for policy_match_out once per destination.
 *
 * Direct-mapped. A slot is claimed once, by the first destination that lands
 * in it, and never changes after: a reader needs one acquire load of the key
 * (the rule was stored before it) and takes no lock. A destination whose slot
 * belongs to another is simply matched every time.
 */
#include "match_cache.h"

struct match_cache_slot match_cache_slots[MATCH_CACHE_SLOTS];
static atomic_flag claimed[MATCH_CACHE_SLOTS];

const struct policy_rule *match_cache_miss(const struct policy *policy,
                                           const struct policy_addr *ip, uint16_t port,
                                           enum policy_proto proto, uint64_t key)
{
	const struct policy_rule *rule = policy_match_out(policy, ip, port, proto, NULL);
	unsigned int i = match_cache_slot(key);

	if (!atomic_flag_test_and_set_explicit(&claimed[i], memory_order_relaxed)) {
		match_cache_slots[i].rule = rule;
		atomic_store_explicit(&match_cache_slots[i].key, key, memory_order_release);
	}
	return rule;
}
