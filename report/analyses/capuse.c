/*
 * Capability use: checks counted as they stream, per task, capability and
 * verdict (a few thousand keys, whatever the number of checks), then per
 * process, and the rules of what stands out applied to those counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capuse.h"
#include "accounts.h"
#include "detect.h"
#include "hashmap.h"
#include "output.h"
#include "replay.h"
#include "util.h"
#include "when.h"

enum { CHECK_TASK, CHECK_CAP, CHECK_RET, CHECK_USERNS, CHECK_AUDIT, CHECK_DENIES };

/* Programs expected to open raw sockets (ping, traceroute, DHCP clients, capture tools). */
static const char *const net_raw_programs[] = {
	"ping",		  "ping4",	     "ping6",	  "arping",
	"traceroute",	  "traceroute6",     "tracepath", "mtr",
	"mtr-packet",	  "dhclient",	     "dhcpcd",	  "dhcpd",
	"NetworkManager", "systemd-network", "tcpdump",	  "dumpcap",
	"wpa_supplicant",
};

#define MAX_SETTLE_S 86400

static void add_program(struct cap_settings *s, const char *name, size_t len)
{
	s->net_raw = xrealloc(s->net_raw, (size_t)(s->nnet_raw + 1) * sizeof(*s->net_raw));
	s->net_raw_lens =
		xrealloc(s->net_raw_lens, (size_t)(s->nnet_raw + 1) * sizeof(*s->net_raw_lens));
	s->net_raw[s->nnet_raw] = memcpy(xmalloc(len + 1), name, len);
	s->net_raw[s->nnet_raw][len] = '\0';
	s->net_raw_lens[s->nnet_raw++] = len;
}

static void clear_programs(struct cap_settings *s)
{
	for (int i = 0; i < s->nnet_raw; i++)
		free(s->net_raw[i]);
	free(s->net_raw);
	free(s->net_raw_lens);
	s->net_raw = NULL;
	s->net_raw_lens = NULL;
	s->nnet_raw = 0;
}

void cap_settings_ready(struct cap_settings *s)
{
	if (s->ready)
		return;
	s->ready = true;
	s->settle_ns = 10 * NS_PER_S;
	for (size_t i = 0; i < ARRAY_SIZE(net_raw_programs); i++)
		add_program(s, net_raw_programs[i], strlen(net_raw_programs[i]));
}

void cap_settings_free(struct cap_settings *s)
{
	clear_programs(s);
}

/* "ping,tcpdump": replaces the programs; names as --comm takes them. */
static int parse_programs(const char *command, const char *arg, struct cap_settings *s)
{
	char *list = xstrdup(arg), *item, *rest = list, *name = xmalloc(strlen(arg) + 1);
	int err = 0;

	clear_programs(s);
	while (!err && (item = strsep(&rest, ","))) {
		size_t len;

		if (unrender_text(item, name, &len))
			err = option_error(command,
					   "--net-raw wants process names (\\xHH for a byte, "
					   "\\\\ for \\), not '%s'",
					   arg);
		else if (len)
			add_program(s, name, len);
	}
	free(name);
	free(list);
	return err;
}

int cap_option(const char *command, int option, const char *arg, struct cap_settings *s)
{
	int64_t seconds;

	cap_settings_ready(s);
	switch (option) {
	case 'v':
		s->every_check = true;
		return 0;
	case OPT_SETTLE:
		if (parse_integer(arg, 0, MAX_SETTLE_S, &seconds))
			return option_error(command,
					    "--settle wants seconds from 0 to %d, not '%s'",
					    MAX_SETTLE_S, arg);
		s->settle_ns = seconds * NS_PER_S;
		return 0;
	case OPT_NET_RAW:
		return parse_programs(command, arg, s);
	default:
		return 1;
	}
}

const char *cap_flag_word(enum cap_flag_kind kind)
{
	static const char *const words[] = {
		[FLAG_PRIVILEGED] = "privileged",
		[FLAG_NET_RAW] = "net_raw",
		[FLAG_NEW] = "new",
		[FLAG_DENIED] = "denied",
	};

	return words[kind];
}

const char *cap_flag_meaning(enum cap_flag_kind kind)
{
	static const char *const meanings[] = {
		[FLAG_PRIVILEGED] = "privileged capability asked for by a user other than root",
		[FLAG_NET_RAW] = "raw sockets by an unexpected program (a SYN scanner?)",
		[FLAG_NEW] = "capability new to the process",
		[FLAG_DENIED] = "denied",
	};

	return meanings[kind];
}

