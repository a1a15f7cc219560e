/*
 * From ring-buffer records to capture rows: numbering events, sharing task
 * and address rows, pairing each connect with its outcome, deriving AUDIT.
 */
#ifndef CASEFILE_RECORD_ROWS_H
#define CASEFILE_RECORD_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "capture.h"

struct rows;

struct rows *rows_new(struct capture *cap, int64_t base_ns, struct audit_deriver *audit);
void rows_free(struct rows *rows);

/* Write one record; -1 when the capture cannot be written (stop recording). */
int rows_add_record(struct rows *rows, const void *data, size_t size);

/*
 * Write the connects still waiting for their outcome (see rows.c): before
 * every commit, so that a commit holds every row its counts include.
 */
int rows_flush(struct rows *rows);

/* Rows written per record type. */
const uint64_t *rows_recorded(const struct rows *rows);

/* Records dropped on this side (a connect forgotten before its outcome), per type. */
const uint64_t *rows_lost(const struct rows *rows);

#endif
