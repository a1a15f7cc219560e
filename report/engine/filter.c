/*
 * The common filters as SQL: conditions on an event table aliased `e`, every
 * value a bound parameter.  Event queries (replay.c) and aggregate queries
 * alike append them to their WHERE clause, then bind them per capture.
 */
#include <stdint.h>
#include <string.h>

#include "filter.h"

/* " AND ..." for each task filter given: on the task table, or the event table's own columns. */
static void write_task_conditions(FILE *sql, const struct options *opts,
				  const struct filter_columns *columns)
{
	/* Columns of the task table, or of the event table when it holds them (e.). */
	const char *of = columns->task ? "" : "e.";

	if (opts->pid >= 0)
		fprintf(sql, " AND %spid = :pid", of);
	if (opts->pid >= 0 && opts->start_ns != INT64_MIN)
		fprintf(sql, " AND %sstart_ns = :start_ns", of);
	if (opts->ppid >= 0)
		fprintf(sql, " AND %sppid = :ppid", of);
	if (opts->uid >= 0)
		fprintf(sql, " AND %suid = :uid", of);
	if (opts->comm)
		fprintf(sql, " AND %scomm = :comm", of);
	if (opts->has_cgroup)
		fprintf(sql, " AND %scgroup = :cgroup", of);
	if (opts->has_mntns)
		fprintf(sql, " AND %smntns = :mntns", of);
	if (opts->has_netns && !columns->netns)
		fprintf(sql, " AND %snetns = :netns", of);
}

static bool has_task_filters(const struct options *opts, const struct filter_columns *columns)
{
	return opts->pid >= 0 || opts->ppid >= 0 || opts->uid >= 0 || opts->comm ||
	       opts->has_cgroup || opts->has_mntns || (opts->has_netns && !columns->netns);
}

/* " AND ..." on the socket's own namespace, where the table keeps it. */
static void write_socket_netns(FILE *sql, const struct options *opts,
			       const struct filter_columns *columns)
{
	if (opts->has_netns && columns->netns)
		fprintf(sql, " AND ifnull(%s, :own_netns) = :netns", columns->netns);
}

void write_filters(FILE *sql, const struct options *opts, const struct filter_columns *columns)
{
	/* Without them, comparing every row's t to the whole range costs a few percent. */
	if (filter_has_t_range(opts) || opts->follow)
		fputs(T_RANGE_CONDITION, sql);
	if (!columns->mark_tasks)
		write_socket_netns(sql, opts, columns);
	if (has_task_filters(opts, columns) && !columns->mark_tasks) {
		/* The task table is small: SQLite builds this set once per query. */
		if (columns->task)
			fprintf(sql, " AND %s IN (SELECT id FROM task WHERE 1", columns->task);
		write_task_conditions(sql, opts, columns);
		if (columns->task)
			fputs(")", sql);
	}
	if (opts->family && columns->family)
		fprintf(sql, " AND %s IN (SELECT id FROM address WHERE ip = :ip)", columns->family);
	if (opts->ports && columns->port)
		fprintf(sql, " AND %s IN (SELECT value FROM json_each(:ports))", columns->port);
	if (opts->addr.given && columns->ends[0])
		fprintf(sql,
			" AND (%s IN (SELECT id FROM address WHERE addr IN (:addr, :addr_mapped))"
			" OR %s IN (SELECT id FROM address WHERE addr IN (:addr, :addr_mapped)))",
			columns->ends[0], columns->ends[1] ? columns->ends[1] : columns->ends[0]);
}

void write_task_match(FILE *sql, const struct options *opts, const struct filter_columns *columns)
{
	if (!has_task_filters(opts, columns)) {
		fputs("(1", sql);
		write_socket_netns(sql, opts, columns);
		fputs(")", sql);
		return;
	}
	/* A row of no process (a reset sent from softirq) passes none. */
	if (columns->task)
		fprintf(sql, "ifnull(%s IN (SELECT id FROM task WHERE 1", columns->task);
	else
		fputs("ifnull((1", sql);
	write_task_conditions(sql, opts, columns);
	fputs(")", sql);
	write_socket_netns(sql, opts, columns);
	fputs(", 0)", sql);
}

bool filter_has_t_range(const struct options *opts)
{
	return opts->since_ns != INT64_MIN || opts->until_ns != INT64_MAX;
}

/* wall - base_ns - realtime_offset_ns, held within int64 */
static int64_t t_of(int64_t wall_ns, const struct capture *cap)
{
	int64_t t;

	if (wall_ns == INT64_MIN || wall_ns == INT64_MAX)
		return wall_ns;
	if (__builtin_sub_overflow(wall_ns, cap->base_ns, &t) ||
	    __builtin_sub_overflow(t, cap->realtime_offset_ns, &t))
		return wall_ns < 0 ? INT64_MIN : INT64_MAX;
	return t;
}

void filter_t_range(const struct options *opts, const struct capture *cap, int64_t *from,
		    int64_t *to)
{
	*from = t_of(opts->since_ns, cap);
	*to = t_of(opts->until_ns, cap);
}

static int bind_int(sqlite3_stmt *stmt, const char *name, int64_t value)
{
	int index = sqlite3_bind_parameter_index(stmt, name);

	return index ? sqlite3_bind_int64(stmt, index, value) : SQLITE_OK;
}

int bind_filters(sqlite3_stmt *stmt, const struct options *opts, const struct capture *cap)
{
	int64_t from, to;
	int rc, index;

	filter_t_range(opts, cap, &from, &to);
	rc = bind_int(stmt, ":t_from", from) | bind_int(stmt, ":t_to", to) |
	     bind_int(stmt, ":pid", opts->pid) | bind_int(stmt, ":start_ns", opts->start_ns) |
	     bind_int(stmt, ":uid", opts->uid) | bind_int(stmt, ":ppid", opts->ppid) |
	     bind_int(stmt, ":cgroup", (int64_t)opts->cgroup) |
	     bind_int(stmt, ":mntns", (int64_t)opts->mntns) |
	     bind_int(stmt, ":netns", (int64_t)opts->netns) | bind_int(stmt, ":ip", opts->family);
	/* Unknown in captures made before namespaces: NULL, which no --netns equals. */
	if ((index = sqlite3_bind_parameter_index(stmt, ":own_netns")))
		rc |= cap->netns < 0 ? sqlite3_bind_null(stmt, index)
				     : sqlite3_bind_int64(stmt, index, cap->netns);
	if ((index = sqlite3_bind_parameter_index(stmt, ":comm")))
		rc |= sqlite3_bind_text(stmt, index, opts->comm, (int)opts->comm_len,
					SQLITE_STATIC);
	if ((index = sqlite3_bind_parameter_index(stmt, ":ports")))
		rc |= sqlite3_bind_text(stmt, index, opts->ports, -1, SQLITE_STATIC);
	if ((index = sqlite3_bind_parameter_index(stmt, ":addr")))
		rc |= sqlite3_bind_text(stmt, index, opts->addr.text, -1, SQLITE_STATIC);
	if ((index = sqlite3_bind_parameter_index(stmt, ":addr_mapped")))
		rc |= sqlite3_bind_text(stmt, index, opts->addr.mapped, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		fprintf(stderr, "report: %s: cannot bind the filters: %s\n", cap->name,
			sqlite3_errmsg(sqlite3_db_handle(stmt)));
		return -1;
	}
	return 0;
}
