/*
 * report summary: the first command a responder runs, one page: the
 * captures, the top talkers, every detection with a one-line verdict, and the
 * capability use that stands out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accounts.h"
#include "command.h"
#include "losses.h"
#include "overview.h"
#include "util.h"
#include "when.h"

#define TOP_TALKERS    3
#define FINDINGS_SHOWN 3 /* per detection; the subcommand has them all */
#define FLAGS_SHOWN    6
#define PROGRAMS_SHOWN 10
#define TEXT_MAX       1024

/* JSON and CSV: one row per capture, kind that lost records, talker, detection (finding, or none)
 * and flag. */
enum {
	SUM_SECTION,
	SUM_KIND,
	SUM_HOST,
	SUM_FILE,
	SUM_SUBJECT,
	SUM_TARGET,
	SUM_COUNT,
	SUM_FAILED,
	SUM_LOST,
	SUM_CLEAN,
	SUM_FIRST,
	SUM_LAST,
	SUM_DETAIL,
	SUM_EVIDENCE,
	SUM_UID,
	SUM_USER,
	SUM_PROCESSES,
	SUM_FIELDS
};

static const struct field fields[SUM_FIELDS] = {
	[SUM_SECTION] = {NULL, "section", 0, FIELD_TEXT, false},
	[SUM_KIND] = {NULL, "kind", 0, FIELD_TEXT, false},
	[SUM_HOST] = {NULL, "host", 0, FIELD_TEXT, false},
	[SUM_FILE] = {NULL, "file", 0, FIELD_TEXT, false},
	[SUM_SUBJECT] = {NULL, "subject", 0, FIELD_TEXT, false},
	[SUM_TARGET] = {NULL, "target", 0, FIELD_TEXT, false},
	[SUM_COUNT] = {NULL, "count", 0, FIELD_INT, false},
	[SUM_FAILED] = {NULL, "failed", 0, FIELD_INT, false},
	[SUM_LOST] = {NULL, "lost", 0, FIELD_INT, false},
	[SUM_CLEAN] = {NULL, "clean_stop", 0, FIELD_BOOL, false},
	[SUM_FIRST] = {NULL, "first", 0, FIELD_RFC3339, false},
	[SUM_LAST] = {NULL, "last", 0, FIELD_RFC3339, false},
	[SUM_DETAIL] = {NULL, "detail", 0, FIELD_TEXT, false},
	[SUM_EVIDENCE] = {NULL, "evidence", 0, FIELD_TEXT, false},
	[SUM_UID] = {NULL, "uid", 0, FIELD_INT, false},
	[SUM_USER] = {NULL, "user", 0, FIELD_TEXT, false},
	[SUM_PROCESSES] = {NULL, "processes", 0, FIELD_INT, false},
};

static struct {
	struct thresholds t;
	struct cap_settings caps;
} sm;

static const char usage[] =
	"usage: report summary [-h] [--scan-window SECONDS] [--ports N] [--low-ports N]\n"
	"                      [--targets N] [--destinations N] [--failed-share F]\n"
	"                      [--bruteforce-window SECONDS] [--connections N]\n"
	"                      [--failures N] [--failures-window SECONDS]\n"
	"                      [--service PORTS] [--daemon NAMES] [--settle SECONDS]\n"
	"                      [--net-raw NAMES] [common options] FILE...\n"
	"\n"
	"One page: the captures (host, span, events, losses, clean stop; per kind\n"
	"that lost records, when and the process that lost most), the top\n"
	"talkers (processes making connects, remote addresses whose connections were\n"
	"accepted), a verdict for every detection (shells on the network and guessed\n"
	"passwords first, port scans, sweeps, outbound scanning, brute force) with its\n"
	"first findings, and the capability use that stands out.  `report scans`,\n"
	"`report bruteforce` and `report caps` have the details; the options are\n"
	"theirs (--scan-window is scans' --window, --bruteforce-window bruteforce's;\n"
	"--daemon also names the login daemons whose shells are logins, not shells on\n"
	"the network).\n"
	"\n"
	"JSON and CSV: one row per capture, kind that lost records (section loss),\n"
	"program whose runs the kernel skipped (section skipped: kind the program,\n"
	"subject the kinds whose events may be missing, count the runs), talker,\n"
	"detection (each finding, or one row saying none) and group of capability\n"
	"flags (processes, first, last, uid, user), with section and kind saying\n"
	"which.\n"
	"\n"
	"examples:\n"
	"    report summary case42.db\n"
	"    report summary web-1.db web-2.db web-3.db\n"
	"    report summary --since 01:00 --format json case42.db\n";

