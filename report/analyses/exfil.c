/*
 * Exfiltration: bytes out per process and remote, from connection lives
 * (exfil.h), in one pass of bounded memory.  Each close goes as a row to a
 * spill (spill.h) by its pair's hash: held in memory while they fit, else
 * in a temporary file in shares of that hash.  Then each batch of rows, all
 * the closes of some pairs in the order they came, is summed exactly, and
 * its top and flagged pairs kept: memory for a batch's pairs and the top,
 * never for every pair, and one read of the capture whatever their number.
 */
#include <stdlib.h>
#include <string.h>

#include "exfil.h"
#include "spill.h"
#include "util.h"

/*
 * The pairs the last line counts exactly: beyond, "at least" so many (what
 * passes of a sketch could count; every pair is counted now, the line kept).
 */
#define PAIRS_COUNTED 16384
/* Closes held in memory, or read back in one batch (80 bytes, some 25 kept): beyond, spilled. */
#define MEMORY_ROWS (1 << 18)

void exfil_defaults(struct exfil_thresholds *t)
{
	*t = (struct exfil_thresholds){.min_bytes = 1000000, .pcr = 0.8};
}

double exfil_pcr(int64_t sent, int64_t received)
{
	return sent + received ? (double)(sent - received) / (double)(sent + received) : 0;
}

/* A close, as spilled: 64-bit words (spill.h). */
struct close_row {
	uint64_t hash; /* of its pair (spill.h) */
	int64_t pid, task;
	uint64_t cap; /* its struct capture's address */
	int64_t sent, received, wall_ns;
	uint64_t order; /* its place among the closes << 2 | how it was opened */
	int64_t host;
	uint64_t remote;
};

/* The hash of the row's pair (host, process, remote). */
static uint64_t close_hash(const void *row)
{
	const struct close_row *c = row;

	return spill_hash((uint64_t)(uint32_t)c->host << 32 | (uint32_t)c->pid, c->remote);
}

/* Pairs with exact totals. */
struct pairs {
	struct exfil_pair *list;
	size_t count, allocated;
};

struct exfil_run {
	struct peers *peers;
	const struct exfil_thresholds *t;
	size_t top; /* 0: every pair */
	struct spill closes;
	uint64_t order;		    /* closes so far */
	struct pairs batch;	    /* a batch's pairs */
	struct spill_groups groups; /* a batch's pairs by their key */
	struct pairs results;	    /* the batches' top and flagged pairs (no index) */
	size_t pairs;		    /* in all */
	int64_t floor;		    /* the top's last so far sent this much */
	size_t compact_at;	    /* results sorted again at so many */
};

static void pairs_free(struct pairs *p)
{
	free(p->list);
	*p = (struct pairs){0};
}

static struct exfil_pair *append(struct pairs *p, const struct exfil_pair *pair)
{
	if (p->count == p->allocated) {
		p->allocated = p->allocated ? 2 * p->allocated : 64;
		p->list = xrealloc(p->list, p->allocated * sizeof(*p->list));
	}
	p->list[p->count] = *pair;
	return &p->list[p->count++];
}

/* The pair's exact totals, added at its first close. */
static struct exfil_pair *pair_of(struct exfil_run *r, const struct close_row *c)
{
	struct pairs *p = &r->batch;
	struct spill_slot *slot;
	size_t probe = 0;

	while ((slot = spill_groups_probe(&r->groups, c->hash, &probe))->group) {
		struct exfil_pair *pair = &p->list[slot->group - 1];

		/* The key's: the low 32 bits of the pid. */
		if (pair->host == c->host && (uint32_t)pair->pid == (uint32_t)c->pid &&
		    pair->remote == c->remote)
			return pair;
	}
	append(p, &(struct exfil_pair){.host = (int)c->host,
				       .pid = c->pid,
				       .remote = (uint32_t)c->remote,
				       .cap = (struct capture *)(uintptr_t)c->cap,
				       .task = c->task,
				       .first_ns = INT64_MAX,
				       .order = c->order >> 2});
	*slot = (struct spill_slot){c->hash, (uint32_t)p->count};
	return &p->list[p->count - 1];
}

