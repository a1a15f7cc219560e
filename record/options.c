/* record's command line: parsing, validation and the USAGE text. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "util.h"

#define DEFAULT_RING_BUFFER (16u << 20)
#define PID_MAX_LIMIT	    4194304 /* include/linux/threads.h */
#define MAX_DURATION_S	    (366.0 * 24 * 3600)

enum long_only_option {
	OPT_MAX_SIZE = 256,
	OPT_MAX_EVENTS,
};

static const char usage[] =
	"usage: record [-h] [-o FILE] [-e KINDS] [-d SECONDS] [-p PID] [-u UID] [-K] [-U]\n"
	"              [-b SIZE] [-C SIZE] [--max-size SIZE] [--max-events N] [-f] [-q]\n"
	"\n"
	"Record TCP connects, accepts, resets, connection lives (duration, bytes,\n"
	"who closed), capability checks, process lives and DNS answers into one\n"
	"SQLite capture file, for `report` to replay on any machine.  Each event\n"
	"carries its process, with its network namespace, its pid in its own pid\n"
	"namespace and its cgroup's path (named when first seen): containers told\n"
	"apart from the host.  Needs root (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN)\n"
	"and a kernel with BTF.\n"
	"\n"
	"options:\n"
	"  -h, --help             show this help message and exit\n"
	"  -o, --output FILE      capture file (default: casefile-HOST-YYYYMMDDTHHMMSSZ.db);\n"
	"                         created with mode 0600, never through a symlink\n"
	"  -e, --events KINDS     comma-separated kinds to record: connect, accept,\n"
	"                         reset, capable, process (exec, fork, exit), dns\n"
	"                         (answers seen over UDP), close (connection lives:\n"
	"                         duration, bytes each way, who closed) (default: all\n"
	"                         seven, or those the running kernel can record, named\n"
	"                         if not)\n"
	"  -d, --duration SECS    stop after SECS seconds (default: at Ctrl-C or SIGTERM)\n"
	"  -p, --pid PID          record only this process; events outside process\n"
	"                         context (resets sent from softirq) cannot be\n"
	"                         attributed to it and are not recorded\n"
	"  -u, --uid UID          record only this user, with the same limit as -p\n"
	"  -K, --kernel-stacks    record kernel stacks of capability checks, or of the\n"
	"                         kinds marked :stack in -e (-e connect:stack,capable)\n"
	"  -U, --user-stacks      record user stacks, for the same kinds as -K; they need\n"
	"                         code built with frame pointers\n"
	"  -b, --ring-buffer SIZE kernel-to-recorder buffer of each kind recorded, a\n"
	"                         power of two from 4K to 1G, with K, M or G (default:\n"
	"                         16M for capable, 1M for each other kind); records\n"
	"                         that find it full are counted as lost, with when\n"
	"                         (to 10 ms) and the process that lost them\n"
	"  -C, --rotate SIZE      when the file reaches SIZE, go on in a new one: FILE,\n"
	"                         then FILE with .2, .3... before its extension\n"
	"      --max-size SIZE    stop cleanly once the capture (all files) reaches SIZE\n"
	"      --max-events N     stop cleanly after N events\n"
	"  -f, --force            replace FILE if it is a capture (-ff: any regular file)\n"
	"  -q, --quiet            no live status line\n"
	"\n"
	"examples:\n"
	"    record                        # everything, until Ctrl-C\n"
	"    record -o case42.db -d 600    # ten minutes into case42.db\n"
	"    record -e connect,accept      # TCP sessions only\n"
	"    record -e capable -p 181      # capability checks of PID 181\n"
	"    record -u 1000                # only what UID 1000 does\n"
	"    record -e capable -K -U       # capability checks with their stacks\n"
	"    record -K -e connect:stack    # connects with their kernel stacks\n"
	"    record -C 100M --max-size 1G  # files of 100 MB, 1 GB at most\n";

const char *kinds_to_string(unsigned kinds, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < KINDS; i++) {
		if (!(kinds & 1u << i))
			continue;
		used += snprintf(buf + used, used < size ? size - used : 0, "%s%s", used ? "," : "",
				 kind_names[i]);
	}
	return buf;
}

/*
 * Pids on this system lie below /proc/sys/kernel/pid_max: beyond, -p would
 * be accepted and keep nothing.
 */