static const struct option long_options[] = {
	SCAN_OPTIONS("scan-window"),
	BRUTEFORCE_OPTIONS("bruteforce-window"),
	CAP_OPTIONS,
	{NULL, 0, NULL, 0},
};

static int own_option(int option, const char *arg, void *ctx)
{
	int rc = threshold_option("summary", option, arg, &sm.t);

	(void)ctx;
	if (rc > 0)
		rc = cap_option("summary", option, arg, &sm.caps);
	return rc < 0 ? -1 : 0;
}

/* "comm/pid", or "host:comm/pid" when there are several hosts; escaped. */
static void process_text(const struct overview *p, int host, const char *comm, size_t len,
			 int64_t pid, char *out, size_t size)
{
	char safe[4 * CAPTURE_TEXT_MAX + 1];
	char *host_name =
		render_string(p->set->many_hosts ? peers_host_name(overview_hosts(p), host) : "");

	safe[render_text(comm, len, safe)] = '\0';
	snprintf(out, size, "%s%s%s/%lld", host_name, p->set->many_hosts ? ":" : "", safe,
		 (long long)pid);
	free(host_name);
}

/* "2026-11-23 01:55:00.832 UTC": format_human to the millisecond. */
static void human_ms(int64_t ns, bool local, char *out)
{
	char full[WHEN_MAX];
	char *dot;

	format_human(ns, local, full);
	dot = strchr(full, '.');
	snprintf(out, WHEN_MAX, "%.*s%s", dot ? (int)(dot - full) + 4 : (int)strlen(full), full,
		 dot ? strchr(dot, ' ') : "");
}

/*
 * "capable: 28798 lost, 28790 from pid 4242 storm and 3 other processes,
 * 01:18:03.120 .. 01:18:05.310" for each kind that lost records, then each
 * program whose runs the kernel skipped.
 */
static void print_losses(const struct capture *cap, const struct losses *l, bool local)
{
	for (int k = 0; k < cap->nkinds; k++) {
		char *name, *who, raw[2 * CAPTURE_TEXT_MAX] = "", first[WHEN_MAX], last[WHEN_MAX];
		const struct process_losses *top = losses_top_process(l, k);
		int64_t first_ns, last_ns;
		size_t others;

		if (!cap->kinds[k].lost)
			continue;
		if (top)
			losses_who(top, raw, sizeof(raw));
		name = render_string(cap->kinds[k].name);
		who = render_string(raw);
		printf("    %s: %lld lost%s%s", name, (long long)cap->kinds[k].lost,
		       *who ? ", " : "", who);
		free(who);
		others = losses_processes(l, k) - (top && top->pid >= 0);
		if (others)
			printf(" and %zu other process%s", others, others > 1 ? "es" : "");
		if (losses_span(l, k, &first_ns, &last_ns)) {
			format_clock(first_ns, local, first);
			format_clock(last_ns, local, last);
			printf(", %s .. %s", first, last);
		}
		putchar('\n');
		free(name);
	}
	for (int i = 0; i < cap->nskipped; i++) {
		char *sentence = losses_skipped_sentence(&cap->skipped[i]),
		     *shown = render_string(sentence);

		printf("    %s\n", shown);
		free(sentence);
		free(shown);
	}
}

static void print_capture(const struct capture *cap, const struct losses *losses, bool local)
{
	char started[WHEN_MAX], ended[WHEN_MAX];
	int64_t end = cap->clean ? cap->stopped_ns : cap->last_commit_ns, events = 0, lost = 0;
	char *host = render_string(cap->host), *path = render_string(cap->path);

	for (int i = 0; i < cap->nkinds; i++) {
		if (strcmp(cap->kinds[i].name, "outcome")) /* an outcome completes a connect */
			events += cap->kinds[i].recorded;
		lost += cap->kinds[i].lost;
	}
	human_ms(cap->started_ns, local, started);
	human_ms(end, local, ended);
	/* The end without its date when it is the start's. */
	printf("  %s  %s  %s .. %s (%.1f s), %lld events, %lld lost, %s\n", host, path, started,
	       strncmp(started, ended, 11) ? ended : ended + 11,
	       (double)(end - cap->started_ns) / 1e9, (long long)events, (long long)lost,
	       cap->clean ? "clean stop" : "NO CLEAN STOP (killed, or still recording)");
	free(host);
	free(path);
	print_losses(cap, losses, local);
}

