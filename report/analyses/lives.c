/* Connection lives: closes with the process of their own, or of their opening (lives.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"
#include "lives.h"
#include "util.h"

/* An opening's columns, as event.col numbers them: a connect's outcome after its ends. */
enum { OPEN_TASK, OPEN_LADDR, OPEN_LPORT, OPEN_RADDR, OPEN_RPORT, OPEN_STATE, OPEN_LATENCY };

/* ev_connect's outcome_state for a connect that failed (refused, timed out): tcp_state's CLOSE. */
#define TCP_CLOSE 7

/*
 * An opening's value in the map: how it opened (2 bits, never 0), then its
 * task; a failed connect's also its number among them (OPEN_EXPIRES, 32
 * bits: the entry of the due heap that lets it go), where the task has 29
 * bits (else it is kept as any other).
 */
#define OPEN_EXPIRES	  4u
#define EXPIRING_TASK_MAX ((int64_t)1 << 29)

/* Tasks ids cached by netns_of, per capture at most: beyond, each is looked up. */
#define NETNS_TASKS_MAX (1 << 24)

/*
 * A failed connect's close is the same state change as its outcome (one
 * clock reading: record's tcp.bpf.c), so it comes at the outcome's time,
 * t + latency_ns, or never: once the replay is past that time, its opening
 * is let go.  Kept until the end, those whose close the capture lacks
 * (bench/gen's, some 15% of its connects) were most of the map, which grew
 * with the capture (408 MB over 100M events); let go a minute later, they
 * were still half of it, each event missing the cache in a map twice as
 * large as the connections open at once.
 */
struct due {
	int64_t at_ns; /* its outcome's wall clock */
	uint64_t a, b; /* its key */
	uint32_t number;
};

/* A capture's tasks' network namespaces, by task id (INT64_MIN: not read yet). */
struct task_netns {
	int64_t *netns;
	size_t count;
};

struct lives {
	struct options process; /* the process filters of the command line */
	struct hashmap opens;	/* the ends of a connection -> its opener's task and opening */
	/*
	 * What an opening's key needs of its task, its namespace, in an array
	 * per capture (one lookup of a small map, then an index): a task's
	 * cache slot is far larger, and fetching it missed the cache often.
	 */
	struct hashmap captures; /* capture -> 1 + its index in netns */
	struct task_netns *netns;
	size_t ncaptures;
	/* The capture of the last lookup and its index: a run of events has one. */
	const struct capture *last_cap;
	size_t last;
	struct due *due; /* a heap, the earliest first */
	size_t ndue, due_allocated;
	uint32_t failed; /* failed connects so far: their numbers */
	life_emit emit;
	void *ctx;
};

/*
 * The ends, in their network namespace: a container's loopback connection
 * has the same ends as the host's.
 */
static void key_of(const struct event *ev, int laddr, int raddr, int64_t lport, int64_t rport,
		   int64_t netns, uint64_t *a, uint64_t *b)
{
	*a = (uint64_t)ev->col[laddr] << 32 | ((uint64_t)ev->col[raddr] & 0xffffffff);
	/* Address ids are a capture's own: the capture is part of the key. */
	*b = ((uint64_t)(uintptr_t)ev->cap ^ (uint64_t)netns << 20) * 0x9e3779b97f4a7c15ULL ^
	     ((uint64_t)(lport & 0xffff) << 16 | (uint64_t)(rport & 0xffff));
}

/* The namespaces of a capture's tasks. */
static struct task_netns *task_netns_of(struct lives *l, const struct capture *cap)
{
	if (cap != l->last_cap) {
		bool added;
		uint64_t *slot = hashmap_put(&l->captures, (uint64_t)(uintptr_t)cap, 0, &added);

		if (added) {
			l->netns = xrealloc(l->netns, (l->ncaptures + 1) * sizeof(*l->netns));
			l->netns[l->ncaptures] = (struct task_netns){0};
			*slot = ++l->ncaptures;
		}
		l->last_cap = cap;
		l->last = *slot - 1;
	}
	return &l->netns[l->last];
}

/*
 * The network namespace of a task of the event's capture: 0, or -1 after
 * one line; with cached_only, 1 for one not read yet (nothing read or said).
 */
