/*
 * Capability use in captures: checks counted per process, capability and
 * verdict, and what stands out (README, Detection): CAP_SYS_ADMIN or
 * CAP_SYS_MODULE asked for by a user other than root, CAP_NET_RAW by an
 * unexpected program (raw-socket scanners such as nmap -sS leave only that),
 * a capability a process had never checked before, denials.
 */
#ifndef CASEFILE_REPORT_CAPUSE_H
#define CASEFILE_REPORT_CAPUSE_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "options.h"
#include "peers.h"

#define CAP_SETPCAP    8
#define CAP_NET_RAW    13
#define CAP_SYS_MODULE 16
#define CAP_SYS_ADMIN  21

struct cap_settings {
	bool ready;
	bool every_check;  /* -v: checks that do not audit too (not for the flags) */
	int64_t settle_ns; /* a capability first checked this long after a process's first check is
			      new */
	char **net_raw;	   /* programs expected to use raw sockets */
	size_t *net_raw_lens;
	int nnet_raw;
};

enum cap_option { OPT_SETTLE = 0x380, OPT_NET_RAW };

#define CAP_OPTIONS                                                                                \
	{"settle", required_argument, NULL, OPT_SETTLE},                                           \
	{                                                                                          \
		"net-raw", required_argument, NULL, OPT_NET_RAW                                    \
	}

void cap_settings_ready(struct cap_settings *s);
void cap_settings_free(struct cap_settings *s);
/* One of those options: 0, -1 after one line on stderr, or 1 when it is none of them. */
int cap_option(const char *command, int option, const char *arg, struct cap_settings *s);

/* The checks of one capability by one process (host, pid, comm) as one user, with one verdict. */
struct cap_use {
	int host;
	int64_t pid, uid;
	size_t comm_len;
	char comm[CAPTURE_TEXT_MAX];
	int64_t cap;
	bool denied;
	bool audited; /* audited, or may have (AUDIT unknown) */
	bool userns;  /* against a user namespace below the initial one */
	int64_t checks, first_ns, last_ns;
};

enum cap_flag_kind { FLAG_PRIVILEGED, FLAG_NET_RAW, FLAG_NEW, FLAG_DENIED };

/* Something that stands out: a process and a capability, with its checks. */
struct cap_flag {
	enum cap_flag_kind kind;
	const struct cap_use *use; /* the process and capability (its first use) */
	int64_t checks, denied;
	int64_t first_ns, last_ns;
	int64_t after_ns; /* FLAG_NEW: since the process's first check */
	bool userns;
};

struct cap_analysis {
	struct cap_use *uses; /* by process (host, pid, comm), cap, uid, verdict */
	size_t nuses;
	struct cap_flag *flags; /* by kind, then time */
	size_t nflags;
	int64_t checks, denied;
	/* Refusals that denied nothing (cap_capset's CAP_SETPCAP check): not in denied. */
	int64_t capping;
	/* Refusals of CAP_SETPCAP without their requester (denies unknown): maybe
	 * cap_capset's, so not in denied either. */
	int64_t unsure;
};

/* Read the checks of the captures (as filtered); 0, or -1 after one line on stderr. */
int analyze_caps(struct captures *set, const struct options *opts, const struct cap_settings *s,
		 struct peers *peers, struct cap_analysis *out);
void cap_analysis_free(struct cap_analysis *a);

/*
 * The flags of one kind, program (host and name), user and capability: a
 * hundred runs of one program are one group, with their counts, from the
 * first flag's first check to the last check of any.
 */
struct cap_flag_group {
	const struct cap_flag
		*first; /* the kind, program, user and capability; the first process */
	int64_t processes, checks, denied;
	int64_t first_ns, last_ns;
	bool userns; /* any of them against a user namespace below the initial one */
};

/* The flags grouped so, by kind then time, into *out (to free); their count. */
size_t cap_flag_groups(const struct cap_analysis *a, struct cap_flag_group **out);

/* Room for a group's line (cap_group_line). */
#define CAP_GROUP_LINE_MAX (4 * 2 * CAPTURE_TEXT_MAX + 1024)

/*
 * A group as a page shows it, rendered: "date/3722 (cfvictim (uid 4246))
 * CAP_SYS_TIME: 1 check, 1 denied, from 19:28:56.990", several processes as
 * "setpriv, 12 processes", a span as "from T to T" (the host first when the
 * captures are of several).
 */
void cap_group_line(struct captures *set, struct peers *peers, const struct cap_flag_group *g,
		    bool local, char out[CAP_GROUP_LINE_MAX]);

/* The program of a group, rendered: "comm/pid", or "comm, N processes". */
void cap_group_program(const struct cap_flag_group *g, char *out, size_t size);

/*
 * What the checks' count leaves out, rendered for a page's heading: "; 11
 * refused that denied nothing; 3 refused CAP_SETPCAP, denial unknown (...)",
 * or "" when nothing is.
 */
void cap_refusals_text(const struct cap_analysis *a, char *out, size_t size);

/* Whether two uses are of one process: host, pid and comm (a uid may change). */
bool cap_same_process(const struct cap_use *a, const struct cap_use *b);

/* A flag's word (privileged, net_raw, new, denied) and what it means, in a few words. */
const char *cap_flag_word(enum cap_flag_kind kind);
const char *cap_flag_meaning(enum cap_flag_kind kind);

/* The capability's name ("CAP_SYS_ADMIN"), or its number when the capture has none. */
void cap_name_of(struct captures *set, int64_t cap, char *buf, size_t size);

#endif