static void print_talkers(const struct overview *p, const struct talker *list, size_t n,
			  const char *title)
{
	printf("  %-22s", title);
	for (size_t i = 0; i < n && i < TOP_TALKERS; i++) {
		char text[TEXT_MAX];

		if (list[i].pid >= 0) {
			process_text(p, list[i].host, list[i].comm, list[i].comm_len, list[i].pid,
				     text, sizeof(text));
			printf("%s %s %lld (%lld failed)", i ? "," : "", text,
			       (long long)list[i].count, (long long)list[i].failed);
		} else {
			char *safe = render_string(peer_text(overview_remotes(p), list[i].remote));

			printf("%s %s %lld", i ? "," : "", safe, (long long)list[i].count);
			free(safe);
		}
	}
	if (n > TOP_TALKERS)
		printf(", %zu more", n - TOP_TALKERS);
	if (!n)
		printf(" none");
	putchar('\n');
}

static void print_finding(const struct overview *p, const struct finding *f)
{
	char who[TEXT_MAX], what[TEXT_MAX], first[WHEN_MAX], last[WHEN_MAX];
	char *safe_who, *safe_what;

	finding_actor(f, who, sizeof(who));
	finding_target(f, what, sizeof(what));
	safe_who = render_string(who);
	safe_what = render_string(what);
	format_clock(f->first_ns, p->opts->local, first);
	format_clock(f->last_ns, p->opts->local, last);
	printf("%19s%s -> %s: ", "", safe_who, safe_what);
	switch (f->kind) {
	case FINDING_PORTSCAN:
	case FINDING_SWEEP:
		printf("%lld ports, %lld probes", (long long)f->ports, (long long)f->events);
		if (f->low_confidence)
			printf(" (low confidence)");
		break;
	case FINDING_OUTBOUND:
		printf("%lld failed destinations, %lld of %lld connects failed",
		       (long long)f->destinations, (long long)f->failed, (long long)f->events);
		break;
	case FINDING_BRUTEFORCE:
		if (f->logins)
			printf("%lld failed logins (%lld let in)", (long long)f->failed,
			       (long long)f->succeeded);
		else
			printf("%lld connections", (long long)f->events);
		break;
	case FINDING_GUESSED: {
		char user[TEXT_MAX];

		user_label(p->set, overview_hosts(p), f->host, f->uid, user, sizeof(user));
		printf("%s let in after %lld failed logins (%s)", user, (long long)f->failed,
		       f->evidence);
		break;
	}
	case FINDING_NETSHELL:
	case FINDING_BINDSHELL: {
		char evidence[TEXT_MAX];
		char *safe;

		finding_evidence(f, evidence, sizeof(evidence));
		safe = render_string(evidence);
		printf("%s (%s)", safe, f->evidence);
		free(safe);
		break;
	}
	}
	printf(", %s-%s\n", first, last);
	free(safe_who);
	free(safe_what);
}

static void print_detection(const struct overview *p, enum finding_kind kind, const char *title)
{
	const char *command = finding_command(kind);
	size_t n = 0, low = 0, shown = 0;
	char rule[512], low_rule[128];

	for (size_t i = 0; i < p->findings.count; i++) {
		n += p->findings.list[i].kind == kind;
		low += p->findings.list[i].kind == kind && p->findings.list[i].low_confidence;
	}
	describe_rule(&sm.t, kind, rule, sizeof(rule));
	describe_low_rule(&sm.t, low_rule, sizeof(low_rule));
	/* Below the rule, a port scan of low confidence says so with its own rule. */
	if (low)
		snprintf(rule + strlen(rule), sizeof(rule) - strlen(rule),
			 "; %zu of low confidence: %s", low, low_rule);
	if (!overview_evidence_recorded(p->set, kind)) {
		printf("  %-16s not recorded (no %s)\n", title, finding_evidence_missing(kind));
		return;
	}
	if (!n) {
		printf("  %-16s none (%s)\n", title, rule);
		return;
	}
	printf("  %-16s %zu FOUND (%s; report %s)\n", title, n, rule, command);
	for (size_t i = 0; i < p->findings.count && shown < FINDINGS_SHOWN; i++) {
		if (p->findings.list[i].kind != kind)
			continue;
		print_finding(p, &p->findings.list[i]);
		shown++;
	}
	if (n > shown)
		printf("%19s... %zu more (report %s)\n", "", n - shown, command);
}

