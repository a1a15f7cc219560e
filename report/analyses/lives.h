/*
 * Connection lives: the closes of the captures (record's close kind), each
 * with the process it belongs to.  Most closes happen in softirq, with no
 * process of their own: the connect or accept of the same ends (read in the
 * same pass, held until the close, a failed connect's until a minute past
 * its outcome, which is its close) lends its process.  The process filters
 * of the command line apply to that process, so they are tested here, not
 * in SQL.  What tcplife, timeline -c's neighbours and the exfiltration
 * ranking read.
 */
#ifndef CASEFILE_REPORT_LIVES_H
#define CASEFILE_REPORT_LIVES_H

#include <stdbool.h>

#include "capture.h"
#include "options.h"
#include "replay.h"

/*
 * A close's columns, as event.col numbers them: those a pass of analyses
 * reads (replay_lives_passes) first, up to LIVES_NETNS.
 */
enum {
	LIVES_TASK,
	LIVES_LADDR,
	LIVES_LPORT,
	LIVES_RADDR,
	LIVES_RPORT,
	LIVES_START,
	LIVES_SENT,
	LIVES_RECEIVED,
	LIVES_NETNS, /* the socket's network namespace; NULL: the recorder's own */
	LIVES_FROM,
	LIVES_BY,
	/* The counters: read when asked for only (replay_lives). */
	LIVES_ESTABLISHED,
	LIVES_SEGS_IN,
	LIVES_SEGS_OUT,
	LIVES_RETRANSMITS,
	LIVES_ERROR
};

enum life_opening { OPENED_UNKNOWN, OPENED_BY_CONNECT, OPENED_BY_ACCEPT };

/*
 * One close: its event, its process (task, its id in the event's capture;
 * NULL and -1 when neither it nor its opening had one), and how it was
 * opened.  0, or -1 after one line.
 */
typedef int (*life_emit)(const struct event *ev, const struct task *task, int64_t task_id,
			 enum life_opening opened, void *ctx);

/*
 * Every close of the captures that opts select (the process filters test
 * its process as said above), in time order; with counters, their columns
 * too (else not read: a narrower row is a cheaper read).  0, or -1 after
 * one line.
 */
int replay_lives(struct captures *set, const struct options *opts, bool counters, life_emit emit,
		 void *ctx);

/*
 * What a pass reads: the connects, accepts and closes whose remote address
 * (LIFE_BY_REMOTE: the capture's address ids) or port (LIFE_BY_PORT) is
 * among those keys() gives for each capture (*n of them, to free; NULL after
 * one line).  Both ends of a connection name the same remote, so a close
 * read has its opening read.
 */
struct life_filter {
	enum { LIFE_BY_REMOTE, LIFE_BY_PORT } by;
	int64_t *(*keys)(struct capture *cap, void *ctx, size_t *n);
	void *ctx;
};

/*
 * An analysis that reads the lives in passes (a bounded first pass that
 * names candidates, then exact ones over those): emit sees every close of
 * each pass it takes part in; after each, passed() says whether it wants
 * another (1), is done (0), or failed (-1, after one line), and sets *filter
 * to what that one reads (NULL: every close).
 */
struct life_analysis {
	life_emit emit;
	int (*passed)(void *ctx, const struct life_filter **filter);
	void *ctx;
	/*
	 * It looks at the connections opened by connect only: a pass of such
	 * analyses alone does not read the accepts (closes of accepted
	 * connections come as OPENED_UNKNOWN, with their own process if any).
	 */
	bool connects_only;
	/*
	 * Bits 1 << LIVES_START, LIVES_SENT, LIVES_RECEIVED: columns emit never
	 * reads (NULL in a pass of such analyses alone: a cheaper row).
	 */
	uint32_t unread;
	/*
	 * Or NULL: what a first pass of such analyses alone reads instead of
	 * the lives (far fewer columns, no join): every connect that took a
	 * port and every close that carries its own process, each as a
	 * connection its process (task, task_id: NULL, -1 for none) may have
	 * opened to the capture's address id raddr, port rport.  Each close
	 * emit would see as opened by connect is one of them, with the process
	 * emit would see: counts of them bound emit's.  0, or -1 after one line.
	 */
	int (*may_connect)(struct capture *cap, const struct task *task, int64_t task_id,
			   int64_t raddr, int64_t rport, void *ctx);
	bool done;
	const struct life_filter *filter;
};

/*
 * The analyses over the captures that opts select: the first pass shared,
 * the next each its own, until all are done.  The closes carry their
 * addresses, ports, start, bytes and namespace: the columns after
 * LIVES_NETNS are not read (a narrower row is a cheaper read).  0, or -1
 * after one line.
 */
int replay_lives_passes(struct captures *set, const struct options *opts,
			struct life_analysis *list, int count);

/* ev_close's closed_by: "local FIN", "remote FIN", "local RST", "remote RST", or NULL. */
const char *life_closed_by_name(int64_t code);

/* "connect", "accept", or NULL. */
const char *life_opening_name(enum life_opening opened);

#endif
