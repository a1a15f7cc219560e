/* The timeline's event view: every event of every kind in time order, one line each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "dnsnames.h"
#include "endpoints.h"
#include "events.h"
#include "lineage.h"
#include "lives.h"
#include "logins.h"
#include "shells.h"
#include "timeline.h"
#include "util.h"

/* Each query's columns, as event.col numbers them. */
enum {
	CONNECT_TASK,
	CONNECT_SADDR,
	CONNECT_LPORT,
	CONNECT_DADDR,
	CONNECT_DPORT,
	CONNECT_STATE,
	CONNECT_ERROR,
	CONNECT_LATENCY
};
enum { ACCEPT_TASK, ACCEPT_LADDR, ACCEPT_LPORT, ACCEPT_RADDR, ACCEPT_RPORT };
enum {
	RESET_TASK,
	RESET_LADDR,
	RESET_LPORT,
	RESET_RADDR,
	RESET_RPORT,
	RESET_STATE,
	RESET_REASON,
	RESET_NETNS
};
enum {
	CLOSE_TASK,
	CLOSE_LADDR,
	CLOSE_LPORT,
	CLOSE_RADDR,
	CLOSE_RPORT,
	CLOSE_START,
	CLOSE_SENT,
	CLOSE_RECEIVED,
	CLOSE_BY,
	CLOSE_NETNS
};
enum { CAPABLE_TASK, CAPABLE_CAP, CAPABLE_RET, CAPABLE_AUDIT };
enum {
	PROCESS_PID,
	PROCESS_START,
	PROCESS_EXEC,
	PROCESS_PPID,
	PROCESS_UID,
	PROCESS_CGROUP,
	PROCESS_MNTNS,
	PROCESS_NETNS,
	PROCESS_NSPID
};
enum { EXIT_TASK, EXIT_CODE, EXIT_DELETED };
enum { DNS_ADDRESS, DNS_TTL };
enum {
	UNACCEPTED_LADDR,
	UNACCEPTED_LPORT,
	UNACCEPTED_RADDR,
	UNACCEPTED_RPORT,
	UNACCEPTED_STATE,
	UNACCEPTED_ERROR,
	UNACCEPTED_NETNS
};

#define DETAIL_MAX (4 * CAPTURE_TEXT_MAX + 128)

static struct {
	struct timeline_choice choice;
	bool table, lineage; /* table: DETAIL wanted */
	struct field fields[TL_FIELDS];
	struct dns_names *names;
	char *detail; /* exec: its path and command line, any length */
	size_t detail_size;
	struct thresholds default_logins; /* the default login services (report logins) */
	const struct thresholds *logins;  /* choice's, or the default */
	struct captures *set;
	struct peers *hosts; /* whose accounts snapshot names a login's user */
	struct {
		struct capture *cap;
		int64_t uid;
		bool named;
		char name[ACCOUNT_NAME_MAX + 1];
	} user; /* the last login's user: one lookup for a run of logins as one user */
	/*
	 * The per-accept login check, cheaper: the last accepting task and whether
	 * it is a login daemon (accepts come from a few listeners), and the last
	 * listener found with no session process born at or after some accept,
	 * which has none after any later accept either (a brute force's many).
	 */
	struct {
		const struct capture *cap;
		int64_t task;
		bool daemon;
	} listener;
	struct childless {
		const struct capture *cap;
		int64_t pid, start_ns, from_t;
	} childless;
} tl;

/* A number in decimal, at least `digits` of them: its end.  (printf costs more, per row.) */
static char *put_number(char *p, unsigned long long n, int digits)
{
	char reversed[24];
	int len = 0;

	do {
		reversed[len++] = (char)('0' + n % 10);
		n /= 10;
	} while (n || len < digits);
	while (len)
		*p++ = reversed[--len];
	return p;
}

/* --- The event view ----------------------------------------------------------------- */

/* A row to the output, or to the choice's sink. */
static int put_row(const struct event *ev, const struct value *v)
{
	if (tl.choice.sink)
		return tl.choice.sink(ev, v, tl.choice.sink_ctx);
	output_row(v);
	return 0;
}

/* The fields of every kind, null: each emitter sets its own. */
static void no_kind_fields(struct value *v)
{
	for (int i = TL_EVENT; i < TL_FIELDS; i++)
		v[i] = null_value();
}

/* With -l, the lineage of the event's task; else those fields stay null (no_kind_fields). */
static int who(const struct event *ev, int task_column, const struct task *task, struct value *v)
{
	return tl.lineage ? event_lineage(ev, task_column, task, true, &v[TL_WHO]) : 0;
}

/* A name from the capture's tables, else the number. */
static struct value named(int (*lookup)(struct capture *, int64_t, struct name *),
			  const struct event *ev, int column, struct name *name, int *err)
{
	if (event_null(ev, column))
		return null_value();
	if (lookup(ev->cap, ev->col[column], name)) {
		*err = -1;
		return null_value();
	}
	if (!name->found) {
		name->len = (size_t)snprintf(name->text, sizeof(name->text), "%lld",
					     (long long)ev->col[column]);
		name->plain = true;
	}
	return checked_text_value(name->text, name->len, name->plain);
}

