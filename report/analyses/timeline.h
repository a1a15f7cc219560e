/*
 * What the two views of `report timeline` share: the filter on ports every
 * network event can match at either end, and text for one end of a
 * connection.
 */
#ifndef CASEFILE_REPORT_TIMELINE_H
#define CASEFILE_REPORT_TIMELINE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "capture.h"
#include "options.h"
#include "replay.h"

/* The condition an event with these port columns meets under -P (either end), to free; NULL without
 * -P. */
char *ports_condition(const struct options *opts, const char *ports[2]);

/*
 * The event fields of both views, into fields[0..EVENT_FIELDS): both times
 * shown, PID and COMM as wide as the timeline's.
 */
void timeline_event_fields(struct field *fields, const struct captures *set);

/* "10.0.0.1:22", "[fd00::1]:22", or without the port when port < 0: the length written. */
size_t put_endpoint(char *out, const char *address, size_t len, long long port);

/*
 * The event view: every event of the captures as opts select them, one line
 * each (what `report proc` shows of a process too).  0, or -1 after one line.
 */
int timeline_events(struct captures *set, const struct options *opts);

/* The same for another command (report proc): none of timeline's own options. */
int timeline_process(struct captures *set, const struct options *opts);

/* The per-connection view (--connections): 0, or -1 after one line. */
int print_connections(struct captures *set, const struct options *opts);

#endif
