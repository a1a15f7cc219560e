/*
 * The fields every event report begins with, in this order: when (relative,
 * wall clock, kernel), where (host), and which task.  A subcommand copies
 * them in front of its own fields and shows the ones its table wants.
 */
#ifndef CASEFILE_REPORT_EVENTS_H
#define CASEFILE_REPORT_EVENTS_H

#include "capture.h"
#include "output.h"
#include "replay.h"

enum event_field {
	EVENT_ELAPSED, /* TIME(s): seconds since the first row (table only) */
	EVENT_CLOCK,   /* TIME: HH:MM:SS; "time" in RFC 3339 */
	EVENT_TS_NS,   /* the kernel's timestamp (CLOCK_BOOTTIME ns) */
	EVENT_HOST,
	EVENT_UID,
	EVENT_PID,
	EVENT_TID,
	EVENT_PPID,
	EVENT_COMM,
	EVENT_CGROUP,
	EVENT_MNTNS,
	EVENT_NETNS,	   /* the task's network namespace, or the socket's (event_socket_netns) */
	EVENT_NSPID,	   /* the pid in its own pid namespace */
	EVENT_CGROUP_PATH, /* the cgroup's path, from the capture's cgroup table */
	EVENT_FIELDS
};

/* The event fields, into fields[0..EVENT_FIELDS): HOST shown when several hosts. */
void event_fields(struct field *fields, const struct captures *set);

/*
 * Where the task ran, NETNS NSPID CGROUP, shown in tables when wanted (-l,
 * with who did it); JSON and CSV carry them always.
 */
void event_where_fields(struct field *fields, bool shown);

/*
 * The same as both views of the timeline show them (timeline.c, connview.c):
 * both times shown, PID and COMM as wide as the timeline's.
 */
void timeline_event_fields(struct field *fields, const struct captures *set);

/*
 * Their values for ev, into values[0..EVENT_FIELDS).  The task is the one
 * whose id is in ev->col[task_column] (NULL there, or a column < 0: none), read
 * into *task, which must outlive values.  0, or -1 after one line on stderr.
 */
int event_values(const struct event *ev, int task_column, struct task *task, struct value *values);

/*
 * With -l (opts->lineage), who did it (lineage.h) into
 * values[0..LINEAGE_FIELDS): the task event_values() read (the event's
 * task_column may be NULL: none), at the event's time; else nulls.  0, or
 * -1 after one line on stderr.
 */
int event_lineage(const struct event *ev, int task_column, const struct task *task, bool wanted,
		  struct value *values);

/*
 * How a connect left SYN_SENT, as the capture's tcpconnect view names it
 * (established, refused, timeout, unreachable, aborted, error); NULL when
 * the capture has no outcome for it.
 */
const char *connect_outcome(bool has_outcome, int64_t state, int64_t error);

/*
 * An address column that may be NULL (a reset's: the kernel gave none) into
 * *address and *value: NULL gives a null value and "?" as the address's
 * text, for lines that show it.  0, or -1 after one line on stderr.
 */
int event_address(const struct event *ev, int column, struct address *address, struct value *value);

/*
 * The event's network namespace from the socket's, in column (NULL there:
 * the recorder's own, capture.netns), over the task's (events of sockets:
 * a reset, a close, a handshake never accepted).
 */
void event_socket_netns(const struct event *ev, int column, struct value *values);

/*
 * The path of task's cgroup as shown: its path, "(gone)" when the recorder
 * read it too late, null when unknown; valid until the next call here or to
 * event_values.  0, or -1 after one line on stderr.
 */
int task_cgroup_value(struct capture *cap, const struct task *task, struct value *value);

/* An integer column of the event as a value (NULL as null). */
static inline struct value column_value(const struct event *ev, int column)
{
	return event_null(ev, column) ? null_value() : int_value(ev->col[column]);
}

#endif
