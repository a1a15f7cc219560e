/*
 * report bruteforce: repeated failed logins (or, where the capture cannot
 * tell logins, connections) from one remote address to one login service,
 * and the logins let in after them: guessed passwords.
 */
#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "command.h"
#include "detect.h"
#include "util.h"

enum {
	BRUTE_HOST,
	BRUTE_KIND,
	BRUTE_REMOTE,
	BRUTE_SERVICE, /* table: address:port */
	BRUTE_LOCAL,
	BRUTE_PORT,
	BRUTE_PROCESS,
	BRUTE_CONNECTIONS,
	BRUTE_FAILED,
	BRUTE_SUCCEEDED,
	BRUTE_UID,
	BRUTE_USER,
	BRUTE_USER_SHOWN, /* table: the user's name, or the uid where the capture names none */
	BRUTE_SESSION,
	BRUTE_FIRST,
	BRUTE_LAST,
	BRUTE_RATE,
	BRUTE_MEDIAN,
	BRUTE_IQR,
	BRUTE_Q1,
	BRUTE_Q3,
	BRUTE_MEAN,
	BRUTE_BASIS,
	BRUTE_WINDOW,
	BRUTE_THRESHOLD,
	BRUTE_EVIDENCE,
	BRUTE_FIELDS
};

static struct {
	struct thresholds t;
	struct field fields[BRUTE_FIELDS];
	struct captures *set;
	struct peers *peers; /* the host of each capture, whose accounts name its users */
} bf;

static const char usage[] =
	"usage: report bruteforce [-h] [--failures N] [--failures-window SECONDS]\n"
	"                         [--window SECONDS] [--connections N]\n"
	"                         [--service PORT[,PORT...]] [--daemon COMM[,COMM...]]\n"
	"                         [common options] FILE...\n"
	"\n"
	"Password guessing in the captures: one remote address failing again and again\n"
	"to log in to a login service of a host (a login port, or a connection accepted\n"
	"by an SSH server).  Each connection to an SSH server is a login whose outcome\n"
	"the capture tells from the processes the server ran for it (report logins):\n"
	"failed logins count, logins let in never do; a failed login may hide up to\n"
	"MaxAuthTries guesses (6).  Where the capture cannot tell (no process lives\n"
	"recorded, a service the login rule does not know), each connection counts, at\n"
	"the connection threshold.  An episode ends after a window without any; it is\n"
	"reported when one window of it holds the threshold, with its connections,\n"
	"failures, logins let in, rate, the accepting processes and the pattern of the\n"
	"intervals between the counted events: a regular tool shows a median close to\n"
	"the mean and a small interquartile range (IQR); bursts show a mean far above\n"
	"the median.\n"
	"\n"
	"A login let in after at least the threshold of failures of the same remote\n"
	"address within the window is a guessed password (KIND guessed), with the user\n"
	"let in (USER: named from the capture's accounts, the uid where they name none;\n"
	"uid and user in JSON and CSV) and the session process.  EVIDENCE is the\n"
	"command that lists the rows.\n"
	"\n"
	"options (defaults from fail2ban, Zeek, ET Open and Wazuh: docs/detection.md):\n"
	"  --failures N       failed logins of one remote address to one service in a\n"
	"                     window (5)\n"
	"  --failures-window SECONDS  their window (600)\n"
	"  --connections N    connections, where logins cannot be told (10)\n"
	"  --window SECONDS   their window (120)\n"
	"  --service PORTS    the login ports, instead of 21,22,23,25,110,139,143,389,\n"
	"                     445,465,587,636,993,995,1433,1521,3306,3389,5432,5900,\n"
	"                     5985,5986\n"
	"  --daemon NAMES     processes whose accepts are logins on any port, instead of\n"
	"                     sshd,sshd-session,dropbear (\\xHH for a byte, \\\\ for \\)\n"
	"\n"
	"examples:\n"
	"    report bruteforce case42.db\n"
	"    report bruteforce --failures 3 --failures-window 3600 case42.db\n"
	"    report bruteforce --service 22,2222 --daemon sshd case42.db\n"
	"    report bruteforce --format csv web-*.db\n";

