/*
 * The records between the thread that reads the ring buffers and the one
 * that writes them into the capture.  The writer stops for SQLite's commits
 * and checkpoints, and a flood outruns it at times: the reader keeps
 * emptying the rings meanwhile, into this queue, so that what the kernel
 * holds never waits on the disk.  One producer, one consumer; records come
 * out in the order they went in.  Each kind may hold up to a bound: a kind
 * at its bound is read no further (its records wait in its ring, where the
 * kernel counts what does not fit), and a flood of one kind takes no room
 * from the others.
 */
#ifndef CASEFILE_RECORD_QUEUE_H
#define CASEFILE_RECORD_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

struct record_queue;

/* A queue for kinds 0..kinds-1, kind k holding up to bytes[k] (and one record). */
struct record_queue *queue_new(int kinds, const size_t *bytes);
void queue_free(struct record_queue *queue);

/* Producer: whether kind may add a record now. */
bool queue_has_room(const struct record_queue *queue, int kind);

/* Producer: add a copy of a record of kind, seen by the consumer once published. */
void queue_push(struct record_queue *queue, int kind, const void *data, size_t size);

/* Producer: hand what was pushed to the consumer, and wake it if anything was. */
void queue_publish(struct record_queue *queue);

/* Producer: wake the consumer, with or without anything new. */
void queue_wake(struct record_queue *queue);

/* Consumer: wait until something is published, timeout_ms at most. */
void queue_wait(struct record_queue *queue, int timeout_ms);

/*
 * Consumer: call fn for each record published, in order, until there is
 * none or fn returns non-zero (its record is taken all the same); returns
 * what fn returned last, or 0.
 */
int queue_pop(struct record_queue *queue, int (*fn)(void *ctx, void *data, size_t size), void *ctx);

#endif