/* A group of flags: one process, or several runs of one program, with the span of their checks. */
static void print_flag(const struct overview *p, const struct cap_flag_group *g)
{
	char line[CAP_GROUP_LINE_MAX];

	cap_group_line(p->set, overview_hosts(p), g, p->opts->local, line);
	printf("  %-10s %s\n", cap_flag_word(g->first->kind), line);
}

static void print_suspects(const struct overview *p)
{
	const struct suspects *s = &p->suspects;

	printf("\nPROGRAMS THAT STAND OUT (connecting or accepting)\n");
	if (!overview_has_processes(p->set)) {
		printf("  not recorded (no process events)\n");
		return;
	}
	for (size_t i = 0; i < s->count && i < PROGRAMS_SHOWN; i++) {
		const struct suspect *k = &s->list[i];
		char process[TEXT_MAX], marks[128], when[WHEN_MAX];
		char *exe = xmalloc(4 * k->exe_len + 1);

		exe[render_text(k->exe, k->exe_len, exe)] = '\0';
		process_text(p, peers_host(overview_hosts(p), p->set->list[k->capture]), k->comm,
			     k->comm_len, k->pid, process, sizeof(process));
		suspect_marks(k, marks, sizeof(marks));
		format_clock(k->first_ns, p->opts->local, when);
		printf("  %s %s [%s]: %lld connect%s, %lld accept%s, from %s\n", process, exe,
		       marks, (long long)k->connects, k->connects == 1 ? "" : "s",
		       (long long)k->accepts, k->accepts == 1 ? "" : "s", when);
		free(exe);
	}
	if (s->count > PROGRAMS_SHOWN)
		printf("  ... %zu more (report summary --format json)\n",
		       s->count - PROGRAMS_SHOWN);
	if (!s->count)
		printf("  none\n");
}

/* The name of task id in cap, for a line: "?" when the capture cannot give it (told on stderr). */
static void name_of_task(struct capture *cap, int64_t id, struct task *task)
{
	if (capture_task(cap, id, task)) {
		memcpy(task->comm, "?", 1);
		task->comm_len = 1;
	}
}

static void print_beacons(const struct overview *p)
{
	struct beacon_thresholds t;

	beacon_defaults(&t);
	if (!overview_recorded(p->set, "close")) {
		printf("\nBEACONS not recorded (no close events)\n");
		return;
	}
	printf("\nBEACONS (RITA's score: regular intervals, small payloads of one size)\n");
	if (!p->beacons.count) {
		printf("  none (%lld connections or more to one destination, score %.1f or more)\n",
		       (long long)t.connections, t.score);
		return;
	}
	printf("  %zu FOUND (%lld connections or more to one destination, score %.1f or more; "
	       "report beacons)\n",
	       p->beacons.count, (long long)t.connections, t.score);
	for (size_t i = 0; i < p->beacons.count && i < FINDINGS_SHOWN; i++) {
		const struct beacon *b = &p->beacons.list[i];
		char process[TEXT_MAX];
		char *remote =
			render_string(b->remote ? peer_text(overview_hosts(p), b->remote) : "*");

		struct task task;

		name_of_task(b->cap, b->task, &task);
		process_text(p, b->host, task.comm, task.comm_len, b->pid, process,
			     sizeof(process));
		printf("  %s -> %s:%lld: %lld connections, every %.1f s (MADM %.1f s), %lld B, "
		       "score %.3f\n",
		       process, remote, (long long)b->port, (long long)b->connections,
		       (double)b->median_ns / 1e9, (double)b->madm_ns / 1e9,
		       (long long)b->median_bytes, b->score);
		free(remote);
	}
}

/* "comm/pid" of a pair, or "-" when its connections had no known process. */
static void pair_process(const struct overview *p, const struct exfil_pair *e, char *out,
			 size_t size)
{
	struct task task;

	if (e->pid < 0) {
		snprintf(out, size, "-");
		return;
	}
	name_of_task(e->cap, e->task, &task);
	process_text(p, e->host, task.comm, task.comm_len, e->pid, out, size);
}