void cap_name_of(struct captures *set, int64_t cap, char *buf, size_t size)
{
	struct name name;

	if (!capture_cap_name(set->list[0], cap, &name) && name.found)
		snprintf(buf, size, "%.*s", (int)name.len, name.text);
	else
		snprintf(buf, size, "CAP_%lld", (long long)cap);
}

/* --- Counting, as the checks stream ------------------------------------------- */

struct count {
	int capture;
	int64_t task, cap;
	bool denied, audited, userns;
	int64_t checks, first_ns, last_ns;
};

struct counting {
	struct captures *set;
	struct peers *peers;
	struct hashmap keys; /* (capture, task), (cap, verdict) -> 1 + index in counts */
	struct count *counts;
	size_t count, allocated;
	int64_t capping; /* refusals that denied nothing */
	int64_t unsure;	 /* refusals that may have denied nothing */
};

static int count_check(const struct event *ev, void *ctx)
{
	struct counting *c = ctx;
	int capture = peers_index(c->peers, ev->cap);
	int64_t task = event_null(ev, CHECK_TASK) ? -1 : ev->col[CHECK_TASK];
	bool refused = ev->col[CHECK_RET] != 0;
	/* A refusal that only held a set within bounds denies nothing (cap_capset's). */
	bool capping = refused && !event_null(ev, CHECK_DENIES) && ev->col[CHECK_DENIES] == 0;
	/*
	 * Whether it denied is unknown where the requester is (fexit without -K,
	 * a capture from before): only cap_capset() refuses without denying, and
	 * it asks for CAP_SETPCAP alone, so only that refusal is in doubt.
	 */
	bool unsure = refused && event_null(ev, CHECK_DENIES) && ev->col[CHECK_CAP] == CAP_SETPCAP;
	bool denied = refused && !capping && !unsure;

	c->capping += capping;
	c->unsure += unsure;
	bool audited = event_null(ev, CHECK_AUDIT) || ev->col[CHECK_AUDIT] != 0;
	bool userns = ev->col[CHECK_USERNS] > 0;
	uint64_t bits = (uint64_t)ev->col[CHECK_CAP] << 3 | (uint64_t)denied << 2 |
			(uint64_t)audited << 1 | (uint64_t)userns;
	bool added;
	uint64_t *slot =
		hashmap_put(&c->keys, (uint64_t)capture << 48 ^ (uint64_t)task, bits, &added);
	struct count *n;

	if (added) {
		if (c->count == c->allocated) {
			c->allocated = c->allocated ? 2 * c->allocated : 256;
			c->counts = xrealloc(c->counts, c->allocated * sizeof(*c->counts));
		}
		c->counts[c->count] =
			(struct count){capture, task, ev->col[CHECK_CAP], denied,     audited,
				       userns,	0,    ev->wall_ns,	  ev->wall_ns};
		*slot = ++c->count;
	}
	n = &c->counts[*slot - 1];
	n->checks++;
	n->last_ns = ev->wall_ns;
	return 0;
}

/* --- Per process ------------------------------------------------------------------ */

/* Uses of one process (host, pid, comm) together, then by capability, user and verdict. */
static int by_process(const void *x, const void *y)
{
	const struct cap_use *a = x, *b = y;
	int order;

	if (a->host != b->host)
		return a->host < b->host ? -1 : 1;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	order = memcmp(a->comm, b->comm, a->comm_len < b->comm_len ? a->comm_len : b->comm_len);
	if (order || a->comm_len != b->comm_len)
		return order ? order : a->comm_len < b->comm_len ? -1 : 1;
	if (a->cap != b->cap)
		return a->cap < b->cap ? -1 : 1;
	if (a->uid != b->uid)
		return a->uid < b->uid ? -1 : 1;
	if (a->denied != b->denied)
		return a->denied ? 1 : -1;
	if (a->audited != b->audited)
		return a->audited ? 1 : -1;
	return (a->userns > b->userns) - (a->userns < b->userns);
}

static bool same_key(const struct cap_use *a, const struct cap_use *b)
{
	struct cap_use x = *a, y = *b;

	x.checks = y.checks = x.first_ns = y.first_ns = x.last_ns = y.last_ns = 0;
	return !by_process(&x, &y);
}

