/*
 * report tcplife: TCP connections as they closed, as BCC's tcplife shows
 * them live: the process, both ends, the payload each way and how long the
 * connection lasted, with who closed it first and the state it closed from.
 *
 * A connection closed in softirq (most closes) has no process of its own:
 * it takes the process of its connect or accept, when the capture holds it
 * (read in the same pass, kept until the close).  The process filters apply
 * to that process, so they are tested here rather than in SQL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "events.h"
#include "hashmap.h"
#include "lineage.h"
#include "util.h"

enum {
	LIFE_IP = EVENT_FIELDS,
	LIFE_LADDR,
	LIFE_LPORT,
	LIFE_RADDR,
	LIFE_RPORT,
	LIFE_TX_KB,
	LIFE_RX_KB,
	LIFE_MS,
	LIFE_CLOSED_BY,
	LIFE_STATE,
	LIFE_TX_BYTES,
	LIFE_RX_BYTES,
	LIFE_ESTABLISHED,
	LIFE_SEGS_IN,
	LIFE_SEGS_OUT,
	LIFE_RETRANSMITS,
	LIFE_ERROR,
	LIFE_OPENED, /* connect, accept, or null: opened before the capture (or --since) */
	LIFE_LINEAGE,
	LIFE_FIELDS = LIFE_LINEAGE + LINEAGE_FIELDS
};

/* Each query's columns, as event.col numbers them. */
enum { OPEN_TASK, OPEN_LADDR, OPEN_LPORT, OPEN_RADDR, OPEN_RPORT };
enum {
	CLOSE_TASK,
	CLOSE_LADDR,
	CLOSE_LPORT,
	CLOSE_RADDR,
	CLOSE_RPORT,
	CLOSE_START,
	CLOSE_ESTABLISHED,
	CLOSE_SENT,
	CLOSE_RECEIVED,
	CLOSE_SEGS_IN,
	CLOSE_SEGS_OUT,
	CLOSE_RETRANSMITS,
	CLOSE_FROM,
	CLOSE_ERROR,
	CLOSE_BY
};

/* An open's value in the map: its task id, and how it opened in the low bit. */
#define OPENED_BY_ACCEPT 1

static struct {
	bool timestamp, clock, wide, csv, lineage;
	uint8_t lports[65536 / 8], rports[65536 / 8];
	bool has_lports, has_rports;
	struct options process; /* the process filters of the command line, tested here */
	struct hashmap opens;	/* the ends of a connection -> its opener */
	struct field fields[LIFE_FIELDS];
} tl;

static const char usage[] =
	"usage: report tcplife [-h] [-t] [-T] [-w] [-s] [-p PID] [-L LPORTS] [-D RPORTS]\n"
	"                      [-4 | -6] [-l] [common options] FILE...\n"
	"\n"
	"TCP connections as they closed, as tcplife(8) would have shown them live:\n"
	"PID COMM LADDR LPORT RADDR RPORT TX_KB RX_KB MS, then who closed first\n"
	"(CLOSED_BY: local FIN, remote FIN, local RST, remote RST) and the state it\n"
	"closed from (STATE).  TX_KB and RX_KB are the payload (no SYN or FIN), in KiB;\n"
	"MS, from established (or from the connect, for one never established; - when\n"
	"it was opened before the capture).  A close outside process context shows the\n"
	"process of its connect or accept, when the capture holds it.\n"
	"\n"
	"options:\n"
	"  -t, --timestamp  include a TIME(s) column: seconds since the first line shown\n"
	"  -T, --time       include a TIME column: the wall clock, HH:MM:SS.mmm\n"
	"  -w, --wide       wide columns (for IPv6 addresses)\n"
	"  -s, --csv        comma-separated values (as --format csv)\n"
	"  -p, --pid PID    only this process\n"
	"  -L, --localport PORTS   only these local ports (comma-separated)\n"
	"  -D, --remoteport PORTS  only these remote ports (comma-separated)\n"
	"  -4, --ipv4       only IPv4\n"
	"  -6, --ipv6       only IPv6\n"
	"\n"
	"JSON and CSV carry the bytes (tx_bytes, rx_bytes), duration_ns, segments,\n"
	"retransmits, the socket's error, and opened (connect, accept, or null).\n"
	"\n"
	"examples:\n"
	"    report tcplife case42.db\n"
	"    report tcplife -tw -D 443 case42.db\n"
	"    report tcplife -L 22 --format json case42.db\n";

