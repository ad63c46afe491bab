/*
 * A bump allocator: a loaded policy is immutable, so nothing is freed before the
 * whole policy is, and one release covers every error path.
 */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

#define ARENA_BLOCK (64 * 1024)

struct arena_block {
	struct arena_block *next;
	size_t used;
	size_t cap;
	alignas(max_align_t) unsigned char data[];
};

/* A new block goes behind the head when it serves one large request, so the
 * partly used head block keeps serving small ones. */
static struct arena_block *arena_block_new(struct arena *arena, size_t cap, bool behind)
{
	struct arena_block *block;

	block = malloc(sizeof(*block) + cap);
	if (block == NULL)
		return NULL;
	block->used = 0;
	block->cap = cap;
	if (behind && arena->head != NULL) {
		block->next = arena->head->next;
		arena->head->next = block;
	} else {
		block->next = arena->head;
		arena->head = block;
	}
	return block;
}

void *arena_alloc(struct arena *arena, size_t size)
{
	struct arena_block *block = arena->head;
	size_t align = alignof(max_align_t);
	size_t need = (size + align - 1) & ~(align - 1);
	void *ptr;

	if (size == 0)
		need = align;
	if (need < size)
		return NULL;
	if (need > ARENA_BLOCK / 4)
		block = arena_block_new(arena, need, true);
	else if (block == NULL || block->cap - block->used < need)
		block = arena_block_new(arena, ARENA_BLOCK, false);
	if (block == NULL)
		return NULL;
	ptr = block->data + block->used;
	block->used += need;
	memset(ptr, 0, need);
	return ptr;
}

void *arena_calloc(struct arena *arena, size_t count, size_t size)
{
	if (size != 0 && count > SIZE_MAX / size)
		return NULL;
	return arena_alloc(arena, count * size);
}

char *arena_strdup(struct arena *arena, const char *text)
{
	size_t len = strlen(text);
	char *copy;

	copy = arena_alloc(arena, len + 1);
	if (copy == NULL)
		return NULL;
	memcpy(copy, text, len + 1);
	return copy;
}

void arena_release(struct arena *arena)
{
	struct arena_block *block = arena->head;
	struct arena_block *next;

	while (block != NULL) {
		next = block->next;
		free(block);
		block = next;
	}
	arena->head = NULL;
}
