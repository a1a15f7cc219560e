/* report caps: capability checks as histograms, and what stands out among them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capuse.h"
#include "accounts.h"
#include "command.h"
#include "detect.h"
#include "folded.h"
#include "hashmap.h"
#include "terminal.h"
#include "util.h"
#include "when.h"

/* JSON and CSV: one row per bar of each histogram, and per group of flags. */
enum {
	CAPS_SECTION,
	CAPS_HOST,
	CAPS_PID,
	CAPS_COMM,
	CAPS_UID,
	CAPS_USER,
	CAPS_CAP,
	CAPS_NAME,
	CAPS_CHECKS,
	CAPS_DENIED,
	CAPS_FIRST,
	CAPS_LAST,
	CAPS_FLAG,
	CAPS_AFTER,
	CAPS_USERNS,
	CAPS_PROCESSES,
	CAPS_FIELDS
};

static const struct field fields[CAPS_FIELDS] = {
	[CAPS_SECTION] = {NULL, "section", 0, FIELD_TEXT, false},
	[CAPS_HOST] = {NULL, "host", 0, FIELD_TEXT, false},
	[CAPS_PID] = {NULL, "pid", 0, FIELD_INT, false},
	[CAPS_COMM] = {NULL, "comm", 0, FIELD_TEXT, false},
	[CAPS_UID] = {NULL, "uid", 0, FIELD_INT, false},
	[CAPS_USER] = {NULL, "user", 0, FIELD_TEXT, false},
	[CAPS_CAP] = {NULL, "cap", 0, FIELD_INT, false},
	[CAPS_NAME] = {NULL, "name", 0, FIELD_TEXT, false},
	[CAPS_CHECKS] = {NULL, "checks", 0, FIELD_INT, false},
	[CAPS_DENIED] = {NULL, "denied", 0, FIELD_INT, false},
	[CAPS_FIRST] = {NULL, "first", 0, FIELD_RFC3339, false},
	[CAPS_LAST] = {NULL, "last", 0, FIELD_RFC3339, false},
	[CAPS_FLAG] = {NULL, "flag", 0, FIELD_TEXT, false},
	[CAPS_AFTER] = {NULL, "after_ns", 0, FIELD_INT, false},
	[CAPS_USERNS] = {NULL, "userns", 0, FIELD_BOOL, false},
	[CAPS_PROCESSES] = {NULL, "processes", 0, FIELD_INT, false},
};

#define BAR_WIDTH   40
#define DEFAULT_TOP 10
#define LABEL_MAX   (4 * (2 * CAPTURE_TEXT_MAX + 48))

static struct {
	struct cap_settings settings;
	int64_t top;
	struct stack_choice stacks; /* --folded, and -K or -U for half of each stack */
	struct folded *folded;
} cs = {.top = DEFAULT_TOP};

static const char usage[] =
	"usage: report caps [-h] [-v] [-p PID] [-u UID] [-n N] [--settle SECONDS]\n"
	"                   [--net-raw COMM[,COMM...]] [--folded [-K | -U]]\n"
	"                   [common options] FILE...\n"
	"\n"
	"Capability checks of the captures as histograms, as BCC's tools draw them: by\n"
	"capability, by process, by user, and the denied ones; then what stands out:\n"
	"  privileged  CAP_SYS_ADMIN or CAP_SYS_MODULE asked for by a user other than\n"
	"              root (in a user namespace of its own: said so);\n"
	"  net_raw     CAP_NET_RAW asked for by a program not expected to open raw\n"
	"              sockets: a SYN scanner (nmap -sS) leaves no connect, only this;\n"
	"  new         a capability a process first asked for long after its first\n"
	"              check (--settle): a change of behaviour;\n"
	"  denied      checks the kernel refused (not a refusal that denies nothing,\n"
	"              cap_capset's CAP_SETPCAP, nor one of CAP_SETPCAP whose\n"
	"              requester was not recorded: both counted apart);\n"
	"each one line per kind, program, user and capability, with its processes\n"
	"and its first and last check.\n"
	"As `report capable`, checks that do not audit (AUDIT 0, such as the\n"
	"CAP_SYS_ADMIN check of every mmap) are counted only with -v, and never flagged.\n"
	"\n"
	"options:\n"
	"  -v, --verbose    count the checks that do not audit too\n"
	"  -p, --pid PID    only this process\n"
	"  -u, --uid UID    only this user\n"
	"  -n, --top N      bars per histogram, the largest first (10; 0: all)\n"
	"  --settle SECONDS how long after a process's first check a capability is\n"
	"                   new to it (10)\n"
	"  --net-raw NAMES  programs expected to use raw sockets, instead of ping, ping4,\n"
	"                   ping6, arping, traceroute, traceroute6, tracepath, mtr,\n"
	"                   mtr-packet, dhclient, dhcpcd, dhcpd, NetworkManager,\n"
	"                   systemd-network, tcpdump, dumpcap, wpa_supplicant\n" STACK_HELP_FOLDED
	"  -K, -U           with --folded: only the kernel, or only the user frames\n"
	"\n"
	"JSON and CSV: one row per bar (section capability, process, uid or denied)\n"
	"and per group of flags (section flag: processes, the first one's pid).\n"
	"\n"
	"examples:\n"
	"    report caps case42.db\n"
	"    report caps -v -n 0 case42.db\n"
	"    report caps --settle 60 --net-raw ping,tcpdump,nmap case42.db\n"
	"    report caps --format json web-*.db\n"
	"    report caps --folded case42.db | flamegraph.pl > caps.svg  # record -K -U\n";

