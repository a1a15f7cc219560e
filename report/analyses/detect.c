/*
 * What the detections share: thresholds and their options, findings, the
 * candidates a first pass hands to the second, and samples.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "output.h"
#include "util.h"

/* Ports of password-taking services (docs/detection.md, Brute force). */
static const uint16_t login_ports[] = {21,   22,   23,	 25,   110,  139, 143,	389,
				       445,  465,  587,	 636,  993,  995, 1433, 1521,
				       3306, 3389, 5432, 5900, 5985, 5986};
static const char *const login_daemons[] = {"sshd", "sshd-session", "dropbear"};

#define MAX_WINDOW_S 86400
#define MAX_COUNT    1000000000

static void set_port(struct thresholds *t, int64_t port)
{
	t->login_ports[port / 8] |= (uint8_t)(1u << (port % 8));
}

static void add_daemon(struct thresholds *t, const char *comm, size_t len)
{
	t->daemons = xrealloc(t->daemons, (size_t)(t->ndaemons + 1) * sizeof(*t->daemons));
	t->daemon_lens =
		xrealloc(t->daemon_lens, (size_t)(t->ndaemons + 1) * sizeof(*t->daemon_lens));
	t->daemons[t->ndaemons] = memcpy(xmalloc(len + 1), comm, len);
	t->daemons[t->ndaemons][len] = '\0';
	t->daemon_lens[t->ndaemons++] = len;
}

void thresholds_ready(struct thresholds *t)
{
	if (t->ready)
		return;
	*t = (struct thresholds){
		.ready = true,
		.scan_window_ns = 300 * NS_PER_S,
		.ports = 15,
		.low_window_ns = 60 * NS_PER_S,
		.low_ports = 5,
		.targets = 5,
		.destinations = 15,
		.failed_share = 0.5,
		.bruteforce_window_ns = 120 * NS_PER_S,
		.connections = 10,
		.failures_window_ns = 600 * NS_PER_S,
		.failures = 5,
	};
	for (size_t i = 0; i < ARRAY_SIZE(login_ports); i++)
		set_port(t, login_ports[i]);
	for (size_t i = 0; i < ARRAY_SIZE(login_daemons); i++)
		add_daemon(t, login_daemons[i], strlen(login_daemons[i]));
}

static void clear_daemons(struct thresholds *t)
{
	for (int i = 0; i < t->ndaemons; i++)
		free(t->daemons[i]);
	free(t->daemons);
	free(t->daemon_lens);
	t->daemons = NULL;
	t->daemon_lens = NULL;
	t->ndaemons = 0;
}

void thresholds_free(struct thresholds *t)
{
	clear_daemons(t);
}

bool is_login_port(const struct thresholds *t, int64_t port)
{
	return port >= 0 && port < 65536 && t->login_ports[port / 8] >> (port % 8) & 1;
}

bool is_login_daemon(const struct thresholds *t, const char *comm, size_t len)
{
	for (int i = 0; i < t->ndaemons; i++)
		if (t->daemon_lens[i] == len && !memcmp(t->daemons[i], comm, len))
			return true;
	return false;
}

static int parse_count(const char *command, const char *name, const char *arg, int64_t min,
		       int64_t max, int64_t *value)
{
	if (parse_integer(arg, min, max, value))
		return option_error(command, "%s wants a number from %lld to %lld, not '%s'", name,
				    (long long)min, (long long)max, arg);
	return 0;
}

static int parse_window(const char *command, const char *name, const char *arg, int64_t *ns)
{
	int64_t seconds;

	if (parse_count(command, name, arg, 1, MAX_WINDOW_S, &seconds))
		return -1;
	*ns = seconds * NS_PER_S;
	return 0;
}

static int parse_share(const char *command, const char *arg, double *share)
{
	int saved_errno = errno;
	char *end;

	errno = 0;
	*share = strtod(arg, &end);
	if (end == arg || *end || errno || !(*share > 0 && *share <= 1)) {
		errno = saved_errno;
		return option_error(command,
				    "--failed-share wants a fraction above 0, up to 1 "
				    "(0.5 for half), not '%s'",
				    arg);
	}
	errno = saved_errno;
	return 0;
}

