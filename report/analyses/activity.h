/*
 * Events over time by kind, in equal buckets over the captures' span, for a
 * page's chart: counted by the clustering key (a range count per bucket),
 * never row by row, so that ten million events cost a fraction of a second.
 */
#ifndef CASEFILE_REPORT_ACTIVITY_H
#define CASEFILE_REPORT_ACTIVITY_H

#include <stdint.h>

#include "capture.h"
#include "options.h"

#define ACTIVITY_BUCKETS 120

enum activity_kind {
	ACT_CONNECT,
	ACT_ACCEPT,
	ACT_UNACCEPTED,
	ACT_RESET,
	ACT_CAPABLE,
	ACT_EXEC,
	ACT_EXIT,
	ACT_DNS,
	ACT_KINDS
};

struct activity {
	int64_t from_ns, to_ns; /* wall clock, the span counted (--since/--until kept) */
	int64_t bucket_ns;
	int64_t counts[ACT_KINDS][ACTIVITY_BUCKETS];
	int64_t totals[ACT_KINDS];
	bool present[ACT_KINDS]; /* some capture has its table */
};

/* The span of the captures, as --since/--until narrow it. */
void activity_span(const struct captures *set, const struct options *opts, struct activity *a);

/* Count the events of each kind in each bucket: 0, or -1 after one line on stderr. */
int activity_count(struct captures *set, struct activity *a);

/* "connect", "accept"...: the kind's word. */
const char *activity_kind_name(enum activity_kind kind);

#endif
