/*
 * The IPv4 network tables (policy_internal.h): for one prefix length, from a
 * masked address to the run of rules, in file order, whose `to` is that
 * network.
 */
#include <stdlib.h>

#include "policy_internal.h"

static struct net4_slot *net4_slot(const struct net4_table *tab, uint32_t key)
{
	uint32_t i = (key * NET4_HASH) >> tab->shift;

	while (tab->slots[i].count != 0 && tab->slots[i].key != key)
		i = (i + 1) & tab->slot_mask;
	return &tab->slots[i];
}

int net4_build(struct arena *arena, struct net4_table *tab, int prefix,
               const struct net4_item *items, size_t n)
{
	uint32_t *fill, start = 0, bits = 3, i;
	struct net4_slot *s;
	size_t k;

	while ((1u << bits) < 2 * n) /* load factor <= 1/2 keeps probes short */
		bits++;
	tab->netmask = prefix == 0 ? 0 : ~0u << (32 - prefix);
	tab->shift = 32 - bits;
	tab->slot_mask = (1u << bits) - 1;
	tab->slots = arena_calloc(arena, (size_t)1 << bits, sizeof(*tab->slots));
	tab->idx = arena_calloc(arena, n ? n : 1, sizeof(*tab->idx));
	fill = calloc((size_t)1 << bits, sizeof(*fill)); /* per slot: rules placed so far */
	if (tab->slots == NULL || tab->idx == NULL || fill == NULL) {
		free(fill);
		return -1;
	}
	for (k = 0; k < n; k++) {
		s = net4_slot(tab, items[k].key);
		s->key = items[k].key;
		s->count++;
	}
	for (i = 0; i <= tab->slot_mask; i++) {
		tab->slots[i].start = start;
		start += tab->slots[i].count;
	}
	/* Items come in rule order, so each run is sorted ascending. */
	for (k = 0; k < n; k++) {
		s = net4_slot(tab, items[k].key);
		tab->idx[s->start + fill[s - tab->slots]++] = items[k].rule;
	}
	free(fill);
	return 0;
}
