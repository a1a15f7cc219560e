/*
 * report html: one self-contained page for a ticket.  Inline CSS, inline SVG,
 * a small inline script (sorting and filtering; everything reads without
 * it), and a Content-Security-Policy that forbids every fetch: it opens from
 * file:// with no network.  It shows what summary concludes (overview.c, the
 * one source of findings) with the evidence, a chart of events over time,
 * the capability use and a process tree; bounded (aggregates and top rows,
 * never every event), it says what it left out and how to get it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "accounts.h"
#include "activity.h"
#include "losses.h"
#include "command.h"
#include "htmlpage.h"
#include "hashmap.h"
#include "htmltext.h"
#include "lineage.h"
#include "overview.h"
#include "util.h"
#include "when.h"

#define FINDINGS_SHOWN 50 /* per detection */
#define TALKERS_SHOWN  25
#define PROGRAMS_SHOWN 50
#define FLAGS_SHOWN    50
#define BARS_SHOWN     20
#define TEXT_MAX       1024

static struct {
	struct thresholds t;
	struct cap_settings caps;
	const char *output;
} hm;

static const char usage[] =
	"usage: report html -o FILE [-h] [--scan-window SECONDS] [--ports N] [--targets N]\n"
	"                   [--destinations N] [--failed-share F]\n"
	"                   [--bruteforce-window SECONDS] [--connections N]\n"
	"                   [--service PORTS] [--daemon NAMES] [--settle SECONDS]\n"
	"                   [--net-raw NAMES] [common options] FILE...\n"
	"\n"
	"One HTML file with nothing outside it, for a ticket: the captures, the\n"
	"verdict of every detection with its evidence and the report command that\n"
	"shows more, a chart of events over time with the findings marked, the\n"
	"programs that stand out with their parents and command lines, the top\n"
	"talkers, capability use as histograms, and a process tree of what the\n"
	"findings involve.  Inline CSS and SVG, a small inline script (sorting and\n"
	"filtering tables; all of it reads with scripts off), and a\n"
	"Content-Security-Policy that forbids every network fetch: it opens from a\n"
	"file:// URL offline.  Bounded: aggregates and top rows, never every event;\n"
	"the page says what it left out.  Every string from a capture is shown as\n"
	"text.  The options are summary's (--comm and the like narrow the findings;\n"
	"the chart counts every event between --since and --until).  For a ticket\n"
	"outside the organisation, make the page from a redacted copy (report\n"
	"redact).\n"
	"\n"
	"  -o, --output FILE   the page to write (replaced if it exists)\n"
	"\n"
	"examples:\n"
	"    report html -o case42.html case42.db\n"
	"    report redact --key-file fleet.key case42.db shared.db &&\n"
	"        report html -o ticket.html shared.db\n";

enum { OPT_OUTPUT = 'o' };

static const struct option long_options[] = {
	{"output", required_argument, NULL, OPT_OUTPUT},
	SCAN_OPTIONS("scan-window"),
	BRUTEFORCE_OPTIONS("bruteforce-window"),
	CAP_OPTIONS,
	{NULL, 0, NULL, 0},
};

static int own_option(int option, const char *arg, void *ctx)
{
	int rc;

	(void)ctx;
	if (option == OPT_OUTPUT) {
		hm.output = arg;
		return 0;
	}
	rc = threshold_option("html", option, arg, &hm.t);
	if (rc > 0)
		rc = cap_option("html", option, arg, &hm.caps);
	return rc < 0 ? -1 : 0;
}

static int check(const struct options *opts)
{
	(void)opts;
	if (!hm.output)
		return option_error("html", "no page to write: give -o FILE");
	return 0;
}

/* --- Pieces ------------------------------------------------------------------------ */

struct page {
	FILE *out;
	struct captures *set;
	const struct options *opts;
	struct overview o;
	struct activity activity;
	struct losses *losses; /* of each capture */
	struct omitted omitted;
	struct tree tree;
};

/* A time to the millisecond, its day and nanoseconds in its title (the page's header has the day).
 */
static void when(const struct page *p, int64_t ns)
{
	char clock[WHEN_MAX], full[WHEN_MAX];

	format_clock(ns, p->opts->local, clock);
	format_human(ns, p->opts->local, full);
	fprintf(p->out, "<time title=\"%s\">%s</time>", full, clock);
}

/* The capture files, as a command line takes them (rendered and escaped). */
static void files(const struct page *p)
{
	for (int i = 0; i < p->set->count; i++) {
		fputc(' ', p->out);
		html_string(p->out, p->set->list[i]->path);
	}
}

