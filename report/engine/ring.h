/*
 * Rings whose items sit at a counter's value & (size - 1), size a power of
 * two: the connections of a minute by id, a window's events by position.
 */
#ifndef CASEFILE_REPORT_RING_H
#define CASEFILE_REPORT_RING_H

#include <stddef.h>
#include <stdint.h>

/*
 * A full ring of *size items (0: none yet), those of the counters first to
 * first + *size - 1, made twice as large: the ring returned, *size updated.
 * In place: a large block grows by remapping rather than copying, and the
 * items whose counter has the old size's bit move to the new half.
 */
void *ring_grow(void *items, size_t item_size, size_t *size, uint64_t first);

#endif
