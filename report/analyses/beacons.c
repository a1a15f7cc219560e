/* Beacons: RITA's beacon score on connection lives (beacons.h). */
#include <stdlib.h>
#include <string.h>

#include "beacons.h"
#include "lives.h"
#include "spill.h"
#include "util.h"

/* RITA's data-size cutoffs: a spread of 32 bytes scores 0; so does a median of 64 KiB. */
#define DATA_SPREAD_BYTES 32.0
#define DATA_LARGE_BYTES  65535.0

void beacon_defaults(struct beacon_thresholds *t)
{
	*t = (struct beacon_thresholds){.connections = 10, .score = 0.8};
}

/*
 * One pass: each connection goes as a row to a spill (spill.h) by the hash
 * of its process and port, so that a batch holds every connection of its
 * port's groups and of their addresses' groups; each batch is grouped and
 * scored in memory.  Memory is a batch's connections, never every group's.
 */
/* Connections held in memory or read back at once (80 bytes each, some 25 kept). */
#define MEMORY_ROWS (1 << 16)

/* A connection, as spilled: 64-bit words (spill.h). */
struct connection_row {
	uint64_t hash; /* of its port's group (spill.h) */
	int64_t pid, task;
	uint64_t cap; /* its struct capture's address */
	int64_t start_ns, sent;
	uint64_t order; /* its place among the connections */
	int64_t host;
	uint64_t remote;
	int64_t port;
};

/* A group of a batch: one process to one address and port, or to one port across addresses. */
struct group {
	uint32_t first; /* its first connection in the batch */
	uint32_t n, at; /* its connections, and where they begin in the batch's arrays */
	uint32_t filled;
	uint32_t addresses; /* a port's: the address groups of its connections */
	bool by_port;
};

struct beacons_run {
	struct peers *peers;
	const struct beacon_thresholds *t;
	struct spill connections;
	struct spill_groups groups; /* a batch's groups by their key */
	uint64_t order;		    /* connections so far */
	struct beacon *list;	    /* the batches' beacons */
	size_t found, found_allocated;
};

/* A group's key: its process, (host, pid) a, and where to, (remote, port) b. */
static void group_key(int host, int64_t pid, uint32_t remote, int64_t port, uint64_t *a,
		      uint64_t *b)
{
	*a = (uint64_t)(uint32_t)host << 32 | (uint32_t)pid;
	*b = (uint64_t)remote << 16 | (uint64_t)(port & 0xffff);
}

/* The hash of the row's port's group. */
static uint64_t port_hash(const void *row)
{
	const struct connection_row *c = row;
	uint64_t a, b;

	group_key((int)c->host, c->pid, 0, c->port, &a, &b);
	return spill_hash(a, b);
}

/* Each connection this process opened, at its start. */
static int on_life(const struct event *ev, const struct task *task, int64_t task_id,
		   enum life_opening opened, void *ctx)
{
	struct beacons_run *r = ctx;
	struct connection_row c;

	if (opened != OPENED_BY_CONNECT || !task || event_null(ev, LIVES_START))
		return 0;
	c = (struct connection_row){.remote = peer_of(r->peers, ev->cap, ev->col[LIVES_RADDR]),
				    .host = peers_host(r->peers, ev->cap),
				    .pid = task->pid,
				    .task = task_id,
				    .cap = (uintptr_t)ev->cap,
				    .port = ev->col[LIVES_RPORT],
				    .start_ns = ev->wall_ns - (ev->t - ev->col[LIVES_START]),
				    .sent = ev->col[LIVES_SENT],
				    .order = r->order++};
	if (!c.remote)
		return -1;
	c.hash = port_hash(&c);
	return spill_add(&r->connections, &c);
}

/* A value's byte at shift, in an order that sorts negative values first. */
static unsigned byte_of(int64_t value, int shift)
{
	return (unsigned)(((uint64_t)value ^ 1ULL << 63) >> shift & 0xff);
}

/* Below this many values, an insertion sort costs less than the radix sort's counts. */
#define FEW_VALUES 48

/*
 * x[0..n) ascending (spare: n values): a radix sort from the lowest byte,
 * a byte every value shares skipped.  qsort's calls of a comparison took
 * a tenth of beacons' CPU; starts share their high bytes, bytes sent their
 * high ones too.  Every byte is counted in one pass: the counts do not
 * depend on the order the passes leave.
 */