/* "22,2222": replaces the login ports. */
static int parse_services(const char *command, const char *arg, struct thresholds *t)
{
	char *list = xstrdup(arg), *item, *rest = list;
	int err = 0;

	memset(t->login_ports, 0, sizeof(t->login_ports));
	while (!err && (item = strsep(&rest, ","))) {
		int64_t port;

		if (parse_integer(item, 1, 65535, &port))
			err = option_error(command,
					   "--service wants ports from 1 to 65535, not '%s'", arg);
		else
			set_port(t, port);
	}
	free(list);
	return err;
}

/* "sshd,dropbear": replaces the login daemons; names as --comm takes them. */
static int parse_daemons(const char *command, const char *arg, struct thresholds *t)
{
	char *list = xstrdup(arg), *item, *rest = list, *name = xmalloc(strlen(arg) + 1);
	int err = 0;

	clear_daemons(t);
	while (!err && (item = strsep(&rest, ","))) {
		size_t len;

		if (!*item || unrender_text(item, name, &len))
			err = option_error(command,
					   "--daemon wants process names (\\xHH for a byte, "
					   "\\\\ for \\), not '%s'",
					   arg);
		else
			add_daemon(t, name, len);
	}
	free(name);
	free(list);
	return err;
}

int threshold_option(const char *command, int option, const char *arg, struct thresholds *t)
{
	thresholds_ready(t);
	switch (option) {
	case OPT_SCAN_WINDOW:
		return parse_window(command, "the scan window", arg, &t->scan_window_ns);
	case OPT_PORTS:
		return parse_count(command, "--ports", arg, 1, 65536, &t->ports);
	case OPT_LOW_PORTS:
		return parse_count(command, "--low-ports", arg, 0, 65536, &t->low_ports);
	case OPT_TARGETS:
		return parse_count(command, "--targets", arg, 1, MAX_COUNT, &t->targets);
	case OPT_DESTINATIONS:
		return parse_count(command, "--destinations", arg, 1, MAX_COUNT, &t->destinations);
	case OPT_FAILED_SHARE:
		return parse_share(command, arg, &t->failed_share);
	case OPT_BRUTEFORCE_WINDOW:
		return parse_window(command, "the brute-force window", arg,
				    &t->bruteforce_window_ns);
	case OPT_CONNECTIONS:
		return parse_count(command, "--connections", arg, 1, MAX_COUNT, &t->connections);
	case OPT_FAILURES:
		return parse_count(command, "--failures", arg, 1, MAX_COUNT, &t->failures);
	case OPT_FAILURES_WINDOW:
		return parse_window(command, "the failed logins' window", arg,
				    &t->failures_window_ns);
	case OPT_SERVICE:
		return parse_services(command, arg, t);
	case OPT_DAEMON:
		return parse_daemons(command, arg, t);
	default:
		return 1;
	}
}

static const char *plural(int64_t n)
{
	return n == 1 ? "" : "s";
}

void describe_rule(const struct thresholds *t, enum finding_kind kind, char *buf, size_t size)
{
	long long window = (long long)(t->scan_window_ns / NS_PER_S);

	switch (kind) {
	case FINDING_PORTSCAN:
		snprintf(buf, size, "%lld port%s of an address within %lld s", (long long)t->ports,
			 plural(t->ports), window);
		break;
	case FINDING_SWEEP:
		snprintf(buf, size, "%lld address%s within %lld s", (long long)t->targets,
			 t->targets == 1 ? "" : "es", window);
		break;
	case FINDING_OUTBOUND:
		snprintf(buf, size, "%lld failed destination%s within %lld s, %g%% of connects",
			 (long long)t->destinations, plural(t->destinations), window,
			 t->failed_share * 100);
		break;
	case FINDING_BRUTEFORCE:
		snprintf(buf, size,
			 "%lld failed login%s to a login service within %lld s (%lld connection%s "
			 "within %lld s where logins cannot be told)",
			 (long long)t->failures, plural(t->failures),
			 (long long)(t->failures_window_ns / NS_PER_S), (long long)t->connections,
			 plural(t->connections), (long long)(t->bruteforce_window_ns / NS_PER_S));
		break;
	case FINDING_GUESSED:
		snprintf(buf, size, "a login let in after %lld failed within %lld s",
			 (long long)t->failures, (long long)(t->failures_window_ns / NS_PER_S));
		break;
	case FINDING_NETSHELL:
		snprintf(buf, size, "a shell reading commands from a TCP connection");
		break;
	case FINDING_BINDSHELL:
		snprintf(buf, size, "a listener starting a shell for a connection it accepted");
		break;
	}
}