static void count(struct exfil_pair *p, const struct close_row *c)
{
	p->connections++;
	p->sent += c->sent;
	p->received += c->received;
	/* The originator's side, as PCR is defined on: what it sent and was sent. */
	if ((c->order & 3) == OPENED_BY_CONNECT) {
		p->opened_sent += c->sent;
		p->opened_received += c->received;
	}
	if (c->wall_ns < p->first_ns)
		p->first_ns = c->wall_ns;
	p->last_ns = c->wall_ns;
}

static int on_life(const struct event *ev, const struct task *task, int64_t task_id,
		   enum life_opening opened, void *ctx)
{
	struct exfil_run *r = ctx;
	struct close_row c = {.remote = peer_of(r->peers, ev->cap, ev->col[LIVES_RADDR]),
			      .host = peers_host(r->peers, ev->cap),
			      .pid = task ? task->pid : -1,
			      .task = task_id,
			      .cap = (uintptr_t)ev->cap,
			      .sent = ev->col[LIVES_SENT],
			      .received = ev->col[LIVES_RECEIVED],
			      .wall_ns = ev->wall_ns,
			      .order = r->order++ << 2 | opened};

	if (!c.remote)
		return -1;
	c.hash = close_hash(&c);
	return spill_add(&r->closes, &c);
}

static bool flagged(const struct exfil_pair *p, const struct exfil_thresholds *t)
{
	return p->opened_sent >= t->min_bytes &&
	       exfil_pcr(p->opened_sent, p->opened_received) >= t->pcr;
}

/* Most sent first; ties: the first to close first, then the first read. */
static int by_bytes_sent(const void *x, const void *y)
{
	const struct exfil_pair *a = x, *b = y;

	if (a->sent != b->sent)
		return a->sent > b->sent ? -1 : 1;
	if (a->first_ns != b->first_ns)
		return a->first_ns > b->first_ns ? 1 : -1;
	return (a->order > b->order) - (a->order < b->order);
}

/* Whether pair i of list ranks below pair j (by_bytes_sent): the heap's order. */
static bool ranks_below(const struct exfil_pair *list, size_t i, size_t j)
{
	return by_bytes_sent(&list[i], &list[j]) > 0;
}

/* Sift the heap's entry at i down: each entry ranks below its children. */
static void sift_down(const struct exfil_pair *list, size_t *heap, size_t n, size_t i)
{
	for (;;) {
		size_t low = i, child = 2 * i + 1, swap;

		if (child < n && ranks_below(list, heap[child], heap[low]))
			low = child;
		if (child + 1 < n && ranks_below(list, heap[child + 1], heap[low]))
			low = child + 1;
		if (low == i)
			return;
		swap = heap[i];
		heap[i] = heap[low];
		heap[low] = swap;
		i = low;
	}
}

/*
 * Which of the pairs are the top most sent: marked in chosen.  A heap of
 * the top so far, the lowest at its root, each pair compared with that
 * root: the first compaction holds every pair of a batch (80,000 over a
 * fleet's 29 captures), and sorting them all was 8% of exfil's work.
 */
static void mark_top(const struct pairs *p, size_t top, bool *chosen)
{
	size_t *heap = xmalloc(top * sizeof(*heap)), n = 0;

	for (size_t i = 0; i < p->count; i++) {
		if (n < top) {
			heap[n++] = i;
			if (n == top)
				for (size_t k = top / 2; k-- > 0;)
					sift_down(p->list, heap, n, k);
		} else if (ranks_below(p->list, heap[0], i)) {
			heap[0] = i;
			sift_down(p->list, heap, n, 0);
		}
	}
	for (size_t k = 0; k < n; k++)
		chosen[heap[k]] = true;
	free(heap);
}

