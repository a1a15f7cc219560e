/*
 * report timeline: every event of every kind in one chronological stream, one
 * line each (analyses/timeline.c), or one line per connection (connview.c).
 */
#include <getopt.h>

#include "command.h"
#include "connview.h"
#include "detect.h"
#include "timeline.h"

static struct {
	bool connections; /* -c */
	struct timeline_choice choice;
	struct thresholds logins; /* --daemon's */
} tl;

static const char usage[] =
	"usage: report timeline [-h] [-v] [-p PID] [-u UID] [-P PORT[,PORT...]] [--addr ADDRESS]\n"
	"                       [-c] [--daemon COMM[,COMM...]] [common options] FILE...\n"
	"\n"
	"Every event of the captures in one chronological stream, one line each: the\n"
	"time (TIME(s), seconds since the first line, and TIME, the wall clock), the\n"
	"process, and what happened (EVENT and DETAIL):\n"
	"  connect  LOCAL > REMOTE, how it ended and how long it took\n"
	"  accept   LOCAL < REMOTE; for a login service, the session's outcome, the user\n"
	"           let in (named as the capture's accounts name it) and the session\n"
	"           process (report logins)\n"
	"  reset    a RST sent, LOCAL > REMOTE, the kernel's reason and the socket's state\n"
	"  capable  a capability check, its verdict and whether it audits\n"
	"  exec     a program run: its path (marked (deleted), (world-writable dir)) and\n"
	"           command line; [shell on TCP ...] when it is a shell reading its\n"
	"           commands from a TCP connection (a reverse or bind shell), its own or\n"
	"           one held by the process named after it (through ncat/PID: forked\n"
	"           for it; piped through nc/PID: its output piped to it), [shell for\n"
	"           a connection ... accepted] when a listener started it for one (or\n"
	"           feeds it one through a pipe)\n"
	"  fork     a new process, and its parent\n"
	"  exit     a process ended: its exit status or signal\n"
	"  dns      a DNS answer seen on the host: the name, its address and TTL\n"
	"  unaccepted  a handshake the kernel completed, closed before any accept()\n"
	"As `report capable`, checks that do not audit are left out unless -v.\n"
	"\n"
	"options:\n"
	"  -v, --verbose    include the capability checks that do not audit\n"
	"  -p, --pid PID    only this process\n"
	"  -u, --uid UID    only this user\n"
	"  -P, --port PORTS only network events with one of these ports, at either end\n"
	"  -c, --connections one line per connection instead: the connect, its outcome\n"
	"                   and latency, the accept at the other end (when captured), the\n"
	"                   resets on it within a minute, and its close: DUR(ms), the\n"
	"                   payload each way (C>S, S>C) and who closed first (END); an\n"
	"                   inbound attempt answered by a reset is a connection too\n"
	"  --daemon NAMES   the login services, by process name, instead of\n"
	"                   sshd,sshd-session,dropbear (\\xHH for a byte, \\\\ for \\): their\n"
	"                   accepts are logins, their sessions' shells not on the network\n"
	"\n"
	"DNS answers and unaccepted handshakes belong to no process: -p, -u, --comm,\n"
	"--cgroup, --mntns and --ppid leave them out.  With -c they choose connections,\n"
	"one of whose events they select, and every event of those is shown (the\n"
	"client's -p still shows who accepted, and the reset that refused it).\n"
	"\n"
	"JSON and CSV carry the fields of every kind (null where a kind has none).\n"
	"\n"
	"examples:\n"
	"    report timeline case42.db\n"
	"    report timeline --since 01:55 --until 01:56 --addr 10.200.0.66 case42.db\n"
	"    report timeline -P 22 -c case42.db\n"
	"    report timeline --comm sshd --format json web-1.db web-2.db\n"
	"    report timeline --follow live.db\n";

static const struct option long_options[] = {
	{"verbose", no_argument, NULL, 'v'},
	{"connections", no_argument, NULL, 'c'},
	{"daemon", required_argument, NULL, OPT_DAEMON},
	{NULL, 0, NULL, 0},
};

static int own_option(int option, const char *arg, void *ctx)
{
	(void)ctx;
	switch (option) {
	case 'v':
		tl.choice.verbose = true;
		return 0;
	case 'c':
		tl.connections = true;
		return 0;
	case OPT_DAEMON:
		tl.choice.logins = &tl.logins;
		return threshold_option("timeline", option, arg, &tl.logins) < 0 ? -1 : 0;
	default:
		return 0;
	}
}

static int check(const struct options *opts)
{
	if (tl.connections && opts->follow)
		return option_error(opts->command, "-c (connections) takes no --follow");
	if (tl.connections && tl.choice.verbose)
		return option_error(opts->command,
				    "-c (connections) has no capability checks: no -v");
	if (tl.connections && tl.choice.logins)
		return option_error(opts->command, "-c (connections) tells no logins: no --daemon");
	return 0;
}

static int run(struct captures *set, const struct options *opts)
{
	int err = tl.connections ? print_connections(set, opts)
				 : timeline_events(set, opts, &tl.choice);

	thresholds_free(&tl.logins);
	return err;
}

const struct command timeline_command = {
	.summary = "every event of every kind in time order; or one line per connection",
	.spec = {.name = "timeline",
		 .usage = usage,
		 .short_options = "vp:u:P:c",
		 .long_options = long_options,
		 .accepts = ACCEPT_FILTERS | ACCEPT_ADDR | ACCEPT_FOLLOW | ACCEPT_LINEAGE,
		 .own_option = own_option},
	.check = check,
	.run = run,
	.huge_pages = true,
	.state = &tl,
	.state_size = sizeof(tl),
};
