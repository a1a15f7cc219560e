/* The queue of records between the ring-reading thread and the writer. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "queue.h"
#include "util.h"

/*
 * Records are copied into chunks of this size, which the consumer hands
 * back for reuse: a chunk freshly mapped costs a page fault per 4 KiB,
 * which at a million records a second is a tenth of a core.
 */
#define CHUNK_BYTES  (1u << 20)
#define SPARE_CHUNKS 4

/* Each record in a chunk: this header, then its bytes, padded to 8. */
struct entry {
	uint32_t size;
	uint32_t kind;
};

struct chunk {
	_Atomic(struct chunk *) next; /* set once this chunk is full */
	atomic_size_t used;	      /* bytes published */
	size_t size;		      /* bytes of data */
	unsigned char data[];
};

struct record_queue {
	/* The producer's end. */
	struct chunk *tail;
	size_t tail_used; /* bytes pushed into tail, published or not */
	bool pushed;	  /* since the last publish */
	/* The consumer's end. */
	struct chunk *head;
	size_t head_taken;
	/* Both. */
	atomic_size_t *kind_bytes; /* queued, per kind */
	size_t *kind_bound;
	pthread_mutex_t lock; /* spare and the consumer's sleep */
	pthread_cond_t published;
	atomic_bool waiting; /* the consumer sleeps, or is about to */
	struct chunk *spare[SPARE_CHUNKS];
	int nspare;
};

static struct chunk *new_chunk(struct record_queue *queue, size_t at_least)
{
	struct chunk *chunk = NULL;
	size_t size = at_least > CHUNK_BYTES ? at_least : CHUNK_BYTES;

	if (size == CHUNK_BYTES) {
		pthread_mutex_lock(&queue->lock);
		if (queue->nspare)
			chunk = queue->spare[--queue->nspare];
		pthread_mutex_unlock(&queue->lock);
	}
	if (!chunk) {
		chunk = xmalloc(sizeof(*chunk) + size);
		chunk->size = size;
	}
	atomic_init(&chunk->next, NULL);
	atomic_init(&chunk->used, 0);
	return chunk;
}

static void recycle_chunk(struct record_queue *queue, struct chunk *chunk)
{
	if (chunk->size == CHUNK_BYTES) {
		pthread_mutex_lock(&queue->lock);
		if (queue->nspare < SPARE_CHUNKS) {
			queue->spare[queue->nspare++] = chunk;
			chunk = NULL;
		}
		pthread_mutex_unlock(&queue->lock);
	}
	free(chunk);
}

struct record_queue *queue_new(int kinds, const size_t *bytes)
{
	struct record_queue *queue = xcalloc(1, sizeof(*queue));
	pthread_condattr_t attr;

	queue->kind_bytes = xcalloc((size_t)kinds, sizeof(*queue->kind_bytes));
	queue->kind_bound = xmalloc((size_t)kinds * sizeof(*queue->kind_bound));
	memcpy(queue->kind_bound, bytes, (size_t)kinds * sizeof(*bytes));
	pthread_mutex_init(&queue->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&queue->published, &attr);
	pthread_condattr_destroy(&attr);
	queue->head = queue->tail = new_chunk(queue, 0);
	return queue;
}

void queue_free(struct record_queue *queue)
{
	if (!queue)
		return;
	while (queue->head) {
		struct chunk *next = atomic_load(&queue->head->next);

		free(queue->head);
		queue->head = next;
	}
	for (int i = 0; i < queue->nspare; i++)
		free(queue->spare[i]);
	pthread_cond_destroy(&queue->published);
	pthread_mutex_destroy(&queue->lock);
	free(queue->kind_bytes);
	free(queue->kind_bound);
	free(queue);
}

static size_t entry_bytes(size_t size)
{
	return sizeof(struct entry) + ((size + 7) & ~(size_t)7);
}

bool queue_has_room(const struct record_queue *queue, int kind)
{
	return atomic_load_explicit(&queue->kind_bytes[kind], memory_order_relaxed) <
	       queue->kind_bound[kind];
}

void queue_push(struct record_queue *queue, int kind, const void *data, size_t size)
{
	size_t bytes = entry_bytes(size);
	struct entry entry = {(uint32_t)size, (uint32_t)kind};

	if (queue->tail_used + bytes > queue->tail->size) {
		struct chunk *next = new_chunk(queue, bytes);

		/* What the full chunk holds is published before the consumer may leave it. */
		atomic_store_explicit(&queue->tail->used, queue->tail_used, memory_order_release);
		atomic_store_explicit(&queue->tail->next, next, memory_order_release);
		queue->tail = next;
		queue->tail_used = 0;
	}
	memcpy(queue->tail->data + queue->tail_used, &entry, sizeof(entry));
	memcpy(queue->tail->data + queue->tail_used + sizeof(entry), data, size);
	queue->tail_used += bytes;
	queue->pushed = true;
	atomic_fetch_add_explicit(&queue->kind_bytes[kind], bytes, memory_order_relaxed);
}

void queue_wake(struct record_queue *queue)
{
	/*
	 * Sequentially consistent with the producer's store before it, the
	 * consumer's waiting and its look: no wake-up is missed.
	 */
	if (atomic_load(&queue->waiting)) {
		pthread_mutex_lock(&queue->lock);
		pthread_cond_signal(&queue->published);
		pthread_mutex_unlock(&queue->lock);
	}
}

void queue_publish(struct record_queue *queue)
{
	atomic_store(&queue->tail->used, queue->tail_used);
	/*
	 * Only for something new: the reader passes every 20 ms, and waking the
	 * writer for nothing cost both threads a switch.
	 */
	if (queue->pushed) {
		queue->pushed = false;
		queue_wake(queue);
	}
}

/* Consumer: whether anything is published that it has not taken. */
static bool has_published(const struct record_queue *queue)
{
	return queue->head_taken < atomic_load(&queue->head->used) ||
	       atomic_load(&queue->head->next) != NULL;
}

void queue_wait(struct record_queue *queue, int timeout_ms)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += (long)timeout_ms * 1000000;
	until.tv_sec += until.tv_nsec / 1000000000;
	until.tv_nsec %= 1000000000;
	pthread_mutex_lock(&queue->lock);
	atomic_store(&queue->waiting, true);
	if (!has_published(queue))
		pthread_cond_timedwait(&queue->published, &queue->lock, &until);
	atomic_store(&queue->waiting, false);
	pthread_mutex_unlock(&queue->lock);
}

int queue_pop(struct record_queue *queue, int (*fn)(void *ctx, void *data, size_t size), void *ctx)
{
	for (;;) {
		struct chunk *head = queue->head, *next;
		size_t used = atomic_load_explicit(&head->used, memory_order_acquire);

		if (queue->head_taken < used) {
			unsigned char *at = head->data + queue->head_taken;
			struct entry entry;
			int err;

			memcpy(&entry, at, sizeof(entry));
			queue->head_taken += entry_bytes(entry.size);
			err = fn(ctx, at + sizeof(entry), entry.size);
			atomic_fetch_sub_explicit(&queue->kind_bytes[entry.kind],
						  entry_bytes(entry.size), memory_order_relaxed);
			if (err)
				return err;
			continue;
		}
		next = atomic_load_explicit(&head->next, memory_order_acquire);
		if (!next)
			return 0;
		/* The chunk's last records were published with its successor. */
		if (queue->head_taken < atomic_load_explicit(&head->used, memory_order_acquire))
			continue;
		queue->head = next;
		queue->head_taken = 0;
		recycle_chunk(queue, head);
	}
}