static const struct option long_options[] = {
	{"verbose", no_argument, NULL, 'v'},
	{"top", required_argument, NULL, 'n'},
	CAP_OPTIONS,
	STACK_LONG_OPTIONS,
	{NULL, 0, NULL, 0},
};

static int own_option(int option, const char *arg, void *ctx)
{
	(void)ctx;
	if (stack_option(option, &cs.stacks))
		return 0;
	if (option == 'n' && parse_integer(arg, 0, 1000000, &cs.top))
		return option_error("caps", "-n wants a number from 0 to 1000000, not '%s'", arg);
	return option == 'n' ? 0 : cap_option("caps", option, arg, &cs.settings) < 0 ? -1 : 0;
}

/* --- Histograms ----------------------------------------------------------------- */

enum section { BY_CAPABILITY, BY_PROCESS, BY_UID, DENIED, SECTIONS };

static const char *const section_names[SECTIONS] = {"capability", "process", "uid", "denied"};
static const char *const section_titles[SECTIONS] = {"capability", "process", "user",
						     "denied (process, capability)"};

/* A bar: the checks of the uses that share the section's key. */
struct bucket {
	const struct cap_use *use; /* the first of them: the label */
	int64_t checks, denied, first_ns, last_ns;
};

/* The section's key of a use: (a, b) in a hash map. */
static void key_of(enum section section, const struct cap_use *u, uint64_t *a, uint64_t *b)
{
	switch (section) {
	case BY_CAPABILITY:
		*a = (uint64_t)u->cap;
		*b = 0;
		break;
	case BY_UID:
		*a = (uint64_t)u->host;
		*b = (uint64_t)u->uid;
		break;
	default: /* processes: the uses of one are adjacent */
		*a = 0;
		*b = 0;
	}
}

/* What a bar shows: checks, or for the denied histogram, denials. */
static enum section sorting_section;

static int64_t height(const struct bucket *b, enum section section)
{
	return section == DENIED ? b->denied : b->checks;
}

static int by_height(const void *x, const void *y)
{
	const struct bucket *a = x, *b = y;

	if (height(a, sorting_section) != height(b, sorting_section))
		return height(a, sorting_section) > height(b, sorting_section) ? -1 : 1;
	if (a->first_ns != b->first_ns)
		return a->first_ns < b->first_ns ? -1 : 1;
	return (a->use > b->use) - (a->use < b->use);
}

static struct bucket *buckets_of(const struct cap_analysis *an, enum section section, size_t *count)
{
	struct bucket *list = xcalloc(an->nuses ? an->nuses : 1, sizeof(*list));
	struct hashmap index = {0};
	size_t n = 0;

