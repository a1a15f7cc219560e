/*
 * The command line of a report subcommand: the options every subcommand
 * shares (filters, format, time zone, --follow), the BCC tools' filters a
 * subcommand opts into (-p, -u, -P, -4, -6), and its own, through a callback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "util.h"
#include "when.h"

enum {
	OPT_SINCE = 0x100,
	OPT_UNTIL,
	OPT_COMM,
	OPT_CGROUP,
	OPT_MNTNS,
	OPT_NETNS,
	OPT_PPID,
	OPT_FORMAT,
	OPT_LOCAL,
	OPT_FOLLOW,
	OPT_ADDR,
	OPT_WIDTH,
};

static const struct option always_options[] = {
	{"help", no_argument, NULL, 'h'},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"local", no_argument, NULL, OPT_LOCAL},
	{"width", required_argument, NULL, OPT_WIDTH},
};

static const struct option filter_options[] = {
	{"since", required_argument, NULL, OPT_SINCE},
	{"until", required_argument, NULL, OPT_UNTIL},
	{"comm", required_argument, NULL, OPT_COMM},
	{"cgroup", required_argument, NULL, OPT_CGROUP},
	{"mntns", required_argument, NULL, OPT_MNTNS},
	{"netns", required_argument, NULL, OPT_NETNS},
	{"ppid", required_argument, NULL, OPT_PPID},
};

static const struct option follow_options[] = {
	{"follow", no_argument, NULL, OPT_FOLLOW},
};

static const struct option lineage_options[] = {
	{"lineage", no_argument, NULL, 'l'},
};

static const struct option addr_options[] = {
	{"addr", required_argument, NULL, OPT_ADDR},
};

/* The BCC tools' filters, offered when the subcommand's getopt string has the letter. */
static const struct option tool_options[] = {
	{"pid", required_argument, NULL, 'p'},	{"uid", required_argument, NULL, 'u'},
	{"port", required_argument, NULL, 'P'}, {"ipv4", no_argument, NULL, '4'},
	{"ipv6", no_argument, NULL, '6'},
};

static const char format_help[] =
	"  --format FORMAT  table (the default), json (JSON Lines) or csv\n";

static const char always_help[] =
	"  --local          times in the local time zone, not UTC\n"
	"  --width N        fit tables and pages to N columns (0: never cut); by default\n"
	"                   a terminal's width (COLUMNS, else its own) when standard\n"
	"                   output is one, else none.  JSON and CSV are never cut\n"
	"  -h, --help       this help\n";

static const char filter_help[] =
	"  --since TIME     only events at or after TIME\n"
	"  --until TIME     only events at or before TIME\n"
	"  --comm NAME      only processes named NAME exactly (\\xHH for a byte, \\\\ for \\)\n"
	"  --cgroup ID      only this cgroup v2 id\n"
	"  --mntns INUM     only this mount namespace (inode number)\n"
	"  --netns INUM     only this network namespace (inode number, as stat -L -c %i\n"
	"                   /run/netns/NAME or readlink /proc/PID/ns/net show it): a\n"
	"                   socket's own for resets and closes, the process's for the rest\n"
	"  --ppid PID       only processes whose parent is PID (as the event saw it)\n";

static const char addr_help[] =
	"  --addr ADDRESS   only events with this address at either end (an IPv4 address\n"
	"                   matches its IPv4-mapped IPv6 form too)\n";

static const char follow_help[] =
	"  --follow         keep reading a capture still being recorded, printing events\n"
	"                   as they land, until its recorder stops (or Ctrl-C); a\n"
	"                   rotated one (record -C) into each next part, said on stderr\n";

static const char lineage_help[] =
	"  -l, --lineage    include who did it: the process's executable (EXE, marked\n"
	"                   (deleted) or (world-writable dir)) and its parents (PARENTS:\n"
	"                   sh(7472) < sshd(900) < systemd(1)), as at the event's time;\n"
	"                   and where it ran: its network namespace (NETNS), its pid in\n"
	"                   its own pid namespace (NSPID) and its cgroup's path (CGROUP)\n";