static const struct option long_options[] = {
	BRUTEFORCE_OPTIONS("window"),
	{NULL, 0, NULL, 0},
};

static int own_option(int option, const char *arg, void *ctx)
{
	(void)ctx;
	return threshold_option("bruteforce", option, arg, &bf.t) < 0 ? -1 : 0;
}

static struct value text_of(const char *text)
{
	return text_value(text, strlen(text));
}

static struct value interval(int64_t ns)
{
	return ns < 0 ? null_value() : int_value(ns);
}

static void print_finding(const struct finding *f)
{
	char service[CAPTURE_TEXT_MAX * SAMPLE_SIZE + 16];
	int64_t rate = finding_rate(f);
	struct value v[BRUTE_FIELDS];
	char user[ACCOUNT_NAME_MAX + 1], uid[24];
	const struct peers *peers = f->peers;

	finding_target(f, service, sizeof(service));
	v[BRUTE_HOST] = text_of(peers_host_name(peers, f->host));
	v[BRUTE_KIND] = text_of(finding_kind_name(f->kind));
	v[BRUTE_REMOTE] = text_of(peer_text(peers, f->remote));
	v[BRUTE_SERVICE] = text_of(service);
	v[BRUTE_LOCAL] = text_of(f->sample_addresses);
	v[BRUTE_PORT] = int_value(f->ports);
	v[BRUTE_PROCESS] = text_of(f->process);
	v[BRUTE_CONNECTIONS] = int_value(f->events);
	v[BRUTE_FAILED] = f->logins ? int_value(f->failed) : null_value();
	v[BRUTE_SUCCEEDED] = f->logins ? int_value(f->succeeded) : null_value();
	v[BRUTE_UID] = f->kind == FINDING_GUESSED ? int_value(f->uid) : null_value();
	user_values(bf.set, bf.peers, f->host, f->kind == FINDING_GUESSED ? f->uid : -1,
		    &v[BRUTE_USER], &v[BRUTE_USER_SHOWN], user, uid);
	v[BRUTE_SESSION] = f->kind == FINDING_GUESSED ? int_value(f->session_pid) : null_value();
	v[BRUTE_FIRST] = int_value(f->first_ns);
	v[BRUTE_LAST] = int_value(f->last_ns);
	v[BRUTE_RATE] = rate < 0 ? null_value() : int_value(rate);
	v[BRUTE_MEDIAN] = interval(f->median_ns);
	v[BRUTE_IQR] = f->q1_ns < 0 ? null_value() : int_value(f->q3_ns - f->q1_ns);
	v[BRUTE_Q1] = interval(f->q1_ns);
	v[BRUTE_Q3] = interval(f->q3_ns);
	v[BRUTE_MEAN] = interval(f->mean_ns);
	v[BRUTE_BASIS] = text_of(f->logins ? "logins" : "connections");
	v[BRUTE_WINDOW] =
		int_value(f->logins ? bf.t.failures_window_ns : bf.t.bruteforce_window_ns);
	v[BRUTE_THRESHOLD] = int_value(f->logins ? bf.t.failures : bf.t.connections);
	v[BRUTE_EVIDENCE] = text_of(f->evidence);
	output_row(v);
}

