/*
 * Replaying events: one cursor per capture and kind of event, each in the
 * capture's (t, seq) order, merged across captures and kinds by wall clock,
 * and with --follow, polled again for what the recorder commits next.
 */
#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "pages.h"
#include "parts.h"
#include "progress.h"
#include "replay.h"
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

/*
 * Reader threads decode rows into batches while the merge formats them:
 * each half took about half the time of a long report.  Two readers, each
 * with connections of its own and the streams given it (the heaviest to
 * the one with less to read), let the decoding of a pass over several
 * tables use both cores of a small machine; SQLite's decoding was two
 * thirds of the CPU of a pass over the connection lives.  Per stream, the
 * reader stays at most BATCHES_AHEAD batches ahead: memory stays bounded
 * (some 200 KiB a batch).  A batch is large enough that handing it over (a
 * lock, a wake-up: system calls) costs little per event; eight of them let
 * either thread run on while the other is slow for a while, where four kept
 * each waiting on the other a tenth of the time.
 */
#define BATCH_EVENTS  1024
#define BATCHES_AHEAD 8

/*
 * That is for the few streams of one capture.  Across a fleet's hundreds,
 * the events read ahead of all streams together stay within what eight
 * streams would have: each stream's batches shrink (to BATCH_EVENTS_MIN
 * events, and then to fewer batches ahead, two at least), so memory per
 * capture is some kilobytes, not megabytes.
 */
#define EVENTS_AHEAD	 (8 * BATCHES_AHEAD * BATCH_EVENTS)
#define BATCH_EVENTS_MIN 32

/*
 * The merge fetches into the processor's cache the event twice this far
 * ahead in a stream, and the lookups of the event this far ahead: streams
 * interleave, so that is some tens of rows ahead of the one being formatted.
 */
#define PREFETCH_AHEAD 8

#define READERS 2
/*
 * Up to this many captures: the second reader's connections are a descriptor
 * more each (within capture.c's spare ones); a fleet has one reader, as the
 * memory and descriptors per capture it is held to.
 */
#define SPLIT_CAPTURES_MAX 4

struct batch {
	struct event *ev; /* the stream's batch_events of them */
	int n;
};

struct stream {
	struct capture *cap; /* events name it; its connection serves the lookups */
	const struct event_query *query;
	int order;		/* ties in wall clock: files, then queries, in the order given */
	struct capture *reader; /* its reader thread's own connection to cap */
	int reader_id;		/* which reader thread reads it */
	int index;		/* its place in the pass's streams (struct reading) */
	sqlite3_stmt *stmt;	/* stepped by the reader thread only */
	struct pages *pages;	/* or its rows read from the file's pages, instead */
	uint8_t *ids;		/* event_query.ids's in its capture, or NULL */
	size_t nids;		/* its bytes */
	char *failure;		/* what it could not read, told once (cannot_read) */
	struct row *row;	/* where event_row() leaves its row (its connection's) */
	bool planned, sorted;	/* whether the plan sorts (known at its first row) */
	bool seq;		/* the second column is seq */
	bool stacks;		/* then the stack columns: kstack, ustack */
	int64_t floor_t;	/* --follow: newest t known before the last poll */
	int64_t newest_seq;	/* --follow: the newest event emitted */
	/* Shared with the reader, under reading.lock: a ring of `ahead` batches. */
	struct batch batches[BATCHES_AHEAD];
	int ahead, batch_events;
	int head, filled;
	bool finished, failed;
	/* The merge's own: whether it holds the head batch, and where it is in it. */
	bool holding;
	int next;
};

/*
 * A stream's room for batches, as its reader looks for it: how many it has
 * filled, NO_ROOM when full or finished.  Kept apart from the streams, a
 * byte each: a reader chose among a fleet's thousands of streams for every
 * batch, and going through theirs missed the processor's cache on each.
 */
struct room {
	uint8_t filled;
	uint8_t reader;
};

#define NO_ROOM UINT8_MAX

/* The reader threads of a pass, and what they share with the merge. */
struct reading {
	pthread_mutex_t lock;
	pthread_cond_t room[READERS]; /* a stream of that reader's has room: it may go on */
	pthread_cond_t rows;	      /* a batch of `wanted` was filled, or it finished */
	const struct stream *wanted;  /* the stream the merge waits on, if any */
	struct stream **streams;
	struct room *rooms; /* the streams', in their order */
	int count;
	int unfinished[READERS]; /* each reader's streams not finished */
	bool stop;		 /* the merge is done: the readers leave */
	bool told;		 /* a stream's failure was told (cannot_read) */
	/* No reader threads: the merge fills each stream's batch itself (options.read_inline). */
	bool inline_reads;
};

/* A reader thread: the reading, and which streams are its own. */
struct reader {
	struct reading *r;
	int id;
};

static volatile sig_atomic_t stop_requested;

static void request_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Whether a stream's rows carry seq: --follow's position, and what names a row. */
static bool wants_seq(const struct event_query *q, const struct options *opts)
{
	return opts->follow || q->names_rows;
}

/*
 * " AND (:ids IS NULL OR in_map(:ids, e.raddr) OR ...)": the query's ids
 * (event_query.ids) as SQL tests them, its columns named from columns (a
 * list "e.laddr, e.lport, e.raddr"); "" for a query without.  in_map(map,
 * n) is 1 when map's byte n is nonzero, else 0 (NULL for a NULL n).
 */
static void write_ids_condition(FILE *f, const struct event_query *q, const char *columns)
{
	const char *at = columns;

	if (!q->ids)
		return;
	fputs(" AND (:ids IS NULL", f);
	for (int i = 0; at; i++, at = strchr(at, ',') ? strchr(at, ',') + 2 : NULL) {
		size_t len = strcspn(at, ",");

		if (!(q->ids_columns >> i & 1))
			continue;
		assert(!strncmp(at, "e.", 2) &&
		       strspn(at + 2, "abcdefghijklmnopqrstuvwxyz_") + 2 == len);
		fprintf(f, " OR in_map(:ids, %.*s)", (int)len, at);
	}
	fputs(")", f);
}

