/*
 * A report subcommand and its life: parse its command line, open its
 * captures (telling what they lack), run it, flush, and the exit status.
 */
#ifndef CASEFILE_REPORT_COMMAND_H
#define CASEFILE_REPORT_COMMAND_H

#include "capture.h"
#include "options.h"

struct command {
	const char *summary;	  /* its line in report --help */
	struct command_spec spec; /* its command line */
	const char *const *kinds; /* the kinds of events it reports; NULL: all */
	/*
	 * Take its leading operands (report proc's PID) from opts->files, before
	 * the capture files: 0, or -1 after one line.  May be NULL.
	 */
	int (*operands)(struct options *opts);
	/* Check how its options combine: 0, or -1 after one line.  May be NULL. */
	int (*check)(const struct options *opts);
	/* Report on the open captures: 0, or -1 after one line on stderr. */
	int (*run)(struct captures *set, const struct options *opts);
	/* Its heaps in huge pages: main() starts the program again for it (main.c). */
	bool huge_pages;
	/* Its state (options, tallies), zeroed before each run: one process may run it twice. */
	void *state;
	size_t state_size;
};

/* Exit status: 0, 1 (a capture could not be read), 2 (bad command line). */
int run_command(const struct command *command, int argc, char **argv);

/* The subcommands (one file each), for main.c's table. */
extern const struct command info_command;
extern const struct command tcpconnect_command;
extern const struct command tcpaccept_command;
extern const struct command tcpreset_command;
extern const struct command tcplife_command;
extern const struct command exfil_command;
extern const struct command beacons_command;
extern const struct command capable_command;
extern const struct command summary_command;
extern const struct command timeline_command;
extern const struct command scans_command;
extern const struct command bruteforce_command;
extern const struct command caps_command;
extern const struct command proc_command;
extern const struct command export_command;
extern const struct command html_command;
extern const struct command redact_command;
extern const struct command logins_command;

#endif