static int run(struct captures *set, const struct options *opts)
{
	const struct field fields[BRUTE_FIELDS] = {
		[BRUTE_HOST] = {"HOST", "host", set->host_width, FIELD_TEXT, set->many_hosts},
		[BRUTE_KIND] = {"KIND", "kind", 10, FIELD_TEXT, true},
		[BRUTE_REMOTE] = {"REMOTE", "remote", 16, FIELD_TEXT, true},
		[BRUTE_SERVICE] = {"SERVICE", NULL, 18, FIELD_TEXT, true},
		[BRUTE_LOCAL] = {NULL, "local", 0, FIELD_TEXT, false},
		[BRUTE_PORT] = {NULL, "port", 0, FIELD_INT, false},
		[BRUTE_PROCESS] = {"PROCESS", "process", 14, FIELD_TEXT, true},
		[BRUTE_CONNECTIONS] = {"CONNS", "connections", 5, FIELD_INT, true},
		[BRUTE_FAILED] = {"FAILED", "failed", 6, FIELD_INT, true},
		[BRUTE_SUCCEEDED] = {"IN", "succeeded", 3, FIELD_INT, true},
		[BRUTE_UID] = {NULL, "uid", 0, FIELD_INT, false},
		[BRUTE_USER] = {NULL, "user", 0, FIELD_TEXT, false},
		[BRUTE_USER_SHOWN] = {"USER", NULL, 8, FIELD_TEXT, true},
		[BRUTE_SESSION] = {"SESSION", "session_pid", 7, FIELD_INT, true},
		[BRUTE_FIRST] = {"FIRST", "first", 12, FIELD_CLOCK, true},
		[BRUTE_LAST] = {"LAST", "last", 12, FIELD_CLOCK, true},
		[BRUTE_RATE] = {"RATE/s", "rate", 8, FIELD_FIXED3, true},
		[BRUTE_MEDIAN] = {"MEDIAN(ms)", "median_ns", 10, FIELD_MILLIS, true},
		[BRUTE_IQR] = {"IQR(ms)", "iqr_ns", 10, FIELD_MILLIS, true},
		[BRUTE_Q1] = {"Q1(ms)", "q1_ns", 10, FIELD_MILLIS, true},
		[BRUTE_Q3] = {"Q3(ms)", "q3_ns", 10, FIELD_MILLIS, true},
		[BRUTE_MEAN] = {"MEAN(ms)", "mean_ns", 10, FIELD_MILLIS, true},
		[BRUTE_BASIS] = {NULL, "basis", 0, FIELD_TEXT, false},
		[BRUTE_WINDOW] = {NULL, "window_ns", 0, FIELD_INT, false},
		[BRUTE_THRESHOLD] = {NULL, "threshold", 0, FIELD_INT, false},
		[BRUTE_EVIDENCE] = {"EVIDENCE", "evidence", 0, FIELD_TEXT, true},
	};
	struct peers *peers = peers_new(set);
	struct findings findings = {0};
	int err;

	memcpy(bf.fields, fields, sizeof(fields));
	bf.set = set;
	bf.peers = peers;
	thresholds_ready(&bf.t);
	err = find_bruteforce(set, opts, &bf.t, peers, NULL, &findings);
	if (!err) {
		char thresholds[256];

		findings_sort(&findings);
		describe_rule(&bf.t, FINDING_BRUTEFORCE, thresholds, sizeof(thresholds));
		if (opts->format == FORMAT_TABLE)
			printf("# bruteforce: %s\n", thresholds);
		output_begin(opts->format, opts->local, bf.fields, BRUTE_FIELDS);
		/*
		 * To fit a terminal: the quartiles, the mean, the rate, the last time,
		 * then the session let in, its uid, the median, the failed count,
		 * and last the evidence (the millisecond times leave it no room).
		 */
		output_column_fit(BRUTE_Q1, 0, 1);
		output_column_fit(BRUTE_Q3, 0, 2);
		output_column_fit(BRUTE_IQR, 0, 3);
		output_column_fit(BRUTE_MEAN, 0, 4);
		output_column_fit(BRUTE_RATE, 0, 5);
		output_column_fit(BRUTE_LAST, 0, 6);
		output_column_fit(BRUTE_SESSION, 0, 7);
		output_column_fit(BRUTE_SUCCEEDED, 0, 8);
		output_column_fit(BRUTE_USER_SHOWN, 0, 9);
		output_column_fit(BRUTE_MEDIAN, 0, 10);
		output_column_fit(BRUTE_FAILED, 0, 11);
		output_column_fit(BRUTE_EVIDENCE, 0, 12);
		for (size_t i = 0; i < findings.count; i++)
			print_finding(&findings.list[i]);
	}
	findings_free(&findings);
	peers_free(peers);
	thresholds_free(&bf.t);
	return err;
}

static const char *const kinds[] = {"accept", "exec", NULL};

const struct command bruteforce_command = {
	.summary = "password guessing: repeated failed logins, passwords guessed",
	.spec = {.name = "bruteforce",
		 .usage = usage,
		 .short_options = "",
		 .long_options = long_options,
		 .accepts = ACCEPT_FILTERS,
		 .own_option = own_option},
	.kinds = kinds,
	.run = run,
};
