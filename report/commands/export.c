/*
 * report export: every event of the captures as JSON Lines for a SIEM or a
 * timeline tool, in time order: OCSF 1.8.0, ECS 9.4.0 or Timesketch.  The
 * events are the timeline's (analyses/timeline.c, through its sink), each
 * row mapped to the format's names and enumerations and written at once: a
 * stream, in the timeline's memory.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "detect.h"
#include "timeline.h"
#include "util.h"
#include "when.h"

#define OCSF_VERSION "1.8.0"
#define ECS_VERSION  "9.4.0"
#define NS_PER_MS    1000000

/* OCSF's numbers (dictionary.json and the classes' enumerations) */
enum {
	NETWORK_ACTIVITY = 4001,
	PROCESS_ACTIVITY = 1007,
	DNS_ACTIVITY = 4003,
	OPEN = 1, /* network activity */
	CLOSE = 2,
	RESET = 3,
	FAIL = 4,
	REFUSE = 5,
	LAUNCH = 1, /* process activity */
	TERMINATE = 2,
	RESPONSE = 2, /* DNS activity */
	OTHER = 99,
	LAUNCH_FORK = 2,
	LAUNCH_EXEC = 3,
	STATUS_UNKNOWN = 0,
	STATUS_SUCCESS = 1,
	STATUS_FAILURE = 2,
	DIRECTION_UNKNOWN = 0,
	INBOUND = 1,
	OUTBOUND = 2,
	OS_LINUX = 200,
	REGULAR_FILE = 1,
};

static struct {
	struct timeline_choice choice;
	struct thresholds logins; /* --daemon's */
	enum output_format format;
	bool local;
	/* the line being written */
	char *s;
	size_t len, size;
	bool comma; /* a member before: the next one needs a comma */
} ex;

static const char usage[] =
	"usage: report export [--format ocsf|ecs|timesketch] [-v] [-p PID] [-u UID]\n"
	"                     [-P PORT[,PORT...]] [--addr ADDRESS] [--daemon COMM[,COMM...]]\n"
	"                     [common options] FILE...\n"
	"\n"
	"Every event of the captures, as `report timeline` selects them, and the\n"
	"connections' closes (tcplife's), in time order, one JSON object a line, for a\n"
	"SIEM or a timeline tool:\n"
	"  ocsf        OCSF " OCSF_VERSION ": Network Activity (4001) for connects, accepts,\n"
	"              resets, closes (duration and traffic) and handshakes closed\n"
	"              before accept; Process Activity (1007) for exec, fork, exit and\n"
	"              capability checks (activity Other, the capability as\n"
	"              requested_permissions); DNS Activity (4003, Response) for DNS\n"
	"              answers.  What OCSF has no name for is in unmapped (the precise\n"
	"              time in ns among it).\n"
	"  ecs         Elastic Common Schema " ECS_VERSION ", for Elasticsearch and OpenSearch:\n"
	"              @timestamp, event.*, process.*, source.*, destination.*, host.*,\n"
	"              dns.*; Casefile's own fields under casefile.*\n"
	"  timesketch  Timesketch's JSONL: message, datetime, timestamp_desc and the\n"
	"              timeline's fields (save it as a .jsonl file to upload it)\n"
	"Every event carries its process's executable, command line and parents as\n"
	"at its time (as -l shows them); an accept by a login service its login (the\n"
	"outcome, uid, session), an exec its standard streams and shell.\n"
	"\n"
	"options:\n"
	"  --format FORMAT  ocsf (the default), ecs or timesketch\n"
	"  -v, --verbose    include the capability checks that do not audit\n"
	"  -p, --pid PID    only this process\n"
	"  -u, --uid UID    only this user\n"
	"  -P, --port PORTS only network events with one of these ports, at either end\n"
	"  --addr ADDRESS   only network events with this address at either end\n"
	"  --daemon NAMES   the login services, by process name, instead of\n"
	"                   sshd,sshd-session,dropbear (\\xHH for a byte, \\\\ for \\): their\n"
	"                   accepts are logins, their sessions' shells not on the network\n"
	"\n"
	"examples:\n"
	"    report export --format ocsf case42.db > case42.ocsf.jsonl\n"
	"    report export --format ecs web-*.db | gzip > fleet.ecs.jsonl.gz\n"
	"    report export --format timesketch --since 01:55 case42.db > case42.jsonl\n";

