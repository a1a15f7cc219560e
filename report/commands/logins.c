/* report logins: each connection to a login service, and whether it let someone in. */
#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "command.h"
#include "logins.h"
#include "util.h"

enum {
	LOGIN_TIME,
	LOGIN_HOST,
	LOGIN_REMOTE,
	LOGIN_RPORT,
	LOGIN_LOCAL,
	LOGIN_LPORT,
	LOGIN_DAEMON,
	LOGIN_DAEMON_PID,
	LOGIN_PID,
	LOGIN_START,
	LOGIN_OUTCOME,
	LOGIN_UID,
	LOGIN_USER,
	LOGIN_USER_SHOWN,
	LOGIN_DURATION,
	LOGIN_EXECS,
	LOGIN_RAN,
	LOGIN_WHY,
	LOGIN_EVIDENCE,
	LOGIN_FIELDS
};

/* The query's columns, as event.col numbers them. */
enum { COL_TASK, COL_RADDR, COL_RPORT, COL_LADDR, COL_LPORT };

static struct {
	struct thresholds t;
	struct field fields[LOGIN_FIELDS];
	struct captures *set;
	struct peers *peers; /* the host of each capture, whose accounts name its users */
} lg;

static const char usage[] =
	"usage: report logins [-h] [-P PORT[,PORT...]] [-4 | -6] [--daemon COMM[,COMM...]]\n"
	"                     [common options] FILE...\n"
	"\n"
	"Each connection a login service accepted (an SSH server: sshd, sshd-session,\n"
	"dropbear) as a session, followed into the processes the service ran for it:\n"
	"whether it let someone in (succeeded, failed, or unknown when the capture ended\n"
	"first or has no process lives), the user, how long the session lasted, and the\n"
	"programs it ran.  A session succeeded when one of its processes took a uid\n"
	"other than the service's or ran a program other than the service's own; it\n"
	"failed when the session process exited without either (README, Logins: the\n"
	"rule and what it assumes of the daemon).  Users are named from the capture's\n"
	"own snapshot of the recording host's accounts (the uid where it names none).\n"
	"The evidence is the session's process tree: `report proc PID@START` shows it.\n"
	"\n"
	"options:\n"
	"  -P, --port PORTS  only these local ports (comma-separated)\n"
	"  -4, --ipv4        only IPv4\n"
	"  -6, --ipv6        only IPv6\n"
	"  --daemon NAMES    the login services, by process name, instead of\n"
	"                    sshd,sshd-session,dropbear (\\xHH for a byte, \\\\ for \\)\n"
	"\n"
	"examples:\n"
	"    report logins case42.db\n"
	"    report logins --since 01:18 --format csv case42.db\n";

static const struct option long_options[] = {
	{"daemon", required_argument, NULL, OPT_DAEMON},
	{NULL, 0, NULL, 0},
};

static int own_option(int option, const char *arg, void *ctx)
{
	(void)ctx;
	return threshold_option("logins", option, arg, &lg.t) < 0 ? -1 : 0;
}

static int print_login(const struct event *ev, void *ctx)
{
	struct value v[LOGIN_FIELDS];
	struct task task;
	struct address raddr, laddr;
	struct login s;
	char evidence[CAPTURE_TEXT_MAX + 4096], user[ACCOUNT_NAME_MAX + 1], uid[24];

	(void)ctx;
	if (capture_task(ev->cap, ev->col[COL_TASK], &task))
		return -1;
	if (!login_daemon(&lg.t, &task))
		return 0;
	if (capture_address(ev->cap, ev->col[COL_RADDR], &raddr) ||
	    capture_address(ev->cap, ev->col[COL_LADDR], &laddr) ||
	    login_session(ev->cap, &lg.t, &task, ev->t, &s))
		return -1;
	v[LOGIN_TIME] = int_value(ev->wall_ns);
	v[LOGIN_HOST] = text_value(ev->cap->host, ev->cap->host_len);
	v[LOGIN_REMOTE] = text_value(raddr.text, raddr.len);
	v[LOGIN_RPORT] = int_value(ev->col[COL_RPORT]);
	v[LOGIN_LOCAL] = text_value(laddr.text, laddr.len);
	v[LOGIN_LPORT] = int_value(ev->col[COL_LPORT]);
	v[LOGIN_DAEMON] = text_value(task.comm, task.comm_len);
	v[LOGIN_DAEMON_PID] = int_value(task.pid);
	v[LOGIN_PID] = s.pid ? int_value(s.pid) : null_value();
	v[LOGIN_START] = s.pid ? int_value(s.start_ns) : null_value();
	v[LOGIN_OUTCOME] = word_value(login_outcome_name(s.outcome));
	v[LOGIN_UID] = s.uid < 0 ? null_value() : int_value(s.uid);
	user_values(lg.set, lg.peers, peers_host(lg.peers, ev->cap), s.uid, &v[LOGIN_USER],
		    &v[LOGIN_USER_SHOWN], user, uid);
	v[LOGIN_DURATION] = s.end_t == INT64_MAX ? null_value() : int_value(s.end_t - ev->t);
	v[LOGIN_EXECS] = int_value(s.execs);
	v[LOGIN_RAN] = s.execs ? text_value(s.ran, s.ran_len) : null_value();
	v[LOGIN_WHY] = word_value(s.why);
	if (s.pid) {
		snprintf(evidence, sizeof(evidence), "report proc %lld@%lld %s", (long long)s.pid,
			 (long long)s.start_ns, ev->cap->name);
		v[LOGIN_EVIDENCE] = text_value(evidence, strlen(evidence));
	} else {
		v[LOGIN_EVIDENCE] = null_value();
	}
	output_row(v);
	return 0;
}

