/*
 * Brute-force detection (docs/detection.md): one remote address connecting
 * again and again to a login service, a connection being at least one
 * guess.  Two passes (detect.h): the second gathers each finding's intervals.
 */
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "episodes.h"
#include "replay.h"
#include "util.h"

enum { LOGIN_TASK, LOGIN_LADDR, LOGIN_LPORT, LOGIN_RADDR };

#define PROCESSES 4

struct guessing_data {
	int64_t *times; /* of the connections, in order */
	size_t count, allocated;
	struct hashmap locals;
	int processes;
	struct {
		int64_t pid;
		size_t len;
		char comm[CAPTURE_TEXT_MAX];
	} process[PROCESSES];
};

struct guessing {
	const struct thresholds *t;
	struct peers *peers;
	const struct detect_tap *tap;
	struct findings *out;
	int pass;
	struct episodes *episodes;
	struct candidates candidates;
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
 * The intervals between connections: quartile q of the sorted x[0..n-1] is
 * x[floor(q(n-1))], as the prototype takes it; the mean is the span over
 * n intervals.
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
	f->mean_ns = (f->last_ns - f->first_ns) / (int64_t)n;
	free(gaps);
}

static int closed(struct episode *ep, void *ctx)
{
	struct guessing *g = ctx;
	struct guessing_data *d = ep->data;
	struct finding *f;

	if (ep->peak < g->t->connections)
		return 0;
	if (g->pass == 1) {
		candidates_add(&g->candidates, ep->key, ep->first_ns, ep->last_ns);
		return 0;
	}
	f = findings_add(g->out, g->peers);
	f->kind = FINDING_BRUTEFORCE;
	f->host = (int)(ep->key[0] >> 32);
	f->ports = (int64_t)(ep->key[0] & 0xffff);
	f->remote = (uint32_t)ep->key[1];
	f->first_ns = ep->first_ns;
	f->last_ns = ep->last_ns;
	f->events = ep->events;
	f->process = processes(d);
	f->sample_addresses = lowest_addresses(&d->locals, g->peers, SAMPLE_SIZE);
	intervals(d, f);
	return 0;
}

static void release(void *data)
{
	struct guessing_data *d = data;

	free(d->times);
	hashmap_clear(&d->locals);
}

static void start_pass(struct guessing *g, int pass)
{
	/* The first pass gathers nothing per episode. */
	const struct episodes_rule rule = {g->t->bruteforce_window_ns,
					   false,
					   pass == 2 ? sizeof(struct guessing_data) : 0,
					   closed,
					   pass == 2 ? release : NULL,
					   g};

	g->pass = pass;
	episodes_free(g->episodes);
	g->episodes = episodes_new(&rule);
}

static int login(const struct event *ev, void *ctx)
{
	struct guessing *g = ctx;
	struct task task;
	int64_t lport = ev->col[LOGIN_LPORT];
	uint32_t remote, local;
	uint64_t key[2];
	struct guessing_data *d;
	struct episode *ep;

	if (capture_task(ev->cap, ev->col[LOGIN_TASK], &task) ||
	    !(remote = peer_of(g->peers, ev->cap, ev->col[LOGIN_RADDR])))
		return -1;
	if (g->pass == 1 && g->tap && g->tap->accept(ev, &task, remote, g->tap->ctx))
		return -1;
	if (!is_login_port(g->t, lport) && !is_login_daemon(g->t, task.comm, task.comm_len))
		return 0;
	key[0] = (uint64_t)peers_host(g->peers, ev->cap) << 32 | (uint64_t)(lport & 0xffff);
	key[1] = remote;
	if (g->pass == 2 && !candidates_hold(&g->candidates, key, ev->wall_ns))
		return 0;
	if (!(ep = episodes_add(g->episodes, key, ev->wall_ns, true, 0)))
		return -1;
	if (g->pass == 1)
		return 0;
	d = ep->data;
	if (!(local = peer_of(g->peers, ev->cap, ev->col[LOGIN_LADDR])))
		return -1;
	hashmap_put(&d->locals, local, 0, NULL);
	add_process(d, &task);
	if (d->count == d->allocated) {
		d->allocated = d->allocated ? 2 * d->allocated : 64;
		d->times = xrealloc(d->times, d->allocated * sizeof(*d->times));
	}
	d->times[d->count++] = ev->wall_ns;
	return 0;
}

/* The second pass: only the candidates' connections reach the rule. */
static int bind_remotes(sqlite3_stmt *stmt, struct capture *cap, void *ctx)
{
	struct guessing *g = ctx;
	uint32_t *remotes = xcalloc(g->candidates.groups.count, sizeof(*remotes));
	const struct hashmap_entry *e;
	size_t cursor = 0, n = 0;
	char *json;

	while ((e = hashmap_next(&g->candidates.groups, &cursor)))
		remotes[n++] = (uint32_t)e->b;
	json = peers_ids_json(g->peers, cap, remotes, n);
	free(remotes);
	if (!json)
		return -1;
	if (sqlite3_bind_text(stmt, sqlite3_bind_parameter_index(stmt, ":remotes"), json, -1,
			      free) == SQLITE_OK)
		return 0;
	fprintf(stderr, "report: %s: cannot bind :remotes: %s\n", cap->name, capture_error(cap));
	return -1;
}

static int replay_logins(struct captures *set, struct guessing *g, const struct options *opts)
{
	struct event_query query = {
		.table = "ev_accept",
		.columns = "e.task, e.laddr, e.lport, e.raddr",
		.condition =
			g->pass == 1 ? NULL : "e.raddr IN (SELECT value FROM json_each(:remotes))",
		.filter = {.task = "e.task"},
		.emit = login,
		.bind = g->pass == 1 ? NULL : bind_remotes,
		.ctx = g,
	};

	if (replay(set, &query, 1, opts))
		return -1;
	return episodes_finish(g->episodes);
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
		err = replay_logins(set, &g, &narrow);
	}
	episodes_free(g.episodes);
	candidates_clear(&g.candidates);
	return err;
}