static const struct option long_options[] = {
	{"verbose", no_argument, NULL, 'v'},
	{"daemon", required_argument, NULL, OPT_DAEMON},
	{NULL, 0, NULL, 0},
};

static int own_option(int option, const char *arg, void *ctx)
{
	(void)ctx;
	if (option == 'v')
		ex.choice.verbose = true;
	if (option != OPT_DAEMON)
		return 0;
	ex.choice.logins = &ex.logins;
	return threshold_option("export", option, arg, &ex.logins) < 0 ? -1 : 0;
}

/* --- Writing a JSON object ----------------------------------------------------------- */

static char *room(size_t n)
{
	if (ex.len + n > ex.size) {
		ex.size = 2 * (ex.len + n);
		ex.s = xrealloc(ex.s, ex.size);
	}
	return ex.s + ex.len;
}

static void raw(const char *s, size_t len)
{
	memcpy(room(len), s, len);
	ex.len += len;
}

static void key(const char *name)
{
	char *p = room(strlen(name) + 4);

	if (ex.comma)
		*p++ = ',';
	*p++ = '"';
	p = stpcpy(p, name);
	*p++ = '"';
	*p++ = ':';
	ex.len = (size_t)(p - ex.s);
	ex.comma = true;
}

/* An object: a member of that name, or an element of an array (NULL). */
static void open_object(const char *name)
{
	if (name)
		key(name);
	else if (ex.comma)
		raw(",", 1);
	raw("{", 1);
	ex.comma = false;
}

static void open_array(const char *name)
{
	key(name);
	raw("[", 1);
	ex.comma = false;
}

static void close_object(void)
{
	raw("}", 1);
	ex.comma = true;
}

static void close_array(void)
{
	raw("]", 1);
	ex.comma = true;
}

static void quoted(const char *s, size_t len, bool plain)
{
	char *p = room(6 * len + 2);

	*p++ = '"';
	if (plain) {
		memcpy(p, s, len);
		p += len;
	} else {
		p += render_json_text(s, len, p);
	}
	*p++ = '"';
	ex.len = (size_t)(p - ex.s);
}

/* A string member of one of our own words. */
static void word(const char *name, const char *value)
{
	key(name);
	quoted(value, strlen(value), true);
}

/* A string member of a value from the capture; nothing when it is null. */
static void text(const char *name, const struct value *v)
{
	if (v->null)
		return;
	key(name);
	quoted(v->s, v->len, v->plain);
}

static void number(const char *name, int64_t value)
{
	key(name);
	ex.len = (size_t)(int_text(room(24), value) - ex.s);
}

/* An integer value as a number member, or as a string one (OCSF's and ECS's ids); nothing when
 * null. */
static void integer(const char *name, const struct value *v, bool as_string)
{
	char digits[24];

	if (v->null)
		return;
	if (!as_string) {
		number(name, v->i);
		return;
	}
	key(name);
	quoted(digits, (size_t)(int_text(digits, v->i) - digits), true);
}

static void boolean(const char *name, bool value)
{
	key(name);
	raw(value ? "true" : "false", value ? 4 : 5);
}

static void timestamp(const char *name, int64_t wall_ns)
{
	key(name);
	raw("\"", 1);
	ex.len += format_rfc3339(wall_ns, ex.local, room(WHEN_MAX));
	raw("\"", 1);
}

/* --- What every format reads from a row ---------------------------------------------------- */

/* The row's kind of event, as the timeline names it. */
static bool is(const struct value *v, const char *kind)
{
	return v[TL_EVENT].len == strlen(kind) && !memcmp(v[TL_EVENT].s, kind, v[TL_EVENT].len);
}

static bool network(const struct value *v)
{
	return is(v, "connect") || is(v, "accept") || is(v, "reset") || is(v, "unaccepted") ||
	       is(v, "close");
}

/*
 * Whether the connection was initiated from here: a connect (and a reset
 * this host sent).  A close does not say who opened it: its local end is
 * written as the source, and said to be unknown.
 */
static bool outbound(const struct value *v)
{
	return is(v, "connect") || is(v, "reset") || is(v, "close");
}

/* The basename of the executable, for names that want one. */
static struct value basename_of(const struct value *exe)
{
	const char *slash;

	if (exe->null)
		return *exe;
	slash = memrchr(exe->s, '/', exe->len);
	if (!slash)
		return *exe;
	return checked_text_value(slash + 1, exe->len - (size_t)(slash + 1 - exe->s), exe->plain);
}

