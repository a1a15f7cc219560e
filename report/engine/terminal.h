/*
 * Reading on a terminal: how wide it is, and pages (summary, info, caps)
 * wrapped to it between words rather than by the terminal mid-token.
 */
#ifndef CASEFILE_REPORT_TERMINAL_H
#define CASEFILE_REPORT_TERMINAL_H

#include "options.h"

/*
 * The width tables and pages are fitted to: --width when given (0: none);
 * else, for a table on a terminal, COLUMNS, else the terminal's own
 * (TIOCGWINSZ), else 80; else (a pipe, a file, JSON, CSV) 0: full width.
 */
int terminal_width(const struct options *opts);

/*
 * Standard output's lines (printf's, not output.c's, which fits its tables)
 * wrapped at width between words: a line that does not fit breaks at its last
 * space that fits (never between a date and its time), the rest indented.
 * terminal_unwrap() flushes and restores it.
 */
void terminal_wrap(int width);
void terminal_unwrap(void);

#endif
