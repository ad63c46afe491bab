/*
 * Matching: gather the candidate runs for an address, a host name and a port
 * from the tables built by policy_index.c, then walk them merged by rule
 * position, smallest first, so the first rule that also matches the port is
 * the first match in file order. No allocation, no locks, no locale.
 */
#include <string.h>
#include <sys/socket.h>

#include "policy_internal.h"

/* At most: one run per IPv6 prefix length, one per host-name suffix, the exact
 * name, and the rules without `to` (by port, and the rest). */
#define MATCH_MAX_RUNS (129 + POLICY_HOST_MAX / 2 + 5)

struct run {
	const uint32_t *next;
	const uint32_t *end;
};

struct runs {
	struct run run[MATCH_MAX_RUNS];
	size_t n;
};

static void runs_add(struct runs *runs, const uint32_t *idx, size_t count)
{
	if (count == 0 || runs->n == MATCH_MAX_RUNS)
		return;
	runs->run[runs->n].next = idx;
	runs->run[runs->n].end = idx + count;
	runs->n++;
}

static void runs_add_entry(struct runs *runs, const struct ptab *tab, const struct ptab_entry *e)
{
	if (e != NULL)
		runs_add(runs, tab->idx + e->start, e->count);
}

/* The smallest rule position left in any run, or -1 when all are empty. */
static long runs_pop(struct runs *runs)
{
	uint32_t best = UINT32_MAX;
	size_t i, at = SIZE_MAX;

	for (i = 0; i < runs->n; i++) {
		if (runs->run[i].next < runs->run[i].end && *runs->run[i].next < best) {
			best = *runs->run[i].next;
			at = i;
		}
	}
	if (at == SIZE_MAX)
		return -1;
	runs->run[at].next++;
	return (long)best;
}

static void runs_add_ports(struct runs *runs, const struct port_index *ix, uint16_t port)
{
	const uint8_t key[2] = {(uint8_t)(port >> 8), (uint8_t)port};

	if (ix->ports.used != 0)
		runs_add_entry(runs, &ix->ports, ptab_find(&ix->ports, ptab_hash(key, 2), key, 2));
	runs_add(runs, ix->other, ix->nother);
}

bool policy_ports_match(const struct rule *rule, uint16_t port)
{
	size_t i;

	if (rule->nports == 0)
		return true;
	for (i = 0; i < rule->nports && rule->sorted[i].lo <= port; i++) {
		if (port <= rule->sorted[i].hi)
			return true;
	}
	return false;
}

/* The first prefix bits of addr (16 bytes), the rest cleared, into out. */
static void mask_bytes6(uint8_t *out, const uint8_t *addr, int prefix)
{
	size_t full = (size_t)prefix / 8, i;

	for (i = 0; i < 16; i++) {
		out[i] = i < full ? addr[i] : 0;
	}
	if (full < 16 && prefix % 8 != 0) {
		out[full] = (uint8_t)(addr[full] & (0xff << (8 - prefix % 8)));
	}
}

static void match_add_nets(struct runs *runs, const struct out_index *ix,
                           const struct policy_addr *ip)
{
	const uint8_t *b = ip->bytes;
	uint8_t masked[16];
	uint32_t addr;
	size_t i;

	if (ip->family == AF_INET) {
		addr = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
		for (i = 0; i < ix->nnets4; i++) {
			const struct net4_table *net = &ix->nets4[i];
			const struct net4_slot *s = net4_find(net, addr);

			if (s != NULL)
				runs_add(runs, net->idx + s->start, s->count);
		}
		return;
	}
	for (i = 0; i < ix->nnets6; i++) {
		const struct net6_index *net = &ix->nets6[i];

		mask_bytes6(masked, b, net->prefix);
		runs_add_entry(runs, &net->tab,
		               ptab_find(&net->tab, ptab_hash(masked, 16), masked, 16));
	}
}

/* Case-insensitive, trailing dot ignored; "*.example.com" matches below
 * example.com, never example.com itself. */
static void match_add_host(struct runs *runs, const struct out_index *ix, const char *hostname)
{
	uint8_t rev[POLICY_HOST_MAX];
	size_t len = strnlen(hostname, POLICY_HOST_MAX + 2), i;
	uint64_t hash = ptab_hash_init();

	if (len > 0 && hostname[len - 1] == '.')
		len--;
	if (len == 0 || len > POLICY_HOST_MAX)
		return;
	for (i = 0; i < len; i++)
		rev[i] = (uint8_t)policy_ascii_lower(hostname[len - 1 - i]);
	for (i = 0; i < len; i++) {
		if (rev[i] == '.' && i > 0 && ix->suffixes.used != 0)
			runs_add_entry(runs, &ix->suffixes, ptab_find(&ix->suffixes, hash, rev, i));
		hash = ptab_hash_step(hash, rev[i]);
	}
	runs_add_entry(runs, &ix->hosts, ptab_find(&ix->hosts, hash, rev, len));
}

const struct policy_rule *policy_match_out(const struct policy *policy,
                                           const struct policy_addr *ip, uint16_t port,
                                           enum policy_proto proto, const char *hostname)
{
	const struct out_index *ix =
	    proto == POLICY_PROTO_UDP ? &policy->out_udp : &policy->out_tcp;
	struct runs runs;
	long r;

	runs.n = 0;
	if (ip != NULL)
		match_add_nets(&runs, ix, ip);
	if (hostname != NULL && (ix->hosts.used != 0 || ix->suffixes.used != 0))
		match_add_host(&runs, ix, hostname);
	runs_add_ports(&runs, &ix->any, port);
	if (runs.n == 1) { /* the common case: nothing to merge */
		for (; runs.run[0].next < runs.run[0].end; runs.run[0].next++) {
			if (policy_ports_match(&policy->out[*runs.run[0].next], port))
				return &policy->out[*runs.run[0].next].pub;
		}
	}
	while ((r = runs_pop(&runs)) >= 0) {
		if (policy_ports_match(&policy->out[r], port))
			return &policy->out[r].pub;
	}
	/* DNS keeps working under a require_tls default unless dns = "deny". */
	if (port == 53)
		return proto == POLICY_PROTO_UDP ? &policy->dns_udp : &policy->dns_tcp;
	return proto == POLICY_PROTO_UDP ? &policy->out_default_udp : &policy->out_default_tcp;
}

const struct policy_rule *policy_match_in(const struct policy *policy, uint16_t local_port,
                                          const struct policy_addr *peer)
{
	const struct rule *rule;
	struct runs runs;
	long r;

	runs.n = 0;
	runs_add_ports(&runs, &policy->in_idx, local_port);
	while ((r = runs_pop(&runs)) >= 0) {
		rule = &policy->in[r];
		if (!policy_ports_match(rule, local_port))
			continue;
		if (rule->to == RULE_TO_NET &&
		    (peer == NULL || !policy_net_contains(&rule->net, rule->prefix, peer)))
			continue;
		return &rule->pub;
	}
	return &policy->in_default_rule;
}
