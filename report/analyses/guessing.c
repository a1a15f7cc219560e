/*
 * Brute-force detection (docs/detection.md): one remote address failing
 * again and again to log in to a login service, and a login let in after
 * such failures (a guessed password).  Where the capture cannot tell how a
 * login ended (no process lives; a service the login rule does not know),
 * each connection counts, at the connection threshold.
 *
 * One pass: every episode gathers what a finding reports (intervals,
 * sessions, processes) as it goes, and frees it when it ends.  A first pass
 * that found the candidates and a second that read their events again cost
 * twice the reading when every remote host is a candidate (49,105 brute
 * forces over 100M generated events: 36 s of CPU, 30 times 10M's).
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
/*
 * Every episode gathers, and most last an event or two: their times and
 * their target address stay in the episode's data, with no allocation.
 */
#define TIMES_INLINE 6

/* A login whose outcome the capture told, for the guessed passwords. */
struct told {
	int64_t wall_ns;
	bool succeeded;
	int64_t uid, pid, start_ns;
	const struct capture *cap;
};

/*
 * What an episode gathers, in its group's block, which replay's prefetch
 * fetches ahead whole (40,000 episodes are open at once over 100M generated
 * events, and each line an accept read was a miss); the pids apart from
 * their names, so that telling a process seen reads one line.
 */
struct guessing_data {
	/* The times of the counted events (connections, or failed logins), in order: in
	 * first[] until there are more. */
	int64_t *times;
	size_t count, allocated;
	uint32_t local; /* the first local address */
	int processes, ncaptures;
	int64_t pid[PROCESSES];
	const struct capture *captures[CAPTURES];
	int64_t first[TIMES_INLINE];
	struct hashmap locals; /* all of them, once there is another */
	struct told *told;     /* logins: every one told, in order */
	size_t ntold, told_allocated;
	int64_t failed, succeeded;
	struct {
		size_t len;
		char text[CAPTURE_TEXT_MAX];
	} comm[PROCESSES]; /* pid[i]'s */
};

/* The accepts whose episodes are fetched ahead, in a ring, for the last stage of their prefetch. */
#define ACCEPTS_AHEAD 4

struct guessing {
	const struct thresholds *t;
	struct peers *peers;
	const struct detect_tap *tap;
	struct findings *out;
	struct episodes *episodes[BASES];
	struct accept_keys {
		bool login_port; /* else nothing was fetched */
		uint64_t key[BASES][2];
	} ahead[ACCEPTS_AHEAD];
	size_t nahead;
};

static void add_process(struct guessing_data *d, const struct task *task)
{
	for (int i = 0; i < d->processes; i++)
		if (d->pid[i] == task->pid && d->comm[i].len == task->comm_len &&
		    !memcmp(d->comm[i].text, task->comm, task->comm_len))
			return;
	if (d->processes == PROCESSES)
		return;
	d->pid[d->processes] = task->pid;
	d->comm[d->processes].len = task->comm_len;
	memcpy(d->comm[d->processes++].text, task->comm, task->comm_len);
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
		memcpy(text + len, d->comm[i].text, d->comm[i].len);
		len += d->comm[i].len;
		len += (size_t)sprintf(text + len, "/%lld", (long long)d->pid[i]);
	}
	text[len] = '\0';
	return text;
}

static const int64_t *times_of(const struct guessing_data *d)
{
	return d->times ? d->times : d->first;
}

static void add_time(struct guessing_data *d, int64_t t)
{
	if (!d->times && d->count == TIMES_INLINE) {
		d->allocated = 4 * TIMES_INLINE;
		d->times = xmalloc(d->allocated * sizeof(*d->times));
		memcpy(d->times, d->first, sizeof(d->first));
	} else if (d->times && d->count == d->allocated) {
		d->allocated *= 2;
		d->times = xrealloc(d->times, d->allocated * sizeof(*d->times));
	}
	(d->times ? d->times : d->first)[d->count++] = t;
}

static void add_local(struct guessing_data *d, uint32_t local)
{
	if (!d->local)
		d->local = local;
	else if (d->locals.count || local != d->local) {
		hashmap_put(&d->locals, d->local, 0, NULL);
		hashmap_put(&d->locals, local, 0, NULL);
	}
}

