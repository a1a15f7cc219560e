/* report info: what each capture is, where and when it was made, what it holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "losses.h"
#include "parts.h"
#include "sha256.h"
#include "util.h"
#include "when.h"

/* JSON and CSV: one row per capture and kind of event. */
enum {
	INFO_FILE,
	INFO_SHA256,
	INFO_FORMAT,
	INFO_TOOL_VERSION,
	INFO_HOST,
	INFO_KERNEL_RELEASE,
	INFO_KERNEL_VERSION,
	INFO_MACHINE,
	INFO_BOOT_ID,
	INFO_COMMAND_LINE,
	INFO_STARTED,
	INFO_ENDED,
	INFO_DURATION,
	INFO_CLEAN,
	INFO_STOP_REASON,
	INFO_PART,
	INFO_PARTS,
	INFO_KIND,
	INFO_ENABLED,
	INFO_RECORDED,
	INFO_LOST,
	INFO_MECHANISM,
	INFO_LOST_INTERVALS,
	INFO_LOST_BY,
	INFO_LOST_UNATTRIBUTED,
	INFO_SKIPPED_RUNS,
	INFO_FIELDS
};

static const struct field fields[INFO_FIELDS] = {
	[INFO_FILE] = {NULL, "file", 0, FIELD_TEXT, false},
	[INFO_SHA256] = {NULL, "sha256", 0, FIELD_TEXT, false},
	[INFO_FORMAT] = {NULL, "format", 0, FIELD_INT, false},
	[INFO_TOOL_VERSION] = {NULL, "tool_version", 0, FIELD_TEXT, false},
	[INFO_HOST] = {NULL, "host", 0, FIELD_TEXT, false},
	[INFO_KERNEL_RELEASE] = {NULL, "kernel_release", 0, FIELD_TEXT, false},
	[INFO_KERNEL_VERSION] = {NULL, "kernel_version", 0, FIELD_TEXT, false},
	[INFO_MACHINE] = {NULL, "machine", 0, FIELD_TEXT, false},
	[INFO_BOOT_ID] = {NULL, "boot_id", 0, FIELD_TEXT, false},
	[INFO_COMMAND_LINE] = {NULL, "command_line", 0, FIELD_TEXT, false},
	[INFO_STARTED] = {NULL, "started", 0, FIELD_RFC3339, false},
	[INFO_ENDED] = {NULL, "ended", 0, FIELD_RFC3339, false},
	[INFO_DURATION] = {NULL, "duration_ns", 0, FIELD_INT, false},
	[INFO_CLEAN] = {NULL, "clean_stop", 0, FIELD_BOOL, false},
	[INFO_STOP_REASON] = {NULL, "stop_reason", 0, FIELD_TEXT, false},
	[INFO_PART] = {NULL, "part", 0, FIELD_INT, false},
	[INFO_PARTS] = {NULL, "parts", 0, FIELD_INT, false},
	[INFO_KIND] = {NULL, "kind", 0, FIELD_TEXT, false},
	[INFO_ENABLED] = {NULL, "enabled", 0, FIELD_BOOL, false},
	[INFO_RECORDED] = {NULL, "recorded", 0, FIELD_INT, false},
	[INFO_LOST] = {NULL, "lost", 0, FIELD_INT, false},
	[INFO_MECHANISM] = {NULL, "mechanism", 0, FIELD_TEXT, false},
	[INFO_LOST_INTERVALS] = {NULL, "lost_intervals", 0, FIELD_LINES, false},
	[INFO_LOST_BY] = {NULL, "lost_by", 0, FIELD_LINES, false},
	[INFO_LOST_UNATTRIBUTED] = {NULL, "lost_unattributed", 0, FIELD_INT, false},
	[INFO_SKIPPED_RUNS] = {NULL, "skipped_runs", 0, FIELD_LINES, false},
};

