/* Count-min sketches with conservative update (sketch.h). */
#include <stdlib.h>

#include "sketch.h"
#include "util.h"

/* A cache line of cells: a key's of every row are on one (cells_of). */
#define CELLS_PER_LINE (CACHE_LINE / sizeof(uint32_t))

void sketch_init(struct sketch *s, int width_log2, int depth)
{
	size_t cells = ((size_t)1 << width_log2) * (size_t)depth;

	if (depth < 1 || depth > SKETCH_DEPTH_MAX)
		abort(); /* a caller's mistake, not the capture's */
	*s = (struct sketch){
		/* calloc's, not zeroed by hand: pages never touched cost nothing. */
		.block = xcalloc(cells + CELLS_PER_LINE, sizeof(*s->cells)),
		.lines = cells / CELLS_PER_LINE,
		.depth = depth,
	};
	/* The lines on the processor's: a key's cells are then one line, not two. */
	s->cells =
		(uint32_t *)(((uintptr_t)s->block + CACHE_LINE - 1) & ~(uintptr_t)(CACHE_LINE - 1));
}

void sketch_free(struct sketch *s)
{
	free(s->block);
	*s = (struct sketch){0};
}

/* splitmix64's finalizer: every bit of x moves every bit of the result. */
static uint64_t mix(uint64_t x)
{
	x = (x ^ x >> 30) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ x >> 27) * 0x94d049bb133111ebULL;
	return x ^ x >> 31;
}

uint64_t sketch_hash(uint64_t a, uint64_t b)
{
	return mix(mix(a) ^ (b + 0x9e3779b97f4a7c15ULL));
}

/*
 * The key's cells, one per row, all on one cache line: the line from the
 * hash's high bits, and in each row's share of the line (CELLS_PER_LINE /
 * depth cells) one cell by bits of its own.  A sketch larger than the
 * processor's caches misses them once per key, not once per row: the rows
 * apart, those misses were most of the first pass of an analysis.  Keys on
 * one line stand apart in each row as they would in rows a share as wide.
 */
static void cells_of(const struct sketch *s, uint64_t hash, uint32_t **cells)
{
	uint32_t *line = &s->cells[(size_t)((hash >> 32) * s->lines >> 32) * CELLS_PER_LINE];
	uint64_t bits = mix(hash);
	size_t share = CELLS_PER_LINE / (size_t)s->depth;

	for (int r = 0; r < s->depth; r++, bits >>= 16)
		cells[r] = &line[(size_t)r * share + (size_t)((bits & 0xffff) * share >> 16)];
}

static uint64_t widened(uint32_t bound)
{
	return bound == UINT32_MAX ? UINT64_MAX : bound;
}

uint64_t sketch_bound(const struct sketch *s, uint64_t hash)
{
	uint32_t *cells[SKETCH_DEPTH_MAX], bound = UINT32_MAX;

	cells_of(s, hash, cells);
	for (int r = 0; r < s->depth; r++)
		bound = *cells[r] < bound ? *cells[r] : bound;
	return widened(bound);
}

/* Conservative update: no cell grows past the key's new bound (it stays an upper bound). */
uint64_t sketch_add(struct sketch *s, uint64_t hash, uint64_t n)
{
	uint32_t *cells[SKETCH_DEPTH_MAX], bound = UINT32_MAX;

	cells_of(s, hash, cells);
	for (int r = 0; r < s->depth; r++)
		bound = *cells[r] < bound ? *cells[r] : bound;
	bound = n >= (uint64_t)(UINT32_MAX - bound) ? UINT32_MAX : bound + (uint32_t)n;
	for (int r = 0; r < s->depth; r++)
		if (*cells[r] < bound)
			*cells[r] = bound;
	return widened(bound);
}

void sketch_add_late(struct sketch *s, uint64_t hash, uint64_t n, uint64_t a, uint64_t b,
		     sketch_added added, void *ctx)
{
	uint32_t *cells[SKETCH_DEPTH_MAX];

	if (s->late_count == SKETCH_LATE) {
		const struct sketch_late *first = &s->late[s->late_head];

		added(ctx, first->a, first->b, first->n, sketch_add(s, first->hash, first->n));
		s->late_head = (s->late_head + 1) % SKETCH_LATE;
		s->late_count--;
	}
	cells_of(s, hash, cells);
	__builtin_prefetch(cells[0], 1);
	s->late[(s->late_head + s->late_count++) % SKETCH_LATE] =
		(struct sketch_late){hash, n, a, b};
}

void sketch_flush(struct sketch *s, sketch_added added, void *ctx)
{
	for (; s->late_count; s->late_count--, s->late_head = (s->late_head + 1) % SKETCH_LATE) {
		const struct sketch_late *first = &s->late[s->late_head];

		added(ctx, first->a, first->b, first->n, sketch_add(s, first->hash, first->n));
	}
}
