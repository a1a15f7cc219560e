/* Growing a ring in place: see ring.h. */
#include <string.h>

#include "ring.h"
#include "util.h"

#define INITIAL_ITEMS 1024

void *ring_grow(void *items, size_t item_size, size_t *size, uint64_t first)
{
	size_t old = *size, grown = old ? 2 * old : INITIAL_ITEMS;
	char *ring = xrealloc(items, grown * item_size);

	for (uint64_t n = first; n < first + old; n++)
		if (n & old)
			memcpy(ring + (n & (grown - 1)) * item_size,
			       ring + (n & (old - 1)) * item_size, item_size);
	*size = grown;
	return ring;
}
