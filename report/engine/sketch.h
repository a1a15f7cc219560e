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
 * makes it smaller still.  Cells are 32 bits: one that reaches 2^32 - 1
 * stays there, and bounds it as infinite (still an upper bound).
 */
#ifndef CASEFILE_REPORT_SKETCH_H
#define CASEFILE_REPORT_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#define SKETCH_DEPTH_MAX 4

struct sketch {
	uint32_t *cells; /* row r, cell i: cells[r * width + i] */
	size_t mask;	 /* width - 1 */
	int depth;
};

/*
 * 2^width_log2 cells a row, depth rows (SKETCH_DEPTH_MAX at most): zeroed
 * pages, so that those never touched cost no memory.
 */
void sketch_init(struct sketch *s, int width_log2, int depth);
void sketch_free(struct sketch *s);

/* A key's hash for the sketch, from the two integers that name it (well mixed: rows take its bits).
 */
uint64_t sketch_hash(uint64_t a, uint64_t b);

/* Add n under the key of this hash; its new bound (UINT64_MAX: past 32 bits). */
uint64_t sketch_add(struct sketch *s, uint64_t hash, uint64_t n);

/* The key's bound: at least what was added under it (UINT64_MAX: past 32 bits). */
uint64_t sketch_bound(const struct sketch *s, uint64_t hash);

#endif