/*
 * "LOCAL > REMOTE" (arrow '>' or '<'), then more words: into detail, returns
 * its end.  Plain when both addresses are (the rest is ours).
 */
static char *put_ends(char *p, const struct value *v, char arrow)
{
	p += put_endpoint(p, v[TL_LADDR].s, v[TL_LADDR].len,
			  v[TL_LPORT].null ? -1 : (long long)v[TL_LPORT].i);
	*p++ = ' ';
	*p++ = arrow;
	*p++ = ' ';
	return p + put_endpoint(p, v[TL_RADDR].s, v[TL_RADDR].len,
				v[TL_RPORT].null ? -1 : (long long)v[TL_RPORT].i);
}

static int emit_connect(const struct event *ev, void *ctx)
{
	struct value v[TL_FIELDS];
	struct task task;
	struct address s, d;
	char detail[DETAIL_MAX], *p;
	const char *outcome =
		connect_outcome(!event_null(ev, CONNECT_STATE), ev->col[CONNECT_STATE],
				event_null(ev, CONNECT_ERROR) ? -1 : ev->col[CONNECT_ERROR]);

	(void)ctx;
	no_kind_fields(v);
	if (event_values(ev, CONNECT_TASK, &task, v) || who(ev, CONNECT_TASK, &task, v) ||
	    event_address(ev, CONNECT_SADDR, &s, &v[TL_LADDR]) ||
	    event_address(ev, CONNECT_DADDR, &d, &v[TL_RADDR]))
		return -1;
	v[TL_EVENT] = word_value("connect");
	v[TL_IP] = int_value(d.ip);
	v[TL_LPORT] = column_value(ev, CONNECT_LPORT);
	v[TL_RPORT] = int_value(ev->col[CONNECT_DPORT]);
	v[TL_OUTCOME] = word_value(outcome);
	v[TL_ERROR] = column_value(ev, CONNECT_ERROR);
	v[TL_LATENCY] = column_value(ev, CONNECT_LATENCY);
	if (tl.table) {
		p = put_ends(detail, v, '>');
		p = stpcpy(stpcpy(p, " "), outcome ? outcome : "in flight");
		if (!v[TL_LATENCY].null && v[TL_LATENCY].i >= 0) {
			/* microseconds, as milliseconds with three decimals */
			unsigned long long us = ((unsigned long long)v[TL_LATENCY].i + 500) / 1000;

			*p++ = ' ';
			p = put_number(p, us / 1000, 1);
			*p++ = '.';
			p = stpcpy(put_number(p, us % 1000, 3), " ms");
		}
		v[TL_DETAIL] = checked_text_value(detail, (size_t)(p - detail), s.plain && d.plain);
	}
	return put_row(ev, v);
}

/* The name the capture's host gave a login's user (raw bytes), or NULL. */
static const char *login_user(struct capture *cap, int64_t uid)
{
	if (cap != tl.user.cap || uid != tl.user.uid) {
		tl.user.cap = cap;
		tl.user.uid = uid;
		/* Unreadable (said on stderr once per user) is unnamed, as the other commands have
		 * it. */
		tl.user.named = account_name(tl.set, tl.hosts, peers_host(tl.hosts, cap), uid,
					     tl.user.name) > 0;
	}
	return tl.user.named ? tl.user.name : NULL;
}

/* Whether the accept's task (read into *task) is a login daemon's. */
static bool daemon_accepted(const struct event *ev, const struct task *task)
{
	int64_t id = ev->col[ACCEPT_TASK];

	if (event_null(ev, ACCEPT_TASK))
		return false;
	if (tl.listener.cap != ev->cap || tl.listener.task != id) {
		tl.listener.cap = ev->cap;
		tl.listener.task = id;
		tl.listener.daemon = login_daemon(tl.logins, task);
	}
	return tl.listener.daemon;
}

/* The login session of the accept (logins.h): 0, or -1 after one line. */
static int login_at(const struct event *ev, const struct task *listener, struct login *s)
{
	if (tl.childless.cap == ev->cap && tl.childless.pid == listener->pid &&
	    tl.childless.start_ns == listener->start_ns && ev->t >= tl.childless.from_t) {
		*s = (struct login){.outcome = LOGIN_UNKNOWN, .uid = -1};
		return 0;
	}
	if (login_session(ev->cap, tl.logins, listener, ev->t, s))
		return -1;
	if (!s->pid) /* no process lives, or no child born at or after it */
		tl.childless =
			(struct childless){ev->cap, listener->pid, listener->start_ns, ev->t};
	return 0;
}

