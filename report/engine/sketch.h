/*
 * Count-min sketches with conservative update: fixed memory that answers,
 * for any key, an upper bound on what was added under it (never below the
 * truth).  An analysis that wants exact totals for its heaviest keys counts
 * every event into a sketch first, then reads the events again and keeps
 * exact totals only for the keys whose bound can reach its threshold.
 *
 * The bound's error: each of the depth rows holds width cells, and a key's
 * cell in a row adds to it what other keys hashing there added; the bound is
 * the least of its rows.  Over a total N added, a row's excess is above
 * 2N/width with a chance of 1/2 at most (Markov), the bound's with 2^-depth.
 * Conservative update (a cell grows only as far as the key's new bound)
 * makes it smaller still.
 */
#ifndef CASEFILE_REPORT_SKETCH_H
#define CASEFILE_REPORT_SKETCH_H

#include <stddef.h>
#include <stdint.h>

/* Counts per key at most: a pair's bytes and the bytes of the connections it opened. */
#define SKETCH_FIELDS_MAX 2
#define SKETCH_DEPTH_MAX  4

struct sketch {
	uint64_t *cells; /* row r, cell i, field f: cells[(r * width + i) * fields + f] */
	size_t mask;	 /* width - 1 */
	int depth, fields;
};

/*
 * 2^width_log2 cells a row, depth rows (SKETCH_DEPTH_MAX at most), fields
 * counts a cell: zeroed pages, so that those never touched cost no memory.
 */
void sketch_init(struct sketch *s, int width_log2, int depth, int fields);
void sketch_free(struct sketch *s);

/* A key's hash for the sketch, from the two integers that name it (well mixed: rows take its bits).
 */
uint64_t sketch_hash(uint64_t a, uint64_t b);

/* Add add[0..fields) under the key of this hash; its new bounds into bound[0..fields). */
void sketch_add(struct sketch *s, uint64_t hash, const uint64_t *add, uint64_t *bound);

/* The key's bounds, into bound[0..fields): each at least what was added under it. */
void sketch_bound(const struct sketch *s, uint64_t hash, uint64_t *bound);

#endif
