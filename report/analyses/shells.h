/*
 * Shells on the network (docs/detection.md): a shell or interpreter reading
 * its commands from a TCP connection (a reverse or bind shell), and a
 * network listener that starts such a shell for the connections it accepts.
 * From the standard streams each exec recorded (process.stdin...).
 */
#ifndef CASEFILE_REPORT_SHELLS_H
#define CASEFILE_REPORT_SHELLS_H

#include <stdbool.h>

#include "detect.h"
#include "lineage.h"

/*
 * Whether an image is a shell or an interpreter (sh, bash, dash, zsh, ksh,
 * fish, csh, python, perl, ruby, php, lua, node...) that reads its commands
 * from its input: no script, no -c/-e command, only options such as -i.
 */
bool reads_commands(const struct image *im);

/* Whether it does so from a TCP connection (its stdin or stdout is one). */
bool shell_on_tcp(const struct image *im);

/* Whether a shell reads its commands from something that is not a terminal. */
bool shell_off_terminal(const struct image *im);

/*
 * The listener whose accepted connection a shell serves: going up from the
 * shell, a process born as the first child its parent forked after an
 * accept (the parent not a login daemon of t: report logins follows those).
 * 1 and the listener's task and its accept (t, seq, lport, raddr, rport), 0
 * none, -1 after one line on stderr.
 */
int listener_of(struct capture *cap, const struct thresholds *t, const struct image *shell,
		struct task *listener, int64_t accept[5]);

/* The shells on TCP connections and the listeners starting shells; appended.  0, or -1. */
int find_shells(struct captures *set, const struct options *opts, struct peers *peers,
		struct findings *out);

#endif
