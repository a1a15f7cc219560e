/*
 * Zeroed blocks for tables read at random (the lookups' slots), carved from
 * 2 MiB chunks the kernel may back with huge pages: a fleet's events reach
 * the tables of hundreds of captures in turn, and each table in pages of
 * its own missed the processor's TLB at nearly every lookup.
 */
#ifndef CASEFILE_REPORT_ARENA_H
#define CASEFILE_REPORT_ARENA_H

#include <stddef.h>

/* size bytes, zeroed (exits on no memory, as xcalloc); thread-safe. */
void *arena_zalloc(size_t size);
/* A block of arena_zalloc's (NULL: nothing), given back. */
void arena_free(void *block);

#endif