static int emit_accept(const struct event *ev, void *ctx)
{
	struct value v[TL_FIELDS];
	struct task task;
	struct address l, r;
	struct login s;
	char detail[DETAIL_MAX], *p;
	const char *user = NULL;

	(void)ctx;
	no_kind_fields(v);
	if (event_values(ev, ACCEPT_TASK, &task, v) ||
	    event_address(ev, ACCEPT_LADDR, &l, &v[TL_LADDR]) ||
	    event_address(ev, ACCEPT_RADDR, &r, &v[TL_RADDR]))
		return -1;
	v[TL_EVENT] = word_value("accept");
	v[TL_IP] = int_value(r.ip);
	v[TL_LPORT] = int_value(ev->col[ACCEPT_LPORT]);
	v[TL_RPORT] = int_value(ev->col[ACCEPT_RPORT]);
	if (daemon_accepted(ev, &task)) {
		if (login_at(ev, &task, &s))
			return -1;
		v[TL_LOGIN] = word_value(login_outcome_name(s.outcome));
		v[TL_LOGIN_UID] = s.uid < 0 ? null_value() : int_value(s.uid);
		user = s.uid < 0 ? NULL : login_user(ev->cap, s.uid);
		v[TL_LOGIN_USER] = user ? text_value(user, strlen(user)) : null_value();
		v[TL_SESSION] = s.pid ? int_value(s.pid) : null_value();
	}
	/* After the login's, whose lookups of images may take the place of the lineage's texts. */
	if (who(ev, ACCEPT_TASK, &task, v))
		return -1;
	if (tl.table) {
		p = put_ends(detail, v, '<');
		if (!v[TL_LOGIN].null)
			p = stpcpy(stpcpy(p, " login "), v[TL_LOGIN].s);
		if (user)
			p += sprintf(p, " %s (uid %lld)", user, (long long)s.uid);
		else if (!v[TL_LOGIN_UID].null)
			p += sprintf(p, " uid %lld", (long long)s.uid);
		if (!v[TL_SESSION].null)
			p += sprintf(p, ", session %lld", (long long)s.pid);
		/* a name is the capture's bytes: the output renders them */
		v[TL_DETAIL] = checked_text_value(detail, (size_t)(p - detail),
						  l.plain && r.plain && !user);
	}
	return put_row(ev, v);
}

static int emit_reset(const struct event *ev, void *ctx)
{
	struct value v[TL_FIELDS];
	struct task task;
	struct address l, r;
	struct name state, reason;
	char detail[DETAIL_MAX], *p;
	int err = 0;

	(void)ctx;
	no_kind_fields(v);
	if (event_values(ev, RESET_TASK, &task, v) || who(ev, RESET_TASK, &task, v) ||
	    event_address(ev, RESET_LADDR, &l, &v[TL_LADDR]) ||
	    event_address(ev, RESET_RADDR, &r, &v[TL_RADDR]))
		return -1;
	event_socket_netns(ev, RESET_NETNS, v);
	v[TL_EVENT] = word_value("reset");
	v[TL_IP] = l.ip ? int_value(l.ip) : r.ip ? int_value(r.ip) : null_value();
	v[TL_LPORT] = int_value(ev->col[RESET_LPORT]);
	v[TL_RPORT] = int_value(ev->col[RESET_RPORT]);
	v[TL_STATE] = named(capture_tcp_state, ev, RESET_STATE, &state, &err);
	v[TL_REASON] = named(capture_reset_reason, ev, RESET_REASON, &reason, &err);
	if (err)
		return -1;
	if (tl.table) {
		p = put_ends(detail, v, '>');
		if (!v[TL_REASON].null)
			p = (char *)memcpy(stpcpy(p, " "), reason.text, reason.len) + reason.len;
		if (v[TL_STATE].null) {
			p = stpcpy(p, " (no socket)");
		} else {
			p = stpcpy(p, " (");
			p = (char *)memcpy(p, state.text, state.len) + state.len;
			p = stpcpy(p, ")");
		}
		v[TL_DETAIL] = checked_text_value(detail, (size_t)(p - detail),
						  l.plain && r.plain &&
							  (v[TL_REASON].null || reason.plain) &&
							  (v[TL_STATE].null || state.plain));
	}
	return put_row(ev, v);
}