	for (size_t i = 0; i < an->nuses; i++) {
		const struct cap_use *u = &an->uses[i];
		struct bucket *b;
		uint64_t a, k, *slot;
		bool added;

		if (section == BY_PROCESS || section == DENIED) {
			added = !n || !cap_same_process(list[n - 1].use, u) ||
				(section == DENIED && list[n - 1].use->cap != u->cap);
			b = added ? &list[n++] : &list[n - 1];
		} else {
			key_of(section, u, &a, &k);
			slot = hashmap_put(&index, a, k, &added);
			if (added)
				*slot = n++;
			b = &list[*slot];
		}
		if (added)
			*b = (struct bucket){
				.use = u, .first_ns = u->first_ns, .last_ns = u->last_ns};
		b->checks += u->checks;
		b->denied += u->denied ? u->checks : 0;
		if (u->first_ns < b->first_ns)
			b->first_ns = u->first_ns;
		if (u->last_ns > b->last_ns)
			b->last_ns = u->last_ns;
	}
	hashmap_clear(&index);
	if (section == DENIED) {
		size_t kept = 0;

		for (size_t i = 0; i < n; i++)
			if (list[i].denied)
				list[kept++] = list[i];
		n = kept;
	}
	sorting_section = section;
	qsort(list, n, sizeof(*list), by_height);
	*count = n;
	return list;
}

/* "comm/pid" (escaped), with the host when there are several. */
static void process_label(const struct captures *set, struct peers *peers, const struct cap_use *u,
			  char *out)
{
	char comm[4 * CAPTURE_TEXT_MAX + 1];
	char *host = render_string(set->many_hosts ? peers_host_name(peers, u->host) : "");

	comm[render_text(u->comm, u->comm_len, comm)] = '\0';
	if (u->pid < 0)
		sprintf(out, "%s%s(no process)", host, set->many_hosts ? ":" : "");
	else
		sprintf(out, "%s%s%s/%lld", host, set->many_hosts ? ":" : "", comm,
			(long long)u->pid);
	free(host);
}

/* A capability's name from the capture, escaped: out holds 4 * 64 bytes. */
static void safe_cap_name(struct captures *set, int64_t cap, char *out)
{
	char name[64];

	cap_name_of(set, cap, name, sizeof(name));
	out[render_text(name, strlen(name), out)] = '\0';
}

static void label_of(struct captures *set, struct peers *peers, enum section section,
		     const struct cap_use *u, char *out)
{
	char name[4 * 64];
	char *host;

	switch (section) {
	case BY_CAPABILITY:
		safe_cap_name(set, u->cap, out);
		break;
	case BY_UID:
		host = render_string(set->many_hosts ? peers_host_name(peers, u->host) : "");
		if (u->uid < 0) {
			sprintf(out, "%s%s(no process)", host, set->many_hosts ? ":" : "");
		} else {
			user_label(set, peers, u->host, u->uid, name, sizeof(name));
			sprintf(out, "%s%s%s", host, set->many_hosts ? ":" : "", name);
		}
		free(host);
		break;
	case BY_PROCESS:
		process_label(set, peers, u, out);
		break;
	case DENIED:
		process_label(set, peers, u, out);
		safe_cap_name(set, u->cap, name);
		strcat(strcat(out, " "), name);
		break;
	default:
		break;
	}
}

/*
 * How a histogram's lines fit a terminal: the label's column (its text cut
 * with "..." beyond it) and the bar's (0: no bar).  Full width, labels whole
 * and bars of BAR_WIDTH; fitted, the bar gives way first, down to BAR_MIN,
 * then goes, and only then are labels cut.
 */
struct layout {
	int label, bar;
};

#define BAR_MIN 10
/* What a line takes besides its label and bar: "  ", " : ", two counts, "||". */
#define LINE_FIXED (2 + 3 + 10 + 9 + 2)
#define LABEL_MIN  12

static struct layout lay_out(int label, int width)
{
	struct layout l = {label, BAR_WIDTH};

	if (!width || label + LINE_FIXED + BAR_WIDTH <= width)
		return l;
	l.bar = width - label - LINE_FIXED;
	if (l.bar >= BAR_MIN)
		return l;
	l.bar = 0;
	l.label = width - LINE_FIXED + 2; /* no bar, no "||" */
	if (l.label > label)
		l.label = label;
	if (l.label < LABEL_MIN)
		l.label = LABEL_MIN;
	return l;
}

/*
 * "  LABEL : ", the label cut to its column with "..." when longer and cut
 * (a heading is cut only to fit a terminal: else it may push its " : " out).
 */
static void put_label(const char *label, struct layout l, bool cut)
{
	if (cut && (int)strlen(label) > l.label)
		printf("  %.*s... : ", l.label - 3, label);
	else
		printf("  %-*s : ", l.label, label);
}

