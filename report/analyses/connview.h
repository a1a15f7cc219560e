/* The per-connection view of `report timeline` (-c, --connections). */
#ifndef CASEFILE_REPORT_CONNVIEW_H
#define CASEFILE_REPORT_CONNVIEW_H

#include "capture.h"
#include "options.h"

/* One line per connection of the captures: 0, or -1 after one line. */
int print_connections(struct captures *set, const struct options *opts);

#endif