static const char usage[] =
	"usage: report info [-h] [--format FORMAT] [--local] FILE...\n"
	"\n"
	"What each capture is: its SHA-256 (and its -wal's), host, kernel, boot,\n"
	"the recorder's network namespace (a table only), the record command,\n"
	"start and stop (or last save, when the recorder did\n"
	"not stop cleanly), duration, and the events recorded and lost per kind,\n"
	"with how the recording kernel let each be recorded (its mechanism:\n"
	"tracepoints, kfuncs, fexit...); when records were lost (between two looks\n"
	"of the recorder, 10 ms apart) and by which processes; runs of the recorder's\n"
	"BPF programs the kernel skipped (an event that came while the program ran\n"
	"on the same CPU), with the kinds whose events may be missing (a table\n"
	"only).  A part of a rotated recording (record -C) lists the parts beside\n"
	"it, their spans from the first one's start, and why they overlap.  JSON\n"
	"and CSV give one row per capture and kind of event (part: its number;\n"
	"parts: how many of its recording lie beside it; lost_intervals: \"FIRST\n"
	"LAST COUNT\" lines; lost_by: \"COUNT PID COMM\" lines; lost_unattributed:\n"
	"the losses no process is named for; the three null for captures that do\n"
	"not tell; skipped_runs, the capture's: \"RUNS PROGRAM KINDS\" lines, null\n"
	"for captures of recorders that did not keep them).\n"
	"\n"
	"examples:\n"
	"    report info case42.db\n"
	"    report info --format json web-*.db\n";

/* The end of what a capture holds: its stop, or its last commit. */
static int64_t ended_ns(const struct capture *cap)
{
	return cap->clean ? cap->stopped_ns : cap->last_commit_ns;
}

static struct value text_of(const char *text)
{
	return text_value(text, text ? strlen(text) : 0);
}

/*
 * The SHA-256 of a capture's file (or of its -wal: suffix), read read-only,
 * to compare with what record printed; "" when it cannot be read.
 */
static void file_hash(const struct capture *cap, const char *suffix, char hex[SHA256_HEX])
{
	char *path = xmalloc(strlen(cap->path) + strlen(suffix) + 1);

	if (sha256_file(strcat(strcpy(path, cap->path), suffix), hex))
		hex[0] = '\0';
	free(path);
}

/* A part of a rotated recording found beside the capture asked about. */
struct part {
	int number;
	struct capture *cap;
};

/*
 * The parts of cap's recording that lie beside it, ascending (cap itself
 * among them): before its own, every file that is one; after, up to the
 * first missing.  Their count in *n.
 */
static struct part *parts_beside(struct capture *cap, int *n)
{
	int own = capture_part(cap), named, *numbers = part_numbers_beside(cap, &named);
	struct part *parts = xcalloc((size_t)named + 1, sizeof(*parts));
	int64_t next = (int64_t)own + 1; /* own may be INT32_MAX */

	*n = 0;
	for (int i = 0; i < named && numbers[i] < own; i++) {
		struct capture *part = capture_open_part(cap, numbers[i], false);

		if (part)
			parts[(*n)++] = (struct part){numbers[i], part};
	}
	parts[(*n)++] = (struct part){own, cap};
	for (int i = 0; i < named; i++) {
		struct capture *part;

		if (numbers[i] < next)
			continue;
		if (numbers[i] > next || !(part = capture_open_part(cap, numbers[i], false)))
			break;
		parts[(*n)++] = (struct part){numbers[i], part};
		next++;
	}
	free(numbers);
	return parts;
}

static void free_parts(struct capture *cap, struct part *parts, int n)
{
	for (int i = 0; i < n; i++) {
		if (parts[i].cap != cap) {
			struct captures one = {.list = xcalloc(1, sizeof(*one.list)), .count = 1};

			one.list[0] = parts[i].cap;
			captures_close(&one);
		}
	}
	free(parts);
}

/* Longer than the switch to the next file: what keeps a part open is in flight. */
#define LONG_OVERLAP_NS 100000000LL

#define MISSING "(not beside it)"

/* The number of the first part missing before parts[i], or 0 when none is. */
static int missing_before(const struct part *parts, int i)
{
	int previous = i ? parts[i - 1].number : 0;

	return parts[i].number > previous + 1 ? previous + 1 : 0;
}