/* The counts per task turned into uses per process: tasks are threads, or one
 * process seen under several rows. */
static int to_uses(struct counting *c, struct cap_analysis *out)
{
	size_t n = 0;

	out->uses = xcalloc(c->count ? c->count : 1, sizeof(*out->uses));
	for (size_t i = 0; i < c->count; i++) {
		const struct count *k = &c->counts[i];
		struct capture *cap = c->set->list[k->capture];
		struct cap_use *u = &out->uses[i];
		struct task task = {.pid = -1, .uid = -1};

		if (k->task >= 0 && capture_task(cap, k->task, &task))
			return -1;
		*u = (struct cap_use){.host = peers_host(c->peers, cap),
				      .pid = task.pid,
				      .uid = task.uid,
				      .comm_len = task.comm_len,
				      .cap = k->cap,
				      .denied = k->denied,
				      .audited = k->audited,
				      .userns = k->userns,
				      .checks = k->checks,
				      .first_ns = k->first_ns,
				      .last_ns = k->last_ns};
		memcpy(u->comm, task.comm, task.comm_len);
		out->checks += k->checks;
		out->denied += k->denied ? k->checks : 0;
	}
	qsort(out->uses, c->count, sizeof(*out->uses), by_process);
	for (size_t i = 0; i < c->count; i++) {
		struct cap_use *u = &out->uses[i];

		if (n && same_key(&out->uses[n - 1], u)) {
			struct cap_use *m = &out->uses[n - 1];

			m->checks += u->checks;
			if (u->first_ns < m->first_ns)
				m->first_ns = u->first_ns;
			if (u->last_ns > m->last_ns)
				m->last_ns = u->last_ns;
		} else {
			out->uses[n++] = *u;
		}
	}
	out->nuses = n;
	return 0;
}

/* --- What stands out ---------------------------------------------------------------- */

bool cap_same_process(const struct cap_use *a, const struct cap_use *b)
{
	return a->host == b->host && a->pid == b->pid && a->comm_len == b->comm_len &&
	       !memcmp(a->comm, b->comm, a->comm_len);
}

static bool expected_raw(const struct cap_settings *s, const struct cap_use *u)
{
	for (int i = 0; i < s->nnet_raw; i++)
		if (s->net_raw_lens[i] == u->comm_len &&
		    !memcmp(s->net_raw[i], u->comm, u->comm_len))
			return true;
	return false;
}

static void add_flag(struct cap_analysis *a, size_t *allocated, enum cap_flag_kind kind,
		     const struct cap_flag *flag)
{
	if (a->nflags == *allocated) {
		*allocated = *allocated ? 2 * *allocated : 16;
		a->flags = xrealloc(a->flags, *allocated * sizeof(*a->flags));
	}
	a->flags[a->nflags] = *flag;
	a->flags[a->nflags++].kind = kind;
}

enum which { ALL_CHECKS, NOT_ROOT, DENIALS };

/* The audited checks (or maybe audited) of uses[from, to): all, by users other than root, denied.
 */
static void sum_audited(const struct cap_analysis *a, size_t from, size_t to, enum which which,
			struct cap_flag *flag)
{
	*flag = (struct cap_flag){.first_ns = INT64_MAX};
	for (size_t i = from; i < to; i++) {
		const struct cap_use *u = &a->uses[i];

		if (!u->audited || (which == NOT_ROOT && u->uid == 0) ||
		    (which == DENIALS && !u->denied))
			continue;
		if (!flag->use)
			flag->use = u;
		flag->checks += u->checks;
		flag->denied += u->denied ? u->checks : 0;
		flag->userns |= u->userns;
		if (u->first_ns < flag->first_ns)
			flag->first_ns = u->first_ns;
		if (u->last_ns > flag->last_ns)
			flag->last_ns = u->last_ns;
	}
}

/*
 * The checks of one capability by one process, uses[from, to): the flags
 * they earn.  process_first_ns: the process's first audited check.
 */