/* The lowest local addresses, as lowest_addresses() gives them. */
static char *sample_locals(const struct guessing *g, const struct guessing_data *d)
{
	struct hashmap one = {0};
	char *text;

	if (d->locals.count)
		return lowest_addresses(&d->locals, g->peers, SAMPLE_SIZE);
	hashmap_put(&one, d->local, 0, NULL);
	text = lowest_addresses(&one, g->peers, SAMPLE_SIZE);
	hashmap_clear(&one);
	return text;
}

static int by_value(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return (a > b) - (a < b);
}

static void swap(int64_t *a, int64_t *b)
{
	int64_t t = *a;

	*a = *b;
	*b = t;
}

static int64_t median_of_three(int64_t a, int64_t b, int64_t c)
{
	if (a > b)
		swap(&a, &b);
	return c < a ? a : c > b ? b : c;
}

/*
 * The k-th smallest of x[lo..hi-1], lo <= k < hi, moved to x[k], with the
 * smaller before it and the larger after: quickselect, split three ways
 * (equal gaps are common), sorting what is left once small or once the
 * pivots were unlucky too often.  A sort of every episode's gaps was a
 * twentieth of the work over 100M generated events (49,105 brute forces of
 * hundreds of connections each), where these three selections are linear.
 */
static int64_t select_nth(int64_t *x, size_t lo, size_t hi, size_t k)
{
	for (int budget = 64; hi - lo > 16 && budget; budget--) {
		int64_t pivot = median_of_three(x[lo], x[lo + (hi - lo) / 2], x[hi - 1]);
		size_t lt = lo, i = lo, gt = hi;

		while (i < gt) {
			if (x[i] < pivot)
				swap(&x[lt++], &x[i++]);
			else if (x[i] > pivot)
				swap(&x[i], &x[--gt]);
			else
				i++;
		}
		if (k < lt)
			hi = lt;
		else if (k >= gt)
			lo = gt;
		else
			return pivot;
	}
	qsort(x + lo, hi - lo, sizeof(*x), by_value);
	return x[k];
}

/*
 * The intervals between the counted events: quartile q of the sorted
 * x[0..n-1] is x[floor(q(n-1))], as the prototype takes it; the mean is
 * their span over n intervals.
 */
