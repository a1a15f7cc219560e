/*
 * Beacons: a process connecting to one destination (address and port, or
 * one port across addresses) again and again, at regular intervals, with
 * small payloads of one size: RITA's beacon score on the close kind's
 * connection lives (docs/detection.md, Beaconing).
 *
 * Per group, from the starts of its connections (sorted) and the bytes each
 * sent, six scores from 0 to 1, averaged:
 *   timing: 1 - |Bowley skewness| of the intervals; 1 - their median absolute
 *           deviation over their median; the connections over those the
 *           span holds at the median interval (at most 1);
 *   data:   1 - |Bowley skewness| of the bytes sent; 1 - their median absolute
 *           deviation over 32 bytes; 1 - their median over 65535 bytes.
 */
#ifndef CASEFILE_REPORT_BEACONS_H
#define CASEFILE_REPORT_BEACONS_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "lives.h"
#include "options.h"
#include "peers.h"

struct beacon_thresholds {
	int64_t connections; /* at least: 10 */
	double score;	     /* at least: 0.8 */
};

void beacon_defaults(struct beacon_thresholds *t);

struct beacon {
	int host;
	int64_t pid;
	struct capture *cap; /* its process's name is task's there (capture_task) */
	int64_t task;
	uint32_t remote; /* peer; 0: the port across addresses */
	int64_t port, addresses;
	int64_t connections, first_ns, last_ns;
	int64_t median_ns, madm_ns; /* of the intervals */
	int64_t median_bytes;	    /* sent per connection */
	double timing, data, score; /* the two halves' averages, and the whole */
	uint64_t order;		    /* its first connection's place among those read: ties' order */
};

struct beacons {
	struct beacon *list; /* highest score first */
	size_t count;
};

/*
 * The groups that reach the thresholds, in one pass of bounded memory: the
 * connections spilled by their process and port, then scored a batch of
 * groups at a time (beacons.c).  Exact.  0, or -1 after one line.
 */
int find_beacons(struct captures *set, const struct options *opts,
		 const struct beacon_thresholds *t, struct peers *peers, struct beacons *out);
void beacons_free(struct beacons *b);

/* The same, sharing the read of the lives with other analyses (as exfil_start, exfil.h). */
struct beacons_run;
struct beacons_run *beacons_start(struct peers *peers, const struct beacon_thresholds *t);
struct life_analysis beacons_analysis(struct beacons_run *run);
int beacons_finish(struct beacons_run *run, int err, struct beacons *out);

#endif