/* "7" or, for a run of them, "3-6": the numbers of parts not beside it, as one line. */
static void print_missing(int from, int to, int width)
{
	char numbers[32];

	snprintf(numbers, sizeof(numbers), from == to ? "%d" : "%d-%d", from, to);
	printf("          %-3s %-*s\n", numbers, width, MISSING);
}

/*
 * A rotated recording's parts, from the first one's start, and why they
 * overlap: a part is closed once the next is open, and only once its
 * connects in flight have their outcomes (an outcome goes into its
 * connect's file).  The parts missing before the last, a line a run.
 */
static void print_parts(struct capture *cap, const struct part *parts, int n)
{
	int64_t origin = parts[0].number == 1 ? parts[0].cap->started_ns : cap->started_ns;
	char **names = xcalloc((size_t)n, sizeof(*names));
	int width = 0, overlaps = 0;

	for (int i = 0; i < n; i++) {
		names[i] = render_string(parts[i].cap->path);
		if ((int)strlen(names[i]) > width)
			width = (int)strlen(names[i]);
		if (missing_before(parts, i) && width < (int)strlen(MISSING))
			width = (int)strlen(MISSING);
	}
	printf("part      %d of a rotated recording (record -C), %d of its files here:\n",
	       capture_part(cap), n);
	for (int i = 0; i < n; i++) {
		const struct capture *part = parts[i].cap;
		/* A part's own words, as any capture's: rendered. */
		char *how = render_string(!part->clean	       ? "not stopped cleanly"
					  : *part->stop_reason ? part->stop_reason
							       : "stopped");
		int missing = missing_before(parts, i);

		if (missing)
			print_missing(missing, parts[i].number - 1, width);
		printf("        %s%-3d %-*s", part == cap ? "> " : "  ", parts[i].number, width,
		       names[i]);
		printf("  %+.3f s to %+.3f s, %s\n", (double)(part->started_ns - origin) / 1e9,
		       (double)(ended_ns(part) - origin) / 1e9, how);
		free(how);
		free(names[i]);
	}
	free(names);
	for (int i = 0; i + 1 < n; i++) {
		int64_t overlap;

		if (parts[i + 1].number != parts[i].number + 1)
			continue;
		overlap = ended_ns(parts[i].cap) - parts[i + 1].cap->started_ns;
		if (overlap > 0 && !overlaps++)
			printf("overlap   a part closes once the next one is open, and not before "
			       "its\n"
			       "          connects in flight have their outcomes (kept with the "
			       "connect)\n");
		if (overlap > LONG_OVERLAP_NS)
			printf("          part %d stayed open %.3f s into part %d\n",
			       parts[i].number, (double)overlap / 1e9, parts[i + 1].number);
	}
}

/* A kind's loss intervals as "FIRST LAST COUNT" lines (texts into buf, RFC 3339). */
static size_t interval_lines(const struct losses *l, int kind, bool local, struct line *lines,
			     char (*buf)[3 * WHEN_MAX])
{
	size_t n = 0;

	for (size_t i = 0; i < l->nintervals; i++) {
		const struct loss_interval *in = &l->intervals[i];
		char first[WHEN_MAX], last[WHEN_MAX];

		if (in->kind != kind)
			continue;
		format_rfc3339(in->first_ns, local, first);
		format_rfc3339(in->last_ns, local, last);
		snprintf(buf[n], sizeof(buf[n]), "%s %s %lld", first, last, (long long)in->count);
		lines[n] = (struct line){buf[n], strlen(buf[n])};
		n++;
	}
	return n;
}

/* A kind's losses by process as "COUNT PID COMM" lines; the unattributed into *rest. */
static size_t process_lines(const struct losses *l, int kind, struct line *lines,
			    char (*buf)[3 * WHEN_MAX], int64_t *rest)
{
	size_t n = 0;

	*rest = 0;
	for (size_t i = 0; i < l->nby_process; i++) {
		const struct process_losses *p = &l->by_process[i];

		if (p->kind != kind)
			continue;
		if (p->pid < 0) {
			*rest += p->count;
			continue;
		}
		/* The comm is raw bytes: the output escapes the line. */
		snprintf(buf[n], sizeof(buf[n]), "%lld %lld %.*s", (long long)p->count,
			 (long long)p->pid, (int)p->comm_len, p->comm);
		lines[n] = (struct line){buf[n], strlen(buf[n])};
		n++;
	}
	return n;
}

