/* report tcpconnect: TCP connects from captures, as BCC's tcpconnect shows them live. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "dnsnames.h"
#include "events.h"
#include "folded.h"
#include "lineage.h"
#include "stacks.h"
#include "tally.h"
#include "util.h"

enum {
	CONNECT_IP = EVENT_FIELDS,
	CONNECT_SADDR,
	CONNECT_LPORT,
	CONNECT_DADDR,
	CONNECT_DPORT,
	CONNECT_OUTCOME,
	CONNECT_ERROR,
	CONNECT_LATENCY,
	CONNECT_DNS,					   /* DNS_FIELDS of them */
	CONNECT_LINEAGE = CONNECT_DNS + DNS_FIELDS,	   /* LINEAGE_FIELDS of them */
	CONNECT_STACKS = CONNECT_LINEAGE + LINEAGE_FIELDS, /* STACK_KINDS of them */
	CONNECT_FIELDS = CONNECT_STACKS + STACK_KINDS
};

/* -c: connects per source, destination and port */
enum { COUNT_HOST, COUNT_LADDR, COUNT_RADDR, COUNT_RPORT, COUNT_CONNECTS, COUNT_FIELDS };

/* The query's columns, as event.col numbers them. */
enum { COL_TASK, COL_SADDR, COL_LPORT, COL_DADDR, COL_DPORT, COL_STATE, COL_ERROR, COL_LATENCY };

static struct {
	bool timestamp, clock, lport, uid, count, outcome, dns, lineage;
	struct dns_names *names; /* -d */
	struct field fields[CONNECT_FIELDS];
	struct tally *counts;
	char *key; /* -c: the key of the connect being counted */
	size_t key_size;
	struct stack_choice stacks;
	struct folded *folded;
} tc;

static const char usage[] =
	"usage: report tcpconnect [-h] [-t] [-T] [-p PID] [-P PORT[,PORT...]] [-4 | -6] [-L] [-U]\n"
	"                         [-u UID] [-c] [-o] [-d] [-l] [-K] [--user-stack] [--folded]\n"
	"                         [common options] FILE...\n"
	"\n"
	"TCP connects in the captures, as tcpconnect(8) would have shown them live.\n"
	"\n"
	"options:\n"
	"  -t, --timestamp  include a TIME(s) column: seconds since the first connect shown\n"
	"  -T, --time       include a TIME column: the wall clock, HH:MM:SS.mmm (the same\n"
	"                   whatever the filters)\n"
	"  -p, --pid PID    only this process\n"
	"  -P, --port PORTS only these destination ports (comma-separated)\n"
	"  -4, --ipv4       only IPv4\n"
	"  -6, --ipv6       only IPv6\n"
	"  -L, --lport      include the local port (LPORT)\n"
	"  -U, --print-uid  include the UID\n"
	"  -u, --uid UID    only this user\n"
	"  -c, --count      count connects per source address, destination address and port\n"
	"  -o, --outcome    include how each connect ended (OUTCOME: established, refused,\n"
	"                   timeout, unreachable, aborted, error; - if the capture has none)\n"
	"                   and how long it took (LAT(ms))\n"
	"  -d, --dns        include the name each address was looked up as (QUERY): the\n"
	"                   newest DNS answer for it on that host at or before the\n"
	"                   connect, with its age when older than 100 ms\n"
	"                   (\"evil.example (123.342ms)\"); localhost for a loopback\n"
	"                   address no answer named; No DNS Query\n" STACK_HELP_KERNEL
	"  --user-stack     print each connect's user stack under it (record -U; -U is\n"
	"                   BCC's UID column here)\n" STACK_HELP_FOLDED "\n"
	"Stacks are those of connects recorded with -e connect:stack.\n"
	"\n"
	"examples:\n"
	"    report tcpconnect case42.db            # every TCP connect()\n"
	"    report tcpconnect -t case42.db         # with timestamps\n"
	"    report tcpconnect -o case42.db         # with outcome and latency\n"
	"    report tcpconnect -dl case42.db        # names looked up, who connected\n"
	"    report tcpconnect -p 181 case42.db     # only PID 181\n"
	"    report tcpconnect -P 80,81 case42.db   # only to ports 80 and 81\n"
	"    report tcpconnect -6 case42.db         # only IPv6\n"
	"    report tcpconnect -Uu 1000 case42.db   # only UID 1000, with a UID column\n"
	"    report tcpconnect -c case42.db         # connects per source and destination\n"
	"    report tcpconnect --format json web-*.db  # a fleet, as JSON Lines\n"
	"    report tcpconnect --follow live.db     # as they land, while record runs\n"
	"    report tcpconnect -K --user-stack case42.db  # who connected, from where in the "
	"code\n";

static const struct option long_options[] = {
	{"timestamp", no_argument, NULL, 't'},
	{"time", no_argument, NULL, 'T'},
	{"lport", no_argument, NULL, 'L'},
	{"print-uid", no_argument, NULL, 'U'},
	{"count", no_argument, NULL, 'c'},
	{"outcome", no_argument, NULL, 'o'},
	{"dns", no_argument, NULL, 'd'},
	STACK_LONG_OPTIONS,
	{NULL, 0, NULL, 0},
};

