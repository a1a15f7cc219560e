/*
 * Detections of scans and brute force (docs/detection.md): the thresholds
 * and their options, the findings, and what the rules share (candidates
 * between their two passes, samples of ports and addresses).
 *
 * The scan rules read their events twice.  The first pass keeps only the
 * last window of events and finds the candidate episodes (and the port
 * scans, gathering as it goes); the second reads again only the time span
 * of the candidates, only their groups, and gathers what is reported about
 * them (distinct ports, samples...).  Brute force reads its events once,
 * each episode gathering until it ends.  Memory so follows the window, its
 * open episodes and the findings, never the capture.
 */
#ifndef CASEFILE_REPORT_DETECT_H
#define CASEFILE_REPORT_DETECT_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "hashmap.h"
#include "options.h"
#include "peers.h"
#include "replay.h"

#define NS_PER_S 1000000000LL

/* Defaults, and their sources: docs/detection.md, README (Detection). */
struct thresholds {
	bool ready;		      /* defaults set (thresholds_ready) */
	int64_t scan_window_ns;	      /* port scans, sweeps, outbound scanning: 300 s */
	int64_t ports;		      /* ports of one address probed by one remote: 15 */
	int64_t low_window_ns;	      /* port scans of low confidence: 60 s */
	int64_t low_ports;	      /* below `ports`, still a port scan of low confidence: 5 */
	int64_t targets;	      /* distinct (host, address) probed by one remote: 5 */
	int64_t destinations;	      /* distinct failed (address, port) of one process: 15 */
	double failed_share;	      /* of the process's connects in the episode: 0.5 */
	int64_t bruteforce_window_ns; /* 120 s */
	int64_t connections;	      /* connections of one remote to one login service: 10 */
	int64_t failures_window_ns;   /* 600 s */
	int64_t failures;	      /* failed logins of one remote to one login service: 5 */
	uint8_t login_ports[65536 / 8];
	char **daemons; /* login services by process name */
	size_t *daemon_lens;
	int ndaemons;
};

/* The defaults, the first time (before options change them). */
void thresholds_ready(struct thresholds *t);
void thresholds_free(struct thresholds *t);
bool is_login_port(const struct thresholds *t, int64_t port);
bool is_login_daemon(const struct thresholds *t, const char *comm, size_t len);

/* The options that change them (ids for struct option.val). */
enum threshold_option {
	OPT_SCAN_WINDOW = 0x300,
	OPT_PORTS,
	OPT_LOW_PORTS,
	OPT_TARGETS,
	OPT_DESTINATIONS,
	OPT_FAILED_SHARE,
	OPT_BRUTEFORCE_WINDOW,
	OPT_CONNECTIONS,
	OPT_SERVICE,
	OPT_DAEMON,
	OPT_FAILURES,
	OPT_FAILURES_WINDOW,
};

#define SCAN_OPTIONS(window)                                                                       \
	{window, required_argument, NULL, OPT_SCAN_WINDOW},                                        \
		{"ports", required_argument, NULL, OPT_PORTS},                                     \
		{"low-ports", required_argument, NULL, OPT_LOW_PORTS},                             \
		{"targets", required_argument, NULL, OPT_TARGETS},                                 \
		{"destinations", required_argument, NULL, OPT_DESTINATIONS},                       \
	{                                                                                          \
		"failed-share", required_argument, NULL, OPT_FAILED_SHARE                          \
	}
#define BRUTEFORCE_OPTIONS(window)                                                                 \
	{window, required_argument, NULL, OPT_BRUTEFORCE_WINDOW},                                  \
		{"connections", required_argument, NULL, OPT_CONNECTIONS},                         \
		{"service", required_argument, NULL, OPT_SERVICE},                                 \
		{"failures", required_argument, NULL, OPT_FAILURES},                               \
		{"failures-window", required_argument, NULL, OPT_FAILURES_WINDOW},                 \
	{                                                                                          \
		"daemon", required_argument, NULL, OPT_DAEMON                                      \
	}

/* One of those options: 0, -1 after one line on stderr, or 1 when it is none of them. */
int threshold_option(const char *command, int option, const char *arg, struct thresholds *t);

