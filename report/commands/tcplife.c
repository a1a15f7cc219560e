/*
 * report tcplife: TCP connections as they closed, as BCC's tcplife shows
 * them live: the process (its own, or its opening's: lives.h), both ends,
 * the payload each way and how long the connection lasted, with who closed
 * it first and the state it closed from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "events.h"
#include "lineage.h"
#include "lives.h"
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

static struct {
	bool timestamp, clock, wide, csv, lineage;
	bool counters; /* JSON and CSV show them, a table does not: read for those only */
	uint8_t lports[65536 / 8], rports[65536 / 8];
	bool has_lports, has_rports;
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

static void task_values(const struct task *task, struct value *v)
{
	v[EVENT_UID] = int_value(task->uid);
	v[EVENT_PID] = int_value(task->pid);
	v[EVENT_TID] = int_value(task->tid);
	v[EVENT_PPID] = int_value(task->ppid);
	v[EVENT_COMM] = checked_text_value(task->comm, task->comm_len, task->comm_plain);
	v[EVENT_CGROUP] = int_value(task->cgroup);
	v[EVENT_MNTNS] = int_value(task->mntns);
	v[EVENT_NSPID] = task->nspid < 0 ? null_value() : int_value(task->nspid);
}

static struct value word_or_null(const char *word)
{
	return word ? word_value(word) : null_value();
}

static int print_life(const struct event *ev, const struct task *task, int64_t task_id,
		      enum life_opening opened, void *ctx)
{
	struct value v[LIFE_FIELDS];
	struct address laddr, raddr;
	struct name state;
	int64_t lport = ev->col[LIVES_LPORT], rport = ev->col[LIVES_RPORT];

	(void)task_id;
	(void)ctx;
	if ((tl.has_lports && !in_set(tl.lports, lport)) ||
	    (tl.has_rports && !in_set(tl.rports, rport)))
		return 0;
	if (event_values(ev, -1, NULL, v))
		return -1;
	if (task)
		task_values(task, v);
	event_socket_netns(ev, LIVES_NETNS, v);
	if (task && task_cgroup_value(ev->cap, task, &v[EVENT_CGROUP_PATH]))
		return -1;
	if (capture_address(ev->cap, ev->col[LIVES_LADDR], &laddr) ||
	    capture_address(ev->cap, ev->col[LIVES_RADDR], &raddr) ||
	    capture_tcp_state(ev->cap, ev->col[LIVES_FROM], &state) ||
	    lineage_values(ev->cap, tl.lineage ? task : NULL, ev->t, &v[LIFE_LINEAGE]))
		return -1;
	v[LIFE_IP] = int_value(laddr.ip);
	v[LIFE_LADDR] = text_value(laddr.text, laddr.len);
	v[LIFE_LPORT] = int_value(lport);
	v[LIFE_RADDR] = text_value(raddr.text, raddr.len);
	v[LIFE_RPORT] = int_value(rport);
	v[LIFE_TX_KB] = int_value(ev->col[LIVES_SENT] / 1024);
	v[LIFE_RX_KB] = int_value(ev->col[LIVES_RECEIVED] / 1024);
	v[LIFE_MS] = event_null(ev, LIVES_START) ? null_value()
						 : int_value(ev->t - ev->col[LIVES_START]);
	v[LIFE_CLOSED_BY] = word_or_null(
		event_null(ev, LIVES_BY) ? NULL : life_closed_by_name(ev->col[LIVES_BY]));
	v[LIFE_STATE] = state.found ? text_value(state.text, state.len) : null_value();
	v[LIFE_TX_BYTES] = int_value(ev->col[LIVES_SENT]);
	v[LIFE_RX_BYTES] = int_value(ev->col[LIVES_RECEIVED]);
	if (tl.counters) {
		v[LIFE_ESTABLISHED] = int_value(ev->col[LIVES_ESTABLISHED]);
		v[LIFE_SEGS_IN] = int_value(ev->col[LIVES_SEGS_IN]);
		v[LIFE_SEGS_OUT] = int_value(ev->col[LIVES_SEGS_OUT]);
		v[LIFE_RETRANSMITS] = int_value(ev->col[LIVES_RETRANSMITS]);
		v[LIFE_ERROR] = int_value(ev->col[LIVES_ERROR]);
	} else {
		for (int i = LIFE_ESTABLISHED; i <= LIFE_ERROR; i++)
			v[i] = null_value();
	}
	v[LIFE_OPENED] = word_or_null(life_opening_name(opened));
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
	event_where_fields(f, opts->lineage);
	lineage_fields(&f[LIFE_LINEAGE], opts->lineage);
}

static int run(struct captures *set, const struct options *opts)
{
	tl.lineage = opts->lineage;
	tl.counters = tl.csv || opts->format != FORMAT_TABLE;
	set_fields(set, opts);
	output_begin(tl.csv ? FORMAT_CSV : opts->format, opts->local, tl.fields, LIFE_FIELDS);
	/*
	 * To fit a terminal: the state closed from, the KB received, then sent,
	 * the local port; then (-w's 39-column addresses) who closed, our own
	 * address, the duration.
	 */
	output_column_fit(LIFE_STATE, 0, 1);
	output_column_fit(LIFE_RX_KB, 0, 2);
	output_column_fit(LIFE_TX_KB, 0, 3);
	output_column_fit(LIFE_LPORT, 0, 4);
	output_column_fit(LIFE_CLOSED_BY, 0, 5);
	output_column_fit(LIFE_LADDR, 0, 6);
	output_column_fit(LIFE_MS, 0, 7);
	return replay_lives(set, opts, tl.counters, print_life, NULL);
}

static const char *const kinds[] = {"close", NULL};

const struct command tcplife_command = {
	.summary = "TCP connections as they closed (BCC tcplife): bytes, duration, who closed",
	.spec = {.name = "tcplife",
		 .usage = usage,
		 .short_options = "tTwsp:L:D:46",
		 .long_options = long_options,
		 .accepts = ACCEPT_FILTERS | ACCEPT_ADDR | ACCEPT_FOLLOW | ACCEPT_LINEAGE,
		 .own_option = own_option},
	.kinds = kinds,
	.check = check,
	.run = run,
	.state = &tl,
	.state_size = sizeof(tl),
};
