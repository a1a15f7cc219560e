/* report tcpreset: TCP resets the kernel sent, as the bpftrace tcpreset tool shows them. */
#include <stdio.h>

#include "command.h"
#include "events.h"
#include "folded.h"
#include "lineage.h"
#include "stacks.h"

enum {
	RESET_IP = EVENT_FIELDS,
	RESET_LADDR,
	RESET_LPORT,
	RESET_RADDR,
	RESET_RPORT,
	RESET_STATE,
	RESET_REASON,
	RESET_LINEAGE,				       /* LINEAGE_FIELDS of them */
	RESET_STACKS = RESET_LINEAGE + LINEAGE_FIELDS, /* STACK_KINDS of them */
	RESET_FIELDS = RESET_STACKS + STACK_KINDS
};

/* The query's columns, as event.col numbers them. */
enum { COL_TASK, COL_LADDR, COL_LPORT, COL_RADDR, COL_RPORT, COL_STATE, COL_REASON, COL_NETNS };

static struct {
	bool reason, lineage;
	struct field fields[RESET_FIELDS];
	struct stack_choice stacks;
	struct folded *folded;
} tr;

static const char usage[] =
	"usage: report tcpreset [-h] [-r] [-K] [-U] [--folded] [common options] FILE...\n"
	"\n"
	"TCP resets (RST) the kernel sent, as tcpreset(8) would have shown them live.\n"
	"TIME is the wall clock of the capture.  Many resets from one remote address to\n"
	"many local ports within seconds look like a port scan.\n"
	"\n"
	"options:\n"
	"  -r, --reason     include the socket's TCP state (STATE; - when no socket, as\n"
	"                   for a closed port) and the kernel's reason (REASON, such as\n"
	"                   NO_SOCKET; Linux 6.10 and later)\n" STACK_HELP_KERNEL STACK_HELP_USER
		STACK_HELP_FOLDED "\n"
	"Stacks are those of resets recorded with -e reset:stack.  A reset sent from\n"
	"softirq (the answer to a segment) has a kernel stack but no process, so no\n"
	"user stack.\n"
	"\n"
	"examples:\n"
	"    report tcpreset case42.db             # every RST sent\n"
	"    report tcpreset -r case42.db          # with state and reason\n"
	"    report tcpreset --since 20:50 --until 20:51 case42.db\n"
	"    report tcpreset --format csv web-1.db web-2.db\n"
	"    report tcpreset -K case42.db          # which kernel path sent each RST\n";

static const struct option long_options[] = {
	{"reason", no_argument, NULL, 'r'},
	STACK_LONG_OPTIONS,
	{NULL, 0, NULL, 0},
};

static int own_option(int option, const char *arg, void *ctx)
{
	(void)arg;
	(void)ctx;
	if (option == 'r')
		tr.reason = true;
	else
		stack_option(option, &tr.stacks);
	return 0;
}

static int check(const struct options *opts)
{
	return stack_check(opts, &tr.stacks, tr.reason ? "-r" : NULL);
}

/* A state or reason by its name in the capture, else its number. */
static int name_value(const struct event *ev, int column,
		      int (*lookup)(struct capture *, int64_t, struct name *), struct name *name,
		      struct value *value)
{
	int64_t number = ev->col[column];

	if (event_null(ev, column)) {
		*value = null_value();
		return 0;
	}
	if (lookup(ev->cap, number, name))
		return -1;
	if (!name->found)
		name->len =
			(size_t)snprintf(name->text, sizeof(name->text), "%lld", (long long)number);
	*value = text_value(name->text, name->len);
	return 0;
}

static int print_reset(const struct event *ev, void *ctx)
{
	struct value v[RESET_FIELDS];
	struct task task;
	struct address laddr, raddr;
	struct name state, reason;

	(void)ctx;
	if (event_values(ev, COL_TASK, &task, v))
		return -1;
	if (tr.folded)
		return folded_add(tr.folded, ev, &v[EVENT_COMM]);
	if (stack_values(ev, &tr.stacks, &v[RESET_STACKS]) ||
	    event_address(ev, COL_LADDR, &laddr, &v[RESET_LADDR]) ||
	    event_address(ev, COL_RADDR, &raddr, &v[RESET_RADDR]) ||
	    name_value(ev, COL_STATE, capture_tcp_state, &state, &v[RESET_STATE]) ||
	    name_value(ev, COL_REASON, capture_reset_reason, &reason, &v[RESET_REASON]) ||
	    event_lineage(ev, COL_TASK, &task, tr.lineage, &v[RESET_LINEAGE]))
		return -1;
	event_socket_netns(ev, COL_NETNS, v);
	v[RESET_IP] = laddr.ip	 ? int_value(laddr.ip)
		      : raddr.ip ? int_value(raddr.ip)
				 : null_value();
	v[RESET_LPORT] = int_value(ev->col[COL_LPORT]);
	v[RESET_RPORT] = int_value(ev->col[COL_RPORT]);
	output_row(v);
	return 0;
}

static int run(struct captures *set, const struct options *opts)
{
	struct event_query query = {
		.table = "ev_reset",
		.columns = "e.task, e.laddr, e.lport, e.raddr, e.rport, e.state, e.reason, e.netns",
		.newer_column = "netns",
		.older_columns =
			"e.task, e.laddr, e.lport, e.raddr, e.rport, e.state, e.reason, NULL",
		.filter = {.task = "e.task", .ends = {"e.laddr", "e.raddr"}, .netns = "e.netns"},
		.stacks = tr.stacks.kernel || tr.stacks.user,
		.emit = print_reset,
		.address_columns = 1u << COL_LADDR | 1u << COL_RADDR,
	};
	struct field *f = tr.fields;

	event_fields(f, set);
	f[EVENT_CLOCK].shown = true;
	f[EVENT_PID].shown = false;
	f[EVENT_COMM].shown = false;
	f[RESET_IP] = (struct field){NULL, "ip", 0, FIELD_INT, false};
	f[RESET_LADDR] = (struct field){"LADDR", "laddr", 14, FIELD_TEXT, true};
	f[RESET_LPORT] = (struct field){"LPORT", "lport", 6, FIELD_INT, true};
	f[RESET_RADDR] = (struct field){"RADDR", "raddr", 14, FIELD_TEXT, true};
	f[RESET_RPORT] = (struct field){"RPORT", "rport", 6, FIELD_INT, true};
	f[RESET_STATE] = (struct field){"STATE", "state", 11, FIELD_TEXT, tr.reason};
	f[RESET_REASON] = (struct field){"REASON", "reason", 0, FIELD_TEXT, tr.reason};
	event_where_fields(f, opts->lineage);
	lineage_fields(&f[RESET_LINEAGE], opts->lineage);
	lineage_fit(RESET_LINEAGE);
	stack_fields(&f[RESET_STACKS], &tr.stacks);
	tr.lineage = opts->lineage;
	return replay_with_stacks(set, &query, 1, opts, &tr.stacks, &tr.folded, f, RESET_FIELDS);
}

static const char *const kinds[] = {"reset", NULL};

const struct command tcpreset_command = {
	.summary = "TCP resets sent (bpftrace tcpreset), with state and reason",
	.spec = {.name = "tcpreset",
		 .usage = usage,
		 .short_options = "rKU",
		 .long_options = long_options,
		 .accepts = ACCEPT_FILTERS | ACCEPT_ADDR | ACCEPT_FOLLOW | ACCEPT_LINEAGE,
		 .own_option = own_option},
	.kinds = kinds,
	.check = check,
	.run = run,
	.state = &tr,
	.state_size = sizeof(tr),
};