static const struct option long_options[] = {
	{"timestamp", no_argument, NULL, 't'},
	{"time", no_argument, NULL, 'T'},
	{"wide", no_argument, NULL, 'w'},
	{"csv", no_argument, NULL, 's'},
	{"localport", required_argument, NULL, 'L'},
	{"remoteport", required_argument, NULL, 'D'},
	{NULL, 0, NULL, 0},
};

/* "22,80" into a set of ports: 0, or -1 after one line. */
static int parse_port_set(const char *option, const char *arg, uint8_t *set)
{
	char *list = xstrdup(arg), *item, *rest = list;
	int err = 0;

	while (!err && (item = strsep(&rest, ","))) {
		int64_t port;

		if (parse_integer(item, 1, 65535, &port))
			err = option_error("tcplife", "%s wants ports from 1 to 65535, not '%s'",
					   option, arg);
		else
			set[port / 8] |= (uint8_t)(1u << (port % 8));
	}
	free(list);
	return err;
}

static bool in_set(const uint8_t *set, int64_t port)
{
	return port >= 0 && port < 65536 && set[port / 8] >> (port % 8) & 1;
}

static int own_option(int option, const char *arg, void *ctx)
{
	(void)ctx;
	switch (option) {
	case 't':
		tl.timestamp = true;
		return 0;
	case 'T':
		tl.clock = true;
		return 0;
	case 'w':
		tl.wide = true;
		return 0;
	case 's':
		tl.csv = true;
		return 0;
	case 'L':
		tl.has_lports = true;
		return parse_port_set("-L", arg, tl.lports);
	case 'D':
		tl.has_rports = true;
		return parse_port_set("-D", arg, tl.rports);
	default:
		return 0;
	}
}

static int check(const struct options *opts)
{
	if (tl.csv && opts->format == FORMAT_JSON)
		return option_error(opts->command, "-s is --format csv: not with --format json");
	return 0;
}

static void key_of(const struct event *ev, int laddr, int raddr, int64_t lport, int64_t rport,
		   uint64_t *a, uint64_t *b)
{
	*a = (uint64_t)ev->col[laddr] << 32 | ((uint64_t)ev->col[raddr] & 0xffffffff);
	/* Address ids are a capture's own: the capture is part of the key. */
	*b = (uint64_t)(uintptr_t)ev->cap * 0x9e3779b97f4a7c15ULL ^
	     ((uint64_t)(lport & 0xffff) << 16 | (uint64_t)(rport & 0xffff));
}

static int remember(const struct event *ev, uint64_t how)
{
	uint64_t a, b;

	if (event_null(ev, OPEN_LPORT)) /* a connect still in flight: no port yet */
		return 0;
	key_of(ev, OPEN_LADDR, OPEN_RADDR, ev->col[OPEN_LPORT], ev->col[OPEN_RPORT], &a, &b);
	*hashmap_put(&tl.opens, a, b, NULL) = (uint64_t)ev->col[OPEN_TASK] << 1 | how;
	return 0;
}

static int on_connect(const struct event *ev, void *ctx)
{
	(void)ctx;
	return remember(ev, 0);
}

static int on_accept(const struct event *ev, void *ctx)
{
	(void)ctx;
	return remember(ev, OPENED_BY_ACCEPT);
}

static bool process_wanted(const struct task *task)
{
	const struct options *o = &tl.process;

	if (o->pid < 0 && o->uid < 0 && !o->comm && !o->has_cgroup && !o->has_mntns)
		return true;
	return task && (o->pid < 0 || task->pid == o->pid) && (o->uid < 0 || task->uid == o->uid) &&
	       (!o->comm ||
		(task->comm_len == o->comm_len && !memcmp(task->comm, o->comm, o->comm_len))) &&
	       (!o->has_cgroup || (uint64_t)task->cgroup == o->cgroup) &&
	       (!o->has_mntns || (uint64_t)task->mntns == o->mntns);
}

static void task_values(const struct task *task, struct value *v)
{
	v[EVENT_UID] = int_value(task->uid);
	v[EVENT_PID] = int_value(task->pid);
	v[EVENT_TID] = int_value(task->tid);
	v[EVENT_PPID] = int_value(task->ppid);
	v[EVENT_COMM] = checked_text_value(task->comm, task->comm_len, task->comm_plain);
	v[EVENT_CGROUP] = int_value(task->cgroup);
	v[EVENT_MNTNS] = int_value(task->mntns);
}