static int netns_of(struct lives *l, const struct event *ev, int64_t id, bool cached_only,
		    int64_t *netns)
{
	struct task_netns *n = task_netns_of(l, ev->cap);
	struct task task;

	if (id >= 0 && (size_t)id < n->count && n->netns[id] != INT64_MIN) {
		*netns = n->netns[id];
		return 0;
	}
	if (cached_only)
		return 1;
	if (capture_task(ev->cap, id, &task))
		return -1;
	*netns = task.netns;
	if (id < 0 || id >= NETNS_TASKS_MAX)
		return 0;
	if ((size_t)id >= n->count) {
		size_t count = n->count ? n->count : 1024;

		while (count <= (size_t)id)
			count *= 2;
		n->netns = xrealloc(n->netns, count * sizeof(*n->netns));
		for (size_t i = n->count; i < count; i++)
			n->netns[i] = INT64_MIN;
		n->count = count;
	}
	n->netns[id] = task.netns;
	return 0;
}

/* An opening's key: 0, or -1 after one line; cached_only as netns_of. */
static int open_key(struct lives *l, const struct event *ev, bool cached_only, uint64_t *a,
		    uint64_t *b)
{
	int64_t netns;
	int err = netns_of(l, ev, ev->col[OPEN_TASK], cached_only, &netns);

	if (err)
		return err;
	key_of(ev, OPEN_LADDR, OPEN_RADDR, ev->col[OPEN_LPORT], ev->col[OPEN_RPORT], netns, a, b);
	return 0;
}

/* A close's key. */
static void close_key(const struct event *ev, uint64_t *a, uint64_t *b)
{
	int64_t netns = event_null(ev, LIVES_NETNS) ? ev->cap->netns : ev->col[LIVES_NETNS];

	key_of(ev, LIVES_LADDR, LIVES_RADDR, ev->col[LIVES_LPORT], ev->col[LIVES_RPORT], netns, a,
	       b);
}

static int64_t opener_task(uint64_t value)
{
	return (int64_t)(value >> (value & OPEN_EXPIRES ? 35 : 3));
}

/* A failed connect's outcome time, into *at_ns: false for any other opening. */
static bool failed_at(const struct event *ev, enum life_opening opened, int64_t *at_ns)
{
	return opened == OPENED_BY_CONNECT && !event_null(ev, OPEN_STATE) &&
	       ev->col[OPEN_STATE] == TCP_CLOSE && !event_null(ev, OPEN_LATENCY) &&
	       ev->col[OPEN_TASK] >= 0 && ev->col[OPEN_TASK] < EXPIRING_TASK_MAX &&
	       !__builtin_add_overflow(ev->wall_ns, ev->col[OPEN_LATENCY], at_ns);
}

static bool due_before(const struct due *x, const struct due *y)
{
	return x->at_ns < y->at_ns;
}

static void due_push(struct lives *l, struct due d)
{
	size_t i = l->ndue++;

	if (l->ndue > l->due_allocated) {
		l->due_allocated = l->due_allocated ? 2 * l->due_allocated : 256;
		l->due = xrealloc(l->due, l->due_allocated * sizeof(*l->due));
	}
	for (; i && due_before(&d, &l->due[(i - 1) / 2]); i = (i - 1) / 2)
		l->due[i] = l->due[(i - 1) / 2];
	l->due[i] = d;
}

static void due_pop(struct lives *l)
{
	struct due last = l->due[--l->ndue];
	size_t i = 0;

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= l->ndue)
			break;
		if (child + 1 < l->ndue && due_before(&l->due[child + 1], &l->due[child]))
			child++;
		if (!due_before(&l->due[child], &last))
			break;
		l->due[i] = l->due[child];
		i = child;
	}
	if (l->ndue)
		l->due[i] = last;
}

/*
 * Let go of the failed connects whose outcome is before now (a close at its
 * time may come yet), unless their close took them, or another opening of
 * the same ends has their key now (its number differs).
 */
static void let_go_due(struct lives *l, int64_t now_ns)
{
	while (l->ndue && l->due[0].at_ns < now_ns) {
		const struct due *d = &l->due[0];
		uint64_t *value = hashmap_find(&l->opens, d->a, d->b);

		if (value && *value & OPEN_EXPIRES && (uint32_t)(*value >> 3) == d->number)
			hashmap_remove(&l->opens, d->a, d->b);
		due_pop(l);
	}
}