/*
 * t, then seq only where it is wanted: a column read per row costs the
 * reader as much as a tenth of the row.  Stacks come in the same pass,
 * joined on seq (the key of event_stack): far cheaper than a lookup per
 * event.  A capture made without stacks has no event_stack at all.
 */
static char *event_sql(const struct event_query *q, const struct options *opts, bool join_stacks,
		       bool older)
{
	const char *columns = older ? q->older_columns : q->columns;
	char *sql = NULL;
	size_t size;
	FILE *f = open_memstream(&sql, &size);

	if (!f)
		return NULL;
	fprintf(f, "SELECT event_row(e.t, %s%s%s) FROM %s e%s WHERE %s",
		wants_seq(q, opts) ? "e.seq, " : "", columns,
		!q->stacks    ? ""
		: join_stacks ? ", s.kstack, s.ustack"
			      : ", NULL, NULL",
		q->table, join_stacks ? " LEFT JOIN event_stack s ON s.seq = e.seq" : "",
		opts->follow ? "e.seq > :after_seq" : "1");
	if (!q->unfiltered)
		write_filters(f, opts, &q->filter);
	write_ids_condition(f, q, columns);
	if (q->condition)
		fprintf(f, " AND (%s)", q->condition);
	fputs(" ORDER BY e.t, e.seq", f);
	fclose(f);
	return sql;
}

/*
 * "report: case42.db: cannot read ev_connect: WHY", kept as the stream's
 * failure (the first), and told by whoever meets it: the merge, when it
 * comes to it in time order (next_event), or the pass, when the stream
 * cannot start.  The readers go on with other streams, and a capture
 * damaged in two tables is one line, the same whichever reader ran first.
 * -1.
 */
__attribute__((format(printf, 2, 3))) static int cannot_read(struct stream *s, const char *why, ...)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f;
	va_list ap;

	if (s->failure)
		return -1;
	if (!(f = open_memstream(&text, &size)))
		out_of_memory(0);
	fprintf(f, "report: %s: cannot read %s: ", s->cap->name, s->query->table);
	va_start(ap, why);
	vfprintf(f, why, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
	s->failure = text;
	return -1;
}

static int read_failed(struct stream *s)
{
	return cannot_read(s, "%s", capture_error(s->reader));
}

static int corrupt_row(struct stream *s, const char *why)
{
	return cannot_read(s, "corrupt capture: %s", why);
}

/*
 * A row's cells, as event_row() leaves them for the reader: a call into the
 * statement per cell (taking and checking its state each time) was most of
 * what a reader spent on a row beside SQLite's decoding.  Bit i of nulls:
 * cell i is NULL; of odd: it is neither NULL nor an integer ('abc' or 80.5
 * would read as a wrong number).
 */
#define ROW_CELLS_MAX (2 + EVENT_COLUMNS_MAX + STACK_KINDS)

struct row {
	uint32_t nulls, odd;
	int cells;
	int made;  /* rows the function made since the reader last stepped */
	bool copy; /* also hand it out as event_row()'s value */
	int64_t cell[ROW_CELLS_MAX];
};

/*
 * event_row(t, [seq,] columns..., [kstack, ustack]): the row's cells, into
 * the connection's struct row (the function's user data), which the reader
 * reads before it steps a statement of the connection again.  Its value is
 * NULL: handing the cells out as a blob (a value SQLite copies, or keeps
 * track of) cost a sixth of what the reader spent on a row itself.  A plan
 * that sorts keeps values, not this: copy asks for the cells as a blob.
 */
static void event_row(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct row *row = sqlite3_user_data(ctx);
	uint32_t nulls = 0, odd = 0;

	if (argc > ROW_CELLS_MAX) {
		sqlite3_result_error(ctx, "too many columns", -1);
		return;
	}
	for (int i = 0; i < argc; i++) {
		int type = sqlite3_value_type(argv[i]);

		row->cell[i] = type == SQLITE_INTEGER ? sqlite3_value_int64(argv[i]) : 0;
		if (type == SQLITE_NULL)
			nulls |= 1u << i;
		else if (type != SQLITE_INTEGER)
			odd |= 1u << i;
	}
	row->nulls = nulls;
	row->odd = odd;
	row->cells = argc;
	row->made++;
	if (row->copy)
		sqlite3_result_blob(ctx, row, (int)offsetof(struct row, cell[argc]), SQLITE_STATIC);
}

/* Step the stream's reader of pages (pages.h) as step() steps a statement. */
static int step_pages(struct stream *s)
{
	struct row *row = s->row;
	int rc = pages_next(s->pages, row->cell, &row->nulls, &row->odd);

	row->cells = pages_cells(s->pages);
	if (rc >= 0)
		return rc ? SQLITE_ROW : SQLITE_DONE;
	if (pages_corrupt(s->pages))
		return corrupt_row(s, pages_error(s->pages));
	return cannot_read(s, "%s", pages_error(s->pages));
}

/*
 * Step the stream's statement: SQLITE_ROW with the row's cells in s->row,
 * SQLITE_DONE, SQLite's error, or -1 (its failure kept: cannot_read).  A
 * plan that sorts (by an index the condition chose) runs event_row() on the
 * rows before they come out: seen at the first row, it runs again with the
 * cells as values (copied into the sorter), and each row's are copied into
 * s->row.
 */
