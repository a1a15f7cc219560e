/*
 * A bounded map from fixed-size keys to integers: the recorder's memory of
 * what it has already written (tasks, addresses, stacks) and of the connects
 * still in flight.  Memory stays bounded: when the map is full it forgets
 * everything, so a caller writes a duplicate row later, never a wrong one.
 */
#ifndef CASEFILE_RECORD_DEDUP_H
#define CASEFILE_RECORD_DEDUP_H

#include <stddef.h>
#include <stdint.h>

struct dedup;

struct dedup *dedup_new(size_t key_size, unsigned max_entries);
void dedup_free(struct dedup *map);

/* The value stored for key, or -1. */
int64_t dedup_find(const struct dedup *map, const void *key);

/* Remember key -> value (value >= 0), replacing any earlier value. */
void dedup_add(struct dedup *map, const void *key, int64_t value);

/* Forget key; returns its value, or -1 if it was not there. */
int64_t dedup_remove(struct dedup *map, const void *key);

#endif