/* let_go_due, when due: every event asks, few are. */
static inline void let_go(struct lives *l, int64_t now_ns)
{
	if (l->ndue && l->due[0].at_ns < now_ns)
		let_go_due(l, now_ns);
}

static int remember(const struct event *ev, struct lives *l, enum life_opening opened)
{
	uint64_t a, b;
	int64_t at_ns;

	let_go(l, ev->wall_ns);
	if (event_null(ev, OPEN_LPORT)) /* a connect still in flight: no port yet */
		return 0;
	if (open_key(l, ev, false, &a, &b))
		return -1;
	if (!failed_at(ev, opened, &at_ns)) {
		*hashmap_put(&l->opens, a, b, NULL) = (uint64_t)ev->col[OPEN_TASK] << 3 | opened;
		return 0;
	}
	*hashmap_put(&l->opens, a, b, NULL) = (uint64_t)ev->col[OPEN_TASK] << 35 |
					      (uint64_t)l->failed << 3 | OPEN_EXPIRES | opened;
	due_push(l, (struct due){at_ns, a, b, l->failed++});
	return 0;
}

static int on_connect(const struct event *ev, void *ctx)
{
	return remember(ev, ctx, OPENED_BY_CONNECT);
}

static int on_accept(const struct event *ev, void *ctx)
{
	return remember(ev, ctx, OPENED_BY_ACCEPT);
}

/*
 * The map of openings is large (every connection open at once, and those
 * whose close the capture lacks) and each event misses the cache in it:
 * its slot fetched a few events ahead (replay's prefetch) overlaps the miss
 * with the work on those.  An opening's key needs its task's namespace,
 * whose slot in the capture's array missed the cache too: fetched first
 * (an opening's slot in the map in the second stage, once it is there).
 */
static void prefetch_task(const struct event *ev, void *ctx)
{
	const struct task_netns *n = task_netns_of(ctx, ev->cap);
	int64_t id = ev->col[OPEN_TASK];

	if (id >= 0 && (size_t)id < n->count)
		__builtin_prefetch(&n->netns[id]);
}

static void prefetch_open(const struct event *ev, void *ctx)
{
	uint64_t a, b;

	/* A task not read yet is read (and a failure told) when its event comes. */
	if (!event_null(ev, OPEN_LPORT) && !open_key(ctx, ev, true, &a, &b))
		hashmap_prefetch(&((struct lives *)ctx)->opens, a, b);
}

static void prefetch_close(const struct event *ev, void *ctx)
{
	uint64_t a, b;

	close_key(ev, &a, &b);
	hashmap_prefetch(&((struct lives *)ctx)->opens, a, b);
}

static bool process_wanted(const struct options *o, const struct task *task)
{
	if (o->pid < 0 && o->uid < 0 && !o->comm && !o->has_cgroup && !o->has_mntns)
		return true;
	return task && (o->pid < 0 || task->pid == o->pid) && (o->uid < 0 || task->uid == o->uid) &&
	       (!o->comm ||
		(task->comm_len == o->comm_len && !memcmp(task->comm, o->comm, o->comm_len))) &&
	       (!o->has_cgroup || (uint64_t)task->cgroup == o->cgroup) &&
	       (!o->has_mntns || (uint64_t)task->mntns == o->mntns);
}

static int on_close(const struct event *ev, void *ctx)
{
	struct lives *l = ctx;
	struct task task;
	uint64_t a, b, opener;
	bool has_task = !event_null(ev, LIVES_TASK);
	int64_t task_id;

	let_go(l, ev->wall_ns);
	close_key(ev, &a, &b);
	if (!hashmap_take(&l->opens, a, b, &opener))
		opener = 0;
	/* Its own process, else its opener's. */
	task_id = has_task ? ev->col[LIVES_TASK] : opener ? opener_task(opener) : -1;
	if (task_id >= 0 && capture_task(ev->cap, task_id, &task))
		return -1;
	if (!process_wanted(&l->process, task_id >= 0 ? &task : NULL))
		return 0;
	return l->emit(ev, task_id >= 0 ? &task : NULL, task_id, (enum life_opening)(opener & 3),
		       l->ctx);
}

