/*
 * The recorder's heap: grown in large steps and backed by transparent huge
 * pages, so that start-up does not pay a page fault per 4 KiB touched.
 */
#ifndef CASEFILE_RECORD_HEAP_H
#define CASEFILE_RECORD_HEAP_H

/* Call first thing in main(), before anything is allocated. */
void heap_use_huge_pages(void);

#endif
