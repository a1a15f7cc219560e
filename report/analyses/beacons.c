/* Beacons: RITA's beacon score on connection lives (beacons.h). */
#include <stdlib.h>
#include <string.h>

#include "beacons.h"
#include "hashmap.h"
#include "lives.h"
#include "sketch.h"
#include "util.h"

/* RITA's data-size cutoffs: a spread of 32 bytes scores 0; so does a median of 64 KiB. */
#define DATA_SPREAD_BYTES 32.0
#define DATA_LARGE_BYTES  65535.0

void beacon_defaults(struct beacon_thresholds *t)
{
	*t = (struct beacon_thresholds){.connections = 10, .score = 0.8};
}

/*
 * The passes: the first counts each group's connections into a count-min
 * sketch (upper bounds, in fixed memory); the next keeps the starts and
 * bytes of the groups whose bound reaches the threshold only.  Should those
 * be too many connections, the groups are read in shares of their hashes,
 * a pass each.  Those passes read only the connections to some ports: a
 * group of N connections had a bound of N at least right after its last,
 * so the largest bound after a connection to each port (kept in the first
 * pass) tells the ports that can have a group with enough.
 */
#define SKETCH_WIDTH_LOG2 20 /* 2^20 cells a row, three rows (12 MiB) */
#define SKETCH_DEPTH	  3
#define KEPT_MAX	  (1 << 22) /* connections kept at once, at most (some 80 MiB) */

/* A group: one process to one address and port, or to one port across addresses. */
struct group {
	struct beacon b;
	int64_t *starts, *sent;
	uint32_t *remotes; /* a port's group: the address of each */
	size_t n, allocated;
};

struct beacons_run {
	struct peers *peers;
	const struct beacon_thresholds *t;
	int pass; /* 1: count the connections of each group; then keep enough groups' */
	struct sketch sketch;
	uint32_t parts, part; /* a later pass reads the groups whose hash falls in share part */
	struct hashmap index; /* (host, pid), (remote, port) -> 1 + index in groups */
	struct group *groups;
	size_t count, allocated, kept;
	bool overflowed;     /* more than KEPT_MAX connections in this share */
	struct beacon *list; /* the shares' beacons */
	size_t found, found_allocated;
	uint64_t most[65536]; /* per port, the largest bound after a connection to it */
	int64_t *ports;	      /* those a later pass reads */
	size_t nports;
	struct life_filter filter;
};

static void groups_free(struct beacons_run *r)
{
	for (size_t i = 0; i < r->count; i++) {
		free(r->groups[i].starts);
		free(r->groups[i].sent);
		free(r->groups[i].remotes);
	}
	free(r->groups);
	hashmap_clear(&r->index);
	r->groups = NULL;
	r->count = r->allocated = r->kept = 0;
}

/* The share of the groups a hash falls in, of parts. */
static uint32_t share_of(uint64_t hash, uint32_t parts)
{
	return (uint32_t)((hash >> 32) * parts >> 32);
}

/* The first pass, as the sketch counts a connection of group (a, b): its port's most. */
static void counted(void *ctx, uint64_t a, uint64_t b, uint64_t n, uint64_t bound)
{
	struct beacons_run *r = ctx;

	(void)a;
	(void)n;
	if (bound > r->most[b & 0xffff])
		r->most[b & 0xffff] = bound;
}

/* A group's key: its process, (host, pid) a, and where to, (remote, port) b. */
static void group_key(int host, int64_t pid, uint32_t remote, int64_t port, uint64_t *a,
		      uint64_t *b)
{
	*a = (uint64_t)host << 32 | (uint32_t)pid;
	*b = (uint64_t)remote << 16 | (uint64_t)(port & 0xffff);
}

