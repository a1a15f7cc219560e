/*
 * Replaying events: one cursor per capture and kind of event, each in the
 * capture's (t, seq) order, merged across captures and kinds by wall clock,
 * and with --follow, polled again for what the recorder commits next.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "output.h"
#include "replay.h"
#include "stacks.h"
#include "util.h"

/*
 * --follow asks each poll for the rows that arrived after the newest one it
 * printed (seq is the arrival order), and, to stay on the clustering key, no
 * older than this much before the newest t the capture held when the last
 * poll began.  The recorder commits rows in ring-buffer order, which differs
 * from timestamp order only by how long a BPF program runs between taking its
 * timestamp and reserving its record: microseconds, not seconds.
 */
#define FOLLOW_SLACK_NS 1000000000LL
#define FOLLOW_POLL_NS	200000000L

struct stream {
	struct capture *cap;
	const struct event_query *query;
	int order; /* ties in wall clock: files, then queries, in the order given */
	sqlite3_stmt *stmt;
	int columns;	    /* the query's own */
	bool stacks;	    /* then the stack columns: kstack, ustack */
	int64_t floor_t;    /* --follow: newest t known before the last poll */
	int64_t newest_seq; /* --follow: the newest event emitted */
	struct event ev;
};

static volatile sig_atomic_t stop_requested;

static void request_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/*
 * seq is --follow's position.  Stacks come in the same pass, joined on seq
 * (the key of event_stack): far cheaper than a lookup per event.  A capture
 * made without stacks has no event_stack at all.
 */
static char *event_sql(const struct event_query *q, const struct options *opts, bool join_stacks)
{
	char *sql = NULL;
	size_t size;
	FILE *f = open_memstream(&sql, &size);

	if (!f)
		return NULL;
	fprintf(f, "SELECT e.t, e.seq, %s%s FROM %s e%s WHERE %s", q->columns,
		!q->stacks    ? ""
		: join_stacks ? ", s.kstack, s.ustack"
			      : ", NULL, NULL",
		q->table, join_stacks ? " LEFT JOIN event_stack s ON s.seq = e.seq" : "",
		opts->follow ? "e.seq > :after_seq" : "1");
	write_filters(f, opts, &q->filter);
	if (q->condition)
		fprintf(f, " AND (%s)", q->condition);
	fputs(" ORDER BY e.t, e.seq", f);
	fclose(f);
	return sql;
}

static int read_failed(const struct stream *s)
{
	fprintf(stderr, "report: %s: cannot read %s: %s\n", s->cap->name, s->query->table,
		capture_error(s->cap));
	return -1;
}

static int corrupt_row(const struct stream *s, const char *why)
{
	fprintf(stderr, "report: %s: cannot read %s: corrupt capture: %s\n", s->cap->name,
		s->query->table, why);
	return -1;
}

/*
 * Move to the next row: 1 on a row, 0 at the end, -1 after one line.  Every
 * column read is an integer (or NULL where allowed): 'abc' or 80.5 would
 * read as a wrong number.
 */
static int advance(struct stream *s)
{
	int rc = sqlite3_step(s->stmt), count = sqlite3_column_count(s->stmt);

	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return read_failed(s);
	for (int i = 0; i < count; i++) {
		int type = sqlite3_column_type(s->stmt, i);

		if (type != SQLITE_INTEGER && (type != SQLITE_NULL || i < 2))
			return corrupt_row(s, "a number that is not one");
	}
	s->ev.t = sqlite3_column_int64(s->stmt, 0);
	s->ev.seq = sqlite3_column_int64(s->stmt, 1);
	if (!capture_wall_ns(s->cap, s->ev.t, &s->ev.wall_ns))
		return corrupt_row(s, "a time out of range");
	s->ev.nulls = 0;
	for (int i = 0; i < s->columns; i++) {
		if (sqlite3_column_type(s->stmt, i + 2) == SQLITE_NULL)
			s->ev.nulls |= 1u << i;
		else
			s->ev.col[i] = sqlite3_column_int64(s->stmt, i + 2);
	}
	for (int kind = 0; s->stacks && kind < STACK_KINDS; kind++) {
		int column = s->columns + 2 + kind;

		s->ev.stacks.has[kind] = sqlite3_column_type(s->stmt, column) == SQLITE_INTEGER;
		s->ev.stacks.id[kind] = sqlite3_column_int64(s->stmt, column);
	}
	return 1;
}