static void print_bar(const char *label, struct layout l, const struct bucket *b, int64_t value,
		      int64_t max)
{
	char bar[BAR_WIDTH + 3];
	int stars = max ? (int)(value * l.bar / max) : 0;

	if (stars == 0 && value && l.bar)
		stars = 1;
	if (l.bar) {
		bar[0] = '|';
		memset(bar + 1, '*', (size_t)stars);
		memset(bar + 1 + stars, ' ', (size_t)(l.bar - stars));
		bar[l.bar + 1] = '|';
		bar[l.bar + 2] = '\0';
	} else {
		bar[0] = '\0';
	}
	put_label(label, l, true);
	printf("%-9lld %-*lld%s\n", (long long)b->checks, l.bar ? 9 : 0, (long long)b->denied, bar);
}

static void print_histogram(struct captures *set, struct peers *peers,
			    const struct cap_analysis *an, enum section section, int fit)
{
	size_t n, shown;
	struct bucket *list = buckets_of(an, section, &n);
	char label[LABEL_MAX];
	int width = 20;
	struct layout l;

	shown = cs.top && (size_t)cs.top < n ? (size_t)cs.top : n;
	for (size_t i = 0; i < shown; i++) {
		label_of(set, peers, section, list[i].use, label);
		if ((int)strlen(label) > width)
			width = (int)strlen(label);
	}
	l = lay_out(width, fit);
	putchar('\n');
	put_label(section_titles[section], l, fit != 0);
	printf("%-9s %s\n", "checks", l.bar ? "denied    distribution" : "denied");
	for (size_t i = 0; i < shown; i++) {
		label_of(set, peers, section, list[i].use, label);
		print_bar(label, l, &list[i], height(&list[i], section), height(&list[0], section));
	}
	if (shown < n)
		printf("  ... %zu more (-n 0 shows all)\n", n - shown);
	if (!n)
		printf("  (none)\n");
	free(list);
}

/* --- What stands out -------------------------------------------------------------- */

/* What stands out, grouped by program, user and capability: a hundred runs of one program are one
 * line. */
static void print_page(struct captures *set, struct peers *peers, const struct cap_analysis *an,
		       const struct options *opts)
{
	struct cap_flag_group *groups;
	size_t n = cap_flag_groups(an, &groups);
	char refusals[256], line[CAP_GROUP_LINE_MAX];

	cap_refusals_text(an, refusals, sizeof(refusals));
	printf("# capability checks %s: %lld, %lld denied%s\n",
	       cs.settings.every_check ? "(every one, -v)" : "that audit, or may (-v: every one)",
	       (long long)an->checks, (long long)an->denied, refusals);
	for (int s = 0; s < SECTIONS; s++)
		print_histogram(set, peers, an, (enum section)s, terminal_width(opts));
	printf("\n  stands out (%zu)\n", n);
	for (size_t i = 0; i < n; i++) {
		cap_group_line(set, peers, &groups[i], opts->local, line);
		printf("  %-10s %s\n", cap_flag_word(groups[i].first->kind), line);
	}
	if (!n)
		printf("  (nothing)\n");
	free(groups);
}

/* --- JSON and CSV ------------------------------------------------------------------ */

static void use_values(struct captures *set, struct peers *peers, const struct cap_use *u,
		       bool process, bool uid, bool cap, struct value *v, char *name, char *user)
{
	const char *host = peers_host_name(peers, u->host);

	v[CAPS_HOST] = process || uid ? text_value(host, strlen(host)) : null_value();
	v[CAPS_PID] = process && u->pid >= 0 ? int_value(u->pid) : null_value();
	v[CAPS_COMM] = process && u->pid >= 0 ? text_value(u->comm, u->comm_len) : null_value();
	v[CAPS_UID] = (process || uid) && u->pid >= 0 ? int_value(u->uid) : null_value();
	v[CAPS_USER] = null_value();
	if ((process || uid) && u->pid >= 0 && account_name(set, peers, u->host, u->uid, user) > 0)
		v[CAPS_USER] = text_value(user, strlen(user));
	v[CAPS_CAP] = cap ? int_value(u->cap) : null_value();
	cap_name_of(set, u->cap, name, 64);
	v[CAPS_NAME] = cap ? text_value(name, strlen(name)) : null_value();
}

