/* Wall-clock times: --since/--until parsed, times formatted in UTC or local time. */
#ifndef CASEFILE_REPORT_WHEN_H
#define CASEFILE_REPORT_WHEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest string the format_* functions write, with its NUL. */
#define WHEN_MAX 48

/*
 * A time given on the command line, as Unix nanoseconds.  reference_ns (the
 * start of the earliest capture) anchors the forms that need a day or an
 * origin; zone-less forms are UTC unless local.  Returns -1 if not a time.
 */
int parse_when(const char *text, int64_t reference_ns, bool local, int64_t *unix_ns);

/* "2026-11-23T01:18:03.123456789Z" (or +01:00 when local) */
size_t format_rfc3339(int64_t unix_ns, bool local, char *buf);

/* "01:18:03.123": milliseconds, so that one event is told from the next */
size_t format_clock(int64_t unix_ns, bool local, char *buf);

/* "2026-11-23 01:18:03.123456789 UTC" (or +01:00 when local) */
size_t format_human(int64_t unix_ns, bool local, char *buf);

#endif
