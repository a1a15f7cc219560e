/*
 * report html's page frame and its drawn parts (htmlpage.h).  Nothing in
 * the page is fetched: the policy below forbids every fetch but the page's
 * own inline style and script and data: images, and the page says so if
 * anything in it ever tried (the securitypolicyviolation listener).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "htmlpage.h"
#include "htmltext.h"
#include "util.h"
#include "when.h"

#define CHART_LEFT	110 /* the kinds' names */
#define CHART_WIDTH	1000
#define CHART_STRIP	34
#define CHART_GAP	8
#define CHART_TOP	32
#define FINDINGS_MARKED 200
#define TOC_ENTRIES	9

void omit(struct omitted *o, size_t count, const char *what, const char *command)
{
	struct omission *e;

	o->list = xrealloc(o->list, (o->count + 1) * sizeof(*o->list));
	e = &o->list[o->count++];
	e->count = count;
	snprintf(e->what, sizeof(e->what), "%s", what);
	snprintf(e->command, sizeof(e->command), "%s", command);
}

void omitted_free(struct omitted *o)
{
	free(o->list);
	o->list = NULL;
	o->count = 0;
}

static const char style[] =
	"body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1180px;padding:0 "
	"16px 40px;color:#1d232b;background:#fff}\n"
	"h1{font-size:24px;margin:18px 0 4px}h2{font-size:19px;border-bottom:2px solid "
	"#c9d2dc;padding-bottom:3px;margin-top:30px}h3{font-size:15px;margin:18px 0 6px}\n"
	"table{border-collapse:collapse;margin:6px 0 10px;font-size:13px}th,td{border:1px solid "
	"#d5dbe2;padding:3px 6px;text-align:left;vertical-align:top}th{background:#eef2f6;"
	"cursor:pointer;white-space:nowrap}td.n{text-align:right;font-variant-numeric:"
	"tabular-nums}\n"
	"td,li{overflow-wrap:anywhere}td.n,time{white-space:nowrap;overflow-wrap:normal}td.who{min-"
	"width:8.5em}"
	"code{font:12px ui-monospace,monospace;background:#f3f5f7;"
	"padding:1px 3px}\n"
	".bad{color:#a4161a;font-weight:600}.note{color:#5a6470;font-size:12.5px}\n"
	".verdict{padding:1px 8px;border-radius:9px;font-size:13px}.found{background:#a4161a;"
	"color:#fff}.none{background:#d8efdc;color:#14532d}.unknown{background:#e7e9ec;"
	"color:#444}\n"
	"#verdicts ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:8px}#verdicts "
	"li{border:1px solid #d5dbe2;border-radius:6px;padding:6px 10px;min-width:190px}\n"
	"nav ol{columns:3;margin:4px 0}ul.kinds{margin:0;padding-left:16px}\n"
	"svg text{font:11px system-ui,sans-serif;fill:#333}.allow{fill:#6b8fb5}.deny{fill:"
	"#c0392b}.bar{fill:#4a78a8}.mark{fill:#f4c7c3;fill-opacity:.6;stroke:#c0392b;"
	"stroke-width:1}.axis{stroke:#99a3ad}.loss{fill:#a4161a;fill-opacity:.18}.lost{fill:"
	"#a4161a}\n"
	".tree ul{list-style:none;padding-left:20px;border-left:1px dotted #aab}.tree "
	"li{margin:2px 0}.involved{background:#fde8e8;padding:0 4px}\n"
	"input.filter{margin:4px 0;padding:2px 6px;font-size:13px;width:260px}\n"
	"#blocked{border:2px solid #a4161a;padding:6px 10px}\n";

/* The listener first, so that it hears whatever the page's content might try. */
static const char head_script[] =
	"document.addEventListener('securitypolicyviolation',function(e){"
	"var v=document.getElementById('blocked');if(!v)return;v.hidden=false;"
	"var li=document.createElement('li');li.textContent=e.violatedDirective+' '+e.blockedURI;"
	"v.querySelector('ul').appendChild(li);});\n";

