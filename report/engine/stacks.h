/*
 * Stacks of events (record -K, -U), from the capture alone: an event's kernel
 * and user stacks found by its seq, their frames as the recording host named
 * them, formatted once per stack into a bounded cache.  Also the options that
 * ask for them (-K, -U, --folded), for any command that offers them.
 */
#ifndef CASEFILE_REPORT_STACKS_H
#define CASEFILE_REPORT_STACKS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "output.h"
#include "replay.h"

/* Long options of a command that offers stacks; -U stays the command's letter. */
enum { OPT_USER_STACK = 0x300, OPT_FOLDED };

#define STACK_LONG_OPTIONS                                                                         \
	{"kernel-stack", no_argument, NULL, 'K'},                                                  \
		{"user-stack", no_argument, NULL, OPT_USER_STACK},                                 \
	{                                                                                          \
		"folded", no_argument, NULL, OPT_FOLDED                                            \
	}

/* Their lines in a command's --help. */
#define STACK_HELP_KERNEL                                                                          \
	"  -K, --kernel-stack\n"                                                                   \
	"                   print each event's kernel stack under it (record -K)\n"
#define STACK_HELP_USER                                                                            \
	"  -U, --user-stack\n"                                                                     \
	"                   print each event's user stack under it (record -U)\n"
#define STACK_HELP_FOLDED                                                                          \
	"  --folded         instead of events, their stacks folded for flame graphs, one\n"        \
	"                   line per distinct stack: \"COMM;user frames, outermost first;\n"       \
	"                   kernel frames COUNT\" (-K or -U: only those frames)\n"

/* What -K, -U, --folded asked. */
struct stack_choice {
	bool kernel, user, folded;
};

/*
 * One of those options, into choice: 'K', 'U', OPT_USER_STACK, OPT_FOLDED.
 * False: not one of them.
 */
bool stack_option(int option, struct stack_choice *choice);

/*
 * --folded prints text of its own and no columns: -1 after one line when
 * given with --format json or csv, or with a column option (column_options,
 * as the command names them: "-t, -L", or NULL for none given).  With
 * neither -K nor -U, --folded takes both.
 */
int stack_check(const struct options *opts, struct stack_choice *choice,
		const char *column_options);

/* Tell once, on stderr, which captures hold none of the stacks asked for. */
void stacks_tell_missing(struct captures *set, const struct stack_choice *choice);

/*
 * The fields of the stacks asked for: kernel_stack and user_stack, lines
 * under the row in a table, arrays of frames in JSON, cells in CSV.
 */
void stack_fields(struct field fields[STACK_KINDS], const struct stack_choice *choice);

/*
 * The event's stacks asked for as values of those fields (null: the event
 * has none), valid until the next call; its query asked for stacks
 * (event_query.stacks).  0, or -1 after one line on stderr.
 */
int stack_values(const struct event *ev, const struct stack_choice *choice,
		 struct value values[STACK_KINDS]);

/* A stack, formatted: valid until the next stack_text() of that kind in that capture. */
struct stack_text {
	size_t nlines;
	const struct line *lines; /* frames, innermost first: "cap_capable+0x83 [kernel]" */
	const char *folded;	  /* function names, outermost first, ';'-joined, escaped */
	size_t folded_len;
};

/* Stack id of that kind, formatted.  0, or -1 after one line (a corrupt capture). */
int stack_text(struct capture *cap, int kind, int64_t id, const struct stack_text **text);

/*
 * Bytes as render_text() writes them, ';' too escaped (\x3b): a name in a
 * folded stack.  out holds 4 * len bytes; returns the length written.
 */
size_t render_folded(const char *s, size_t len, char *out);

#endif