/* A program: "comm", with "host:" when there are several hosts. */
static void process_name(const struct page *p, int host, const char *comm, size_t len)
{
	if (p->set->many_hosts) {
		html_string(p->out, peers_host_name(overview_hosts(&p->o), host));
		fputc(':', p->out);
	}
	html_text(p->out, comm, len);
}

/* A process: "comm/pid", with "host:" so. */
static void process(const struct page *p, int host, const char *comm, size_t len, int64_t pid)
{
	process_name(p, host, comm, len);
	fprintf(p->out, "/%lld", (long long)pid);
}

static void counted(FILE *out, int64_t n)
{
	fprintf(out, "<td class=\"n\" data-count=\"%lld\">%lld</td>", (long long)n, (long long)n);
}

/* "nobody (uid 65534)" as the capture's accounts snapshot names the user, or "uid 65534". */
static void user(const struct page *p, int host, int64_t uid)
{
	char name[ACCOUNT_NAME_MAX + 1];

	/* A capture that cannot be read here was read whole before: no name is then no harm. */
	if (account_name(p->set, overview_hosts(&p->o), host, uid, name) > 0) {
		html_string(p->out, name);
		fprintf(p->out, " (uid %lld)", (long long)uid);
	} else {
		fprintf(p->out, "uid %lld", (long long)uid);
	}
}

/* --- Captures ---------------------------------------------------------------------- */

/* The events (or the losses) of each kind recorded, then the kinds not recorded. */
static void kinds_cell(FILE *out, const struct capture *cap, bool losses)
{
	bool absent = false;

	for (int k = 0; k < cap->nkinds; k++) {
		const struct kind_count *c = &cap->kinds[k];

		if (!c->enabled || (losses && !c->lost))
			continue;
		/* A kind's name is the capture's: escaped in the attribute too. */
		fprintf(out, "<span class=\"kind%s\" data-kind=\"", losses ? " bad" : "");
		html_string(out, c->name);
		fprintf(out, "\" data-%s=\"%lld\">", losses ? "lost" : "recorded",
			(long long)(losses ? c->lost : c->recorded));
		html_string(out, c->name);
		fprintf(out, "&nbsp;%lld</span> ", (long long)(losses ? c->lost : c->recorded));
	}
	for (int k = 0; k < cap->nkinds && !losses; k++)
		if (!cap->kinds[k].enabled) {
			fputs(absent ? ", " : "<br><span class=\"note\">not recorded: ", out);
			html_string(out, cap->kinds[k].name);
			absent = true;
		}
	if (absent)
		fputs("</span>", out);
}

/* Per kind that lost records, the process that lost most; or that the capture does not tell. */
static void losers_cell(FILE *out, const struct capture *cap, const struct losses *l)
{
	for (int k = 0; k < cap->nkinds; k++) {
		const struct process_losses *top = losses_top_process(l, k);
		char who[2 * CAPTURE_TEXT_MAX];

		if (!cap->kinds[k].lost)
			continue;
		if (!l->kept) {
			fputs("<br><span class=\"note\">when and by whom: not kept by its "
			      "recorder</span>",
			      out);
			return;
		}
		if (!top)
			continue;
		losses_who(top, who, sizeof(who));
		fputs("<br><span class=\"note\">", out);
		html_string(out, cap->kinds[k].name);
		fputs(": ", out);
		html_text(out, who, strlen(who));
		fputs("</span>", out);
	}
}

/* Runs of the recorder's programs the kernel skipped, after the losses. */
static void skipped_cell(FILE *out, const struct capture *cap)
{
	for (int i = 0; i < cap->nskipped; i++) {
		char *sentence = losses_skipped_sentence(&cap->skipped[i]);

		fprintf(out, "<span class=\"skipped\" data-runs=\"%lld\">",
			(long long)cap->skipped[i].runs);
		html_string(out, sentence);
		fputs("</span> ", out);
		free(sentence);
	}
}

