/*
 * Tallies: counts per key (any bytes), for reports that aggregate events as
 * they stream (tcpconnect -c, capable --unique).  Memory grows with distinct
 * keys, never with events.  Open addressing, linear probing, FNV-1a.
 */
#include <stdlib.h>
#include <string.h>

#include "tally.h"
#include "util.h"

struct tally {
	struct tally_entry **slots;
	size_t size; /* a power of two */
	size_t used;
	struct tally_entry **sorted;
};

static uint64_t hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

struct tally *tally_new(void)
{
	struct tally *tally = xcalloc(1, sizeof(*tally));

	tally->size = 64;
	tally->slots = xcalloc(tally->size, sizeof(*tally->slots));
	return tally;
}

void tally_free(struct tally *tally)
{
	if (!tally)
		return;
	for (size_t i = 0; i < tally->size; i++)
		free(tally->slots[i]);
	free(tally->slots);
	free(tally->sorted);
	free(tally);
}

static struct tally_entry **slot_of(struct tally_entry **slots, size_t size, const void *key,
				    size_t len)
{
	size_t i = hash(key, len) & (size - 1);

	while (slots[i] && (slots[i]->len != len || memcmp(slots[i]->key, key, len)))
		i = (i + 1) & (size - 1);
	return &slots[i];
}

/* Keep the table at most half full. */
static void grow(struct tally *tally)
{
	size_t size = tally->size * 2;
	struct tally_entry **slots = xcalloc(size, sizeof(*slots));

	for (size_t i = 0; i < tally->size; i++) {
		struct tally_entry *e = tally->slots[i];

		if (e)
			*slot_of(slots, size, e->key, e->len) = e;
	}
	free(tally->slots);
	tally->slots = slots;
	tally->size = size;
}

int64_t tally_add(struct tally *tally, const void *key, size_t len, int64_t n)
{
	struct tally_entry **slot = slot_of(tally->slots, tally->size, key, len);

	if (!*slot) {
		*slot = xmalloc(sizeof(**slot) + len);
		(*slot)->count = 0;
		(*slot)->len = len;
		memcpy((*slot)->key, key, len);
		if (2 * ++tally->used > tally->size) {
			struct tally_entry *e = *slot;

			grow(tally);
			slot = slot_of(tally->slots, tally->size, e->key, e->len);
		}
	}
	(*slot)->count += n;
	return (*slot)->count;
}

static int by_count(const void *a, const void *b)
{
	const struct tally_entry *x = *(struct tally_entry *const *)a;
	const struct tally_entry *y = *(struct tally_entry *const *)b;
	int order;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	order = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
	return order ? order : (x->len > y->len) - (x->len < y->len);
}

struct tally_entry **tally_sorted(struct tally *tally, size_t *count)
{
	size_t n = 0;

	tally->sorted =
		xrealloc(tally->sorted, (tally->used ? tally->used : 1) * sizeof(*tally->sorted));
	for (size_t i = 0; i < tally->size; i++)
		if (tally->slots[i])
			tally->sorted[n++] = tally->slots[i];
	qsort(tally->sorted, n, sizeof(*tally->sorted), by_count);
	*count = n;
	return tally->sorted;
}
