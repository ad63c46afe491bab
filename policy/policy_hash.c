/*
 * The lookup tables behind matching: open addressing with linear probing, from
 * a byte key to a run of rule positions in file order. Built once; lookups
 * neither allocate nor lock.
 */
#include <string.h>

#include "policy_internal.h"

/* FNV-1a, 64-bit: byte at a time, so a host name's suffixes hash incrementally. */
uint64_t ptab_hash_init(void)
{
	return 0xcbf29ce484222325ULL;
}

uint64_t ptab_hash_step(uint64_t hash, uint8_t byte)
{
	return (hash ^ byte) * 0x100000001b3ULL;
}

uint64_t ptab_hash(const uint8_t *key, size_t len)
{
	uint64_t hash = ptab_hash_init();
	size_t i;

	for (i = 0; i < len; i++)
		hash = ptab_hash_step(hash, key[i]);
	return hash;
}

static struct ptab_entry *ptab_slot(const struct ptab *tab, uint64_t hash, const uint8_t *key,
                                    size_t len)
{
	uint32_t i = (uint32_t)hash & tab->mask;
	struct ptab_entry *e;

	for (;; i = (i + 1) & tab->mask) {
		e = &tab->slots[i];
		if (e->key == NULL)
			return e;
		if (e->hash == hash && e->keylen == len && memcmp(e->key, key, len) == 0)
			return e;
	}
}

const struct ptab_entry *ptab_find(const struct ptab *tab, uint64_t hash, const uint8_t *key,
                                   size_t len)
{
	const struct ptab_entry *e;

	if (tab->used == 0)
		return NULL;
	e = ptab_slot(tab, hash, key, len);
	return e->key != NULL ? e : NULL;
}

int ptab_build(struct arena *arena, struct ptab *tab, const struct ptab_item *items, size_t n)
{
	struct ptab_entry *e;
	uint32_t cap = 8, start = 0, i;
	uint64_t hash;
	size_t k;

	memset(tab, 0, sizeof(*tab));
	if (n == 0)
		return 0;
	while (cap < 2 * n) /* load factor <= 1/2 keeps probes short */
		cap *= 2;
	tab->slots = arena_calloc(arena, cap, sizeof(*tab->slots));
	tab->idx = arena_calloc(arena, n, sizeof(*tab->idx));
	if (tab->slots == NULL || tab->idx == NULL)
		return -1;
	tab->mask = cap - 1;
	for (k = 0; k < n; k++) {
		hash = ptab_hash(items[k].key, items[k].keylen);
		e = ptab_slot(tab, hash, items[k].key, items[k].keylen);
		if (e->key == NULL) {
			e->hash = hash;
			e->key = items[k].key;
			e->keylen = items[k].keylen;
			tab->used++;
		}
		e->count++;
	}
	for (i = 0; i < cap; i++) {
		tab->slots[i].start = start;
		start += tab->slots[i].count;
		tab->slots[i].count = 0;
	}
	/* Items come in rule order, so each run is sorted ascending. */
	for (k = 0; k < n; k++) {
		hash = ptab_hash(items[k].key, items[k].keylen);
		e = ptab_slot(tab, hash, items[k].key, items[k].keylen);
		tab->idx[e->start + e->count++] = items[k].rule;
	}
	return 0;
}
