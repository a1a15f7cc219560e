/* report tcpaccept: TCP accepts from captures, as BCC's tcpaccept shows them live. */
#include "command.h"
#include "events.h"
#include "folded.h"
#include "lineage.h"
#include "stacks.h"

enum {
	ACCEPT_IP = EVENT_FIELDS,
	ACCEPT_RADDR,
	ACCEPT_RPORT,
	ACCEPT_LADDR,
	ACCEPT_LPORT,
	ACCEPT_WHO,				     /* LINEAGE_FIELDS of them */
	ACCEPT_STACKS = ACCEPT_WHO + LINEAGE_FIELDS, /* STACK_KINDS of them */
	ACCEPT_FIELDS = ACCEPT_STACKS + STACK_KINDS
};

/* The query's columns, as event.col numbers them. */
enum { COL_TASK, COL_RADDR, COL_RPORT, COL_LADDR, COL_LPORT };

static struct {
	bool timestamp, clock, lineage;
	struct field fields[ACCEPT_FIELDS];
	struct stack_choice stacks;
	struct folded *folded;
} ta;

static const char usage[] =
	"usage: report tcpaccept [-h] [-t] [-T] [-p PID] [-P PORT[,PORT...]] [-4 | -6] [-K] [-U]\n"
	"                        [--folded] [common options] FILE...\n"
	"\n"
	"TCP accepts in the captures, as tcpaccept(8) would have shown them live:\n"
	"the accepting process, the remote end, and the local end.\n"
	"\n"
	"options:\n"
	"  -t, --timestamp  include a TIME(s) column: seconds since the first accept shown\n"
	"  -T, --time       include a TIME column: the wall clock, HH:MM:SS.mmm (the same\n"
	"                   whatever the filters)\n"
	"  -p, --pid PID    only this (accepting) process\n"
	"  -P, --port PORTS only these local ports (comma-separated)\n"
	"  -4, --ipv4       only IPv4\n"
	"  -6, --ipv6       only IPv6\n" STACK_HELP_KERNEL STACK_HELP_USER STACK_HELP_FOLDED "\n"
	"Stacks are those of accepts recorded with -e accept:stack.\n"
	"\n"
	"examples:\n"
	"    report tcpaccept case42.db            # every TCP accept()\n"
	"    report tcpaccept -t case42.db         # with timestamps\n"
	"    report tcpaccept -p 181 case42.db     # only PID 181\n"
	"    report tcpaccept -P 22 case42.db      # only accepts on local port 22\n"
	"    report tcpaccept --comm sshd --since 01:18 case42.db\n"
	"    report tcpaccept -K -U case42.db      # with each accept's stacks\n";

static const struct option long_options[] = {
	{"timestamp", no_argument, NULL, 't'},
	{"time", no_argument, NULL, 'T'},
	STACK_LONG_OPTIONS,
	{NULL, 0, NULL, 0},
};

static int own_option(int option, const char *arg, void *ctx)
{
	(void)arg;
	(void)ctx;
	if (option == 't')
		ta.timestamp = true;
	else if (option == 'T')
		ta.clock = true;
	else
		stack_option(option, &ta.stacks);
	return 0;
}

static int check(const struct options *opts)
{
	return stack_check(opts, &ta.stacks, ta.timestamp ? "-t" : ta.clock ? "-T" : NULL);
}

static int print_accept(const struct event *ev, void *ctx)
{
	struct value v[ACCEPT_FIELDS];
	struct task task;
	struct address raddr, laddr;

	(void)ctx;
	if (event_values(ev, COL_TASK, &task, v))
		return -1;
	if (ta.folded)
		return folded_add(ta.folded, ev, &v[EVENT_COMM]);
	if (capture_address(ev->cap, ev->col[COL_RADDR], &raddr) ||
	    capture_address(ev->cap, ev->col[COL_LADDR], &laddr) ||
	    stack_values(ev, &ta.stacks, &v[ACCEPT_STACKS]) ||
	    event_lineage(ev, COL_TASK, &task, ta.lineage, &v[ACCEPT_WHO]))
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
		.filter = {.task = "e.task",
			   .family = "e.raddr",
			   .port = "e.lport",
			   .ends = {"e.laddr", "e.raddr"}},
		.stacks = ta.stacks.kernel || ta.stacks.user,
		.emit = print_accept,
		.address_columns = 1u << COL_RADDR | 1u << COL_LADDR,
	};
	struct field *f = ta.fields;

	event_fields(f, set);
	f[EVENT_ELAPSED].shown = ta.timestamp;
	f[EVENT_CLOCK].shown = ta.clock;
	f[ACCEPT_IP] = (struct field){"IP", "ip", 2, FIELD_INT, true};
	f[ACCEPT_RADDR] = (struct field){"RADDR", "raddr", 16, FIELD_TEXT, true};
	f[ACCEPT_RPORT] = (struct field){"RPORT", "rport", 5, FIELD_INT, true};
	f[ACCEPT_LADDR] = (struct field){"LADDR", "laddr", 16, FIELD_TEXT, true};
	f[ACCEPT_LPORT] = (struct field){"LPORT", "lport", 5, FIELD_INT, true};
	event_where_fields(f, opts->lineage);
	lineage_fields(&f[ACCEPT_WHO], opts->lineage);
	/* To fit a terminal: the family the address says, then the local address. */
	output_column_fit(ACCEPT_IP, 0, 5);
	output_column_fit(ACCEPT_LADDR, 0, 9);
	lineage_fit(ACCEPT_WHO);
	stack_fields(&f[ACCEPT_STACKS], &ta.stacks);
	ta.lineage = opts->lineage;
	return replay_with_stacks(set, &query, 1, opts, &ta.stacks, &ta.folded, f, ACCEPT_FIELDS);
}

static const char *const kinds[] = {"accept", NULL};

const struct command tcpaccept_command = {
	.summary = "TCP accepts (BCC tcpaccept)",
	.spec = {.name = "tcpaccept",
		 .usage = usage,
		 .short_options = "tTp:P:46KU",
		 .long_options = long_options,
		 .accepts = ACCEPT_FILTERS | ACCEPT_ADDR | ACCEPT_FOLLOW | ACCEPT_LINEAGE,
		 .own_option = own_option},
	.kinds = kinds,
	.check = check,
	.run = run,
	.state = &ta,
	.state_size = sizeof(ta),
};