static const char time_help[] =
	"\nTIME: 2026-11-23T01:18:03.5Z, 2026-11-23T02:18:03+01:00, \"2026-11-23 01:18:03\"\n"
	"(no zone: UTC, or local time with --local), 2026-11-23 (midnight), 01:18 or\n"
	"01:18:03 (on the day the earliest capture started), @1795397883 (Unix seconds),\n"
	"or +90s, +5m, +1h30m (after the earliest capture started).\n";

int option_error(const char *command, const char *format, ...)
{
	va_list ap;

	fprintf(stderr, "report: %s: ", command);
	va_start(ap, format);
	vfprintf(stderr, format, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static void add_options(struct option *all, int *n, const struct option *more, size_t count)
{
	for (size_t i = 0; i < count; i++)
		all[(*n)++] = more[i];
}

/* Every long option the subcommand takes, ending with a zero entry. */
static struct option *long_options_of(const struct command_spec *spec)
{
	size_t own = 0;
	struct option *all;
	int n = 0;

	while (spec->long_options && spec->long_options[own].name)
		own++;
	all = xcalloc(ARRAY_SIZE(always_options) + ARRAY_SIZE(filter_options) +
			      ARRAY_SIZE(follow_options) + ARRAY_SIZE(lineage_options) +
			      ARRAY_SIZE(addr_options) + ARRAY_SIZE(tool_options) + own + 1,
		      sizeof(*all));
	add_options(all, &n, always_options, ARRAY_SIZE(always_options));
	if (spec->accepts & ACCEPT_FILTERS)
		add_options(all, &n, filter_options, ARRAY_SIZE(filter_options));
	if (spec->accepts & ACCEPT_FOLLOW)
		add_options(all, &n, follow_options, ARRAY_SIZE(follow_options));
	if (spec->accepts & ACCEPT_LINEAGE)
		add_options(all, &n, lineage_options, ARRAY_SIZE(lineage_options));
	if (spec->accepts & ACCEPT_ADDR)
		add_options(all, &n, addr_options, ARRAY_SIZE(addr_options));
	for (size_t i = 0; i < ARRAY_SIZE(tool_options); i++)
		if (strchr(spec->short_options, tool_options[i].val))
			all[n++] = tool_options[i];
	add_options(all, &n, spec->long_options, own);
	return all;
}

static void print_help(const struct command_spec *spec)
{
	fputs(spec->usage, stdout);
	fputs("\ncommon options:\n", stdout);
	if (spec->accepts & ACCEPT_FILTERS)
		fputs(filter_help, stdout);
	if (spec->accepts & ACCEPT_ADDR)
		fputs(addr_help, stdout);
	if (spec->accepts & ACCEPT_FOLLOW)
		fputs(follow_help, stdout);
	if (spec->accepts & ACCEPT_LINEAGE)
		fputs(lineage_help, stdout);
	if (!(spec->accepts & ACCEPT_EXPORT))
		fputs(format_help, stdout);
	fputs(always_help, stdout);
	if (spec->accepts & ACCEPT_FILTERS)
		fputs(time_help, stdout);
}

static int parse_number(const char *command, const char *name, const char *arg, int64_t max,
			int64_t *value)
{
	if (parse_integer(arg, 0, max, value))
		return option_error(command, "%s wants a number from 0 to %lld, not '%s'", name,
				    (long long)max, arg);
	return 0;
}

/* A cgroup id is a full 64-bit number. */
static int parse_u64(const char *command, const char *name, const char *arg, uint64_t *value)
{
	int saved_errno = errno;
	char *end;

	errno = 0;
	*value = strtoull(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end || errno) {
		errno = saved_errno;
		return option_error(command, "%s wants a number, not '%s'", name, arg);
	}
	errno = saved_errno;
	return 0;
}

int parse_port_list(const char *command, const char *option, const char *arg, char **json)
{
	char *p = *json = xmalloc(strlen(arg) + 3);
	const char *item = arg;

	*p++ = '[';
	for (;;) {
		size_t len = strcspn(item, ",");
		char number[8];
		int64_t port;

		if (len >= sizeof(number))
			len = sizeof(number) - 1; /* too long to be a port: refused below */
		memcpy(number, item, len);
		number[len] = '\0';
		if (parse_integer(number, 1, 65535, &port) || (item[len] && item[len] != ','))
			return option_error(command, "%s wants ports from 1 to 65535, not '%s'",
					    option, arg);
		p += sprintf(p, "%s%lld", item == arg ? "" : ",", (long long)port);
		if (!item[len])
			break;
		item += len + 1;
	}
	strcpy(p, "]");
	return 0;
}

/* An address as the capture writes it (inet_ntop), and its IPv4-mapped form. */
static int parse_address(const char *command, const char *arg, struct address_filter *addr)
{
	unsigned char bytes[16];
	int family = strchr(arg, ':') ? AF_INET6 : AF_INET;

	if (inet_pton(family, arg, bytes) != 1)
		return option_error(command, "--addr wants an IPv4 or IPv6 address, not '%s'", arg);
	inet_ntop(family, bytes, addr->text, sizeof(addr->text));
	snprintf(addr->mapped, sizeof(addr->mapped), "%s%s", family == AF_INET ? "::ffff:" : "",
		 addr->text);
	addr->given = true;
	return 0;
}

/* report export's formats, or the others' */
static int parse_format(const char *command, const char *arg, bool export,
			enum output_format *format)
{
	static const char *const names[] = {
		[FORMAT_TABLE] = "table", [FORMAT_JSON] = "json",
		[FORMAT_CSV] = "csv",	  [FORMAT_OCSF] = "ocsf",
		[FORMAT_ECS] = "ecs",	  [FORMAT_TIMESKETCH] = "timesketch"};
	size_t first = export ? FORMAT_OCSF : FORMAT_TABLE,
	       end = export ? ARRAY_SIZE(names) : FORMAT_OCSF;

	for (size_t i = first; i < end; i++) {
		if (!strcmp(arg, names[i])) {
			*format = (enum output_format)i;
			return 0;
		}
	}
	return option_error(command, "--format wants %s, not '%s'",
			    export ? "ocsf, ecs or timesketch" : "table, json or csv", arg);
}

static int parse_comm(const char *command, const char *arg, struct options *opts)
{
	free(opts->comm);
	opts->comm = xmalloc(strlen(arg) + 1);
	if (unrender_text(arg, opts->comm, &opts->comm_len))
		return option_error(command,
				    "--comm: '%s' has a backslash that is not \\\\ or \\xHH", arg);
	return 0;
}

/* A time is checked now (any reference) and resolved once the captures are open. */
static int check_time(const char *command, const char *name, const char *arg, bool local,
		      const char **text)
{
	int64_t ignored;

	if (parse_when(arg, 0, local, &ignored))
		return option_error(command, "%s: '%s' is not a time (see --help)", name, arg);
	*text = arg;
	return 0;
}

static int parse_one(int option, const char *arg, const struct command_spec *spec,
		     struct options *opts)
{
	const char *command = spec->name;
	int64_t value;

	switch (option) {
	case OPT_FORMAT:
		return parse_format(command, arg, spec->accepts & ACCEPT_EXPORT, &opts->format);
	case OPT_LOCAL:
		opts->local = true;
		return 0;
	case OPT_WIDTH:
		if (parse_integer(arg, 0, WIDTH_MAX, &value) || (value && value < WIDTH_MIN))
			return option_error(command,
					    "--width wants 0 or %d to %d columns, not '%s'",
					    WIDTH_MIN, WIDTH_MAX, arg);
		opts->width = (int)value;
		return 0;
	case OPT_FOLLOW:
		opts->follow = true;
		return 0;
	case OPT_ADDR:
		return parse_address(command, arg, &opts->addr);
	case 'l': /* offered with ACCEPT_LINEAGE only */
		opts->lineage = true;
		return 0;
	case OPT_SINCE:
		return check_time(command, "--since", arg, opts->local, &opts->since_text);
	case OPT_UNTIL:
		return check_time(command, "--until", arg, opts->local, &opts->until_text);
	case OPT_COMM:
		return parse_comm(command, arg, opts);
	case OPT_CGROUP:
		opts->has_cgroup = true;
		return parse_u64(command, "--cgroup", arg, &opts->cgroup);
	case OPT_MNTNS:
		opts->has_mntns = true;
		if (parse_number(command, "--mntns", arg, UINT32_MAX, &value))
			return -1;
		opts->mntns = (uint64_t)value;
		return 0;
	case OPT_NETNS:
		opts->has_netns = true;
		if (parse_number(command, "--netns", arg, UINT32_MAX, &value))
			return -1;
		opts->netns = (uint64_t)value;
		return 0;
	case OPT_PPID:
		return parse_number(command, "--ppid", arg, INT32_MAX, &opts->ppid);
	case 'p':
		return parse_number(command, "-p", arg, INT32_MAX, &opts->pid);
	case 'u':
		return parse_number(command, "-u", arg, UINT32_MAX - 1, &opts->uid);
	case 'P':
		free(opts->ports);
		return parse_port_list(command, "-P", arg, &opts->ports);
	case '4':
	case '6':
		if (opts->family && opts->family != option - '0')
			return option_error(command, "-4 and -6 exclude each other");
		opts->family = option - '0';
		return 0;
	default:
		return spec->own_option ? spec->own_option(option, arg, spec->ctx) : 0;
	}
}

/* The option getopt stopped at, as the user wrote it. */
static const char *offending_option(char **argv)
{
	return option_name(optopt > 0 && optopt < 0x100 ? optopt : 0, argv[optind - 1]);
}

int parse_options(int argc, char **argv, const struct command_spec *spec, struct options *opts)
{
	struct option *long_options = long_options_of(spec);
	char *short_options = xmalloc(strlen(spec->short_options) + 4);
	int option, err = 0;

	*opts = (struct options){
		.command = spec->name,
		.width = -1,
		.since_ns = INT64_MIN,
		.until_ns = INT64_MAX,
		.pid = -1,
		.ppid = -1,
		.uid = -1,
		.start_ns = INT64_MIN,
	};
	/* ':' first: a missing value is told apart from an unknown option. */
	strcat(strcpy(short_options, ":h"), spec->short_options);
	if (spec->accepts & ACCEPT_LINEAGE)
		strcat(short_options, "l");
	optind = 0; /* glibc's getopt starts afresh, even after another parse in this process */
	opterr = 0;
	while (!err &&
	       (option = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
		if (option == 'h') {
			print_help(spec);
			err = 1;
		} else if (option == '?') {
			err = option_error(spec->name, "unknown option '%s' (see report %s --help)",
					   offending_option(argv), spec->name);
		} else if (option == ':') {
			err = option_error(spec->name, "option '%s' needs a value",
					   offending_option(argv));
		} else {
			err = parse_one(option, optarg, spec, opts);
		}
	}
	free(long_options);
	free(short_options);
	if (err)
		return err;
	opts->files = argv + optind;
	opts->nfiles = argc - optind;
	if (!opts->nfiles)
		return option_error(spec->name, "no capture file given (see report %s --help)",
				    spec->name);
	return 0;
}

void free_options(struct options *opts)
{
	free(opts->comm);
	free(opts->ports);
}
