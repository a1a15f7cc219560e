/*
 * Brute-force detection (docs/detection.md): one remote address failing
 * again and again to log in to a login service, and a login let in after
 * such failures (a guessed password).  Where the capture cannot tell how a
 * login ended (no process lives; a service the login rule does not know),
 * each connection counts, at the connection threshold.  Two passes
 * (detect.h): the second gathers each finding's intervals and sessions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "episodes.h"
#include "logins.h"
#include "replay.h"
#include "util.h"

enum { LOGIN_TASK, LOGIN_LADDR, LOGIN_LPORT, LOGIN_RADDR };

/* What a group counts: connections, or failed logins (the key's bit 16). */
enum basis { BY_CONNECTIONS, BY_LOGINS, BASES };

#define PROCESSES 4
#define CAPTURES  4

/* A login whose outcome the capture told, for the guessed passwords. */
struct told {
	int64_t wall_ns;
	bool succeeded;
	int64_t uid, pid, start_ns;
	const struct capture *cap;
};

struct guessing_data {
	int64_t *times; /* of the counted events (connections, or failed logins), in order */
	size_t count, allocated;
	struct told *told; /* logins: every one told, in order */
	size_t ntold, told_allocated;
	int64_t failed, succeeded;
	struct hashmap locals;
	int processes;
	struct {
		int64_t pid;
		size_t len;
		char comm[CAPTURE_TEXT_MAX];
	} process[PROCESSES];
	int ncaptures;
	const struct capture *captures[CAPTURES];
};

struct guessing {
	const struct thresholds *t;
	struct peers *peers;
	const struct detect_tap *tap;
	struct findings *out;
	int pass;
	struct episodes *episodes[BASES];
	struct candidates candidates;
	struct address_ids
		remote_ids; /* the second pass: the candidates' remotes (address_ids_add) */
};

static void add_process(struct guessing_data *d, const struct task *task)
{
	for (int i = 0; i < d->processes; i++)
		if (d->process[i].pid == task->pid && d->process[i].len == task->comm_len &&
		    !memcmp(d->process[i].comm, task->comm, task->comm_len))
			return;
	if (d->processes == PROCESSES)
		return;
	d->process[d->processes].pid = task->pid;
	d->process[d->processes].len = task->comm_len;
	memcpy(d->process[d->processes++].comm, task->comm, task->comm_len);
}

static void add_capture(struct guessing_data *d, const struct capture *cap)
{
	for (int i = 0; i < d->ncaptures; i++)
		if (d->captures[i] == cap)
			return;
	if (d->ncaptures < CAPTURES)
		d->captures[d->ncaptures++] = cap;
}

/* "sshd/12919,sshd/12920": the accepting processes. */
static char *processes(const struct guessing_data *d)
{
	char *text = xmalloc(PROCESSES * (CAPTURE_TEXT_MAX + 24) + 1);
	size_t len = 0;

	for (int i = 0; i < d->processes; i++) {
		if (i)
			text[len++] = ',';
		memcpy(text + len, d->process[i].comm, d->process[i].len);
		len += d->process[i].len;
		len += (size_t)sprintf(text + len, "/%lld", (long long)d->process[i].pid);
	}
	text[len] = '\0';
	return text;
}

static int by_value(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return (a > b) - (a < b);
}

/*
 * The intervals between the counted events: quartile q of the sorted
 * x[0..n-1] is x[floor(q(n-1))], as the prototype takes it; the mean is
 * their span over n intervals.
 */
static void intervals(const struct guessing_data *d, struct finding *f)
{
	size_t n = d->count - 1;
	int64_t *gaps;

	f->q1_ns = f->median_ns = f->q3_ns = f->mean_ns = -1;
	if (d->count < 2)
		return;
	gaps = xcalloc(n, sizeof(*gaps));
	for (size_t i = 0; i < n; i++)
		gaps[i] = d->times[i + 1] - d->times[i];
	qsort(gaps, n, sizeof(*gaps), by_value);
	f->q1_ns = gaps[(n - 1) / 4];
	f->median_ns = gaps[(n - 1) / 2];
	f->q3_ns = gaps[3 * (n - 1) / 4];
	f->mean_ns = (d->times[d->count - 1] - d->times[0]) / (int64_t)n;
	free(gaps);
}

/* "@1795397219.320000000": a time as --since and --until take it. */
static char *put_epoch(char *p, int64_t ns)
{
	return p +
	       sprintf(p, "@%lld.%09lld", (long long)(ns / NS_PER_S), (long long)(ns % NS_PER_S));
}

/* The files, after the command in text (names rendered: report prints them so). */
static char *with_files(char *text, const struct capture *const *caps, int n)
{
	size_t len = strlen(text) + 1;

	for (int i = 0; i < n; i++)
		len += strlen(caps[i]->name) + 1;
	text = xrealloc(text, len);
	for (int i = 0; i < n; i++)
		strcat(strcat(text, " "), caps[i]->name);
	return text;
}

