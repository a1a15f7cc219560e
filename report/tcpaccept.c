/* report tcpaccept: TCP accepts from captures, as BCC's tcpaccept shows them live. */
#include "command.h"
#include "events.h"

enum {
	ACCEPT_IP = EVENT_FIELDS,
	ACCEPT_RADDR,
	ACCEPT_RPORT,
	ACCEPT_LADDR,
	ACCEPT_LPORT,
	ACCEPT_FIELDS
};

/* The query's columns, after t and seq. */
enum { COL_TASK, COL_RADDR, COL_RPORT, COL_LADDR, COL_LPORT };

static struct {
	bool timestamp;
	struct field fields[ACCEPT_FIELDS];
} ta;

static const char usage[] =
	"usage: report tcpaccept [-h] [-t] [-p PID] [-P PORT[,PORT...]] [-4 | -6]\n"
	"                        [common options] FILE...\n"
	"\n"
	"TCP accepts in the captures, as tcpaccept(8) would have shown them live:\n"
	"the accepting process, the remote end, and the local end.\n"
	"\n"
	"options:\n"
	"  -t, --timestamp  include a TIME(s) column: seconds since the first accept shown\n"
	"  -p, --pid PID    only this (accepting) process\n"
	"  -P, --port PORTS only these local ports (comma-separated)\n"
	"  -4, --ipv4       only IPv4\n"
	"  -6, --ipv6       only IPv6\n"
	"\n"
	"examples:\n"
	"    report tcpaccept case42.db            # every TCP accept()\n"
	"    report tcpaccept -t case42.db         # with timestamps\n"
	"    report tcpaccept -p 181 case42.db     # only PID 181\n"
	"    report tcpaccept -P 22 case42.db      # only accepts on local port 22\n"
	"    report tcpaccept --comm sshd --since 01:18 case42.db\n";

static const struct option long_options[] = {
	{"timestamp", no_argument, NULL, 't'},
	{NULL, 0, NULL, 0},
};

static int own_option(int option, const char *arg, void *ctx)
{
	(void)arg;
	(void)ctx;
	if (option == 't')
		ta.timestamp = true;
	return 0;
}

static int print_accept(const struct event *ev, void *ctx)
{
	struct value v[ACCEPT_FIELDS];
	struct task task;
	struct address raddr, laddr;

	(void)ctx;
	if (event_values(ev, COL_TASK, &task, v) ||
	    capture_address(ev->cap, ev->col[COL_RADDR], &raddr) ||
	    capture_address(ev->cap, ev->col[COL_LADDR], &laddr))
		return -1;
	v[ACCEPT_IP] = int_value(raddr.ip);
	v[ACCEPT_RADDR] = text_value(raddr.text, raddr.len);
	v[ACCEPT_RPORT] = int_value(ev->col[COL_RPORT]);
	v[ACCEPT_LADDR] = text_value(laddr.text, laddr.len);
	v[ACCEPT_LPORT] = int_value(ev->col[COL_LPORT]);
	output_row(v);
	return 0;
}

static int run(struct captures *set, const struct options *opts)
{
	struct event_query query = {
		.table = "ev_accept",
		.columns = "e.task, e.raddr, e.rport, e.laddr, e.lport",
		.filter = {.task = "e.task", .family = "e.raddr", .port = "e.lport"},
		.emit = print_accept,
	};
	struct field *f = ta.fields;

	event_fields(f, set);
	f[EVENT_ELAPSED].shown = ta.timestamp;
	f[ACCEPT_IP] = (struct field){"IP", "ip", 2, FIELD_INT, true};
	f[ACCEPT_RADDR] = (struct field){"RADDR", "raddr", 16, FIELD_TEXT, true};
	f[ACCEPT_RPORT] = (struct field){"RPORT", "rport", 5, FIELD_INT, true};
	f[ACCEPT_LADDR] = (struct field){"LADDR", "laddr", 16, FIELD_TEXT, true};
	f[ACCEPT_LPORT] = (struct field){"LPORT", "lport", 5, FIELD_INT, true};
	output_begin(opts->format, opts->local, f, ACCEPT_FIELDS);
	return replay(set, &query, 1, opts);
}

static const char *const kinds[] = {"accept", NULL};

const struct command tcpaccept_command = {
	.summary = "TCP accepts (BCC tcpaccept)",
	.spec = {.name = "tcpaccept",
		 .usage = usage,
		 .short_options = "tp:P:46",
		 .long_options = long_options,
		 .accepts = ACCEPT_FILTERS | ACCEPT_FOLLOW,
		 .own_option = own_option},
	.kinds = kinds,
	.run = run,
};
