/*
 * The common filters as SQL: conditions on an event table aliased `e`, every
 * value a bound parameter.  Event queries (replay.c) and aggregate queries
 * alike append them to their WHERE clause, then bind them per capture.
 */
#ifndef CASEFILE_REPORT_FILTER_H
#define CASEFILE_REPORT_FILTER_H

#include <sqlite3.h>
#include <stdio.h>

#include "capture.h"
#include "options.h"

/* Where an event table keeps what the filters test. */
struct filter_columns {
	const char *task;    /* the task id: "e.task"; NULL: the table holds pid, start_ns,
				uid, comm, cgroup and mntns itself (process) */
	const char *family;  /* an address id whose family -4/-6 test; NULL: not offered */
	const char *port;    /* the port -P selects; NULL: not offered */
	const char *ends[2]; /* address ids --addr tests, either one; NULL: not offered */
	/*
	 * The socket's network namespace --netns tests, NULL meaning the
	 * recorder's own (ev_reset, ev_close, ev_unaccepted: "e.netns"); NULL
	 * here: the task's, a task filter.
	 */
	const char *netns;
	/*
	 * The task filters (-p, -u, --comm, --cgroup, --mntns, --netns) mark rows
	 * (write_task_match) rather than choose them: a view that shows whole
	 * connections reads every end's events, and shows those one of them chose.
	 */
	bool mark_tasks;
};

/* The time range's condition, on the clustering key. */
#define T_RANGE_CONDITION " AND e.t BETWEEN :t_from AND :t_to"
/*
 * Write " AND ..." conditions for opts to sql: the time range
 * (T_RANGE_CONDITION) when one is given or when following, then the
 * others that were given.
 */
void write_filters(FILE *sql, const struct options *opts, const struct filter_columns *columns);

/*
 * An expression, 1 for a row whose task passes the task filters (every row
 * when none is given), else 0: a column for a query whose filter columns
 * mark_tasks.  Bound by bind_filters.
 */
void write_task_match(FILE *sql, const struct options *opts, const struct filter_columns *columns);

/* Bind those conditions' values for one capture; -1 after one line on stderr. */
int bind_filters(sqlite3_stmt *stmt, const struct options *opts, const struct capture *cap);

/* Whether the options hold the events to a range of time (--since, --until, a pass's own). */
bool filter_has_t_range(const struct options *opts);
/* The t range of a capture that --since/--until select. */
void filter_t_range(const struct options *opts, const struct capture *cap, int64_t *from,
		    int64_t *to);

#endif
