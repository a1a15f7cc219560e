/*
 * Exfiltration: bytes out per process and remote, from connection lives
 * (exfil.h), in passes of bounded memory.  The first counts every pair's
 * bytes sent into a count-min sketch (upper bounds) and follows some pairs
 * exactly from when they come in (the top of what they sent since is a
 * floor under the true top's); the next keeps exact totals only for the
 * pairs whose bound reaches the floor or the flag's bytes (a pair sent all
 * its opened bytes at least).  Should those be too many, the pairs are
 * read in shares of their hashes, a pass each.
 *
 * The next passes read only the connections to some remotes: a pair that
 * sent F bytes had a bound of F at least right after its last close, so the
 * largest bound each remote's pairs had after a close of theirs (kept per
 * remote in the first pass) tells the remotes that can have a candidate.
 */
#include <stdlib.h>
#include <string.h>

#include "exfil.h"
#include "hashmap.h"
#include "sketch.h"
#include "util.h"

/*
 * Pairs the first pass follows at once: from when each came in, what it sent
 * is a floor under its total, and so the top of those under the top's.
 */
#define TRACKED_PAIRS 16384
/* Exact totals a later pass keeps at once, at most: beyond, the pairs are read in shares. */
#define CANDIDATES_MAX (1 << 17)
/* The sketch of bytes sent: 2^21 cells a row, three rows (24 MiB). */
#define SKETCH_WIDTH_LOG2 21
#define SKETCH_DEPTH	  3

void exfil_defaults(struct exfil_thresholds *t)
{
	*t = (struct exfil_thresholds){.min_bytes = 1000000, .pcr = 0.8};
}

double exfil_pcr(int64_t sent, int64_t received)
{
	return sent + received ? (double)(sent - received) / (double)(sent + received) : 0;
}

/* Pairs with exact totals, by their key. */
struct pairs {
	struct hashmap index; /* (host, pid), remote -> 1 + index in list */
	struct exfil_pair *list;
	size_t count, allocated;
};

/*
 * The pairs the first pass follows: a min-heap by what each sent since it
 * came in.  Full, a pair comes in when its bound passes the least of
 * theirs, in place of that one (tracked_all is then false).
 */
struct tracked {
	struct hashmap index; /* (host, pid), remote -> 1 + its index in list */
	struct followed {
		uint64_t a, b;
		int64_t sent;
		uint32_t at; /* its place in heap */
	} * list;
	uint32_t *heap; /* indexes in list, least sent first */
	size_t count;
};

struct exfil_run {
	struct peers *peers;
	const struct exfil_thresholds *t;
	size_t top; /* 0: every pair */
	int pass;   /* 1: count; then collect */
	struct sketch sketch;
	struct tracked tracked;
	bool tracked_all;     /* no pair was left out or let go: they are every pair */
	int64_t floor;	      /* the top sent this much at least */
	uint64_t least;	      /* a candidate's bound: the floor, or the flag's bytes if less */
	uint32_t parts, part; /* a later pass reads the pairs whose hash falls in share part */
	struct pairs candidates;
	bool overflowed;      /* more candidates than CANDIDATES_MAX in this share */
	struct pairs results; /* the shares' top and flagged pairs (no index) */
	/* Per remote (peer number), the largest bound its pairs had after a close of theirs. */
	uint64_t *most;
	size_t nmost, seen; /* allocated; 1 + the largest peer seen */
	uint32_t *remotes;  /* those a later pass reads */
	size_t nremotes;
	struct life_filter filter;
};

