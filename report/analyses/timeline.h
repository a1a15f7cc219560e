/*
 * The event view of `report timeline`: every event of the captures in time
 * order, one line each (what `report proc` shows of a process too).
 */
#ifndef CASEFILE_REPORT_TIMELINE_H
#define CASEFILE_REPORT_TIMELINE_H

#include <stdbool.h>

#include "capture.h"
#include "events.h"
#include "lineage.h"
#include "options.h"

struct thresholds;

/* A row of the event view: the event fields, then these. */
enum {
	TL_EVENT = EVENT_FIELDS, /* connect, accept, reset, capable, exec, fork, exit, dns,
				    unaccepted; close for a sink */
	TL_DETAIL,		 /* what happened, in words (a table, or a sink) */
	TL_IP,
	TL_LADDR,
	TL_LPORT,
	TL_RADDR,
	TL_RPORT,
	TL_OUTCOME,
	TL_ERROR,
	TL_LATENCY,
	TL_STATE,
	TL_REASON,
	TL_CAP,
	TL_NAME,
	TL_VERDICT,
	TL_AUDIT,
	TL_EXIT_CODE,
	TL_QUERY,
	TL_TTL,
	TL_LOGIN, /* an accept by a login service: the session's outcome, user, process */
	TL_LOGIN_UID,
	TL_LOGIN_USER, /* ... the user's name, as the capture's accounts snapshot has it */
	TL_SESSION,
	TL_STDIN, /* an exec's standard streams; TL_SHELL: a shell reading a TCP connection */
	TL_STDOUT,
	TL_STDERR,
	TL_SHELL,
	TL_DURATION,  /* a close (a sink's alone): how long it lasted, ns; null: opened before */
	TL_BYTES_OUT, /* ... the payload sent and received */
	TL_BYTES_IN,
	TL_CLOSED_BY, /* ... "local FIN"... (lives.h) */
	TL_WHO,	      /* LINEAGE_FIELDS of them: process events always, others with -l or a sink */
	TL_FIELDS = TL_WHO + LINEAGE_FIELDS
};

/* What timeline's own options ask of it. */
struct timeline_choice {
	bool verbose; /* -v: the capability checks that do not audit too */
	/*
	 * Each row to this instead of the output (report export), with its
	 * DETAIL and lineage: 0, or -1 after one line.  NULL: the output.
	 */
	int (*sink)(const struct event *ev, const struct value *row, void *ctx);
	void *sink_ctx;
	/*
	 * The login services (--daemon): their accepts are logins, their
	 * sessions' shells no shells on the network.  NULL: the default.
	 */
	const struct thresholds *logins;
};

/* The events as opts and choice select them: 0, or -1 after one line. */
int timeline_events(struct captures *set, const struct options *opts,
		    const struct timeline_choice *choice);

/* The same for another command (report proc): none of timeline's own options. */
int timeline_process(struct captures *set, const struct options *opts);

#endif
