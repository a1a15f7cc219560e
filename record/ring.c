/* A BPF ring buffer read with its space given back in batches (ring.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "ring.h"
#include "util.h"

/*
 * Space taken is given back once this part of the ring is taken (and at the
 * end of each read): the programs then see the reader's position move a
 * few times per ring, while a full ring's worth of records still finds room.
 */
#define RELEASES_PER_RING 16

struct ring {
	unsigned long *consumer_pos;	   /* its page: ours to write */
	const unsigned long *producer_pos; /* its page, then the data mapped twice over */
	const unsigned char *data;
	size_t size; /* of the data, a power of 2 */
	size_t page;
};

struct ring *ring_open(int map_fd)
{
	struct bpf_map_info info = {0};
	uint32_t len = sizeof(info);
	struct ring *ring;
	void *at;

	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		return NULL;
	ring = xcalloc(1, sizeof(*ring));
	ring->size = info.max_entries;
	ring->page = (size_t)sysconf(_SC_PAGESIZE);
	at = mmap(NULL, ring->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (at == MAP_FAILED) {
		free(ring);
		return NULL;
	}
	ring->consumer_pos = at;
	/* The data twice over: a record that wraps around the end reads as one. */
	at = mmap(NULL, ring->page + 2 * ring->size, PROT_READ, MAP_SHARED, map_fd,
		  (off_t)ring->page);
	if (at == MAP_FAILED) {
		int err = errno;

		munmap(ring->consumer_pos, ring->page);
		free(ring);
		errno = err;
		return NULL;
	}
	ring->producer_pos = at;
	ring->data = (const unsigned char *)at + ring->page;
	return ring;
}

void ring_close(struct ring *ring)
{
	if (!ring)
		return;
	munmap((void *)ring->producer_pos, ring->page + 2 * ring->size);
	munmap(ring->consumer_pos, ring->page);
	free(ring);
}

int ring_read(struct ring *ring, int (*fn)(void *ctx, void *data, size_t size), void *ctx)
{
	unsigned long pos = __atomic_load_n(ring->consumer_pos, __ATOMIC_ACQUIRE), given = pos;
	unsigned long batch = ring->size / RELEASES_PER_RING, end;
	int err = 0;

	while (pos != (end = __atomic_load_n(ring->producer_pos, __ATOMIC_ACQUIRE))) {
		while (pos != end) {
			const uint32_t *header =
				(const void *)(ring->data + (pos & (ring->size - 1)));
			uint32_t word = __atomic_load_n(header, __ATOMIC_ACQUIRE);
			uint32_t size = word & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);

			if (word & BPF_RINGBUF_BUSY_BIT) /* reserved, not yet committed */
				goto out;
			pos += (BPF_RINGBUF_HDR_SZ + size + 7) & ~7ul;
			if (!(word & BPF_RINGBUF_DISCARD_BIT))
				err = fn(ctx, (void *)(header + 2), size);
			if (err)
				goto out;
			if (pos - given >= batch) {
				__atomic_store_n(ring->consumer_pos, pos, __ATOMIC_RELEASE);
				given = pos;
			}
		}
	}
out:
	if (pos != given)
		__atomic_store_n(ring->consumer_pos, pos, __ATOMIC_RELEASE);
	return err;
}
