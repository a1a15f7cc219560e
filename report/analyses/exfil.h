/*
 * Exfiltration: bytes sent per process and remote address, from the close
 * kind's connection lives (docs/detection.md, Exfiltration).  A pair is
 * flagged when the connections the process opened to that remote sent at
 * least min_bytes and far more than they received: a producer-consumer ratio
 * (PCR, (out - in) / (out + in)) of at least pcr.
 */
#ifndef CASEFILE_REPORT_EXFIL_H
#define CASEFILE_REPORT_EXFIL_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "lives.h"
#include "options.h"
#include "peers.h"

struct exfil_thresholds {
	int64_t min_bytes; /* sent by the connections it opened to one remote: 1,000,000 */
	double pcr;	   /* their producer-consumer ratio: 0.8 */
};

void exfil_defaults(struct exfil_thresholds *t);

/* A process and a remote address: what their connections carried. */
struct exfil_pair {
	int host;	 /* peers' */
	int64_t pid;	 /* -1: connections of no known process */
	uint32_t remote; /* peer */
	/* Its process's name is task's in cap (capture_task): millions of pairs stay small. */
	struct capture *cap;
	int64_t task;
	int64_t connections, sent, received;  /* every close */
	int64_t opened_sent, opened_received; /* of the connections it opened (connect) */
	int64_t first_ns, last_ns;	      /* wall clock of the first and last close */
	bool flagged;
	uint64_t order; /* its first close's place among those read: the order of ties */
};

struct exfil {
	struct exfil_pair *list; /* the top and the flagged pairs, most bytes sent first */
	size_t count;
	size_t pairs;	     /* pairs in all, up to 16,384 (exfil.c) */
	bool pairs_at_least; /* more than that */
};

/*
 * The pairs of the captures opts select that sent most, top of them (ties:
 * the first to close first), and every pair flagged by t, in one pass of
 * bounded memory (exfil.c); top 0: every pair, in memory that grows with
 * them.  Exact.  0, or -1 after one line.
 */
int find_exfil(struct captures *set, const struct options *opts, const struct exfil_thresholds *t,
	       size_t top, struct peers *peers, struct exfil *out);
void exfil_free(struct exfil *e);

/*
 * The same, as one of several analyses sharing the read of the lives
 * (replay_lives_shared): start, pass exfil_analysis() among them, then
 * finish with the read's result (0, or -1 after one line), which it returns.
 */
struct exfil_run;
struct exfil_run *exfil_start(struct peers *peers, const struct exfil_thresholds *t, size_t top);
struct life_analysis exfil_analysis(struct exfil_run *run);
int exfil_finish(struct exfil_run *run, int err, struct exfil *out);

/* The producer-consumer ratio of bytes out and in: from -1 (all in) to 1 (all out). */
double exfil_pcr(int64_t sent, int64_t received);

#endif