static int step(struct stream *s)
{
	struct row *row = s->row;
	int rc;

	if (s->pages)
		return step_pages(s);
	row->copy = s->sorted;
	row->made = 0;
	rc = sqlite3_step(s->stmt);
	if (rc == SQLITE_ROW && !s->planned) {
		s->planned = true;
		if (sqlite3_stmt_status(s->stmt, SQLITE_STMTSTATUS_SORT, false)) {
			s->sorted = row->copy = true;
			sqlite3_reset(s->stmt);
			rc = sqlite3_step(s->stmt);
		}
	}
	if (rc != SQLITE_ROW || (!s->sorted && row->made == 1))
		return rc;
	if (s->sorted) {
		const void *blob = sqlite3_column_blob(s->stmt, 0);
		size_t bytes = (size_t)sqlite3_column_bytes(s->stmt, 0);

		if (!blob)
			return SQLITE_NOMEM; /* the connection tells */
		if (bytes >= offsetof(struct row, cell) && bytes <= sizeof(*row)) {
			memmove(row, blob, bytes);
			if (bytes ==
			    offsetof(struct row, cell) + (size_t)row->cells * sizeof(int64_t))
				return rc;
		}
	}
	/* Else a plan that ran the function ahead of the row it hands out, unseen. */
	return cannot_read(s, "a row without event_row()'s cells");
}

