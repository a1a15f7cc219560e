/*
 * The command line of a report subcommand: the options every subcommand
 * shares (filters, format, time zone, --follow), the BCC tools' filters a
 * subcommand opts into (-p, -u, -P, -4, -6), and its own, through a callback.
 */
#ifndef CASEFILE_REPORT_OPTIONS_H
#define CASEFILE_REPORT_OPTIONS_H

#include <getopt.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "output.h"

/* What a subcommand accepts beyond its own options. */
enum common_option_set {
	ACCEPT_FILTERS = 1 << 0, /* --since --until --comm --cgroup --mntns --netns --ppid */
	ACCEPT_FOLLOW = 1 << 1,	 /* --follow */
	ACCEPT_LINEAGE = 1 << 2, /* -l, --lineage */
	ACCEPT_ADDR = 1 << 3,	 /* --addr: events with addresses at both ends */
	ACCEPT_EXPORT = 1 << 4,	 /* --format is ocsf, ecs or timesketch (report export) */
};

/* The address --addr selects, in both of its forms (a.b.c.d and ::ffff:a.b.c.d). */
struct address_filter {
	bool given;
	char text[INET6_ADDRSTRLEN], mapped[INET6_ADDRSTRLEN + 8];
};

struct command_spec {
	const char *name;		   /* "tcpconnect" */
	const char *usage;		   /* --help text: usage line, options, examples */
	const char *short_options;	   /* getopt string; p: u: P: 4 6 are handled here */
	const struct option *long_options; /* its own, ending with a zero entry; or NULL */
	unsigned accepts;		   /* enum common_option_set */
	/* One of its own options; 0, or -1 after one line on stderr.  May be NULL. */
	int (*own_option)(int option, const char *arg, void *ctx);
	void *ctx;
};

/* --width: the narrowest and widest a table or page may be fitted to. */
#define WIDTH_MIN 40
#define WIDTH_MAX 10000

struct options {
	const char *command;
	/* every subcommand */
	enum output_format format;
	int width; /* --width: 0 no limit; -1 not given (terminal.h decides) */
	bool local;
	bool follow;
	bool lineage; /* -l: each event's executable and parents */
	/*
	 * Not from the command line: a replay's merge decodes its rows itself,
	 * with no reader thread beside it, where its caller runs replays in
	 * threads of its own (summary's and html's shares), which keep the
	 * cores busy already.
	 */
	bool read_inline;
	/* --since/--until as given: resolved against the captures (captures_open) */
	const char *since_text, *until_text;
	int64_t since_ns, until_ns; /* Unix ns, inclusive; INT64_MIN/MAX when not given */
	char *comm;		    /* NULL: any */
	size_t comm_len;
	bool has_cgroup, has_mntns, has_netns;
	uint64_t cgroup, mntns, netns;
	int64_t ppid; /* --ppid; -1: any */
	/* the BCC tools' filters */
	int64_t pid, uid;	    /* -1: any */
	int64_t start_ns;	    /* with pid, only that process (report proc); INT64_MIN: any */
	int family;		    /* 4 or 6; 0: both */
	char *ports;		    /* "[22,80]", a JSON array bound into SQL; NULL: any */
	struct address_filter addr; /* --addr: either end */
	/* capture files */
	char **files;
	int nfiles;
};

/*
 * Parse a subcommand's argv (argv[0] is its name).  Returns 0 to go on, 1
 * when --help was printed (exit 0), or -1 after one line on stderr (exit 2).
 */
int parse_options(int argc, char **argv, const struct command_spec *spec, struct options *opts);
void free_options(struct options *opts);

/* "22,80" as the JSON array "[22,80]" (to free), which SQL reads with json_each(): 0 or -1. */
int parse_port_list(const char *command, const char *option, const char *arg, char **json);

/* One line on stderr, "report: COMMAND: ...", for a bad command line; returns -1. */
int option_error(const char *command, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

#endif