/* Sorting (click a heading) and filtering (a box above each table): the page reads without. */
static const char body_script[] =
	"(function(){document.querySelectorAll('table.sortable').forEach(function(t){"
	"var f=document.createElement('input');f.type='search';f.className='filter';"
	"f.placeholder='filter rows';f.addEventListener('input',function(){"
	"var q=f.value.toLowerCase();Array.prototype.forEach.call(t.tBodies[0].rows,"
	"function(r){r.hidden=q!==''&&r.textContent.toLowerCase().indexOf(q)<0;});});"
	"t.parentNode.insertBefore(f,t);"
	"Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){"
	"th.title='sort';th.addEventListener('click',function(){"
	"var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows),"
	"asc=th.getAttribute('data-sort')!=='asc';"
	"Array.prototype.forEach.call(t.tHead.rows[0].cells,function(h){"
	"h.removeAttribute('data-sort');});th.setAttribute('data-sort',asc?'asc':'desc');"
	"rows.sort(function(x,y){var a=x.cells[i],c=y.cells[i],r;if(!a||!c)return 0;"
	"var u=a.getAttribute('data-count'),v=c.getAttribute('data-count');"
	"r=u!==null&&v!==null?u-v:a.textContent.localeCompare(c.textContent);"
	"return asc?r:-r;});rows.forEach(function(r){b.appendChild(r);});});});});})();\n";

static const char *const toc[TOC_ENTRIES][2] = {
	{"verdicts", "Verdicts"},
	{"captures", "Captures"},
	{"detections", "Detections"},
	{"activity", "Events over time"},
	{"programs", "Programs that stand out"},
	{"connections", "Connections"},
	{"capabilities", "Capability use"},
	{"tree", "Process tree"},
	{"omitted", "Left out of this page"},
};

void page_begin(FILE *out, const struct captures *set, const struct options *opts)
{
	char made[WHEN_MAX];

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
	      "<meta name=\"referrer\" content=\"no-referrer\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width\">\n<title>Casefile report: ",
	      out);
	for (int i = 0; i < set->count; i++) {
		if (i)
			fputs(", ", out);
		html_string(out, set->list[i]->host);
	}
	fprintf(out, "</title>\n<style>\n%s</style>\n<script>\n%s</script>\n</head><body>\n", style,
		head_script);
	fputs("<div id=\"blocked\" hidden><b>This page blocked content that tried to load from "
	      "elsewhere</b> (its policy forbids it): <ul></ul></div>\n<h1>Casefile report</h1>\n"
	      "<p class=\"note\">Made by <code>report html</code> (casefile " CASEFILE_VERSION
	      ") at ",
	      out);
	format_human(clock_ns(CLOCK_REALTIME), opts->local, made);
	fprintf(out, "%s from", made);
	for (int i = 0; i < set->count; i++) {
		fputs(" <code>", out);
		html_string(out, set->list[i]->path);
		fputs("</code>", out);
	}
	fputs(".  One file, nothing fetched: it reads offline, and with scripts off (they only "
	      "sort and filter the tables).</p>\n<nav><b>Contents</b><ol>",
	      out);
	for (int i = 0; i < TOC_ENTRIES; i++)
		fprintf(out, "<li><a href=\"#%s\">%s</a></li>", toc[i][0], toc[i][1]);
	fputs("</ol></nav>\n", out);
}

void page_section(FILE *out, const char *id, const char *title)
{
	fprintf(out, "<section id=\"%s\"><h2>%s</h2>\n", id, title);
}

void page_verdicts(FILE *out, const struct overview *o)
{
	int64_t lost = 0;
	bool clean = true;

	page_section(out, "verdicts", "Verdicts");
	fputs("<ul>", out);
	for (int d = 0; d < DETECTIONS; d++) {
		enum finding_kind kind = detection_order[d];
		size_t n = 0;

		for (size_t i = 0; i < o->findings.count; i++)
			n += o->findings.list[i].kind == kind;
		fprintf(out, "<li id=\"verdict-%s\"><a href=\"#detection-%s\">%s</a>: ",
			finding_kind_name(kind), finding_kind_name(kind), finding_title(kind));
		if (!overview_evidence_recorded(o->set, kind))
			fputs("<span class=\"verdict unknown\">not recorded</span>", out);
		else if (n)
			fprintf(out,
				"<span class=\"verdict found\" data-found=\"%zu\">%zu FOUND</span>",
				n, n);
		else
			fputs("<span class=\"verdict none\" data-found=\"0\">none</span>", out);
		fputs("</li>", out);
	}
	fprintf(out, "<li><a href=\"#capabilities\">Capability use</a>: ");
	if (!overview_recorded(o->set, "capable"))
		fputs("<span class=\"verdict unknown\">not recorded</span>", out);
	else
		fprintf(out, "<span class=\"verdict %s\" data-flags=\"%zu\">%zu flagged</span>",
			o->caps.nflags ? "found" : "none", o->caps.nflags, o->caps.nflags);
	fprintf(out,
		"</li><li><a href=\"#programs\">Programs that stand out</a>: <span "
		"class=\"verdict %s\">%zu</span></li>",
		o->suspects.count ? "found" : "none", o->suspects.count);
	for (int i = 0; i < o->set->count; i++) {
		for (int k = 0; k < o->set->list[i]->nkinds; k++)
			lost += o->set->list[i]->kinds[k].lost;
		clean &= o->set->list[i]->clean;
	}
	fprintf(out,
		"<li><a href=\"#captures\">Captures</a>: <span class=\"verdict %s\" "
		"data-lost=\"%lld\">%lld lost</span> <span class=\"verdict %s\">%s</span></li>",
		lost ? "found" : "none", (long long)lost, (long long)lost, clean ? "none" : "found",
		clean ? "clean stop" : "NO CLEAN STOP");
	fputs("</ul>\n</section>\n", out);
}