/*
 * The closes' columns, as lives.h numbers them.  Narrow: up to the
 * namespace only, what counting bytes and starts needs (a column less is a
 * cheaper row: some 40% of a close's read went to the seven after them);
 * then how it ended, then the counters.  Captures before namespaces: NULL
 * in its place.
 */
#define NARROW_CLOSE_COLUMNS                                                                       \
	"e.task, e.laddr, e.lport, e.raddr, e.rport, e.start_t, e.bytes_sent, e.bytes_received, "
#define END_COLUMNS	", e.closed_from, e.closed_by"
#define COUNTER_COLUMNS ", e.established, e.segs_in, e.segs_out, e.retransmits, e.error"
static const char *const close_columns[][2] = {
	/* narrow, ended, counted: newer, older captures */
	{NARROW_CLOSE_COLUMNS "e.netns", NARROW_CLOSE_COLUMNS "NULL"},
	{NARROW_CLOSE_COLUMNS "e.netns" END_COLUMNS, NARROW_CLOSE_COLUMNS "NULL" END_COLUMNS},
	{NARROW_CLOSE_COLUMNS "e.netns" END_COLUMNS COUNTER_COLUMNS,
	 NARROW_CLOSE_COLUMNS "NULL" END_COLUMNS COUNTER_COLUMNS},
};

/* --netns, the one task filter left to SQL: the opener's, and the close's socket's. */
static const struct filter_columns
	connect_filter = {.task = "e.task", .family = "e.daddr", .ends = {"e.saddr", "e.daddr"}},
	accept_filter = {.task = "e.task", .family = "e.raddr", .ends = {"e.laddr", "e.raddr"}},
	close_filter = {.family = "e.raddr", .ends = {"e.laddr", "e.raddr"}, .netns = "e.netns"};

/* The filters of opts but the process's: those are the opener's too, tested here, not in SQL. */
static struct options sql_filters(const struct options *opts)
{
	struct options unfiltered = *opts;

	unfiltered.pid = unfiltered.uid = -1;
	unfiltered.comm = NULL;
	unfiltered.has_cgroup = unfiltered.has_mntns = false;
	return unfiltered;
}

/* What a pass reads: the closes' columns (close_columns); the accepts, or not. */
struct pass_reads {
	enum { READ_NARROW, READ_ENDED, READ_COUNTED } columns;
	uint32_t unread; /* narrow: the columns no analysis reads (life_analysis.unread) */
	bool accepts;
};

/*
 * The narrow columns (newer: with netns), those unread NULL in their place:
 * a constant, which SQLite does not decode per row.
 */
static void narrow_columns(uint32_t unread, bool newer, char *sql, size_t size)
{
	static const struct {
		int column;
		const char *name;
	} optional[] = {{LIVES_START, "e.start_t"},
			{LIVES_SENT, "e.bytes_sent"},
			{LIVES_RECEIVED, "e.bytes_received"}};
	const char *name[ARRAY_SIZE(optional)];

	for (size_t i = 0; i < ARRAY_SIZE(optional); i++)
		name[i] = unread >> optional[i].column & 1 ? "NULL" : optional[i].name;
	snprintf(sql, size, "e.task, e.laddr, e.lport, e.raddr, e.rport, %s, %s, %s, %s", name[0],
		 name[1], name[2], newer ? "e.netns" : "NULL");
}