/* The first pass: a connection of the process to the remote and port, in both its groups. */
static void count_both(struct beacons_run *r, int host, int64_t pid, uint32_t remote, int64_t port)
{
	uint64_t a, b;

	for (int by_port = 0; by_port < 2; by_port++) {
		group_key(host, pid, by_port ? 0 : remote, port, &a, &b);
		sketch_add_late(&r->sketch, sketch_hash(a, b), 1, a, b, counted, r);
	}
}

/* A later pass: the group's connection kept, when its group may reach the threshold. */
static void add(struct beacons_run *r, const struct event *ev, const struct task *task,
		int64_t task_id, uint32_t remote, int64_t port, int64_t start_ns, uint32_t address)
{
	int host = peers_host(r->peers, ev->cap);
	uint64_t a, b, hash, *slot;
	bool added;
	struct group *g;

	group_key(host, task->pid, remote, port, &a, &b);
	hash = sketch_hash(a, b);
	if (r->parts > 1 && share_of(hash, r->parts) != r->part)
		return;
	if (sketch_bound(&r->sketch, hash) < (uint64_t)r->t->connections)
		return;
	if (r->kept >= KEPT_MAX) {
		r->overflowed = true;
		return;
	}
	slot = hashmap_put(&r->index, a, b, &added);
	if (added) {
		if (r->count == r->allocated) {
			r->allocated = r->allocated ? 2 * r->allocated : 64;
			r->groups = xrealloc(r->groups, r->allocated * sizeof(*r->groups));
		}
		r->groups[r->count] = (struct group){.b = {.host = host,
							   .pid = task->pid,
							   .cap = ev->cap,
							   .task = task_id,
							   .remote = remote,
							   .port = port}};
		*slot = ++r->count;
	}
	g = &r->groups[*slot - 1];
	if (g->n == g->allocated) {
		g->allocated = g->allocated ? 2 * g->allocated : 16;
		g->starts = xrealloc(g->starts, g->allocated * sizeof(*g->starts));
		g->sent = xrealloc(g->sent, g->allocated * sizeof(*g->sent));
		if (!remote)
			g->remotes = xrealloc(g->remotes, g->allocated * sizeof(*g->remotes));
	}
	g->starts[g->n] = start_ns;
	g->sent[g->n] = ev->col[LIVES_SENT];
	if (!remote)
		g->remotes[g->n] = address;
	g->n++;
	r->kept++;
}

/* Each connection this process opened, at its start, in its group and its port's. */
static int on_life(const struct event *ev, const struct task *task, int64_t task_id,
		   enum life_opening opened, void *ctx)
{
	struct beacons_run *r = ctx;
	uint32_t remote;
	int64_t start_ns, port = ev->col[LIVES_RPORT];

	if (opened != OPENED_BY_CONNECT || !task || event_null(ev, LIVES_START))
		return 0;
	if (!(remote = peer_of(r->peers, ev->cap, ev->col[LIVES_RADDR])))
		return -1;
	if (r->pass == 1) {
		count_both(r, peers_host(r->peers, ev->cap), task->pid, remote, port);
		return 0;
	}
	start_ns = ev->wall_ns - (ev->t - ev->col[LIVES_START]);
	add(r, ev, task, task_id, remote, port, start_ns, remote);
	add(r, ev, task, task_id, 0, port, start_ns, remote);
	return 0;
}

/*
 * The first pass, when it reads the connects alone (lives.h): what each
 * group counts then bounds its connections, as the sketch's counts need.
 */
static int may_connect(struct capture *cap, const struct task *task, int64_t task_id, int64_t raddr,
		       int64_t rport, void *ctx)
{
	struct beacons_run *r = ctx;
	uint32_t remote = peer_of(r->peers, cap, raddr);

	(void)task_id;
	if (!remote)
		return -1;
	count_both(r, peers_host(r->peers, cap), task->pid, remote, rport);
	return 0;
}

static int by_value(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return (a > b) - (a < b);
}

static int by_address(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return (a > b) - (a < b);
}