/* The x of a wall clock time on the chart. */
static double chart_x(const struct activity *a, int64_t ns)
{
	double x = (double)(ns - a->from_ns) / (double)(a->bucket_ns * ACTIVITY_BUCKETS);

	x = x < 0 ? 0 : x > 1 ? 1 : x;
	return CHART_LEFT + x * CHART_WIDTH;
}

/* Finding numbers in time order, for their labels. */
static int by_first(const void *x, const void *y, void *ctx)
{
	const struct findings *findings = ctx;
	int64_t a = findings->list[*(const size_t *)x].first_ns;
	int64_t b = findings->list[*(const size_t *)y].first_ns;

	return (a > b) - (a < b);
}

/* Each finding's number over its mark, pushed right of the one before it. */
static void chart_labels(FILE *out, const struct activity *a, const struct findings *findings)
{
	size_t n = findings->count < FINDINGS_MARKED ? findings->count : FINDINGS_MARKED;
	size_t order[FINDINGS_MARKED];
	double end = 0;

	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), by_first, (void *)findings);
	for (size_t i = 0; i < n; i++) {
		double x = chart_x(a, findings->list[order[i]].first_ns);
		char number[24];
		int len = snprintf(number, sizeof(number), "%zu", order[i] + 1);

		x = x > end ? x : end;
		fprintf(out, "<a href=\"#finding-%s\"><text x=\"%.1f\" y=\"%d\">%s</text></a>",
			number, x, CHART_TOP - 8, number);
		end = x + 7.0 * len + 4;
	}
	fputc('\n', out);
}

/* The records lost in the span, and whether the captures tell when. */
static int64_t lost_in_span(const struct activity *a, const struct captures *set,
			    const struct losses *losses, bool *told)
{
	int64_t lost = 0;

	*told = true;
	for (int i = 0; i < set->count; i++) {
		for (int k = 0; k < set->list[i]->nkinds && !losses[i].kept; k++)
			*told &= !set->list[i]->kinds[k].lost;
		for (size_t j = 0; j < losses[i].nintervals; j++) {
			const struct loss_interval *l = &losses[i].intervals[j];

			if (l->last_ns >= a->from_ns && l->first_ns <= a->to_ns)
				lost += l->count;
		}
	}
	return lost;
}

/*
 * Each loss interval in the span: a shade over every strip, from the look
 * before the losses to the look that found them, and a bar in the row of
 * losses (top: where that row begins; height: down to its end).
 */
static void chart_losses(FILE *out, const struct options *opts, const struct activity *a,
			 const struct captures *set, const struct losses *losses, int top,
			 int height)
{
	for (int i = 0; i < set->count; i++)
		for (size_t j = 0; j < losses[i].nintervals; j++) {
			const struct loss_interval *l = &losses[i].intervals[j];
			double x1 = chart_x(a, l->first_ns), x2 = chart_x(a, l->last_ns);
			char first[WHEN_MAX], last[WHEN_MAX];

			if (l->last_ns < a->from_ns || l->first_ns > a->to_ns)
				continue;
			format_human(l->first_ns, opts->local, first);
			format_clock(l->last_ns, opts->local, last);
			fprintf(out, "<rect class=\"loss\" data-kind=\"");
			html_string(out, set->list[i]->kinds[l->kind].name);
			fprintf(out,
				"\" data-lost=\"%lld\" data-first-ns=\"%lld\" "
				"data-last-ns=\"%lld\" "
				"x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\"><title>",
				(long long)l->count, (long long)l->first_ns, (long long)l->last_ns,
				x1, CHART_TOP - 4, x2 - x1 < 2 ? 2 : x2 - x1,
				top + height - CHART_TOP + 4);
			html_string(out, set->list[i]->kinds[l->kind].name);
			fprintf(out, ": %lld lost between %s and %s</title></rect>",
				(long long)l->count, first, last);
			fprintf(out,
				"<rect class=\"lost\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
				"height=\"%d\"/>\n",
				x1, top, x2 - x1 < 2 ? 2 : x2 - x1, height);
		}
}

