/*
 * When and by whom records were lost, as each part (capture file) tells it:
 * the intervals in which each record type's loss count grew (table loss),
 * and the processes the kernel counted losses for (table process_loss).
 * The totals stay event_kind.lost's; these split them, summing to them.
 */
#ifndef CASEFILE_RECORD_LOSSES_H
#define CASEFILE_RECORD_LOSSES_H

#include <stdint.h>

#include "capture.h"

/* The kernel's losses by process at one moment (the map lost_by_process). */
struct process_counts;

/*
 * Read the map at fd into *counts (to free).  Read before the totals
 * (probes_lost()): the programs count a total first, so no reading then
 * finds more losses by process than in all.  0, or a negative errno.
 */
int process_counts_read(int fd, struct process_counts **counts);
void process_counts_free(struct process_counts *counts);

/* One part's losses as written so far. */
struct loss_log;

/* A part that begins at begin_t (t, as the events'), with the counts by process then. */
struct loss_log *loss_log_new(int64_t begin_t, struct process_counts *since);

/*
 * The part's records go to the next one from now: its losses by process are
 * those up to counts (the next part's since), kept.
 */
void loss_log_end(struct loss_log *log, const struct process_counts *counts);

/*
 * A look at the part's loss counts (lost: event_kind.lost's) at now_t: each
 * record type whose count grew since the last look gets an interval, or
 * makes longer the one the last look made.  0, or -1 after one line.
 */
int loss_log_look(struct loss_log *log, struct capture *cap, const uint64_t lost[RECORD_TYPES],
		  int64_t now_t);

/*
 * Write who lost the part's records, counts being the kernel's now (unused,
 * may be NULL, once the part ended), and the rest of lost as unattributed.
 * 0, or -1 after one line.
 */
int loss_log_write_processes(struct loss_log *log, struct capture *cap,
			     const uint64_t lost[RECORD_TYPES],
			     const struct process_counts *counts);

void loss_log_free(struct loss_log *log);

#endif
