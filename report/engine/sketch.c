/* Count-min sketches with conservative update (sketch.h). */
#include <stdlib.h>

#include "sketch.h"
#include "util.h"

void sketch_init(struct sketch *s, int width_log2, int depth)
{
	size_t width = (size_t)1 << width_log2;

	if (depth > SKETCH_DEPTH_MAX)
		abort(); /* a caller's mistake, not the capture's */
	*s = (struct sketch){.cells = xcalloc(width * (size_t)depth, sizeof(*s->cells)),
			     .mask = width - 1,
			     .depth = depth};
}

void sketch_free(struct sketch *s)
{
	free(s->cells);
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

/* The key's cell in row r: bits of the hash of its own for each row. */
static uint32_t *cell(const struct sketch *s, uint64_t hash, int r)
{
	size_t i = (size_t)mix(hash + (uint64_t)r * 0x632be59bd9b4e019ULL) & s->mask;

	return &s->cells[(size_t)r * (s->mask + 1) + i];
}

static uint64_t widened(uint32_t bound)
{
	return bound == UINT32_MAX ? UINT64_MAX : bound;
}

uint64_t sketch_bound(const struct sketch *s, uint64_t hash)
{
	uint32_t bound = UINT32_MAX;

	for (int r = 0; r < s->depth; r++) {
		uint32_t c = *cell(s, hash, r);

		bound = c < bound ? c : bound;
	}
	return widened(bound);
}

/* Conservative update: no cell grows past the key's new bound (it stays an upper bound). */
uint64_t sketch_add(struct sketch *s, uint64_t hash, uint64_t n)
{
	uint32_t *cells[SKETCH_DEPTH_MAX], bound = UINT32_MAX;

	for (int r = 0; r < s->depth; r++) {
		cells[r] = cell(s, hash, r);
		bound = *cells[r] < bound ? *cells[r] : bound;
	}
	bound = n >= (uint64_t)(UINT32_MAX - bound) ? UINT32_MAX : bound + (uint32_t)n;
	for (int r = 0; r < s->depth; r++)
		if (*cells[r] < bound)
			*cells[r] = bound;
	return widened(bound);
}
