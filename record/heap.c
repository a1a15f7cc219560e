/* The recorder's heap: grown in large steps, backed by transparent huge pages. */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "heap.h"

#define HEAP_STEP (64 << 20) /* address space reserved at a time, not memory */
#define HUGE_PAGE (2 << 20)

/*
 * Start-up is mostly first touches of fresh memory: libbpf reads the kernel's
 * 5 MiB of BTF and indexes it, the recorder fills its lookup tables.  A page
 * fault per 4 KiB is costly, in virtual machines above all (bench: libbpf's
 * BTF load took about 40 ms here, 9 ms with huge pages).  So every allocation
 * comes from the brk heap, which grows 64 MiB at a time and which the kernel
 * may back with 2 MiB pages.  With another allocator (ASan) this does nothing.
 */
void heap_use_huge_pages(void)
{
	char *first, *top;
	uintptr_t start;

	mallopt(M_MMAP_THRESHOLD, HEAP_STEP / 2);
	mallopt(M_TOP_PAD, HEAP_STEP);
	mallopt(M_TRIM_THRESHOLD, 2 * HEAP_STEP);
	first = malloc(1);
	top = sbrk(0);
	start = ((uintptr_t)first + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	if (first && (uintptr_t)top > start && (uintptr_t)top - start <= 2 * HEAP_STEP)
		madvise((void *)start, (uintptr_t)top - start, MADV_HUGEPAGE);
	free(first);
}
