/*
 * The findings of a set of captures, computed once for summary's and html's
 * pages: the detections, with taps that count the top talkers and the
 * programs that stand out as the detections read the connects and accepts,
 * and the capability use.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "overview.h"
#include "shells.h"
#include "util.h"

/* --- Top talkers, counted as the detections read the events ---------------------------- */

static int count_connect(const struct event *ev, const struct task *task, bool failed, void *ctx)
{
	struct overview *o = ctx;
	int host = peers_host(o->shares[SHARE_SCANS].peers, ev->cap);
	bool added;
	uint64_t *slot =
		hashmap_put(&o->process_index, (uint64_t)host, (uint64_t)task->pid, &added);
	struct talker *k;

	if (added) {
		if (o->nprocesses == o->processes_allocated) {
			o->processes_allocated =
				o->processes_allocated ? 2 * o->processes_allocated : 64;
			o->processes = xrealloc(o->processes,
						o->processes_allocated * sizeof(*o->processes));
		}
		k = &o->processes[o->nprocesses];
		*k = (struct talker){.host = host, .pid = task->pid, .comm_len = task->comm_len};
		memcpy(k->comm, task->comm, task->comm_len);
		*slot = ++o->nprocesses;
	}
	k = &o->processes[*slot - 1];
	k->count++;
	k->failed += failed;
	return suspects_add(&o->suspects, ev, task, false);
}

/* Accepts per remote address: by its number, dense from 1 (no hashing for millions of them). */
static int count_accept(const struct event *ev, const struct task *task, uint32_t remote, void *ctx)
{
	struct overview *o = ctx;

	if (suspects_add(&o->accept_suspects, ev, task, true))
		return -1;
	if (remote >= o->accepts_allocated) {
		size_t allocated = o->accepts_allocated ? o->accepts_allocated : 1024;

		while (remote >= allocated)
			allocated *= 2;
		o->accepts = xrealloc(o->accepts, allocated * sizeof(*o->accepts));
		memset(o->accepts + o->accepts_allocated, 0,
		       (allocated - o->accepts_allocated) * sizeof(*o->accepts));
		o->accepts_allocated = allocated;
	}
	o->accepts[remote]++;
	return 0;
}

static int by_count(const void *x, const void *y)
{
	const struct talker *a = x, *b = y;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	if (a->host != b->host)
		return a->host < b->host ? -1 : 1;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return (a->remote > b->remote) - (a->remote < b->remote);
}

/* The remote addresses, most accepts first. */
static void rank_remotes(struct overview *o)
{
	size_t n = 0;

	for (size_t peer = 1; peer < o->accepts_allocated; peer++)
		n += o->accepts[peer] > 0;
	o->remotes = xcalloc(n ? n : 1, sizeof(*o->remotes));
	n = 0;
	for (size_t peer = 1; peer < o->accepts_allocated; peer++)
		if (o->accepts[peer])
			o->remotes[n++] = (struct talker){
				.pid = -1, .remote = (uint32_t)peer, .count = o->accepts[peer]};
	qsort(o->remotes, n, sizeof(*o->remotes), by_count);
	o->nremotes = n;
}

/* --- The shares -------------------------------------------------------------------------- */

static const char *const evidence_kinds[] = {
	[FINDING_PORTSCAN] = "reset",	[FINDING_SWEEP] = "reset",
	[FINDING_OUTBOUND] = "connect", [FINDING_BRUTEFORCE] = "accept",
	[FINDING_GUESSED] = "accept",	[FINDING_NETSHELL] = "exec",
	[FINDING_BINDSHELL] = "exec",
};

const enum finding_kind detection_order[DETECTIONS] = {
	FINDING_NETSHELL, FINDING_BINDSHELL, FINDING_GUESSED,	 FINDING_PORTSCAN,
	FINDING_SWEEP,	  FINDING_OUTBOUND,  FINDING_BRUTEFORCE,
};

const char *finding_title(enum finding_kind kind)
{
	static const char *const titles[] = {
		[FINDING_PORTSCAN] = "Port scans",	  [FINDING_SWEEP] = "Sweeps",
		[FINDING_OUTBOUND] = "Outbound scanning", [FINDING_BRUTEFORCE] = "Brute force",
		[FINDING_GUESSED] = "Guessed logins",	  [FINDING_NETSHELL] = "Network shells",
		[FINDING_BINDSHELL] = "Shell listeners",
	};

	return titles[kind];
}

const char *finding_evidence_kind(enum finding_kind kind)
{
	return evidence_kinds[kind];
}

