/* report exfil: bytes sent per process and remote address, and what looks like exfiltration. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "exfil.h"
#include "hashmap.h"
#include "util.h"

enum {
	EX_HOST,
	EX_PID,
	EX_COMM,
	EX_REMOTE,
	EX_CONNS,
	EX_SENT,
	EX_RECEIVED,
	EX_OPENED_SENT,
	EX_OPENED_RECEIVED,
	EX_PCR,
	EX_FIRST,
	EX_LAST,
	EX_FLAG,
	EX_MIN_BYTES,
	EX_PCR_THRESHOLD,
	EX_FIELDS
};

enum by { BY_PAIR, BY_PROCESS, BY_REMOTE };
enum { OPT_MIN_BYTES = 0x400, OPT_PCR, OPT_BY, OPT_TOP };

/* The pairs listed by default: those that sent most, and every flagged one. */
#define TOP_DEFAULT 100
/* At most: a top of more than this would need as many first pairs kept (exfil.c). */
#define TOP_MAX 10000

static struct {
	struct exfil_thresholds t;
	bool set;
	enum by by;
	int64_t top;
	struct field fields[EX_FIELDS];
} ex;

static const char usage[] =
	"usage: report exfil [-h] [--min-bytes N] [--pcr F] [--top N]\n"
	"                    [--by pair|process|remote] [common options] FILE...\n"
	"\n"
	"Bytes sent, from the connections' lives (record's close kind): per process\n"
	"and remote address, most bytes sent first: the --top pairs and every flagged\n"
	"one, exact, in memory that does not grow with the pairs (docs/detection.md,\n"
	"Exfiltration: one read, the closes spilled to a temporary file in $TMPDIR\n"
	"by pair where they outgrow memory).\n"
	"A pair is flagged (FLAG exfil) when the connections the process opened to\n"
	"that remote sent at least --min-bytes and far more than they received: a\n"
	"producer-consumer ratio PCR = (out - in) / (out + in) of at least --pcr\n"
	"(1: all out, 0: balanced, -1: all in; uploads score near 1, downloads and\n"
	"browsing at or below 0).\n"
	"\n"
	"options:\n"
	"  --min-bytes N    bytes out to one remote, of connections it opened (1000000)\n"
	"  --pcr F          their producer-consumer ratio, from -1 to 1 (0.8)\n"
	"  --top N          the pairs that sent most listed, 1 to 10000 (100)\n"
	"  --by WHAT        pair (the default), process or remote: the totals of each,\n"
	"                   all of them (over every pair: memory grows with the pairs)\n"
	"\n"
	"examples:\n"
	"    report exfil case42.db\n"
	"    report exfil --by remote --format json case42.db\n"
	"    report exfil --min-bytes 100000000 --pcr 0.9 case42.db\n";

static const struct option long_options[] = {
	{"min-bytes", required_argument, NULL, OPT_MIN_BYTES},
	{"pcr", required_argument, NULL, OPT_PCR},
	{"by", required_argument, NULL, OPT_BY},
	{"top", required_argument, NULL, OPT_TOP},
	{NULL, 0, NULL, 0},
};

static int parse_pcr(const char *arg, double *pcr)
{
	int saved_errno = errno;
	char *end;

	errno = 0;
	*pcr = strtod(arg, &end);
	if (end == arg || *end || errno || !(*pcr >= -1 && *pcr <= 1)) {
		errno = saved_errno;
		return option_error("exfil", "--pcr wants a ratio from -1 to 1, not '%s'", arg);
	}
	errno = saved_errno;
	return 0;
}

