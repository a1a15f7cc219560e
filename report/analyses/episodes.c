/*
 * Episodes of groups of events, over a sliding window: one queue of the last
 * window's events, all groups together (events come in time order), and per
 * group the count of each item in its window.  An event leaving the queue
 * leaves its group's window; a group whose last event leaves has had a
 * window without events: its episode is over.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "episodes.h"
#include "hashmap.h"
#include "ring.h"
#include "util.h"

/*
 * Most groups hold a few distinct items in a window: those stay in the group
 * itself (no allocation, no cache miss); a group with more spills them all
 * into a table of counts.
 */
#define INLINE_ITEMS 4

/*
 * A spilled group's items and their events in the window: open addressing,
 * linear probing, deletion by shifting back (as hashmap.c), in 16 bytes a
 * slot, not a hash map's 32: over 100M generated events every probe and
 * connect added to and removed from windows of hundreds of items, tables
 * of some 100 MB, and each line was a cache miss.
 */
struct item_count {
	uint64_t item;
	int64_t n; /* 0: an empty slot */
};

struct item_counts {
	struct item_count *slots; /* NULL: unused (the items are inline) */
	uint32_t mask;		  /* slots - 1, a power of two minus one */
	uint32_t count;
};

#define COUNTS_INITIAL 16 /* slots: the first spill holds INLINE_ITEMS + 1 */

struct group {
	struct episode episode;
	int64_t in_window; /* counted events in the window */
	int64_t queued;	   /* events in the queue */
	int inline_items;  /* distinct: items in inline[], while the map is unused */
	struct {
		uint64_t item;
		int64_t n;
	} inline_[INLINE_ITEMS];
	struct item_counts items; /* distinct, spilled */
	/*
	 * The rule's data, in the same block: an episode that lasts one event
	 * (most do) costs no allocation of its own once groups are spare.
	 */
	_Alignas(max_align_t) unsigned char data[];
};

/*
 * An event in the window: its group, with whether it is counted in the low
 * bit (a group is aligned far beyond it).  24 bytes, not 32: the window is
 * most of what a detection holds when the event rate is high.
 */
struct queued {
	uintptr_t group_counted;
	int64_t t;
	uint64_t item;
};

static struct group *queued_group(const struct queued *q)
{
	return (struct group *)(q->group_counted & ~(uintptr_t)1);
}

static bool queued_counted(const struct queued *q)
{
	return q->group_counted & 1;
}

struct episodes {
	struct episodes_rule rule;
	struct hashmap groups; /* key -> struct group * */
	struct queued *queue;  /* a ring */
	size_t head, len, size;
	/* Groups of ended episodes, for the next ones: most last one event. */
	struct group **spare;
	size_t spares, spares_allocated;
};

struct episodes *episodes_new(const struct episodes_rule *rule)
{
	struct episodes *e = xcalloc(1, sizeof(*e));

	e->rule = *rule;
	return e;
}

static void drop(struct episodes *e, struct group *g)
{
	if (e->rule.release)
		e->rule.release(g->episode.data);
	free(g->items.slots);
	g->items = (struct item_counts){0};
	hashmap_remove(&e->groups, g->episode.key[0], g->episode.key[1]);
	if (e->spares == e->spares_allocated) {
		e->spares_allocated = e->spares_allocated ? 2 * e->spares_allocated : 64;
		e->spare = xrealloc(e->spare, e->spares_allocated * sizeof(*e->spare));
	}
	e->spare[e->spares++] = g;
}

static int close_group(struct episodes *e, struct group *g)
{
	int rc = e->rule.closed(&g->episode, e->rule.ctx);

	drop(e, g);
	return rc;
}

static bool spilled(const struct group *g)
{
	return g->items.slots != NULL;
}

static uint32_t item_home(const struct item_counts *c, uint64_t item)
{
	uint64_t h = item * 0x9e3779b97f4a7c15ULL;

	return (uint32_t)((h ^ h >> 29) >> 32) & c->mask;
}

static struct item_count *item_slot(const struct item_counts *c, uint64_t item)
{
	uint32_t i = item_home(c, item);

	while (c->slots[i].n && c->slots[i].item != item)
		i = (i + 1) & c->mask;
	return &c->slots[i];
}

