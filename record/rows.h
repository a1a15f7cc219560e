/*
 * From ring-buffer records to capture rows: numbering events, sharing task
 * and address rows, pairing each connect with its outcome, deriving AUDIT.
 *
 * Rows go to the current part (capture file).  When recording rotates to a
 * new part, the earlier one stays open while it holds connects awaiting their
 * outcome, so that every outcome lands next to its connect.
 */
#ifndef CASEFILE_RECORD_ROWS_H
#define CASEFILE_RECORD_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "capture.h"
#include "probes.h"
#include "stacks.h"

struct rows;

/* One capture file of the recording, with what was written to it. */
struct part {
	struct capture *cap;
	int64_t first_seq;		 /* its rows have seq >= first_seq */
	uint64_t recorded[RECORD_TYPES]; /* rows written */
	uint64_t dropped[RECORD_TYPES];	 /* records the recorder could not place */
	uint64_t kernel_lost_at_start[RECORD_TYPES];
	uint64_t kernel_lost_at_end[RECORD_TYPES]; /* set when the next part begins */
	struct loss_log *losses; /* when and by whom it lost records: the session's */
	/* The programs' skipped runs (probes.h) when it began, and when the next began. */
	struct skipped_runs skipped_at_start, skipped_at_end;
	unsigned awaiting_outcome; /* its connects still in flight */
	bool current;
};

struct rows *rows_new(int64_t base_ns, struct audit_deriver *audit);
void rows_free(struct rows *rows);

/*
 * From now on (symbols load after attaching): derive AUDIT with audit, and
 * store the kernel and user stacks of the record types in the masks
 * (1 << record_type) into stacks.
 */
void rows_set_symbols(struct rows *rows, struct audit_deriver *audit, struct stack_store *stacks,
		      unsigned kernel_stack_types, unsigned user_stack_types);

/* Parts open at once at most; take one (rows_take_part) before beginning more. */
#define MAX_OPEN_PARTS 16

/*
 * Write from now on into cap; kernel_lost are the kernel's loss counts now.
 * What waits for the previous part is written into it first; -1 on failure.
 */
int rows_begin_part(struct rows *rows, struct capture *cap,
		    const uint64_t kernel_lost[RECORD_TYPES]);

/* The capture rows go to now, and the rows written into it per record type. */
struct capture *rows_current_capture(struct rows *rows);
const uint64_t *rows_recorded(struct rows *rows);

/*
 * Write the connects still waiting for their outcome (see rows.c): before
 * every commit, so that a commit holds every row its counts include.
 */
int rows_flush(struct rows *rows);

/* Write a row for each process running now, into the current part. */
int rows_add_running_processes(struct rows *rows);

/* Write one record; -1 when a capture cannot be written (stop recording). */
int rows_add_record(struct rows *rows, const void *data, size_t size);

/* The open parts, oldest first; the last is the current one. */
struct part *rows_parts(struct rows *rows, size_t *count);

/*
 * Remove an earlier part that needs no more rows (none of its connects awaits
 * an outcome) or, with any set, the oldest open part, into *out; false if
 * there is none.  The caller finishes and closes its capture.  Outcomes for a
 * part taken early are counted as dropped.
 */
bool rows_take_part(struct rows *rows, bool any, struct part *out);

/* Events written in all parts, for the live status. */
uint64_t rows_total_recorded(const struct rows *rows);

#endif