static void intervals(const struct guessing_data *d, struct finding *f)
{
	size_t n = d->count - 1;
	const int64_t *times = times_of(d);
	int64_t *gaps;

	f->q1_ns = f->median_ns = f->q3_ns = f->mean_ns = -1;
	if (d->count < 2)
		return;
	gaps = xcalloc(n, sizeof(*gaps));
	for (size_t i = 0; i < n; i++)
		gaps[i] = times[i + 1] - times[i];
	/* Each selection leaves the larger after its quartile: the next looks there only. */
	f->q1_ns = select_nth(gaps, 0, n, (n - 1) / 4);
	f->median_ns = select_nth(gaps, (n - 1) / 4, n, (n - 1) / 2);
	f->q3_ns = select_nth(gaps, (n - 1) / 2, n, 3 * (n - 1) / 4);
	f->mean_ns = (times[d->count - 1] - times[0]) / (int64_t)n;
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
		f->sample_addresses = sample_locals(g, d);
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
	f->sample_addresses = sample_locals(g, d);
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

static void start(struct guessing *g)
{
	const int64_t windows[BASES] = {g->t->bruteforce_window_ns, g->t->failures_window_ns};

	for (int b = 0; b < BASES; b++) {
		const struct episodes_rule rule = {
			windows[b], false, sizeof(struct guessing_data), closed, release, g};

		g->episodes[b] = episodes_new(&rule);
	}
}

/* What an episode keeps of its connection or login. */
static int gather(struct guessing *g, const struct event *ev, const struct task *task,
		  struct guessing_data *d, const struct login *s, bool counted)
{
	uint32_t local = peer_of(g->peers, ev->cap, ev->col[LOGIN_LADDR]);

	if (!local)
		return -1;
	add_local(d, local);
	add_process(d, task);
	add_capture(d, ev->cap);
	if (counted)
		add_time(d, ev->wall_ns);
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

	if (capture_task(ev->cap, ev->col[LOGIN_TASK], &task) ||
	    !(remote = peer_of(g->peers, ev->cap, ev->col[LOGIN_RADDR])))
		return -1;
	if (g->tap && g->tap->accept(ev, &task, remote, g->tap->ctx))
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
	if (!(ep = episodes_add(g->episodes[basis], key, ev->wall_ns, counted, 0)))
		return -1;
	return gather(g, ev, &task, ep->data, basis == BY_LOGINS ? &s : NULL, counted);
}

/*
 * The episodes an accept a few ahead will reach, of either basis (which, its
 * session tells): false for an accept to no login port, which reaches none.
 * Fetched in two stages, the map's slot of each, then their first lines,
 * where the event counts and adds (replay's prefetch and prefetch_near).
 */
static bool episode_keys(struct guessing *g, const struct event *ev, uint64_t key[BASES][2])
{
	uint64_t host;
	uint32_t remote;

	if (!is_login_port(g->t, ev->col[LOGIN_LPORT]))
		return false;
	host = (uint64_t)peers_host(g->peers, ev->cap);
	remote = peer_seen(g->peers, ev->cap, ev->col[LOGIN_RADDR]);
	for (int b = 0; b < BASES; b++) {
		key[b][0] =
			host << 32 | (uint64_t)b << 16 | (uint64_t)(ev->col[LOGIN_LPORT] & 0xffff);
		key[b][1] = remote;
	}
	return true;
}

static void prefetch_slots(const struct event *ev, void *ctx)
{
	struct guessing *g = ctx;
	uint64_t key[BASES][2];

	if (episode_keys(g, ev, key))
		for (int b = 0; b < BASES; b++)
			episodes_prefetch_slot(g->episodes[b], key[b]);
}

/*
 * The slot of an episode's next time, once its data is in the cache: the
 * times of every episode are a block of their own, and over 100M generated
 * events each accept's store of its time missed (hundreds of connections an
 * episode, 40,000 episodes open).  Inlined always: GCC finds a function of
 * prefetches alone pure and deletes the calls to it.
 */
__attribute__((always_inline)) static inline void prefetch_time(const struct episode *ep)
{
	const struct guessing_data *d = ep ? ep->data : NULL;

	if (d && d->times)
		__builtin_prefetch(&d->times[d->count], 1);
}

/* The episodes of an accept a few ahead; then, half as far, the slot of the time it adds. */
static void prefetch_episodes(const struct event *ev, void *ctx)
{
	struct guessing *g = ctx;
	struct accept_keys *k = &g->ahead[g->nahead++ % ACCEPTS_AHEAD], *near;

	k->login_port = episode_keys(g, ev, k->key);
	if (k->login_port)
		for (int b = 0; b < BASES; b++)
			episodes_prefetch(g->episodes[b], k->key[b], sizeof(struct guessing_data));
	if (g->nahead <= ACCEPTS_AHEAD / 2)
		return;
	near = &g->ahead[(g->nahead - 1 - ACCEPTS_AHEAD / 2) % ACCEPTS_AHEAD];
	if (near->login_port)
		for (int b = 0; b < BASES; b++)
			prefetch_time(episodes_prefetch_item(g->episodes[b], near->key[b], 0));
}

static int replay_logins(struct captures *set, struct guessing *g, const struct options *opts)
{
	struct event_query query = {
		.table = "ev_accept",
		.columns = "e.task, e.laddr, e.lport, e.raddr",
		.filter = {.task = "e.task"},
		.emit = login,
		.ctx = g,
		.address_columns = 1u << LOGIN_LADDR | 1u << LOGIN_RADDR,
		.prefetch = prefetch_slots,
		.prefetch_near = prefetch_episodes,
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

	start(&g);
	err = replay_logins(set, &g, opts);
	for (int b = 0; b < BASES; b++)
		episodes_free(g.episodes[b]);
	return err;
}