static void pairs_free(struct pairs *p)
{
	hashmap_clear(&p->index);
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

/* The pair's exact totals, added when new and there is room (else NULL). */
static struct exfil_pair *pair_of(struct pairs *p, size_t room, const struct event *ev, int host,
				  int64_t pid, uint32_t remote, int64_t task_id)
{
	uint64_t *slot = hashmap_find(&p->index, (uint64_t)host << 32 | (uint32_t)pid, remote);
	struct exfil_pair *pair;

	if (slot)
		return &p->list[*slot - 1];
	if (p->count >= room)
		return NULL;
	pair = append(p, &(struct exfil_pair){.host = host,
					      .pid = pid,
					      .remote = remote,
					      .cap = ev->cap,
					      .task = task_id,
					      .first_ns = INT64_MAX});
	*hashmap_put(&p->index, (uint64_t)host << 32 | (uint32_t)pid, remote, NULL) = p->count;
	return pair;
}

static void count(struct exfil_pair *p, const struct event *ev, enum life_opening opened)
{
	p->connections++;
	p->sent += ev->col[LIVES_SENT];
	p->received += ev->col[LIVES_RECEIVED];
	/* The originator's side, as PCR is defined on: what it sent and was sent. */
	if (opened == OPENED_BY_CONNECT) {
		p->opened_sent += ev->col[LIVES_SENT];
		p->opened_received += ev->col[LIVES_RECEIVED];
	}
	if (ev->wall_ns < p->first_ns)
		p->first_ns = ev->wall_ns;
	p->last_ns = ev->wall_ns;
}

/* The share of the pairs a hash falls in, of parts. */
static uint32_t share_of(uint64_t hash, uint32_t parts)
{
	return (uint32_t)((hash >> 32) * parts >> 32);
}

static void sift_down(struct tracked *t, uint32_t i)
{
	for (;;) {
		uint32_t least = i, left = 2 * i + 1, right = left + 1, swap;

		if (left < t->count && t->list[t->heap[left]].sent < t->list[t->heap[least]].sent)
			least = left;
		if (right < t->count && t->list[t->heap[right]].sent < t->list[t->heap[least]].sent)
			least = right;
		if (least == i)
			return;
		swap = t->heap[i];
		t->heap[i] = t->heap[least];
		t->heap[least] = swap;
		t->list[t->heap[i]].at = i;
		t->list[t->heap[least]].at = least;
		i = least;
	}
}

static void sift_up(struct tracked *t, uint32_t i)
{
	while (i > 0) {
		uint32_t parent = (i - 1) / 2, swap;

		if (t->list[t->heap[parent]].sent <= t->list[t->heap[i]].sent)
			return;
		swap = t->heap[i];
		t->heap[i] = t->heap[parent];
		t->heap[parent] = swap;
		t->list[t->heap[i]].at = i;
		t->list[t->heap[parent]].at = parent;
		i = parent;
	}
}

/* The first pass: what a pair sent, if followed, or from now, if its bound says it may be heavy. */
static void follow(struct exfil_run *r, uint64_t a, uint64_t b, uint64_t bound, int64_t sent)
{
	struct tracked *t = &r->tracked;
	uint64_t *slot = hashmap_find(&t->index, a, b);
	struct followed *f;

	if (slot) {
		f = &t->list[*slot - 1];
		f->sent += sent;
		sift_down(t, f->at);
		return;
	}
	if (t->count < TRACKED_PAIRS) {
		if (!t->list) {
			t->list = xcalloc(TRACKED_PAIRS, sizeof(*t->list));
			t->heap = xcalloc(TRACKED_PAIRS, sizeof(*t->heap));
		}
		t->list[t->count] = (struct followed){a, b, sent, (uint32_t)t->count};
		t->heap[t->count] = (uint32_t)t->count;
		*hashmap_put(&t->index, a, b, NULL) = ++t->count;
		sift_up(t, (uint32_t)t->count - 1);
		return;
	}
	r->tracked_all = false;
	f = &t->list[t->heap[0]];
	if (bound <= (uint64_t)f->sent)
		return;
	hashmap_remove(&t->index, f->a, f->b);
	*hashmap_put(&t->index, a, b, NULL) = t->heap[0] + 1;
	f->a = a;
	f->b = b;
	f->sent = sent;
	sift_down(t, 0);
}

/* The first pass, as the sketch adds a pair's bytes: (host, pid) a, remote b. */
static void counted(void *ctx, uint64_t a, uint64_t b, uint64_t sent, uint64_t bound)
{
	struct exfil_run *r = ctx;
	uint32_t remote = (uint32_t)b;

	if (remote >= r->nmost) {
		size_t n = r->nmost ? r->nmost : 1024;

		while (remote >= n)
			n *= 2;
		r->most = xrealloc(r->most, n * sizeof(*r->most));
		memset(r->most + r->nmost, 0, (n - r->nmost) * sizeof(*r->most));
		r->nmost = n;
	}
	r->seen = remote >= r->seen ? remote + 1 : r->seen;
	if (bound > r->most[remote])
		r->most[remote] = bound;
	follow(r, a, b, bound, (int64_t)sent);
}

static int on_life(const struct event *ev, const struct task *task, int64_t task_id,
		   enum life_opening opened, void *ctx)
{
	struct exfil_run *r = ctx;
	uint32_t remote = peer_of(r->peers, ev->cap, ev->col[LIVES_RADDR]);
	int host = peers_host(r->peers, ev->cap);
	int64_t pid = task ? task->pid : -1;
	uint64_t hash = sketch_hash((uint64_t)host << 32 | (uint32_t)pid, remote);
	struct exfil_pair *p;

	if (!remote)
		return -1;
	if (r->pass == 1) {
		sketch_add_late(&r->sketch, hash, (uint64_t)ev->col[LIVES_SENT],
				(uint64_t)host << 32 | (uint32_t)pid, remote, counted, r);
		return 0;
	}
	if (r->parts > 1 && share_of(hash, r->parts) != r->part)
		return 0;
	if (r->top && sketch_bound(&r->sketch, hash) < r->least)
		return 0; /* neither in the top nor flagged */
	p = pair_of(&r->candidates, r->top ? CANDIDATES_MAX : SIZE_MAX, ev, host, pid, remote,
		    task_id);
	if (p)
		count(p, ev, opened);
	else
		r->overflowed = true;
	return 0;
}

static bool flagged(const struct exfil_pair *p, const struct exfil_thresholds *t)
{
	return p->opened_sent >= t->min_bytes &&
	       exfil_pcr(p->opened_sent, p->opened_received) >= t->pcr;
}

static int by_bytes_sent(const void *x, const void *y)
{
	const struct exfil_pair *a = x, *b = y;

	if (a->sent != b->sent)
		return a->sent > b->sent ? -1 : 1;
	return (a->first_ns > b->first_ns) - (a->first_ns < b->first_ns);
}

/* Sort pairs most sent first and keep the top and the flagged ones (every one with top 0). */
static void keep_top(struct pairs *p, size_t top)
{
	size_t kept = 0;

	if (p->count)
		qsort(p->list, p->count, sizeof(*p->list), by_bytes_sent);
	for (size_t i = 0; i < p->count; i++)
		if (!top || i < top || p->list[i].flagged)
			p->list[kept++] = p->list[i];
	p->count = kept;
}

static int by_value(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return (a > b) - (a < b);
}

/* The floor under the top: its last pair's bytes among the tracked ones (0 without so many). */
static int64_t floor_of(struct tracked *tracked, size_t top)
{
	int64_t *sent;
	int64_t floor = 0;

	if (!top || tracked->count < top)
		return 0;
	sent = xcalloc(tracked->count, sizeof(*sent));
	for (size_t i = 0; i < tracked->count; i++)
		sent[i] = -tracked->list[i].sent;
	qsort(sent, tracked->count, sizeof(*sent), by_value);
	floor = -sent[top - 1];
	free(sent);
	return floor;
}

/* A later pass's remotes, as the capture's address ids (peers.h). */
static int64_t *remote_ids(struct capture *cap, void *ctx, size_t *n)
{
	struct exfil_run *r = ctx;

	return peers_ids(r->peers, cap, r->remotes, r->nremotes, n);
}

/* The remotes whose pairs may be in the top or flagged (all with top 0): NULL, or their filter. */
static const struct life_filter *choose_remotes(struct exfil_run *r)
{
	if (!r->top)
		return NULL;
	r->remotes = xcalloc(r->seen ? r->seen : 1, sizeof(*r->remotes));
	for (size_t peer = 1; peer < r->seen; peer++)
		if (r->most[peer] >= r->least)
			r->remotes[r->nremotes++] = (uint32_t)peer;
	free(r->most);
	r->most = NULL;
	r->filter = (struct life_filter){.by = LIFE_BY_REMOTE, .keys = remote_ids, .ctx = r};
	return &r->filter;
}

static int passed(void *ctx, const struct life_filter **filter)
{
	struct exfil_run *r = ctx;

	if (r->pass++ == 1) {
		sketch_flush(&r->sketch, counted, r);
		r->floor = floor_of(&r->tracked, r->top);
		/* A flagged pair sent its opened bytes at least: the bound on all it sent tells. */
		r->least = (uint64_t)(r->floor < r->t->min_bytes ? r->floor : r->t->min_bytes);
		r->parts = 1;
		*filter = choose_remotes(r);
		return 1;
	}
	if (r->overflowed) { /* again, in twice as many shares */
		pairs_free(&r->candidates);
		pairs_free(&r->results);
		r->overflowed = false;
		r->parts *= 2;
		r->part = 0;
		return 1;
	}
	for (size_t i = 0; i < r->candidates.count; i++)
		r->candidates.list[i].flagged = flagged(&r->candidates.list[i], r->t);
	keep_top(&r->candidates, r->top);
	for (size_t i = 0; i < r->candidates.count; i++)
		append(&r->results, &r->candidates.list[i]);
	pairs_free(&r->candidates);
	return ++r->part < r->parts;
}

struct exfil_run *exfil_start(struct peers *peers, const struct exfil_thresholds *t, size_t top)
{
	struct exfil_run *r = xcalloc(1, sizeof(*r));

	*r = (struct exfil_run){.peers = peers, .t = t, .top = top, .pass = 1, .tracked_all = true};
	sketch_init(&r->sketch, SKETCH_WIDTH_LOG2, SKETCH_DEPTH);
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
				      .pairs = r->tracked.count,
				      .pairs_at_least = !r->tracked_all};
		r->results.list = NULL;
	}
	sketch_free(&r->sketch);
	hashmap_clear(&r->tracked.index);
	free(r->tracked.list);
	free(r->tracked.heap);
	pairs_free(&r->candidates);
	pairs_free(&r->results);
	free(r->most);
	free(r->remotes);
	free(r);
	return err ? -1 : 0;
}

int find_exfil(struct captures *set, const struct options *opts, const struct exfil_thresholds *t,
	       size_t top, struct peers *peers, struct exfil *out)
{
	struct exfil_run *r = exfil_start(peers, t, top);
	struct life_analysis a = exfil_analysis(r);

	return exfil_finish(r, replay_lives_passes(set, opts, &a, 1), out);
}

void exfil_free(struct exfil *e)
{
	free(e->list);
	*e = (struct exfil){0};
}