/* The pid between the parentheses of "sh(7472)": from just after '(' to just before ')'. */
static bool pid_within(const char *from, const char *to, int64_t *pid)
{
	char digits[24];
	size_t len = (size_t)(to - from);

	if (!len || len >= sizeof(digits))
		return false;
	memcpy(digits, from, len);
	digits[len] = '\0';
	return !parse_integer(digits, 0, INT32_MAX, pid);
}

/*
 * The parents "sh(7472) < sshd(900) < systemd(1)" as objects of a name and a
 * pid, in an array under name, nearest first.
 */
static void parents(const char *name, const struct value *chain, const char *pid_key)
{
	const char *p, *end;

	if (chain->null || !chain->len)
		return;
	open_array(name);
	for (p = chain->s, end = chain->s + chain->len; p < end;) {
		const char *next = memmem(p, (size_t)(end - p), " < ", 3);
		const char *stop = next ? next : end;
		const char *paren = memrchr(p, '(', (size_t)(stop - p));
		struct value comm;
		int64_t pid;

		if (paren && stop[-1] == ')' && pid_within(paren + 1, stop - 1, &pid)) {
			open_object(NULL);
			comm = text_value(p, (size_t)(paren - p));
			text("name", &comm);
			number(pid_key, pid);
			close_object();
		}
		p = next ? next + 3 : end;
	}
	close_array();
}

/* An accept's login, an exec's standard streams and shell: Casefile's own, in every format. */
static void session_fields(const struct value *v)
{
	text("login", &v[TL_LOGIN]);
	integer("login_uid", &v[TL_LOGIN_UID], false);
	text("login_user", &v[TL_LOGIN_USER]);
	integer("session_pid", &v[TL_SESSION], false);
	text("stdin", &v[TL_STDIN]);
	text("stdout", &v[TL_STDOUT]);
	text("stderr", &v[TL_STDERR]);
	text("shell", &v[TL_SHELL]);
}

/* --- OCSF ---------------------------------------------------------------------------------- */

static void ocsf_endpoint(const char *name, const struct value *addr, const struct value *port)
{
	if (addr->null && port->null)
		return;
	open_object(name);
	text("ip", addr);
	integer("port", port, false);
	close_object();
}

/* The process of the row: OCSF's process object. */
static void ocsf_process(const char *name, const struct value *v)
{
	const struct value *exe = &v[TL_WHO + LINEAGE_EXE];
	struct value file = basename_of(exe);

	open_object(name);
	integer("pid", &v[EVENT_PID], false);
	integer("tid", &v[EVENT_TID], false);
	integer("namespace_pid", &v[EVENT_NSPID], false);
	text("name", &v[EVENT_COMM]);
	text("cmd_line", &v[TL_WHO + LINEAGE_ARGS]);
	if (!exe->null) {
		open_object("file");
		text("name", &file);
		text("path", exe);
		number("type_id", REGULAR_FILE);
		close_object();
	}
	if (!v[EVENT_UID].null) {
		open_object("user");
		integer("uid", &v[EVENT_UID], true);
		close_object();
	}
	if (!v[EVENT_PPID].null) {
		open_object("parent_process");
		integer("pid", &v[EVENT_PPID], false);
		close_object();
	}
	parents("ancestry", &v[TL_WHO + LINEAGE_PARENTS], "pid");
	close_object();
}

/* The class, activity and status of the row: the network's by how the connection went. */
static void ocsf_class(const struct value *v, int *class_uid, int *activity, int *status)
{
	const struct value *outcome = &v[TL_OUTCOME];

	*status = STATUS_SUCCESS;
	if (is(v, "connect")) {
		*class_uid = NETWORK_ACTIVITY;
		*activity = OPEN;
		if (outcome->null) /* in flight when the capture stopped */
			*status = STATUS_UNKNOWN;
		else if (strcmp(outcome->s, "established"))
			*activity = !strcmp(outcome->s, "refused") ? REFUSE : FAIL;
		if (*activity != OPEN)
			*status = STATUS_FAILURE;
	} else if (network(v)) {
		*class_uid = NETWORK_ACTIVITY;
		*activity = is(v, "accept")			 ? OPEN
			    : is(v, "reset")			 ? RESET
			    : !v[TL_ERROR].null && v[TL_ERROR].i ? RESET
								 : CLOSE;
	} else if (is(v, "dns")) {
		*class_uid = DNS_ACTIVITY;
		*activity = RESPONSE;
	} else {
		*class_uid = PROCESS_ACTIVITY;
		*activity = is(v, "exit") ? TERMINATE : is(v, "capable") ? OTHER : LAUNCH;
		if (is(v, "capable") && strcmp(v[TL_VERDICT].s, "allow"))
			*status = STATUS_FAILURE;
	}
}