enum finding_kind {
	FINDING_PORTSCAN,
	FINDING_SWEEP,
	FINDING_OUTBOUND,
	FINDING_BRUTEFORCE,
	FINDING_GUESSED,   /* a login that succeeded after a brute force's failures */
	FINDING_NETSHELL,  /* a shell reading its commands from a TCP connection */
	FINDING_BINDSHELL, /* a listener starting a shell for the connections it accepts */
};

/* "15 ports of an address within 300 s" and the like: what a rule applied. */
void describe_rule(const struct thresholds *t, enum finding_kind kind, char *buf, size_t size);
/* The port scans of low confidence: "5 ports of an address within 60 s", or "off". */
void describe_low_rule(const struct thresholds *t, char *buf, size_t size);

/* "portscan", "sweep", "outbound", "bruteforce", "guessed", "netshell", "bindshell" */
const char *finding_kind_name(enum finding_kind kind);

/* A finding: what its kind has is set, the rest is zero or NULL. */
struct finding {
	enum finding_kind kind;
	const struct peers *peers; /* the numbers of its addresses */
	int host;	 /* the target's host (port scan, brute force), the scanner's (outbound) */
	uint32_t remote; /* the scanner or guesser (port scan, sweep, brute force) */
	uint32_t local;	 /* the target address (port scan) */
	int64_t pid;	 /* outbound */
	char *process;	 /* outbound: its names; brute force: the accepting "comm/pid"s */
	int64_t first_ns, last_ns;
	int64_t events; /* probes, connects, connections */
	int64_t ports;	/* distinct ports probed (outbound: failed); brute force: the port */
	int64_t targets, hosts;
	int64_t destinations, failed, refused, timeouts;
	int64_t accepts;
	char *sample_ports, *sample_addresses, *open_ports; /* comma-separated */
	int64_t q1_ns, median_ns, q3_ns, mean_ns;	    /* brute force: intervals */
	/*
	 * Brute force: whether it counted failed logins (else connections: the
	 * capture cannot tell how a login ended), and the logins that succeeded;
	 * `failed` the failed ones.  A guessed password: the login let in (uid,
	 * its session process), failed the failures before it.
	 */
	bool logins;
	int64_t succeeded, uid, session_pid, session_start_ns;
	char *evidence; /* the command that shows the evidence rows */
	/*
	 * Shells: the shell's (or the listener's) pid and comm (pid, process),
	 * the connection (local, ports: the local port; remote, rport), its
	 * parents, and what it then ran (execs, ran: the first few, "; "-joined).
	 * A listener: accepts, events the shells it started.
	 */
	int64_t rport, execs;
	char *parents, *ran;
	char *relay;	     /* a shell relayed by another process: "through socat/4321" */
	int64_t peak_rate;   /* the fastest BURST_EVENTS events, per second, in thousandths */
	bool low_confidence; /* a port scan below the rule's ports, above the low rule's */
};

struct findings {
	struct finding *list;
	size_t count, allocated;
};

struct finding *findings_add(struct findings *findings, const struct peers *peers);
/* Move every finding of more to findings. */
void findings_move(struct findings *findings, struct findings *more);
void findings_free(struct findings *findings);
/* By kind, then in time order (first seen). */
void findings_sort(struct findings *findings);

/* The events per second of a finding, in thousandths; -1 when it took no time. */
int64_t finding_rate(const struct finding *f);

/* "high", or "low" for a port scan below the rule's ports. */
const char *finding_confidence(const struct finding *f);

/*
 * The fastest run of BURST_EVENTS consecutive events of an episode (all of
 * them when it has fewer): its peak rate.  Several captures merged into one
 * episode, or a scan that pauses, have an average far below their bursts.
 */
#define BURST_EVENTS 5

struct burst {
	int64_t t[BURST_EVENTS]; /* the last ones, a ring */
	int64_t events;
	int64_t shortest_ns; /* the shortest span of BURST_EVENTS of them; -1 none yet */
};

/* Events in time order. */
void burst_add(struct burst *b, int64_t t);
/* Events per second of the fastest run, in thousandths; -1 when it took no time. */
int64_t burst_rate(const struct burst *b);

