/*
 * report proc: one process's whole story: its parents up to pid 1 (what each
 * ran, as whom, since when), every program it ran, its children and their
 * descendants with what each ran, and every event it made, as the timeline
 * shows them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "command.h"
#include "lineage.h"
#include "logins.h"
#include "terminal.h"
#include "timeline.h"
#include "util.h"
#include "when.h"

/* The largest pid Linux hands out (PID_MAX_LIMIT on 64-bit). */
#define PID_MAX 4194304

/* Descendants shown at most: a build's process tree has thousands. */
#define DESCENDANTS_SHOWN 1000

static struct {
	struct thresholds logins; /* the default login services (report logins) */
	int64_t pid, start_ns;	  /* start_ns: INT64_MIN unless PID@START */
	int64_t depth;		  /* generations of descendants shown */
	bool depth_given;
	int shown, more; /* descendants shown, and left out */
	int width;	 /* the terminal's, to fit (terminal_width), or 0 */
	struct captures *set;
	struct peers *peers; /* hosts, whose accounts name users */
} pr;

static const char usage[] =
	"usage: report proc [-h] [-l] [--depth N] [common options] PID[@START] FILE...\n"
	"\n"
	"One process's whole story, from the captures alone: its parents up to pid 1\n"
	"(each one's pid, user, start time, executable and command line, as it was when\n"
	"its child began), every program it ran (each exec: path and command line),\n"
	"its children and their descendants, indented by generation, with every\n"
	"program each ran, then every event it made, in time order, as `report\n"
	"timeline` shows them (its fork, execs and exit included).  A pid used by several "
	"processes during\n"
	"the captures (pid reuse) gives one story per process, told once with its events\n"
	"from every capture of its boot; PID@START picks one, START being its start_ns\n"
	"as the story shows it.\n"
	"\n"
	"Executables are marked (deleted) when gone or replaced, (world-writable dir)\n"
	"when anyone could have put them there.  JSON and CSV give the events only,\n"
	"each with the executable, command line and parents of its process.\n"
	"\n"
	"options:\n"
	"  --depth N  generations of descendants shown: 1 for the children only, 0 for\n"
	"             none (32)\n"
	"\n"
	"examples:\n"
	"    report proc 7478 case42.db\n"
	"    report proc --depth 1 7478 case42.db   # its children only\n"
	"    report proc 7709@11507400000000 case42.db\n"
	"    report proc --format json 7478 case42.db\n";

static const struct option long_options[] = {
	{"depth", required_argument, NULL, 'd'},
	{NULL, 0, NULL, 0},
};

static int own_option(int option, const char *arg, void *ctx)
{
	(void)ctx;
	(void)option;
	if (parse_integer(arg, 0, LINEAGE_DEPTH_MAX, &pr.depth))
		return option_error("proc", "--depth wants a number from 0 to %d, not '%s'",
				    LINEAGE_DEPTH_MAX, arg);
	pr.depth_given = true;
	return 0;
}

static int bad_pid(const char *arg)
{
	char *safe = render_string(arg);

	option_error("proc",
		     "'%s' is not a PID from 1 to %d, nor PID@START (see report proc --help)", safe,
		     PID_MAX);
	free(safe);
	return -1;
}

static int operands(struct options *opts)
{
	const char *arg = opts->files[0];
	const char *at = strchr(arg, '@');
	char pid[16];
	size_t len = at ? (size_t)(at - arg) : strlen(arg);

	if (len >= sizeof(pid))
		return bad_pid(arg);
	memcpy(pid, arg, len);
	pid[len] = '\0';
	pr.start_ns = INT64_MIN;
	if (parse_integer(pid, 1, PID_MAX, &pr.pid) ||
	    (at && parse_integer(at + 1, 0, CAPTURE_CLOCK_MAX, &pr.start_ns)))
		return bad_pid(arg);
	opts->files++;
	if (--opts->nfiles == 0)
		return option_error("proc", "no capture file given (see report proc --help)");
	return 0;
}

