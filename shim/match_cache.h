#ifndef TLSGUARD_MATCH_CACHE_H
#define TLSGUARD_MATCH_CACHE_H

#include "policy.h"

/* policy_match_out, remembered for IPv4 destinations without a host name (the
 * same arguments and the same answer; see match_cache.c). */
const struct policy_rule *match_cache_out(const struct policy *policy, const struct policy_addr *ip,
                                          uint16_t port, enum policy_proto proto,
                                          const char *hostname);

#endif