/*
 * A finding in words, for tables (raw capture text: the output escapes it):
 * who (an address, or comm/pid), what was aimed at, and the evidence (a
 * guessed password's without its user, whom the caller names from the
 * capture's accounts: "let in after 7 failed logins; session 4305").
 */
void finding_actor(const struct finding *f, char *buf, size_t size);
void finding_target(const struct finding *f, char *buf, size_t size);
void finding_evidence(const struct finding *f, char *buf, size_t size);

/*
 * Taps on the connects and accepts the detections read (every one, once), for
 * a report that counts them too without reading them again: 0, or -1 after
 * one line.  May be NULL.
 */
struct detect_tap {
	int (*connect)(const struct event *ev, const struct task *task, bool failed, void *ctx);
	int (*accept)(const struct event *ev, const struct task *task, uint32_t remote, void *ctx);
	void *ctx;
};

/* The scans to look for: inbound (port scans and sweeps, from resets), outbound (connects). */
enum scan_direction { SCANS_INBOUND = 1, SCANS_OUTBOUND = 2 };

/* Scans of those directions; appended.  0, or -1 after one line. */
int find_scans(struct captures *set, const struct options *opts, const struct thresholds *t,
	       struct peers *peers, unsigned directions, const struct detect_tap *tap,
	       struct findings *out);

/* Brute force against login services; appended.  0, or -1 after one line. */
int find_bruteforce(struct captures *set, const struct options *opts, const struct thresholds *t,
		    struct peers *peers, const struct detect_tap *tap, struct findings *out);

/* --- Shared by the rules ------------------------------------------------------ */

/* The episodes the first pass found, per group: what the second pass reads again. */
struct candidates {
	struct hashmap groups; /* key -> 1 + index of the group's newest range */
	struct candidate_range {
		int64_t first_ns, last_ns;
		size_t previous; /* 1 + index of the group's range before, or 0 */
	} * ranges;
	size_t count, allocated;
	int64_t first_ns, last_ns; /* the span of them all */
};

void candidates_add(struct candidates *c, const uint64_t key[2], int64_t first_ns, int64_t last_ns);
bool candidates_hold(const struct candidates *c, const uint64_t key[2], int64_t t);
void candidates_clear(struct candidates *c);

/*
 * Addresses as each capture numbers them: what a second pass tests a row's
 * raw address column against before any lookup.  A SQL IN over a JSON
 * array of them cost a B-tree search a row instead (a quarter of the
 * instructions of report scans over 10M generated events), and a hash set
 * of 20,000 a cache miss a row: a capture's ids are small and dense, a bit
 * each (ids beyond, a corrupt capture's, go to the hash set).
 */
struct address_ids {
	struct address_bits {
		const struct capture *cap;
		uint64_t *bits;
		size_t words;
	} * of; /* by the captures' places (cap NULL: none of that place has ids) */
	int count;
	struct hashmap other; /* (capture, id) */
};

/* Add the ids of these addresses in cap: 0, or -1 after one line. */
int address_ids_add(struct address_ids *set, struct peers *peers, struct capture *cap,
		    const uint32_t *list, size_t count);
bool address_ids_hold(struct address_ids *set, const struct capture *cap, int64_t id);
/*
 * The ids of cap as a map of bytes (event_query.ids): a query tests its
 * rows' address columns against it in its readers, and skips the rows of
 * other addresses, which the emitter would skip after decoding them.  NULL
 * when some are beyond the bits (a corrupt capture's): every row.
 */
uint8_t *address_ids_map(struct address_ids *set, const struct capture *cap, size_t *size);
void address_ids_clear(struct address_ids *set);

/* opts, with --since/--until narrowed to [first_ns, last_ns]. */
struct options narrowed(const struct options *opts, int64_t first_ns, int64_t last_ns);

/* The lowest keys of a set (entry.a), as "1,3,4": at most limit, to free. */
char *lowest_numbers(const struct hashmap *set, int limit);
/* The same of an array of n numbers (reordered): only the lowest limit are sorted. */
char *lowest_of(uint64_t *numbers, size_t n, int limit);
/* The lowest addresses (peers, entry.a) by text, as "10.0.0.1,10.0.0.2", to free. */
char *lowest_addresses(const struct hashmap *set, const struct peers *peers, int limit);

#define SAMPLE_SIZE 10

#endif