static void sort_values(int64_t *x, size_t n, int64_t *spare)
{
	size_t at[8][257];
	int64_t *from = x, *to = spare, *swap;

	if (n <= FEW_VALUES) {
		for (size_t i = 1; i < n; i++) {
			int64_t value = x[i];
			size_t j = i;

			for (; j && x[j - 1] > value; j--)
				x[j] = x[j - 1];
			x[j] = value;
		}
		return;
	}
	memset(at, 0, sizeof(at));
	for (size_t i = 0; i < n; i++)
		for (int byte = 0; byte < 8; byte++)
			at[byte][byte_of(x[i], 8 * byte) + 1]++;
	for (int byte = 0; byte < 8; byte++) {
		size_t *count = at[byte];

		if (count[byte_of(from[0], 8 * byte) + 1] == n)
			continue;
		for (int b = 0; b < 256; b++)
			count[b + 1] += count[b];
		for (size_t i = 0; i < n; i++)
			to[count[byte_of(from[i], 8 * byte)]++] = from[i];
		swap = from;
		from = to;
		to = swap;
	}
	if (from != x)
		memcpy(x, from, n * sizeof(*x));
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

/* The median absolute deviation about the median of sorted x (scratch: 2n values). */
static int64_t madm(const int64_t *x, size_t n, int64_t *scratch)
{
	int64_t median = quantile(x, n, 0.5);

	for (size_t i = 0; i < n; i++)
		scratch[i] = llabs(x[i] - median);
	sort_values(scratch, n, scratch + n);
	return quantile(scratch, n, 0.5);
}

static double at_least_zero(double score)
{
	return score > 0 ? score : 0;
}

/* The group's scores, from the starts and bytes sent of its n connections (sorts them). */
static void score(struct beacon *b, int64_t *starts, int64_t *sent, size_t n)
{
	size_t intervals = n - 1;
	int64_t *gaps = xcalloc(n, sizeof(*gaps)), *scratch = xcalloc(2 * n, sizeof(*scratch));
	double count_score, expected;

	sort_values(starts, n, scratch);
	sort_values(sent, n, scratch);
	for (size_t i = 0; i < intervals; i++)
		gaps[i] = starts[i + 1] - starts[i];
	sort_values(gaps, intervals, scratch);
	b->connections = (int64_t)n;
	b->first_ns = starts[0];
	b->last_ns = starts[n - 1];
	b->median_ns = quantile(gaps, intervals, 0.5);
	b->madm_ns = madm(gaps, intervals, scratch);
	b->median_bytes = quantile(sent, n, 0.5);
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
	b->data = (skew_score(sent, n) +
		   at_least_zero(1 - (double)madm(sent, n, scratch) / DATA_SPREAD_BYTES) +
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
	if (a->first_ns != b->first_ns)
		return a->first_ns > b->first_ns ? 1 : -1;
	return (a->order > b->order) - (a->order < b->order);
}

static void found(struct beacons_run *r, const struct beacon *b)
{
	if (r->found == r->found_allocated) {
		r->found_allocated = r->found_allocated ? 2 * r->found_allocated : 16;
		r->list = xrealloc(r->list, r->found_allocated * sizeof(*r->list));
	}
	r->list[r->found++] = *b;
}

/* A batch's group, scored when it has enough connections (and addresses, for a port's). */
static void score_group(struct beacons_run *r, const struct group *g,
			const struct connection_row *first, int64_t *starts, int64_t *sent)
{
	struct beacon b = {.host = (int)first->host,
			   .pid = first->pid,
			   .cap = (struct capture *)(uintptr_t)first->cap,
			   .task = first->task,
			   .remote = g->by_port ? 0 : (uint32_t)first->remote,
			   .port = first->port,
			   .addresses = 1,
			   /* As read: a connection's address group before its port's. */
			   .order = first->order << 1 | g->by_port};

	if ((int64_t)g->n < r->t->connections)
		return;
	/* A port's group says more than its address's only across several addresses. */
	if (g->by_port && (b.addresses = g->addresses) < 2)
		return;
	score(&b, starts, sent, g->n);
	if (b.score >= r->t->score)
		found(r, &b);
}

/* Whether row is of group g of the batch's connections c: the same key. */
static bool same_group(const struct group *g, const struct connection_row *c,
		       const struct connection_row *row, bool by_port)
{
	const struct connection_row *first = &c[g->first];
	uint64_t a, b, first_a, first_b;

	group_key((int)row->host, row->pid, by_port ? 0 : (uint32_t)row->remote, row->port, &a, &b);
	group_key((int)first->host, first->pid, by_port ? 0 : (uint32_t)first->remote, first->port,
		  &first_a, &first_b);
	return g->by_port == by_port && a == first_a && b == first_b;
}

/* A batch of connections, every one of their groups': grouped, then scored. */
static int score_batch(void *rows, size_t n, void *ctx)
{
	struct beacons_run *r = ctx;
	const struct connection_row *c = rows;
	struct group *groups = xcalloc(2 * n, sizeof(*groups));
	uint32_t *of = xcalloc(2 * n, sizeof(*of));
	int64_t *starts = xcalloc(2 * n, sizeof(*starts)), *sent = xcalloc(2 * n, sizeof(*sent));
	uint32_t count = 0, at = 0;
	bool new_address = false;

	spill_groups_reset(&r->groups, 2 * n);
	for (size_t i = 0; i < 2 * n; i++) {
		const struct connection_row *row = &c[i / 2];
		bool by_port = i & 1, added;
		uint64_t a, b, hash = row->hash;
		struct spill_slot *slot;
		size_t probe = 0;

		if (!by_port) {
			group_key((int)row->host, row->pid, (uint32_t)row->remote, row->port, &a,
				  &b);
			hash = spill_hash(a, b);
		}
		while ((slot = spill_groups_probe(&r->groups, hash, &probe))->group &&
		       !same_group(&groups[slot->group - 1], c, row, by_port))
			;
		added = !slot->group;
		if (added) {
			groups[count] =
				(struct group){.first = (uint32_t)(i / 2), .by_port = by_port};
			*slot = (struct spill_slot){hash, ++count};
		}
		of[i] = slot->group - 1;
		groups[of[i]].n++;
		/*
		 * A connection's address group comes just before its port's: a new
		 * one is an address more of the port's (sorting their addresses to
		 * count them took 3% of summary's lives over 10M events).
		 */
		if (by_port)
			groups[of[i]].addresses += new_address;
		else
			new_address = added;
	}
	for (uint32_t g = 0; g < count; g++) {
		groups[g].at = at;
		at += groups[g].n;
	}
	for (size_t i = 0; i < 2 * n; i++) {
		struct group *g = &groups[of[i]];
		uint32_t k = g->at + g->filled++;

		starts[k] = c[i / 2].start_ns;
		sent[k] = c[i / 2].sent;
	}
	for (uint32_t g = 0; g < count; g++)
		score_group(r, &groups[g], &c[groups[g].first], starts + groups[g].at,
			    sent + groups[g].at);
	free(groups);
	free(of);
	free(starts);
	free(sent);
	return 0;
}

static int passed(void *ctx)
{
	struct beacons_run *r = ctx;

	return spill_each(&r->connections, score_batch, r);
}

struct beacons_run *beacons_start(struct peers *peers, const struct beacon_thresholds *t)
{
	struct beacons_run *r = xcalloc(1, sizeof(*r));

	*r = (struct beacons_run){.peers = peers, .t = t};
	spill_init(&r->connections, "beacons", sizeof(struct connection_row), MEMORY_ROWS,
		   port_hash);
	return r;
}

struct life_analysis beacons_analysis(struct beacons_run *r)
{
	return (struct life_analysis){.emit = on_life,
				      .passed = passed,
				      .ctx = r,
				      .connects_only = true,
				      .unread = 1u << LIVES_RECEIVED};
}

int beacons_finish(struct beacons_run *r, int err, struct beacons *out)
{
	*out = (struct beacons){0};
	if (!err) {
		if (r->found)
			qsort(r->list, r->found, sizeof(*r->list), by_score);
		*out = (struct beacons){r->list, r->found};
		r->list = NULL;
	}
	spill_free(&r->connections);
	spill_groups_free(&r->groups);
	free(r->list);
	free(r);
	return err ? -1 : 0;
}

int find_beacons(struct captures *set, const struct options *opts,
		 const struct beacon_thresholds *t, struct peers *peers, struct beacons *out)
{
	struct beacons_run *r = beacons_start(peers, t);
	struct life_analysis a = beacons_analysis(r);

	return beacons_finish(r, replay_lives_shared(set, opts, &a, 1), out);
}

void beacons_free(struct beacons *b)
{
	free(b->list);
	*b = (struct beacons){0};
}