void describe_low_rule(const struct thresholds *t, char *buf, size_t size)
{
	if (!t->low_ports || t->low_ports >= t->ports)
		snprintf(buf, size, "off");
	else
		snprintf(buf, size, "%lld port%s of an address within %lld s",
			 (long long)t->low_ports, plural(t->low_ports),
			 (long long)(t->low_window_ns / NS_PER_S));
}

const char *finding_kind_name(enum finding_kind kind)
{
	static const char *const names[] = {
		[FINDING_PORTSCAN] = "portscan",   [FINDING_SWEEP] = "sweep",
		[FINDING_OUTBOUND] = "outbound",   [FINDING_BRUTEFORCE] = "bruteforce",
		[FINDING_GUESSED] = "guessed",	   [FINDING_NETSHELL] = "netshell",
		[FINDING_BINDSHELL] = "bindshell",
	};

	return names[kind];
}

/* --- Findings ------------------------------------------------------------------ */

struct finding *findings_add(struct findings *findings, const struct peers *peers)
{
	if (findings->count == findings->allocated) {
		findings->allocated = findings->allocated ? 2 * findings->allocated : 16;
		findings->list =
			xrealloc(findings->list, findings->allocated * sizeof(*findings->list));
	}
	memset(&findings->list[findings->count], 0, sizeof(*findings->list));
	findings->list[findings->count].peers = peers;
	return &findings->list[findings->count++];
}

void findings_move(struct findings *findings, struct findings *more)
{
	for (size_t i = 0; i < more->count; i++)
		*findings_add(findings, NULL) = more->list[i];
	free(more->list);
	*more = (struct findings){0};
}

void findings_free(struct findings *findings)
{
	for (size_t i = 0; i < findings->count; i++) {
		struct finding *f = &findings->list[i];

		free(f->process);
		free(f->sample_ports);
		free(f->sample_addresses);
		free(f->open_ports);
		free(f->evidence);
		free(f->parents);
		free(f->ran);
		free(f->relay);
	}
	free(findings->list);
	*findings = (struct findings){0};
}

/* Addresses of two findings (each numbered by its own peers) by text; 0 sorts first. */
static int compare_addresses(const struct finding *a, uint32_t x, const struct finding *b,
			     uint32_t y)
{
	if (!x || !y)
		return (x > 0) - (y > 0);
	return strcmp(peer_text(a->peers, x), peer_text(b->peers, y));
}

static int by_kind_then_time(const void *x, const void *y)
{
	const struct finding *a = x, *b = y;
	int order;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->first_ns != b->first_ns)
		return a->first_ns < b->first_ns ? -1 : 1;
	if ((order = compare_addresses(a, a->remote, b, b->remote)) ||
	    (order = compare_addresses(a, a->local, b, b->local)))
		return order;
	if (a->host != b->host)
		return a->host < b->host ? -1 : 1;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return (a->ports > b->ports) - (a->ports < b->ports);
}

void findings_sort(struct findings *findings)
{
	if (findings->count)
		qsort(findings->list, findings->count, sizeof(*findings->list), by_kind_then_time);
}

int64_t finding_rate(const struct finding *f)
{
	int64_t span = f->last_ns - f->first_ns;

	if (span <= 0)
		return -1;
	return (int64_t)((double)f->events * 1e12 / (double)span + 0.5);
}

const char *finding_confidence(const struct finding *f)
{
	return f->low_confidence ? "low" : "high";
}

void burst_add(struct burst *b, int64_t t)
{
	int64_t *slot = &b->t[b->events % BURST_EVENTS];

	if (!b->events)
		b->shortest_ns = -1;
	/* The next slot holds the event BURST_EVENTS - 1 before this one, once there is one. */
	if (b->events >= BURST_EVENTS - 1) {
		int64_t span = t - b->t[(b->events + 1) % BURST_EVENTS];

		if (b->shortest_ns < 0 || span < b->shortest_ns)
			b->shortest_ns = span;
	}
	*slot = t;
	b->events++;
}