static void ocsf_row(const struct event *ev, const struct value *v)
{
	int class_uid, activity, status;
	int64_t wall_ns = v[EVENT_CLOCK].i;

	ocsf_class(v, &class_uid, &activity, &status);
	open_object(NULL);
	number("class_uid", class_uid);
	number("category_uid", class_uid / 1000);
	number("activity_id", activity);
	number("type_uid", (int64_t)class_uid * 100 + activity);
	if (activity == OTHER)
		word("activity_name", "Capability Check");
	number("severity_id", 1); /* Informational: an event, not a finding */
	number("status_id", status);
	number("time", wall_ns / NS_PER_MS);
	open_object("metadata");
	word("version", OCSF_VERSION);
	open_object("product");
	word("name", "Casefile");
	word("vendor_name", "Casefile");
	word("version", ev->cap->tool_version ? ev->cap->tool_version : CASEFILE_VERSION);
	close_object();
	key("log_source"); /* the capture file */
	quoted(ev->cap->path, strlen(ev->cap->path), false);
	close_object();
	open_object("device");
	text("hostname", &v[EVENT_HOST]);
	number("type_id", 0); /* Unknown: the capture does not say */
	if (ev->cap->boot_id)
		word("boot_uid", ev->cap->boot_id);
	open_object("os");
	word("name", "Linux");
	number("type_id", OS_LINUX);
	if (ev->cap->kernel_release)
		word("kernel_release", ev->cap->kernel_release);
	close_object();
	close_object();
	if (!v[EVENT_PID].null) {
		open_object("actor");
		ocsf_process("process", v);
		close_object();
	}
	if (class_uid == PROCESS_ACTIVITY && !v[EVENT_PID].null)
		ocsf_process("process", v);
	if (is(v, "exec") || is(v, "fork"))
		number("launch_type_id", is(v, "exec") ? LAUNCH_EXEC : LAUNCH_FORK);
	if (is(v, "exit"))
		integer("exit_code", &v[TL_EXIT_CODE], false);
	if (is(v, "capable")) {
		integer("requested_permissions", &v[TL_CAP], false);
		if (status == STATUS_SUCCESS)
			integer("actual_permissions", &v[TL_CAP], false);
	}
	if (network(v)) {
		/* src is who opened the connection: this host for a connect or a reset it sent */
		bool out = outbound(v);

		ocsf_endpoint("src_endpoint", out ? &v[TL_LADDR] : &v[TL_RADDR],
			      out ? &v[TL_LPORT] : &v[TL_RPORT]);
		ocsf_endpoint("dst_endpoint", out ? &v[TL_RADDR] : &v[TL_LADDR],
			      out ? &v[TL_RPORT] : &v[TL_LPORT]);
		open_object("connection_info");
		number("direction_id", is(v, "close") ? DIRECTION_UNKNOWN
				       : out	      ? OUTBOUND
						      : INBOUND);
		word("protocol_name", "tcp");
		number("protocol_num", 6);
		if (!v[TL_IP].null)
			number("protocol_ver_id", v[TL_IP].i);
		close_object();
	}
	if (is(v, "close")) {
		boolean("is_src_dst_assignment_known", false);
		if (!v[TL_DURATION].null)
			number("duration", v[TL_DURATION].i / NS_PER_MS);
		open_object("traffic");
		integer("bytes_out", &v[TL_BYTES_OUT], false);
		integer("bytes_in", &v[TL_BYTES_IN], false);
		number("bytes", v[TL_BYTES_OUT].i + v[TL_BYTES_IN].i);
		close_object();
	}
	if (is(v, "dns")) {
		open_object("query");
		text("hostname", &v[TL_QUERY]);
		word("type", v[TL_IP].i == 6 ? "AAAA" : "A");
		close_object();
		open_array("answers");
		open_object(NULL);
		text("rdata", &v[TL_RADDR]);
		integer("ttl", &v[TL_TTL], false);
		word("type", v[TL_IP].i == 6 ? "AAAA" : "A");
		close_object();
		close_array();
		number("rcode_id", 0); /* NoError: an answer */
	}
	open_object("unmapped");
	number("time_ns", wall_ns);
	integer("boot_time_ns", &v[EVENT_TS_NS], false);
	word("event", v[TL_EVENT].s);
	integer("cgroup", &v[EVENT_CGROUP], false);
	text("cgroup_path", &v[EVENT_CGROUP_PATH]);
	integer("mntns", &v[EVENT_MNTNS], false);
	integer("netns", &v[EVENT_NETNS], false);
	text("outcome", &v[TL_OUTCOME]);
	integer("error", &v[TL_ERROR], false);
	integer("latency_ns", &v[TL_LATENCY], false);
	text("state", &v[TL_STATE]);
	text("reason", &v[TL_REASON]);
	text("capability", &v[TL_NAME]);
	if (!v[TL_AUDIT].null)
		boolean("audit", v[TL_AUDIT].i);
	session_fields(v);
	integer("duration_ns", &v[TL_DURATION], false);
	text("closed_by", &v[TL_CLOSED_BY]);
	close_object();
	close_object();
}