const char *finding_evidence_missing(enum finding_kind kind)
{
	static const char *const missing[] = {
		[FINDING_PORTSCAN] = "reset events",   [FINDING_SWEEP] = "reset events",
		[FINDING_OUTBOUND] = "connect events", [FINDING_BRUTEFORCE] = "accept events",
		[FINDING_GUESSED] = "accept events",   [FINDING_NETSHELL] = "exec streams",
		[FINDING_BINDSHELL] = "exec streams",
	};

	return missing[kind];
}

const char *finding_command(enum finding_kind kind)
{
	return kind >= FINDING_NETSHELL	    ? "timeline"
	       : kind >= FINDING_BRUTEFORCE ? "bruteforce"
					    : "scans";
}

bool overview_recorded(const struct captures *set, const char *kind)
{
	for (int i = 0; i < set->count; i++)
		for (int k = 0; k < set->list[i]->nkinds; k++)
			if (set->list[i]->kinds[k].enabled &&
			    !strcmp(set->list[i]->kinds[k].name, kind))
				return true;
	return false;
}

bool overview_evidence_recorded(const struct captures *set, enum finding_kind kind)
{
	if (!overview_recorded(set, evidence_kinds[kind]))
		return false;
	if (kind < FINDING_NETSHELL)
		return true;
	for (int i = 0; i < set->count; i++)
		if (capture_has_column(set->list[i], "process", "stdin"))
			return true;
	return false;
}

bool overview_has_processes(const struct captures *set)
{
	for (int i = 0; i < set->count; i++)
		if (capture_has_column(set->list[i], "process", NULL))
			return true;
	return false;
}

struct peers *overview_hosts(const struct overview *o)
{
	return o->shares[SHARE_LIVES].peers;
}

struct peers *overview_remotes(const struct overview *o)
{
	return o->shares[SHARE_LOGINS_AND_CAPS].peers;
}

/* Bytes out and beacons, from the connection lives (the close kind), in one read shared: 0, or -1.
 */
static int find_lives(struct overview *o, struct overview_part *s)
{
	struct exfil_thresholds exfil;
	struct beacon_thresholds beacons;
	struct exfil_run *e;
	struct beacons_run *b;
	struct life_analysis both[2];
	int err;

	exfil_defaults(&exfil);
	beacon_defaults(&beacons);
	e = exfil_start(s->peers, &exfil, OVERVIEW_PAIRS);
	b = beacons_start(s->peers, &beacons);
	both[0] = exfil_analysis(e);
	both[1] = beacons_analysis(b);
	err = replay_lives_shared(s->set, &o->share_opts, both, 2);
	return exfil_finish(e, err, &o->exfil) | beacons_finish(b, err, &o->beacons);
}

/*
 * The lives, most of the CPU, alone and from the start: after the inbound
 * scans in one share, they left the other core idle at the end.  Brute
 * force first in its share: its peers number the accepted remotes (ties of
 * the top talkers) in the order they are seen.
 */
static void *analyze_share(void *arg)
{
	struct overview_part *s = arg;
	struct overview *o = s->o;
	struct detect_tap connects = {.connect = count_connect, .ctx = o};
	struct detect_tap accepts = {.accept = count_accept, .ctx = o};

	switch (s - o->shares) {
	case SHARE_LIVES:
		if (overview_recorded(s->set, "close"))
			s->err = find_lives(o, s);
		break;
	case SHARE_SCANS:
		if (overview_recorded(s->set, "reset"))
			s->err = find_scans(s->set, &o->share_opts, o->t, s->peers, SCANS_INBOUND,
					    NULL, &s->findings);
		if (!s->err && overview_recorded(s->set, "connect"))
			s->err = find_scans(s->set, &o->share_opts, o->t, s->peers, SCANS_OUTBOUND,
					    &connects, &s->findings);
		break;
	case SHARE_LOGINS_AND_CAPS:
		if (overview_recorded(s->set, "accept"))
			s->err = find_bruteforce(s->set, &o->share_opts, o->t, s->peers, &accepts,
						 &s->findings);
		if (!s->err && overview_recorded(s->set, "exec"))
			s->err = find_shells(s->set, &o->share_opts, o->t, s->peers, &s->findings);
		if (!s->err && overview_recorded(s->set, "capable"))
			s->err = analyze_caps(s->set, &o->share_opts, o->cap_settings, s->peers,
					      &o->caps);
		break;
	default:
		s->err = o->extra->run(s->set, &o->share_opts, o->extra->ctx);
	}
	return NULL;
}

/*
 * While the shares run, stderr tells its first line only: two threads meeting
 * the same damage in a capture must not make a report fail with two lines.
 * (A sanitizer writes to the descriptor itself, not through stdio.)
 */