int64_t burst_rate(const struct burst *b)
{
	int64_t n = b->events < BURST_EVENTS ? b->events : BURST_EVENTS;
	int64_t span = b->events < BURST_EVENTS ? b->t[(b->events - 1) % BURST_EVENTS] - b->t[0]
						: b->shortest_ns;

	if (!b->events || span <= 0)
		return -1;
	return (int64_t)((double)n * 1e12 / (double)span + 0.5);
}

void finding_actor(const struct finding *f, char *buf, size_t size)
{
	const struct peers *peers = f->peers;

	if (f->kind == FINDING_OUTBOUND || f->kind >= FINDING_NETSHELL)
		snprintf(buf, size, "%s/%lld", f->process, (long long)f->pid);
	else
		snprintf(buf, size, "%s", peer_text(peers, f->remote));
}

void finding_target(const struct finding *f, char *buf, size_t size)
{
	const struct peers *peers = f->peers;
	const char *address = f->sample_addresses ? f->sample_addresses : "";

	switch (f->kind) {
	case FINDING_PORTSCAN:
		snprintf(buf, size, "%s", peer_text(peers, f->local));
		break;
	case FINDING_SWEEP:
		snprintf(buf, size, "%lld addresses on %lld host%s", (long long)f->targets,
			 (long long)f->hosts, f->hosts == 1 ? "" : "s");
		break;
	case FINDING_OUTBOUND:
		if (f->hosts == 1)
			snprintf(buf, size, "%s", address);
		else
			snprintf(buf, size, "%lld hosts", (long long)f->hosts);
		break;
	case FINDING_BRUTEFORCE:
	case FINDING_GUESSED:
		snprintf(buf, size,
			 strchr(address, ':') && !strchr(address, ',') ? "[%s]:%lld" : "%s:%lld",
			 address, (long long)f->ports);
		break;
	case FINDING_NETSHELL:
		address = peer_text(peers, f->remote);
		snprintf(buf, size, strchr(address, ':') ? "[%s]:%lld" : "%s:%lld", address,
			 (long long)f->rport);
		break;
	case FINDING_BINDSHELL:
		address = peer_text(peers, f->remote);
		snprintf(buf, size,
			 strchr(address, ':') ? "port %lld, first from [%s]:%lld"
					      : "port %lld, first from %s:%lld",
			 (long long)f->ports, address, (long long)f->rport);
		break;
	}
}

void finding_evidence(const struct finding *f, char *buf, size_t size)
{
	switch (f->kind) {
	case FINDING_PORTSCAN:
		/* A SYN to an open port is answered from a request socket no hook sees. */
		snprintf(buf, size, "%lld accepted; open: %s", (long long)f->accepts,
			 *f->open_ports ? f->open_ports
					: "none seen (a SYN scan's open ports leave no trace at "
					  "the target)");
		break;
	case FINDING_SWEEP:
		snprintf(buf, size, "%lld accepted; %s", (long long)f->accepts,
			 f->sample_addresses);
		break;
	case FINDING_OUTBOUND:
		snprintf(buf, size,
			 "%lld of %lld failed (%lld refused, %lld timed out), %lld destinations",
			 (long long)f->failed, (long long)f->events, (long long)f->refused,
			 (long long)f->timeouts, (long long)f->destinations);
		break;
	case FINDING_BRUTEFORCE:
		if (f->logins)
			snprintf(buf, size, "%lld failed, %lld let in; %s", (long long)f->failed,
				 (long long)f->succeeded, f->process);
		else
			snprintf(buf, size, "%s", f->process);
		break;
	case FINDING_GUESSED:
		snprintf(buf, size, "let in after %lld failed logins; session %lld",
			 (long long)f->failed, (long long)f->session_pid);
		break;
	case FINDING_NETSHELL:
		snprintf(buf, size, "%s%sparents %s; ran %lld program%s%s%s",
			 f->relay ? f->relay : "", f->relay ? "; " : "", f->parents,
			 (long long)f->execs, plural(f->execs), f->execs ? ": " : "",
			 f->ran ? f->ran : "");
		break;
	case FINDING_BINDSHELL:
		snprintf(buf, size, "%lld shell%s for %lld accepted connection%s; first ran %s",
			 (long long)f->events, plural(f->events), (long long)f->accepts,
			 plural(f->accepts), f->ran ? f->ran : "-");
		break;
	}
}