static int own_option(int option, const char *arg, void *ctx)
{
	(void)arg;
	(void)ctx;
	switch (option) {
	case 't':
		tc.timestamp = true;
		break;
	case 'T':
		tc.clock = true;
		break;
	case 'L':
		tc.lport = true;
		break;
	case 'U':
		tc.uid = true;
		break;
	case 'c':
		tc.count = true;
		break;
	case 'o':
		tc.outcome = true;
		break;
	case 'd':
		tc.dns = true;
		break;
	default:
		stack_option(option, &tc.stacks);
		break;
	}
	return 0;
}

static int check(const struct options *opts)
{
	bool columns = tc.timestamp || tc.clock || tc.lport || tc.uid || tc.outcome || tc.dns ||
		       opts->lineage;

	if (tc.count && (columns || tc.stacks.kernel || tc.stacks.user))
		return option_error(
			opts->command,
			"-c counts: it takes no -t, -T, -L, -U, -o, -d, -l, -K or --user-stack");
	return stack_check(opts, &tc.stacks,
			   columns || tc.count ? "-t, -T, -L, -U, -o, -d, -l or -c" : NULL);
}

static struct value outcome(const struct event *ev)
{
	const char *name = connect_outcome(!event_null(ev, COL_STATE), ev->col[COL_STATE],
					   event_null(ev, COL_ERROR) ? -1 : ev->col[COL_ERROR]);

	return name ? text_value(name, strlen(name)) : null_value();
}

static int print_connect(const struct event *ev, void *ctx)
{
	struct value v[CONNECT_FIELDS];
	struct task task;
	struct address saddr, daddr;

	(void)ctx;
	if (event_values(ev, COL_TASK, &task, v))
		return -1;
	if (tc.folded)
		return folded_add(tc.folded, ev, &v[EVENT_COMM]);
	if (capture_address(ev->cap, ev->col[COL_SADDR], &saddr) ||
	    capture_address(ev->cap, ev->col[COL_DADDR], &daddr) ||
	    stack_values(ev, &tc.stacks, &v[CONNECT_STACKS]) ||
	    event_lineage(ev, COL_TASK, &task, tc.lineage, &v[CONNECT_LINEAGE]))
		return -1;
	if (!tc.dns)
		for (int i = 0; i < DNS_FIELDS; i++)
			v[CONNECT_DNS + i] = null_value();
	else if (dns_values(tc.names, ev, ev->col[COL_DADDR], &v[CONNECT_DNS]))
		return -1;
	v[CONNECT_IP] = int_value(daddr.ip);
	v[CONNECT_SADDR] = text_value(saddr.text, saddr.len);
	v[CONNECT_LPORT] = column_value(ev, COL_LPORT);
	v[CONNECT_DADDR] = text_value(daddr.text, daddr.len);
	v[CONNECT_DPORT] = int_value(ev->col[COL_DPORT]);
	v[CONNECT_OUTCOME] = outcome(ev);
	v[CONNECT_ERROR] = column_value(ev, COL_ERROR);
	v[CONNECT_LATENCY] = column_value(ev, COL_LATENCY);
	output_row(v);
	return 0;
}

/*
 * A -c key: host, source and destination, each ended by a NUL (they hold
 * none), then the port, big-endian: byte order is the order to list them in.
 */
static char *put_part(char *p, const char *text, size_t len)
{
	memcpy(p, text, len);
	p[len] = '\0';
	return p + len + 1;
}

static struct value take_part(const char **p)
{
	const char *text = *p;
	size_t len = strlen(text);

	*p = text + len + 1;
	return text_value(text, len);
}

static int count_connect(const struct event *ev, void *ctx)
{
	struct address saddr, daddr;
	size_t host_len = strlen(ev->cap->host);
	uint16_t dport = (uint16_t)ev->col[COL_DPORT];
	char *p;

	(void)ctx;
	if (capture_address(ev->cap, ev->col[COL_SADDR], &saddr) ||
	    capture_address(ev->cap, ev->col[COL_DADDR], &daddr))
		return -1;
	if (host_len + 2 * CAPTURE_TEXT_MAX + 5 > tc.key_size) {
		tc.key_size = host_len + 2 * CAPTURE_TEXT_MAX + 5;
		tc.key = xrealloc(tc.key, tc.key_size);
	}
	p = put_part(tc.key, ev->cap->host, host_len);
	p = put_part(p, saddr.text, saddr.len);
	p = put_part(p, daddr.text, daddr.len);
	*p++ = (char)(dport >> 8);
	*p++ = (char)(dport & 0xff);
	tally_add(tc.counts, tc.key, (size_t)(p - tc.key), 1);
	return 0;
}