static int64_t pid_max(void)
{
	FILE *f = fopen("/proc/sys/kernel/pid_max", "re");
	long long max = PID_MAX_LIMIT;

	if (f) {
		if (fscanf(f, "%lld", &max) != 1 || max < 2 || max > PID_MAX_LIMIT)
			max = PID_MAX_LIMIT;
		fclose(f);
	}
	return max;
}

/* The kinds that can take stacks: those with a record type that can carry them. */
static unsigned stackable_kinds(void)
{
	unsigned kinds = 0;

	for (int i = 0; i < KINDS; i++)
		if (record_types(1u << i) & stacked_record_types)
			kinds |= 1u << i;
	return kinds;
}

/* Parse "connect,capable:stack": the kinds, and those marked to take stacks. */
static int parse_kinds(const char *arg, unsigned *kinds, unsigned *stack_kinds)
{
	char *list = xstrdup(arg), *save = NULL;
	int err = 0;

	*kinds = *stack_kinds = 0;
	for (char *word = strtok_r(list, ",", &save); word; word = strtok_r(NULL, ",", &save)) {
		char *mark = strchr(word, ':');
		int i;

		if (mark)
			*mark++ = '\0';
		for (i = 0; i < KINDS; i++)
			if (!strcmp(word, kind_names[i]))
				break;
		if (i == KINDS ||
		    (mark && (strcmp(mark, "stack") || !(stackable_kinds() & 1u << i)))) {
			char known[128], stackable[128];

			fprintf(stderr,
				"record: unknown event kind '%s%s%s' (known: %s; with :stack: "
				"%s)\n",
				word, mark ? ":" : "", mark ? mark : "",
				kinds_to_string(KIND_ALL, known, sizeof(known)),
				kinds_to_string(stackable_kinds(), stackable, sizeof(stackable)));
			err = -1;
			break;
		}
		if (*kinds & (1u << i)) {
			fprintf(stderr, "record: -e names '%s' twice\n", word);
			err = -1;
			break;
		}
		*kinds |= 1u << i;
		if (mark)
			*stack_kinds |= 1u << i;
	}
	if (!err && !*kinds) {
		fprintf(stderr, "record: -e needs at least one event kind\n");
		err = -1;
	}
	free(list);
	return err;
}

/* -K and -U apply to the kinds marked :stack, or by default to capable. */
static int choose_stack_kinds(struct record_options *opts, unsigned stack_kinds, bool kernel,
			      bool user)
{
	if (stack_kinds && !kernel && !user) {
		fprintf(stderr, "record: ':stack' in -e needs -K or -U\n");
		return -1;
	}
	if (!stack_kinds)
		stack_kinds = opts->kinds & KIND_CAPABLE;
	if ((kernel || user) && !stack_kinds) {
		fprintf(stderr, "record: -K and -U take stacks of capability checks, which -e "
				"leaves out; mark kinds with ':stack'\n");
		return -1;
	}
	/* Outcomes and unaccepted handshakes happen in softirq: no stacks of their own. */
	opts->kernel_stack_types = kernel ? record_types(stack_kinds) & stacked_record_types : 0;
	opts->user_stack_types = user ? record_types(stack_kinds) & stacked_record_types : 0;
	return 0;
}

/* A byte count with an optional K, M or G suffix, in [min, max]. */
static int parse_size(const char *arg, uint64_t min, uint64_t max, uint64_t *bytes)
{
	unsigned long long value;
	unsigned shift = 0;
	char *end;

	errno = 0;
	value = strtoull(arg, &end, 10);
	if (end == arg || errno || *arg == '-')
		return -1;
	if (*end == 'K' || *end == 'M' || *end == 'G')
		shift = *end == 'K' ? 10 : *end == 'M' ? 20 : 30, end++;
	if (*end || value > (UINT64_MAX >> shift))
		return -1;
	value <<= shift;
	if (value < min || value > max)
		return -1;
	*bytes = value;
	return 0;
}

static int parse_ring_buffer(const char *arg, uint32_t *bytes)
{
	uint64_t value;

	if (parse_size(arg, 4096, 1u << 30, &value) || (value & (value - 1))) {
		fprintf(stderr,
			"record: -b %s: ring buffer size must be a power of two from 4K to 1G\n",
			arg);
		return -1;
	}
	*bytes = (uint32_t)value;
	return 0;
}

/* A capture size limit: at least 1M (the schema alone takes tens of K). */
static int parse_limit(const char *option, const char *arg, uint64_t *bytes)
{
	if (parse_size(arg, 1u << 20, 1ull << 40, bytes)) {
		fprintf(stderr, "record: %s %s: size must be from 1M to 1024G, with K, M or G\n",
			option, arg);
		return -1;
	}
	return 0;
}

