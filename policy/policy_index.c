/*
 * Compiling the rule lists into lookup tables (see policy_match.c for how they
 * are searched), and the default rules a lookup returns when nothing matches.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy_internal.h"

static void index_default(struct policy_rule *rule, const struct policy *policy,
                          enum policy_action action, enum policy_proto proto)
{
	memset(rule, 0, sizeof(*rule));
	rule->index = POLICY_RULE_DEFAULT;
	rule->line = 0;
	rule->action = action;
	rule->proto = proto;
	rule->starttls = POLICY_STARTTLS_NONE;
	rule->tls = policy->tls;
}

/* Host keys are stored reversed: the suffixes of a name are then prefixes of
 * its reversed form, and one pass over a name hashes all of them. */
static const uint8_t *index_reversed(struct arena *arena, const char *host, uint32_t *len)
{
	size_t n = strlen(host), i;
	uint8_t *rev;

	rev = arena_alloc(arena, n + 1);
	if (rev == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		rev[i] = (uint8_t)host[n - 1 - i];
	*len = (uint32_t)n;
	return rev;
}

/* The prefix lengths of family present in proto's rules, in present[]; how many. */
static size_t index_prefixes(const struct policy *policy, enum policy_proto proto, int family,
                             bool present[129])
{
	size_t r, used = 0;
	int prefix;

	memset(present, 0, 129 * sizeof(*present));
	for (r = 0; r < policy->nout; r++) {
		const struct rule *rule = &policy->out[r];

		if (rule->pub.proto == proto && rule->to == RULE_TO_NET &&
		    rule->net.family == family)
			present[rule->prefix] = true;
	}
	for (prefix = 0; prefix <= 128; prefix++)
		used += present[prefix];
	return used;
}

static bool index_is_net(const struct rule *rule, enum policy_proto proto, int family, int prefix)
{
	return rule->pub.proto == proto && rule->to == RULE_TO_NET && rule->net.family == family &&
	       rule->prefix == prefix;
}

static int index_nets4(struct policy *policy, struct out_index *ix, enum policy_proto proto)
{
	struct net4_item *items;
	bool present[129];
	size_t r, n, used = index_prefixes(policy, proto, AF_INET, present);
	int prefix, rc = 0;

	ix->nets4 = arena_calloc(&policy->arena, used ? used : 1, sizeof(*ix->nets4));
	items = calloc(policy->nout ? policy->nout : 1, sizeof(*items));
	if (ix->nets4 == NULL || items == NULL) {
		free(items);
		return -1;
	}
	for (prefix = 0; prefix <= 32 && rc == 0; prefix++) {
		if (!present[prefix])
			continue;
		for (n = 0, r = 0; r < policy->nout; r++) {
			const uint8_t *b = policy->out[r].net.bytes;

			if (!index_is_net(&policy->out[r], proto, AF_INET, prefix))
				continue;
			items[n].key = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
			               (uint32_t)b[2] << 8 | b[3];
			items[n++].rule = (uint32_t)r;
		}
		rc = net4_build(&policy->arena, &ix->nets4[ix->nnets4++], prefix, items, n);
	}
	free(items);
	return rc;
}

static int index_nets6(struct policy *policy, struct out_index *ix, enum policy_proto proto,
                       struct ptab_item *items)
{
	bool present[129];
	size_t r, n, used = index_prefixes(policy, proto, AF_INET6, present);
	int prefix;

	ix->nets6 = arena_calloc(&policy->arena, used ? used : 1, sizeof(*ix->nets6));
	if (ix->nets6 == NULL)
		return -1;
	for (prefix = 0; prefix <= 128; prefix++) {
		struct net6_index *net = &ix->nets6[ix->nnets6];

		if (!present[prefix])
			continue;
		for (n = 0, r = 0; r < policy->nout; r++) {
			if (!index_is_net(&policy->out[r], proto, AF_INET6, prefix))
				continue;
			items[n].key = policy->out[r].net.bytes;
			items[n].keylen = 16;
			items[n++].rule = (uint32_t)r;
		}
		net->prefix = prefix;
		if (ptab_build(&policy->arena, &net->tab, items, n) != 0)
			return -1;
		ix->nnets6++;
	}
	return 0;
}

static int index_hosts(struct policy *policy, struct out_index *ix, enum policy_proto proto,
                       enum rule_to kind, struct ptab_item *items)
{
	size_t r, n = 0;

	for (r = 0; r < policy->nout; r++) {
		const struct rule *rule = &policy->out[r];

		if (rule->pub.proto != proto || rule->to != kind)
			continue;
		items[n].key = index_reversed(&policy->arena, rule->host, &items[n].keylen);
		if (items[n].key == NULL)
			return -1;
		items[n++].rule = (uint32_t)r;
	}
	return ptab_build(&policy->arena, kind == RULE_TO_HOST ? &ix->hosts : &ix->suffixes, items,
	                  n);
}

/* Which rules a port index holds: inbound, all of them (proto < 0); outbound,
 * the rules of one protocol without `to`. */
static bool index_port_wants(const struct rule *rule, int proto)
{
	return proto < 0 || ((int)rule->pub.proto == proto && rule->to == RULE_TO_ANY);
}

static int index_ports(struct policy *policy, struct port_index *ix, const struct rule *rules,
                       size_t nrules, int proto, struct ptab_item *items)
{
	size_t r, p, n = 0, total = 0;
	uint8_t *keys;

	for (r = 0; r < nrules; r++)
		total += rules[r].nports;
	keys = arena_calloc(&policy->arena, total ? total : 1, 2);
	ix->other = arena_calloc(&policy->arena, nrules ? nrules : 1, sizeof(*ix->other));
	if (keys == NULL || ix->other == NULL)
		return -1;
	for (r = 0; r < nrules; r++) {
		const struct rule *rule = &rules[r];
		bool other = rule->nports == 0;

		if (!index_port_wants(rule, proto))
			continue;
		for (p = 0; p < rule->nports; p++) {
			if (rule->ports[p].lo != rule->ports[p].hi) {
				other = true;
				continue;
			}
			keys[2 * n] = (uint8_t)(rule->ports[p].lo >> 8);
			keys[2 * n + 1] = (uint8_t)rule->ports[p].lo;
			items[n].key = keys + 2 * n;
			items[n].keylen = 2;
			items[n++].rule = (uint32_t)r;
		}
		if (other)
			ix->other[ix->nother++] = (uint32_t)r;
	}
	return ptab_build(&policy->arena, &ix->ports, items, n);
}

static int index_out(struct policy *policy, struct out_index *ix, enum policy_proto proto,
                     struct ptab_item *items)
{
	if (index_nets4(policy, ix, proto) != 0 || index_nets6(policy, ix, proto, items) != 0 ||
	    index_hosts(policy, ix, proto, RULE_TO_HOST, items) != 0 ||
	    index_hosts(policy, ix, proto, RULE_TO_SUFFIX, items) != 0 ||
	    index_ports(policy, &ix->any, policy->out, policy->nout, (int)proto, items) != 0)
		return -1;
	return 0;
}

static size_t index_count_ports(const struct rule *rules, size_t n)
{
	size_t r, total = 0;

	for (r = 0; r < n; r++)
		total += rules[r].nports;
	return total;
}

int policy_index_build(struct policy *policy)
{
	struct ptab_item *items;
	size_t nitems = policy->nout;
	int rc = -1;

	index_default(&policy->out_default_tcp, policy, policy->out_default, POLICY_PROTO_TCP);
	/* No TLS over datagrams: a require_tls default refuses UDP. */
	index_default(&policy->out_default_udp, policy,
	              policy->out_default == POLICY_ACTION_ALLOW ? POLICY_ACTION_ALLOW
	                                                         : POLICY_ACTION_DENY,
	              POLICY_PROTO_UDP);
	index_default(&policy->dns_tcp, policy, policy->dns, POLICY_PROTO_TCP);
	index_default(&policy->dns_udp, policy, policy->dns, POLICY_PROTO_UDP);
	index_default(&policy->in_default_rule, policy, policy->in_default, POLICY_PROTO_TCP);
	if (nitems < index_count_ports(policy->out, policy->nout))
		nitems = index_count_ports(policy->out, policy->nout);
	if (nitems < index_count_ports(policy->in, policy->nin))
		nitems = index_count_ports(policy->in, policy->nin);
	items = calloc(nitems ? nitems : 1, sizeof(*items));
	if (items == NULL)
		return -1;
	if (index_out(policy, &policy->out_tcp, POLICY_PROTO_TCP, items) != 0 ||
	    index_out(policy, &policy->out_udp, POLICY_PROTO_UDP, items) != 0 ||
	    index_ports(policy, &policy->in_idx, policy->in, policy->nin, -1, items) != 0)
		goto out;
	rc = 0;
out:
	free(items);
	return rc;
}
