/*
 * The fields every event report begins with, in this order: when (relative,
 * wall clock, kernel), where (host), and which task.  A subcommand copies
 * them in front of its own fields and shows the ones its table wants.
 */
#include <string.h>

#include "events.h"
#include "lineage.h"

static const struct field template[EVENT_FIELDS] = {
	[EVENT_ELAPSED] = {"TIME(s)", NULL, 8, FIELD_ELAPSED, false},
	[EVENT_CLOCK] = {"TIME", "time", 12, FIELD_CLOCK, false},
	[EVENT_TS_NS] = {NULL, "ts_ns", 0, FIELD_INT, false},
	[EVENT_HOST] = {"HOST", "host", 0, FIELD_TEXT, false},
	[EVENT_UID] = {"UID", "uid", 5, FIELD_INT, false},
	[EVENT_PID] = {"PID", "pid", 6, FIELD_INT, true},
	[EVENT_TID] = {"TID", "tid", 6, FIELD_INT, false},
	[EVENT_PPID] = {NULL, "ppid", 0, FIELD_INT, false},
	[EVENT_COMM] = {"COMM", "comm", 12, FIELD_TEXT, true},
	[EVENT_CGROUP] = {NULL, "cgroup", 0, FIELD_INT, false},
	[EVENT_MNTNS] = {NULL, "mntns", 0, FIELD_INT, false},
	[EVENT_NETNS] = {"NETNS", "netns", 10, FIELD_INT, false},
	[EVENT_NSPID] = {"NSPID", "nspid", 6, FIELD_INT, false},
	[EVENT_CGROUP_PATH] = {"CGROUP", "cgroup_path", 20, FIELD_TEXT, false},
};

/* Filled by event_values for the values it returns: until its next call. */
static struct cgroup_path cgroup_path;

/*
 * COMM is cut as BCC's tools cut it (%-12.12s), in tables only.  To fit a
 * terminal, the columns that repeat or refine another go first: the time
 * since the first event (when the clock is there too), the thread, the user.
 */
void event_fields(struct field *fields, const struct captures *set)
{
	memcpy(fields, template, sizeof(template));
	fields[EVENT_HOST].shown = set->many_hosts;
	fields[EVENT_HOST].width = set->host_width;
	output_column_fit(EVENT_COMM, fields[EVENT_COMM].width, 0);
	output_column_fit(EVENT_TID, 0, 2);
	output_column_fit(EVENT_UID, 0, 3);
}

void event_where_fields(struct field *fields, bool shown)
{
	fields[EVENT_NETNS].shown = shown;
	fields[EVENT_NSPID].shown = shown;
	fields[EVENT_CGROUP_PATH].shown = shown;
	/* Refinements of who did it: they go before EXE and PARENTS do. */
	output_column_fit(EVENT_NSPID, 0, 4);
	output_column_fit(EVENT_CGROUP_PATH, 0, 5);
	output_column_fit(EVENT_NETNS, 0, 6);
}

void timeline_event_fields(struct field *fields, const struct captures *set)
{
	event_fields(fields, set);
	fields[EVENT_ELAPSED].shown = true;
	fields[EVENT_CLOCK].shown = true;
	fields[EVENT_PID].width = 7;
	output_column_fit(EVENT_ELAPSED, 0, 1);
}

int event_values(const struct event *ev, int task_column, struct task *task, struct value *values)
{
	values[EVENT_ELAPSED] = int_value(ev->wall_ns);
	values[EVENT_CLOCK] = int_value(ev->wall_ns);
	values[EVENT_TS_NS] = int_value(ev->cap->base_ns + ev->t);
	values[EVENT_HOST] = text_value(ev->cap->host, ev->cap->host_len);
	if (task_column < 0 || event_null(ev, task_column)) {
		for (int i = EVENT_UID; i < EVENT_FIELDS; i++)
			values[i] = null_value();
		return 0;
	}
	if (capture_task(ev->cap, ev->col[task_column], task) ||
	    task_cgroup_value(ev->cap, task, &values[EVENT_CGROUP_PATH]))
		return -1;
	values[EVENT_UID] = int_value(task->uid);
	values[EVENT_PID] = int_value(task->pid);
	values[EVENT_TID] = int_value(task->tid);
	values[EVENT_PPID] = int_value(task->ppid);
	values[EVENT_COMM] = checked_text_value(task->comm, task->comm_len, task->comm_plain);
	values[EVENT_CGROUP] = int_value(task->cgroup);
	values[EVENT_MNTNS] = int_value(task->mntns);
	values[EVENT_NETNS] = task->netns < 0 ? null_value() : int_value(task->netns);
	values[EVENT_NSPID] = task->nspid < 0 ? null_value() : int_value(task->nspid);
	return 0;
}

int task_cgroup_value(struct capture *cap, const struct task *task, struct value *value)
{
	static const char gone[] = "(gone)";

	if (capture_cgroup_path(cap, task->cgroup, &cgroup_path))
		return -1;
	*value = cgroup_path.state == CGROUP_NAMED
			 ? checked_text_value(cgroup_path.text, cgroup_path.len, cgroup_path.plain)
		 : cgroup_path.state == CGROUP_GONE ? text_value(gone, sizeof(gone) - 1)
						    : null_value();
	return 0;
}

void event_socket_netns(const struct event *ev, int column, struct value *values)
{
	if (!event_null(ev, column))
		values[EVENT_NETNS] = int_value(ev->col[column]);
	else
		values[EVENT_NETNS] = ev->cap->netns < 0 ? null_value() : int_value(ev->cap->netns);
}

int event_lineage(const struct event *ev, int task_column, const struct task *task, bool wanted,
		  struct value *values)
{
	bool has_task = wanted && !event_null(ev, task_column);

	return lineage_values(ev->cap, has_task ? task : NULL, ev->t, values);
}

const char *connect_outcome(bool has_outcome, int64_t state, int64_t error)
{
	if (!has_outcome)
		return NULL;
	if (state == 1)
		return "established";
	if (error == 111)
		return "refused";
	if (error == 110)
		return "timeout";
	if (error == 101 || error == 113)
		return "unreachable";
	if (error == 0)
		return "aborted";
	return "error";
}

int event_address(const struct event *ev, int column, struct address *address, struct value *value)
{
	if (event_null(ev, column)) {
		*address = (struct address){.text = "?", .len = 1, .plain = true};
		*value = null_value();
		return 0;
	}
	if (capture_address(ev->cap, ev->col[column], address))
		return -1;
	*value = checked_text_value(address->text, address->len, address->plain);
	return 0;
}