/* n more events of item in the window (at most half the slots used). */
static void counts_add(struct item_counts *c, uint64_t item, int64_t n)
{
	struct item_count *slot;

	if (!c->slots || 2 * (c->count + 1) > c->mask + 1) {
		struct item_counts old = *c;
		uint32_t slots = old.slots ? 2 * (old.mask + 1) : COUNTS_INITIAL;

		c->slots = xcalloc_aligned(slots, sizeof(*c->slots), CACHE_LINE);
		c->mask = slots - 1;
		for (uint32_t i = 0; old.slots && i <= old.mask; i++)
			if (old.slots[i].n)
				*item_slot(c, old.slots[i].item) = old.slots[i];
		free(old.slots);
	}
	slot = item_slot(c, item);
	if (!slot->n) {
		slot->item = item;
		c->count++;
	}
	slot->n += n;
}

/* An event of item (in the window) left it. */
static void counts_remove_one(struct item_counts *c, uint64_t item)
{
	struct item_count *slot = item_slot(c, item);
	uint32_t hole = (uint32_t)(slot - c->slots);

	if (--slot->n)
		return;
	for (uint32_t at = (hole + 1) & c->mask; c->slots[at].n; at = (at + 1) & c->mask) {
		if (hashmap_stays(hole, item_home(c, c->slots[at].item), at))
			continue;
		c->slots[hole] = c->slots[at];
		hole = at;
	}
	c->slots[hole].n = 0;
	c->count--;
}

/*
 * Start fetching item's slot, and the next line when the slot ends one:
 * probes go on past it.  Inlined always: GCC finds a function of prefetches
 * alone pure and deletes the calls to it.
 */
__attribute__((always_inline)) static inline void counts_prefetch(const struct item_counts *c,
								  uint64_t item)
{
	uint32_t i = item_home(c, item);

	__builtin_prefetch(&c->slots[i]);
	if ((i + 1) % (CACHE_LINE / sizeof(*c->slots)) == 0)
		__builtin_prefetch(&c->slots[(i + 1) & c->mask]);
}

static void add_item(struct group *g, uint64_t item)
{
	if (!spilled(g)) {
		for (int i = 0; i < g->inline_items; i++) {
			if (g->inline_[i].item == item) {
				g->inline_[i].n++;
				return;
			}
		}
		if (g->inline_items < INLINE_ITEMS) {
			g->inline_[g->inline_items].item = item;
			g->inline_[g->inline_items++].n = 1;
			return;
		}
		for (int i = 0; i < g->inline_items; i++)
			counts_add(&g->items, g->inline_[i].item, g->inline_[i].n);
		g->inline_items = 0;
	}
	counts_add(&g->items, item, 1);
}

static void remove_item(struct group *g, uint64_t item)
{
	if (spilled(g)) {
		counts_remove_one(&g->items, item);
		return;
	}
	for (int i = 0; i < g->inline_items; i++) {
		if (g->inline_[i].item == item) {
			if (--g->inline_[i].n == 0)
				g->inline_[i] = g->inline_[--g->inline_items];
			return;
		}
	}
}

static int64_t distinct_items(const struct group *g)
{
	return spilled(g) ? (int64_t)g->items.count : g->inline_items;
}

/*
 * Events leave the window in the order they came, and their groups are
 * scattered over the heap (a window of a busy hour holds thousands): what
 * evict() counts in the group of the event this far behind is fetched into
 * the cache while the first leaves, and, half as far, once that group is
 * in the cache, the slot of its item in the group's map (a group of a
 * dense capture holds dozens in a window: every eviction missed there).
 */
#define EVICT_AHEAD 8

static const struct queued *queued_at(const struct episodes *e, size_t ahead)
{
	return &e->queue[(e->head + ahead) & (e->size - 1)];
}

/* The oldest event leaves the window. */
static int evict(struct episodes *e)
{
	struct queued *q = &e->queue[e->head];
	struct group *g = queued_group(q);

	if (e->len > EVICT_AHEAD) {
		const struct queued *near = queued_at(e, EVICT_AHEAD / 2);
		const struct group *far = queued_group(queued_at(e, EVICT_AHEAD));

		__builtin_prefetch(&far->queued);
		__builtin_prefetch(&far->items);
		if (queued_counted(near) && e->rule.distinct && spilled(queued_group(near)))
			counts_prefetch(&queued_group(near)->items, near->item);
	}
	e->head = (e->head + 1) & (e->size - 1);
	e->len--;
	if (queued_counted(q) && e->rule.distinct)
		remove_item(g, q->item);
	else if (queued_counted(q))
		g->in_window--;
	return --g->queued ? 0 : close_group(e, g);
}

