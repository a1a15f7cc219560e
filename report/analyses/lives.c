/* Connection lives: closes with the process of their own, or of their opening (lives.h). */
#include <string.h>

#include "hashmap.h"
#include "lives.h"

/* An opening's columns, as event.col numbers them. */
enum { OPEN_TASK, OPEN_LADDR, OPEN_LPORT, OPEN_RADDR, OPEN_RPORT };

struct lives {
	struct options process; /* the process filters of the command line */
	struct hashmap opens;	/* the ends of a connection -> its opener's task and opening */
	const struct life_filter *only; /* what the pass reads, or NULL: all */
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

static int remember(const struct event *ev, struct lives *l, enum life_opening opened)
{
	struct task task;
	uint64_t a, b;

	if (event_null(ev, OPEN_LPORT)) /* a connect still in flight: no port yet */
		return 0;
	if (capture_task(ev->cap, ev->col[OPEN_TASK], &task))
		return -1;
	key_of(ev, OPEN_LADDR, OPEN_RADDR, ev->col[OPEN_LPORT], ev->col[OPEN_RPORT], task.netns, &a,
	       &b);
	*hashmap_put(&l->opens, a, b, NULL) = (uint64_t)ev->col[OPEN_TASK] << 2 | opened;
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
	uint64_t a, b, *open, opener = 0;
	bool has_task = !event_null(ev, LIVES_TASK);
	int64_t task_id;
	int64_t netns = event_null(ev, LIVES_NETNS) ? ev->cap->netns : ev->col[LIVES_NETNS];

	key_of(ev, LIVES_LADDR, LIVES_RADDR, ev->col[LIVES_LPORT], ev->col[LIVES_RPORT], netns, &a,
	       &b);
	if ((open = hashmap_find(&l->opens, a, b))) {
		opener = *open;
		hashmap_remove(&l->opens, a, b);
	}
	/* Its own process, else its opener's. */
	task_id = has_task ? ev->col[LIVES_TASK] : opener ? (int64_t)(opener >> 2) : -1;
	if (task_id >= 0 && capture_task(ev->cap, task_id, &task))
		return -1;
	if (!process_wanted(&l->process, task_id >= 0 ? &task : NULL))
		return 0;
	return l->emit(ev, task_id >= 0 ? &task : NULL, task_id, (enum life_opening)(opener & 3),
		       l->ctx);
}

/*
 * The closes' columns; narrow: up to the bytes received only, what counting
 * bytes and starts needs (a column less is a cheaper row: some 40% of a
 * close's read goes to the six after them), and the namespace that pairs
 * them.  Captures before namespaces: NULL in its place.
 */
#define CLOSE_COLUMNS                                                                              \
	"e.task, e.laddr, e.lport, e.raddr, e.rport, e.start_t, e.established, "                   \
	"e.bytes_sent, e.bytes_received, e.segs_in, e.segs_out, e.retransmits, "                   \
	"e.closed_from, e.error, e.closed_by, "
#define NARROW_CLOSE_COLUMNS                                                                       \
	"e.task, e.laddr, e.lport, e.raddr, e.rport, e.start_t, 0, e.bytes_sent, "                 \
	"e.bytes_received, 0, 0, 0, NULL, NULL, NULL, "
static const char close_columns[] = CLOSE_COLUMNS "e.netns";
static const char older_close_columns[] = CLOSE_COLUMNS "NULL";
static const char narrow_close_columns[] = NARROW_CLOSE_COLUMNS "e.netns";
static const char older_narrow_close_columns[] = NARROW_CLOSE_COLUMNS "NULL";

/* The conditions of a pass's filter (lives.h), on each table's remote address or port. */
static const char *const by_remote[] = {
	"e.daddr IN (SELECT value FROM json_each(:life_keys))",
	"e.raddr IN (SELECT value FROM json_each(:life_keys))",
	"e.raddr IN (SELECT value FROM json_each(:life_keys))",
};
static const char *const by_port[] = {
	"e.dport IN (SELECT value FROM json_each(:life_keys))",
	"e.rport IN (SELECT value FROM json_each(:life_keys))",
	"e.rport IN (SELECT value FROM json_each(:life_keys))",
};

static int bind_only(sqlite3_stmt *stmt, struct capture *cap, void *ctx)
{
	const struct lives *l = ctx;

	return l->only->bind(stmt, cap, l->only->ctx);
}

static int replay_closes(struct captures *set, const struct options *opts, bool narrow,
			 const struct life_filter *only, life_emit emit, void *ctx)
{
	struct lives l = {.process = *opts, .only = only, .emit = emit, .ctx = ctx};
	struct options unfiltered = *opts;
	/* --netns, the one task filter left to SQL: the opener's, and the close's socket's. */
	struct filter_columns connect_filter = {.task = "e.task",
						.family = "e.daddr",
						.ends = {"e.saddr", "e.daddr"}},
			      filter = {.task = "e.task",
					.family = "e.raddr",
					.ends = {"e.laddr", "e.raddr"}},
			      close_filter = {.family = "e.raddr",
					      .ends = {"e.laddr", "e.raddr"},
					      .netns = "e.netns"};
	struct event_query queries[] = {
		{.table = "ev_connect",
		 .columns = "e.task, e.saddr, e.lport, e.daddr, e.dport",
		 .filter = connect_filter,
		 .emit = on_connect,
		 .ctx = &l},
		{.table = "ev_accept",
		 .columns = "e.task, e.laddr, e.lport, e.raddr, e.rport",
		 .filter = filter,
		 .emit = on_accept,
		 .ctx = &l},
		{.table = "ev_close",
		 .columns = narrow ? narrow_close_columns : close_columns,
		 .newer_column = "netns",
		 .older_columns = narrow ? older_narrow_close_columns : older_close_columns,
		 .filter = close_filter,
		 .emit = on_close,
		 .ctx = &l,
		 .address_columns = 1u << LIVES_LADDR | 1u << LIVES_RADDR,
		 .optional = true},
	};
	int err;

	for (int q = 0; only && q < 3; q++) {
		queries[q].condition = (only->by == LIFE_BY_REMOTE ? by_remote : by_port)[q];
		queries[q].bind = bind_only;
	}
	/* The process filters are the opener's too: tested in on_close, not in SQL. */
	unfiltered.pid = unfiltered.uid = -1;
	unfiltered.comm = NULL;
	unfiltered.has_cgroup = unfiltered.has_mntns = false;
	err = replay(set, queries, 3, &unfiltered);
	hashmap_clear(&l.opens);
	return err;
}

int replay_lives(struct captures *set, const struct options *opts, life_emit emit, void *ctx)
{
	return replay_closes(set, opts, false, NULL, emit, ctx);
}

struct passes {
	struct life_analysis *list;
	int count;
};

static int emit_to_each(const struct event *ev, const struct task *task, int64_t task_id,
			enum life_opening opened, void *ctx)
{
	struct passes *p = ctx;

	for (int i = 0; i < p->count; i++)
		if (!p->list[i].done && p->list[i].emit(ev, task, task_id, opened, p->list[i].ctx))
			return -1;
	return 0;
}

/* One pass of the analyses not done: 0, or -1 after one line. */
static int pass_of(struct captures *set, const struct options *opts, struct passes *p,
		   const struct life_filter *filter)
{
	if (replay_closes(set, opts, true, filter, emit_to_each, p))
		return -1;
	for (int i = 0; i < p->count; i++) {
		struct life_analysis *a = &p->list[i];
		int more;

		if (a->done)
			continue;
		if ((more = a->passed(a->ctx, &a->filter)) < 0)
			return -1;
		a->done = !more;
	}
	return 0;
}

int replay_lives_passes(struct captures *set, const struct options *opts,
			struct life_analysis *list, int count)
{
	struct passes all = {list, count};

	for (int i = 0; i < count; i++)
		list[i].done = false;
	if (pass_of(set, opts, &all, NULL))
		return -1;
	for (int i = 0; i < count; i++) {
		struct passes one = {&list[i], 1};

		while (!list[i].done)
			if (pass_of(set, opts, &one, list[i].filter))
				return -1;
	}
	return 0;
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