/* A connection's close: for a sink (report export) only, the timeline leaves lives to tcplife. */
static int emit_close(const struct event *ev, void *ctx)
{
	struct value v[TL_FIELDS];
	struct task task;
	struct address l, r;
	const char *by = event_null(ev, CLOSE_BY) ? NULL : life_closed_by_name(ev->col[CLOSE_BY]);
	char detail[DETAIL_MAX], *p;

	(void)ctx;
	no_kind_fields(v);
	if (event_values(ev, CLOSE_TASK, &task, v) || who(ev, CLOSE_TASK, &task, v) ||
	    event_address(ev, CLOSE_LADDR, &l, &v[TL_LADDR]) ||
	    event_address(ev, CLOSE_RADDR, &r, &v[TL_RADDR]))
		return -1;
	event_socket_netns(ev, CLOSE_NETNS, v);
	v[TL_EVENT] = word_value("close");
	v[TL_IP] = int_value(r.ip);
	v[TL_LPORT] = int_value(ev->col[CLOSE_LPORT]);
	v[TL_RPORT] = int_value(ev->col[CLOSE_RPORT]);
	v[TL_DURATION] = event_null(ev, CLOSE_START) ? null_value()
						     : int_value(ev->t - ev->col[CLOSE_START]);
	v[TL_BYTES_OUT] = int_value(ev->col[CLOSE_SENT]);
	v[TL_BYTES_IN] = int_value(ev->col[CLOSE_RECEIVED]);
	v[TL_CLOSED_BY] = by ? word_value(by) : null_value();
	p = put_ends(detail, v, '>');
	p += sprintf(p, " sent %lld received %lld", (long long)ev->col[CLOSE_SENT],
		     (long long)ev->col[CLOSE_RECEIVED]);
	if (!v[TL_DURATION].null)
		p += sprintf(p, " after %lld ms", (long long)(v[TL_DURATION].i / 1000000));
	if (by)
		p += sprintf(p, " (%s)", by);
	v[TL_DETAIL] = checked_text_value(detail, (size_t)(p - detail), l.plain && r.plain);
	return put_row(ev, v);
}

static int emit_capable(const struct event *ev, void *ctx)
{
	struct value v[TL_FIELDS];
	struct task task;
	struct name name;
	char detail[DETAIL_MAX], *p;
	bool denied = ev->col[CAPABLE_RET] != 0;

	(void)ctx;
	no_kind_fields(v);
	if (event_values(ev, CAPABLE_TASK, &task, v) || who(ev, CAPABLE_TASK, &task, v) ||
	    capture_cap_name(ev->cap, ev->col[CAPABLE_CAP], &name))
		return -1;
	if (!name.found) {
		name.len = (size_t)snprintf(name.text, sizeof(name.text), "CAP_%lld",
					    (long long)ev->col[CAPABLE_CAP]);
		name.plain = true;
	}
	v[TL_EVENT] = word_value("capable");
	v[TL_CAP] = int_value(ev->col[CAPABLE_CAP]);
	v[TL_NAME] = checked_text_value(name.text, name.len, name.plain);
	v[TL_VERDICT] = word_value(denied ? "deny" : "allow");
	v[TL_AUDIT] = event_null(ev, CAPABLE_AUDIT) ? null_value()
						    : int_value(ev->col[CAPABLE_AUDIT] != 0);
	if (tl.table) {
		p = (char *)memcpy(detail, name.text, name.len) + name.len;
		/* Each a literal, copied without a call. */
		p = denied ? stpcpy(p, " deny") : stpcpy(p, " allow");
		p = v[TL_AUDIT].null ? stpcpy(p, " audit -")
		    : v[TL_AUDIT].i  ? stpcpy(p, " audit")
				     : stpcpy(p, " no audit");
		v[TL_DETAIL] = checked_text_value(detail, (size_t)(p - detail), name.plain);
	}
	return put_row(ev, v);
}

/* Room for n more bytes of detail after p: p again, moved if the detail grew. */
static char *detail_room(char *p, size_t n)
{
	size_t used = tl.detail ? (size_t)(p - tl.detail) : 0;

	if (used + n > tl.detail_size) {
		tl.detail_size = 2 * (used + n);
		tl.detail = xrealloc(tl.detail, tl.detail_size);
	}
	return tl.detail + used;
}

/* The first of an image's parents, "sh(7472)", or "?" */
static size_t first_parent(const struct image *im)
{
	const char *end = memmem(im->parents, im->parents_len, " < ", 3);

	return end ? (size_t)(end - im->parents) : im->parents_len;
}

/* "  [shell on TCP 10.0.0.1:4444 < 10.0.0.2:22]" after an exec's line, at out. */
static int shell_connection(struct capture *cap, const int64_t tcp[4], const struct relay *relay,
			    char *out, char **end)
{
	char through[CAPTURE_TEXT_MAX + 64] = "";
	struct address l, r;

	if (capture_address(cap, tcp[0], &l) || capture_address(cap, tcp[2], &r))
		return -1;
	if (relay) {
		through[0] = ',';
		through[1] = ' ';
		relay_text(relay, through + 2, sizeof(through) - 2);
	}
	*end = out + sprintf(out, "  [shell on TCP %s%.*s%s:%lld < %s%.*s%s:%lld%s]",
			     l.ip == 6 ? "[" : "", (int)l.len, l.text, l.ip == 6 ? "]" : "",
			     (long long)tcp[1], r.ip == 6 ? "[" : "", (int)r.len, r.text,
			     r.ip == 6 ? "]" : "", (long long)tcp[3], through);
	return 0;
}

