/*
 * The ends of network events, as both views of `report timeline` filter and
 * print them: the filter on ports every network event can match at either
 * end, and text for one end of a connection.
 */
#ifndef CASEFILE_REPORT_ENDPOINTS_H
#define CASEFILE_REPORT_ENDPOINTS_H

#include <stdbool.h>
#include <stddef.h>

#include "options.h"

/*
 * The condition an event with these port columns meets under -P (either
 * end), to free; NULL without -P.  (--addr is the engine's: filter_columns.ends.)
 */
char *ports_condition(const struct options *opts, const char *ports[2]);

/* "10.0.0.1:22", "[fd00::1]:22", or without the port when port < 0: the length written. */
size_t put_endpoint(char *out, const char *address, size_t len, long long port);

#endif