/* "2026-11-23 04:13:02.774 UTC" of a boot-clock time of the capture. */
static void put_when(const struct capture *cap, int64_t boot_ns, bool local, char *out)
{
	format_human(boot_ns + cap->realtime_offset_ns, local, out);
}

/*
 * One line about an image: what ran, then its command line, escaped.  To fit
 * a terminal, as a table: the time of day, COMM cut as BCC cuts it, and the
 * line cut with "..." past the width, never inside the time (a line too deep
 * for that is left whole, to wrap).
 */
static void print_image(const struct capture *cap, const char *lead, int64_t boot_ns,
			const struct image *im, bool local)
{
	char when[WHEN_MAX];
	char *comm = xmalloc(4 * im->comm_len + 1), *exe = xmalloc(4 * im->exe_marked_len + 1),
	     *args = xmalloc(4 * im->args_len + 1), *line;
	int time_end, len;
	size_t size;

	comm[render_text(im->comm, im->comm_len, comm)] = '\0';
	exe[render_text(im->exe_marked ? im->exe_marked : "", im->exe_marked_len, exe)] = '\0';
	args[render_text(im->args ? im->args : "", im->args_len, args)] = '\0';
	if (pr.width)
		format_clock(boot_ns + cap->realtime_offset_ns, local, when);
	else
		put_when(cap, boot_ns, local, when);
	size = strlen(lead) + strlen(comm) + strlen(exe) + strlen(args) + WHEN_MAX + 80;
	line = xmalloc(size);
	/* What ran, up to the end of its time (time_end): never cut. */
	time_end = snprintf(line, size, "  %s%-7lld %-*.*s uid %-6lld %s", lead, (long long)im->pid,
			    pr.width ? 12 : 15, pr.width ? 12 : (int)strlen(comm), comm,
			    (long long)im->uid, when);
	len = time_end + snprintf(line + time_end, size - (size_t)time_end, "  %s%s%s",
				  im->exe ? exe : "-", im->args ? "  " : "", args);
	if (pr.width && len > pr.width && time_end <= pr.width - 3)
		printf("%.*s...\n", pr.width - 3, line);
	else
		printf("%s\n", line);
	free(line);
	free(comm);
	free(exe);
	free(args);
}

/* Its parents, each as it was when its child was first seen. */
static int print_parents(struct capture *cap, const struct image *child, bool local)
{
	int64_t pid, start_ns, at = child->first_t;
	const struct image *im = child;
	int found;

	printf("parents:\n");
	for (int depth = 0; depth < LINEAGE_DEPTH_MAX && im->pid != 1; depth++) {
		found = lineage_parent(cap, im, &pid, &start_ns);
		if (found <= 0) {
			if (!found)
				printf("  %-7lld (not in the capture)\n", (long long)im->ppid);
			return found;
		}
		if (lineage_image(cap, pid, start_ns, at, &im) < 0)
			return -1;
		print_image(cap, "", start_ns, im, local);
		at = im->first_t;
	}
	return 0;
}

/* How an image began, as the story's lines say it. */
static const char *how_word(const struct image *im)
{
	return im->how[0] == 'e' ? "exec    " : im->how[0] == 'f' ? "fork    " : "running ";
}