static void print_exfil(const struct overview *p)
{
	size_t flagged = 0, shown = 0;
	struct exfil_thresholds t;

	exfil_defaults(&t);
	if (!overview_recorded(p->set, "close")) {
		printf("\nEXFILTRATION not recorded (no close events)\n");
		return;
	}
	printf("\nEXFILTRATION (bytes out per process and remote address, from connection "
	       "lives)\n");
	printf("  %-16s", "most sent");
	for (size_t i = 0; i < p->exfil.count && i < TOP_TALKERS; i++) {
		const struct exfil_pair *e = &p->exfil.list[i];
		char process[TEXT_MAX];
		char *remote = render_string(peer_text(overview_hosts(p), e->remote));

		pair_process(p, e, process, sizeof(process));
		printf("%s %s -> %s %lld B", i ? "," : "", process, remote, (long long)e->sent);
		free(remote);
	}
	printf("%s\n", p->exfil.count ? "" : " none");
	for (size_t i = 0; i < p->exfil.count; i++)
		flagged += p->exfil.list[i].flagged;
	if (!flagged) {
		printf("  %-16s none (%lld B or more out to one remote, PCR %.1f or more)\n",
		       "flagged", (long long)t.min_bytes, t.pcr);
		return;
	}
	printf("  %-16s %zu FOUND (%lld B or more out to one remote, PCR %.1f or more; report "
	       "exfil)\n",
	       "flagged", flagged, (long long)t.min_bytes, t.pcr);
	for (size_t i = 0; i < p->exfil.count && shown < FINDINGS_SHOWN; i++) {
		const struct exfil_pair *e = &p->exfil.list[i];
		char process[TEXT_MAX];
		char *remote;

		if (!e->flagged)
			continue;
		remote = render_string(peer_text(overview_hosts(p), e->remote));
		pair_process(p, e, process, sizeof(process));
		printf("%19s%s -> %s: %lld B out, %lld in, PCR %.3f\n", "", process, remote,
		       (long long)e->opened_sent, (long long)e->opened_received,
		       exfil_pcr(e->opened_sent, e->opened_received));
		free(remote);
		shown++;
	}
}

static void print_page(const struct overview *p, const struct losses *losses)
{
	struct cap_flag_group *groups;
	size_t ngroups;
	char refusals[256];

	printf("CAPTURES\n");
	for (int i = 0; i < p->set->count; i++)
		print_capture(p->set->list[i], &losses[i], p->opts->local);
	printf("\nTOP TALKERS\n");
	print_talkers(p, p->processes, p->nprocesses, "connects by process");
	print_talkers(p, p->remotes, p->nremotes, "accepted from");
	print_suspects(p);
	printf("\nDETECTIONS\n");
	/* First: someone got in. */
	print_detection(p, FINDING_NETSHELL, "network shells");
	print_detection(p, FINDING_BINDSHELL, "shell listeners");
	print_detection(p, FINDING_GUESSED, "guessed logins");
	print_detection(p, FINDING_PORTSCAN, "port scans");
	print_detection(p, FINDING_SWEEP, "sweeps");
	print_detection(p, FINDING_OUTBOUND, "outbound scans");
	print_detection(p, FINDING_BRUTEFORCE, "brute force");
	print_exfil(p);
	print_beacons(p);
	if (!overview_recorded(p->set, "capable")) {
		printf("\nCAPABILITIES not recorded (no capable events)\n");
		return;
	}
	cap_refusals_text(&p->caps, refusals, sizeof(refusals));
	printf("\nCAPABILITIES (checks that audit, or may: %lld, %lld denied%s)\n",
	       (long long)p->caps.checks, (long long)p->caps.denied, refusals);
	ngroups = cap_flag_groups(&p->caps, &groups);
	for (size_t i = 0; i < ngroups && i < FLAGS_SHOWN; i++)
		print_flag(p, &groups[i]);
	if (ngroups > FLAGS_SHOWN)
		printf("  ... %zu more (report caps)\n", ngroups - FLAGS_SHOWN);
	if (!ngroups)
		printf("  nothing stands out\n");
	free(groups);
}

/* --- Rows (JSON, CSV) ------------------------------------------------------------------ */

static struct value text_of(const char *text)
{
	return text ? text_value(text, strlen(text)) : null_value();
}

static void blank(struct value *v, const char *section, const char *kind)
{
	for (int i = 0; i < SUM_FIELDS; i++)
		v[i] = null_value();
	v[SUM_SECTION] = text_of(section);
	v[SUM_KIND] = text_of(kind);
}

