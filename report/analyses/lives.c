/* Connection lives: closes with the process of their own, or of their opening (lives.h). */
#include <string.h>

#include "hashmap.h"
#include "lives.h"

/* An opening's columns, as event.col numbers them. */
enum { OPEN_TASK, OPEN_LADDR, OPEN_LPORT, OPEN_RADDR, OPEN_RPORT };

struct lives {
	struct options process; /* the process filters of the command line */
	struct hashmap opens;	/* the ends of a connection -> its opener's task and opening */
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

int replay_lives(struct captures *set, const struct options *opts, life_emit emit, void *ctx)
{
	struct lives l = {.process = *opts, .emit = emit, .ctx = ctx};
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
		 .columns = "e.task, e.laddr, e.lport, e.raddr, e.rport, e.start_t, e.established, "
			    "e.bytes_sent, e.bytes_received, e.segs_in, e.segs_out, e.retransmits, "
			    "e.closed_from, e.error, e.closed_by, e.netns",
		 .newer_column = "netns",
		 .older_columns =
			 "e.task, e.laddr, e.lport, e.raddr, e.rport, e.start_t, e.established, "
			 "e.bytes_sent, e.bytes_received, e.segs_in, e.segs_out, e.retransmits, "
			 "e.closed_from, e.error, e.closed_by, NULL",
		 .filter = close_filter,
		 .emit = on_close,
		 .ctx = &l,
		 .address_columns = 1u << LIVES_LADDR | 1u << LIVES_RADDR,
		 .optional = true},
	};
	int err;

	/* The process filters are the opener's too: tested in on_close, not in SQL. */
	unfiltered.pid = unfiltered.uid = -1;
	unfiltered.comm = NULL;
	unfiltered.has_cgroup = unfiltered.has_mntns = false;
	err = replay(set, queries, 3, &unfiltered);
	hashmap_clear(&l.opens);
	return err;
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