static int own_option(int option, const char *arg, void *ctx)
{
	(void)ctx;
	if (!ex.set) {
		exfil_defaults(&ex.t);
		ex.top = TOP_DEFAULT;
		ex.set = true;
	}
	switch (option) {
	case OPT_TOP:
		if (parse_integer(arg, 1, TOP_MAX, &ex.top))
			return option_error("exfil", "--top wants a number from 1 to %d, not '%s'",
					    TOP_MAX, arg);
		return 0;
	case OPT_MIN_BYTES:
		if (parse_integer(arg, 0, INT64_MAX, &ex.t.min_bytes))
			return option_error("exfil",
					    "--min-bytes wants a number of bytes, not '%s'", arg);
		return 0;
	case OPT_PCR:
		return parse_pcr(arg, &ex.t.pcr);
	case OPT_BY:
		if (!strcmp(arg, "pair"))
			ex.by = BY_PAIR;
		else if (!strcmp(arg, "process"))
			ex.by = BY_PROCESS;
		else if (!strcmp(arg, "remote"))
			ex.by = BY_REMOTE;
		else
			return option_error("exfil", "--by wants pair, process or remote, not '%s'",
					    arg);
		return 0;
	default:
		return 0;
	}
}

/* The pairs summed per process or per remote, most bytes sent first (pair: as they are). */
static size_t totals(struct exfil *e)
{
	struct hashmap index = {0};
	size_t n = 0;

	if (ex.by == BY_PAIR)
		return e->count;
	for (size_t i = 0; i < e->count; i++) {
		const struct exfil_pair *p = &e->list[i];
		bool added;
		uint64_t *slot = ex.by == BY_PROCESS ? hashmap_put(&index, (uint64_t)p->host,
								   (uint64_t)p->pid, &added)
						     : hashmap_put(&index, p->remote, 0, &added);
		struct exfil_pair *sum;

		if (added) {
			*slot = n;
			e->list[n] =
				*p; /* in order: n <= i, and the list is sorted by bytes sent */
			sum = &e->list[n++];
			if (ex.by == BY_PROCESS)
				sum->remote = 0;
			else
				sum->pid = -2; /* every process */
			continue;
		}
		sum = &e->list[*slot];
		sum->connections += p->connections;
		sum->sent += p->sent;
		sum->received += p->received;
		sum->opened_sent += p->opened_sent;
		sum->opened_received += p->opened_received;
		sum->first_ns = p->first_ns < sum->first_ns ? p->first_ns : sum->first_ns;
		sum->last_ns = p->last_ns > sum->last_ns ? p->last_ns : sum->last_ns;
		sum->flagged |= p->flagged;
	}
	hashmap_clear(&index);
	return n;
}

static int by_sent(const void *x, const void *y)
{
	const struct exfil_pair *a = x, *b = y;

	return (a->sent < b->sent) - (a->sent > b->sent);
}

static int print_pair(const struct exfil_pair *p, const struct peers *peers)
{
	struct value v[EX_FIELDS];
	const char *remote = p->remote ? peer_text(peers, p->remote) : NULL;
	bool process = p->pid >= 0;
	struct task task;

	if (process && capture_task(p->cap, p->task, &task))
		return -1;
	v[EX_HOST] = text_value(peers_host_name(peers, p->host),
				strlen(peers_host_name(peers, p->host)));
	v[EX_PID] = process ? int_value(p->pid) : null_value();
	v[EX_COMM] = process ? checked_text_value(task.comm, task.comm_len, task.comm_plain)
			     : null_value();
	v[EX_REMOTE] = remote ? text_value(remote, strlen(remote)) : null_value();
	v[EX_CONNS] = int_value(p->connections);
	v[EX_SENT] = int_value(p->sent);
	v[EX_RECEIVED] = int_value(p->received);
	v[EX_OPENED_SENT] = int_value(p->opened_sent);
	v[EX_OPENED_RECEIVED] = int_value(p->opened_received);
	v[EX_PCR] =
		p->opened_sent + p->opened_received
			? int_value((int64_t)(exfil_pcr(p->opened_sent, p->opened_received) * 1000 +
					      (p->opened_sent >= p->opened_received ? 0.5 : -0.5)))
			: null_value();
	v[EX_FIRST] = int_value(p->first_ns);
	v[EX_LAST] = int_value(p->last_ns);
	v[EX_FLAG] = p->flagged ? word_value("exfil") : null_value();
	v[EX_MIN_BYTES] = int_value(ex.t.min_bytes);
	v[EX_PCR_THRESHOLD] = int_value((int64_t)(ex.t.pcr * 1000));
	output_row(v);
	return 0;
}

