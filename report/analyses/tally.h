/*
 * Tallies: counts per key (any bytes), for reports that aggregate events as
 * they stream (tcpconnect -c, capable --unique).  Memory grows with distinct
 * keys, never with events.
 */
#ifndef CASEFILE_REPORT_TALLY_H
#define CASEFILE_REPORT_TALLY_H

#include <stddef.h>
#include <stdint.h>

struct tally_entry {
	int64_t count;
	size_t len;
	char key[]; /* len bytes */
};

struct tally;

struct tally *tally_new(void);
void tally_free(struct tally *tally);

/* Add n to key's count; returns the new count. */
int64_t tally_add(struct tally *tally, const void *key, size_t len, int64_t n);

/* Every entry, by count (highest first), then key; valid until the next add. */
struct tally_entry **tally_sorted(struct tally *tally, size_t *count);

#endif
