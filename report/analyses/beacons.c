/* Beacons: RITA's beacon score on connection lives (beacons.h). */
#include <stdlib.h>
#include <string.h>

#include "beacons.h"
#include "hashmap.h"
#include "lives.h"
#include "util.h"

/* RITA's data-size cutoffs: a spread of 32 bytes scores 0; so does a median of 64 KiB. */
#define DATA_SPREAD_BYTES 32.0
#define DATA_LARGE_BYTES  65535.0

void beacon_defaults(struct beacon_thresholds *t)
{
	*t = (struct beacon_thresholds){.connections = 10, .score = 0.8};
}

/* A group: one process to one address and port, or to one port across addresses. */
struct group {
	struct beacon b;
	int64_t *starts, *sent;
	size_t n, allocated;
	struct hashmap remotes; /* a port's group: the addresses it went to */
};

struct tally {
	struct peers *peers;
	const struct beacon_thresholds *t;
	int pass;	      /* 1: count the connections of each group; 2: keep enough groups' */
	struct hashmap index; /* (host, pid), (remote, port) -> connections, then 1 + index */
	struct group *groups;
	size_t count, allocated;
};

static struct group *group_of(struct tally *t, const struct event *ev, const struct task *task,
			      int64_t task_id, uint32_t remote, int64_t port)
{
	int host = peers_host(t->peers, ev->cap);
	bool added;
	uint64_t *slot = hashmap_put(&t->index, (uint64_t)host << 32 | (uint32_t)task->pid,
				     (uint64_t)remote << 16 | (uint64_t)(port & 0xffff), &added);
	struct group *g;

	if (t->pass == 1) {
		++*slot;
		return NULL;
	}
	/* Pass 2: a group has its count (as ~count until its first connection), or an index. */
	if (added || *slot < (uint64_t)INT64_MAX) {
		if (added || (int64_t)*slot < t->t->connections) {
			*slot = 0; /* too few: left out, cheaply */
			return NULL;
		}
	} else {
		return &t->groups[~*slot];
	}
	if (t->count == t->allocated) {
		t->allocated = t->allocated ? 2 * t->allocated : 64;
		t->groups = xrealloc(t->groups, t->allocated * sizeof(*t->groups));
	}
	g = &t->groups[t->count];
	*slot = ~(uint64_t)t->count++;
	*g = (struct group){.b = {.host = host,
				  .pid = task->pid,
				  .cap = ev->cap,
				  .task = task_id,
				  .remote = remote,
				  .port = port}};
	return g;
}

static void add(struct group *g, int64_t start_ns, int64_t sent, uint32_t remote)
{
	if (!g)
		return;
	if (g->n == g->allocated) {
		g->allocated = g->allocated ? 2 * g->allocated : 16;
		g->starts = xrealloc(g->starts, g->allocated * sizeof(*g->starts));
		g->sent = xrealloc(g->sent, g->allocated * sizeof(*g->sent));
	}
	g->starts[g->n] = start_ns;
	g->sent[g->n++] = sent;
	if (!g->b.remote)
		hashmap_put(&g->remotes, remote, 0, NULL);
}

/* Each connection this process opened, at its start, in its group and its port's. */
static int count_life(const struct event *ev, const struct task *task, int64_t task_id,
		      enum life_opening opened, void *ctx)
{
	struct tally *t = ctx;
	uint32_t remote;
	int64_t start_ns, port = ev->col[LIVES_RPORT];

	if (opened != OPENED_BY_CONNECT || !task || event_null(ev, LIVES_START))
		return 0;
	if (!(remote = peer_of(t->peers, ev->cap, ev->col[LIVES_RADDR])))
		return -1;
	start_ns = ev->wall_ns - (ev->t - ev->col[LIVES_START]);
	add(group_of(t, ev, task, task_id, remote, port), start_ns, ev->col[LIVES_SENT], remote);
	add(group_of(t, ev, task, task_id, 0, port), start_ns, ev->col[LIVES_SENT], remote);
	return 0;
}

static int by_value(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return (a > b) - (a < b);
}

/* Quantile q of sorted x[0..n): x[floor(q (n - 1))], as bruteforce's intervals. */
static int64_t quantile(const int64_t *x, size_t n, double q)
{
	return x[(size_t)(q * (double)(n - 1))];
}