static void captures_section(struct page *p)
{
	FILE *out = p->out;

	page_section(out, "captures", "Captures");
	fputs("<table class=\"sortable\"><thead><tr><th>host</th><th>file</th><th>kernel</th>"
	      "<th>start</th><th>end</th><th>seconds</th><th>stop</th><th>events</th>"
	      "<th>lost</th></tr></thead><tbody>\n",
	      out);
	for (int i = 0; i < p->set->count; i++) {
		const struct capture *cap = p->set->list[i];
		int64_t end = cap->clean ? cap->stopped_ns : cap->last_commit_ns, lost = 0;

		fputs("<tr><td>", out);
		html_string(out, cap->host);
		fputs("</td><td>", out);
		html_string(out, cap->path);
		fputs("</td><td>", out);
		html_string(out, cap->kernel_release);
		fputs("</td><td>", out);
		when(p, cap->started_ns);
		fputs("</td><td>", out);
		when(p, end);
		fprintf(out, "</td><td class=\"n\">%.1f</td><td class=\"%s\">",
			(double)(end - cap->started_ns) / 1e9, cap->clean ? "" : "bad");
		if (cap->clean) {
			fputs("clean", out);
			if (cap->stop_reason) {
				fputs(" (", out);
				html_string(out, cap->stop_reason);
				fputc(')', out);
			}
		} else {
			fputs("NO CLEAN STOP (killed, or still recording)", out);
		}
		fputs("</td><td>", out);
		kinds_cell(out, cap, false);
		for (int k = 0; k < cap->nkinds; k++)
			lost += cap->kinds[k].lost;
		fprintf(out, "</td><td class=\"%s\">", lost || cap->nskipped ? "bad" : "n");
		kinds_cell(out, cap, true);
		losers_cell(out, cap, &p->losses[i]);
		skipped_cell(out, cap);
		fprintf(out, "%s</td></tr>\n", lost || cap->nskipped ? "" : "none");
	}
	fputs("</tbody></table>\n<p class=\"note\">Losses mean the counts below are short by at "
	      "least that many events.  Events over time draws when they happened: between two "
	      "looks of the recorder at its counts, 10 ms apart (captures of recorders before it "
	      "counted them per kind only, and say so here).</p>\n</section>\n",
	      out);
}

/* --- Detections -------------------------------------------------------------------- */

/* The report command line that shows a finding's events. */
static void finding_command_line(const struct page *p, const struct finding *f)
{
	char from[WHEN_MAX], to[WHEN_MAX];

	format_rfc3339(f->first_ns, false, from);
	format_rfc3339(f->last_ns, false, to);
	fprintf(p->out, "<code>report timeline --since %s --until %s", from, to);
	if (f->kind == FINDING_OUTBOUND) {
		fprintf(p->out, " -p %lld", (long long)f->pid);
	} else {
		fputs(" --addr ", p->out);
		html_string(p->out, peer_text(f->peers, f->remote));
	}
	files(p);
	fputs("</code>", p->out);
}

static void finding_row(struct page *p, const struct finding *f, int number)
{
	FILE *out = p->out;
	char who[TEXT_MAX], what[TEXT_MAX], evidence[TEXT_MAX];

	finding_actor(f, who, sizeof(who));
	finding_target(f, what, sizeof(what));
	finding_evidence(f, evidence, sizeof(evidence));
	fprintf(out,
		"<tr id=\"finding-%d\" class=\"finding\" data-kind=\"%s\" data-events=\"%lld\">",
		number, finding_kind_name(f->kind), (long long)f->events);
	fprintf(out, "<td class=\"n\">%d</td><td class=\"who\">", number);
	html_string(out, who);
	fputs("</td><td class=\"who\">", out);
	html_string(out, what);
	fputs("</td>", out);
	counted(out, f->events);
	counted(out, f->kind == FINDING_OUTBOUND ? f->destinations : f->ports);
	fputs("<td>", out);
	when(p, f->first_ns);
	fputs("</td><td>", out);
	when(p, f->last_ns);
	fputs("</td><td>", out);
	if (f->kind == FINDING_GUESSED) {
		user(p, f->host, f->uid);
		fputc(' ', out);
	}
	html_string(out, evidence);
	if (f->sample_ports) {
		fputs("<br>ports: ", out);
		html_string(out, f->sample_ports);
	}
	if (f->sample_addresses) {
		fputs("<br>addresses: ", out);
		html_string(out, f->sample_addresses);
	}
	if (f->kind == FINDING_BRUTEFORCE)
		fprintf(out, "<br>intervals: median %.3f s, IQR %.3f-%.3f s, mean %.3f s",
			(double)f->median_ns / 1e9, (double)f->q1_ns / 1e9, (double)f->q3_ns / 1e9,
			(double)f->mean_ns / 1e9);
	if (f->evidence) {
		fputs("<br>its rows: <code>", out);
		html_string(out, f->evidence);
		fputs("</code>", out);
	}
	fputs("</td><td>", out);
	finding_command_line(p, f);
	fputs("</td></tr>\n", out);
}

