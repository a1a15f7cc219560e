/* The recording session: from attaching to the final summary. */
#ifndef CASEFILE_RECORD_SESSION_H
#define CASEFILE_RECORD_SESSION_H

#include "options.h"

/* Record into path (and its numbered successors) until stopped; 0 on a clean stop. */
int record_session(struct record_options *opts, const char *path);

#endif
