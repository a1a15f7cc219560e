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

/* How a shell reads a connection another process holds. */
enum relay_how {
	RELAY_ACCEPTED, /* forked for a connection its parent accepted: a bind shell */
	RELAY_OPENED,	/* forked for a connection its parent opened: a reverse shell */
	RELAY_HELD,	/* its parent held a connection when it started (an implant's) */
	RELAY_PIPED,	/* its output piped to a process with a connection (mkfifo and nc) */
};

struct relay {
	enum relay_how how;
	struct task by; /* the process holding the connection */
	int64_t t, seq; /* when it opened or accepted it, and its event's seq */
	int64_t tcp[4]; /* the connection: laddr (address.id), lport, raddr, rport */
};

/*
 * The process whose connection a shell reading its commands (from a
 * terminal, a pipe or a socket) serves, when it does not hold it itself:
 * going up from the shell, a process born as the first child its parent
 * forked after the parent opened or accepted a TCP connection (the parent
 * not a login daemon of t, nor login, su, sudo, doas or runuser, whose
 * connections are lookups; a terminal for an accepted connection is a
 * login's); else its parent, when it held an established TCP connection as
 * the shell started (recorded since the parents' connections; not one that
 * authenticates); else a process reading the shell's output from a pipe that
 * opened or accepted one in its life.  1 and *relay, 0 none, -1 after one
 * line on stderr.
 */
int relay_of(struct capture *cap, const struct thresholds *t, const struct image *shell,
	     struct relay *relay);

/* "through socat/4321", "piped through ncat/4322": who relays the shell. */
void relay_text(const struct relay *relay, char *buf, size_t size);

/*
 * The shells on TCP connections, their own or relayed, and the listeners
 * starting shells (t: the login daemons); appended.  0, or -1.
 */
int find_shells(struct captures *set, const struct options *opts, const struct thresholds *t,
		struct peers *peers, struct findings *out);

#endif
