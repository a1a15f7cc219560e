/* report beacons: processes calling one destination home at regular intervals. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beacons.h"
#include "command.h"
#include "util.h"

enum {
	BC_HOST,
	BC_PID,
	BC_COMM,
	BC_REMOTE,
	BC_PORT,
	BC_ADDRESSES,
	BC_CONNS,
	BC_INTERVAL,
	BC_MADM,
	BC_BYTES,
	BC_TIMING,
	BC_DATA,
	BC_SCORE,
	BC_FIRST,
	BC_LAST,
	BC_MIN_CONNECTIONS,
	BC_MIN_SCORE,
	BC_FIELDS
};

enum { OPT_CONNECTIONS = 0x500, OPT_SCORE };

static struct {
	struct beacon_thresholds t;
	bool set;
	struct field fields[BC_FIELDS];
} bc;

static const char usage[] =
	"usage: report beacons [-h] [--connections N] [--score F] [common options] FILE...\n"
	"\n"
	"Beacons: a process connecting to one destination (an address and port, or one\n"
	"port across addresses) again and again, at regular intervals, sending small\n"
	"payloads of one size, from the connections' lives (record's close kind).\n"
	"RITA's beacon score, from 0 to 1: the average of its timing half (the\n"
	"intervals' symmetry, their spread against their median, the connections against\n"
	"those the span holds at the median interval) and its data half (the bytes\n"
	"sent: their symmetry, their spread against 32 bytes, their median against\n"
	"64 KiB).  A periodic upload of varying size is periodic but no beacon.\n"
	"\n"
	"options:\n"
	"  --connections N  at least this many connections (10)\n"
	"  --score F        at least this score, from 0 to 1 (0.8)\n"
	"\n"
	"INTERVAL and MADM: the median interval between connections and its median\n"
	"absolute deviation, in ms; BYTES: the median sent per connection.\n"
	"\n"
	"examples:\n"
	"    report beacons case42.db\n"
	"    report beacons --score 0.7 --format json case42.db\n";

static const struct option long_options[] = {
	{"connections", required_argument, NULL, OPT_CONNECTIONS},
	{"score", required_argument, NULL, OPT_SCORE},
	{NULL, 0, NULL, 0},
};

static int parse_score(const char *arg, double *score)
{
	int saved_errno = errno;
	char *end;

	errno = 0;
	*score = strtod(arg, &end);
	if (end == arg || *end || errno || !(*score >= 0 && *score <= 1)) {
		errno = saved_errno;
		return option_error("beacons", "--score wants a score from 0 to 1, not '%s'", arg);
	}
	errno = saved_errno;
	return 0;
}

static int own_option(int option, const char *arg, void *ctx)
{
	(void)ctx;
	if (!bc.set) {
		beacon_defaults(&bc.t);
		bc.set = true;
	}
	if (option == OPT_CONNECTIONS) {
		if (parse_integer(arg, 3, 1000000000, &bc.t.connections))
			return option_error("beacons",
					    "--connections wants a number from 3, not '%s'", arg);
		return 0;
	}
	return option == OPT_SCORE ? parse_score(arg, &bc.t.score) : 0;
}

static int64_t thousandths(double x)
{
	return (int64_t)(x * 1000 + 0.5);
}

static int print_beacon(const struct beacon *b, const struct peers *peers)
{
	struct value v[BC_FIELDS];
	struct task task;
	const char *host = peers_host_name(peers, b->host);
	const char *remote = b->remote ? peer_text(peers, b->remote) : NULL;

	if (capture_task(b->cap, b->task, &task))
		return -1;
	v[BC_HOST] = text_value(host, strlen(host));
	v[BC_PID] = int_value(b->pid);
	v[BC_COMM] = checked_text_value(task.comm, task.comm_len, task.comm_plain);
	v[BC_REMOTE] = remote ? text_value(remote, strlen(remote)) : null_value();
	v[BC_PORT] = int_value(b->port);
	v[BC_ADDRESSES] = int_value(b->addresses);
	v[BC_CONNS] = int_value(b->connections);
	v[BC_INTERVAL] = int_value(b->median_ns);
	v[BC_MADM] = int_value(b->madm_ns);
	v[BC_BYTES] = int_value(b->median_bytes);
	v[BC_TIMING] = int_value(thousandths(b->timing));
	v[BC_DATA] = int_value(thousandths(b->data));
	v[BC_SCORE] = int_value(thousandths(b->score));
	v[BC_FIRST] = int_value(b->first_ns);
	v[BC_LAST] = int_value(b->last_ns);
	v[BC_MIN_CONNECTIONS] = int_value(bc.t.connections);
	v[BC_MIN_SCORE] = int_value(thousandths(bc.t.score));
	output_row(v);
	return 0;
}

static int run(struct captures *set, const struct options *opts)
{
	const struct field fields[BC_FIELDS] = {
		[BC_HOST] = {"HOST", "host", set->host_width, FIELD_TEXT, set->many_hosts},
		[BC_PID] = {"PID", "pid", 7, FIELD_INT, true},
		[BC_COMM] = {"COMM", "comm", 16, FIELD_TEXT, true},
		[BC_REMOTE] = {"REMOTE", "remote", 16, FIELD_TEXT, true},
		[BC_PORT] = {"PORT", "port", 5, FIELD_INT, true},
		[BC_ADDRESSES] = {NULL, "addresses", 0, FIELD_INT, false},
		[BC_CONNS] = {"CONNS", "connections", 6, FIELD_INT, true},
		[BC_INTERVAL] = {"INTERVAL(ms)", "interval_ns", 12, FIELD_MILLIS, true},
		[BC_MADM] = {"MADM(ms)", "madm_ns", 10, FIELD_MILLIS, true},
		[BC_BYTES] = {"BYTES", "median_bytes", 8, FIELD_INT, true},
		[BC_TIMING] = {"TIMING", "timing", 6, FIELD_FIXED3, true},
		[BC_DATA] = {"DATA", "data", 6, FIELD_FIXED3, true},
		[BC_SCORE] = {"SCORE", "score", 6, FIELD_FIXED3, true},
		[BC_FIRST] = {"FIRST", "first", 12, FIELD_CLOCK, true},
		[BC_LAST] = {"LAST", "last", 12, FIELD_CLOCK, true},
		[BC_MIN_CONNECTIONS] = {NULL, "min_connections", 0, FIELD_INT, false},
		[BC_MIN_SCORE] = {NULL, "min_score", 0, FIELD_FIXED3, false},
	};
	struct peers *peers = peers_new(set);
	struct beacons b = {0};
	int err;

	if (!bc.set)
		beacon_defaults(&bc.t);
	memcpy(bc.fields, fields, sizeof(fields));
	err = find_beacons(set, opts, &bc.t, peers, &b);
	if (!err) {
		if (opts->format == FORMAT_TABLE)
			printf("# beacons: %lld connections or more to one destination, RITA's "
			       "score "
			       "%.3f or more\n",
			       (long long)bc.t.connections, bc.t.score);
		output_begin(opts->format, opts->local, bc.fields, BC_FIELDS);
		/*
		 * To fit a terminal: the first time, the score's parts and the
		 * spread (the score stays), the bytes, the port, the pid.
		 */
		output_column_fit(BC_FIRST, 0, 1);
		output_column_fit(BC_DATA, 0, 2);
		output_column_fit(BC_TIMING, 0, 3);
		output_column_fit(BC_MADM, 0, 4);
		output_column_fit(BC_BYTES, 0, 5);
		output_column_fit(BC_PORT, 0, 6);
		output_column_fit(BC_PID, 0, 7);
		for (size_t i = 0; !err && i < b.count; i++)
			err = print_beacon(&b.list[i], peers);
	}
	beacons_free(&b);
	peers_free(peers);
	return err;
}

static const char *const kinds[] = {"close", NULL};

const struct command beacons_command = {
	.summary = "processes calling one destination at regular intervals (RITA's score)",
	.spec = {.name = "beacons",
		 .usage = usage,
		 .short_options = "p:46",
		 .long_options = long_options,
		 .accepts = ACCEPT_FILTERS | ACCEPT_ADDR,
		 .own_option = own_option},
	.kinds = kinds,
	.run = run,
	.state = &bc,
	.state_size = sizeof(bc),
};
