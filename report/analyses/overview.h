/*
 * The findings of a set of captures, computed once for every page that shows
 * them (report summary, report html): the detections, the top talkers, the
 * programs that stand out, the capability use and, from the close kind, the
 * bytes out and the beacons, read in three shares on threads of their own
 * (exfiltration and beacons, the longest, alone from the start; the scans,
 * inbound then outbound; brute force, shells on the network, then
 * capability use), each on read-only connections of its own.
 */
#ifndef CASEFILE_REPORT_OVERVIEW_H
#define CASEFILE_REPORT_OVERVIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "beacons.h"
#include "capuse.h"
#include "detect.h"
#include "exfil.h"
#include "hashmap.h"
#include "options.h"
#include "peers.h"
#include "suspects.h"

/* A process making connects, or a remote address whose connections were accepted. */
struct talker {
	int host;
	int64_t pid; /* -1: a remote address */
	uint32_t remote;
	size_t comm_len;
	char comm[CAPTURE_TEXT_MAX];
	int64_t count, failed;
};

/*
 * A reading of the captures of its own besides the findings (a page's
 * chart), run at the same time on its own connections: 0, or -1 after one
 * line on stderr.
 */
struct overview_extra {
	int (*run)(struct captures *set, const struct options *opts, void *ctx);
	void *ctx;
};

/* The pairs that sent most that the overview keeps (and every flagged one): a page shows fewer. */
#define OVERVIEW_PAIRS 25

enum overview_share { SHARE_LIVES, SHARE_SCANS, SHARE_LOGINS_AND_CAPS, SHARE_EXTRA, SHARES };

struct overview {
	struct captures *set;
	const struct options *opts;
	struct options share_opts; /* opts for the shares: one reader each */
	const struct thresholds *t;
	const struct cap_settings *cap_settings;
	struct overview_part {
		struct overview *o;
		struct captures *set;
		struct captures own_set; /* all but the first: the captures opened again */
		struct peers *peers;
		struct findings findings;
		int err;
	} shares[SHARES];
	const struct overview_extra *extra;
	/* The results */
	struct findings findings; /* by kind, then time */
	struct talker *processes; /* connects by process, most first */
	struct talker *remotes;	  /* accepts by remote address (overview_remotes), most first */
	size_t nprocesses, nremotes;
	struct suspects suspects; /* programs that stand out, in time order */
	struct cap_analysis caps;
	struct exfil exfil;	/* with the close kind, at exfil's default thresholds: the top */
	struct beacons beacons; /* the same, at beacons' */
	/* Counted as the events stream */
	struct hashmap process_index; /* (host, pid) -> 1 + index in processes */
	size_t processes_allocated;
	int64_t *accepts; /* per remote address number */
	size_t accepts_allocated;
	struct suspects accept_suspects;
};

/*
 * Read the captures once for all of it (extra, when not NULL, at the same
 * time): 0, or -1 after one line on stderr.  The thresholds and settings
 * must be ready, and outlive the overview.
 */
int overview_analyze(struct overview *o, struct captures *set, const struct options *opts,
		     const struct thresholds *t, const struct cap_settings *caps,
		     const struct overview_extra *extra);
void overview_free(struct overview *o);

/* The peers that number the hosts, and those that number accepted remotes. */
struct peers *overview_hosts(const struct overview *o);
struct peers *overview_remotes(const struct overview *o);

/* Whether any capture recorded this kind of event. */
bool overview_recorded(const struct captures *set, const char *kind);
/* Whether any capture has process lives (README, Processes and DNS). */
bool overview_has_processes(const struct captures *set);
/* The detections in the order pages show them: first those where someone got in. */
#define DETECTIONS 7
extern const enum finding_kind detection_order[DETECTIONS];
/* A detection's title on a page ("Port scans", "Network shells"). */
const char *finding_title(enum finding_kind kind);
/* Whether a detection's evidence is in any capture: for shells, execs with their streams. */
bool overview_evidence_recorded(const struct captures *set, enum finding_kind kind);
/* The kind of event a detection reads ("reset", "connect", "accept", "exec"). */
const char *finding_evidence_kind(enum finding_kind kind);
/* What a capture lacks when a detection is not recorded ("accept events", "exec streams"). */
const char *finding_evidence_missing(enum finding_kind kind);
/* The report command that shows a detection's findings whole ("scans", "bruteforce", "timeline").
 */
const char *finding_command(enum finding_kind kind);

#endif