static void enqueue(struct episodes *e, const struct queued *q)
{
	if (e->len == e->size)
		e->queue = ring_grow(e->queue, sizeof(*e->queue), &e->size, e->head);
	e->queue[(e->head + e->len++) & (e->size - 1)] = *q;
}

struct episode *episodes_add(struct episodes *e, const uint64_t key[2], int64_t t, bool counted,
			     uint64_t item)
{
	struct group *g;
	uint64_t *slot;
	bool added;
	int64_t in_window;

	/* Kept: events at t - window or later; the window is closed at both ends. */
	while (e->len && e->queue[e->head].t < t - e->rule.window_ns)
		if (evict(e))
			return NULL;
	slot = hashmap_put(&e->groups, key[0], key[1], &added);
	if (added) {
		if (e->spares) {
			g = e->spare[--e->spares];
			memset(g, 0, sizeof(*g) + e->rule.data_size);
		} else {
			g = xcalloc(1, sizeof(*g) + e->rule.data_size);
		}
		g->episode.key[0] = key[0];
		g->episode.key[1] = key[1];
		g->episode.first_ns = t;
		g->episode.data = e->rule.data_size ? g->data : NULL;
		*slot = (uint64_t)(uintptr_t)g;
	}
	g = (struct group *)(uintptr_t)*slot;
	enqueue(e, &(struct queued){(uintptr_t)g | counted, t, item});
	g->queued++;
	g->episode.last_ns = t;
	g->episode.events++;
	if (counted) {
		g->episode.counted++;
		if (e->rule.distinct)
			add_item(g, item);
		else
			g->in_window++;
		in_window = e->rule.distinct ? distinct_items(g) : g->in_window;
		if (in_window > g->episode.peak)
			g->episode.peak = in_window;
	}
	return &g->episode;
}

void episodes_prefetch_slot(const struct episodes *e, const uint64_t key[2])
{
	hashmap_prefetch(&e->groups, key[0], key[1]);
}

void episodes_prefetch(const struct episodes *e, const uint64_t key[2], size_t data_bytes)
{
	const uint64_t *slot = hashmap_find(&e->groups, key[0], key[1]);
	const char *g = slot ? (const char *)(uintptr_t)*slot : NULL;

	if (!g)
		return;
	for (size_t at = 0; at < offsetof(struct group, data) + data_bytes; at += CACHE_LINE)
		__builtin_prefetch(g + at);
}

const struct episode *episodes_prefetch_item(const struct episodes *e, const uint64_t key[2],
					     uint64_t item)
{
	const uint64_t *slot = hashmap_find(&e->groups, key[0], key[1]);
	const struct group *g = slot ? (const struct group *)(uintptr_t)*slot : NULL;

	if (g && spilled(g))
		counts_prefetch(&g->items, item);
	return g ? &g->episode : NULL;
}

static int by_start(const void *a, const void *b)
{
	const struct episode *x = &(*(struct group *const *)a)->episode;
	const struct episode *y = &(*(struct group *const *)b)->episode;

	if (x->first_ns != y->first_ns)
		return x->first_ns < y->first_ns ? -1 : 1;
	if (x->key[0] != y->key[0])
		return x->key[0] < y->key[0] ? -1 : 1;
	return (x->key[1] > y->key[1]) - (x->key[1] < y->key[1]);
}

/* The groups still open, earliest episode first (a stable order for the rules). */
static struct group **open_groups(struct episodes *e, size_t *count)
{
	struct group **list = xcalloc(e->groups.count, sizeof(*list));
	const struct hashmap_entry *entry;
	size_t cursor = 0, n = 0;

	while ((entry = hashmap_next(&e->groups, &cursor)))
		list[n++] = (struct group *)(uintptr_t)entry->value;
	qsort(list, n, sizeof(*list), by_start);
	*count = n;
	return list;
}

int episodes_finish(struct episodes *e)
{
	size_t count;
	struct group **list = open_groups(e, &count);
	int err = 0;

	for (size_t i = 0; i < count; i++) {
		if (err)
			drop(e, list[i]);
		else
			err = close_group(e, list[i]);
	}
	free(list);
	e->len = 0;
	return err;
}

void episodes_free(struct episodes *e)
{
	size_t count;
	struct group **list;

	if (!e)
		return;
	list = open_groups(e, &count);
	for (size_t i = 0; i < count; i++)
		drop(e, list[i]);
	free(list);
	hashmap_clear(&e->groups);
	for (size_t i = 0; i < e->spares; i++)
		free(e->spare[i]);
	free(e->spare);
	free(e->queue);
	free(e);
}