/* The addresses a port's group went to (sorts them); 1 for an address's group. */
static int64_t addresses(struct group *g)
{
	int64_t n = 0;

	if (g->b.remote)
		return 1;
	qsort(g->remotes, g->n, sizeof(*g->remotes), by_address);
	for (size_t i = 0; i < g->n; i++)
		n += !i || g->remotes[i] != g->remotes[i - 1];
	return n;
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

static void found(struct beacons_run *r, const struct beacon *b)
{
	if (r->found == r->found_allocated) {
		r->found_allocated = r->found_allocated ? 2 * r->found_allocated : 16;
		r->list = xrealloc(r->list, r->found_allocated * sizeof(*r->list));
	}
	r->list[r->found++] = *b;
}

/* The ports a later pass reads, the same in every capture. */
static int64_t *port_keys(struct capture *cap, void *ctx, size_t *n)
{
	const struct beacons_run *r = ctx;
	int64_t *ports = xcalloc(r->nports + 1, sizeof(*ports));

	(void)cap;
	memcpy(ports, r->ports, r->nports * sizeof(*ports));
	*n = r->nports;
	return ports;
}

/* The ports a group with enough connections may have gone to, as the later passes' filter. */
static const struct life_filter *choose_ports(struct beacons_run *r)
{
	r->ports = xcalloc(65536, sizeof(*r->ports));
	for (int port = 0; port < 65536; port++)
		if (r->most[port] >= (uint64_t)r->t->connections)
			r->ports[r->nports++] = port;
	r->filter = (struct life_filter){.by = LIFE_BY_PORT, .keys = port_keys, .ctx = r};
	return &r->filter;
}

static int passed(void *ctx, const struct life_filter **filter)
{
	struct beacons_run *r = ctx;

	if (r->pass++ == 1) {
		sketch_flush(&r->sketch, counted, r);
		r->parts = 1;
		*filter = choose_ports(r);
		return 1;
	}
	if (r->overflowed) { /* again, in twice as many shares */
		groups_free(r);
		r->found = 0;
		r->overflowed = false;
		r->parts *= 2;
		r->part = 0;
		return 1;
	}
	for (size_t i = 0; i < r->count; i++) {
		struct group *g = &r->groups[i];

		if ((int64_t)g->n < r->t->connections)
			continue;
		/* A port's group says more than its address's only across several addresses. */
		g->b.addresses = addresses(g);
		if (g->b.addresses < 2 && !g->b.remote)
			continue;
		score(g);
		if (g->b.score >= r->t->score)
			found(r, &g->b);
	}
	groups_free(r);
	return ++r->part < r->parts;
}

struct beacons_run *beacons_start(struct peers *peers, const struct beacon_thresholds *t)
{
	struct beacons_run *r = xcalloc(1, sizeof(*r));

	*r = (struct beacons_run){.peers = peers, .t = t, .pass = 1};
	sketch_init(&r->sketch, SKETCH_WIDTH_LOG2, SKETCH_DEPTH);
	return r;
}

struct life_analysis beacons_analysis(struct beacons_run *r)
{
	return (struct life_analysis){.emit = on_life,
				      .passed = passed,
				      .ctx = r,
				      .connects_only = true,
				      .unread = 1u << LIVES_RECEIVED,
				      .may_connect = may_connect};
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
	groups_free(r);
	sketch_free(&r->sketch);
	free(r->list);
	free(r->ports);
	free(r);
	return err ? -1 : 0;
}

int find_beacons(struct captures *set, const struct options *opts,
		 const struct beacon_thresholds *t, struct peers *peers, struct beacons *out)
{
	struct beacons_run *r = beacons_start(peers, t);
	struct life_analysis a = beacons_analysis(r);

	return beacons_finish(r, replay_lives_passes(set, opts, &a, 1), out);
}

void beacons_free(struct beacons *b)
{
	free(b->list);
	*b = (struct beacons){0};
}
