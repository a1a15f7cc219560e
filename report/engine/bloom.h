/*
 * A Bloom filter of keys of two 64-bit integers, of a fixed size: "maybe
 * seen" or "surely not", in memory that does not grow with the keys.  An
 * analysis that must match two large streams of events puts the keys of one
 * in it, then keeps in an exact set only the other's keys it may have seen.
 */
#ifndef CASEFILE_REPORT_BLOOM_H
#define CASEFILE_REPORT_BLOOM_H

#include <stdbool.h>
#include <stdint.h>

struct bloom {
	uint64_t *lines; /* of 512 bits: every key sets bits in one line, one cache miss */
	uint64_t mask;	 /* lines - 1; NULL lines: nothing added yet */
};

void bloom_add(struct bloom *filter, uint64_t a, uint64_t b);

/* Whether (a, b) may have been added: never false for one that was. */
bool bloom_may_hold(const struct bloom *filter, uint64_t a, uint64_t b);

/* Start fetching the line of (a, b), for a caller that knows its next keys. */
void bloom_prefetch(const struct bloom *filter, uint64_t a, uint64_t b);
void bloom_clear(struct bloom *filter);

#endif