/* The children of (pid, start_ns) and, to the depth asked for, theirs: what each ran. */
static int print_descendants(struct capture *cap, int64_t pid, int64_t start_ns, int depth,
			     bool local)
{
	int64_t child_pid, child_start, child_t;
	size_t cursor = 0;
	char lead[2 * LINEAGE_DEPTH_MAX + 16];
	int found;

	if (depth >= pr.depth)
		return 0;
	while ((found = lineage_children(cap, pid, start_ns, INT64_MIN, &cursor, &child_pid,
					 &child_start, &child_t)) > 0) {
		const struct image *im;
		int n;

		if (pr.shown >= DESCENDANTS_SHOWN) {
			pr.more++;
			continue;
		}
		pr.shown++;
		for (n = 0; (found = lineage_nth_image(cap, child_pid, child_start, n, &im)) > 0;
		     n++) {
			snprintf(lead, sizeof(lead), "%*s%s", 2 * depth, "", how_word(im));
			print_image(cap, lead, cap->base_ns + im->t, im, local);
		}
		if (found < 0 || print_descendants(cap, child_pid, child_start, depth + 1, local))
			return -1;
	}
	return found;
}

/* When the process serves a login: the connection and what came of it (report logins). */
static int print_login(struct capture *cap, int64_t start_ns, bool local)
{
	struct login_accept accept;
	struct login s;
	char when[WHEN_MAX], *remote, *ran;
	int found = login_of_process(cap, &pr.logins, pr.pid, start_ns, &accept, &s);

	if (found <= 0)
		return found;
	put_when(cap, cap->base_ns + accept.t, local, when);
	remote = xmalloc(4 * accept.remote.len + 1);
	remote[render_text(accept.remote.text, accept.remote.len, remote)] = '\0';
	ran = xmalloc(4 * s.ran_len + 1);
	ran[render_text(s.ran, s.ran_len, ran)] = '\0';
	printf("login session:\n  accepted %s from %s port %lld: %s", when, remote,
	       (long long)accept.rport, login_outcome_name(s.outcome));
	if (s.uid >= 0) {
		char user[4 * ACCOUNT_NAME_MAX + 32];

		user_label(pr.set, pr.peers, peers_host(pr.peers, cap), s.uid, user, sizeof(user));
		printf(", %s", user);
	}
	if (s.end_t != INT64_MAX)
		printf(", %.3f s", (double)(s.end_t - accept.t) / 1e9);
	printf(" (%s)", s.why);
	if (s.execs)
		printf("; ran %lld program%s, first %s", (long long)s.execs,
		       s.execs == 1 ? "" : "s", ran);
	printf("\n");
	free(remote);
	free(ran);
	return 0;
}

/* "where: network namespace N, pid N in its own pid namespace, cgroup /PATH" */
static int print_where(struct capture *cap, int64_t start_ns)
{
	struct process_where where;
	struct cgroup_path path;
	int found = lineage_where(cap, pr.pid, start_ns, &where);
	char copy[CAPTURE_PATH_MAX + 1], *text;

	if (found <= 0)
		return found;
	if (where.cgroup >= 0 && capture_cgroup_path(cap, where.cgroup, &path))
		return -1;
	printf("where:");
	if (where.netns >= 0)
		printf(" network namespace %lld", (long long)where.netns);
	if (where.nspid >= 0)
		printf("%s pid %lld in its own pid namespace", where.netns >= 0 ? "," : "",
		       (long long)where.nspid);
	if (where.cgroup >= 0) {
		memcpy(copy, path.text, path.state == CGROUP_NAMED ? path.len : 0);
		copy[path.state == CGROUP_NAMED ? path.len : 0] = '\0';
		text = path.state == CGROUP_NAMED ? render_string(copy) : NULL;
		printf(", cgroup %s (id %lld)",
		       text			   ? text
		       : path.state == CGROUP_GONE ? "(gone before it was named)"
						   : "(not named)",
		       (long long)where.cgroup);
		free(text);
	}
	printf("\n");
	return 0;
}