static void flag_capability(struct cap_analysis *a, size_t *allocated, const struct cap_settings *s,
			    size_t from, size_t to, int64_t process_first_ns)
{
	struct cap_flag all, nonroot, denials;
	int64_t cap = a->uses[from].cap;

	sum_audited(a, from, to, ALL_CHECKS, &all);
	sum_audited(a, from, to, NOT_ROOT, &nonroot);
	sum_audited(a, from, to, DENIALS, &denials);
	if (!all.use || all.use->pid < 0)
		return;
	if ((cap == CAP_SYS_ADMIN || cap == CAP_SYS_MODULE) && nonroot.use)
		add_flag(a, allocated, FLAG_PRIVILEGED, &nonroot);
	if (cap == CAP_NET_RAW && !expected_raw(s, all.use))
		add_flag(a, allocated, FLAG_NET_RAW, &all);
	if (denials.use)
		add_flag(a, allocated, FLAG_DENIED, &denials);
	if (all.first_ns > process_first_ns && all.first_ns - process_first_ns >= s->settle_ns) {
		all.after_ns = all.first_ns - process_first_ns;
		add_flag(a, allocated, FLAG_NEW, &all);
	}
}

static int by_kind_then_time(const void *x, const void *y)
{
	const struct cap_flag *a = x, *b = y;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->first_ns != b->first_ns)
		return a->first_ns < b->first_ns ? -1 : 1;
	return by_process(a->use, b->use);
}

/* Checks that do not audit are the kernel asking "could it?" (every mmap asks for
 * CAP_SYS_ADMIN): never flagged. */
static void find_flags(struct cap_analysis *a, const struct cap_settings *s)
{
	size_t allocated = 0;

	for (size_t p = 0; p < a->nuses;) {
		size_t end = p;
		int64_t first = INT64_MAX;

		while (end < a->nuses && cap_same_process(&a->uses[p], &a->uses[end]))
			end++;
		for (size_t i = p; i < end; i++)
			if (a->uses[i].audited && a->uses[i].first_ns < first)
				first = a->uses[i].first_ns;
		for (size_t i = p; i < end;) {
			size_t next = i;

			while (next < end && a->uses[next].cap == a->uses[i].cap)
				next++;
			flag_capability(a, &allocated, s, i, next, first);
			i = next;
		}
		p = end;
	}
	if (a->nflags)
		qsort(a->flags, a->nflags, sizeof(*a->flags), by_kind_then_time);
}

int analyze_caps(struct captures *set, const struct options *opts, const struct cap_settings *s,
		 struct peers *peers, struct cap_analysis *out)
{
	struct counting c = {.set = set, .peers = peers};
	struct event_query query = {
		.table = "ev_capable",
		.columns = "e.task, e.cap, e.ret, e.userns_level, e.audit, e.denies",
		.newer_column = "denies",
		.older_columns = "e.task, e.cap, e.ret, e.userns_level, e.audit, NULL",
		/* As `report capable`: checks that do not audit only with -v. */
		.condition = s->every_check ? NULL : "e.audit IS NOT 0",
		.filter = {.task = "e.task"},
		.emit = count_check,
		.ctx = &c,
	};
	int err;

	*out = (struct cap_analysis){0};
	err = replay(set, &query, 1, opts) || to_uses(&c, out);
	if (!err)
		find_flags(out, s);
	out->capping = c.capping;
	out->unsure = c.unsure;
	hashmap_clear(&c.keys);
	free(c.counts);
	return err ? -1 : 0;
}

/* Flags of one group together (kind, host, user, capability, name), each group in time order. */
static int by_group(const void *x, const void *y)
{
	const struct cap_flag *a = *(const struct cap_flag *const *)x;
	const struct cap_flag *b = *(const struct cap_flag *const *)y;
	int c = (a->kind > b->kind) - (a->kind < b->kind);

	if (!c)
		c = (a->use->host > b->use->host) - (a->use->host < b->use->host);
	if (!c)
		c = (a->use->uid > b->use->uid) - (a->use->uid < b->use->uid);
	if (!c)
		c = (a->use->cap > b->use->cap) - (a->use->cap < b->use->cap);
	if (!c && a->use->comm_len != b->use->comm_len)
		c = a->use->comm_len < b->use->comm_len ? -1 : 1;
	if (!c)
		c = memcmp(a->use->comm, b->use->comm, a->use->comm_len);
	if (!c)
		c = (a->first_ns > b->first_ns) - (a->first_ns < b->first_ns);
	return c;
}

static bool same_group(const struct cap_flag *a, const struct cap_flag *b)
{
	return a->kind == b->kind && a->use->host == b->use->host && a->use->uid == b->use->uid &&
	       a->use->cap == b->use->cap && a->use->comm_len == b->use->comm_len &&
	       !memcmp(a->use->comm, b->use->comm, a->use->comm_len);
}

