/*
 * Hash maps keyed by two 64-bit integers, for the analyses: groups of events,
 * the items of a time window, sets.  A zeroed map is an empty one.  Memory
 * grows with distinct keys, never with events.
 */
#ifndef CASEFILE_REPORT_HASHMAP_H
#define CASEFILE_REPORT_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hashmap_entry {
	uint64_t a, b;
	uint64_t value;
	uint32_t hash; /* of (a, b), its slot before the mask: entries move without rehashing */
	bool used;
};

struct hashmap {
	struct hashmap_entry *slots;
	size_t mask; /* slots - 1, a power of two minus one; 0 before the first put */
	size_t count;
};

/*
 * For deletion by shifting back in any table of open addressing with linear
 * probing: whether slot `home` lies cyclically in (hole, at], so that the
 * entry at `at`, whose home it is, must stay after the hole.
 */
static inline bool hashmap_stays(size_t hole, size_t home, size_t at)
{
	return hole <= at ? hole < home && home <= at : hole < home || home <= at;
}

void hashmap_clear(struct hashmap *map);

/* The value of (a, b), or NULL. */
uint64_t *hashmap_find(const struct hashmap *map, uint64_t a, uint64_t b);

/* The value of (a, b), added as 0 when absent; valid until the next put or remove. */
uint64_t *hashmap_put(struct hashmap *map, uint64_t a, uint64_t b, bool *added);

void hashmap_remove(struct hashmap *map, uint64_t a, uint64_t b);

/* Remove (a, b), its value into *value: true, or false when absent (one probe, not two). */
bool hashmap_take(struct hashmap *map, uint64_t a, uint64_t b, uint64_t *value);

/*
 * Start bringing the slot of (a, b) into the cache, and the next slot, which
 * may start another line (probes and removals go on past the first): a large
 * map misses the cache on every key, and a caller that knows its next keys
 * can overlap those misses with its work.
 */
void hashmap_prefetch(const struct hashmap *map, uint64_t a, uint64_t b);

/* Every entry in no particular order: *cursor starts at 0; NULL at the end. */
const struct hashmap_entry *hashmap_next(const struct hashmap *map, size_t *cursor);

#endif