/* Keep the top and the flagged pairs (every one with top 0), most sent first. */
static void keep_top(struct pairs *p, size_t top)
{
	size_t kept = 0;

	if (top && p->count > top) {
		bool *chosen = xcalloc(p->count, sizeof(*chosen));

		mark_top(p, top, chosen);
		for (size_t i = 0; i < p->count; i++)
			if (chosen[i] || p->list[i].flagged)
				p->list[kept++] = p->list[i];
		p->count = kept;
		free(chosen);
	}
	if (p->count)
		qsort(p->list, p->count, sizeof(*p->list), by_bytes_sent);
}

/* The top so far, and the flagged pairs (every pair with top 0): sorted, the others dropped. */
static void compact(struct exfil_run *r)
{
	keep_top(&r->results, r->top);
	if (r->results.count >= r->top)
		r->floor = r->results.list[r->top - 1].sent;
	/* Sorted again when twice as many: a batch's pairs cost a comparison each, not a sort. */
	r->compact_at = 2 * (r->results.count > r->top ? r->results.count : r->top);
}

/* A batch of closes, all of their pairs': summed, and those that may be in the top or are flagged
 * kept. */
static int sum_batch(void *rows, size_t n, void *ctx)
{
	struct exfil_run *r = ctx;
	const struct close_row *c = rows;

	spill_groups_reset(&r->groups, n);
	r->batch.count = 0;
	for (size_t i = 0; i < n; i++)
		count(pair_of(r, &c[i]), &c[i]);
	r->pairs += r->batch.count;
	for (size_t i = 0; i < r->batch.count; i++) {
		struct exfil_pair *p = &r->batch.list[i];

		p->flagged = flagged(p, r->t);
		/* Below the top's last so far (the one sent as much may have closed first): never
		 * in it. */
		if (!r->top || p->flagged || p->sent >= r->floor)
			append(&r->results, p);
	}
	if (r->top && r->results.count >= r->compact_at)
		compact(r);
	return 0;
}

static int passed(void *ctx)
{
	struct exfil_run *r = ctx;

	return spill_each(&r->closes, sum_batch, r);
}

struct exfil_run *exfil_start(struct peers *peers, const struct exfil_thresholds *t, size_t top)
{
	struct exfil_run *r = xcalloc(1, sizeof(*r));

	*r = (struct exfil_run){
		.peers = peers, .t = t, .top = top, .floor = INT64_MIN, .compact_at = 2 * top};
	spill_init(&r->closes, "exfil", sizeof(struct close_row), MEMORY_ROWS, close_hash);
	return r;
}

struct life_analysis exfil_analysis(struct exfil_run *r)
{
	return (struct life_analysis){
		.emit = on_life, .passed = passed, .ctx = r, .unread = 1u << LIVES_START};
}

int exfil_finish(struct exfil_run *r, int err, struct exfil *out)
{
	*out = (struct exfil){0};
	if (!err) {
		keep_top(&r->results, r->top);
		*out = (struct exfil){.list = r->results.list,
				      .count = r->results.count,
				      .pairs = r->pairs < PAIRS_COUNTED ? r->pairs : PAIRS_COUNTED,
				      .pairs_at_least = r->pairs > PAIRS_COUNTED};
		r->results.list = NULL;
	}
	spill_free(&r->closes);
	spill_groups_free(&r->groups);
	pairs_free(&r->batch);
	pairs_free(&r->results);
	free(r);
	return err ? -1 : 0;
}

int find_exfil(struct captures *set, const struct options *opts, const struct exfil_thresholds *t,
	       size_t top, struct peers *peers, struct exfil *out)
{
	struct exfil_run *r = exfil_start(peers, t, top);
	struct life_analysis a = exfil_analysis(r);

	return exfil_finish(r, replay_lives_shared(set, opts, &a, 1), out);
}

void exfil_free(struct exfil *e)
{
	free(e->list);
	*e = (struct exfil){0};
}