/* Room for a capture's loss lines, reused for each kind. */
struct loss_lines {
	struct line *intervals, *processes;
	char (*interval_texts)[3 * WHEN_MAX], (*process_texts)[3 * WHEN_MAX];
};

static void loss_values(const struct losses *l, int kind, bool local, struct loss_lines *room,
			struct value *v)
{
	int64_t rest;

	if (!l->kept) {
		v[INFO_LOST_INTERVALS] = v[INFO_LOST_BY] = v[INFO_LOST_UNATTRIBUTED] = null_value();
		return;
	}
	v[INFO_LOST_INTERVALS] =
		lines_value(room->intervals,
			    interval_lines(l, kind, local, room->intervals, room->interval_texts));
	v[INFO_LOST_BY] = lines_value(room->processes, process_lines(l, kind, room->processes,
								     room->process_texts, &rest));
	v[INFO_LOST_UNATTRIBUTED] = int_value(rest);
}

/* The capture's skipped runs as "RUNS PROGRAM KINDS" lines (texts to free). */
static struct value skipped_value(struct capture *cap, struct line *lines)
{
	if (!capture_has_column(cap, "skipped_run", NULL))
		return null_value();
	for (int i = 0; i < cap->nskipped; i++) {
		const struct skipped_run *run = &cap->skipped[i];
		size_t size = 24 + strlen(run->program) + strlen(run->kinds);
		char *text = xmalloc(size);

		snprintf(text, size, "%lld %s %s", (long long)run->runs, run->program, run->kinds);
		lines[i] = (struct line){text, strlen(text)};
	}
	return lines_value(lines, (size_t)cap->nskipped);
}

static void print_rows(struct capture *cap, const struct losses *losses, bool local)
{
	char hex[SHA256_HEX];
	struct loss_lines room;

	file_hash(cap, "", hex);
	struct value v[INFO_FIELDS] = {
		[INFO_FILE] = text_of(cap->path),
		[INFO_SHA256] = *hex ? text_of(hex) : null_value(),
		[INFO_FORMAT] = int_value(cap->format),
		[INFO_TOOL_VERSION] = text_of(cap->tool_version),
		[INFO_HOST] = text_of(cap->host),
		[INFO_KERNEL_RELEASE] = text_of(cap->kernel_release),
		[INFO_KERNEL_VERSION] = text_of(cap->kernel_version),
		[INFO_MACHINE] = text_of(cap->machine),
		[INFO_BOOT_ID] = text_of(cap->boot_id),
		[INFO_COMMAND_LINE] = text_of(cap->command_line),
		[INFO_STARTED] = int_value(cap->started_ns),
		[INFO_ENDED] = int_value(ended_ns(cap)),
		[INFO_DURATION] = int_value(ended_ns(cap) - cap->started_ns),
		[INFO_CLEAN] = int_value(cap->clean),
		[INFO_STOP_REASON] =
			cap->clean || *cap->stop_reason ? text_of(cap->stop_reason) : null_value(),
		[INFO_PART] = int_value(capture_part(cap)),
	};
	int nparts;
	struct part *parts = parts_beside(cap, &nparts);

	v[INFO_PARTS] = int_value(nparts);
	free_parts(cap, parts, nparts);

	room = (struct loss_lines){
		xcalloc(losses->nintervals + 1, sizeof(*room.intervals)),
		xcalloc(losses->nby_process + 1, sizeof(*room.processes)),
		xcalloc(losses->nintervals + 1, sizeof(*room.interval_texts)),
		xcalloc(losses->nby_process + 1, sizeof(*room.process_texts)),
	};
	struct line *skipped = xcalloc((size_t)cap->nskipped + 1, sizeof(*skipped));

	v[INFO_SKIPPED_RUNS] = skipped_value(cap, skipped);
	for (int i = 0; i < cap->nkinds; i++) {
		v[INFO_KIND] = text_of(cap->kinds[i].name);
		v[INFO_ENABLED] = int_value(cap->kinds[i].enabled);
		v[INFO_RECORDED] = int_value(cap->kinds[i].recorded);
		v[INFO_LOST] = int_value(cap->kinds[i].lost);
		v[INFO_MECHANISM] =
			cap->kinds[i].mechanism ? text_of(cap->kinds[i].mechanism) : null_value();
		loss_values(losses, i, local, &room, v);
		output_row(v);
	}
	for (int i = 0; i < cap->nskipped; i++)
		free((char *)skipped[i].s);
	free(skipped);
	free(room.intervals);
	free(room.processes);
	free(room.interval_texts);
	free(room.process_texts);
}

