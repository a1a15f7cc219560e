/*
 * What the two views of `report timeline` share: the filters on addresses
 * and ports every network event can match, and text for one end of a
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

/* The address --addr selects, in both of its forms (a.b.c.d and ::ffff:a.b.c.d). */
struct address_filter {
	bool given;
	char text[INET6_ADDRSTRLEN], mapped[INET6_ADDRSTRLEN + 8];
};

/*
 * The condition an event with these address and port columns meets under
 * --addr and -P, to free; NULL when neither was given.
 */
char *endpoint_condition(const struct address_filter *addr, const struct options *opts,
			 const char *addresses[2], const char *ports[2]);

/* Bind --addr in a statement using that condition. */
int bind_address_filter(sqlite3_stmt *stmt, struct capture *cap, void *ctx);

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
int print_connections(struct captures *set, const struct options *opts,
		      const struct address_filter *addr);

#endif
