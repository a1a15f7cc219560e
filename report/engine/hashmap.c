/*
 * Hash maps keyed by two 64-bit integers: open addressing, linear probing,
 * deletion by shifting the entries that follow back (no tombstones, so a map
 * that sees millions of puts and removes, as a sliding window does, stays as
 * small as what it holds).  Entries keep their hash: shifted back or moved to
 * a larger table, they are not hashed again.
 */
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"
#include "util.h"

#define INITIAL_SLOTS 8

/* 32 bits: 4G slots, far more than any map holds (a larger one would only be crowded). */
static uint32_t hash_of(uint64_t a, uint64_t b)
{
	uint64_t h =
		a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL) * 0xbf58476d1ce4e5b9ULL;

	h ^= h >> 31;
	return (uint32_t)(h * 0x94d049bb133111ebULL >> 20);
}

static size_t slot_of(const struct hashmap *map, uint64_t a, uint64_t b)
{
	return hash_of(a, b) & map->mask;
}

void hashmap_clear(struct hashmap *map)
{
	free(map->slots);
	*map = (struct hashmap){0};
}

uint64_t *hashmap_find(const struct hashmap *map, uint64_t a, uint64_t b)
{
	if (!map->slots)
		return NULL;
	for (size_t i = slot_of(map, a, b);; i = (i + 1) & map->mask) {
		struct hashmap_entry *e = &map->slots[i];

		if (!e->used)
			return NULL;
		if (e->a == a && e->b == b)
			return &e->value;
	}
}

static void resize(struct hashmap *map, size_t slots)
{
	struct hashmap_entry *old = map->slots;
	size_t old_slots = old ? map->mask + 1 : 0;

	/*
	 * On a cache line: an entry (32 bytes) then never spans two lines, and
	 * two share one.  From malloc a large table starts 16 bytes into a
	 * page, and half its entries touched two lines.
	 */
	map->slots = xcalloc_aligned(slots, sizeof(*map->slots), CACHE_LINE);
	map->mask = slots - 1;
	for (size_t i = 0; i < old_slots; i++) {
		size_t j;

		if (!old[i].used)
			continue;
		for (j = old[i].hash & map->mask; map->slots[j].used; j = (j + 1) & map->mask)
			;
		map->slots[j] = old[i];
	}
	free(old);
}

uint64_t *hashmap_put(struct hashmap *map, uint64_t a, uint64_t b, bool *added)
{
	uint32_t hash = hash_of(a, b);
	size_t i;

	/* At most half full. */
	if (!map->slots)
		resize(map, INITIAL_SLOTS);
	else if (2 * (map->count + 1) > map->mask + 1)
		resize(map, 2 * (map->mask + 1));
	for (i = hash & map->mask; map->slots[i].used; i = (i + 1) & map->mask) {
		if (map->slots[i].a == a && map->slots[i].b == b) {
			if (added)
				*added = false;
			return &map->slots[i].value;
		}
	}
	map->slots[i] = (struct hashmap_entry){.a = a, .b = b, .hash = hash, .used = true};
	map->count++;
	if (added)
		*added = true;
	return &map->slots[i].value;
}

bool hashmap_take(struct hashmap *map, uint64_t a, uint64_t b, uint64_t *value)
{
	size_t hole;

	if (!map->slots)
		return false;
	for (hole = slot_of(map, a, b);; hole = (hole + 1) & map->mask) {
		if (!map->slots[hole].used)
			return false;
		if (map->slots[hole].a == a && map->slots[hole].b == b)
			break;
	}
	*value = map->slots[hole].value;
	for (size_t at = (hole + 1) & map->mask; map->slots[at].used; at = (at + 1) & map->mask) {
		size_t home = map->slots[at].hash & map->mask;

		if (hashmap_stays(hole, home, at))
			continue;
		map->slots[hole] = map->slots[at];
		hole = at;
	}
	map->slots[hole].used = false;
	map->count--;
	return true;
}

void hashmap_remove(struct hashmap *map, uint64_t a, uint64_t b)
{
	uint64_t value;

	hashmap_take(map, a, b, &value);
}

void hashmap_prefetch(const struct hashmap *map, uint64_t a, uint64_t b)
{
	size_t i;

	if (!map->slots)
		return;
	i = slot_of(map, a, b);
	__builtin_prefetch(&map->slots[i]);
	__builtin_prefetch(&map->slots[(i + 1) & map->mask]);
}

const struct hashmap_entry *hashmap_next(const struct hashmap *map, size_t *cursor)
{
	for (; map->slots && *cursor <= map->mask; (*cursor)++)
		if (map->slots[*cursor].used)
			return &map->slots[(*cursor)++];
	return NULL;
}
