/*
 * Connection lives: the closes of the captures (record's close kind), each
 * with the process it belongs to.  Most closes happen in softirq, with no
 * process of their own: the connect or accept of the same ends (read in the
 * same pass, held until the close) lends its process.  The process filters
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

/* A close's columns, as event.col numbers them. */
enum {
	LIVES_TASK,
	LIVES_LADDR,
	LIVES_LPORT,
	LIVES_RADDR,
	LIVES_RPORT,
	LIVES_START,
	LIVES_ESTABLISHED,
	LIVES_SENT,
	LIVES_RECEIVED,
	LIVES_SEGS_IN,
	LIVES_SEGS_OUT,
	LIVES_RETRANSMITS,
	LIVES_FROM,
	LIVES_ERROR,
	LIVES_BY,
	LIVES_NETNS /* the socket's network namespace; NULL: the recorder's own */
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
 * its process as said above), in time order.  0, or -1 after one line.
 */
int replay_lives(struct captures *set, const struct options *opts, life_emit emit, void *ctx);

/* ev_close's closed_by: "local FIN", "remote FIN", "local RST", "remote RST", or NULL. */
const char *life_closed_by_name(int64_t code);

/* "connect", "accept", or NULL. */
const char *life_opening_name(enum life_opening opened);

#endif