/* --- ECS ----------------------------------------------------------------------------------- */

/* event.category, event.type and event.outcome (ECS's allowed values) of the row. */
static void ecs_event(const struct value *v)
{
	const char *outcome = "success", *type = "start", *category = "process";

	if (is(v, "connect")) {
		category = "network";
		if (v[TL_OUTCOME].null)
			outcome = "unknown";
		else if (strcmp(v[TL_OUTCOME].s, "established"))
			outcome = "failure";
		if (!strcmp(outcome, "failure") && !strcmp(v[TL_OUTCOME].s, "refused"))
			type = "denied";
	} else if (network(v)) {
		category = "network";
		type = is(v, "accept") ? "start" : "end";
		outcome = is(v, "accept") || is(v, "close") ? "success" : "unknown";
	} else if (is(v, "dns")) {
		category = "network";
		type = "protocol";
		outcome = "unknown";
	} else if (is(v, "exit")) {
		type = "end";
	} else if (is(v, "capable")) {
		type = "access";
		outcome = strcmp(v[TL_VERDICT].s, "allow") ? "failure" : "success";
	}
	open_object("event");
	word("kind", "event");
	open_array("category");
	quoted(category, strlen(category), true);
	close_array();
	open_array("type");
	if (network(v))
		raw("\"connection\",", 13);
	quoted(type, strlen(type), true);
	close_array();
	word("outcome", outcome);
	word("action", v[TL_EVENT].s);
	word("module", "casefile");
	integer("duration", &v[TL_DURATION], false); /* a close's, in ns as ECS wants */
	close_object();
}

/* An end, and the bytes it sent (a close's; else null). */
static void ecs_endpoint(const char *name, const struct value *addr, const struct value *port,
			 const struct value *bytes)
{
	if (addr->null && port->null)
		return;
	open_object(name);
	text("ip", addr);
	text("address", addr);
	integer("port", port, false);
	integer("bytes", bytes, false);
	close_object();
}

