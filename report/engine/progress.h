/*
 * Progress of long work, on stderr when it is a terminal: events read of
 * the total, their rate and the time left, once the work has taken more
 * than a moment; never on standard output, never in a pipe.
 */
#ifndef CASEFILE_REPORT_PROGRESS_H
#define CASEFILE_REPORT_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

/* Whether to show progress at all: stderr a terminal (false for --follow). */
void progress_enable(bool enabled);

/* Work of this many more events begins (several passes, several threads add up). */
void progress_expect(int64_t events);

/* This many more events were read. */
void progress_add(int64_t events);

/*
 * Standard output was written: on the same terminal, the line is cleared
 * and waits (output that streams to the terminal is its own progress).
 */
void progress_output(void);

/* The work is over: the progress line, if shown, is cleared. */
void progress_end(void);

#endif
