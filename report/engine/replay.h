/*
 * Replaying events: one cursor per capture and kind of event, each in the
 * capture's (t, seq) order, merged across captures and kinds by wall clock,
 * and with --follow, polled again for what the recorder commits next.
 */
#ifndef CASEFILE_REPORT_REPLAY_H
#define CASEFILE_REPORT_REPLAY_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "filter.h"
#include "options.h"

#define EVENT_COLUMNS_MAX 16

/* The stacks of an event (record -K, -U): which it has, and their stack.id. */
enum { STACK_KERNEL, STACK_USER, STACK_KINDS };

struct event_stacks {
	bool has[STACK_KINDS];
	int64_t id[STACK_KINDS];
};

/* An event, for the time of one emit call. */
struct event {
	struct capture *cap;
	int64_t t, wall_ns;
	int64_t seq; /* read when the query names_rows, or with --follow; else 0 */
	int64_t col[EVENT_COLUMNS_MAX]; /* the query's columns (all integers) */
	uint32_t nulls;			/* bit i: col[i] is NULL */
	struct event_stacks stacks;	/* when the query asked for them */
};

static inline bool event_null(const struct event *ev, int column)
{
	return ev->nulls >> column & 1;
}

/* One kind of event: its table, what to select, and what to do with each. */
struct event_query {
	const char *table;   /* "ev_connect" */
	const char *columns; /* integers, into event.col: "e.task, e.dport" */
	/* A fixed SQL condition on e, or NULL. */
	const char *condition;
	struct filter_columns filter;
	int (*emit)(const struct event *ev, void *ctx); /* 0, or -1 after one line */
	/* Bind the condition's own parameters for a capture, or NULL: 0, or -1 after one line. */
	int (*bind)(sqlite3_stmt *stmt, struct capture *cap, void *ctx);
	void *ctx;
	/*
	 * Or NULL: the small numbers (ids) a row must hold in one of its
	 * columns ids_columns (bit i: column i, each an "e.NAME") to be read,
	 * tested by the readers: the emitter sees only the rows that may pass.
	 * A capture's as a byte an id from 0, nonzero for one held, *size of
	 * them (at least one), which the replay frees; NULL: every row.
	 */
	uint8_t *(*ids)(struct capture *cap, void *ctx, size_t *size);
	uint32_t ids_columns;
	bool stacks; /* also the events' stacks, into event.stacks */
	/* What explains events (DNS answers): every row, whatever the filters select. */
	bool unfiltered;
	/* A table newer than some captures: none there means no rows, not an error. */
	bool optional;
	/*
	 * A column newer than some captures (or NULL): where the table lacks
	 * it, older_columns are selected instead of columns (NULL in its place).
	 */
	const char *newer_column, *older_columns;
	/* The emitter reads its row again by (t, seq): event.seq is wanted. */
	bool names_rows;
	/* Bit i: column i is an address.id the emitter looks up (fetched ahead). */
	uint32_t address_columns;
	/*
	 * Start fetching into the processor's cache what emit will read for ev,
	 * an event a few ahead in the stream, besides its addresses; or NULL.
	 */
	void (*prefetch)(const struct event *ev, void *ctx);
	/*
	 * Or NULL: a second stage, for an event half as far ahead, once what
	 * prefetch fetched for it is in the cache (a map's slot): start
	 * fetching what that names (the item the slot points to).
	 */
	void (*prefetch_near)(const struct event *ev, void *ctx);
};

/*
 * Every event of the queries in every capture, in wall-clock order (ties:
 * the order of the files, then of the queries).  With opts->follow, keep
 * polling until every capture has stopped cleanly, or SIGINT/SIGTERM.
 * 0, or -1 after one line on stderr.
 */
int replay(struct captures *set, const struct event_query *queries, int nqueries,
	   const struct options *opts);

#endif