static void ecs_row(const struct event *ev, const struct value *v)
{
	const struct value *exe = &v[TL_WHO + LINEAGE_EXE];

	open_object(NULL);
	timestamp("@timestamp", v[EVENT_CLOCK].i);
	open_object("ecs");
	word("version", ECS_VERSION);
	close_object();
	ecs_event(v);
	open_object("host");
	text("name", &v[EVENT_HOST]);
	text("hostname", &v[EVENT_HOST]);
	if (ev->cap->boot_id) {
		open_object("boot");
		word("id", ev->cap->boot_id);
		close_object();
	}
	open_object("os");
	word("type", "linux");
	if (ev->cap->kernel_release)
		word("kernel", ev->cap->kernel_release);
	close_object();
	close_object();
	if (!v[EVENT_PID].null) {
		open_object("process");
		integer("pid", &v[EVENT_PID], false);
		integer("vpid", &v[EVENT_NSPID], false);
		text("name", &v[EVENT_COMM]);
		text("executable", exe);
		text("command_line", &v[TL_WHO + LINEAGE_ARGS]);
		integer("exit_code", &v[TL_EXIT_CODE], false);
		if (!v[EVENT_TID].null) {
			open_object("thread");
			integer("id", &v[EVENT_TID], false);
			close_object();
		}
		if (!v[EVENT_PPID].null) {
			open_object("parent");
			integer("pid", &v[EVENT_PPID], false);
			close_object();
		}
		if (!v[EVENT_UID].null) {
			open_object("user");
			integer("id", &v[EVENT_UID], true);
			close_object();
		}
		close_object();
		if (!v[EVENT_UID].null) {
			open_object("user");
			integer("id", &v[EVENT_UID], true);
			close_object();
		}
	}
	if (network(v)) {
		bool out = outbound(v);

		/* a close's source is its local end: what it sent out, what it received in */
		ecs_endpoint("source", out ? &v[TL_LADDR] : &v[TL_RADDR],
			     out ? &v[TL_LPORT] : &v[TL_RPORT], &v[TL_BYTES_OUT]);
		ecs_endpoint("destination", out ? &v[TL_RADDR] : &v[TL_LADDR],
			     out ? &v[TL_RPORT] : &v[TL_LPORT], &v[TL_BYTES_IN]);
		open_object("network");
		word("transport", "tcp");
		word("direction", is(v, "close") ? "unknown" : out ? "egress" : "ingress");
		if (is(v, "close"))
			number("bytes", v[TL_BYTES_OUT].i + v[TL_BYTES_IN].i);
		if (!v[TL_IP].null)
			word("type", v[TL_IP].i == 6 ? "ipv6" : "ipv4");
		close_object();
	}
	if (is(v, "dns")) {
		open_object("dns");
		word("type", "answer");
		open_object("question");
		text("name", &v[TL_QUERY]);
		word("type", v[TL_IP].i == 6 ? "AAAA" : "A");
		close_object();
		open_array("answers");
		open_object(NULL);
		text("name", &v[TL_QUERY]);
		text("data", &v[TL_RADDR]);
		integer("ttl", &v[TL_TTL], false);
		word("type", v[TL_IP].i == 6 ? "AAAA" : "A");
		close_object();
		close_array();
		open_array("resolved_ip");
		quoted(v[TL_RADDR].s, v[TL_RADDR].len, v[TL_RADDR].plain);
		close_array();
		close_object();
	}
	open_object("casefile");
	number("time_ns", v[EVENT_CLOCK].i);
	integer("boot_time_ns", &v[EVENT_TS_NS], false);
	key("capture");
	quoted(ev->cap->path, strlen(ev->cap->path), false);
	integer("cgroup", &v[EVENT_CGROUP], false);
	text("cgroup_path", &v[EVENT_CGROUP_PATH]);
	integer("mntns", &v[EVENT_MNTNS], false);
	integer("netns", &v[EVENT_NETNS], false);
	text("parents", &v[TL_WHO + LINEAGE_PARENTS]);
	text("outcome", &v[TL_OUTCOME]);
	integer("error", &v[TL_ERROR], false);
	integer("latency_ns", &v[TL_LATENCY], false);
	text("state", &v[TL_STATE]);
	text("reason", &v[TL_REASON]);
	text("capability", &v[TL_NAME]);
	text("verdict", &v[TL_VERDICT]);
	if (!v[TL_AUDIT].null)
		boolean("audit", v[TL_AUDIT].i);
	session_fields(v);
	text("closed_by", &v[TL_CLOSED_BY]);
	close_object();
	close_object();
}

/* --- Timesketch ------------------------------------------------------------------------- */