/* The column of counts after "events": what each rule counts besides. */
static const char *const second_counts[] = {
	[FINDING_PORTSCAN] = "ports",
	[FINDING_SWEEP] = "ports",
	[FINDING_OUTBOUND] = "failed destinations",
	[FINDING_BRUTEFORCE] = "port",
	[FINDING_GUESSED] = "port",
	[FINDING_NETSHELL] = "local port",
	[FINDING_BINDSHELL] = "local port",
};

static void detection(struct page *p, enum finding_kind kind, int *number)
{
	FILE *out = p->out;
	size_t n = 0, shown = 0;
	char rule[256];

	for (size_t i = 0; i < p->o.findings.count; i++)
		n += p->o.findings.list[i].kind == kind;
	describe_rule(&hm.t, kind, rule, sizeof(rule));
	fprintf(out, "<h3 id=\"detection-%s\">%s: ", finding_kind_name(kind), finding_title(kind));
	if (!overview_evidence_recorded(p->set, kind)) {
		fprintf(out,
			"<span class=\"verdict unknown\" data-verdict=\"not-recorded\">not "
			"recorded</span></h3><p>No %s in the captures.</p>\n",
			finding_evidence_missing(kind));
		return;
	}
	if (!n) {
		fputs("<span class=\"verdict none\" "
		      "data-verdict=\"none\">none</span></h3><p>Rule: ",
		      out);
		html_string(out, rule); /* it names the --daemon names given */
		fputs(".</p>\n", out);
		return;
	}
	fprintf(out,
		"<span class=\"verdict found\" data-verdict=\"found\" data-found=\"%zu\">%zu "
		"FOUND</span></h3><p>Rule: ",
		n, n);
	html_string(out, rule);
	fprintf(out, ".  All of them: <code>report %s", finding_command(kind));
	files(p);
	fprintf(out,
		"</code></p>\n<table class=\"sortable\"><thead><tr><th>#</th><th>from</th>"
		"<th>against</th><th>events</th><th>%s</th><th>first</th><th>last</th>"
		"<th>evidence</th><th>its events</th></tr></thead><tbody>\n",
		second_counts[kind]);
	for (size_t i = 0; i < p->o.findings.count; i++) {
		if (p->o.findings.list[i].kind != kind)
			continue;
		++*number;
		if (shown < FINDINGS_SHOWN) {
			finding_row(p, &p->o.findings.list[i], *number);
			shown++;
		}
	}
	fputs("</tbody></table>\n", out);
	if (n > shown) {
		char command[64];

		snprintf(command, sizeof(command), "report %s", finding_command(kind));
		omit(&p->omitted, n - shown, finding_title(kind), command);
	}
}

static void detections_section(struct page *p)
{
	int number = 0;

	page_section(p->out, "detections", "Detections");
	for (int d = 0; d < DETECTIONS; d++)
		detection(p, detection_order[d], &number);
	fputs("</section>\n", p->out);
}

/* --- Programs, talkers --------------------------------------------------------------- */

/* An image's executable, command line and parents, in cells. */
static void image_cells(struct page *p, struct capture *cap, int64_t pid, int64_t start_ns,
			int64_t t)
{
	const struct image *im = NULL;
	int found = lineage_image(cap, pid, start_ns, t, &im);

	fputs("<td>", p->out);
	if (found > 0 && im->args)
		html_text(p->out, im->args, im->args_len);
	fputs("</td><td>", p->out);
	if (found > 0 && im->parents)
		html_text(p->out, im->parents, im->parents_len);
	fputs("</td>", p->out);
}

