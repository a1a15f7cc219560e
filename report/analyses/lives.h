/*
 * Connection lives: the closes of the captures (record's close kind), each
 * with the process it belongs to.  Most closes happen in softirq, with no
 * process of their own: the connect or accept of the same ends (read in the
 * same pass, held until the close, a failed connect's until the replay is
 * past its outcome, which is its close) lends its process.  The process filters
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
 * reads (replay_lives_shared) first, up to LIVES_NETNS.
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
 * An analysis of the lives that shares their one read with others: emit sees
 * every close, then passed() ends its work, beside the others' in threads
 * of their own (0, or -1 after one line).
 */
struct life_analysis {
	life_emit emit;
	int (*passed)(void *ctx);
	void *ctx;
	/*
	 * It looks at the connections opened by connect only: a read for such
	 * analyses alone does not read the accepts (closes of accepted
	 * connections come as OPENED_UNKNOWN, with their own process if any).
	 */
	bool connects_only;
	/*
	 * Bits 1 << LIVES_START, LIVES_SENT, LIVES_RECEIVED: columns emit never
	 * reads (NULL in a read for such analyses alone: a cheaper row).
	 */
	uint32_t unread;
};

/*
 * The analyses over the captures that opts select, in one read of the
 * lives.  The closes carry their addresses, ports, start, bytes and
 * namespace: the columns after LIVES_NETNS are not read (a narrower row is
 * a cheaper read).  0, or -1 after one line.
 */
int replay_lives_shared(struct captures *set, const struct options *opts,
			struct life_analysis *list, int count);

/* ev_close's closed_by: "local FIN", "remote FIN", "local RST", "remote RST", or NULL. */
const char *life_closed_by_name(int64_t code);

/* "connect", "accept", or NULL. */
const char *life_opening_name(enum life_opening opened);

#endif