static const char *closed_by_name(int64_t code)
{
	static const char *const names[] = {NULL, "local FIN", "remote FIN", "local RST",
					    "remote RST"};

	return code >= 1 && code <= 4 ? names[code] : NULL;
}

static struct value word_or_null(const char *word)
{
	return word ? word_value(word) : null_value();
}

static int on_close(const struct event *ev, void *ctx)
{
	struct value v[LIFE_FIELDS];
	struct task task;
	struct address laddr, raddr;
	struct name state;
	uint64_t a, b, *open, opener = 0;
	bool has_task = !event_null(ev, CLOSE_TASK), has_start = !event_null(ev, CLOSE_START);
	int64_t lport = ev->col[CLOSE_LPORT], rport = ev->col[CLOSE_RPORT];

	(void)ctx;
	key_of(ev, CLOSE_LADDR, CLOSE_RADDR, lport, rport, &a, &b);
	if ((open = hashmap_find(&tl.opens, a, b))) {
		opener = *open;
		hashmap_remove(&tl.opens, a, b);
	}
	if ((tl.has_lports && !in_set(tl.lports, lport)) ||
	    (tl.has_rports && !in_set(tl.rports, rport)))
		return 0;
	if (event_values(ev, -1, NULL, v))
		return -1;
	/* Its own process, else its opener's. */
	if (has_task || opener) {
		if (capture_task(ev->cap, has_task ? ev->col[CLOSE_TASK] : (int64_t)(opener >> 1),
				 &task))
			return -1;
		task_values(&task, v);
	}
	if (!process_wanted(has_task || opener ? &task : NULL))
		return 0;
	if (capture_address(ev->cap, ev->col[CLOSE_LADDR], &laddr) ||
	    capture_address(ev->cap, ev->col[CLOSE_RADDR], &raddr) ||
	    capture_tcp_state(ev->cap, ev->col[CLOSE_FROM], &state) ||
	    lineage_values(ev->cap, tl.lineage && (has_task || opener) ? &task : NULL, ev->t,
			   &v[LIFE_LINEAGE]))
		return -1;
	v[LIFE_IP] = int_value(laddr.ip);
	v[LIFE_LADDR] = text_value(laddr.text, laddr.len);
	v[LIFE_LPORT] = int_value(lport);
	v[LIFE_RADDR] = text_value(raddr.text, raddr.len);
	v[LIFE_RPORT] = int_value(rport);
	v[LIFE_TX_KB] = int_value(ev->col[CLOSE_SENT] / 1024);
	v[LIFE_RX_KB] = int_value(ev->col[CLOSE_RECEIVED] / 1024);
	v[LIFE_MS] = has_start ? int_value(ev->t - ev->col[CLOSE_START]) : null_value();
	v[LIFE_CLOSED_BY] =
		word_or_null(event_null(ev, CLOSE_BY) ? NULL : closed_by_name(ev->col[CLOSE_BY]));
	v[LIFE_STATE] = state.found ? text_value(state.text, state.len) : null_value();
	v[LIFE_TX_BYTES] = int_value(ev->col[CLOSE_SENT]);
	v[LIFE_RX_BYTES] = int_value(ev->col[CLOSE_RECEIVED]);
	v[LIFE_ESTABLISHED] = int_value(ev->col[CLOSE_ESTABLISHED]);
	v[LIFE_SEGS_IN] = int_value(ev->col[CLOSE_SEGS_IN]);
	v[LIFE_SEGS_OUT] = int_value(ev->col[CLOSE_SEGS_OUT]);
	v[LIFE_RETRANSMITS] = int_value(ev->col[CLOSE_RETRANSMITS]);
	v[LIFE_ERROR] = int_value(ev->col[CLOSE_ERROR]);
	v[LIFE_OPENED] = word_or_null(!opener			  ? NULL
				      : opener & OPENED_BY_ACCEPT ? "accept"
								  : "connect");
	output_row(v);
	return 0;
}