/* An exec or a fork: the task is the process row's own (it has no task row). */
static int emit_process(const struct event *ev, void *ctx)
{
	struct value v[TL_FIELDS];
	struct task task = {0};
	struct relay relay;
	const struct image *im;
	const struct relay *through = NULL; /* a network shell's relay */
	int64_t shell_tcp[4];		    /* a network shell's connection */
	bool exec = ev->col[PROCESS_EXEC] != 0;
	int found;
	char *p;

	(void)ctx;
	no_kind_fields(v);
	task.pid = ev->col[PROCESS_PID];
	task.start_ns = ev->col[PROCESS_START];
	found = lineage_image(ev->cap, task.pid, task.start_ns, ev->t, &im);
	if (found < 0 || event_values(ev, -1, NULL, v))
		return -1;
	v[EVENT_UID] = column_value(ev, PROCESS_UID);
	v[EVENT_PID] = int_value(task.pid);
	v[EVENT_PPID] = column_value(ev, PROCESS_PPID);
	v[EVENT_CGROUP] = column_value(ev, PROCESS_CGROUP);
	v[EVENT_MNTNS] = column_value(ev, PROCESS_MNTNS);
	v[EVENT_NETNS] = column_value(ev, PROCESS_NETNS);
	v[EVENT_NSPID] = column_value(ev, PROCESS_NSPID);
	task.cgroup = ev->col[PROCESS_CGROUP];
	if (!event_null(ev, PROCESS_CGROUP) &&
	    task_cgroup_value(ev->cap, &task, &v[EVENT_CGROUP_PATH]))
		return -1;
	v[TL_EVENT] = word_value(exec ? "exec" : "fork");
	if (exec && found) {
		static const char *const streams[] = {
			[IMAGE_STREAM_CLOSED] = "closed", [IMAGE_STREAM_TTY] = "tty",
			[IMAGE_STREAM_PIPE] = "pipe",	  [IMAGE_STREAM_FILE] = "file",
			[IMAGE_STREAM_DEVICE] = "device", [IMAGE_STREAM_UNIX] = "unix",
			[IMAGE_STREAM_TCP] = "tcp",	  [IMAGE_STREAM_SOCKET] = "socket",
			[IMAGE_STREAM_OTHER] = "other",
		};

		for (int i = 0; i < 3; i++)
			v[TL_STDIN + i] = word_value(streams[im->streams[i]]);
		if (shell_on_tcp(im)) {
			v[TL_SHELL] = word_value("netshell");
			memcpy(shell_tcp, im->tcp, sizeof(shell_tcp));
		} else {
			int relayed = relay_of(ev->cap, tl.logins, im, &relay);

			if (relayed < 0)
				return -1;
			if (relayed && relay.how == RELAY_ACCEPTED) {
				v[TL_SHELL] = word_value("bindshell");
			} else if (relayed) {
				v[TL_SHELL] = word_value("netshell");
				memcpy(shell_tcp, relay.tcp, sizeof(shell_tcp));
				through = &relay;
			}
		}
	}
	/*
	 * The image and the lineage's texts last: relay_of's lookups of other
	 * images may have taken their place.
	 */
	if ((found && lineage_image(ev->cap, task.pid, task.start_ns, ev->t, &im) <= 0) ||
	    lineage_values(ev->cap, &task, ev->t, &v[TL_WHO]))
		return -1;
	if (found)
		v[EVENT_COMM] = text_value(im->comm, im->comm_len);
	if (tl.table && found) {
		size_t parent = first_parent(im);

		p = detail_room(tl.detail, im->exe_marked_len + im->args_len + parent + 16 +
						   3 * CAPTURE_TEXT_MAX + 128);
		if (exec) {
			p = (char *)memcpy(p, im->exe_marked, im->exe_marked_len) +
			    im->exe_marked_len;
			p = stpcpy(p, ": ");
			p = (char *)memcpy(p, im->args, im->args_len) + im->args_len;
			if (!v[TL_SHELL].null && v[TL_SHELL].s[0] == 'n' &&
			    shell_connection(ev->cap, shell_tcp, through, p, &p))
				return -1;
			if (!v[TL_SHELL].null && v[TL_SHELL].s[0] == 'b')
				p += sprintf(p, "  [shell for a connection %.*s/%lld accepted]",
					     (int)relay.by.comm_len, relay.by.comm,
					     (long long)relay.by.pid);
		} else {
			p = stpcpy(p, "child of ");
			p = (char *)memcpy(p, im->parents, parent) + parent;
		}
		v[TL_DETAIL] = text_value(tl.detail, (size_t)(p - tl.detail));
	}
	return put_row(ev, v);
}

