/*
 * Count-min sketches with conservative update: fixed memory that answers,
 * for any key, an upper bound on what was added under it (never below the
 * truth).  An analysis that wants exact totals for its heaviest keys counts
 * every event into a sketch first, then reads the events again and keeps
 * exact totals only for the keys whose bound can reach its threshold.
 *
 * The bound's error: each of the depth rows holds some width cells, and a
 * key's cell in a row adds to it what other keys hashing there added; the
 * bound is the least of its rows.  Over a total N added, a row's excess is
 * above 2N/width with a chance of 1/2 at most (Markov).  A key's cells of
 * all rows share one cache line (one miss, not depth of them), so the rows
 * are not independent: the keys that share a line can raise them all, each
 * row's cell with a chance of depth/16.  Conservative update (a cell grows
 * only as far as the key's new bound) makes the excess smaller still.
 * Cells are 32 bits: one that reaches 2^32 - 1 stays there, and bounds it as
 * infinite (still an upper bound).
 */
#ifndef CASEFILE_REPORT_SKETCH_H
#define CASEFILE_REPORT_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#define SKETCH_DEPTH_MAX 4

/* Keys sketch_add_late holds before adding them: their lines are fetched meanwhile. */
#define SKETCH_LATE 16

/* What a late add is to do, and with what. */
struct sketch_late {
	uint64_t hash, n;
	uint64_t a, b; /* the caller's, for added */
};

/* Called as each late add is done: the key's a, b and n, and its new bound. */
typedef void (*sketch_added)(void *ctx, uint64_t a, uint64_t b, uint64_t n, uint64_t bound);

struct sketch {
	uint32_t *cells; /* a key's cells are on one cache line (sketch.c) */
	void *block;	 /* the allocation cells lie in */
	uint64_t lines;
	int depth;
	struct sketch_late late[SKETCH_LATE]; /* a ring */
	unsigned late_head, late_count;
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

/*
 * sketch_add, SKETCH_LATE keys later (or at sketch_flush), then added() with
 * its bound: a sketch larger than the processor's caches misses them on
 * every key, and the miss of a key fetched this early overlaps the work on
 * the keys before it.  Keys are added in the order given.
 */
void sketch_add_late(struct sketch *s, uint64_t hash, uint64_t n, uint64_t a, uint64_t b,
		     sketch_added added, void *ctx);

/* The late adds held, done now. */
void sketch_flush(struct sketch *s, sketch_added added, void *ctx);

/* The key's bound: at least what was added under it (UINT64_MAX: past 32 bits). */
uint64_t sketch_bound(const struct sketch *s, uint64_t hash);

#endif