static void programs_section(struct page *p)
{
	FILE *out = p->out;
	const struct suspects *s = &p->o.suspects;

	page_section(out, "programs", "Programs that stand out");
	fputs("<p>Programs that connected or accepted and were run from a world-writable "
	      "directory, deleted while they ran, or named as a compiler names its output "
	      "(a.out).</p>\n",
	      out);
	if (!overview_has_processes(p->set)) {
		fputs("<p>Not recorded (no process events).</p></section>\n", out);
		return;
	}
	if (!s->count) {
		fputs("<p data-programs=\"0\">None.</p></section>\n", out);
		return;
	}
	fprintf(out,
		"<table class=\"sortable\" data-programs=\"%zu\"><thead><tr><th>process</th>"
		"<th>executable</th><th>stands out</th><th>connects</th><th>accepts</th>"
		"<th>first</th><th>command line</th><th>parents</th></tr></thead><tbody>\n",
		s->count);
	for (size_t i = 0; i < s->count && i < PROGRAMS_SHOWN; i++) {
		const struct suspect *k = &s->list[i];
		struct capture *cap = p->set->list[k->capture];
		char marks[128];

		suspect_marks(k, marks, sizeof(marks));
		fputs("<tr class=\"program\"><td>", out);
		process(p, peers_host(overview_hosts(&p->o), cap), k->comm, k->comm_len, k->pid);
		fputs("</td><td>", out);
		html_text(out, k->exe, k->exe_len);
		fputs("</td><td class=\"bad\">", out);
		html_string(out, marks);
		fputs("</td>", out);
		counted(out, k->connects);
		counted(out, k->accepts);
		fputs("<td>", out);
		when(p, k->first_ns);
		fputs("</td>", out);
		image_cells(p, cap, k->pid, k->start_ns, k->image_t);
		fputs("</tr>\n", out);
		tree_add(&p->tree, k->capture, k->pid, k->start_ns, k->first_ns, "stands out");
	}
	fputs("</tbody></table>\n</section>\n", out);
	if (s->count > PROGRAMS_SHOWN)
		omit(&p->omitted, s->count - PROGRAMS_SHOWN, "programs that stand out",
		     "report summary --format json");
}