static int emit_exit(const struct event *ev, void *ctx)
{
	struct value v[TL_FIELDS];
	struct task task;
	char detail[DETAIL_MAX], *p = detail;
	int64_t code = ev->col[EXIT_CODE];

	(void)ctx;
	no_kind_fields(v);
	if (event_values(ev, EXIT_TASK, &task, v) || who(ev, EXIT_TASK, &task, v))
		return -1;
	v[TL_EVENT] = word_value("exit");
	v[TL_EXIT_CODE] = int_value(code);
	if (!event_null(ev, EXIT_DELETED))
		v[TL_WHO + LINEAGE_DELETED] = int_value(ev->col[EXIT_DELETED] != 0);
	if (tl.table) {
		/* As wait() reports it: the signal in the low 7 bits, else the status above. */
		if (code & 0x7f)
			p += snprintf(p, 32, "killed by signal %lld", (long long)(code & 0x7f));
		else
			p += snprintf(p, 32, "exit %lld", (long long)((code >> 8) & 0xff));
		if (!event_null(ev, EXIT_DELETED) && ev->col[EXIT_DELETED])
			p = stpcpy(p, " (executable deleted)");
		v[TL_DETAIL] = checked_text_value(detail, (size_t)(p - detail), true);
	}
	return put_row(ev, v);
}

static int emit_dns(const struct event *ev, void *ctx)
{
	struct value v[TL_FIELDS];
	struct address a;
	const char *name;
	size_t len;
	char *p;

	(void)ctx;
	no_kind_fields(v);
	if (event_values(ev, -1, NULL, v) || event_address(ev, DNS_ADDRESS, &a, &v[TL_RADDR]) ||
	    dns_answer_name(tl.names, ev, &name, &len))
		return -1;
	v[TL_EVENT] = word_value("dns");
	v[TL_IP] = int_value(a.ip);
	v[TL_QUERY] = text_value(name, len);
	v[TL_TTL] = int_value(ev->col[DNS_TTL]);
	if (tl.table) {
		p = detail_room(tl.detail, len + a.len + 48);
		p = (char *)memcpy(p, name, len) + len;
		p = stpcpy(p, a.ip == 6 ? " AAAA " : " A ");
		p = (char *)memcpy(p, a.text, a.len) + a.len;
		p += sprintf(p, " ttl %lld", (long long)ev->col[DNS_TTL]);
		v[TL_DETAIL] = text_value(tl.detail, (size_t)(p - tl.detail));
	}
	return put_row(ev, v);
}

static int emit_unaccepted(const struct event *ev, void *ctx)
{
	struct value v[TL_FIELDS];
	struct address l, r;
	struct name state;
	char detail[DETAIL_MAX], *p;
	int err = 0;

	(void)ctx;
	no_kind_fields(v);
	if (event_values(ev, -1, NULL, v) ||
	    event_address(ev, UNACCEPTED_LADDR, &l, &v[TL_LADDR]) ||
	    event_address(ev, UNACCEPTED_RADDR, &r, &v[TL_RADDR]))
		return -1;
	event_socket_netns(ev, UNACCEPTED_NETNS, v);
	v[TL_EVENT] = word_value("unaccepted");
	v[TL_IP] = int_value(r.ip);
	v[TL_LPORT] = int_value(ev->col[UNACCEPTED_LPORT]);
	v[TL_RPORT] = int_value(ev->col[UNACCEPTED_RPORT]);
	v[TL_STATE] = named(capture_tcp_state, ev, UNACCEPTED_STATE, &state, &err);
	v[TL_ERROR] = int_value(ev->col[UNACCEPTED_ERROR]);
	if (err)
		return -1;
	if (tl.table) {
		p = put_ends(detail, v, '<');
		p = stpcpy(p, " closed before accept, from ");
		p = (char *)memcpy(p, state.text, state.len) + state.len;
		if (ev->col[UNACCEPTED_ERROR] == 104)
			p = stpcpy(p, " (reset)");
		v[TL_DETAIL] =
			checked_text_value(detail, (size_t)(p - detail),
					   l.plain && r.plain && (v[TL_STATE].null || state.plain));
	}
	return put_row(ev, v);
}