static void set_fields(const struct captures *set, const struct options *opts)
{
	struct field *f = tl.fields;
	int address = tl.wide ? 39 : 15;

	event_fields(f, set);
	f[EVENT_ELAPSED].shown = tl.timestamp;
	f[EVENT_CLOCK].shown = tl.clock;
	f[EVENT_PID].width = 7;
	f[EVENT_COMM].width = tl.wide ? 16 : 10;
	f[LIFE_IP] = (struct field){NULL, "ip", 0, FIELD_INT, false};
	f[LIFE_LADDR] = (struct field){"LADDR", "laddr", address, FIELD_TEXT, true};
	f[LIFE_LPORT] = (struct field){"LPORT", "lport", 5, FIELD_INT, true};
	f[LIFE_RADDR] = (struct field){"RADDR", "raddr", address, FIELD_TEXT, true};
	f[LIFE_RPORT] = (struct field){"RPORT", "rport", 5, FIELD_INT, true};
	f[LIFE_TX_KB] = (struct field){"TX_KB", NULL, 5, FIELD_INT, true};
	f[LIFE_RX_KB] = (struct field){"RX_KB", NULL, 5, FIELD_INT, true};
	f[LIFE_MS] = (struct field){"MS", "duration_ns", 10, FIELD_MILLIS, true};
	f[LIFE_CLOSED_BY] = (struct field){"CLOSED_BY", "closed_by", 10, FIELD_TEXT, true};
	f[LIFE_STATE] = (struct field){"STATE", "closed_from", 0, FIELD_TEXT, true};
	f[LIFE_TX_BYTES] = (struct field){NULL, "tx_bytes", 0, FIELD_INT, false};
	f[LIFE_RX_BYTES] = (struct field){NULL, "rx_bytes", 0, FIELD_INT, false};
	f[LIFE_ESTABLISHED] = (struct field){NULL, "established", 0, FIELD_BOOL, false};
	f[LIFE_SEGS_IN] = (struct field){NULL, "segs_in", 0, FIELD_INT, false};
	f[LIFE_SEGS_OUT] = (struct field){NULL, "segs_out", 0, FIELD_INT, false};
	f[LIFE_RETRANSMITS] = (struct field){NULL, "retransmits", 0, FIELD_INT, false};
	f[LIFE_ERROR] = (struct field){NULL, "error", 0, FIELD_INT, false};
	f[LIFE_OPENED] = (struct field){NULL, "opened", 0, FIELD_TEXT, false};
	lineage_fields(&f[LIFE_LINEAGE], opts->lineage);
}

static int run(struct captures *set, const struct options *opts)
{
	/* The process filters are the opener's too: tested in on_close, not in SQL. */
	struct options unfiltered = *opts;
	struct filter_columns connect_filter = {.family = "e.daddr",
						.ends = {"e.saddr", "e.daddr"}},
			      filter = {.family = "e.raddr", .ends = {"e.laddr", "e.raddr"}};
	struct event_query queries[] = {
		{.table = "ev_connect",
		 .columns = "e.task, e.saddr, e.lport, e.daddr, e.dport",
		 .filter = connect_filter,
		 .emit = on_connect},
		{.table = "ev_accept",
		 .columns = "e.task, e.laddr, e.lport, e.raddr, e.rport",
		 .filter = filter,
		 .emit = on_accept},
		{.table = "ev_close",
		 .columns = "e.task, e.laddr, e.lport, e.raddr, e.rport, e.start_t, e.established, "
			    "e.bytes_sent, e.bytes_received, e.segs_in, e.segs_out, e.retransmits, "
			    "e.closed_from, e.error, e.closed_by",
		 .filter = filter,
		 .emit = on_close,
		 .address_columns = 1u << CLOSE_LADDR | 1u << CLOSE_RADDR},
	};
	int err;

	tl.process = *opts;
	unfiltered.pid = unfiltered.uid = -1;
	unfiltered.comm = NULL;
	unfiltered.has_cgroup = unfiltered.has_mntns = false;
	if (tl.csv)
		unfiltered.format = FORMAT_CSV;
	tl.lineage = opts->lineage;
	set_fields(set, opts);
	output_begin(unfiltered.format, opts->local, tl.fields, LIFE_FIELDS);
	err = replay(set, queries, 3, &unfiltered);
	hashmap_clear(&tl.opens);
	return err;
}

static const char *const kinds[] = {"close", NULL};

const struct command tcplife_command = {
	.summary = "TCP connections as they closed (BCC tcplife): bytes, duration, who closed",
	.spec = {.name = "tcplife",
		 .usage = usage,
		 .short_options = "tTwsp:L:D:46",
		 .long_options = long_options,
		 .accepts = ACCEPT_FILTERS | ACCEPT_ADDR | ACCEPT_LINEAGE,
		 .own_option = own_option},
	.kinds = kinds,
	.check = check,
	.run = run,
	.state = &tl,
	.state_size = sizeof(tl),
};
