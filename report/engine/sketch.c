/* Count-min sketches with conservative update (sketch.h). */
#include <stdlib.h>

#include "sketch.h"
#include "util.h"

void sketch_init(struct sketch *s, int width_log2, int depth, int fields)
{
	size_t width = (size_t)1 << width_log2;

	if (depth > SKETCH_DEPTH_MAX || fields > SKETCH_FIELDS_MAX)
		abort(); /* a caller's mistake, not the capture's */
	*s = (struct sketch){
		.cells = xcalloc(width * (size_t)depth * (size_t)fields, sizeof(*s->cells)),
		.mask = width - 1,
		.depth = depth,
		.fields = fields};
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

/* The key's cells in row r: its own bits of the hash for each row. */
static uint64_t *cell(const struct sketch *s, uint64_t hash, int r)
{
	size_t i = (size_t)mix(hash + (uint64_t)r * 0x632be59bd9b4e019ULL) & s->mask;

	return &s->cells[((size_t)r * (s->mask + 1) + i) * (size_t)s->fields];
}

void sketch_bound(const struct sketch *s, uint64_t hash, uint64_t *bound)
{
	for (int f = 0; f < s->fields; f++)
		bound[f] = UINT64_MAX;
	for (int r = 0; r < s->depth; r++) {
		const uint64_t *c = cell(s, hash, r);

		for (int f = 0; f < s->fields; f++)
			bound[f] = c[f] < bound[f] ? c[f] : bound[f];
	}
}

/* Conservative update: no cell grows past the key's new bound (it stays an upper bound). */
void sketch_add(struct sketch *s, uint64_t hash, const uint64_t *add, uint64_t *bound)
{
	uint64_t *cells[SKETCH_DEPTH_MAX];
	int depth = s->depth;

	for (int f = 0; f < s->fields; f++)
		bound[f] = UINT64_MAX;
	for (int r = 0; r < depth; r++) {
		cells[r] = cell(s, hash, r);
		for (int f = 0; f < s->fields; f++)
			bound[f] = cells[r][f] < bound[f] ? cells[r][f] : bound[f];
	}
	for (int f = 0; f < s->fields; f++) {
		bound[f] += add[f];
		for (int r = 0; r < depth; r++)
			if (cells[r][f] < bound[f])
				cells[r][f] = bound[f];
	}
}