/* --- Candidates ---------------------------------------------------------------- */

void candidates_add(struct candidates *c, const uint64_t key[2], int64_t first_ns, int64_t last_ns)
{
	uint64_t *newest = hashmap_put(&c->groups, key[0], key[1], NULL);

	if (c->count == c->allocated) {
		c->allocated = c->allocated ? 2 * c->allocated : 16;
		c->ranges = xrealloc(c->ranges, c->allocated * sizeof(*c->ranges));
	}
	c->ranges[c->count] = (struct candidate_range){first_ns, last_ns, (size_t)*newest};
	*newest = ++c->count;
	if (c->count == 1 || first_ns < c->first_ns)
		c->first_ns = first_ns;
	if (c->count == 1 || last_ns > c->last_ns)
		c->last_ns = last_ns;
}

bool candidates_hold(const struct candidates *c, const uint64_t key[2], int64_t t)
{
	const uint64_t *newest = hashmap_find(&c->groups, key[0], key[1]);

	for (size_t i = newest ? (size_t)*newest : 0; i; i = c->ranges[i - 1].previous)
		if (t >= c->ranges[i - 1].first_ns && t <= c->ranges[i - 1].last_ns)
			return true;
	return false;
}

void candidates_clear(struct candidates *c)
{
	hashmap_clear(&c->groups);
	free(c->ranges);
	*c = (struct candidates){0};
}

/* Ids up to this many a capture take a bit each: 2 MiB at most. */
#define ADDRESS_BITS (1u << 24)

/* cap's ids, at its place (a search among a fleet's captures cost every event), or NULL. */
static struct address_bits *address_bits_of(struct address_ids *set, const struct capture *cap)
{
	if (cap->place < 0 || cap->place >= set->count || set->of[cap->place].cap != cap)
		return NULL;
	return &set->of[cap->place];
}

int address_ids_add(struct address_ids *set, struct peers *peers, struct capture *cap,
		    const uint32_t *list, size_t count)
{
	size_t n;
	int64_t *ids = peers_ids(peers, cap, list, count, &n);
	struct address_bits *b;

	if (!ids)
		return -1;
	if (!(b = address_bits_of(set, cap))) {
		assert(cap->place >= 0);
		if (cap->place >= set->count) {
			set->of = xrealloc(set->of, (size_t)(cap->place + 1) * sizeof(*set->of));
			memset(set->of + set->count, 0,
			       (size_t)(cap->place + 1 - set->count) * sizeof(*set->of));
			set->count = cap->place + 1;
		}
		b = &set->of[cap->place];
		if (b->cap) /* another set's capture of that place: one set's only */
			abort();
		b->cap = cap;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t id = (uint64_t)ids[i];
		size_t word = (size_t)(id / 64);

		if (id >= ADDRESS_BITS) { /* negative ones too */
			hashmap_put(&set->other, (uintptr_t)cap, id, NULL);
			continue;
		}
		if (word >= b->words) {
			size_t words = word + 1;

			b->bits = xrealloc(b->bits, words * sizeof(*b->bits));
			memset(b->bits + b->words, 0, (words - b->words) * sizeof(*b->bits));
			b->words = words;
		}
		b->bits[word] |= 1ULL << (id % 64);
	}
	free(ids);
	return 0;
}

bool address_ids_hold(struct address_ids *set, const struct capture *cap, int64_t id)
{
	const struct address_bits *b = address_bits_of(set, cap);
	uint64_t word = (uint64_t)id / 64;

	if ((uint64_t)id >= ADDRESS_BITS)
		return hashmap_find(&set->other, (uintptr_t)cap, (uint64_t)id) != NULL;
	return b && word < b->words && b->bits[word] >> ((uint64_t)id % 64) & 1;
}

