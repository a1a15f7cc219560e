/*
 * A reader of one BPF ring buffer (BPF_MAP_TYPE_RINGBUF) that gives the
 * kernel back the space of the records it took in batches, not one by one
 * as libbpf's ring_buffer does.  The programs read the reader's position at
 * every record they reserve: each store to it takes the cache line away
 * from the CPU making the records, which under a storm of them is a miss
 * for every record made while the reader runs.
 */
#ifndef CASEFILE_RECORD_RING_H
#define CASEFILE_RECORD_RING_H

#include <stddef.h>

struct ring;

/* The ring buffer map fd's reader, or NULL with errno set. */
struct ring *ring_open(int map_fd);
void ring_close(struct ring *ring);

/*
 * Each committed record, in order, to fn until the ring is empty, a record
 * is still being written, or fn returns non-zero (its record is taken all
 * the same): then what fn returned, else 0.
 */
int ring_read(struct ring *ring, int (*fn)(void *ctx, void *data, size_t size), void *ctx);

#endif /* CASEFILE_RECORD_RING_H */