/* Groups as the flags come: by kind, then the time of their first flag. */
static int group_by_kind_then_time(const void *x, const void *y)
{
	const struct cap_flag_group *a = x, *b = y;
	int c = (a->first->kind > b->first->kind) - (a->first->kind < b->first->kind);

	return c ? c : (a->first_ns > b->first_ns) - (a->first_ns < b->first_ns);
}

size_t cap_flag_groups(const struct cap_analysis *a, struct cap_flag_group **out)
{
	const struct cap_flag **sorted = xcalloc(a->nflags + 1, sizeof(*sorted));
	size_t n = 0;

	*out = xcalloc(a->nflags + 1, sizeof(**out));
	for (size_t i = 0; i < a->nflags; i++)
		sorted[i] = &a->flags[i];
	qsort(sorted, a->nflags, sizeof(*sorted), by_group);
	for (size_t i = 0; i < a->nflags; i++) {
		const struct cap_flag *f = sorted[i];
		struct cap_flag_group *g = &(*out)[n];

		if (!i || !same_group(sorted[i - 1], f)) {
			*g = (struct cap_flag_group){.first = f, .first_ns = f->first_ns};
			n++;
		} else {
			g = &(*out)[n - 1];
		}
		g->processes++;
		g->checks += f->checks;
		g->denied += f->denied;
		g->userns |= f->userns;
		if (f->last_ns > g->last_ns)
			g->last_ns = f->last_ns;
	}
	free(sorted);
	qsort(*out, n, sizeof(**out), group_by_kind_then_time);
	return n;
}

void cap_group_program(const struct cap_flag_group *g, char *out, size_t size)
{
	const struct cap_use *u = g->first->use;
	char comm[4 * CAPTURE_TEXT_MAX + 1];

	comm[render_text(u->comm, u->comm_len, comm)] = '\0';
	if (g->processes > 1)
		snprintf(out, size, "%s, %lld processes", comm, (long long)g->processes);
	else
		snprintf(out, size, "%s/%lld", comm, (long long)u->pid);
}

void cap_group_line(struct captures *set, struct peers *peers, const struct cap_flag_group *g,
		    bool local, char out[CAP_GROUP_LINE_MAX])
{
	const struct cap_flag *f = g->first;
	char program[4 * CAPTURE_TEXT_MAX + 32], user[4 * ACCOUNT_NAME_MAX + 32], name[64];
	char safe_name[4 * 64], first[WHEN_MAX], last[WHEN_MAX], after[64] = "";
	char *host = render_string(set->many_hosts ? peers_host_name(peers, f->use->host) : "");

	cap_group_program(g, program, sizeof(program));
	user_label(set, peers, f->use->host, f->use->uid, user, sizeof(user));
	cap_name_of(set, f->use->cap, name, sizeof(name));
	safe_name[render_text(name, strlen(name), safe_name)] = '\0';
	format_clock(g->first_ns, local, first);
	format_clock(g->last_ns, local, last);
	/* "from 04:25:50.389", or "from 04:25:50.389 to 04:26:01.563" when the group spans more */
	if (!strcmp(first, last))
		last[0] = '\0';
	if (f->kind == FLAG_NEW && g->processes == 1)
		snprintf(after, sizeof(after), ", %.1f s after its first check",
			 (double)f->after_ns / NS_PER_S);
	snprintf(out, CAP_GROUP_LINE_MAX,
		 "%s%s%s (%s) %s: %lld check%s, %lld denied, from %s%s%s%s%s", host,
		 set->many_hosts ? ":" : "", program, user, safe_name, (long long)g->checks,
		 g->checks == 1 ? "" : "s", (long long)g->denied, first, last[0] ? " to " : "",
		 last, after, g->userns ? ", in a user namespace" : "");
	free(host);
}

void cap_refusals_text(const struct cap_analysis *a, char *out, size_t size)
{
	int n = 0;

	out[0] = '\0';
	if (a->capping)
		n = snprintf(out, size, "; %lld refused that denied nothing",
			     (long long)a->capping);
	if (a->unsure && n >= 0 && (size_t)n < size)
		snprintf(out + n, size - (size_t)n,
			 "; %lld refused CAP_SETPCAP, denial unknown (no requester recorded)",
			 (long long)a->unsure);
}

void cap_analysis_free(struct cap_analysis *a)
{
	free(a->uses);
	free(a->flags);
	*a = (struct cap_analysis){0};
}