/* What the row's time is, in Timesketch's words. */
static const char *timestamp_desc(const struct value *v)
{
	static const struct {
		const char *kind, *desc;
	} descs[] = {
		{"connect", "Connect Time"},	      {"accept", "Accept Time"},
		{"reset", "Reset Sent Time"},	      {"unaccepted", "Connection Close Time"},
		{"capable", "Capability Check Time"}, {"exec", "Process Exec Time"},
		{"fork", "Process Fork Time"},	      {"exit", "Process Exit Time"},
		{"dns", "DNS Answer Time"},	      {"close", "Connection Close Time"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(descs); i++)
		if (is(v, descs[i].kind))
			return descs[i].desc;
	return "Event Time";
}

static void timesketch_row(const struct event *ev, const struct value *v)
{
	struct value message = v[TL_DETAIL];

	open_object(NULL);
	/* "connect: 10.0.0.1:4242 > 10.0.0.2:22 established (sshd/812)" */
	key("message");
	raw("\"", 1);
	raw(v[TL_EVENT].s, v[TL_EVENT].len);
	if (!message.null) {
		raw(": ", 2);
		ex.len += message.plain
				  ? (memcpy(room(message.len), message.s, message.len), message.len)
				  : render_json_text(message.s, message.len, room(6 * message.len));
	}
	if (!v[EVENT_PID].null) {
		char digits[24];

		raw(" (", 2);
		ex.len += render_json_text(v[EVENT_COMM].s, v[EVENT_COMM].len,
					   room(6 * v[EVENT_COMM].len));
		raw("/", 1);
		raw(digits, (size_t)(int_text(digits, v[EVENT_PID].i) - digits));
		raw(")", 1);
	}
	raw("\"", 1);
	timestamp("datetime", v[EVENT_CLOCK].i);
	number("timestamp", v[EVENT_CLOCK].i / 1000); /* microseconds, as Timesketch keeps them */
	word("timestamp_desc", timestamp_desc(v));
	key("data_type");
	raw("\"casefile:", 10);
	raw(v[TL_EVENT].s, v[TL_EVENT].len);
	raw("\"", 1);
	word("event", v[TL_EVENT].s);
	text("hostname", &v[EVENT_HOST]);
	key("capture");
	quoted(ev->cap->path, strlen(ev->cap->path), false);
	number("time_ns", v[EVENT_CLOCK].i);
	integer("pid", &v[EVENT_PID], false);
	integer("tid", &v[EVENT_TID], false);
	integer("ppid", &v[EVENT_PPID], false);
	integer("uid", &v[EVENT_UID], false);
	text("comm", &v[EVENT_COMM]);
	integer("nspid", &v[EVENT_NSPID], false);
	integer("netns", &v[EVENT_NETNS], false);
	text("cgroup_path", &v[EVENT_CGROUP_PATH]);
	text("exe", &v[TL_WHO + LINEAGE_EXE]);
	text("args", &v[TL_WHO + LINEAGE_ARGS]);
	text("parents", &v[TL_WHO + LINEAGE_PARENTS]);
	text("laddr", &v[TL_LADDR]);
	integer("lport", &v[TL_LPORT], false);
	text("raddr", &v[TL_RADDR]);
	integer("rport", &v[TL_RPORT], false);
	text("outcome", &v[TL_OUTCOME]);
	integer("error", &v[TL_ERROR], false);
	text("state", &v[TL_STATE]);
	text("reason", &v[TL_REASON]);
	text("capability", &v[TL_NAME]);
	text("verdict", &v[TL_VERDICT]);
	integer("exit_code", &v[TL_EXIT_CODE], false);
	text("query", &v[TL_QUERY]);
	integer("ttl", &v[TL_TTL], false);
	session_fields(v);
	integer("duration_ns", &v[TL_DURATION], false);
	integer("bytes_sent", &v[TL_BYTES_OUT], false);
	integer("bytes_received", &v[TL_BYTES_IN], false);
	text("closed_by", &v[TL_CLOSED_BY]);
	close_object();
}

/* --- The command ------------------------------------------------------------------------- */

static int export_row(const struct event *ev, const struct value *row, void *ctx)
{
	(void)ctx;
	ex.len = 0;
	ex.comma = false;
	if (ex.format == FORMAT_OCSF)
		ocsf_row(ev, row);
	else if (ex.format == FORMAT_ECS)
		ecs_row(ev, row);
	else
		timesketch_row(ev, row);
	output_line(ex.s, ex.len);
	return 0;
}

static int run(struct captures *set, const struct options *opts)
{
	int err;

	ex.format = opts->format < FORMAT_OCSF ? FORMAT_OCSF : opts->format; /* not given: OCSF */
	ex.local = opts->local;
	ex.choice.sink = export_row;
	output_begin(FORMAT_JSON, opts->local, NULL, 0);
	err = timeline_events(set, opts, &ex.choice);
	thresholds_free(&ex.logins);
	free(ex.s);
	ex.s = NULL;
	ex.size = 0;
	return err;
}

const struct command export_command = {
	.summary = "every event as JSON Lines for a SIEM: OCSF, ECS or Timesketch",
	.spec = {.name = "export",
		 .usage = usage,
		 .short_options = "vp:u:P:",
		 .long_options = long_options,
		 .accepts = ACCEPT_FILTERS | ACCEPT_ADDR | ACCEPT_EXPORT,
		 .own_option = own_option},
	.run = run,
	.state = &ex,
	.state_size = sizeof(ex),
};