/*
 * A row per kind that lost records: count (its losses), first and last (of
 * its loss intervals), subject (the comm of the process that lost most),
 * detail ("28790 from pid 4242 storm", or "28790 unattributed").
 */
static void loss_rows(const struct capture *cap, const struct losses *l)
{
	for (int k = 0; k < cap->nkinds; k++) {
		const struct process_losses *top;
		struct value v[SUM_FIELDS];
		char who[2 * CAPTURE_TEXT_MAX];
		int64_t first_ns, last_ns;

		if (!cap->kinds[k].lost)
			continue;
		blank(v, "loss", cap->kinds[k].name);
		v[SUM_HOST] = text_of(cap->host);
		v[SUM_FILE] = text_of(cap->path);
		v[SUM_COUNT] = v[SUM_LOST] = int_value(cap->kinds[k].lost);
		if (losses_span(l, k, &first_ns, &last_ns)) {
			v[SUM_FIRST] = int_value(first_ns);
			v[SUM_LAST] = int_value(last_ns);
		}
		top = losses_top_process(l, k);
		if (top) {
			losses_who(top, who, sizeof(who));
			v[SUM_SUBJECT] =
				top->pid < 0 ? null_value() : text_value(top->comm, top->comm_len);
			v[SUM_DETAIL] = text_of(who);
		}
		output_row(v);
	}
}

/*
 * A row per program whose runs the kernel skipped: kind (the program), subject
 * (the kinds whose events may be missing), count (the runs), detail (the
 * sentence the page shows).
 */
static void skipped_rows(const struct capture *cap)
{
	for (int i = 0; i < cap->nskipped; i++) {
		char *sentence = losses_skipped_sentence(&cap->skipped[i]);
		struct value v[SUM_FIELDS];

		blank(v, "skipped", cap->skipped[i].program);
		v[SUM_HOST] = text_of(cap->host);
		v[SUM_FILE] = text_of(cap->path);
		v[SUM_SUBJECT] = text_of(cap->skipped[i].kinds);
		v[SUM_COUNT] = int_value(cap->skipped[i].runs);
		v[SUM_DETAIL] = text_of(sentence);
		output_row(v);
		free(sentence);
	}
}

static void capture_rows(const struct overview *p, const struct losses *losses)
{
	for (int i = 0; i < p->set->count; i++) {
		const struct capture *cap = p->set->list[i];
		struct value v[SUM_FIELDS];
		int64_t events = 0, lost = 0;

		for (int k = 0; k < cap->nkinds; k++) {
			if (strcmp(cap->kinds[k].name, "outcome"))
				events += cap->kinds[k].recorded;
			lost += cap->kinds[k].lost;
		}
		blank(v, "capture", "capture");
		v[SUM_HOST] = text_of(cap->host);
		v[SUM_FILE] = text_of(cap->path);
		v[SUM_COUNT] = int_value(events);
		v[SUM_LOST] = int_value(lost);
		v[SUM_CLEAN] = int_value(cap->clean);
		v[SUM_FIRST] = int_value(cap->started_ns);
		v[SUM_LAST] = int_value(cap->clean ? cap->stopped_ns : cap->last_commit_ns);
		output_row(v);
		loss_rows(cap, &losses[i]);
		skipped_rows(cap);
	}
}

static void talker_rows(const struct overview *p, const struct talker *list, size_t n,
			const char *kind)
{
	for (size_t i = 0; i < n && i < TOP_TALKERS; i++) {
		const struct talker *k = &list[i];
		struct value v[SUM_FIELDS];
		char process[TEXT_MAX];

		blank(v, "talker", kind);
		if (k->pid >= 0) {
			snprintf(process, sizeof(process), "%.*s/%lld", (int)k->comm_len, k->comm,
				 (long long)k->pid);
			v[SUM_HOST] = text_of(peers_host_name(overview_hosts(p), k->host));
			v[SUM_SUBJECT] = text_of(process);
			v[SUM_FAILED] = int_value(k->failed);
		} else {
			v[SUM_SUBJECT] = text_of(peer_text(overview_remotes(p), k->remote));
		}
		v[SUM_COUNT] = int_value(k->count);
		output_row(v);
	}
}

