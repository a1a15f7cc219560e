/* report info: what each capture is, where and when it was made, what it holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
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
};

static const char usage[] =
	"usage: report info [-h] [--format FORMAT] [--local] FILE...\n"
	"\n"
	"What each capture is: its SHA-256 (and its -wal's), host, kernel, boot,\n"
	"the recorder's network namespace (a table only), the record command,\n"
	"start and stop (or last save, when the recorder did\n"
	"not stop cleanly), duration, and the events recorded and lost per kind,\n"
	"with how the recording kernel let each be recorded (its mechanism:\n"
	"tracepoints, kfuncs, fexit...).  A part of a rotated recording (record\n"
	"-C) lists the parts beside it, their spans from the first one's start,\n"
	"and why they overlap.  JSON and CSV give one row per capture and kind of\n"
	"event (part: its number; parts: how many of its recording lie beside it).\n"
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

/*
 * The parts of cap's recording that lie beside it, by number (cap itself at
 * its own; NULL for one missing), up to the last found; the count in *n.
 */
static struct capture **parts_beside(struct capture *cap, int *n)
{
	int own = capture_part(cap);
	struct capture **parts = NULL;

	*n = 0;
	for (int k = 1;; k++) {
		struct capture *part = k == own ? cap : capture_open_part(cap, k, false);

		if (!part && k > own)
			break;
		parts = xrealloc(parts, (size_t)k * sizeof(*parts));
		parts[k - 1] = part;
		*n = k;
	}
	return parts;
}

static void free_parts(struct capture *cap, struct capture **parts, int n)
{
	for (int k = 0; k < n; k++) {
		if (parts[k] && parts[k] != cap) {
			struct captures one = {.list = xcalloc(1, sizeof(*one.list)), .count = 1};

			one.list[0] = parts[k];
			captures_close(&one);
		}
	}
	free(parts);
}

static int found(struct capture **parts, int n)
{
	int count = 0;

	for (int k = 0; k < n; k++)
		count += parts[k] != NULL;
	return count;
}

/* Longer than the switch to the next file: what keeps a part open is in flight. */
#define LONG_OVERLAP_NS 100000000LL

/*
 * A rotated recording's parts, from the first one's start, and why they
 * overlap: a part is closed once the next is open, and only once its
 * connects in flight have their outcomes (an outcome goes into its
 * connect's file).
 */
static void print_parts(struct capture *cap, struct capture **parts, int n)
{
	int64_t origin = parts[0] ? parts[0]->started_ns : cap->started_ns;
	char **names = xcalloc((size_t)n, sizeof(*names));
	int width = 0, overlaps = 0;

	for (int k = 0; k < n; k++) {
		names[k] = render_string(parts[k] ? parts[k]->path : "(not beside it)");
		if ((int)strlen(names[k]) > width)
			width = (int)strlen(names[k]);
	}
	printf("part      %d of a rotated recording (record -C), %d of its files here:\n",
	       capture_part(cap), found(parts, n));
	for (int k = 0; k < n; k++) {
		printf("        %s%-3d %-*s", parts[k] == cap ? "> " : "  ", k + 1, width,
		       names[k]);
		if (parts[k]) {
			/* A part's own words, as any capture's: rendered. */
			char *how = render_string(!parts[k]->clean	   ? "not stopped cleanly"
						  : *parts[k]->stop_reason ? parts[k]->stop_reason
									   : "stopped");

			printf("  %+.3f s to %+.3f s, %s",
			       (double)(parts[k]->started_ns - origin) / 1e9,
			       (double)(ended_ns(parts[k]) - origin) / 1e9, how);
			free(how);
		}
		putchar('\n');
		free(names[k]);
	}
	free(names);
	for (int k = 0; k + 1 < n; k++) {
		int64_t overlap;

		if (!parts[k] || !parts[k + 1])
			continue;
		overlap = ended_ns(parts[k]) - parts[k + 1]->started_ns;
		if (overlap > 0 && !overlaps++)
			printf("overlap   a part closes once the next one is open, and not before "
			       "its\n"
			       "          connects in flight have their outcomes (kept with the "
			       "connect)\n");
		if (overlap > LONG_OVERLAP_NS)
			printf("          part %d stayed open %.3f s into part %d\n", k + 1,
			       (double)overlap / 1e9, k + 2);
	}
}

static void print_rows(struct capture *cap)
{
	char hex[SHA256_HEX];

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
	struct capture **parts = parts_beside(cap, &nparts);

	v[INFO_PARTS] = int_value(found(parts, nparts));
	free_parts(cap, parts, nparts);

	for (int i = 0; i < cap->nkinds; i++) {
		v[INFO_KIND] = text_of(cap->kinds[i].name);
		v[INFO_ENABLED] = int_value(cap->kinds[i].enabled);
		v[INFO_RECORDED] = int_value(cap->kinds[i].recorded);
		v[INFO_LOST] = int_value(cap->kinds[i].lost);
		v[INFO_MECHANISM] =
			cap->kinds[i].mechanism ? text_of(cap->kinds[i].mechanism) : null_value();
		output_row(v);
	}
}

static bool has_mechanisms(const struct capture *cap)
{
	for (int i = 0; i < cap->nkinds; i++)
		if (cap->kinds[i].mechanism)
			return true;
	return false;
}

static void print_page(struct capture *cap, bool local)
{
	const char *texts[] = {cap->path,	    cap->tool_version,	 cap->host,
			       cap->kernel_release, cap->kernel_version, cap->machine,
			       cap->boot_id,	    cap->command_line,	 cap->stop_reason,
			       cap->event_kinds};
	char *safe[ARRAY_SIZE(texts)], started[WHEN_MAX], ended[WHEN_MAX], hex[SHA256_HEX];
	int64_t end = ended_ns(cap);
	struct capture **parts;
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
	if (nparts > 1)
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
}

static int run(struct captures *set, const struct options *opts)
{
	if (opts->format != FORMAT_TABLE)
		output_begin(opts->format, opts->local, fields, INFO_FIELDS);
	for (int i = 0; i < set->count; i++) {
		if (opts->format != FORMAT_TABLE) {
			print_rows(set->list[i]);
			continue;
		}
		if (i)
			putchar('\n');
		print_page(set->list[i], opts->local);
	}
	return 0;
}

const struct command info_command = {
	.summary = "host, kernel, span, events and losses of each capture",
	.spec = {.name = "info", .usage = usage, .short_options = ""},
	.run = run,
};