/* Whether any id of cap went to the hash set. */
static bool beyond_bits(const struct address_ids *set, const struct capture *cap)
{
	const struct hashmap_entry *e;
	size_t cursor = 0;

	while ((e = hashmap_next(&set->other, &cursor)))
		if (e->a == (uintptr_t)cap)
			return true;
	return false;
}

uint8_t *address_ids_map(struct address_ids *set, const struct capture *cap, size_t *size)
{
	const struct address_bits *b = address_bits_of(set, cap);
	size_t ids = b ? b->words * 64 : 0;
	uint8_t *map;

	if (beyond_bits(set, cap))
		return NULL;
	/* A byte past them: an empty map would be no map (every row). */
	map = xcalloc(ids + 1, 1);
	for (size_t id = 0; id < ids; id++)
		map[id] = b->bits[id / 64] >> (id % 64) & 1;
	*size = ids + 1;
	return map;
}

void address_ids_clear(struct address_ids *set)
{
	for (int i = 0; i < set->count; i++)
		free(set->of[i].bits);
	free(set->of);
	hashmap_clear(&set->other);
	*set = (struct address_ids){0};
}

struct options narrowed(const struct options *opts, int64_t first_ns, int64_t last_ns)
{
	struct options narrow = *opts;

	if (first_ns > narrow.since_ns)
		narrow.since_ns = first_ns;
	if (last_ns < narrow.until_ns)
		narrow.until_ns = last_ns;
	return narrow;
}

/* --- Samples ------------------------------------------------------------------- */

static int by_number(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return (a > b) - (a < b);
}

static int by_text(const void *x, const void *y, void *peers)
{
	return peer_compare(peers, (uint32_t) * (const uint64_t *)x,
			    (uint32_t) * (const uint64_t *)y);
}

/* keys[0..n-1] joined with commas (addresses by their text when peers are given). */
static char *join(const uint64_t *keys, size_t n, const struct peers *peers)
{
	char *text = NULL;
	size_t size;
	FILE *f = open_memstream(&text, &size);

	if (!f) {
		fprintf(stderr, "report: out of memory\n");
		exit(70);
	}
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		if (peers)
			fputs(peer_text(peers, (uint32_t)keys[i]), f);
		else
			fprintf(f, "%llu", (unsigned long long)keys[i]);
	}
	fclose(f);
	return text;
}

/* The set's keys, sorted, joined with commas: the first limit of them. */
static char *join_lowest(const struct hashmap *set, int limit, const struct peers *peers)
{
	uint64_t *keys = xcalloc(set->count, sizeof(*keys));
	const struct hashmap_entry *entry;
	size_t cursor = 0, n = 0;
	char *text;

	while ((entry = hashmap_next(set, &cursor)))
		keys[n++] = entry->a;
	if (!peers) {
		text = lowest_of(keys, n, limit);
		free(keys);
		return text;
	}
	qsort_r(keys, n, sizeof(*keys), by_text, (void *)peers);
	text = join(keys, n < (size_t)limit ? n : (size_t)limit, peers);
	free(keys);
	return text;
}

/*
 * The lowest limit moved to the front, in order, by insertion when they
 * are few: a port scan's hundreds of ports sorted whole for a sample of 10
 * were a twentieth of scans over 100M generated events (40,000 findings).
 */
char *lowest_of(uint64_t *numbers, size_t n, int limit)
{
	size_t kept = 0, max = (size_t)limit;

	if (max >= n || max > SAMPLE_SIZE) {
		qsort(numbers, n, sizeof(*numbers), by_number);
		return join(numbers, n < max ? n : max, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t x = numbers[i];
		size_t at;

		if (kept == max && (!kept || x >= numbers[kept - 1]))
			continue;
		at = kept < max ? kept++ : kept - 1;
		for (; at > 0 && numbers[at - 1] > x; at--)
			numbers[at] = numbers[at - 1];
		numbers[at] = x;
	}
	return join(numbers, kept, NULL);
}

char *lowest_numbers(const struct hashmap *set, int limit)
{
	return join_lowest(set, limit, NULL);
}

char *lowest_addresses(const struct hashmap *set, const struct peers *peers, int limit)
{
	return join_lowest(set, limit, peers);
}
