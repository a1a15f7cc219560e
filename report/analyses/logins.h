/*
 * Login sessions (README, Logins): each connection a login service accepted,
 * followed into the processes the service ran for it, to tell whether it let
 * someone in.  The rule is OpenSSH's as Debian 12 ships it (9.2), and names
 * what it assumes of a daemon, so that others that work the same way can be
 * added to the list of daemons (--daemon):
 *
 *  1. the listener forks one process per connection, right after accepting
 *     it: the session process, its first child born after the accept;
 *  2. the session process does what precedes authentication in its first
 *     child (privilege separation: the unprivileged pre-auth child), which
 *     runs no program;
 *  3. after a successful authentication, a process of the session takes the
 *     user's uid (a second child, then the user's shell or command) or runs
 *     a program that is not the daemon's own.
 *
 * So a session succeeded when a process of it, other than the session
 * process and its first child, ran as a uid other than the listener's (seen
 * in any of its rows, or at its exit: a setuid() without an exec shows only
 * there), or when one of its processes ran a program other than the daemon's
 * (a root login's shell keeps uid 0); it failed when the session process
 * exited without either; its outcome is unknown when the capture ended first,
 * or has no process lives.
 */
#ifndef CASEFILE_REPORT_LOGINS_H
#define CASEFILE_REPORT_LOGINS_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "detect.h"

enum login_outcome { LOGIN_UNKNOWN, LOGIN_FAILED, LOGIN_SUCCEEDED };

/* "unknown", "failed", "succeeded" */
const char *login_outcome_name(enum login_outcome outcome);

/* The longest command line a session keeps (the first program it ran). */
#define LOGIN_RAN_MAX 256

struct login {
	enum login_outcome outcome;
	const char *why;	       /* how the outcome was told, in words */
	int64_t pid, start_ns;	       /* the session process; pid 0: none found */
	int64_t uid;		       /* the user let in; -1: not known */
	int64_t proof_t;	       /* when the capture saw it succeed; INT64_MAX: not */
	int64_t end_t;		       /* the session process's exit; INT64_MAX: not seen */
	int64_t execs;		       /* programs run (the daemon's own left out) */
	int64_t ran_pid, ran_start_ns; /* the process that ran the first; 0: none */
	size_t ran_len;
	char ran[LOGIN_RAN_MAX]; /* its command line, raw capture bytes (cut) */
};

/*
 * Whether an accept by this task opens a login session the rule knows: the
 * accepting process is one of the login daemons.
 */
bool login_daemon(const struct thresholds *t, const struct task *listener);

/*
 * The session of the connection the listener accepted at accept_t (the
 * capture's t), from the capture's process lives: 0 and *out, or -1 after
 * one line on stderr.
 */
int login_session(struct capture *cap, const struct thresholds *t, const struct task *listener,
		  int64_t accept_t, struct login *out);

/* The connection a session process serves: its accept. */
struct login_accept {
	int64_t t, rport;
	struct task listener;
	struct address remote;
};

/*
 * Whether process (pid, start_ns) is the session process of a login: 1, with
 * its accept and *out; 0 when it is none; -1 after one line on stderr.
 */
int login_of_process(struct capture *cap, const struct thresholds *t, int64_t pid, int64_t start_ns,
		     struct login_accept *accept, struct login *out);

#endif