/* The newest t in the stream's table now (the end of its key: no scan). */
static int newest_t(struct stream *s, int64_t *t)
{
	char sql[128];
	sqlite3_stmt *stmt;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT max(t) FROM %s", s->query->table);
	if (sqlite3_prepare_v2(s->cap->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return read_failed(s);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
		*t = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 0 : read_failed(s);
}

/* Prepare and bind the stream's query for this pass; then advance. */
static int start(struct stream *s, const struct options *opts)
{
	bool join_stacks = false;
	char *sql;
	int64_t from, to, lowest, newest = s->floor_t;

	if ((s->query->stacks && capture_has_stacks(s->cap, &join_stacks)) ||
	    (opts->follow && newest_t(s, &newest)))
		return -1;
	sql = event_sql(s->query, opts, join_stacks);
	if (!sql || sqlite3_prepare_v2(s->cap->db, sql, -1, &s->stmt, NULL) != SQLITE_OK) {
		free(sql);
		return read_failed(s);
	}
	free(sql);
	s->stacks = s->query->stacks;
	s->columns = sqlite3_column_count(s->stmt) - 2 - (s->stacks ? STACK_KINDS : 0);
	if (s->columns > EVENT_COLUMNS_MAX) {
		fprintf(stderr, "report: %s: too many columns\n", s->query->table);
		return -1;
	}
	if (bind_filters(s->stmt, opts, s->cap) ||
	    (s->query->bind && s->query->bind(s->stmt, s->cap, s->query->ctx)))
		return -1;
	filter_t_range(opts, s->cap, &from, &to);
	if (s->floor_t != INT64_MIN &&
	    !__builtin_sub_overflow(s->floor_t, FOLLOW_SLACK_NS, &lowest) && lowest > from)
		sqlite3_bind_int64(s->stmt, sqlite3_bind_parameter_index(s->stmt, ":t_from"),
				   lowest);
	if (opts->follow)
		sqlite3_bind_int64(s->stmt, sqlite3_bind_parameter_index(s->stmt, ":after_seq"),
				   s->newest_seq);
	/* Read before the rows: whatever this pass misses is newer than it, less the slack. */
	s->floor_t = newest;
	s->ev.cap = s->cap;
	return advance(s);
}

static bool before(const struct stream *a, const struct stream *b)
{
	return a->ev.wall_ns < b->ev.wall_ns ||
	       (a->ev.wall_ns == b->ev.wall_ns && a->order < b->order);
}

/* A binary min-heap of the streams that have a row, earliest first. */
static void sift_down(struct stream **heap, int n, int i)
{
	for (;;) {
		int least = i, left = 2 * i + 1, right = left + 1;
		struct stream *swap;

		if (left < n && before(heap[left], heap[least]))
			least = left;
		if (right < n && before(heap[right], heap[least]))
			least = right;
		if (least == i)
			return;
		swap = heap[i];
		heap[i] = heap[least];
		heap[least] = swap;
		i = least;
	}
}

static int merge(struct stream **heap, int n)
{
	for (int i = n / 2 - 1; i >= 0; i--)
		sift_down(heap, n, i);
	while (n > 0 && !stop_requested) {
		struct stream *s = heap[0];
		int rc;

		if (s->query->emit(&s->ev, s->query->ctx))
			return -1;
		if (s->ev.seq > s->newest_seq)
			s->newest_seq = s->ev.seq;
		rc = advance(s);
		if (rc < 0)
			return -1;
		if (rc == 0)
			heap[0] = heap[--n];
		sift_down(heap, n, 0);
	}
	return 0;
}

/* One pass over the streams whose capture is active (NULL: all): every row they have now. */
static int pass(struct stream *streams, int count, const bool *active, int nqueries,
		const struct options *opts)
{
	struct stream **heap = xcalloc((size_t)count, sizeof(*heap));
	int n = 0, err = 0;

	for (int i = 0; i < count && !err; i++) {
		int rc;

		if (active && !active[i / nqueries])
			continue;
		rc = start(&streams[i], opts);
		if (rc < 0)
			err = -1;
		else if (rc > 0)
			heap[n++] = &streams[i];
	}
	if (!err)
		err = merge(heap, n);
	for (int i = 0; i < count; i++) {
		sqlite3_finalize(streams[i].stmt);
		streams[i].stmt = NULL;
	}
	free(heap);
	return err;
}

static void sleep_ns(long ns)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = ns};

	nanosleep(&ts, NULL);
}

/*
 * Poll: reopen the captures whose files changed, pass over them, release
 * them (an open connection would keep the recorder from leaving WAL mode when
 * it stops).  Done with a capture once a pass followed its clean stop.
 */
static int follow(struct captures *set, struct stream *streams, int nqueries,
		  const struct options *opts)
{
	bool *active = xcalloc((size_t)set->count, sizeof(*active));
	bool *done = xcalloc((size_t)set->count, sizeof(*done));
	struct sigaction sa = {.sa_handler = request_stop};
	int remaining = set->count, err = 0;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (bool first = true; !err && remaining && !stop_requested; first = false) {
		for (int i = 0; i < set->count && !err; i++) {
			struct capture *cap = set->list[i];

			active[i] = !done[i] && (first || capture_changed(cap));
			if (active[i] && capture_reopen(cap, set->kinds))
				err = -1;
		}
		if (!err)
			err = pass(streams, set->count * nqueries, active, nqueries, opts);
		for (int i = 0; i < set->count; i++) {
			if (active[i] && set->list[i]->clean) {
				done[i] = true;
				remaining--;
			}
			capture_release(set->list[i]);
		}
		output_flush();
		if (!err && remaining && !stop_requested)
			sleep_ns(FOLLOW_POLL_NS);
	}
	free(active);
	free(done);
	return err;
}

int replay(struct captures *set, const struct event_query *queries, int nqueries,
	   const struct options *opts)
{
	int count = set->count * nqueries, err;
	struct stream *streams = xcalloc((size_t)count, sizeof(*streams));

	for (int i = 0; i < count; i++) {
		streams[i].cap = set->list[i / nqueries];
		streams[i].query = &queries[i % nqueries];
		streams[i].order = i;
		streams[i].floor_t = INT64_MIN;
		streams[i].newest_seq = INT64_MIN;
	}
	err = opts->follow ? follow(set, streams, nqueries, opts)
			   : pass(streams, count, NULL, nqueries, opts);
	free(streams);
	return err;
}