static void set_fields(const struct captures *set)
{
	struct field *f = tl.fields;

	timeline_event_fields(f, set);
	f[TL_EVENT] = (struct field){"EVENT", "event", 7, FIELD_TEXT, true};
	f[TL_DETAIL] = (struct field){"DETAIL", NULL, 0, FIELD_TEXT, true};
	f[TL_IP] = (struct field){NULL, "ip", 0, FIELD_INT, false};
	f[TL_LADDR] = (struct field){NULL, "laddr", 0, FIELD_TEXT, false};
	f[TL_LPORT] = (struct field){NULL, "lport", 0, FIELD_INT, false};
	f[TL_RADDR] = (struct field){NULL, "raddr", 0, FIELD_TEXT, false};
	f[TL_RPORT] = (struct field){NULL, "rport", 0, FIELD_INT, false};
	f[TL_OUTCOME] = (struct field){NULL, "outcome", 0, FIELD_TEXT, false};
	f[TL_ERROR] = (struct field){NULL, "error", 0, FIELD_INT, false};
	f[TL_LATENCY] = (struct field){NULL, "latency_ns", 0, FIELD_INT, false};
	f[TL_STATE] = (struct field){NULL, "state", 0, FIELD_TEXT, false};
	f[TL_REASON] = (struct field){NULL, "reason", 0, FIELD_TEXT, false};
	f[TL_CAP] = (struct field){NULL, "cap", 0, FIELD_INT, false};
	f[TL_NAME] = (struct field){NULL, "name", 0, FIELD_TEXT, false};
	f[TL_VERDICT] = (struct field){NULL, "verdict", 0, FIELD_TEXT, false};
	f[TL_AUDIT] = (struct field){NULL, "audit", 0, FIELD_BOOL, false};
	f[TL_EXIT_CODE] = (struct field){NULL, "exit_code", 0, FIELD_INT, false};
	f[TL_QUERY] = (struct field){NULL, "query", 0, FIELD_TEXT, false};
	f[TL_TTL] = (struct field){NULL, "ttl", 0, FIELD_INT, false};
	f[TL_LOGIN] = (struct field){NULL, "login", 0, FIELD_TEXT, false};
	f[TL_LOGIN_UID] = (struct field){NULL, "login_uid", 0, FIELD_INT, false};
	f[TL_LOGIN_USER] = (struct field){NULL, "login_user", 0, FIELD_TEXT, false};
	f[TL_SESSION] = (struct field){NULL, "session_pid", 0, FIELD_INT, false};
	f[TL_STDIN] = (struct field){NULL, "stdin", 0, FIELD_TEXT, false};
	f[TL_STDOUT] = (struct field){NULL, "stdout", 0, FIELD_TEXT, false};
	f[TL_STDERR] = (struct field){NULL, "stderr", 0, FIELD_TEXT, false};
	f[TL_SHELL] = (struct field){NULL, "shell", 0, FIELD_TEXT, false};
	/* exe and the rest in JSON and CSV for process events; EXE and PARENTS with -l */
	event_where_fields(f, tl.lineage && !tl.choice.sink);
	lineage_fields(&f[TL_WHO], true);
	f[TL_WHO + LINEAGE_EXE_MARKED].shown = tl.lineage;
	f[TL_WHO + LINEAGE_PARENTS].shown = tl.lineage;
	lineage_fit(TL_WHO);
}

/*
 * Whether a filter on processes was given: events of no process (DNS
 * answers...) are left out; of --netns, those with no namespace.
 */
static bool process_filters(const struct options *opts)
{
	return opts->pid >= 0 || opts->uid >= 0 || opts->comm || opts->has_cgroup ||
	       opts->has_mntns || opts->ppid >= 0;
}

int timeline_process(struct captures *set, const struct options *opts)
{
	static const struct timeline_choice none;

	return timeline_events(set, opts, &none);
}

/* What a kind's rows hold that filters select on. */
enum {
	HAS_TASK = 1,	 /* a process: -p, -u, --comm, --cgroup, --mntns (and --netns) */
	HAS_ADDRESS = 2, /* --addr (and -P if also HAS_PORT) */
	HAS_PORT = 4,	 /* -P */
	FOR_SINK = 8,	 /* a sink's alone (report export): closes, which tcplife shows */
	HAS_NETNS = 16,	 /* a socket's network namespace: --netns without a process */
};