static void print_rows(struct captures *set, struct peers *peers, const struct cap_analysis *an)
{
	char name[64], user[ACCOUNT_NAME_MAX + 1];
	struct cap_flag_group *groups;
	size_t n;

	for (int s = 0; s < SECTIONS; s++) {
		struct bucket *list = buckets_of(an, (enum section)s, &n);

		for (size_t i = 0; i < n && (!cs.top || i < (size_t)cs.top); i++) {
			struct value v[CAPS_FIELDS] = {
				[CAPS_SECTION] =
					text_value(section_names[s], strlen(section_names[s])),
				[CAPS_CHECKS] = int_value(list[i].checks),
				[CAPS_DENIED] = int_value(list[i].denied),
				[CAPS_FIRST] = int_value(list[i].first_ns),
				[CAPS_LAST] = int_value(list[i].last_ns),
				[CAPS_FLAG] = null_value(),
				[CAPS_AFTER] = null_value(),
				[CAPS_USERNS] = null_value(),
				[CAPS_PROCESSES] = null_value(),
			};

			use_values(set, peers, list[i].use, s == BY_PROCESS || s == DENIED,
				   s == BY_UID, s == BY_CAPABILITY || s == DENIED, v, name, user);
			output_row(v);
		}
		free(list);
	}
	n = cap_flag_groups(an, &groups);
	for (size_t i = 0; i < n; i++) {
		const struct cap_flag_group *g = &groups[i];
		const char *word = cap_flag_word(g->first->kind);
		struct value v[CAPS_FIELDS] = {
			[CAPS_SECTION] = text_value("flag", 4),
			[CAPS_CHECKS] = int_value(g->checks),
			[CAPS_DENIED] = int_value(g->denied),
			[CAPS_FIRST] = int_value(g->first_ns),
			[CAPS_LAST] = int_value(g->last_ns),
			[CAPS_FLAG] = text_value(word, strlen(word)),
			[CAPS_AFTER] = g->first->kind == FLAG_NEW ? int_value(g->first->after_ns)
								  : null_value(),
			[CAPS_USERNS] = int_value(g->userns),
			[CAPS_PROCESSES] = int_value(g->processes),
		};

		use_values(set, peers, g->first->use, true, false, true, v, name, user);
		output_row(v);
	}
	free(groups);
}

static int check(const struct options *opts)
{
	if ((cs.stacks.kernel || cs.stacks.user) && !cs.stacks.folded)
		return option_error("caps", "-K and -U choose the frames of --folded");
	return stack_check(opts, &cs.stacks, NULL);
}

static int fold_check(const struct event *ev, void *ctx)
{
	(void)ctx;
	return folded_add_event(cs.folded, ev, 0);
}

/* --folded: the stacks of the checks the histograms count (record -K -U). */
static int print_folded(struct captures *set, const struct options *opts)
{
	struct event_query query = {
		.table = "ev_capable",
		.columns = "e.task",
		.condition = cs.settings.every_check ? NULL : "e.audit IS NOT 0",
		.filter = {.task = "e.task"},
		.emit = fold_check,
		.stacks = true,
	};

	return replay_with_stacks(set, &query, 1, opts, &cs.stacks, &cs.folded, NULL, 0);
}

static int run(struct captures *set, const struct options *opts)
{
	struct peers *peers;
	struct cap_analysis an;
	int err;

	if (cs.stacks.folded) {
		err = print_folded(set, opts);
		cap_settings_free(&cs.settings);
		return err;
	}
	peers = peers_new(set);
	cap_settings_ready(&cs.settings);
	err = analyze_caps(set, opts, &cs.settings, peers, &an);
	if (!err && opts->format == FORMAT_TABLE) {
		print_page(set, peers, &an, opts);
	} else if (!err) {
		output_begin(opts->format, opts->local, fields, CAPS_FIELDS);
		print_rows(set, peers, &an);
	}
	cap_analysis_free(&an);
	peers_free(peers);
	cap_settings_free(&cs.settings);
	return err;
}

static const char *const kinds[] = {"capable", NULL};

const struct command caps_command = {
	.summary = "capability checks as histograms, and what stands out",
	.spec = {.name = "caps",
		 .usage = usage,
		 .short_options = "vp:u:n:KU",
		 .long_options = long_options,
		 .accepts = ACCEPT_FILTERS,
		 .own_option = own_option},
	.kinds = kinds,
	.check = check,
	.run = run,
};