static int replay_closes(struct captures *set, const struct options *opts, struct pass_reads reads,
			 life_emit emit, void *ctx)
{
	struct lives l = {.process = *opts, .emit = emit, .ctx = ctx};
	struct options unfiltered = sql_filters(opts);
	char narrow[2][160];
	struct event_query queries[] = {
		{.table = "ev_connect",
		 .columns = "e.task, e.saddr, e.lport, e.daddr, e.dport, e.outcome_state, "
			    "e.latency_ns",
		 .filter = connect_filter,
		 .emit = on_connect,
		 .ctx = &l,
		 .prefetch = prefetch_task,
		 .prefetch_near = prefetch_open},
		{.table = "ev_accept",
		 .columns = "e.task, e.laddr, e.lport, e.raddr, e.rport",
		 .filter = accept_filter,
		 .emit = on_accept,
		 .ctx = &l,
		 .prefetch = prefetch_task,
		 .prefetch_near = prefetch_open},
		{.table = "ev_close",
		 .columns = close_columns[reads.columns][0],
		 .newer_column = "netns",
		 .older_columns = close_columns[reads.columns][1],
		 .filter = close_filter,
		 .emit = on_close,
		 .ctx = &l,
		 .address_columns = 1u << LIVES_LADDR | 1u << LIVES_RADDR,
		 .optional = true,
		 .prefetch = prefetch_close},
	};
	int err;

	if (reads.columns == READ_NARROW && reads.unread) {
		narrow_columns(reads.unread, true, narrow[0], sizeof(narrow[0]));
		narrow_columns(reads.unread, false, narrow[1], sizeof(narrow[1]));
		queries[2].columns = narrow[0];
		queries[2].older_columns = narrow[1];
	}
	if (!reads.accepts)
		queries[1] = queries[2];
	err = replay(set, queries, reads.accepts ? 3 : 2, &unfiltered);
	hashmap_clear(&l.opens);
	hashmap_clear(&l.captures);
	free(l.due);
	for (size_t i = 0; i < l.ncaptures; i++)
		free(l.netns[i].netns);
	free(l.netns);
	return err;
}

int replay_lives(struct captures *set, const struct options *opts, bool counters, life_emit emit,
		 void *ctx)
{
	struct pass_reads reads = {counters ? READ_COUNTED : READ_ENDED, 0, true};

	return replay_closes(set, opts, reads, emit, ctx);
}

struct shared {
	struct life_analysis *list;
	int count;
};

static int emit_to_each(const struct event *ev, const struct task *task, int64_t task_id,
			enum life_opening opened, void *ctx)
{
	struct shared *p = ctx;

	for (int i = 0; i < p->count; i++)
		if (p->list[i].emit(ev, task, task_id, opened, p->list[i].ctx))
			return -1;
	return 0;
}

struct passing {
	struct life_analysis *analysis;
	int err;
};

static void *pass(void *arg)
{
	struct passing *p = arg;

	p->err = p->analysis->passed(p->analysis->ctx);
	return NULL;
}

/*
 * The analyses' passed() at once, as threads can be had (one after the
 * other otherwise): each reads its own rows back, and run one after the
 * other they left summary's other core idle at its end.
 */
static int pass_all(struct life_analysis *list, int count)
{
	struct passing *passes = xcalloc((size_t)count, sizeof(*passes));
	pthread_t *threads = xcalloc((size_t)count, sizeof(*threads));
	bool *threaded = xcalloc((size_t)count, sizeof(*threaded));
	int err = 0;

	for (int i = 0; i < count; i++)
		passes[i].analysis = &list[i];
	for (int i = 1; i < count; i++)
		threaded[i] = !pthread_create(&threads[i], NULL, pass, &passes[i]);
	pass(&passes[0]);
	for (int i = 1; i < count; i++) {
		if (threaded[i])
			pthread_join(threads[i], NULL);
		else
			pass(&passes[i]);
	}
	for (int i = 0; i < count; i++)
		err |= passes[i].err;
	free(passes);
	free(threads);
	free(threaded);
	return err ? -1 : 0;
}

int replay_lives_shared(struct captures *set, const struct options *opts,
			struct life_analysis *list, int count)
{
	struct shared all = {list, count};
	struct pass_reads reads = {READ_NARROW, UINT32_MAX, false};

	for (int i = 0; i < count; i++) {
		reads.accepts |= !list[i].connects_only;
		reads.unread &= list[i].unread;
	}
	if (replay_closes(set, opts, reads, emit_to_each, &all))
		return -1;
	return pass_all(list, count);
}

const char *life_closed_by_name(int64_t code)
{
	static const char *const names[] = {NULL, "local FIN", "remote FIN", "local RST",
					    "remote RST"};

	return code >= 1 && code <= 4 ? names[code] : NULL;
}

const char *life_opening_name(enum life_opening opened)
{
	return opened == OPENED_BY_CONNECT  ? "connect"
	       : opened == OPENED_BY_ACCEPT ? "accept"
					    : NULL;
}