static int run(struct captures *set, const struct options *opts)
{
	const struct field fields[LOGIN_FIELDS] = {
		[LOGIN_TIME] = {"TIME", "time", 12, FIELD_CLOCK, true},
		[LOGIN_HOST] = {"HOST", "host", set->host_width, FIELD_TEXT, set->many_hosts},
		[LOGIN_REMOTE] = {"REMOTE", "remote", 16, FIELD_TEXT, true},
		[LOGIN_RPORT] = {"RPORT", "rport", 5, FIELD_INT, true},
		[LOGIN_LOCAL] = {"LOCAL", "local", 16, FIELD_TEXT, true},
		[LOGIN_LPORT] = {"LPORT", "lport", 5, FIELD_INT, true},
		[LOGIN_DAEMON] = {"DAEMON", "daemon", 8, FIELD_TEXT, true},
		[LOGIN_DAEMON_PID] = {NULL, "daemon_pid", 0, FIELD_INT, false},
		[LOGIN_PID] = {"PID", "pid", 7, FIELD_INT, true},
		[LOGIN_START] = {NULL, "start_ns", 0, FIELD_INT, false},
		[LOGIN_OUTCOME] = {"OUTCOME", "outcome", 9, FIELD_TEXT, true},
		[LOGIN_UID] = {NULL, "uid", 0, FIELD_INT, false},
		[LOGIN_USER] = {NULL, "user", 0, FIELD_TEXT, false},
		[LOGIN_USER_SHOWN] = {"USER", NULL, 8, FIELD_TEXT, true},
		[LOGIN_DURATION] = {"DURATION(ms)", "duration_ns", 12, FIELD_MILLIS, true},
		[LOGIN_EXECS] = {"EXECS", "execs", 5, FIELD_INT, true},
		[LOGIN_RAN] = {"RAN", "ran", 0, FIELD_TEXT, true},
		[LOGIN_WHY] = {NULL, "why", 0, FIELD_TEXT, false},
		[LOGIN_EVIDENCE] = {NULL, "evidence", 0, FIELD_TEXT, false},
	};
	struct event_query query = {
		.table = "ev_accept",
		.columns = "e.task, e.raddr, e.rport, e.laddr, e.lport",
		.filter = {.task = "e.task", .family = "e.raddr", .port = "e.lport"},
		.emit = print_login,
		.address_columns = 1u << COL_RADDR | 1u << COL_LADDR,
	};
	int err;

	memcpy(lg.fields, fields, sizeof(fields));
	lg.set = set;
	lg.peers = peers_new(set);
	thresholds_ready(&lg.t);
	output_begin(opts->format, opts->local, lg.fields, LOGIN_FIELDS);
	/* To fit a terminal: the client's port, the count of programs, the duration, our end. */
	output_column_fit(LOGIN_RPORT, 0, 1);
	output_column_fit(LOGIN_EXECS, 0, 2);
	output_column_fit(LOGIN_DURATION, 0, 3);
	output_column_fit(LOGIN_LOCAL, 0, 4);
	output_column_fit(LOGIN_LPORT, 0, 5);
	err = replay(set, &query, 1, opts);
	peers_free(lg.peers);
	thresholds_free(&lg.t);
	return err;
}

static const char *const kinds[] = {"accept", "exec", NULL};

const struct command logins_command = {
	.summary = "login sessions: who connected to a login service, and who got in",
	.spec = {.name = "logins",
		 .usage = usage,
		 .short_options = "P:46",
		 .long_options = long_options,
		 .accepts = ACCEPT_FILTERS,
		 .own_option = own_option},
	.kinds = kinds,
	.run = run,
	.state = &lg,
	.state_size = sizeof(lg),
};