/* The command that lists an episode's connections or logins. */
static char *episode_evidence(const struct episode *ep, const struct guessing_data *d, bool logins)
{
	char *text = xmalloc(128), *p = text;

	p += sprintf(p, "report %s -P %lld --since ", logins ? "logins" : "tcpaccept",
		     (long long)(ep->key[0] & 0xffff));
	p = put_epoch(p, ep->first_ns);
	p = stpcpy(p, " --until ");
	put_epoch(p, ep->last_ns);
	return with_files(text, d->captures, d->ncaptures);
}

/*
 * The logins of an episode let in after at least the threshold of failures
 * within the window before them: each a guessed password.
 */
static void find_guessed(struct guessing *g, const struct episode *ep,
			 const struct guessing_data *d)
{
	size_t oldest = 0;
	int64_t failures = 0;

	for (size_t i = 0; i < d->ntold; i++) {
		const struct told *s = &d->told[i];
		struct finding *f;
		char *text;

		for (;
		     oldest < i && d->told[oldest].wall_ns < s->wall_ns - g->t->failures_window_ns;
		     oldest++)
			failures -= !d->told[oldest].succeeded;
		if (!s->succeeded) {
			failures++;
			continue;
		}
		if (failures < g->t->failures)
			continue;
		f = findings_add(g->out, g->peers);
		f->kind = FINDING_GUESSED;
		f->logins = true;
		f->host = (int)(ep->key[0] >> 32);
		f->ports = (int64_t)(ep->key[0] & 0xffff);
		f->remote = (uint32_t)ep->key[1];
		f->first_ns = d->told[oldest].wall_ns;
		f->last_ns = s->wall_ns;
		f->events = (int64_t)(i - oldest + 1);
		f->failed = failures;
		f->succeeded = 1;
		f->uid = s->uid;
		f->session_pid = s->pid;
		f->session_start_ns = s->start_ns;
		f->process = processes(d);
		f->sample_addresses = lowest_addresses(&d->locals, g->peers, SAMPLE_SIZE);
		f->q1_ns = f->median_ns = f->q3_ns = f->mean_ns = -1;
		text = xmalloc(64);
		sprintf(text, "report proc %lld@%lld", (long long)s->pid, (long long)s->start_ns);
		f->evidence = with_files(text, &s->cap, 1);
		/* The logins after it are the same guess used: more failures make another. */
		oldest = i + 1;
		failures = 0;
	}
}

static int closed(struct episode *ep, void *ctx)
{
	struct guessing *g = ctx;
	struct guessing_data *d = ep->data;
	bool logins = ep->key[0] >> 16 & 1;
	struct finding *f;

	if (ep->peak < (logins ? g->t->failures : g->t->connections))
		return 0;
	if (g->pass == 1) {
		candidates_add(&g->candidates, ep->key, ep->first_ns, ep->last_ns);
		return 0;
	}
	f = findings_add(g->out, g->peers);
	f->kind = FINDING_BRUTEFORCE;
	f->logins = logins;
	f->host = (int)(ep->key[0] >> 32);
	f->ports = (int64_t)(ep->key[0] & 0xffff);
	f->remote = (uint32_t)ep->key[1];
	f->first_ns = ep->first_ns;
	f->last_ns = ep->last_ns;
	f->events = ep->events;
	f->failed = d->failed;
	f->succeeded = d->succeeded;
	f->uid = f->session_pid = -1;
	f->process = processes(d);
	f->sample_addresses = lowest_addresses(&d->locals, g->peers, SAMPLE_SIZE);
	f->evidence = episode_evidence(ep, d, logins);
	intervals(d, f);
	if (logins)
		find_guessed(g, ep, d);
	return 0;
}

static void release(void *data)
{
	struct guessing_data *d = data;

	free(d->times);
	free(d->told);
	hashmap_clear(&d->locals);
}

static void start_pass(struct guessing *g, int pass)
{
	const int64_t windows[BASES] = {g->t->bruteforce_window_ns, g->t->failures_window_ns};

	g->pass = pass;
	for (int b = 0; b < BASES; b++) {
		/* The first pass gathers nothing per episode. */
		const struct episodes_rule rule = {windows[b],
						   false,
						   pass == 2 ? sizeof(struct guessing_data) : 0,
						   closed,
						   pass == 2 ? release : NULL,
						   g};

		episodes_free(g->episodes[b]);
		g->episodes[b] = episodes_new(&rule);
	}
}

/* What the second pass keeps of a connection or login of a candidate episode. */
static int gather(struct guessing *g, const struct event *ev, const struct task *task,
		  struct guessing_data *d, const struct login *s, bool counted)
{
	uint32_t local = peer_of(g->peers, ev->cap, ev->col[LOGIN_LADDR]);