static bool has_mechanisms(const struct capture *cap)
{
	for (int i = 0; i < cap->nkinds; i++)
		if (cap->kinds[i].mechanism)
			return true;
	return false;
}

/* Processes listed per kind, most losses first; JSON and CSV list all. */
#define LOSERS_SHOWN 10

/* The processes of a kind past those listed, from *i on, in one line; *i: the last of them. */
static void print_others(const char *name, const struct losses *l, size_t *i)
{
	const struct process_losses *p = &l->by_process[*i];
	int64_t count = 0, more = 0;
	char others[32];

	for (;
	     *i < l->nby_process && l->by_process[*i].kind == p->kind && l->by_process[*i].pid >= 0;
	     ++*i, more++)
		count += l->by_process[*i].count;
	--*i;
	snprintf(others, sizeof(others), "(%lld other%s)", (long long)more, more > 1 ? "s" : "");
	printf("%-10s %8s %-16s %10lld\n", name, "...", others, (long long)count);
}

/*
 * When and by whom each kind lost records: the intervals between the
 * recorder's looks that found losses, and the processes.
 */
static void print_losses(const struct capture *cap, const struct losses *l, bool local)
{
	int64_t lost = 0;

	for (int i = 0; i < cap->nkinds; i++)
		lost += cap->kinds[i].lost;
	if (!lost)
		return;
	if (!l->kept) {
		printf("losses    when and by whom: not kept by the recorder of this capture\n");
		return;
	}
	printf("%-10s %-33s %-12s %10s\n", "LOST WHEN", "FROM", "TO", "LOST");
	for (size_t i = 0; i < l->nintervals; i++) {
		const struct loss_interval *in = &l->intervals[i];
		char *name = render_string(cap->kinds[in->kind].name), first[WHEN_MAX],
		     last[WHEN_MAX];

		format_human(in->first_ns, local, first);
		format_clock(in->last_ns, local, last);
		printf("%-10s %-33s %-12s %10lld\n", name, first, last, (long long)in->count);
		free(name);
	}
	printf("%-10s %8s %-16s %10s\n", "LOST BY", "PID", "COMM", "LOST");
	for (size_t i = 0, shown = 0; i < l->nby_process; i++) {
		const struct process_losses *p = &l->by_process[i];
		bool first = !i || p->kind != l->by_process[i - 1].kind;
		char *name = render_string(cap->kinds[p->kind].name),
		     comm[4 * CAPTURE_TEXT_MAX + 1];

		shown = first ? 1 : shown + 1;
		comm[render_text(p->comm, p->comm_len, comm)] = '\0';
		if (p->pid < 0)
			printf("%-10s %8s %-16s %10lld\n", name, "-", "(unattributed)",
			       (long long)p->count);
		else if (shown <= LOSERS_SHOWN)
			printf("%-10s %8lld %-16s %10lld\n", name, (long long)p->pid, comm,
			       (long long)p->count);
		else
			print_others(name, l, &i);
		free(name);
	}
}

/* Runs of the recorder's programs the kernel skipped: one line per program. */
static void print_skipped_runs(const struct capture *cap)
{
	for (int i = 0; i < cap->nskipped; i++) {
		char *sentence = losses_skipped_sentence(&cap->skipped[i]),
		     *shown = render_string(sentence);

		printf("missed    %s\n", shown);
		free(sentence);
		free(shown);
	}
}