/* 1 - |Bowley skewness| of sorted x; RITA takes 0 skewness when a quartile meets the median. */
static double skew_score(const int64_t *x, size_t n)
{
	int64_t q1 = quantile(x, n, 0.25), q2 = quantile(x, n, 0.5), q3 = quantile(x, n, 0.75);

	if (q3 == q1 || q2 == q1 || q2 == q3)
		return 1;
	double skew = (double)(q1 + q3 - 2 * q2) / (double)(q3 - q1);

	return 1 - (skew < 0 ? -skew : skew);
}

/* The median absolute deviation about the median of sorted x (scratch: n values). */
static int64_t madm(const int64_t *x, size_t n, int64_t *scratch)
{
	int64_t median = quantile(x, n, 0.5);

	for (size_t i = 0; i < n; i++)
		scratch[i] = llabs(x[i] - median);
	qsort(scratch, n, sizeof(*scratch), by_value);
	return quantile(scratch, n, 0.5);
}

static double at_least_zero(double score)
{
	return score > 0 ? score : 0;
}

static void score(struct group *g)
{
	struct beacon *b = &g->b;
	size_t n = g->n, intervals = n - 1;
	int64_t *gaps = xcalloc(n, sizeof(*gaps)), *scratch = xcalloc(n, sizeof(*scratch));
	double count_score, expected;

	qsort(g->starts, n, sizeof(*g->starts), by_value);
	qsort(g->sent, n, sizeof(*g->sent), by_value);
	for (size_t i = 0; i < intervals; i++)
		gaps[i] = g->starts[i + 1] - g->starts[i];
	qsort(gaps, intervals, sizeof(*gaps), by_value);
	b->connections = (int64_t)n;
	b->first_ns = g->starts[0];
	b->last_ns = g->starts[n - 1];
	b->addresses = b->remote ? 1 : (int64_t)g->remotes.count;
	b->median_ns = quantile(gaps, intervals, 0.5);
	b->madm_ns = madm(gaps, intervals, scratch);
	b->median_bytes = quantile(g->sent, n, 0.5);
	/* Connections over those its span holds at the median interval: 1 when it never paused. */
	expected = b->median_ns ? (double)(b->last_ns - b->first_ns) / (double)b->median_ns + 1 : 0;
	count_score = expected > 0 ? (double)n / expected : 0;
	if (count_score > 1)
		count_score = 1;
	b->timing =
		(skew_score(gaps, intervals) +
		 (b->median_ns ? at_least_zero(1 - (double)b->madm_ns / (double)b->median_ns) : 0) +
		 count_score) /
		3;
	b->data = (skew_score(g->sent, n) +
		   at_least_zero(1 - (double)madm(g->sent, n, scratch) / DATA_SPREAD_BYTES) +
		   at_least_zero(1 - (double)b->median_bytes / DATA_LARGE_BYTES)) /
		  3;
	b->score = (b->timing + b->data) / 2;
	free(gaps);
	free(scratch);
}

static int by_score(const void *x, const void *y)
{
	const struct beacon *a = x, *b = y;

	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return (a->first_ns > b->first_ns) - (a->first_ns < b->first_ns);
}

int find_beacons(struct captures *set, const struct options *opts,
		 const struct beacon_thresholds *t, struct peers *peers, struct beacons *out)
{
	struct tally tally = {.peers = peers, .t = t, .pass = 1};
	int err = replay_lives(set, opts, count_life, &tally);
	struct beacon *list = NULL;
	size_t n = 0;

	tally.pass = 2;
	if (!err)
		err = replay_lives(set, opts, count_life, &tally);
	hashmap_clear(&tally.index);
	if (!err)
		list = xcalloc(tally.count ? tally.count : 1, sizeof(*list));
	for (size_t i = 0; i < tally.count; i++) {
		struct group *g = &tally.groups[i];

		/* A port's group says more than its address's only across several addresses. */
		if (!err && (int64_t)g->n >= t->connections &&
		    (g->b.remote || g->remotes.count > 1)) {
			score(g);
			if (g->b.score >= t->score)
				list[n++] = g->b;
		}
		free(g->starts);
		free(g->sent);
		hashmap_clear(&g->remotes);
	}
	free(tally.groups);
	if (err)
		return -1;
	if (n)
		qsort(list, n, sizeof(*list), by_score);
	*out = (struct beacons){list, n};
	return 0;
}

void beacons_free(struct beacons *b)
{
	free(b->list);
	*b = (struct beacons){0};
}