static void detection_rows(const struct overview *p)
{
	for (int kind = FINDING_PORTSCAN; kind <= FINDING_BINDSHELL; kind++) {
		const char *name = finding_kind_name((enum finding_kind)kind);
		struct value v[SUM_FIELDS];
		bool any = false;

		for (size_t i = 0; i < p->findings.count; i++) {
			const struct finding *f = &p->findings.list[i];
			char who[TEXT_MAX], what[TEXT_MAX], evidence[TEXT_MAX];

			if ((int)f->kind != kind)
				continue;
			any = true;
			finding_actor(f, who, sizeof(who));
			finding_target(f, what, sizeof(what));
			finding_evidence(f, evidence, sizeof(evidence));
			if (f->low_confidence) {
				char *copy = xstrdup(evidence);

				snprintf(evidence, sizeof(evidence), "low confidence; %s", copy);
				free(copy);
			}
			blank(v, "detection", name);
			v[SUM_HOST] = f->host >= 0 ? text_of(peers_host_name(f->peers, f->host))
						   : null_value();
			v[SUM_SUBJECT] = text_of(who);
			v[SUM_TARGET] = text_of(what);
			v[SUM_COUNT] = int_value(f->events);
			v[SUM_FIRST] = int_value(f->first_ns);
			v[SUM_LAST] = int_value(f->last_ns);
			if (f->logins)
				v[SUM_FAILED] = int_value(f->failed);
			v[SUM_DETAIL] = text_of(evidence);
			v[SUM_EVIDENCE] = text_of(f->evidence);
			output_row(v);
		}
		if (!any) {
			bool seen = overview_evidence_recorded(p->set, (enum finding_kind)kind);

			blank(v, "detection", name);
			v[SUM_COUNT] = seen ? int_value(0) : null_value();
			v[SUM_DETAIL] = text_of(seen ? "none" : "not recorded");
			output_row(v);
		}
	}
}

static void exfil_rows(const struct overview *p)
{
	for (size_t i = 0; i < p->exfil.count; i++) {
		const struct exfil_pair *e = &p->exfil.list[i];
		struct value v[SUM_FIELDS];
		char process[TEXT_MAX], detail[128];

		if (!e->flagged && i >= TOP_TALKERS)
			continue;
		blank(v, "exfil", e->flagged ? "flagged" : "most sent");
		if (e->pid >= 0) {
			struct task task;

			name_of_task(e->cap, e->task, &task);
			snprintf(process, sizeof(process), "%.*s/%lld", (int)task.comm_len,
				 task.comm, (long long)e->pid);
		}
		if (e->opened_sent + e->opened_received)
			snprintf(detail, sizeof(detail),
				 "%lld received; PCR %.3f of the connections it opened",
				 (long long)e->received,
				 exfil_pcr(e->opened_sent, e->opened_received));
		else
			snprintf(detail, sizeof(detail),
				 "%lld received; no bytes over connections it opened",
				 (long long)e->received);
		v[SUM_HOST] = text_of(peers_host_name(overview_hosts(p), e->host));
		v[SUM_SUBJECT] = e->pid >= 0 ? text_of(process) : null_value();
		v[SUM_TARGET] = text_of(peer_text(overview_hosts(p), e->remote));
		v[SUM_COUNT] = int_value(e->sent);
		v[SUM_FIRST] = int_value(e->first_ns);
		v[SUM_LAST] = int_value(e->last_ns);
		v[SUM_DETAIL] = text_of(detail);
		output_row(v);
	}
}

static void beacon_rows(const struct overview *p)
{
	for (size_t i = 0; i < p->beacons.count; i++) {
		const struct beacon *b = &p->beacons.list[i];
		struct value v[SUM_FIELDS];
		char process[TEXT_MAX], target[TEXT_MAX], detail[160];

		blank(v, "beacon", "beacon");
		struct task task;

		name_of_task(b->cap, b->task, &task);
		snprintf(process, sizeof(process), "%.*s/%lld", (int)task.comm_len, task.comm,
			 (long long)b->pid);
		snprintf(target, sizeof(target), "%s:%lld",
			 b->remote ? peer_text(overview_hosts(p), b->remote) : "*",
			 (long long)b->port);
		snprintf(detail, sizeof(detail),
			 "every %lld ns (MADM %lld ns), %lld bytes, score %.3f (timing %.3f, data "
			 "%.3f)",
			 (long long)b->median_ns, (long long)b->madm_ns, (long long)b->median_bytes,
			 b->score, b->timing, b->data);
		v[SUM_HOST] = text_of(peers_host_name(overview_hosts(p), b->host));
		v[SUM_SUBJECT] = text_of(process);
		v[SUM_TARGET] = text_of(target);
		v[SUM_COUNT] = int_value(b->connections);
		v[SUM_FIRST] = int_value(b->first_ns);
		v[SUM_LAST] = int_value(b->last_ns);
		v[SUM_DETAIL] = text_of(detail);
		output_row(v);
	}
}

