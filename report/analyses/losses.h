/*
 * When and by whom a capture's records were lost: its loss intervals (table
 * loss) and its losses by process (process_loss), as the recorder wrote them.
 * Captures of recorders before them have neither: what they lost is known
 * per kind only (event_kind.lost).
 */
#ifndef CASEFILE_REPORT_LOSSES_H
#define CASEFILE_REPORT_LOSSES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"

/* Records of one kind lost between two looks of the recorder. */
struct loss_interval {
	int kind;		   /* index in the capture's kinds */
	int64_t first_ns, last_ns; /* wall clock: the look before them, the look that found them */
	int64_t count;
};

/* Records of one kind a process lost, or (pid -1) that no process can be named for. */
struct process_losses {
	int kind;
	int64_t pid, start_ns;
	size_t comm_len;
	char comm[CAPTURE_TEXT_MAX];
	int64_t count;
};

struct losses {
	bool kept;			 /* the capture has the tables: when and who are known */
	struct loss_interval *intervals; /* by time */
	size_t nintervals;
	struct process_losses *by_process; /* per kind, most first, the unattributed last */
	size_t nby_process;
};

/* Read a capture's losses: 0, or -1 after one line on stderr (a corrupt capture). */
int losses_read(struct capture *cap, struct losses *losses);
void losses_free(struct losses *losses);

/*
 * Every capture's of set, read before anything is printed (a corrupt one
 * refuses the report): an array to free with losses_free_all(); NULL after
 * one line on stderr.
 */
struct losses *losses_read_all(const struct captures *set);
void losses_free_all(struct losses *all, const struct captures *set);

/* The span of a kind's loss intervals, wall clock; false when it has none. */
bool losses_span(const struct losses *losses, int kind, int64_t *first_ns, int64_t *last_ns);

/*
 * The process that lost most records of the kind, or the unattributed losses
 * when no process is named (pid -1); NULL when the capture names none.
 */
const struct process_losses *losses_top_process(const struct losses *losses, int kind);

/* How many processes are named for the kind's losses. */
size_t losses_processes(const struct losses *losses, int kind);

/* "28790 from pid 4242 storm", or "28790 unattributed": the comm's bytes as they are. */
void losses_who(const struct process_losses *p, char *out, size_t size);

/*
 * "12 runs of tcp_state_change skipped by the kernel: connect,accept,close
 * events may be missing", the one sentence info, summary and html write for
 * a program's skipped runs: the capture's words as they are (render or
 * escape it to show it); free it.
 */
char *losses_skipped_sentence(const struct skipped_run *run);

#endif
