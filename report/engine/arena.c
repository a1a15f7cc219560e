/* Zeroed blocks in huge-page chunks: see arena.h. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "arena.h"
#include "util.h"

/*
 * Under AddressSanitizer each block is an allocation of its own, so that an
 * overflow past a table's slots is caught as it would be without the arena.
 */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_CHECKED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_CHECKED 1
#endif
#endif

#ifdef ARENA_CHECKED
void *arena_zalloc(size_t size)
{
	return xcalloc(1, size);
}

void arena_free(void *block)
{
	free(block);
}
#else

#define CHUNK ((size_t)2 << 20)	   /* a huge page, and aligned to one */
#define ALIGN ((size_t)CACHE_LINE) /* a block's header, and its start */

/* What a chunk's first line holds. */
struct chunk {
	size_t used; /* bytes carved from its start */
	size_t live; /* blocks not given back */
};

/* The line before each block. */
struct header {
	struct chunk *chunk; /* NULL: a mapping of its own, of size bytes */
	size_t size;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct chunk *current; /* where the next blocks are carved */

static void *map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		out_of_memory(size);
	return p;
}

/* A chunk aligned to its size, for the kernel to back with huge pages. */
static struct chunk *new_chunk(void)
{
	char *p = map(2 * CHUNK);
	char *start = (char *)(((uintptr_t)p + CHUNK - 1) & ~(uintptr_t)(CHUNK - 1));
	struct chunk *c = (struct chunk *)start;

	if (start > p)
		munmap(p, (size_t)(start - p));
	munmap(start + CHUNK, (size_t)(p + CHUNK - start));
	madvise(start, CHUNK, MADV_HUGEPAGE);
	c->used = ALIGN;
	return c;
}

void *arena_zalloc(size_t size)
{
	size_t need;
	struct header *h;

	if (size > SIZE_MAX / 2)
		out_of_memory(size);
	need = ALIGN + ((size + ALIGN - 1) & ~(ALIGN - 1));
	if (need > CHUNK - ALIGN) {
		h = map(need);
		if (need >= CHUNK)
			madvise(h, need, MADV_HUGEPAGE);
		*h = (struct header){.size = need};
		return (char *)h + ALIGN;
	}
	pthread_mutex_lock(&lock);
	if (!current || current->used + need > CHUNK) {
		if (current && !current->live)
			munmap(current, CHUNK);
		current = new_chunk();
	}
	h = (struct header *)((char *)current + current->used);
	*h = (struct header){.chunk = current};
	current->used += need;
	current->live++;
	pthread_mutex_unlock(&lock);
	return (char *)h + ALIGN;
}

void arena_free(void *block)
{
	struct header *h = block ? (struct header *)((char *)block - ALIGN) : NULL;

	if (!h)
		return;
	if (!h->chunk) {
		munmap(h, h->size);
		return;
	}
	pthread_mutex_lock(&lock);
	if (!--h->chunk->live && h->chunk != current)
		munmap(h->chunk, CHUNK);
	pthread_mutex_unlock(&lock);
}
#endif