static void suspect_rows(const struct overview *p)
{
	const struct suspects *s = &p->suspects;

	for (size_t i = 0; i < s->count; i++) {
		const struct suspect *k = &s->list[i];
		struct value v[SUM_FIELDS];
		char process[TEXT_MAX], marks[128], detail[64];

		suspect_marks(k, marks, sizeof(marks));
		blank(v, "program", marks);
		snprintf(process, sizeof(process), "%.*s/%lld", (int)k->comm_len, k->comm,
			 (long long)k->pid);
		snprintf(detail, sizeof(detail), "%lld connects, %lld accepts",
			 (long long)k->connects, (long long)k->accepts);
		v[SUM_HOST] = text_of(p->set->list[k->capture]->host);
		v[SUM_SUBJECT] = text_of(process);
		v[SUM_TARGET] = text_value(k->exe, k->exe_len);
		v[SUM_COUNT] = int_value(k->connects + k->accepts);
		v[SUM_FIRST] = int_value(k->first_ns);
		v[SUM_DETAIL] = text_of(detail);
		output_row(v);
	}
}

/* The flags as the page groups them (by program, user and capability). */
static void flag_rows(const struct overview *p)
{
	struct cap_flag_group *groups;
	size_t n = cap_flag_groups(&p->caps, &groups);

	for (size_t i = 0; i < n; i++) {
		const struct cap_use *u = groups[i].first->use;
		struct value v[SUM_FIELDS];
		char program[4 * CAPTURE_TEXT_MAX + 32], name[64], user[ACCOUNT_NAME_MAX + 1];

		blank(v, "capability", cap_flag_word(groups[i].first->kind));
		cap_group_program(&groups[i], program, sizeof(program));
		cap_name_of(p->set, u->cap, name, sizeof(name));
		v[SUM_HOST] = text_of(peers_host_name(overview_hosts(p), u->host));
		v[SUM_SUBJECT] = text_of(program);
		v[SUM_TARGET] = text_of(name);
		v[SUM_COUNT] = int_value(groups[i].checks);
		v[SUM_FAILED] = int_value(groups[i].denied);
		v[SUM_FIRST] = int_value(groups[i].first_ns);
		v[SUM_LAST] = int_value(groups[i].last_ns);
		v[SUM_DETAIL] = text_of(cap_flag_meaning(groups[i].first->kind));
		v[SUM_UID] = int_value(u->uid);
		if (account_name(p->set, overview_hosts(p), u->host, u->uid, user) > 0)
			v[SUM_USER] = text_value(user, strlen(user));
		v[SUM_PROCESSES] = int_value(groups[i].processes);
		output_row(v);
	}
	free(groups);
}

static int run(struct captures *set, const struct options *opts)
{
	struct overview o;
	struct losses *losses;
	int err;

	thresholds_ready(&sm.t);
	cap_settings_ready(&sm.caps);
	err = overview_analyze(&o, set, opts, &sm.t, &sm.caps, NULL);
	losses = err ? NULL : losses_read_all(set);
	if (losses && opts->format == FORMAT_TABLE) {
		print_page(&o, losses);
	} else if (losses) {
		output_begin(opts->format, opts->local, fields, SUM_FIELDS);
		capture_rows(&o, losses);
		talker_rows(&o, o.processes, o.nprocesses, "connects");
		talker_rows(&o, o.remotes, o.nremotes, "accepts");
		suspect_rows(&o);
		detection_rows(&o);
		exfil_rows(&o);
		beacon_rows(&o);
		flag_rows(&o);
	}
	losses_free_all(losses, set);
	overview_free(&o);
	thresholds_free(&sm.t);
	cap_settings_free(&sm.caps);
	return losses ? 0 : -1;
}

const struct command summary_command = {
	.summary = "one page: captures, top talkers, detections, unusual capability use",
	.spec = {.name = "summary",
		 .usage = usage,
		 .short_options = "",
		 .long_options = long_options,
		 .accepts = ACCEPT_FILTERS,
		 .own_option = own_option},
	.run = run,
	.huge_pages = true,
};
