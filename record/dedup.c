/* A bounded open-addressing hash map with linear probing. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dedup.h"
#include "util.h"

struct dedup {
	size_t key_size;
	size_t mask;	      /* slots - 1; slots is a power of two */
	unsigned max_entries; /* at most half the slots: probes stay short */
	unsigned entries;
	int64_t *values; /* -1: empty slot */
	unsigned char *keys;
};

struct dedup *dedup_new(size_t key_size, unsigned max_entries)
{
	struct dedup *map = xcalloc(1, sizeof(*map));
	size_t slots = 16;

	while (slots < 2 * (size_t)max_entries)
		slots <<= 1;
	map->key_size = key_size;
	map->mask = slots - 1;
	map->max_entries = max_entries;
	map->values = xmalloc(slots * sizeof(*map->values));
	memset(map->values, 0xff, slots * sizeof(*map->values));
	map->keys = xmalloc(slots * key_size);
	return map;
}

void dedup_free(struct dedup *map)
{
	if (!map)
		return;
	free(map->values);
	free(map->keys);
	free(map);
}

/* 64-bit multiply-xorshift over the key, eight bytes at a time. */
static size_t hash_key(const struct dedup *map, const void *key)
{
	const unsigned char *bytes = key;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ map->key_size;

	for (size_t i = 0; i < map->key_size; i += 8) {
		uint64_t word = 0;

		memcpy(&word, bytes + i, map->key_size - i < 8 ? map->key_size - i : 8);
		h = (h ^ word) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return (size_t)h;
}

static unsigned char *slot_key(const struct dedup *map, size_t slot)
{
	return map->keys + slot * map->key_size;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t find_slot(const struct dedup *map, const void *key, bool *found)
{
	size_t slot = hash_key(map, key) & map->mask;

	while (map->values[slot] >= 0) {
		if (!memcmp(slot_key(map, slot), key, map->key_size)) {
			*found = true;
			return slot;
		}
		slot = (slot + 1) & map->mask;
	}
	*found = false;
	return slot;
}

int64_t dedup_find(const struct dedup *map, const void *key)
{
	bool found;
	size_t slot = find_slot(map, key, &found);

	return found ? map->values[slot] : -1;
}

void dedup_add(struct dedup *map, const void *key, int64_t value)
{
	bool found;
	size_t slot = find_slot(map, key, &found);

	if (!found && map->entries >= map->max_entries) {
		memset(map->values, 0xff, (map->mask + 1) * sizeof(*map->values));
		map->entries = 0;
		slot = find_slot(map, key, &found);
	}
	if (!found) {
		memcpy(slot_key(map, slot), key, map->key_size);
		map->entries++;
	}
	map->values[slot] = value;
}

int64_t dedup_remove(struct dedup *map, const void *key)
{
	bool found;
	size_t hole = find_slot(map, key, &found);
	int64_t value;

	if (!found)
		return -1;
	value = map->values[hole];
	map->values[hole] = -1;
	map->entries--;
	/* Backward-shift: move later entries of the run into the hole they skipped. */
	for (size_t slot = (hole + 1) & map->mask; map->values[slot] >= 0;
	     slot = (slot + 1) & map->mask) {
		size_t home = hash_key(map, slot_key(map, slot)) & map->mask;

		if (((slot - home) & map->mask) < ((slot - hole) & map->mask))
			continue; /* its home lies after the hole: it stays */
		memcpy(slot_key(map, hole), slot_key(map, slot), map->key_size);
		map->values[hole] = map->values[slot];
		map->values[slot] = -1;
		hole = slot;
	}
	return value;
}