/* Decode the next row into ev: 1 on a row, 0 at the end, -1 (its failure kept). */
static int advance(struct stream *s, struct event *ev)
{
	int rc = step(s), first = s->seq ? 2 : 1, columns;
	const struct row *row = s->row;
	uint32_t times = (1u << first) - 1;

	if (rc == SQLITE_DONE)
		return 0;
	if (rc < 0)
		return -1;
	if (rc != SQLITE_ROW)
		return read_failed(s);
	columns = row->cells - first - (s->stacks ? STACK_KINDS : 0);
	if (columns < 0 || columns > EVENT_COLUMNS_MAX)
		return cannot_read(s, "too many columns");
	ev->cap = s->cap;
	if ((row->nulls | row->odd) & times)
		return corrupt_row(s, "a number that is not one");
	ev->t = row->cell[0];
	ev->seq = s->seq ? row->cell[1] : 0;
	if (!capture_wall_ns(s->cap, ev->t, &ev->wall_ns))
		return corrupt_row(s, "a time out of range");
	if (row->odd)
		return corrupt_row(s, "a number that is not one");
	/*
	 * All of col[], not its columns: a copy of fixed size is a few vector
	 * moves, one of the columns' size a `rep movs` whose start-up was most
	 * of the reader's own time a row.  The cells past them are never read.
	 */
	static_assert(2 + EVENT_COLUMNS_MAX <= ROW_CELLS_MAX, "a row holds t, seq and col[]");
	memcpy(ev->col, &row->cell[first], sizeof(ev->col));
	ev->nulls = row->nulls >> first & ((1u << columns) - 1);
	for (int kind = 0; s->stacks && kind < STACK_KINDS; kind++) {
		ev->stacks.id[kind] = row->cell[first + columns + kind];
		ev->stacks.has[kind] = !(row->nulls >> (first + columns + kind) & 1);
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
	if (sqlite3_prepare_v2(s->reader->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return read_failed(s);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
		*t = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 0 : read_failed(s);
}

/*
 * A condition the page reader applies as SQLite does, "e.NAME IS NOT N" (N
 * an integer of at most 18 digits): NAME, and N into *value; else NULL.
 */
static char *skip_condition(const char *condition, int64_t *value)
{
	size_t name = strspn(condition + 2, "abcdefghijklmnopqrstuvwxyz_");
	const char *n = condition + 2 + name, *digits;
	char *end, *column;

	if (strncmp(condition, "e.", 2) || !name || strncmp(n, " IS NOT ", 8))
		return NULL;
	digits = n + 8 + (n[8] == '-');
	if (!(*digits >= '0' && *digits <= '9') || strspn(digits, "0123456789") > 18)
		return NULL;
	*value = strtoll(n + 8, &end, 10);
	if (*end)
		return NULL;
	column = xstrdup(condition);
	column[2 + name] = '\0';
	return column;
}

/*
 * The cells of the statement when it is the plain read of the table in key
 * order, "e.t, e.seq, e.task, NULL", of all its rows or of a range of t
 * (ranged: pages_range()): else NULL.  Then, on a capture read as
 * immutable (nothing changes the file), pages.c reads the same rows from
 * the file's pages, at a third of what SQLite's stepping cost a row.  Under
 * skip_condition()'s condition, its column last, and *drop (pages_drop()).
 */
static char *plain_cells(const struct stream *s, const char *sql, bool ranged, bool *drop,
			 int64_t *value)
{
	static const char head[] = "SELECT event_row(";
	const char *condition = s->query->condition;
	size_t size = strlen(sql), skip = sizeof(head) - 1, n = 0;
	char *tail = NULL, *cells, *column = NULL;
	FILE *f;

	if (condition && !(column = skip_condition(condition, value)))
		return NULL;
	if (!(f = open_memstream(&tail, &n)))
		out_of_memory(0);
	fprintf(f, ") FROM %s e WHERE 1%s", s->query->table, ranged ? T_RANGE_CONDITION : "");
	write_ids_condition(f, s->query, s->query->columns);
	if (column)
		fprintf(f, " AND (%s)", condition);
	fputs(" ORDER BY e.t, e.seq", f);
	fclose(f);
	if (size < skip + n || strncmp(sql, head, skip) || strcmp(sql + size - n, tail)) {
		free(tail);
		free(column);
		return NULL;
	}
	free(tail);
	cells = xmalloc(size - skip - (size_t)n + (column ? strlen(column) + 2 : 0) + 1);
	sprintf(cells, "%.*s%s%s", (int)(size - skip - (size_t)n), sql + skip, column ? ", " : "",
		column ? column : "");
	*drop = column != NULL;
	free(column);
	return cells;
}

/*
 * The query's ids in the stream's capture (event_query.ids), bound for SQL
 * and given to its reader of pages: 0, or -1 after one line.
 */
static int bind_ids(struct stream *s)
{
	const struct event_query *q = s->query;
	int at = sqlite3_bind_parameter_index(s->stmt, ":ids"), rc;

	free(s->ids);
	s->ids = q->ids ? q->ids(s->cap, q->ctx, &s->nids) : NULL;
	if (!at)
		return 0;
	assert(!s->ids || s->nids > 0); /* an empty blob binds as NULL: every row */
	rc = s->ids ? sqlite3_bind_blob64(s->stmt, at, s->ids, s->nids, SQLITE_STATIC)
		    : sqlite3_bind_null(s->stmt, at);
	if (rc != SQLITE_OK) {
		fprintf(stderr, "report: %s: cannot bind the ids of %s: %s\n", s->cap->name,
			q->table, sqlite3_errmsg(s->reader->db));
		return -1;
	}
	if (s->pages && s->ids)
		pages_keep(s->pages, q->ids_columns << (s->seq ? 2 : 1), s->ids, s->nids);
	return 0;
}

/* Prepare and bind the stream's query for this pass, on the reader's connection. */
static int start(struct stream *s, const struct options *opts)
{
	bool join_stacks = false;
	char *sql;
	int64_t from, to, lowest, newest = s->floor_t;

	s->head = s->filled = s->next = 0;
	s->holding = s->planned = s->sorted = false;
	s->failed = false;
	s->finished =
		(s->query->optional && !capture_has_column(s->reader, s->query->table, NULL)) ||
		/* A capture made before namespaces has no event in any. */
		(opts->has_netns && !capture_has_column(s->reader, "task", "netns"));
	if (s->finished)
		return 0;
	if ((s->query->stacks && capture_has_stacks(s->cap, &join_stacks)) ||
	    (opts->follow && newest_t(s, &newest)))
		return -1;
	sql = event_sql(s->query, opts, join_stacks,
			s->query->newer_column && !capture_has_column(s->reader, s->query->table,
								      s->query->newer_column));
	if (!sql || sqlite3_prepare_v2(s->reader->db, sql, -1, &s->stmt, NULL) != SQLITE_OK) {
		free(sql);
		return read_failed(s);
	}
	filter_t_range(opts, s->cap, &from, &to);
	if (s->reader->immutable && !opts->follow) {
		bool drop = false, ranged = !s->query->unfiltered && filter_has_t_range(opts);
		int64_t value = 0;
		char *cells = plain_cells(s, sql, ranged, &drop, &value);

		if (cells)
			s->pages = pages_open(s->reader->db, s->query->table, cells, ROW_CELLS_MAX);
		if (s->pages && drop)
			pages_drop(s->pages, value);
		if (s->pages && ranged)
			pages_range(s->pages, from, to);
		free(cells);
	}
	free(sql);
	s->stacks = s->query->stacks;
	s->seq = wants_seq(s->query, opts);
	if (bind_filters(s->stmt, opts, s->cap) ||
	    (s->query->bind && s->query->bind(s->stmt, s->cap, s->query->ctx)) || bind_ids(s))
		return -1;
	if (s->floor_t != INT64_MIN &&
	    !__builtin_sub_overflow(s->floor_t, FOLLOW_SLACK_NS, &lowest) && lowest > from)
		sqlite3_bind_int64(s->stmt, sqlite3_bind_parameter_index(s->stmt, ":t_from"),
				   lowest);
	if (opts->follow)
		sqlite3_bind_int64(s->stmt, sqlite3_bind_parameter_index(s->stmt, ":after_seq"),
				   s->newest_seq);
	/* Read before the rows: whatever this pass misses is newer than it, less the slack. */
	s->floor_t = newest;
	return 0;
}

/* --- The reader thread ----------------------------------------------------------- */

/* The stream's room, after its batches or its end changed (under r->lock). */
static void note_room(struct reading *r, const struct stream *s)
{
	r->rooms[s->index].filled =
		s->finished || s->filled >= s->ahead ? NO_ROOM : (uint8_t)s->filled;
}

/*
 * The stream with the fewest batches ready, taking turns among equals from
 * *turn; NULL when every stream is full or finished.  The fewest: the merge
 * may be waiting on that one while others have batches to spare.
 */
static struct stream *stream_with_room(struct reading *r, int id, int *turn)
{
	int fewest = NO_ROOM, at = 0;

	for (int i = 0, k = *turn; i < r->count && fewest; i++, k = k + 1 < r->count ? k + 1 : 0) {
		if (r->rooms[k].reader == id && r->rooms[k].filled < fewest) {
			fewest = r->rooms[k].filled;
			at = k;
		}
	}
	if (fewest == NO_ROOM)
		return NULL;
	*turn = at + 1 < r->count ? at + 1 : 0;
	return r->streams[at];
}

/* The stream's rows into batch b, up to its size: advance()'s last result. */
static int fill(struct stream *s, struct batch *b)
{
	int rc = 1;

	for (b->n = 0; b->n < s->batch_events && (rc = advance(s, &b->ev[b->n])) > 0; b->n++)
		;
	return rc;
}

/* Batch b filled, the stream told so (under the lock, with reader threads). */
static void filled(struct stream *s, const struct batch *b, int rc)
{
	if (b->n)
		s->filled++;
	s->finished = rc <= 0;
	s->failed = rc < 0;
}

static void *read_rows(void *arg)
{
	const struct reader *self = arg;
	struct reading *r = self->r;
	int turn = 0;

	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		struct stream *s = stream_with_room(r, self->id, &turn);
		struct batch *b;
		int rc;

		if (!s) {
			if (!r->unfinished[self->id])
				break;
			pthread_cond_wait(&r->room[self->id], &r->lock);
			continue;
		}
		/* The slot after the filled ones: the merge reads only those. */
		b = &s->batches[(s->head + s->filled) % s->ahead];
		pthread_mutex_unlock(&r->lock);
		rc = fill(s, b);
		pthread_mutex_lock(&r->lock);
		filled(s, b, rc);
		r->unfinished[self->id] -= s->finished;
		note_room(r, s);
		if (r->wanted == s)
			pthread_cond_signal(&r->rows);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/*
 * Start fetching the held batch's event i, if there: the reader wrote it on
 * another core, and prefetch_lookups() reads it before the emitter does.
 * Inlined always: GCC finds a function of prefetches alone pure and so
 * deleted every call to it, and the merge waited on each event (a sixth of
 * a timeline's merge).
 */
__attribute__((always_inline)) static inline void prefetch_whole(const struct event *ev)
{
	for (size_t at = 0; at < sizeof(*ev); at += CACHE_LINE)
		__builtin_prefetch((const char *)ev + at);
}

__attribute__((always_inline)) static inline void prefetch_event(const struct stream *s, int i)
{
	const struct batch *b = &s->batches[s->head];

	if (i < b->n)
		prefetch_whole(&b->ev[i]);
}

/* Start fetching what the emitter will look up for ev, an event of stream s. */
static void prefetch_lookups_of(const struct stream *s, const struct event *ev)
{
	uint32_t columns = s->query->address_columns & ~ev->nulls;

	for (int c = 0; columns; c++, columns >>= 1)
		if (columns & 1)
			capture_prefetch_address(ev->cap, ev->col[c]);
	if (s->query->prefetch)
		s->query->prefetch(ev, s->query->ctx);
}

/* Start fetching what the emitter will look up for the held batch's event i, if there. */
static void prefetch_lookups(const struct stream *s, int i)
{
	const struct batch *b = &s->batches[s->head];

	if (i < b->n)
		prefetch_lookups_of(s, &b->ev[i]);
}

/* The second stage of the query's prefetch (replay.h) for the held batch's event i, if there. */
static void prefetch_near(const struct stream *s, int i)
{
	const struct batch *b = &s->batches[s->head];

	if (s->query->prefetch_near && i < b->n)
		s->query->prefetch_near(&b->ev[i], s->query->ctx);
}

/* A stream that failed: the pass fails, and tells why once. */
static void stream_failed(struct reading *r, const struct stream *s, bool *failed)
{
	*failed = true;
	if (!r->told && s->failure)
		fputs(s->failure, stderr);
	r->told = true;
}

/* next_event() with no reader threads: its one batch filled again once read. */
static const struct event *next_read_inline(struct reading *r, struct stream *s, bool *failed)
{
	struct batch *b = &s->batches[0];

	assert(s->ahead == 1);
	s->holding = false;
	s->filled = 0;
	s->next = 0;
	if (!s->finished)
		filled(s, b, fill(s, b));
	if (s->filled) {
		s->holding = true;
		return &b->ev[s->next++];
	}
	if (s->failed)
		stream_failed(r, s, failed);
	return NULL;
}

/*
 * The stream's next event for the merge, waiting for the reader if need be;
 * NULL at its end, and set *failed if reading it failed.
 */
static const struct event *next_event(struct reading *r, struct stream *s, bool *failed)
{
	const struct event *ev = NULL;
	bool wake = false;

	/* The head batch is the merge's own until it is read: no lock to read it. */
	if (s->holding && s->next < s->batches[s->head].n) {
		prefetch_event(s, s->next + 2 * PREFETCH_AHEAD);
		prefetch_lookups(s, s->next + PREFETCH_AHEAD);
		prefetch_near(s, s->next + PREFETCH_AHEAD / 2);
		return &s->batches[s->head].ev[s->next++];
	}
	if (r->inline_reads)
		return next_read_inline(r, s, failed);
	pthread_mutex_lock(&r->lock);
	if (s->holding) { /* done with that batch */
		s->head = (s->head + 1) % s->ahead;
		s->filled--;
		s->next = 0;
		s->holding = false;
		note_room(r, s);
		/*
		 * Its reader (that one only: both were woken), at once: woken
		 * later, with more batches free (a wake-up less a batch), it
		 * was slow to run on a loaded host and the merge waited on it.
		 * After the lock is let go, unless the merge waits now: woken
		 * under it, the reader would wait for the lock.
		 */
		wake = true;
	}
	if (!s->filled && !s->finished) {
		if (wake)
			pthread_cond_signal(&r->room[s->reader_id]);
		wake = false;
		r->wanted = s;
		while (!s->filled && !s->finished)
			pthread_cond_wait(&r->rows, &r->lock);
		r->wanted = NULL;
	}
	if (s->filled) {
		s->holding = true;
		ev = &s->batches[s->head].ev[s->next++];
	} else if (s->failed) {
		stream_failed(r, s, failed);
	}
	pthread_mutex_unlock(&r->lock);
	if (wake)
		pthread_cond_signal(&r->room[s->reader_id]);
	return ev;
}

/* --- The merge ------------------------------------------------------------------ */

/*
 * What the merge holds of a stream: its current event, and the event's key
 * beside it.  A fleet's thousands of streams each hold a batch of their own:
 * a comparison through the event and the stream missed the processor's cache
 * twice, and the merge's heap took a tenth of a report over 300 captures.
 */
struct head {
	int64_t wall_ns;
	int order;
	struct stream *stream;
	const struct event *ev;
};

static bool before(const struct head *a, const struct head *b)
{
	return a->wall_ns < b->wall_ns || (a->wall_ns == b->wall_ns && a->order < b->order);
}

/* The stream's head at its event ev (NULL: the stream has ended). */
static struct head head_at(struct stream *s, const struct event *ev)
{
	return (struct head){ev ? ev->wall_ns : 0, s->order, s, ev};
}

/* Whether head a goes before head b; a stream that has ended (no event) goes after all. */
static bool ahead_of(const struct head *a, const struct head *b)
{
	return a->ev && (!b->ev || before(a, b));
}

/*
 * A tree of losers over the n streams' heads (Knuth 5.4.1): leaf i is head
 * i, node k (1 to n - 1) holds the loser of the match between its children
 * 2k and 2k + 1, node 0 the winner.  When the winner's stream moves on, its
 * way up to the root replays one match a level against the losers kept
 * there: half a heap's comparisons, and no head moves.  Over a fleet's
 * copies of one hour (every stream's next event at the same time) the
 * heap's sifting cost some 250 instructions an event over 59 captures.
 */
struct losers {
	struct head *heads;
	int *node;
	int n;
};

/* The winner below node k (a leaf when k >= n), the losers below it kept. */
static int play(struct losers *t, int k)
{
	int a, b;

	if (k >= t->n)
		return k - t->n;
	a = play(t, 2 * k);
	b = play(t, 2 * k + 1);
	if (ahead_of(&t->heads[b], &t->heads[a])) {
		int swap = a;

		a = b;
		b = swap;
	}
	t->node[k] = b;
	return a;
}

/* Head w changed: its matches up to the root played again. */
static void replay_from(struct losers *t, int w)
{
	for (int k = (w + t->n) / 2; k > 0; k /= 2) {
		if (ahead_of(&t->heads[t->node[k]], &t->heads[w])) {
			int swap = t->node[k];

			t->node[k] = w;
			w = swap;
		}
	}
	t->node[0] = w;
}

/*
 * When the merge goes from stream to stream (captures that overlap in
 * time), start fetching what the next few events are likely to be: the
 * heads that lost the top matches (the next winner is among them), the
 * events of those below the final and the lookups of the final's.  A
 * stream's own prefetching is thousands of events ahead there, and
 * evicted again before they come.
 */
static void prefetch_next(const struct losers *t)
{
	const struct head *final = &t->heads[t->node[1]];

	for (int k = 2; k < 8 && k < t->n; k++)
		if (t->heads[t->node[k]].ev)
			prefetch_whole(t->heads[t->node[k]].ev);
	if (final->ev)
		prefetch_lookups_of(final->stream, final->ev);
}

/* Events merged between two progress counts: a clock read costs more than an event. */
#define PROGRESS_BATCH 4096

/* Merge the n heads (each a stream's first event, or none), earliest first. */
static int merge(struct reading *r, struct head *heads, int n)
{
	struct losers t = {heads, xcalloc((size_t)n + 1, sizeof(int)), n};
	bool failed = false;
	int64_t merged = 0;

	t.node[0] = n ? play(&t, 1) : 0;
	while (n > 0 && heads[t.node[0]].ev && !stop_requested) {
		struct head *top = &heads[t.node[0]];
		struct stream *emitted = top->stream;

		if (++merged == PROGRESS_BATCH) {
			progress_add(merged);
			merged = 0;
		}
		if (emitted->query->emit(top->ev, emitted->query->ctx)) {
			free(t.node);
			return -1;
		}
		if (top->ev->seq > emitted->newest_seq)
			emitted->newest_seq = top->ev->seq;
		*top = head_at(emitted, next_event(r, emitted, &failed));
		replay_from(&t, t.node[0]);
		if (heads[t.node[0]].stream != emitted)
			prefetch_next(&t);
	}
	free(t.node);
	progress_add(merged);
	return failed ? -1 : 0;
}

/*
 * The batches of count streams, within EVENTS_AHEAD events in all: one block
 * to free.  Read inline, a stream has one batch, refilled once read, within
 * an eighth as many events in all (BATCHES_AHEAD batches of one stream).
 */
static struct event *make_batches(struct stream **streams, int count, bool inline_reads)
{
	int ahead = inline_reads ? 1 : BATCHES_AHEAD;
	int size = (inline_reads ? BATCHES_AHEAD * BATCH_EVENTS : EVENTS_AHEAD) / (count * ahead);
	struct event *events;

	if (size < BATCH_EVENTS_MIN) {
		size = BATCH_EVENTS_MIN;
		if (!inline_reads) {
			ahead = EVENTS_AHEAD / (count * size);
			ahead = ahead < 2 ? 2 : ahead;
		}
	}
	size = size > BATCH_EVENTS ? BATCH_EVENTS : size;
	events = xcalloc((size_t)count * (size_t)(ahead * size), sizeof(*events));
	for (int i = 0; i < count; i++) {
		streams[i]->ahead = ahead;
		streams[i]->batch_events = size;
		for (int b = 0; b < ahead; b++)
			streams[i]->batches[b].ev =
				events + ((size_t)i * (size_t)ahead + (size_t)b) * (size_t)size;
	}
	return events;
}

/* Merge the streams' rows while the reader threads decode them (or as it reads them, inline). */
static int read_and_merge(struct stream **streams, int count, int nreaders, bool inline_reads)
{
	struct reading r = {.streams = streams,
			    .rooms = xcalloc((size_t)count + 1, sizeof(*r.rooms)),
			    .count = count,
			    .inline_reads = inline_reads};
	struct head *heads = xcalloc((size_t)count, sizeof(*heads));
	struct event *events = count ? make_batches(streams, count, inline_reads) : NULL;
	bool failed = false;
	pthread_t threads[READERS];
	struct reader readers[READERS];
	int n = 0, started = 0, err = 0;

	for (int i = 0; i < count; i++) {
		streams[i]->index = i;
		r.rooms[i].reader = (uint8_t)streams[i]->reader_id;
		r.unfinished[streams[i]->reader_id] += !streams[i]->finished;
		note_room(&r, streams[i]);
	}
	pthread_mutex_init(&r.lock, NULL);
	for (int i = 0; i < READERS; i++)
		pthread_cond_init(&r.room[i], NULL);
	pthread_cond_init(&r.rows, NULL);
	for (; started < nreaders && !inline_reads && !err; started++) {
		readers[started] = (struct reader){&r, started};
		err = pthread_create(&threads[started], NULL, read_rows, &readers[started]);
	}
	if (err) {
		started--;
		fprintf(stderr, "report: cannot start a reader thread: %s\n", strerror(err));
		err = -1;
		pthread_mutex_lock(&r.lock);
		r.stop = true;
		for (int i = 0; i < READERS; i++)
			pthread_cond_broadcast(&r.room[i]);
		pthread_mutex_unlock(&r.lock);
	} else {
		for (int i = 0; i < count; i++) {
			heads[n] = head_at(streams[i], next_event(&r, streams[i], &failed));
			n += heads[n].ev != NULL;
		}
		err = failed ? -1 : merge(&r, heads, n);
		pthread_mutex_lock(&r.lock);
		r.stop = true;
		for (int i = 0; i < READERS; i++)
			pthread_cond_broadcast(&r.room[i]);
		pthread_mutex_unlock(&r.lock);
	}
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	pthread_cond_destroy(&r.rows);
	for (int i = 0; i < READERS; i++)
		pthread_cond_destroy(&r.room[i]);
	pthread_mutex_destroy(&r.lock);
	free(events);
	free(heads);
	free(r.rooms);
	return err;
}

/*
 * One pass over the streams whose capture is active (NULL: all): every row
 * they have now.  The reader gets connections of its own: one is never used
 * by two threads at once.
 */
static void assign_readers(struct stream **streams, int count, int nreaders);

/*
 * One pass over the streams whose capture is active (NULL: all): every row
 * they have now.  Each reader gets connections of its own: one is never
 * used by two threads at once.
 */
/*
 * in_map(map, n) (replay.h): a third of substr(map, n + 1, 1) = x'01',
 * which builds a blob per row to compare, over the rows a pass skips.
 */
static void in_map(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *map = sqlite3_value_blob(argv[0]);
	int64_t n = sqlite3_value_int64(argv[1]);

	(void)argc;
	if (sqlite3_value_type(argv[1]) == SQLITE_NULL)
		return; /* NULL */
	sqlite3_result_int(ctx, map && n >= 0 && n < sqlite3_value_bytes(argv[0]) && map[n]);
}

/*
 * The functions a pass's queries call, on a reader's connection to a
 * capture: event_row()'s struct row, or NULL after one line.
 */
static struct row *add_functions(struct capture *cap)
{
	struct row *row = xcalloc(1, sizeof(*row));
	const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;

	/* It replaces one the connection had (a spare's), freeing that row; on failure, this. */
	if (sqlite3_create_function_v2(cap->db, "event_row", -1, flags, row, event_row, NULL, NULL,
				       free) ||
	    sqlite3_create_function(cap->db, "in_map", 2, flags, NULL, in_map, NULL, NULL)) {
		fprintf(stderr, "report: %s: cannot add a function to SQLite: %s\n", cap->name,
			sqlite3_errmsg(cap->db));
		return NULL;
	}
	return row;
}

static int pass(struct captures *set, struct stream *streams, int count, const bool *active,
		int nqueries, const struct options *opts)
{
	struct stream **chosen = xcalloc((size_t)count, sizeof(*chosen));
	struct captures readers[READERS] = {0};
	struct row **rows = xcalloc((size_t)(READERS * set->count), sizeof(*rows));
	int n = 0, err = 0, nreaders;

	for (int i = 0; i < count; i++)
		if (!active || active[i / nqueries])
			chosen[n++] = &streams[i];
	nreaders =
		n < READERS || set->count > SPLIT_CAPTURES_MAX || opts->read_inline ? 1 : READERS;
	assign_readers(chosen, n, nreaders);
	for (int k = 0; k < nreaders && !err; k++) {
		err = captures_open_again(&readers[k], set);
		for (int i = 0; i < readers[k].count && !err; i++) {
			capture_scan_cache(readers[k].list[i]);
			rows[k * set->count + i] = add_functions(readers[k].list[i]);
			err = rows[k * set->count + i] ? 0 : -1;
		}
	}
	for (int i = 0; i < n && !err; i++) {
		int c = (int)(chosen[i] - streams) / nqueries;

		chosen[i]->reader = readers[chosen[i]->reader_id].list[c];
		chosen[i]->row = rows[chosen[i]->reader_id * set->count + c];
		err = start(chosen[i], opts);
		if (err && chosen[i]->failure)
			fputs(chosen[i]->failure, stderr);
	}
	if (!err)
		err = read_and_merge(chosen, n, nreaders, opts->read_inline);
	for (int i = 0; i < count; i++) {
		sqlite3_finalize(streams[i].stmt);
		streams[i].stmt = NULL;
		pages_close(streams[i].pages);
		streams[i].pages = NULL;
		free(streams[i].ids);
		streams[i].ids = NULL;
		free(streams[i].failure);
		streams[i].failure = NULL;
	}
	for (int k = 0; k < nreaders; k++)
		captures_close(&readers[k]);
	free(rows);
	free(chosen);
	return err;
}

static void sleep_ns(long ns)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = ns};

	nanosleep(&ts, NULL);
}

/* Streams for the set's capture i, one per query. */
static void init_streams(struct stream *streams, const struct captures *set, int i,
			 const struct event_query *queries, int nqueries)
{
	for (int q = 0; q < nqueries; q++) {
		struct stream *s = &streams[i * nqueries + q];

		*s = (struct stream){.cap = set->list[i],
				     .query = &queries[q],
				     .order = i * nqueries + q,
				     .floor_t = INT64_MIN,
				     .newest_seq = INT64_MIN};
	}
}

/* What --follow keeps of each capture of the set. */
struct followed {
	bool done;	/* a pass followed its clean stop, and its next part is found */
	bool succeeded; /* its next part is in the set */
	bool joined;	/* it joined the set since the last pass: read it whole */
};

/*
 * A rotated recording goes on in its next part, which record creates before
 * it closes this one (kept open for connects in flight): follow it too, as
 * soon as it is there, and say so.  -1 after one line.
 */
static int follow_next_part(struct captures *set, struct followed **followed,
			    struct stream **streams, int i, const struct event_query *queries,
			    int nqueries)
{
	struct capture *cap = set->list[i];
	int part = capture_part(cap);
	struct capture *next = capture_open_part(cap, part + 1, true);
	int n = set->count;

	if (!next) {
		if (!cap->clean || !cap->stop_reason || strcmp(cap->stop_reason, "rotated"))
			return 0;
		fprintf(stderr, "report: %s: part %d was rotated, but part %d is not beside it\n",
			cap->name, part, part + 1);
		return -1;
	}
	fprintf(stderr, "report: %s: part %d of the recording goes on in %s\n", cap->name, part,
		next->name);
	set->list = xrealloc(set->list, (size_t)(n + 1) * sizeof(*set->list));
	next->place = n;
	set->list[n] = next;
	set->count++;
	*followed = xrealloc(*followed, (size_t)(n + 1) * sizeof(**followed));
	(*followed)[n] = (struct followed){.joined = true};
	(*followed)[i].succeeded = true;
	*streams = xrealloc(*streams, (size_t)(n + 1) * (size_t)nqueries * sizeof(**streams));
	init_streams(*streams, set, n, queries, nqueries);
	return 0;
}

/*
 * Poll: reopen the captures whose files changed, pass over them, release
 * them (an open connection would keep the recorder from leaving WAL mode when
 * it stops).  Done with a capture once a pass followed its clean stop, and,
 * when it was rotated, its next part joined the set.
 */
static int follow(struct captures *set, struct stream **streams, const struct event_query *queries,
		  int nqueries, const struct options *opts)
{
	struct followed *f = xcalloc((size_t)set->count, sizeof(*f));
	bool *active = NULL;
	struct sigaction sa = {.sa_handler = request_stop};
	int remaining = set->count, err = 0;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (bool first = true; !err && remaining && !stop_requested; first = false) {
		active = xrealloc(active, (size_t)set->count * sizeof(*active));
		for (int i = 0; i < set->count && !err; i++) {
			struct capture *cap = set->list[i];

			active[i] = !f[i].done && (first || f[i].joined || capture_changed(cap));
			f[i].joined = false;
			if (active[i] && capture_reopen(cap, set->kinds))
				err = -1;
		}
		if (!err)
			err = pass(set, *streams, set->count * nqueries, active, nqueries, opts);
		for (int i = 0, count = set->count; i < count && !err; i++) {
			if (!active[i])
				continue;
			if (!f[i].succeeded) {
				err = follow_next_part(set, &f, streams, i, queries, nqueries);
				remaining += f[i].succeeded;
			}
			if (set->list[i]->clean) {
				f[i].done = true;
				remaining--;
			}
		}
		for (int i = 0; i < set->count; i++)
			capture_release(set->list[i]);
		output_flush();
		if (!err && remaining && !stop_requested)
			sleep_ns(FOLLOW_POLL_NS);
	}
	free(active);
	free(f);
	return err;
}

/* The kinds of events (event_kind) whose rows fill each table: their count, read once. */
static const struct {
	const char *table;
	const char *kinds[2];
} table_kinds[] = {
	{"ev_connect", {"connect"}},
	{"ev_accept", {"accept"}},
	{"ev_reset", {"reset"}},
	{"ev_capable", {"capable"}},
	{"ev_exit", {"exit"}},
	{"process", {"exec", "fork"}},
	{"dns", {"dns"}},
	{"ev_unaccepted", {"unaccepted"}},
};

static int64_t recorded(const struct capture *cap, const char *kind)
{
	for (int i = 0; i < cap->nkinds; i++)
		if (!strcmp(cap->kinds[i].name, kind))
			return cap->kinds[i].recorded;
	return 0;
}

/* How many rows the queries will go through, at most: the recorder's counts. */
static int64_t rows_expected(const struct captures *set, const struct event_query *queries,
			     int nqueries)
{
	int64_t rows = 0;

	for (int q = 0; q < nqueries; q++) {
		for (size_t t = 0; t < ARRAY_SIZE(table_kinds); t++) {
			if (strcmp(table_kinds[t].table, queries[q].table))
				continue;
			for (int k = 0; k < 2 && table_kinds[t].kinds[k]; k++)
				for (int c = 0; c < set->count; c++)
					rows += recorded(set->list[c], table_kinds[t].kinds[k]);
		}
	}
	return rows;
}

/* What a stream will read, roughly: its rows (as recorded) times its columns. */
static int64_t stream_weight(const struct stream *s)
{
	const char *kind = NULL, *c;
	int64_t columns = 2;

	for (size_t t = 0; t < ARRAY_SIZE(table_kinds) && !kind; t++)
		if (!strcmp(table_kinds[t].table, s->query->table))
			kind = table_kinds[t].kinds[0];
	if (!kind && !strncmp(s->query->table, "ev_", 3)) /* ev_close: the close kind */
		kind = s->query->table + 3;
	for (c = s->query->columns; *c; c++)
		columns += *c == ',';
	return (kind ? recorded(s->cap, kind) : 0) * columns;
}

/* Streams to readers, the heaviest first, each to the reader with least to read so far. */
static void assign_readers(struct stream **streams, int count, int nreaders)
{
	int64_t load[READERS] = {0}, *weight = xcalloc((size_t)count + 1, sizeof(*weight));
	bool *done = xcalloc((size_t)count + 1, sizeof(*done));

	for (int i = 0; i < count; i++)
		weight[i] = stream_weight(streams[i]);
	for (int n = 0; n < count; n++) {
		int heaviest = -1, least = 0;

		for (int i = 0; i < count; i++)
			if (!done[i] && (heaviest < 0 || weight[i] > weight[heaviest]))
				heaviest = i;
		for (int k = 1; k < nreaders; k++)
			if (load[k] < load[least])
				least = k;
		done[heaviest] = true;
		streams[heaviest]->reader_id = least;
		load[least] += weight[heaviest];
	}
	free(weight);
	free(done);
}

int replay(struct captures *set, const struct event_query *queries, int nqueries,
	   const struct options *opts)
{
	int count = set->count * nqueries, err;
	struct stream *streams = xcalloc((size_t)count, sizeof(*streams));

	progress_expect(rows_expected(set, queries, nqueries));
	for (int i = 0; i < set->count; i++)
		init_streams(streams, set, i, queries, nqueries);
	err = opts->follow ? follow(set, &streams, queries, nqueries, opts)
			   : pass(set, streams, count, NULL, nqueries, opts);
	free(streams);
	return err;
}
