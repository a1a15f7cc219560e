/*
 * Folded stacks, the input of flame-graph tools (flamegraph.pl, speedscope,
 * inferno): one line per distinct stack, "COMM;user frames, outermost
 * first;kernel frames COUNT", counted as events stream by, for any command
 * whose events have stacks.  Memory grows with distinct stacks, not events.
 */
#ifndef CASEFILE_REPORT_FOLDED_H
#define CASEFILE_REPORT_FOLDED_H

#include <stdint.h>

#include "capture.h"
#include "output.h"
#include "replay.h"
#include "stacks.h"

struct folded;

/* The stacks choice->kernel and choice->user take, of events from set. */
struct folded *folded_new(const struct captures *set, const struct stack_choice *choice);
void folded_free(struct folded *folded);

/*
 * Count an event of a query that asked for stacks (event_query.stacks): comm
 * as event_values() gave it (null: no process).  0, or -1 after one line.
 */
int folded_add(struct folded *folded, const struct event *ev, const struct value *comm);

/* The same, the event's task (NULL: none) in its column task_column. */
int folded_add_event(struct folded *folded, const struct event *ev, int task_column);

/*
 * Count n events of a process named comm (NULL: none) with these stacks, for
 * a command that counted them itself.  0, or -1 after one line on stderr.
 */
int folded_add_stacks(struct folded *folded, struct capture *cap, const char *comm, size_t comm_len,
		      const struct event_stacks *stacks, int64_t n);

/*
 * Print the lines, most events first, prefixed by "HOST;" when the events
 * come from more than one host.  0, or -1 after one line on stderr.
 */
int folded_print(struct folded *folded);

/*
 * A command's replay, for commands that offer stacks: tell what the captures
 * lack, then with --folded count the events into *folded (the query's emit
 * passes it to folded_add) and print them folded; else print rows of fields.
 * 0, or -1 after one line on stderr.
 */
int replay_with_stacks(struct captures *set, const struct event_query *queries, int nqueries,
		       const struct options *opts, const struct stack_choice *choice,
		       struct folded **folded, const struct field *fields, int count);

#endif