static void talkers(struct page *p, const struct talker *list, size_t n, bool processes)
{
	FILE *out = p->out;

	fprintf(out, "<h3>%s</h3>\n", processes ? "Connects by process" : "Accepted from");
	if (!n) {
		fputs("<p>None.</p>\n", out);
		return;
	}
	fprintf(out,
		"<table class=\"sortable\"><thead><tr><th>%s</th><th>%s</th>%s</tr></thead>"
		"<tbody>\n",
		processes ? "process" : "remote address", processes ? "connects" : "accepts",
		processes ? "<th>failed</th>" : "");
	for (size_t i = 0; i < n && i < TALKERS_SHOWN; i++) {
		fputs("<tr class=\"talker\"><td>", out);
		if (processes)
			process(p, list[i].host, list[i].comm, list[i].comm_len, list[i].pid);
		else
			html_string(out, peer_text(overview_remotes(&p->o), list[i].remote));
		fputs("</td>", out);
		counted(out, list[i].count);
		if (processes)
			counted(out, list[i].failed);
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table>\n", out);
	if (n > TALKERS_SHOWN)
		omit(&p->omitted, n - TALKERS_SHOWN,
		     processes ? "processes making connects" : "remote addresses accepted",
		     processes ? "report tcpconnect" : "report tcpaccept");
}

/* The pairs that sent most, from the close kind's lives (overview's exfil), flagged ones marked. */
static void bytes_out(struct page *p)
{
	const struct exfil *e = &p->o.exfil;
	FILE *out = p->out;

	fputs("<h3>Bytes out by process and remote</h3>\n", out);
	if (!overview_recorded(p->set, "close")) {
		fputs("<p>The captures hold no connection lives (when a connection closed, how "
		      "much it carried): nothing to rank.</p>\n",
		      out);
		return;
	}
	if (!e->count) {
		fputs("<p>None.</p>\n", out);
		return;
	}
	fputs("<table class=\"sortable\"><thead><tr><th>process</th><th>remote address</th>"
	      "<th>connections</th><th>sent</th><th>received</th><th>flagged</th></tr></thead>"
	      "<tbody>\n",
	      out);
	for (size_t i = 0; i < e->count && i < TALKERS_SHOWN; i++) {
		const struct exfil_pair *pair = &e->list[i];
		struct task task;

		fputs("<tr class=\"pair\"><td>", out);
		if (pair->pid < 0)
			fputs("-", out);
		else if (capture_task(pair->cap, pair->task, &task))
			process(p, pair->host, "?", 1, pair->pid);
		else
			process(p, pair->host, task.comm, task.comm_len, pair->pid);
		fputs("</td><td>", out);
		html_string(out, peer_text(overview_hosts(&p->o), pair->remote));
		fputs("</td>", out);
		counted(out, pair->connections);
		counted(out, pair->sent);
		counted(out, pair->received);
		fprintf(out, "<td>%s</td></tr>\n", pair->flagged ? "exfiltration?" : "");
	}
	fputs("</tbody></table>\n", out);
	/* Beyond a bound the pairs are not all counted (exfil.h): a floor then. */
	if (e->pairs > TALKERS_SHOWN)
		omit(&p->omitted, e->pairs - TALKERS_SHOWN,
		     e->pairs_at_least ? "or more process and remote pairs"
				       : "process and remote pairs",
		     "report exfil");
}

static void connections_section(struct page *p)
{
	page_section(p->out, "connections", "Connections");
	talkers(p, p->o.processes, p->o.nprocesses, true);
	talkers(p, p->o.remotes, p->o.nremotes, false);
	bytes_out(p);
	fputs("</section>\n", p->out);
}

/* --- Capabilities -------------------------------------------------------------------- */

struct bar {
	char label[TEXT_MAX];
	int64_t checks, denied;
};

static int by_checks(const void *x, const void *y)
{
	const struct bar *a = x, *b = y;

	if (a->checks != b->checks)
		return a->checks > b->checks ? -1 : 1;
	return strcmp(a->label, b->label);
}

/*
 * The bars of one histogram, found by label: a fleet's captures have tens
 * of thousands of processes, and a linear search by label took four fifths
 * of html's time over 100 captures.
 */
struct bars {
	struct bar *list;
	size_t n, room;
	struct hashmap by_label; /* two hashes of a label (and a probe) -> its bar */
};

/* FNV-1a over the label, from basis. */
static uint64_t label_hash(const char *label, uint64_t basis)
{
	for (const unsigned char *c = (const unsigned char *)label; *c; c++)
		basis = (basis ^ *c) * 0x100000001b3;
	return basis;
}

/* Add checks to the bar of this label. */
static void bar_add(struct bars *bars, const char *label, const struct cap_use *u)
{
	uint64_t a = label_hash(label, 0xcbf29ce484222325),
		 b = label_hash(label, 0x84222325cbf29ce4);
	uint64_t *at;
	bool added;
	struct bar *bar;

	for (;;) {
		at = hashmap_put(&bars->by_label, a, b, &added);
		if (added || !strcmp(bars->list[*at].label, label))
			break;
		b++; /* another label of the same hashes: the next b, until a free one */
	}
	if (added) {
		if (bars->n == bars->room) {
			bars->room = bars->room ? 2 * bars->room : 64;
			bars->list = xrealloc(bars->list, bars->room * sizeof(*bars->list));
		}
		*at = bars->n;
		bars->list[bars->n] = (struct bar){.checks = 0};
		snprintf(bars->list[bars->n].label, sizeof(bars->list[bars->n].label), "%s", label);
		bars->n++;
	}
	bar = &bars->list[*at];
	bar->checks += u->checks;
	bar->denied += u->denied ? u->checks : 0;
}

static void bars_free(struct bars *bars)
{
	free(bars->list);
	hashmap_clear(&bars->by_label);
}

static void histogram(struct page *p, const char *title, const char *by, struct bar *bars, size_t n)
{
	FILE *out = p->out;
	int64_t most = 1;

	qsort(bars, n, sizeof(*bars), by_checks);
	for (size_t i = 0; i < n; i++)
		if (bars[i].checks > most)
			most = bars[i].checks;
	fprintf(out,
		"<h3>%s</h3>\n<table class=\"sortable histogram\"><thead><tr><th>%s</th>"
		"<th>checks</th><th>denied</th><th></th></tr></thead><tbody>\n",
		title, by);
	for (size_t i = 0; i < n && i < BARS_SHOWN; i++) {
		fputs("<tr><td>", out);
		html_string(out, bars[i].label);
		fputs("</td>", out);
		counted(out, bars[i].checks);
		counted(out, bars[i].denied);
		fprintf(out,
			"<td class=\"barcell\"><svg width=\"300\" height=\"12\" role=\"img\">"
			"<rect width=\"%.1f\" height=\"12\" class=\"allow\"/>"
			"<rect width=\"%.1f\" height=\"12\" class=\"deny\"/></svg></td></tr>\n",
			300.0 * (double)bars[i].checks / (double)most,
			300.0 * (double)bars[i].denied / (double)most);
	}
	fputs("</tbody></table>\n", out);
	if (n > BARS_SHOWN) {
		char what[64];

		snprintf(what, sizeof(what), "bars of capability checks by %s", by);
		omit(&p->omitted, n - BARS_SHOWN, what, "report caps -n 0");
	}
}

/* A group's remarks after its meaning: when new to a lone process, in a user namespace. */
static void group_remarks(FILE *out, const struct cap_flag_group *g)
{
	if (g->first->kind == FLAG_NEW && g->processes == 1)
		fprintf(out, ", %.1f s after its first check",
			(double)g->first->after_ns / NS_PER_S);
	if (g->userns)
		fputs(", in a user namespace", out);
}

/* The flags as caps and summary group them: the runs of one program as one user, one row. */
static void flags_table(struct page *p)
{
	FILE *out = p->out;
	struct cap_flag_group *groups;
	size_t n = cap_flag_groups(&p->o.caps, &groups);

	fputs("<h3>What stands out</h3>\n", out);
	if (!n) {
		fputs("<p data-flags=\"0\">Nothing.</p>\n", out);
		free(groups);
		return;
	}
	fprintf(out,
		"<table class=\"sortable\" data-flags=\"%zu\"><thead><tr><th>flag</th>"
		"<th>program</th><th>user</th><th>capability</th><th>processes</th>"
		"<th>checks</th><th>denied</th><th>first</th><th>last</th><th>meaning</th></tr>"
		"</thead><tbody>\n",
		n);
	for (size_t i = 0; i < n && i < FLAGS_SHOWN; i++) {
		const struct cap_flag_group *g = &groups[i];
		const struct cap_use *u = g->first->use;
		const char *word = cap_flag_word(g->first->kind);
		char name[64];

		fprintf(out, "<tr class=\"flag\" data-flag=\"%s\"><td>%s</td><td>", word, word);
		if (g->processes == 1) {
			process(p, u->host, u->comm, u->comm_len, u->pid);
		} else {
			process_name(p, u->host, u->comm, u->comm_len);
			fprintf(out, ", %lld processes", (long long)g->processes);
		}
		fputs("</td><td>", out);
		user(p, u->host, u->uid);
		cap_name_of(p->set, u->cap, name, sizeof(name));
		fputs("</td><td>", out);
		html_string(out, name);
		fputs("</td>", out);
		counted(out, g->processes);
		counted(out, g->checks);
		counted(out, g->denied);
		fputs("<td>", out);
		when(p, g->first_ns);
		fputs("</td><td>", out);
		when(p, g->last_ns);
		fprintf(out, "</td><td>%s", cap_flag_meaning(g->first->kind));
		group_remarks(out, g);
		fputs("</td></tr>\n", out);
		/* The tree shows the group's first process: a hundred runs would drown it. */
		tree_add_pid(&p->tree, u->host, u->pid, g->first_ns, word);
	}
	fputs("</tbody></table>\n", out);
	if (n > FLAGS_SHOWN)
		omit(&p->omitted, n - FLAGS_SHOWN, "groups of capability flags", "report caps");
	free(groups);
}

static void capabilities_section(struct page *p)
{
	const struct cap_analysis *a = &p->o.caps;
	struct peers *hosts = overview_hosts(&p->o);
	struct bars caps = {0}, processes = {0}, users = {0};

	page_section(p->out, "capabilities", "Capability use");
	if (!overview_recorded(p->set, "capable")) {
		fputs("<p>Not recorded (no capable events).</p></section>\n", p->out);
		return;
	}
	fprintf(p->out,
		"<p>Checks that audit, or may: <b data-checks=\"%lld\">%lld</b>, "
		"<b data-denied=\"%lld\">%lld</b> denied.</p>\n",
		(long long)a->checks, (long long)a->checks, (long long)a->denied,
		(long long)a->denied);
	flags_table(p);
	for (size_t i = 0; i < a->nuses; i++) {
		const struct cap_use *u = &a->uses[i];
		const char *host = p->set->many_hosts ? peers_host_name(hosts, u->host) : "";
		const char *colon = p->set->many_hosts ? ":" : "";
		char label[TEXT_MAX], name[ACCOUNT_NAME_MAX + 1];

		if (!u->audited)
			continue;
		/* Labels as the capture has them: html_string renders them once. */
		cap_name_of(p->set, u->cap, label, sizeof(label));
		bar_add(&caps, label, u);
		if (u->pid < 0) /* checks of no known process: as caps labels them */
			snprintf(label, sizeof(label), "%s%s(no process)", host, colon);
		else
			snprintf(label, sizeof(label), "%s%s%.*s/%lld", host, colon,
				 (int)u->comm_len, u->comm, (long long)u->pid);
		bar_add(&processes, label, u);
		/* no process, no user: the label stays "(no process)" */
		if (u->pid >= 0 && account_name(p->set, hosts, u->host, u->uid, name) > 0)
			snprintf(label, sizeof(label), "%s%s%s (uid %lld)", host, colon, name,
				 (long long)u->uid);
		else if (u->pid >= 0)
			snprintf(label, sizeof(label), "%s%suid %lld", host, colon,
				 (long long)u->uid);
		bar_add(&users, label, u);
	}
	histogram(p, "By capability", "capability", caps.list, caps.n);
	histogram(p, "By process", "process", processes.list, processes.n);
	histogram(p, "By user", "user", users.list, users.n);
	bars_free(&caps);
	bars_free(&processes);
	bars_free(&users);
	fputs("</section>\n", p->out);
}

/* --- The whole ----------------------------------------------------------------------- */

static int count_activity(struct captures *set, const struct options *opts, void *ctx)
{
	(void)opts;
	return activity_count(set, ctx);
}

static void involve_findings(struct page *p)
{
	for (size_t i = 0; i < p->o.findings.count; i++) {
		const struct finding *f = &p->o.findings.list[i];

		if (f->kind == FINDING_OUTBOUND)
			tree_add_pid(&p->tree, f->host, f->pid, f->first_ns, "outbound scanning");
		else if (f->kind == FINDING_BRUTEFORCE && f->process)
			tree_add_named(&p->tree, f->host, f->process, f->first_ns,
				       "accepted the brute force");
		else if (f->kind == FINDING_GUESSED)
			tree_add_pid(&p->tree, f->host, f->session_pid, f->last_ns,
				     "the login a guessed password let in");
		else if (f->kind == FINDING_NETSHELL)
			tree_add_pid(&p->tree, f->host, f->pid, f->first_ns,
				     "a shell on the network");
		else if (f->kind == FINDING_BINDSHELL)
			tree_add_pid(&p->tree, f->host, f->pid, f->first_ns,
				     "started shells for connections");
	}
}

static void write_page(struct page *p)
{
	page_begin(p->out, p->set, p->opts);
	page_verdicts(p->out, &p->o);
	captures_section(p);
	detections_section(p);
	page_chart(p->out, p->opts, &p->activity, &p->o.findings, p->set, p->losses);
	programs_section(p);
	connections_section(p);
	capabilities_section(p);
	involve_findings(p);
	page_tree(p->out, &p->tree);
	page_omitted(p->out, &p->omitted, p->set);
	page_end(p->out);
}

/* Whether the page would be written over one of the captures: refused, never done. */
static bool over_a_capture(const struct captures *set)
{
	struct stat page;

	if (stat(hm.output, &page))
		return false;
	for (int i = 0; i < set->count; i++) {
		const struct stat *cap = &set->list[i]->seen_db;

		if (cap->st_dev == page.st_dev && cap->st_ino == page.st_ino) {
			fprintf(stderr, "report: html: %s is a capture, not a page to write\n",
				set->list[i]->name);
			return true;
		}
	}
	return false;
}

static int run(struct captures *set, const struct options *opts)
{
	struct page p = {.set = set, .opts = opts};
	struct overview_extra extra = {.run = count_activity, .ctx = &p.activity};
	int err;

	if (over_a_capture(set))
		return -1;
	thresholds_ready(&hm.t);
	cap_settings_ready(&hm.caps);
	activity_span(set, opts, &p.activity);
	err = overview_analyze(&p.o, set, opts, &hm.t, &hm.caps, &extra);
	tree_init(&p.tree, set, overview_hosts(&p.o));
	if (!err) {
		p.losses = losses_read_all(set);
		err = p.losses ? 0 : -1;
	}
	if (!err) {
		p.out = fopen(hm.output, "w");
		if (!p.out) {
			char *name = render_string(hm.output);

			fprintf(stderr, "report: html: cannot write %s: %s\n", name,
				strerror(errno));
			free(name);
			err = -1;
		}
	}
	if (!err) {
		write_page(&p);
		if (ferror(p.out) | fclose(p.out)) {
			char *name = render_string(hm.output);

			fprintf(stderr, "report: html: cannot write %s: %s\n", name,
				strerror(errno));
			free(name);
			err = -1;
		}
	}
	losses_free_all(p.losses, set);
	tree_free(&p.tree);
	omitted_free(&p.omitted);
	overview_free(&p.o);
	thresholds_free(&hm.t);
	cap_settings_free(&hm.caps);
	return err;
}

const struct command html_command = {
	.summary = "one self-contained HTML page of it all, for a ticket",
	.spec = {.name = "html",
		 .usage = usage,
		 .short_options = "o:",
		 .long_options = long_options,
		 .accepts = ACCEPT_FILTERS,
		 .own_option = own_option},
	.check = check,
	.run = run,
	.huge_pages = true,
	.state = &hm,
	.state_size = sizeof(hm),
};
