/*
 * A blocked Bloom filter: 8 MiB, 4 bits a key in one 64-byte line.  With the
 * 7 million keys of the resets of 100 million events, about 2% of other keys
 * are "maybe"; with a tenth of them, far less.
 */
#include "bloom.h"

#include <stdlib.h>

#include "util.h"

#define LINE_BITS   17 /* 2^17 lines of 512 bits: 8 MiB, allocated at the first key */
#define LINES	    (1u << LINE_BITS)
#define LINE_WORDS  8
#define KEY_BITS    4
#define BIT_OF_LINE 9 /* bits of a hash that pick one of a line's 512 */

static uint64_t hash_of(uint64_t a, uint64_t b)
{
	uint64_t h =
		a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL) * 0xbf58476d1ce4e5b9ULL;

	h ^= h >> 29;
	h *= 0x94d049bb133111ebULL;
	return h ^ h >> 32;
}

/* The line of the key, and its bits in it: the bits of the hash above the line's number. */
static uint64_t *line_of(const struct bloom *filter, uint64_t h)
{
	return &filter->lines[(h & filter->mask) * LINE_WORDS];
}

void bloom_add(struct bloom *filter, uint64_t a, uint64_t b)
{
	uint64_t h = hash_of(a, b), *line;

	if (!filter->lines) {
		filter->lines = xcalloc_aligned(LINES * LINE_WORDS, sizeof(uint64_t), CACHE_LINE);
		filter->mask = LINES - 1;
	}
	line = line_of(filter, h);
	h >>= LINE_BITS; /* past the line's number */
	for (int i = 0; i < KEY_BITS; i++, h >>= BIT_OF_LINE)
		line[(h >> 6) & (LINE_WORDS - 1)] |= 1ULL << (h & 63);
}

void bloom_prefetch(const struct bloom *filter, uint64_t a, uint64_t b)
{
	if (filter->lines)
		__builtin_prefetch(line_of(filter, hash_of(a, b)), 1);
}

bool bloom_may_hold(const struct bloom *filter, uint64_t a, uint64_t b)
{
	uint64_t h = hash_of(a, b);
	const uint64_t *line;

	if (!filter->lines)
		return false;
	line = line_of(filter, h);
	h >>= LINE_BITS;
	for (int i = 0; i < KEY_BITS; i++, h >>= BIT_OF_LINE)
		if (!(line[(h >> 6) & (LINE_WORDS - 1)] & 1ULL << (h & 63)))
			return false;
	return true;
}

void bloom_clear(struct bloom *filter)
{
	free(filter->lines);
	*filter = (struct bloom){0};
}