void page_chart(FILE *out, const struct options *opts, const struct activity *a,
		const struct findings *findings, const struct captures *set,
		const struct losses *losses)
{
	int strips = 0, y, height;
	double step = (double)CHART_WIDTH / ACTIVITY_BUCKETS;
	char day[WHEN_MAX];
	bool told;
	int64_t lost = lost_in_span(a, set, losses, &told);

	page_section(out, "activity", "Events over time");
	for (int k = 0; k < ACT_KINDS; k++)
		strips += a->totals[k] > 0;
	strips += lost > 0;
	format_human(a->from_ns, opts->local, day);
	fprintf(out,
		"<p>Events per %.3f s by kind, from %s; each strip has its own scale (its largest "
		"bucket on the right); kinds without events are left out.  The shaded spans are "
		"the findings, numbered as in Detections; the red ones, and the row of losses, "
		"when records were lost%s.</p>\n<svg role=\"img\" "
		"aria-label=\"events over time\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\">\n",
		(double)a->bucket_ns / 1e9, day,
		told ? "" : " (not told by captures of older recorders, which lost some)",
		CHART_LEFT + CHART_WIDTH + 70, CHART_TOP + strips * (CHART_STRIP + CHART_GAP) + 24,
		CHART_LEFT + CHART_WIDTH + 70, CHART_TOP + strips * (CHART_STRIP + CHART_GAP) + 24);
	/* The findings behind the bars; their numbers above, left to right, never overlapping. */
	height = strips * (CHART_STRIP + CHART_GAP);
	for (size_t i = 0; i < findings->count && i < FINDINGS_MARKED; i++) {
		const struct finding *f = &findings->list[i];
		double x1 = chart_x(a, f->first_ns), x2 = chart_x(a, f->last_ns);

		fprintf(out,
			"<a href=\"#finding-%zu\"><rect class=\"mark\" data-finding=\"%zu\" "
			"x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\"><title>%zu: %s</title>"
			"</rect></a>\n",
			i + 1, i + 1, x1, CHART_TOP - 4, x2 - x1 < 3 ? 3 : x2 - x1, height, i + 1,
			finding_kind_name(f->kind));
	}
	chart_labels(out, a, findings);
	y = CHART_TOP;
	for (int k = 0; k < ACT_KINDS; k++) {
		int64_t most = 0;

		if (!a->totals[k])
			continue;
		for (int b = 0; b < ACTIVITY_BUCKETS; b++)
			if (a->counts[k][b] > most)
				most = a->counts[k][b];
		fprintf(out,
			"<g class=\"strip\" data-kind=\"%s\" data-total=\"%lld\"><text x=\"0\" "
			"y=\"%d\">%s</text><text x=\"0\" y=\"%d\" class=\"note\">%lld</text>"
			"<text x=\"%d\" y=\"%d\">max %lld</text>",
			activity_kind_name(k), (long long)a->totals[k], y + 14,
			activity_kind_name(k), y + 28, (long long)a->totals[k],
			CHART_LEFT + CHART_WIDTH + 6, y + CHART_STRIP - 2, (long long)most);
		fprintf(out, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>",
			CHART_LEFT, CHART_LEFT + CHART_WIDTH, y + CHART_STRIP, y + CHART_STRIP);
		for (int b = 0; b < ACTIVITY_BUCKETS && most; b++) {
			double h = (double)CHART_STRIP * (double)a->counts[k][b] / (double)most;

			if (a->counts[k][b])
				fprintf(out,
					"<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
					"height=\"%.1f\"><title>%lld</title></rect>",
					CHART_LEFT + b * step, y + CHART_STRIP - (h < 1 ? 1 : h),
					step - 1, h < 1 ? 1 : h, (long long)a->counts[k][b]);
		}
		fputs("</g>\n", out);
		y += CHART_STRIP + CHART_GAP;
	}
	if (lost) {
		fprintf(out,
			"<g class=\"strip losses\" data-kind=\"lost\" data-total=\"%lld\"><text "
			"x=\"0\" "
			"y=\"%d\">lost</text><text x=\"0\" y=\"%d\" class=\"note\">%lld</text>\n",
			(long long)lost, y + 14, y + 28, (long long)lost);
		chart_losses(out, opts, a, set, losses, y, CHART_STRIP);
		fputs("</g>\n", out);
		y += CHART_STRIP + CHART_GAP;
	}
	for (int i = 0; i <= 4; i++) {
		char clock[WHEN_MAX];
		int64_t ns = a->from_ns + (a->bucket_ns * ACTIVITY_BUCKETS) / 4 * i;

		format_clock(ns, opts->local, clock);
		fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
			chart_x(a, ns), y + 12, clock);
	}
	fputs("</svg>\n</section>\n", out);
}