static int run(struct captures *set, const struct options *opts)
{
	const struct field fields[EX_FIELDS] = {
		[EX_HOST] = {"HOST", "host", set->host_width, FIELD_TEXT, set->many_hosts},
		[EX_PID] = {"PID", "pid", 7, FIELD_INT, ex.by != BY_REMOTE},
		[EX_COMM] = {"COMM", "comm", 16, FIELD_TEXT, ex.by != BY_REMOTE},
		[EX_REMOTE] = {"REMOTE", "remote", 16, FIELD_TEXT, ex.by != BY_PROCESS},
		[EX_CONNS] = {"CONNS", "connections", 6, FIELD_INT, true},
		[EX_SENT] = {"SENT", "sent", 12, FIELD_INT, true},
		[EX_RECEIVED] = {"RECEIVED", "received", 12, FIELD_INT, true},
		[EX_OPENED_SENT] = {NULL, "opened_sent", 0, FIELD_INT, false},
		[EX_OPENED_RECEIVED] = {NULL, "opened_received", 0, FIELD_INT, false},
		[EX_PCR] = {"PCR", "pcr", 6, FIELD_FIXED3, true},
		[EX_FIRST] = {"FIRST", "first", 12, FIELD_CLOCK, true},
		[EX_LAST] = {"LAST", "last", 12, FIELD_CLOCK, true},
		[EX_FLAG] = {"FLAG", "flag", 0, FIELD_TEXT, true},
		[EX_MIN_BYTES] = {NULL, "min_bytes", 0, FIELD_INT, false},
		[EX_PCR_THRESHOLD] = {NULL, "pcr_threshold", 0, FIELD_FIXED3, false},
	};
	struct peers *peers = peers_new(set);
	struct exfil e = {0};
	int err;

	if (!ex.set) {
		exfil_defaults(&ex.t);
		ex.top = TOP_DEFAULT;
	}
	memcpy(ex.fields, fields, sizeof(fields));
	err = find_exfil(set, opts, &ex.t, ex.by == BY_PAIR ? (size_t)ex.top : 0, peers, &e);
	if (!err) {
		size_t n = totals(&e);

		if (ex.by != BY_PAIR && n)
			qsort(e.list, n, sizeof(*e.list), by_sent);
		if (opts->format == FORMAT_TABLE)
			printf("# exfil: %lld bytes or more out to one remote, over connections "
			       "the "
			       "process opened, with a PCR of %.3f or more\n",
			       (long long)ex.t.min_bytes, ex.t.pcr);
		output_begin(opts->format, opts->local, ex.fields, EX_FIELDS);
		/* To fit a terminal: the first time, the PCR, the connections, the bytes in. */
		output_column_fit(EX_FIRST, 0, 1);
		output_column_fit(EX_PCR, 0, 2);
		output_column_fit(EX_CONNS, 0, 3);
		output_column_fit(EX_RECEIVED, 0, 4);
		for (size_t i = 0; !err && i < n; i++)
			err = print_pair(&e.list[i], peers);
		if (!err && ex.by == BY_PAIR && opts->format == FORMAT_TABLE && e.pairs > n)
			printf("# %s%zu more pairs, below the top %lld (--top)\n",
			       e.pairs_at_least ? "at least " : "", e.pairs - n, (long long)ex.top);
	}
	exfil_free(&e);
	peers_free(peers);
	return err;
}

static const char *const kinds[] = {"close", NULL};

const struct command exfil_command = {
	.summary = "bytes sent per process and remote; what looks like exfiltration",
	.spec = {.name = "exfil",
		 .usage = usage,
		 .short_options = "p:46",
		 .long_options = long_options,
		 .accepts = ACCEPT_FILTERS | ACCEPT_ADDR,
		 .own_option = own_option},
	.kinds = kinds,
	.run = run,
	.state = &ex,
	.state_size = sizeof(ex),
};
