/*
 * Opening a capture for reading: read-only, never modifying the evidence, and
 * refusing with one clear line whatever is not a capture this report reads.
 */
#ifndef CASEFILE_REPORT_CAPTURE_H
#define CASEFILE_REPORT_CAPTURE_H

#include <sqlite3.h>

/* The newest capture format this build reads (schema.sql's user_version). */
int supported_format(void);

/* Open path read-only and check it is a capture; NULL after one line on stderr. */
sqlite3 *open_capture(const char *path);

#endif