/* The children of parent (-1: the roots of that capture's processes). */
static void tree_branch(FILE *out, const struct tree *tree, long parent, int capture)
{
	bool open = false;

	for (size_t i = 0; i < tree->count; i++) {
		const struct tree_node *n = &tree->nodes[i];

		if (n->parent != parent || n->capture != capture)
			continue;
		if (!open)
			fputs("<ul>", out);
		open = true;
		fprintf(out, "<li data-pid=\"%lld\"><span%s>", (long long)n->pid,
			n->why ? " class=\"involved\"" : "");
		html_text(out, n->comm, n->comm_len);
		fprintf(out, "(%lld)", (long long)n->pid);
		if (n->exe_len) {
			fputs(" <code>", out);
			html_text(out, n->exe, n->exe_len);
			fputs("</code>", out);
		}
		if (n->args_len) {
			fputs(" ", out);
			html_text(out, n->args, n->args_len);
		}
		if (n->why)
			fprintf(out, " <b class=\"bad\">%s</b>", n->why);
		fputs("</span>", out);
		tree_branch(out, tree, (long)i, capture);
		fputs("</li>\n", out);
	}
	if (open)
		fputs("</ul>", out);
}

void page_tree(FILE *out, const struct tree *tree)
{
	page_section(out, "tree", "Process tree");
	fputs("<p>The processes the findings and flags involve (shaded), with their parents as "
	      "the capture knows them.  <code>report proc PID</code> tells one process's whole "
	      "story.</p>\n",
	      out);
	if (!tree->count)
		fputs("<p data-tree=\"0\">No process involved (or no process lives in the "
		      "captures).</p>\n",
		      out);
	else
		for (int c = 0; c < tree->set->count; c++) {
			bool any = false;

			for (size_t i = 0; i < tree->count; i++)
				any |= tree->nodes[i].capture == c;
			if (!any)
				continue;
			fputs("<div class=\"tree\"><b>", out);
			html_string(out, tree->set->list[c]->host);
			fputs("</b>", out);
			tree_branch(out, tree, -1, c);
			fputs("</div>\n", out);
		}
	if (tree->dropped)
		fprintf(out, "<p>%zu more processes left out.</p>\n", tree->dropped);
	fputs("</section>\n", out);
}

void page_omitted(FILE *out, const struct omitted *o, const struct captures *set)
{
	page_section(out, "omitted", "Left out of this page");
	fputs("<p>This page holds aggregates, the findings' evidence and the top rows, never "
	      "every event.  Each event is in <code>report timeline",
	      out);
	for (int i = 0; i < set->count; i++) {
		fputc(' ', out);
		html_string(out, set->list[i]->path);
	}
	fputs("</code> (and the BCC tools' commands: <code>report tcpconnect</code>, "
	      "<code>tcpaccept</code>, <code>tcpreset</code>, <code>capable</code>).</p>\n",
	      out);
	if (!o->count) {
		fputs("<p data-omitted=\"0\">No finding, talker or flag was left out.</p>\n", out);
	} else {
		fputs("<ul>", out);
		for (size_t i = 0; i < o->count; i++) {
			fprintf(out, "<li data-omitted=\"%zu\">%zu more %s: <code>%s",
				o->list[i].count, o->list[i].count, o->list[i].what,
				o->list[i].command);
			for (int c = 0; c < set->count; c++) {
				fputc(' ', out);
				html_string(out, set->list[c]->path);
			}
			fputs("</code></li>\n", out);
		}
		fputs("</ul>\n", out);
	}
	fputs("</section>\n", out);
}

void page_end(FILE *out)
{
	fprintf(out, "<script>\n%s</script>\n</body></html>\n", body_script);
}