static ssize_t first_line_only(void *cookie, const char *buf, size_t size)
{
	bool *told = cookie;

	if (!*told) {
		*told = memchr(buf, '\n', size) != NULL;
		if (write(STDERR_FILENO, buf, size) < 0)
			return -1;
	}
	return (ssize_t)size;
}

static FILE *tell_first_line(bool *told)
{
	FILE *gate = fopencookie(told, "w", (cookie_io_functions_t){.write = first_line_only});
	FILE *saved = stderr;

	if (!gate)
		return NULL;
	setvbuf(gate, NULL, _IOLBF, 0); /* a line, one write */
	stderr = gate;
	return saved;
}

static void tell_every_line(FILE *saved)
{
	if (!saved)
		return;
	fclose(stderr);
	stderr = saved;
}

/* The shares at once, as threads can be had (one after the other otherwise). */
int overview_analyze(struct overview *o, struct captures *set, const struct options *opts,
		     const struct thresholds *t, const struct cap_settings *caps,
		     const struct overview_extra *extra)
{
	pthread_t threads[SHARES];
	bool threaded[SHARES] = {false}, told = false;
	int shares = extra ? SHARES : SHARE_EXTRA, err = 0;
	FILE *saved;

	*o = (struct overview){
		.set = set, .opts = opts, .t = t, .cap_settings = caps, .extra = extra};
	/*
	 * Two readers a share made some twelve threads on two cores: summary
	 * over 10M events took 8% more CPU and 0.17 s more than with one.  One
	 * reader a share still handed each batch over between threads that
	 * took turns on two cores: with none, the share's own thread decoding
	 * as it merges, summary over 10M events took 11% less CPU.
	 */
	o->share_opts = *opts;
	o->share_opts.read_inline = true;
	/*
	 * The shares' threads allocate from arenas of their own, which glibc
	 * grew a few pages at a time and shrank as soon as their top was free
	 * (some 7,000 mprotect calls over 10M events, and the pages faulted in
	 * again).  A thread's heap starts at this pad, a thread heap's most (64
	 * MiB), all of it in huge pages (glibc madvises a heap's first size
	 * only).  At 32 MiB the scans' and logins' heaps grew past it a page at
	 * a time (1,430 mprotect calls), in 4 KiB pages, and their windows'
	 * largest rings and maps were mapped apart, in 4 KiB pages too, and
	 * faulted in again at every pass: 13k minor faults over 10M events, 4.4k
	 * now.  Such an arena is never trimmed: a thread keeps the most it used.
	 */
	mallopt(M_TOP_PAD, 64 << 20);
	for (int i = 0; i < shares && !err; i++) {
		struct overview_part *s = &o->shares[i];

		s->o = o;
		s->set = i ? &s->own_set : set;
		if (i && captures_open_again(&s->own_set, set))
			err = -1;
		else
			s->peers = peers_new(s->set);
	}
	if (err)
		return -1;
	o->suspects.set = o->shares[SHARE_SCANS].set;
	o->accept_suspects.set = o->shares[SHARE_LOGINS_AND_CAPS].set;
	saved = tell_first_line(&told);
	for (int i = 1; i < shares; i++)
		threaded[i] = !pthread_create(&threads[i], NULL, analyze_share, &o->shares[i]);
	analyze_share(&o->shares[0]);
	for (int i = 1; i < shares; i++) {
		if (threaded[i])
			pthread_join(threads[i], NULL);
		else
			analyze_share(&o->shares[i]);
	}
	tell_every_line(saved);
	for (int i = 0; i < shares; i++) {
		findings_move(&o->findings, &o->shares[i].findings);
		err |= o->shares[i].err;
	}
	findings_sort(&o->findings);
	suspects_merge(&o->suspects, &o->accept_suspects);
	if (o->nprocesses)
		qsort(o->processes, o->nprocesses, sizeof(*o->processes), by_count);
	rank_remotes(o);
	return err ? -1 : 0;
}

void overview_free(struct overview *o)
{
	for (int i = 0; i < SHARES; i++) {
		findings_free(&o->shares[i].findings);
		peers_free(o->shares[i].peers);
		if (i)
			captures_close(&o->shares[i].own_set);
	}
	findings_free(&o->findings);
	cap_analysis_free(&o->caps);
	exfil_free(&o->exfil);
	beacons_free(&o->beacons);
	hashmap_clear(&o->process_index);
	free(o->processes);
	free(o->remotes);
	free(o->accepts);
	suspects_free(&o->suspects);
	suspects_free(&o->accept_suspects);
}