	if (!local)
		return -1;
	hashmap_put(&d->locals, local, 0, NULL);
	add_process(d, task);
	add_capture(d, ev->cap);
	if (counted) {
		if (d->count == d->allocated) {
			d->allocated = d->allocated ? 2 * d->allocated : 64;
			d->times = xrealloc(d->times, d->allocated * sizeof(*d->times));
		}
		d->times[d->count++] = ev->wall_ns;
	}
	if (!s || s->outcome == LOGIN_UNKNOWN)
		return 0;
	d->failed += s->outcome == LOGIN_FAILED;
	d->succeeded += s->outcome == LOGIN_SUCCEEDED;
	if (d->ntold == d->told_allocated) {
		d->told_allocated = d->told_allocated ? 2 * d->told_allocated : 64;
		d->told = xrealloc(d->told, d->told_allocated * sizeof(*d->told));
	}
	d->told[d->ntold++] = (struct told){
		ev->wall_ns, s->outcome == LOGIN_SUCCEEDED, s->uid, s->pid, s->start_ns, ev->cap};
	return 0;
}

static int login(const struct event *ev, void *ctx)
{
	struct guessing *g = ctx;
	struct task task;
	struct login s;
	int64_t lport = ev->col[LOGIN_LPORT];
	uint32_t remote;
	uint64_t key[2];
	enum basis basis = BY_CONNECTIONS;
	bool counted = true;
	struct episode *ep;

	/* The second pass: only the candidates' connections reach the rule. */
	if (g->pass == 2 && !address_ids_hold(&g->remote_ids, ev->cap, ev->col[LOGIN_RADDR]))
		return 0;
	if (capture_task(ev->cap, ev->col[LOGIN_TASK], &task) ||
	    !(remote = peer_of(g->peers, ev->cap, ev->col[LOGIN_RADDR])))
		return -1;
	if (g->pass == 1 && g->tap && g->tap->accept(ev, &task, remote, g->tap->ctx))
		return -1;
	if (!is_login_port(g->t, lport) && !is_login_daemon(g->t, task.comm, task.comm_len))
		return 0;
	s.outcome = LOGIN_UNKNOWN;
	if (login_daemon(g->t, &task)) {
		if (login_session(ev->cap, g->t, &task, ev->t, &s))
			return -1;
		/* A capture with process lives tells logins: the connection rule is for the rest.
		 */
		if (s.pid) {
			basis = BY_LOGINS;
			counted = s.outcome == LOGIN_FAILED;
		}
	}
	key[0] = (uint64_t)peers_host(g->peers, ev->cap) << 32 | (uint64_t)basis << 16 |
		 (uint64_t)(lport & 0xffff);
	key[1] = remote;
	if (g->pass == 2 && !candidates_hold(&g->candidates, key, ev->wall_ns))
		return 0;
	if (!(ep = episodes_add(g->episodes[basis], key, ev->wall_ns, counted, 0)))
		return -1;
	if (g->pass == 1)
		return 0;
	return gather(g, ev, &task, ep->data, basis == BY_LOGINS ? &s : NULL, counted);
}

/* The candidates' remotes, as each capture numbers them: 0, or -1 after one line. */
static int read_remote_ids(struct captures *set, struct guessing *g)
{
	uint32_t *remotes = xcalloc(g->candidates.groups.count, sizeof(*remotes));
	const struct hashmap_entry *e;
	size_t cursor = 0, n = 0;
	int err = 0;

	while ((e = hashmap_next(&g->candidates.groups, &cursor)))
		remotes[n++] = (uint32_t)e->b;
	for (int c = 0; !err && c < set->count; c++)
		err = address_ids_add(&g->remote_ids, g->peers, set->list[c], remotes, n);
	free(remotes);
	return err;
}

static int replay_logins(struct captures *set, struct guessing *g, const struct options *opts)
{
	struct event_query query = {
		.table = "ev_accept",
		.columns = "e.task, e.laddr, e.lport, e.raddr",
		.filter = {.task = "e.task"},
		.emit = login,
		.ctx = g,
	};

	if (replay(set, &query, 1, opts))
		return -1;
	for (int b = 0; b < BASES; b++)
		if (episodes_finish(g->episodes[b]))
			return -1;
	return 0;
}

int find_bruteforce(struct captures *set, const struct options *opts, const struct thresholds *t,
		    struct peers *peers, const struct detect_tap *tap, struct findings *out)
{
	struct guessing g = {.t = t, .peers = peers, .tap = tap, .out = out};
	int err;

	start_pass(&g, 1);
	err = replay_logins(set, &g, opts);
	if (!err && g.candidates.count) {
		struct options narrow = narrowed(opts, g.candidates.first_ns, g.candidates.last_ns);

		start_pass(&g, 2);
		err = read_remote_ids(set, &g) || replay_logins(set, &g, &narrow);
	}
	for (int b = 0; b < BASES; b++)
		episodes_free(g.episodes[b]);
	candidates_clear(&g.candidates);
	address_ids_clear(&g.remote_ids);
	return err;
}