static int print_story(struct capture *cap, int64_t start_ns, bool local)
{
	const struct image *im;
	char *host = render_string(cap->host);
	char when[WHEN_MAX];
	int found;

	put_when(cap, start_ns, local, when);
	printf("PROCESS %lld@%lld on %s, started %s\n", (long long)pr.pid, (long long)start_ns,
	       host, when);
	free(host);
	if (print_where(cap, start_ns))
		return -1;
	printf("ran:\n");
	for (int n = 0; (found = lineage_nth_image(cap, pr.pid, start_ns, n, &im)) > 0; n++)
		print_image(cap, how_word(im), cap->base_ns + im->t, im, local);
	if (found < 0 || lineage_nth_image(cap, pr.pid, start_ns, 0, &im) < 0 ||
	    print_parents(cap, im, local) || print_login(cap, start_ns, local))
		return -1;
	printf("descendants:\n");
	pr.shown = pr.more = 0;
	if (print_descendants(cap, pr.pid, start_ns, 0, local))
		return -1;
	if (pr.more)
		printf("  ... %d more\n", pr.more);
	else if (!pr.shown)
		printf("  none\n");
	printf("events:\n");
	return 0;
}

/* A process told: its boot (the capture's) and start. */
struct told {
	const char *boot_id;
	int64_t start_ns;
};

/*
 * Whether the process was told already: several captures of one boot (the
 * parts of a recording, recordings one after the other) may each hold it,
 * and its story tells its events in all of them.  Telling it again for each
 * took one pass over every capture per capture holding it.
 */
static bool was_told(struct told **told, int *ntold, const struct capture *cap, int64_t start)
{
	for (int i = 0; i < *ntold; i++)
		if ((*told)[i].start_ns == start && !strcmp((*told)[i].boot_id, cap->boot_id))
			return true;
	*told = xrealloc(*told, (size_t)(*ntold + 1) * sizeof(**told));
	(*told)[(*ntold)++] = (struct told){cap->boot_id, start};
	return false;
}

static int tell(struct captures *set, const struct options *opts)
{
	struct options mine = *opts;
	struct told *told = NULL;
	int ntold = 0, err = 0;
	bool any = false;

	mine.pid = pr.pid;
	if (!pr.depth_given)
		pr.depth = LINEAGE_DEPTH_MAX;
	/* The story tells who in a table; JSON and CSV have only the events to tell it. */
	mine.lineage = opts->lineage || opts->format != FORMAT_TABLE;
	for (int i = 0; i < set->count && !err; i++) {
		struct capture *cap = set->list[i];
		int64_t start = INT64_MIN;
		int found;

		while (!err && (found = lineage_next_process(cap, pr.pid, start, &start)) > 0) {
			if (pr.start_ns != INT64_MIN && start != pr.start_ns)
				continue;
			any = true;
			if (opts->format != FORMAT_TABLE || was_told(&told, &ntold, cap, start))
				continue;
			mine.start_ns = start;
			output_flush();
			err = print_story(cap, start, opts->local) || timeline_process(set, &mine);
			output_flush();
			if (!err)
				printf("\n");
		}
		err = err || found < 0;
	}
	free(told);
	if (err)
		return -1;
	if (!any) {
		fprintf(stderr, "report: proc: no process %lld%s in the captures\n",
			(long long)pr.pid, pr.start_ns == INT64_MIN ? "" : " started then");
		return -1;
	}
	if (opts->format == FORMAT_TABLE)
		return 0;
	mine.start_ns = pr.start_ns;
	return timeline_process(set, &mine);
}

static int run(struct captures *set, const struct options *opts)
{
	int err;

	thresholds_ready(&pr.logins);
	pr.width = terminal_width(opts);
	pr.set = set;
	pr.peers = peers_new(set);
	err = tell(set, opts);
	peers_free(pr.peers);
	thresholds_free(&pr.logins);
	return err;
}

const struct command proc_command = {
	.summary = "one process's whole story: parents, programs run, every event",
	.spec = {.name = "proc",
		 .usage = usage,
		 .short_options = "",
		 .long_options = long_options,
		 .accepts = ACCEPT_FILTERS | ACCEPT_LINEAGE,
		 .own_option = own_option},
	.operands = operands,
	.run = run,
	.state = &pr,
	.state_size = sizeof(pr),
};