int timeline_events(struct captures *set, const struct options *opts,
		    const struct timeline_choice *choice)
{
	static const char *connect_ports[2] = {"e.lport", "e.dport"},
			  *other_ports[2] = {"e.lport", "e.rport"};
	char *connect_condition = ports_condition(opts, connect_ports);
	char *other_condition = ports_condition(opts, other_ports);
	struct filter_columns connect_filter = {.task = "e.task", .ends = {"e.saddr", "e.daddr"}},
			      filter = {.task = "e.task", .ends = {"e.laddr", "e.raddr"}},
			      socket_filter = {.task = "e.task",
					       .ends = {"e.laddr", "e.raddr"},
					       .netns = "e.netns"};
	bool ends = opts->addr.given || opts->ports, others = !process_filters(opts);

	tl.choice = *choice;

	struct {
		unsigned has;
		struct event_query query;
	} kinds[] = {
		{HAS_TASK | HAS_ADDRESS | HAS_PORT,
		 {.table = "ev_connect",
		  .columns =
			  "e.task, e.saddr, e.lport, e.daddr, e.dport, e.outcome_state, e.error, "
			  "e.latency_ns",
		  .condition = connect_condition,
		  .filter = connect_filter,
		  .emit = emit_connect,
		  .address_columns = 1u << CONNECT_SADDR | 1u << CONNECT_DADDR}},
		{HAS_TASK | HAS_ADDRESS | HAS_PORT,
		 {.table = "ev_accept",
		  .columns = "e.task, e.laddr, e.lport, e.raddr, e.rport",
		  .condition = other_condition,
		  .filter = filter,
		  .emit = emit_accept,
		  .address_columns = 1u << ACCEPT_LADDR | 1u << ACCEPT_RADDR}},
		{HAS_TASK | HAS_ADDRESS | HAS_PORT | HAS_NETNS,
		 {.table = "ev_reset",
		  .columns =
			  "e.task, e.laddr, e.lport, e.raddr, e.rport, e.state, e.reason, e.netns",
		  .newer_column = "netns",
		  .older_columns =
			  "e.task, e.laddr, e.lport, e.raddr, e.rport, e.state, e.reason, NULL",
		  .condition = other_condition,
		  .filter = socket_filter,
		  .emit = emit_reset,
		  .address_columns = 1u << RESET_LADDR | 1u << RESET_RADDR}},
		{HAS_ADDRESS | HAS_PORT | HAS_NETNS,
		 {.table = "ev_unaccepted",
		  .columns = "e.laddr, e.lport, e.raddr, e.rport, e.closed_from, e.error, e.netns",
		  .newer_column = "netns",
		  .older_columns =
			  "e.laddr, e.lport, e.raddr, e.rport, e.closed_from, e.error, NULL",
		  .condition = other_condition,
		  .filter = {.ends = {"e.laddr", "e.raddr"}, .netns = "e.netns"},
		  .emit = emit_unaccepted,
		  .address_columns = 1u << UNACCEPTED_LADDR | 1u << UNACCEPTED_RADDR,
		  .optional = true}},
		{HAS_TASK | HAS_ADDRESS | HAS_PORT | FOR_SINK | HAS_NETNS,
		 {.table = "ev_close",
		  .columns = "e.task, e.laddr, e.lport, e.raddr, e.rport, e.start_t, e.bytes_sent, "
			     "e.bytes_received, e.closed_by, e.netns",
		  .newer_column = "netns",
		  .older_columns = "e.task, e.laddr, e.lport, e.raddr, e.rport, e.start_t, "
				   "e.bytes_sent, e.bytes_received, e.closed_by, NULL",
		  .condition = other_condition,
		  .filter = socket_filter,
		  .emit = emit_close,
		  .address_columns = 1u << CLOSE_LADDR | 1u << CLOSE_RADDR,
		  .optional = true}},
		/* An answer has an address but no port. */
		{HAS_ADDRESS,
		 {.table = "dns",
		  .columns = "e.address, e.ttl",
		  .filter = {.ends = {"e.address"}},
		  .emit = emit_dns,
		  .optional = true,
		  .names_rows = true}},
		/* The rest have no ends: none when --addr or -P selects ends. */
		{HAS_TASK,
		 {.table = "process",
		  .columns = "e.pid, e.start_ns, e.how = 'exec', e.ppid, e.uid, e.cgroup, e.mntns, "
			     "e.netns, e.nspid",
		  .newer_column = "netns",
		  .older_columns = "e.pid, e.start_ns, e.how = 'exec', e.ppid, e.uid, e.cgroup, "
				   "e.mntns, NULL, "
				   "NULL",
		  .condition = "e.how != 'running'", /* a snapshot, not an event */
		  .emit = emit_process,
		  .optional = true}},
		{HAS_TASK,
		 {.table = "ev_exit",
		  .columns = "e.task, e.exit_code, e.exe_deleted",
		  .filter = filter,
		  .emit = emit_exit,
		  .optional = true}},
		{HAS_TASK,
		 {.table = "ev_capable",
		  .columns = "e.task, e.cap, e.ret, e.audit",
		  .condition = tl.choice.verbose ? NULL : "e.audit IS NOT 0",
		  .filter = filter,
		  .emit = emit_capable}},
	};
	struct event_query chosen[ARRAY_SIZE(kinds)];
	int n = 0, err;

	/*
	 * Without a process filter, the kinds of no process too (but DNS answers
	 * under --netns); --addr and -P, their ends only.
	 */
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if ((kinds[i].has & HAS_TASK || others) &&
		    (!opts->has_netns || kinds[i].has & (HAS_TASK | HAS_NETNS)) &&
		    (!ends || kinds[i].has & HAS_ADDRESS) &&
		    (!opts->ports || kinds[i].has & HAS_PORT) &&
		    (tl.choice.sink || !(kinds[i].has & FOR_SINK)))
			chosen[n++] = kinds[i].query;
	tl.table = opts->format == FORMAT_TABLE || tl.choice.sink;
	tl.lineage = opts->lineage || tl.choice.sink;
	set_fields(set);
	thresholds_ready(&tl.default_logins);
	tl.logins = tl.choice.logins ? tl.choice.logins : &tl.default_logins;
	tl.names = dns_names_new(set);
	tl.set = set;
	tl.hosts = peers_new(set);
	if (!tl.choice.sink)
		output_begin(opts->format, opts->local, tl.fields, TL_FIELDS);
	err = replay(set, chosen, n, opts);
	dns_names_free(tl.names);
	peers_free(tl.hosts);
	tl.user.cap = NULL;
	free(tl.detail);
	tl.detail = NULL;
	tl.detail_size = 0;
	thresholds_free(&tl.default_logins);
	tl.default_logins.ready = false;
	tl.logins = NULL;
	tl.listener.cap = NULL;
	tl.childless.cap = NULL;
	free(connect_condition);
	free(other_condition);
	return err;
}
