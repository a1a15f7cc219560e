/*
 * The event view of `report timeline`: every event of the captures in time
 * order, one line each (what `report proc` shows of a process too).
 */
#ifndef CASEFILE_REPORT_TIMELINE_H
#define CASEFILE_REPORT_TIMELINE_H

#include <stdbool.h>

#include "capture.h"
#include "options.h"

/* What timeline's own options ask of it. */
struct timeline_choice {
	bool verbose; /* -v: the capability checks that do not audit too */
};

/* The events as opts and choice select them: 0, or -1 after one line. */
int timeline_events(struct captures *set, const struct options *opts,
		    const struct timeline_choice *choice);

/* The same for another command (report proc): none of timeline's own options. */
int timeline_process(struct captures *set, const struct options *opts);

#endif