static void print_page(struct capture *cap, const struct losses *losses, bool local)
{
	const char *texts[] = {cap->path,	    cap->tool_version,	 cap->host,
			       cap->kernel_release, cap->kernel_version, cap->machine,
			       cap->boot_id,	    cap->command_line,	 cap->stop_reason,
			       cap->event_kinds};
	char *safe[ARRAY_SIZE(texts)], started[WHEN_MAX], ended[WHEN_MAX], hex[SHA256_HEX];
	int64_t end = ended_ns(cap);
	struct part *parts;
	int nparts;

	for (size_t i = 0; i < ARRAY_SIZE(texts); i++)
		safe[i] = render_string(texts[i] ? texts[i] : "");
	format_human(cap->started_ns, local, started);
	format_human(end, local, ended);
	printf("capture   %s\n", safe[0]);
	file_hash(cap, "", hex);
	printf("sha256    %s\n", *hex ? hex : "(cannot be read)");
	/* A -wal holds events too (an unclean stop): its hash is evidence as well. */
	file_hash(cap, "-wal", hex);
	if (*hex)
		printf("sha256    %s (its -wal)\n", hex);
	printf("format    %d (recorded by casefile %s)\n", cap->format, safe[1]);
	printf("host      %s\n", safe[2]);
	printf("kernel    Linux %s %s %s\n", safe[3], safe[4], safe[5]);
	printf("boot      %s\n", safe[6]);
	if (cap->netns >= 0)
		printf("netns     %lld (the recorder's network namespace)\n",
		       (long long)cap->netns);
	printf("command   %s\n", safe[7]);
	printf("started   %s\n", started);
	printf("%s %s\n", cap->clean ? "stopped  " : "last save", ended);
	printf("duration  %.3f s\n", (double)(end - cap->started_ns) / 1e9);
	/* An unclean stop may still have said why (a full disk): say it too. */
	if (cap->clean)
		printf("stop      clean (%s)\n", safe[8]);
	else
		printf("stop      NOT CLEAN%s%s%s: the recorder did not finish; events after the "
		       "last save are missing\n",
		       *safe[8] ? " (" : "", safe[8], *safe[8] ? ")" : "");
	printf("kinds     %s\n", safe[9]);
	parts = parts_beside(cap, &nparts);
	if (nparts > 1 || capture_part(cap) > 1)
		print_parts(cap, parts, nparts);
	free_parts(cap, parts, nparts);
	for (size_t i = 0; i < ARRAY_SIZE(texts); i++)
		free(safe[i]);
	/* Captures of older recorders do not say how: no column then. */
	printf("%-10s %12s %10s%s\n", "EVENTS", "RECORDED", "LOST",
	       has_mechanisms(cap) ? "  MECHANISM" : "");
	for (int i = 0; i < cap->nkinds; i++) {
		char *name = render_string(cap->kinds[i].name);
		char *how = render_string(cap->kinds[i].mechanism ? cap->kinds[i].mechanism : "");

		if (cap->kinds[i].enabled)
			printf("%-10s %12lld %10lld%s%s\n", name, (long long)cap->kinds[i].recorded,
			       (long long)cap->kinds[i].lost, *how ? "  " : "", how);
		free(name);
		free(how);
	}
	print_losses(cap, losses, local);
	print_skipped_runs(cap);
}

static int run(struct captures *set, const struct options *opts)
{
	/* Read first: a corrupt capture gets its one line, and no page. */
	struct losses *losses = losses_read_all(set);

	if (!losses)
		return -1;
	if (opts->format != FORMAT_TABLE)
		output_begin(opts->format, opts->local, fields, INFO_FIELDS);
	for (int i = 0; i < set->count; i++) {
		if (opts->format != FORMAT_TABLE) {
			print_rows(set->list[i], &losses[i], opts->local);
			continue;
		}
		if (i)
			putchar('\n');
		print_page(set->list[i], &losses[i], opts->local);
	}
	losses_free_all(losses, set);
	return 0;
}

const struct command info_command = {
	.summary = "host, kernel, span, events and losses of each capture",
	.spec = {.name = "info", .usage = usage, .short_options = ""},
	.run = run,
};