static void print_counts(const struct captures *set, const struct options *opts)
{
	struct field fields[COUNT_FIELDS] = {
		[COUNT_HOST] = {"HOST", "host", set->host_width, FIELD_TEXT, set->many_hosts},
		[COUNT_LADDR] = {"LADDR", "laddr", 25, FIELD_TEXT, true},
		[COUNT_RADDR] = {"RADDR", "raddr", 25, FIELD_TEXT, true},
		[COUNT_RPORT] = {"RPORT", "rport", 20, FIELD_INT, true},
		[COUNT_CONNECTS] = {"CONNECTS", "connects", 10, FIELD_INT, true},
	};
	size_t n;
	struct tally_entry **entries = tally_sorted(tc.counts, &n);

	output_begin(opts->format, opts->local, fields, COUNT_FIELDS);
	/* To fit a terminal: our own address (BCC's -c keys on it; the destination matters more).
	 */
	output_column_fit(COUNT_LADDR, 0, 1);
	for (size_t i = 0; i < n; i++) {
		struct value v[COUNT_FIELDS];
		const char *p = entries[i]->key;

		v[COUNT_HOST] = take_part(&p);
		v[COUNT_LADDR] = take_part(&p);
		v[COUNT_RADDR] = take_part(&p);
		v[COUNT_RPORT] = int_value((unsigned char)p[0] << 8 | (unsigned char)p[1]);
		v[COUNT_CONNECTS] = int_value(entries[i]->count);
		output_row(v);
	}
}

static int run(struct captures *set, const struct options *opts)
{
	struct event_query query = {
		.table = "ev_connect",
		.columns = "e.task, e.saddr, e.lport, e.daddr, e.dport, e.outcome_state, e.error, "
			   "e.latency_ns",
		.filter = {.task = "e.task",
			   .family = "e.daddr",
			   .port = "e.dport",
			   .ends = {"e.saddr", "e.daddr"}},
		.stacks = tc.stacks.kernel || tc.stacks.user,
		.emit = tc.count ? count_connect : print_connect,
		.address_columns = 1u << COL_SADDR | 1u << COL_DADDR,
	};
	struct field *f = tc.fields;
	struct event_query queries[2];
	int err;

	if (tc.count) {
		tc.counts = tally_new();
		err = replay(set, &query, 1, opts);
		if (!err)
			print_counts(set, opts);
		tally_free(tc.counts);
		free(tc.key);
		return err;
	}
	event_fields(f, set);
	f[EVENT_ELAPSED].shown = tc.timestamp;
	f[EVENT_CLOCK].shown = tc.clock;
	f[EVENT_UID].shown = tc.uid;
	f[CONNECT_IP] = (struct field){"IP", "ip", 2, FIELD_INT, true};
	f[CONNECT_SADDR] = (struct field){"SADDR", "laddr", 16, FIELD_TEXT, true};
	f[CONNECT_LPORT] = (struct field){"LPORT", "lport", 6, FIELD_INT, tc.lport};
	f[CONNECT_DADDR] = (struct field){"DADDR", "raddr", 16, FIELD_TEXT, true};
	f[CONNECT_DPORT] = (struct field){"DPORT", "rport", 6, FIELD_INT, true};
	f[CONNECT_OUTCOME] = (struct field){"OUTCOME", "outcome", 11, FIELD_TEXT, tc.outcome};
	f[CONNECT_ERROR] = (struct field){NULL, "error", 0, FIELD_INT, false};
	f[CONNECT_LATENCY] = (struct field){"LAT(ms)", "latency_ns", 8, FIELD_MILLIS, tc.outcome};
	dns_fields(&f[CONNECT_DNS], tc.dns);
	event_where_fields(f, opts->lineage);
	lineage_fields(&f[CONNECT_LINEAGE], opts->lineage);
	/* To fit a terminal: what the address or the outcome already says goes first. */
	output_column_fit(CONNECT_IP, 0, 5);
	output_column_fit(CONNECT_LATENCY, 0, 6);
	output_column_fit(CONNECT_LPORT, 0, 7);
	output_column_fit(CONNECT_DNS + DNS_QUERY_SHOWN, 0, 8);
	output_column_fit(CONNECT_SADDR, 0, 9);
	lineage_fit(CONNECT_LINEAGE);
	stack_fields(&f[CONNECT_STACKS], &tc.stacks);
	tc.lineage = opts->lineage;
	if (!tc.dns)
		return replay_with_stacks(set, &query, 1, opts, &tc.stacks, &tc.folded, f,
					  CONNECT_FIELDS);
	/* The answers first: one at the connect's very time came before it. */
	tc.names = dns_names_new(set);
	queries[0] = dns_names_query(tc.names);
	queries[1] = query;
	err = replay_with_stacks(set, queries, 2, opts, &tc.stacks, &tc.folded, f, CONNECT_FIELDS);
	dns_names_free(tc.names);
	return err;
}

static const char *const kinds[] = {"connect", "outcome", NULL};

const struct command tcpconnect_command = {
	.summary = "TCP connects (BCC tcpconnect), with their outcome and latency",
	.spec = {.name = "tcpconnect",
		 .usage = usage,
		 .short_options = "tTp:P:46LUu:codK",
		 .long_options = long_options,
		 .accepts = ACCEPT_FILTERS | ACCEPT_ADDR | ACCEPT_FOLLOW | ACCEPT_LINEAGE,
		 .own_option = own_option},
	.kinds = kinds,
	.check = check,
	.run = run,
	.state = &tc,
	.state_size = sizeof(tc),
};