static int parse_duration(const char *arg, double *seconds)
{
	char *end;

	errno = 0;
	*seconds = strtod(arg, &end);
	if (end == arg || *end || errno || !isfinite(*seconds) || *seconds <= 0 ||
	    *seconds > MAX_DURATION_S) {
		fprintf(stderr,
			"record: -d %s: duration must be a number of seconds, up to a year\n", arg);
		return -1;
	}
	return 0;
}

int parse_record_options(int argc, char **argv, struct record_options *opts)
{
	static const struct option long_options[] = {
		{"help", no_argument, NULL, 'h'},
		{"output", required_argument, NULL, 'o'},
		{"events", required_argument, NULL, 'e'},
		{"duration", required_argument, NULL, 'd'},
		{"pid", required_argument, NULL, 'p'},
		{"kernel-stacks", no_argument, NULL, 'K'},
		{"user-stacks", no_argument, NULL, 'U'},
		{"uid", required_argument, NULL, 'u'},
		{"ring-buffer", required_argument, NULL, 'b'},
		{"rotate", required_argument, NULL, 'C'},
		{"max-size", required_argument, NULL, OPT_MAX_SIZE},
		{"max-events", required_argument, NULL, OPT_MAX_EVENTS},
		{"force", no_argument, NULL, 'f'},
		{"quiet", no_argument, NULL, 'q'},
		{NULL, 0, NULL, 0},
	};
	bool kernel_stacks = false, user_stacks = false;
	unsigned stack_kinds = 0;
	int c;

	*opts = (struct record_options){
		.kinds = KIND_ALL,
		.filter_pid = -1,
		.filter_uid = -1,
		.ring_buffer_bytes = DEFAULT_RING_BUFFER,
	};
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:e:d:p:u:KUb:C:fq", long_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return 1;
		case 'o':
			if (!*optarg) {
				fprintf(stderr, "record: -o needs a file name\n");
				return -1;
			}
			opts->output = optarg;
			break;
		case 'e':
			if (parse_kinds(optarg, &opts->kinds, &stack_kinds))
				return -1;
			opts->kinds_given = true;
			break;
		case 'K':
			kernel_stacks = true;
			break;
		case 'U':
			user_stacks = true;
			break;
		case 'd':
			if (parse_duration(optarg, &opts->duration_s))
				return -1;
			break;
		case 'p':
			if (parse_integer(optarg, 1, pid_max() - 1, &opts->filter_pid)) {
				fprintf(stderr,
					"record: -p %s: not a process id (this system's are 1 to "
					"%lld)\n",
					optarg, (long long)pid_max() - 1);
				return -1;
			}
			break;
		case 'u':
			if (parse_integer(optarg, 0, UINT32_MAX - 1, &opts->filter_uid)) {
				fprintf(stderr, "record: -u %s: not a user id\n", optarg);
				return -1;
			}
			break;
		case 'b':
			if (parse_ring_buffer(optarg, &opts->ring_buffer_bytes))
				return -1;
			opts->ring_buffer_given = true;
			break;
		case 'C':
			if (parse_limit("-C", optarg, &opts->rotate_bytes))
				return -1;
			break;
		case OPT_MAX_SIZE:
			if (parse_limit("--max-size", optarg, &opts->max_bytes))
				return -1;
			break;
		case OPT_MAX_EVENTS: {
			int64_t n;

			if (parse_integer(optarg, 1, INT64_MAX, &n)) {
				fprintf(stderr, "record: --max-events %s: not a positive number\n",
					optarg);
				return -1;
			}
			opts->max_events = (uint64_t)n;
			break;
		}
		case 'f':
			opts->force++;
			break;
		case 'q':
			opts->quiet = true;
			break;
		case ':':
			fprintf(stderr, "record: option %s needs a value (see record --help)\n",
				option_name(optopt, argv[optind - 1]));
			return -1;
		default:
			fprintf(stderr, "record: unknown option %s (see record --help)\n",
				option_name(optopt, argv[optind - 1]));
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "record: unexpected argument '%s' (see record --help)\n",
			argv[optind]);
		return -1;
	}
	if (choose_stack_kinds(opts, stack_kinds, kernel_stacks, user_stacks))
		return -1;
	opts->command_line = shell_quote_argv(argc, argv);
	return 0;
}

void free_record_options(struct record_options *opts)
{
	free(opts->command_line);
	opts->command_line = NULL;
}
