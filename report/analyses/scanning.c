/*
 * Scan detection (docs/detection.md): inbound port scans and sweeps, from the
 * resets probes make the kernel send, and outbound scanning, from a process's
 * failing connects.  Each in two passes (detect.h), but for port scans: the
 * first pass gathers their figures too, and the second reads the probes
 * again only when the first cannot tell them (our own connections among
 * the probes of a candidate, a scanner's answers, sweeps).  When every
 * remote host is a suspect (100M generated events), reading the probes
 * again cost as much as the first pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bloom.h"
#include "pages.h"
#include "detect.h"
#include "episodes.h"
#include "filter.h"
#include "replay.h"
#include "util.h"

/*
 * A probe: a RST sent with no socket (a closed port; kernels before 6.10 give
 * no reason), or by a listening socket (a segment without SYN reaching an open
 * port), between two addresses.  Told by is_probe() as the rows stream, not
 * by SQL: with no condition the resets are read from their pages (pages.c),
 * and SQLite's stepping of them was most of the inbound scans' reading.
 */
enum { PROBE_LADDR, PROBE_LPORT, PROBE_RADDR, PROBE_RPORT, PROBE_STATE, PROBE_REASON };

/* A connect whose outcome is known: in flight when the capture stopped says nothing. */
#define ATTEMPT_CONDITION "e.outcome_state IS NOT NULL"
#define PROCESS_CONDITION                                                                          \
	" AND e.task IN (SELECT id FROM task WHERE pid IN (SELECT value FROM json_each(:pids)))"
enum { ATTEMPT_TASK, ATTEMPT_DADDR, ATTEMPT_DPORT, ATTEMPT_STATE, ATTEMPT_ERROR };

/* An outcome, as the capture stores it: the state left to, Linux's errno. */
#define ESTABLISHED	1
#define ERROR_REFUSED	111 /* ECONNREFUSED */
#define ERROR_TIMED_OUT 110 /* ETIMEDOUT */
#define PROCESS_NAMES	4

/*
 * The ports a port scan probed: the first few in the set itself (most
 * episodes probe a few, and the first pass gathers for every episode), then
 * 4 bytes a slot (a port + 1; 0 empty) at most half full, then beyond
 * 1024 ports a bit each (8 KiB, as many bytes as the slots before it: the
 * most a set takes, however long its episode), and a hash map for a number
 * no port has (a corrupt capture's).  A hash map's 32 bytes a slot were most
 * of the memory over 100M generated events: 20,000 scanners probing
 * hundreds of ports each, for the whole hour (1.3 GB).
 */
#define PORTS_INLINE 6
#define PORTS_WORDS  (65536 / 32) /* a bitmap of every port */

struct port_set {
	uint32_t *slots; /* NULL: the ports are in inline_ */
	uint32_t mask;	 /* slots - 1 */
	uint32_t count;
	bool bitmap; /* slots are PORTS_WORDS words of a bit a port */
	uint16_t inline_[PORTS_INLINE];
	struct hashmap other;
};

struct portscan_data {
	struct port_set ports;
	struct hashmap open;
	struct burst burst;
};

struct sweep_data {
	struct hashmap targets, hosts, ports, addresses;
	struct burst burst;
};

struct outbound_data {
	struct hashmap hosts, failed_ports, destinations;
	struct burst burst;
	int64_t refused, timeouts;
	int names;
	struct {
		size_t len;
		char text[CAPTURE_TEXT_MAX];
	} name[PROCESS_NAMES];
};

/* A probe's keys, as probe() makes them, for fetching ahead what it will read. */
struct probe_keys {
	uint64_t where, ports, portscan[2], sweep[2], port;
};

/* The probes whose keys wait, in a ring, for the last stage of their prefetch. */
#define PROBES_AHEAD 4

/* PORTSCAN_LOW: Snort's low profile, for scans of a few ports (docs/detection.md). */
enum rule { PORTSCAN, PORTSCAN_LOW, SWEEP, OUTBOUND, RULES };

struct scanning {
	struct captures *set;
	const struct options *opts;
	const struct thresholds *t;
	struct peers *peers;
	const struct detect_tap *tap;
	struct findings *out;
	int pass; /* 1 or 2 */
	struct episodes *episodes[RULES];
	struct candidates candidates[RULES];
	size_t from;		     /* the first of the findings made here */
	struct hashmap probed_where; /* the first pass: (host, target) of every probe */
	/*
	 * The first pass's probes, as own connections would match them: the
	 * second pass keeps in own only the connections to suspects that may
	 * be one, not every connection to them (1.7 GB over 100M events).
	 */
	struct bloom probed;
	/*
	 * Their local and remote ports, a bit each: a connection whose ports
	 * no probe had is not looked up in the filter (a cache miss a connect
	 * to a suspect, and every remote host is one over 100M generated events).
	 */
	uint64_t probed_lports[65536 / 64], probed_rports[65536 / 64];
	struct probe_keys ahead[PROBES_AHEAD]; /* the probes fetched ahead (prefetch_probe_near) */
	size_t nahead;
	struct hashmap own; /* the second pass: connections this host opened that a probe matches */
	/*
	 * The second pass: (host, target), (scanner, port) -> 1 + index of when
	 * the scanner reset its SYN-ACK, in answers; and by candidate port
	 * scan, (host, target), scanner -> 1 + index of its newest answer.
	 */
	struct hashmap answered, answered_by_scan;
	struct answer {
		uint64_t ports; /* as answered's second key: scanner << 16 | port */
		int64_t wall_ns;
		size_t previous; /* 1 + index of the scan's answer before, or 0 */
	} * answers;
	size_t nanswers, answers_allocated;
	uint32_t *suspects; /* the second pass: the scanners of the candidates */
	size_t nsuspects;
	struct address_ids suspect_ids; /* their address ids (detect.h, address_ids_add) */
	struct pending *pending;	/* the second pass's findings whose accepts are to count */
	size_t npending, allocated;
	/*
	 * Sorted pending's runs by scanner, indexed by its number (dense): an
	 * accept looks up its scanner's in an array, not a hash map of every
	 * run (a cache miss an accept, when every remote host is a scanner).
	 */
	struct remote_run {
		uint32_t first, count;
	} * runs;
	uint32_t nruns;
	/*
	 * By capture, in the set's order (peers_index's): its numbers for
	 * NO_SOCKET and LISTEN, read once a stream starts (read_probe_numbers; a
	 * subquery would cost a lookup a row).
	 */
	struct probe_numbers {
		int64_t no_socket, listen; /* when has_: else no row has the name */
		bool has_no_socket, has_listen;
	} * numbers;
};

/*
 * A port scan or sweep found, waiting for its scanner's accepts: every one is
 * counted in a single replay of the accepts after the second pass (a query
 * per finding would read the accepts once per finding).  Its accepts and
 * their first ports are counted here, in the line the search for it read:
 * the finding and the open ports' map were each a cache miss an accept,
 * when every remote host is a scanner.
 */
#define ACCEPTED_INLINE 4

struct pending {
	uint32_t remote; /* the scanner */
	int host;	 /* the target's host (port scan), or -1 (any, a sweep) */
	uint32_t local;	 /* the target address (port scan), or 0 */
	bool low;	 /* of the low confidence rule */
	uint8_t naccepted;
	uint16_t accepted[ACCEPTED_INLINE]; /* ports accepted, not yet in open */
	int64_t first_ns, last_ns;
	int64_t accepts;
	size_t finding;	     /* its index in the findings */
	struct hashmap open; /* the open ports so far (port scan) */
};

static uint64_t pair(uint64_t high, uint64_t low)
{
	return high << 32 | (low & 0xffffffff);
}

#define PORTS_INITIAL 16

static const uint32_t *port_slot_home(const uint32_t *slots, uint32_t mask, uint32_t key)
{
	return &slots[(key * 0x9e3779b1u) >> 16 & mask];
}

static uint32_t *port_slot(uint32_t *slots, uint32_t mask, uint32_t key)
{
	uint32_t i = (uint32_t)(port_slot_home(slots, mask, key) - slots);

	while (slots[i] && slots[i] != key)
		i = (i + 1) & mask;
	return &slots[i];
}

/* Call f for each port of the set's slots or inline ones (not other). */
static void port_set_each(const struct port_set *set, void (*f)(uint32_t port, void *ctx),
			  void *ctx)
{
	if (!set->slots) {
		for (uint32_t i = 0; i < set->count; i++)
			f(set->inline_[i], ctx);
	} else if (set->bitmap) {
		for (uint32_t port = 0; port < 65536; port++)
			if (set->slots[port / 32] >> (port % 32) & 1)
				f(port, ctx);
	} else {
		for (uint32_t i = 0; i <= set->mask; i++)
			if (set->slots[i])
				f(set->slots[i] - 1, ctx);
	}
}

static void put_slot(uint32_t port, void *ctx)
{
	struct port_set *set = ctx;

	if (set->bitmap)
		set->slots[port / 32] |= 1u << (port % 32);
	else
		*port_slot(set->slots, set->mask, port + 1) = port + 1;
}

/* Move the ports to this many slots, or to a bitmap beyond its size. */
static void port_set_grow(struct port_set *set, uint32_t slots)
{
	struct port_set old = *set;

	set->bitmap = slots > PORTS_WORDS;
	set->mask = set->bitmap ? 0 : slots - 1;
	set->slots = xcalloc(set->bitmap ? PORTS_WORDS : slots, sizeof(*set->slots));
	port_set_each(&old, put_slot, set);
	free(old.slots);
}

static void port_set_put(struct port_set *set, uint64_t port)
{
	uint32_t *slot;

	if (port > 0xffff) {
		hashmap_put(&set->other, port, 0, NULL);
		return;
	}
	if (!set->slots) {
		for (uint32_t i = 0; i < set->count; i++)
			if (set->inline_[i] == port)
				return;
		if (set->count < PORTS_INLINE) {
			set->inline_[set->count++] = (uint16_t)port;
			return;
		}
		port_set_grow(set, PORTS_INITIAL);
	} else if (!set->bitmap && 2 * (set->count + 1) > set->mask + 1) {
		port_set_grow(set, 2 * (set->mask + 1));
	}
	if (set->bitmap) {
		slot = &set->slots[port / 32];
		set->count += !(*slot >> (port % 32) & 1);
		*slot |= 1u << (port % 32);
		return;
	}
	slot = port_slot(set->slots, set->mask, (uint32_t)port + 1);
	set->count += !*slot;
	*slot = (uint32_t)port + 1;
}

static int64_t port_set_count(const struct port_set *set)
{
	return (int64_t)set->count + (int64_t)set->other.count;
}

static void append_port(uint32_t port, void *ctx)
{
	uint64_t **end = ctx;

	*(*end)++ = port;
}

/* The lowest ports, as lowest_numbers() gives a hash map's. */
static char *port_set_lowest(const struct port_set *set, int limit)
{
	uint64_t *ports = xcalloc((size_t)port_set_count(set) + 1, sizeof(*ports)), *end = ports;
	const struct hashmap_entry *e;
	size_t cursor = 0;
	char *text;

	port_set_each(set, append_port, &end);
	while ((e = hashmap_next(&set->other, &cursor)))
		*end++ = e->a;
	text = lowest_of(ports, (size_t)(end - ports), limit);
	free(ports);
	return text;
}

static void port_set_clear(struct port_set *set)
{
	free(set->slots);
	hashmap_clear(&set->other);
	*set = (struct port_set){0};
}

static void await_evidence(struct scanning *s, const struct finding *f, struct hashmap *open);

/*
 * The open ports a raw SYN scan found, when the capture holds the scanner's
 * host: its kernel reset their SYN-ACKs (a RST with no socket, from the
 * scanner to the target's port), within a window of the episode.
 */
static void add_answered(const struct scanning *s, const struct episode *ep, struct hashmap *open)
{
	const uint64_t *newest = hashmap_find(&s->answered_by_scan, ep->key[0], ep->key[1]);

	for (size_t i = newest ? (size_t)*newest : 0; i; i = s->answers[i - 1].previous) {
		const struct answer *answer = &s->answers[i - 1];

		if (answer->wall_ns >= ep->first_ns - s->t->scan_window_ns &&
		    answer->wall_ns <= ep->last_ns + s->t->scan_window_ns)
			hashmap_put(open, answer->ports & 0xffff, 0, NULL);
	}
}

/*
 * A suspect's reset of a SYN-ACK from (host, target): kept, the newest of
 * each port, if a candidate port scan of target by it may need it.
 */
static void note_answer(struct scanning *s, uint64_t where, uint32_t target, uint64_t port,
			int64_t wall_ns)
{
	uint64_t ports = (uint64_t)target << 16 | port, *index, *newest;
	bool added;

	if (!hashmap_find(&s->candidates[PORTSCAN].groups, where, target) &&
	    !hashmap_find(&s->candidates[PORTSCAN_LOW].groups, where, target))
		return;
	index = hashmap_put(&s->answered, where, ports, &added);
	if (!added) {
		s->answers[*index - 1].wall_ns = wall_ns;
		return;
	}
	if (s->nanswers == s->answers_allocated) {
		s->answers_allocated = s->answers_allocated ? 2 * s->answers_allocated : 64;
		s->answers = xrealloc(s->answers, s->answers_allocated * sizeof(*s->answers));
	}
	newest = hashmap_put(&s->answered_by_scan, where, target, NULL);
	s->answers[s->nanswers] = (struct answer){ports, wall_ns, (size_t)*newest};
	*index = *newest = ++s->nanswers;
}

/* --- The rules' thresholds, and what each turns into a finding ------------------ */

static bool crossed(const struct scanning *s, enum rule rule, const struct episode *ep)
{
	switch (rule) {
	case PORTSCAN:
		return ep->peak >= s->t->ports;
	case PORTSCAN_LOW:
		return s->t->low_ports && ep->peak >= s->t->low_ports;
	case SWEEP:
		return ep->peak >= s->t->targets;
	default:
		return ep->peak >= s->t->destinations &&
		       (double)ep->counted >= s->t->failed_share * (double)ep->events;
	}
}

static struct finding *new_finding(struct scanning *s, enum finding_kind kind,
				   const struct episode *ep)
{
	struct finding *f = findings_add(s->out, s->peers);

	f->kind = kind;
	f->first_ns = ep->first_ns;
	f->last_ns = ep->last_ns;
	f->events = ep->events;
	return f;
}

/* The open ports it reached: answered by their listener, or accepted. */
static int portscan_found(struct scanning *s, const struct episode *ep, bool low)
{
	struct portscan_data *d = ep->data;
	struct finding *f = new_finding(s, FINDING_PORTSCAN, ep);

	f->low_confidence = low;
	f->peak_rate = burst_rate(&d->burst);
	add_answered(s, ep, &d->open);
	f->host = (int)(ep->key[0] >> 32);
	f->local = (uint32_t)ep->key[0];
	f->remote = (uint32_t)ep->key[1];
	f->ports = port_set_count(&d->ports);
	f->sample_ports = port_set_lowest(&d->ports, SAMPLE_SIZE);
	await_evidence(s, f, &d->open);
	return 0;
}

static int sweep_found(struct scanning *s, const struct episode *ep)
{
	struct sweep_data *d = ep->data;
	struct finding *f = new_finding(s, FINDING_SWEEP, ep);

	f->host = -1;
	f->peak_rate = burst_rate(&d->burst);
	f->remote = (uint32_t)ep->key[0];
	f->targets = (int64_t)d->targets.count;
	f->hosts = (int64_t)d->hosts.count;
	f->ports = (int64_t)d->ports.count;
	f->sample_ports = lowest_numbers(&d->ports, SAMPLE_SIZE);
	f->sample_addresses = lowest_addresses(&d->addresses, s->peers, SAMPLE_SIZE);
	await_evidence(s, f, NULL);
	return 0;
}

static char *process_names(const struct outbound_data *d)
{
	size_t len = 0;
	char *text = xmalloc(PROCESS_NAMES * (CAPTURE_TEXT_MAX + 1) + 1);

	for (int i = 0; i < d->names; i++) {
		if (i)
			text[len++] = ',';
		memcpy(text + len, d->name[i].text, d->name[i].len);
		len += d->name[i].len;
	}
	text[len] = '\0';
	return text;
}

static int outbound_found(struct scanning *s, const struct episode *ep)
{
	struct outbound_data *d = ep->data;
	struct finding *f = new_finding(s, FINDING_OUTBOUND, ep);

	f->host = (int)ep->key[0];
	f->pid = (int64_t)ep->key[1];
	f->peak_rate = burst_rate(&d->burst);
	f->process = process_names(d);
	f->failed = ep->counted;
	f->refused = d->refused;
	f->timeouts = d->timeouts;
	f->hosts = (int64_t)d->hosts.count;
	f->ports = (int64_t)d->failed_ports.count;
	f->destinations = (int64_t)d->destinations.count;
	f->sample_ports = lowest_numbers(&d->failed_ports, SAMPLE_SIZE);
	f->sample_addresses = lowest_addresses(&d->hosts, s->peers, SAMPLE_SIZE);
	return 0;
}

static int closed(struct scanning *s, enum rule rule, struct episode *ep)
{
	if (!crossed(s, rule, ep))
		return 0;
	if (s->pass == 1)
		candidates_add(&s->candidates[rule], ep->key, ep->first_ns, ep->last_ns);
	/* Port scans are found by the first pass, unless the second must read them again. */
	if (s->pass == 1 && rule != PORTSCAN && rule != PORTSCAN_LOW)
		return 0;
	if (rule == PORTSCAN || rule == PORTSCAN_LOW)
		return portscan_found(s, ep, rule == PORTSCAN_LOW);
	if (rule == SWEEP)
		return sweep_found(s, ep);
	return outbound_found(s, ep);
}

static int portscan_closed(struct episode *ep, void *ctx)
{
	return closed(ctx, PORTSCAN, ep);
}

static int portscan_low_closed(struct episode *ep, void *ctx)
{
	return closed(ctx, PORTSCAN_LOW, ep);
}

static int sweep_closed(struct episode *ep, void *ctx)
{
	return closed(ctx, SWEEP, ep);
}

static int outbound_closed(struct episode *ep, void *ctx)
{
	return closed(ctx, OUTBOUND, ep);
}

static void release_portscan(void *data)
{
	struct portscan_data *d = data;

	port_set_clear(&d->ports);
	hashmap_clear(&d->open);
}

static void release_sweep(void *data)
{
	struct sweep_data *d = data;

	hashmap_clear(&d->targets);
	hashmap_clear(&d->hosts);
	hashmap_clear(&d->ports);
	hashmap_clear(&d->addresses);
}

static void release_outbound(void *data)
{
	struct outbound_data *d = data;

	hashmap_clear(&d->hosts);
	hashmap_clear(&d->failed_ports);
	hashmap_clear(&d->destinations);
}

static void start_pass(struct scanning *s, int pass)
{
	/* The first pass gathers only for port scans. */
	bool gather = pass == 2;
	const struct episodes_rule rules[RULES] = {
		[PORTSCAN] = {s->t->scan_window_ns, true, sizeof(struct portscan_data),
			      portscan_closed, release_portscan, s},
		[PORTSCAN_LOW] = {s->t->low_window_ns, true, sizeof(struct portscan_data),
				  portscan_low_closed, release_portscan, s},
		[SWEEP] = {s->t->scan_window_ns, true, gather ? sizeof(struct sweep_data) : 0,
			   sweep_closed, gather ? release_sweep : NULL, s},
		[OUTBOUND] = {s->t->scan_window_ns, true, gather ? sizeof(struct outbound_data) : 0,
			      outbound_closed, gather ? release_outbound : NULL, s},
	};

	s->pass = pass;
	for (int i = 0; i < RULES; i++) {
		episodes_free(s->episodes[i]);
		s->episodes[i] = episodes_new(&rules[i]);
	}
}

/* --- Inbound: probes ---------------------------------------------------------------- */

static void put(struct hashmap *set, uint64_t key)
{
	hashmap_put(set, key, 0, NULL);
}

/*
 * A late segment of a connection this host opened also meets "no socket": a
 * probe is keyed as a connection is, (host, local), (remote, ports).
 */
static uint64_t connection_ports(uint32_t remote, int64_t lport, int64_t rport)
{
	return pair(remote, (uint64_t)(lport & 0xffff) << 16 | (uint64_t)(rport & 0xffff));
}

static void set_port(uint64_t *bits, int64_t port)
{
	bits[(port & 0xffff) / 64] |= 1ULL << (port & 63);
}

static bool has_port(const uint64_t *bits, int64_t port)
{
	return bits[(port & 0xffff) / 64] >> (port & 63) & 1;
}

/* Whether a reset is a probe, as SQL would tell it (a NULL number is equal to none). */
static bool is_probe(struct scanning *s, const struct event *ev)
{
	const struct probe_numbers *n = &s->numbers[peers_index(s->peers, ev->cap)];

	if (event_null(ev, PROBE_LADDR) || event_null(ev, PROBE_RADDR))
		return false;
	if (event_null(ev, PROBE_STATE))
		return event_null(ev, PROBE_REASON) ||
		       (n->has_no_socket && ev->col[PROBE_REASON] == n->no_socket);
	return n->has_listen && ev->col[PROBE_STATE] == n->listen;
}

/*
 * The second pass: only the suspects' probes reach the rules, and the
 * suspects' own resets (a raw SYN scanner's kernel answering the SYN-ACKs of
 * the open ports it found, when the capture holds the scanner's host too).
 */
static bool of_suspect(struct scanning *s, const struct event *ev)
{
	return address_ids_hold(&s->suspect_ids, ev->cap, ev->col[PROBE_RADDR]) ||
	       address_ids_hold(&s->suspect_ids, ev->cap, ev->col[PROBE_LADDR]);
}

static int probe(const struct event *ev, void *ctx)
{
	struct scanning *s = ctx;
	int host;
	uint32_t scanner, target;
	uint64_t port = (uint64_t)ev->col[PROBE_LPORT], where, portscan_key[2], sweep_key[2], ports;
	bool held[PORTSCAN_LOW + 1]; /* the second pass: by a candidate port scan of each rule */
	struct episode *ep;

	if (!is_probe(s, ev) || (s->pass == 2 && !of_suspect(s, ev)))
		return 0;
	host = peers_host(s->peers, ev->cap);
	scanner = peer_of(s->peers, ev->cap, ev->col[PROBE_RADDR]);
	target = peer_of(s->peers, ev->cap, ev->col[PROBE_LADDR]);
	if (!scanner || !target)
		return -1;
	where = pair((uint64_t)host, target);
	portscan_key[0] = where;
	portscan_key[1] = scanner;
	sweep_key[0] = scanner;
	sweep_key[1] = 0;
	ports = connection_ports(scanner, ev->col[PROBE_LPORT], ev->col[PROBE_RPORT]);
	if (s->pass == 1) {
		bloom_add(&s->probed, where, ports);
		set_port(s->probed_lports, ev->col[PROBE_LPORT]);
		set_port(s->probed_rports, ev->col[PROBE_RPORT]);
		put(&s->probed_where, where);
		held[PORTSCAN] = held[PORTSCAN_LOW] = true;
	} else {
		if (hashmap_find(&s->own, where, ports))
			return 0;
		for (enum rule rule = PORTSCAN; rule <= PORTSCAN_LOW; rule++)
			held[rule] =
				candidates_hold(&s->candidates[rule], portscan_key, ev->wall_ns);
	}
	/* From a suspect: not its probe, maybe its answer to an open port's SYN-ACK. */
	if (s->pass == 2 && event_null(ev, PROBE_STATE) &&
	    !hashmap_find(&s->candidates[SWEEP].groups, scanner, 0) && !held[PORTSCAN] &&
	    !held[PORTSCAN_LOW]) {
		note_answer(s, pair((uint64_t)host, scanner), target,
			    (uint64_t)(ev->col[PROBE_RPORT] & 0xffff), ev->wall_ns);
		return 0;
	}
	for (enum rule rule = PORTSCAN; rule <= PORTSCAN_LOW; rule++) {
		struct portscan_data *d;

		if (!held[rule])
			continue;
		if (!(ep = episodes_add(s->episodes[rule], portscan_key, ev->wall_ns, true, port)))
			return -1;
		d = ep->data;
		port_set_put(&d->ports, port);
		burst_add(&d->burst, ev->wall_ns);
		if (!event_null(ev, PROBE_STATE))
			put(&d->open, port);
	}
	if (s->pass == 1)
		return episodes_add(s->episodes[SWEEP], sweep_key, ev->wall_ns, true, where) ? 0
											     : -1;
	if (candidates_hold(&s->candidates[SWEEP], sweep_key, ev->wall_ns)) {
		struct sweep_data *d;

		if (!(ep = episodes_add(s->episodes[SWEEP], sweep_key, ev->wall_ns, true, where)))
			return -1;
		d = ep->data;
		put(&d->targets, where);
		put(&d->hosts, (uint64_t)host);
		put(&d->ports, port);
		put(&d->addresses, target);
		burst_add(&d->burst, ev->wall_ns);
	}
	return 0;
}

/* Every scanner the first pass suspects (in the inbound rules: once or more). */
static void find_suspects(struct scanning *s)
{
	const struct hashmap_entry *e;

	s->suspects = xcalloc(s->candidates[PORTSCAN].groups.count +
				      s->candidates[PORTSCAN_LOW].groups.count +
				      s->candidates[SWEEP].groups.count,
			      sizeof(*s->suspects));
	for (enum rule rule = PORTSCAN; rule <= SWEEP; rule++) {
		size_t cursor = 0;

		/* A port scan's key is (where, scanner); a sweep's (scanner, 0). */
		while ((e = hashmap_next(&s->candidates[rule].groups, &cursor)))
			s->suspects[s->nsuspects++] = (uint32_t)(rule == SWEEP ? e->a : e->b);
	}
}

/* Bind a JSON array (to free) to a parameter: 0, or -1 after one line. */
static int bind_json(sqlite3_stmt *stmt, const char *name, char *json, const struct capture *cap)
{
	if (!json)
		return -1;
	if (sqlite3_bind_text(stmt, sqlite3_bind_parameter_index(stmt, name), json, -1, free) ==
	    SQLITE_OK)
		return 0;
	fprintf(stderr, "report: %s: cannot bind %s: %s\n", cap->name, name,
		sqlite3_errmsg(cap->db));
	return -1;
}

/* A name table's number for name, if *found: 0, or -1 after one line. */
static int name_number(struct capture *cap, const char *sql, const char *name, int64_t *number,
		       bool *found)
{
	sqlite3_stmt *lookup;
	int rc = sqlite3_prepare_v2(cap->db, sql, -1, &lookup, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(lookup, 1, name, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && (rc = sqlite3_step(lookup)) == SQLITE_ROW)
		*number = sqlite3_column_int64(lookup, 0);
	*found = rc == SQLITE_ROW;
	sqlite3_finalize(lookup);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return 0;
	fprintf(stderr, "report: %s: cannot read the name of %s: %s\n", cap->name, name,
		capture_error(cap));
	return -1;
}

/*
 * The second pass's probes and the scanners' accepts: of the suspects only
 * (of_suspect, scanner_accept), tested by the readers first (detect.h).
 */
static uint8_t *suspects_of(struct capture *cap, void *ctx, size_t *size)
{
	struct scanning *s = ctx;

	return address_ids_map(&s->suspect_ids, cap, size);
}

/*
 * The capture's numbers, as its stream of probes starts (the query's bind,
 * which binds nothing): its slot, found without peers' cache of the last
 * capture (the emitter's).
 */
static int read_probe_numbers(sqlite3_stmt *stmt, struct capture *cap, void *ctx)
{
	struct scanning *s = ctx;
	struct probe_numbers *n = s->numbers;

	(void)stmt;
	while (s->set->list[n - s->numbers] != cap)
		n++;
	if (name_number(cap, "SELECT reason FROM reset_reason WHERE name = ?", "NO_SOCKET",
			&n->no_socket, &n->has_no_socket) ||
	    name_number(cap, "SELECT state FROM tcp_state WHERE name = ?", "LISTEN", &n->listen,
			&n->has_listen))
		return -1;
	return 0;
}

/* The candidate processes of the capture's host. */
static int bind_pids(sqlite3_stmt *stmt, struct capture *cap, void *ctx)
{
	struct scanning *s = ctx;
	uint64_t host = (uint64_t)peers_host(s->peers, cap);
	const struct hashmap_entry *e;
	size_t cursor = 0, size;
	char *json = NULL;
	const char *comma = "";
	FILE *f = open_memstream(&json, &size);

	if (!f) {
		fprintf(stderr, "report: out of memory\n");
		exit(70);
	}
	fputc('[', f);
	while ((e = hashmap_next(&s->candidates[OUTBOUND].groups, &cursor))) {
		if (e->a == host) {
			fprintf(f, "%s%llu", comma, (unsigned long long)e->b);
			comma = ",";
		}
	}
	fputc(']', f);
	fclose(f);
	return bind_json(stmt, ":pids", json, cap);
}

/*
 * One of the host's connections (read_own()): kept when a probe may match
 * it.  0, or -1 after one line (an address not in the capture).
 */
static int own_connection(struct scanning *s, struct capture *cap, int host, int64_t saddr,
			  int64_t lport, int64_t daddr, int64_t dport)
{
	uint32_t local, remote;
	uint64_t where, ports;

	if (!has_port(s->probed_lports, lport) || !has_port(s->probed_rports, dport) ||
	    !address_ids_hold(&s->suspect_ids, cap, daddr))
		return 0;
	local = peer_of(s->peers, cap, saddr);
	remote = peer_of(s->peers, cap, daddr);
	if (!local || !remote)
		return -1; /* told */
	where = pair((uint64_t)host, local);
	ports = connection_ports(remote, lport, dport);
	if (bloom_may_hold(&s->probed, where, ports))
		hashmap_put(&s->own, where, ports, NULL);
	return 0;
}

/*
 * read_own() from the table's pages, in key order as SQL reads them, up
 * to the first row past to: 1 done, 0 when SQL must read them (not
 * immutable, or a cell that is not an integer, which SQL converts: the
 * connections kept so far are seen again, in the same order), -1 after
 * one line.  SQLite stepped them at some 1,200 instructions a row.
 */
static int own_from_pages(struct scanning *s, struct capture *cap, int host, int64_t to)
{
	enum { T, SADDR, LPORT, DADDR, DPORT, CELLS };
	struct pages *p = cap->immutable
				  ? pages_open(cap->db, "ev_connect",
					       "e.t, e.saddr, e.lport, e.daddr, e.dport", CELLS)
				  : NULL;
	int64_t cell[CELLS];
	uint32_t nulls, odd = 0;
	int rc = 0;

	if (!p)
		return 0;
	while (!odd && (rc = pages_next(p, cell, &nulls, &odd)) > 0) {
		/* No NULL t is at most to; a NULL lport is not chosen yet, and skipped. */
		if (odd || nulls & (1u << T | 1u << LPORT))
			continue;
		if (cell[T] > to)
			break;
		/* A NULL address or port as SQL's column_int64() gives it: 0. */
		if (own_connection(s, cap, host, cell[SADDR], cell[LPORT], cell[DADDR],
				   cell[DPORT])) {
			rc = -2; /* told */
			break;
		}
	}
	if (rc == -1)
		fprintf(stderr, "report: %s: cannot read ev_connect: %s%s\n", cap->name,
			pages_corrupt(p) ? "corrupt capture: " : "", pages_error(p));
	pages_close(p);
	return rc < 0 ? -1 : !odd;
}

/*
 * The connections each capture's host opened to a suspect (local address and
 * port, remote address and port), from the capture's start (whatever
 * --since says) to the last candidate probe: a RST with no socket on one of
 * them is a late segment of ours, not a probe.  Only those a probe of the
 * first pass may match are kept: the suspects' probes are among them.
 */
static int read_own(struct scanning *s, struct capture *cap, int64_t last_ns)
{
	static const char sql[] = "SELECT e.saddr, e.lport, e.daddr, e.dport FROM ev_connect e "
				  "WHERE e.t <= ?1 AND e.lport IS NOT NULL ORDER BY e.t, e.seq";
	int host = peers_host(s->peers, cap), rc;
	struct options until = {.since_ns = INT64_MIN, .until_ns = last_ns};
	sqlite3_stmt *stmt = NULL;
	int64_t from, to;

	filter_t_range(&until, cap, &from, &to);
	rc = own_from_pages(s, cap, host, to);
	if (rc)
		return rc > 0 ? 0 : -1;
	rc = sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, to);
	while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		rc = SQLITE_OK;
		if (own_connection(s, cap, host, sqlite3_column_int64(stmt, 0),
				   sqlite3_column_int64(stmt, 1), sqlite3_column_int64(stmt, 2),
				   sqlite3_column_int64(stmt, 3))) {
			rc = SQLITE_ABORT; /* told */
			break;
		}
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ABORT)
		fprintf(stderr, "report: %s: cannot read ev_connect: %s\n", cap->name,
			capture_error(cap));
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * A probe a few ahead, as probe() keys it (0 for an address not seen yet:
 * only fetched ahead, never used so).
 */

static void probe_keys(struct scanning *s, const struct event *ev, struct probe_keys *k)
{
	uint32_t scanner = peer_seen(s->peers, ev->cap, ev->col[PROBE_RADDR]);
	uint32_t target = peer_seen(s->peers, ev->cap, ev->col[PROBE_LADDR]);

	k->where = pair((uint64_t)peers_host(s->peers, ev->cap), target);
	k->ports = connection_ports(scanner, ev->col[PROBE_LPORT], ev->col[PROBE_RPORT]);
	k->portscan[0] = k->where;
	k->portscan[1] = scanner;
	k->sweep[0] = scanner;
	k->sweep[1] = 0;
}

/*
 * What probe() will read for a probe a few ahead, in three stages: the
 * maps' slots of its episodes (8 probes ahead, replay's prefetch), the
 * Bloom filter's line and the probed set's slot; their groups and data (4
 * ahead, prefetch_near); then, the groups being in the cache, the port's
 * slots in their windows and port sets (2 ahead: the keys wait in a ring).
 * Every remote host is a scanner over 100M generated events: 20,000
 * episodes of each rule open for the hour, dozens of ports in each window,
 * and each of those was a cache miss a probe.
 */
static void prefetch_probe_slots(const struct event *ev, void *ctx)
{
	struct scanning *s = ctx;
	struct probe_keys k;

	if (!is_probe(s, ev))
		return;
	probe_keys(s, ev, &k);
	for (enum rule rule = PORTSCAN; rule <= SWEEP; rule++)
		episodes_prefetch_slot(s->episodes[rule], rule == SWEEP ? k.sweep : k.portscan);
	if (s->pass == 1) {
		bloom_prefetch(&s->probed, k.where, k.ports);
		hashmap_prefetch(&s->probed_where, k.where, 0);
	}
}

/*
 * Inlined always: GCC finds a function of prefetches alone pure and deleted
 * every call to it (replay.c's prefetch_whole), and each probe over 100M
 * generated events then waited on its port's slot (a fifth of the probes).
 */
__attribute__((always_inline)) static inline void prefetch_port(const struct port_set *set,
								uint64_t port)
{
	if (set->slots && set->bitmap)
		__builtin_prefetch(&set->slots[(port & 0xffff) / 32], 1);
	else if (set->slots && port <= 0xffff)
		__builtin_prefetch(port_slot_home(set->slots, set->mask, (uint32_t)port + 1), 1);
}

static void prefetch_probe_near(const struct event *ev, void *ctx)
{
	struct scanning *s = ctx;
	struct probe_keys *k, *near;

	if (!is_probe(s, ev))
		return;
	k = &s->ahead[s->nahead++ % PROBES_AHEAD];
	probe_keys(s, ev, k);
	k->port = (uint64_t)ev->col[PROBE_LPORT];
	for (enum rule rule = PORTSCAN; rule <= PORTSCAN_LOW; rule++)
		episodes_prefetch(s->episodes[rule], k->portscan, sizeof(struct portscan_data));
	episodes_prefetch(s->episodes[SWEEP], k->sweep, 0);
	if (s->nahead <= PROBES_AHEAD / 2)
		return;
	near = &s->ahead[(s->nahead - 1 - PROBES_AHEAD / 2) % PROBES_AHEAD];
	for (enum rule rule = PORTSCAN; rule <= PORTSCAN_LOW; rule++) {
		const struct episode *ep =
			episodes_prefetch_item(s->episodes[rule], near->portscan, near->port);

		if (ep)
			prefetch_port(&((const struct portscan_data *)ep->data)->ports, near->port);
	}
	episodes_prefetch_item(s->episodes[SWEEP], near->sweep, near->where);
}

static int replay_probes(struct scanning *s, const struct options *opts)
{
	struct event_query query = {
		.table = "ev_reset",
		.columns = "e.laddr, e.lport, e.raddr, e.rport, e.state, e.reason",
		.filter = {.task = "e.task"},
		.emit = probe,
		.bind = read_probe_numbers,
		.ctx = s,
		.ids = s->pass == 1 ? NULL : suspects_of,
		.ids_columns = 1u << PROBE_LADDR | 1u << PROBE_RADDR,
		.prefetch = prefetch_probe_slots,
		.prefetch_near = prefetch_probe_near,
	};

	if (replay(s->set, &query, 1, opts) || episodes_finish(s->episodes[PORTSCAN]) ||
	    episodes_finish(s->episodes[PORTSCAN_LOW]))
		return -1;
	return episodes_finish(s->episodes[SWEEP]);
}

/* --- Outbound: connects ----------------------------------------------------------------- */

static void add_name(struct outbound_data *d, const struct task *task)
{
	for (int i = 0; i < d->names; i++)
		if (d->name[i].len == task->comm_len &&
		    !memcmp(d->name[i].text, task->comm, task->comm_len))
			return;
	if (d->names == PROCESS_NAMES)
		return;
	d->name[d->names].len = task->comm_len;
	memcpy(d->name[d->names++].text, task->comm, task->comm_len);
}

static int attempt(const struct event *ev, void *ctx)
{
	struct scanning *s = ctx;
	struct task task;
	uint32_t daddr = peer_of(s->peers, ev->cap, ev->col[ATTEMPT_DADDR]);
	uint64_t dport = (uint64_t)(ev->col[ATTEMPT_DPORT] & 0xffff);
	bool failed = !event_null(ev, ATTEMPT_STATE) && ev->col[ATTEMPT_STATE] != ESTABLISHED;
	int64_t error = event_null(ev, ATTEMPT_ERROR) ? 0 : ev->col[ATTEMPT_ERROR];
	uint64_t key[2];
	struct outbound_data *d;
	struct episode *ep;

	if (!daddr || capture_task(ev->cap, ev->col[ATTEMPT_TASK], &task))
		return -1;
	if (s->pass == 1 && s->tap && s->tap->connect(ev, &task, failed, s->tap->ctx))
		return -1;
	/* In flight when the capture stopped: a connect, but no attempt to judge. */
	if (event_null(ev, ATTEMPT_STATE))
		return 0;
	key[0] = (uint64_t)peers_host(s->peers, ev->cap);
	key[1] = (uint64_t)task.pid;
	if (s->pass == 2 && !candidates_hold(&s->candidates[OUTBOUND], key, ev->wall_ns))
		return 0;
	ep = episodes_add(s->episodes[OUTBOUND], key, ev->wall_ns, failed, pair(daddr, dport));
	if (!ep)
		return -1;
	if (s->pass == 1)
		return 0;
	d = ep->data;
	add_name(d, &task);
	put(&d->hosts, daddr);
	burst_add(&d->burst, ev->wall_ns);
	if (!failed)
		return 0;
	put(&d->failed_ports, dport);
	put(&d->destinations, pair(daddr, dport));
	d->refused += error == ERROR_REFUSED;
	d->timeouts += error == ERROR_TIMED_OUT;
	return 0;
}

/*
 * The failed destination of a connect a few ahead, in its process's
 * window (replay's prefetch): over 100M generated events a process's
 * window holds hundreds, some 16 KiB a process, and the 600 processes'
 * outgrow the cache.
 */
static void prefetch_attempt(const struct event *ev, void *ctx)
{
	struct scanning *s = ctx;
	struct task task;
	uint64_t key[2];
	uint32_t daddr = peer_seen(s->peers, ev->cap, ev->col[ATTEMPT_DADDR]);

	if (event_null(ev, ATTEMPT_STATE) || ev->col[ATTEMPT_STATE] == ESTABLISHED ||
	    capture_task(ev->cap, ev->col[ATTEMPT_TASK], &task))
		return;
	key[0] = (uint64_t)peers_host(s->peers, ev->cap);
	key[1] = (uint64_t)task.pid;
	episodes_prefetch_item(s->episodes[OUTBOUND], key,
			       pair(daddr, (uint64_t)(ev->col[ATTEMPT_DPORT] & 0xffff)));
}

static int replay_attempts(struct scanning *s, const struct options *opts)
{
	struct event_query query = {
		.table = "ev_connect",
		.columns = "e.task, e.daddr, e.dport, e.outcome_state, e.error",
		/* The first pass reads every connect, for the tap. */
		.condition = s->pass == 1 ? NULL : ATTEMPT_CONDITION PROCESS_CONDITION,
		.filter = {.task = "e.task"},
		.emit = attempt,
		.bind = s->pass == 1 ? NULL : bind_pids,
		.ctx = s,
		.prefetch = prefetch_attempt,
	};

	if (replay(s->set, &query, 1, opts))
		return -1;
	return episodes_finish(s->episodes[OUTBOUND]);
}

/*
 * A port scan of low confidence inside one of the same scanner and target is
 * part of it.  The high ones, sorted by scanner, target, then time, are
 * looked up by binary search: a loop over all of them for each low one cost
 * findings squared (some 40,000 over 100M generated events).
 */
struct span {
	int host;
	uint32_t local, remote;
	int64_t first_ns, last_ns;
};

static int by_span_key(const struct span *a, int host, uint32_t local, uint32_t remote,
		       int64_t first_ns)
{
	if (a->host != host)
		return a->host < host ? -1 : 1;
	if (a->local != local)
		return a->local < local ? -1 : 1;
	if (a->remote != remote)
		return a->remote < remote ? -1 : 1;
	return (a->first_ns > first_ns) - (a->first_ns < first_ns);
}

static int span_order(const void *x, const void *y)
{
	const struct span *b = y;

	return by_span_key(x, b->host, b->local, b->remote, b->first_ns);
}

/*
 * The high ones of a key never overlap (episodes of one rule): the last
 * begun by the low one's end is the only one that may reach its start.
 */
static bool covered(const struct span *high, size_t nhigh, struct span low)
{
	size_t lo = 0, hi = nhigh; /* the first after (key, low's end) */

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (by_span_key(&high[mid], low.host, low.local, low.remote, low.last_ns) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return false;
	high += lo - 1;
	return high->host == low.host && high->local == low.local && high->remote == low.remote &&
	       high->last_ns >= low.first_ns;
}

static struct span span_of(const struct finding *f)
{
	return (struct span){f->host, f->local, f->remote, f->first_ns, f->last_ns};
}

/* The high confidence port scans of the findings from `from`, sorted: *n of them, to free. */
static struct span *high_spans(const struct findings *out, size_t from, size_t *n)
{
	struct span *high = xcalloc(out->count - from + 1, sizeof(*high));

	*n = 0;
	for (size_t i = from; i < out->count; i++)
		if (out->list[i].kind == FINDING_PORTSCAN && !out->list[i].low_confidence)
			high[(*n)++] = span_of(&out->list[i]);
	qsort(high, *n, sizeof(*high), span_order);
	return high;
}

/* --- Evidence: the scanner's accepted connections -------------------------------------- */

/* Take the finding's open ports (a port scan's, moved; NULL for none) until its accepts are
 * counted. */
static void await_evidence(struct scanning *s, const struct finding *f, struct hashmap *open)
{
	struct pending *p;

	if (s->npending == s->allocated) {
		s->allocated = s->allocated ? 2 * s->allocated : 64;
		s->pending = xrealloc(s->pending, s->allocated * sizeof(*s->pending));
	}
	p = &s->pending[s->npending++];
	*p = (struct pending){.remote = f->remote,
			      .host = f->host,
			      .local = f->local,
			      .low = f->low_confidence,
			      .first_ns = f->first_ns,
			      .last_ns = f->last_ns,
			      .finding = (size_t)(f - s->out->list)};
	if (open) {
		p->open = *open;
		*open = (struct hashmap){0};
	}
}

/* By scanner, host, target, rule, then time: the episodes of one key and rule never overlap. */
static int by_key(const struct pending *a, uint32_t remote, int host, uint32_t local, bool low,
		  int64_t first_ns)
{
	if (a->remote != remote)
		return a->remote < remote ? -1 : 1;
	if (a->host != host)
		return a->host < host ? -1 : 1;
	if (a->local != local)
		return a->local < local ? -1 : 1;
	if (a->low != low)
		return a->low < low ? -1 : 1;
	return (a->first_ns > first_ns) - (a->first_ns < first_ns);
}

static int pending_order(const void *x, const void *y)
{
	const struct pending *b = y;

	return by_key(x, b->remote, b->host, b->local, b->low, b->first_ns);
}

/* An accepted port: to open, through accepted[]. */
static void add_accepted(struct pending *p, int64_t port)
{
	if (port < 0 || port > 0xffff) {
		put(&p->open, (uint64_t)port);
		return;
	}
	for (int i = 0; i < p->naccepted; i++)
		if (p->accepted[i] == port)
			return;
	if (p->naccepted == ACCEPTED_INLINE) {
		for (int i = 0; i < p->naccepted; i++)
			put(&p->open, p->accepted[i]);
		p->naccepted = 0;
	}
	p->accepted[p->naccepted++] = (uint16_t)port;
}

/*
 * Each finding of that key whose span holds the accept: counted, its port
 * open.  The episodes of one rule never overlap: of each rule (a port scan
 * has two, a sweep one), only the last begun by then may hold it, found by
 * a binary search in the run of its scanner.  Walking back through the low
 * confidence ones until the high one cost the scans found squared over
 * 100M generated events.
 */
static void credit_accept(struct scanning *s, uint32_t remote, int host, uint32_t local,
			  const struct event *ev, int64_t port)
{
	const struct remote_run *run = &s->runs[remote];

	for (int rule = 0; rule < (host < 0 ? 1 : 2); rule++) {
		/* The first entry after (key, wall_ns). */
		size_t low = run->first, high = low + run->count;
		struct pending *p;

		while (low < high) {
			size_t mid = low + (high - low) / 2;

			if (by_key(&s->pending[mid], remote, host, local, rule, ev->wall_ns) <= 0)
				low = mid + 1;
			else
				high = mid;
		}
		if (low == run->first)
			continue;
		p = &s->pending[low - 1];
		if (p->host == host && p->local == local && p->low == rule &&
		    ev->wall_ns <= p->last_ns) {
			p->accepts++;
			add_accepted(p, port);
		}
	}
}

enum { ACCEPT_LADDR, ACCEPT_LPORT, ACCEPT_RADDR };

/* A scanner's findings fetched ahead for an accept: most have a port scan of each rule. */
#define PENDING_AHEAD 4

/* An accept from a scanner: to the port scans of its target, and to its sweep, if in their span. */
static int scanner_accept(const struct event *ev, void *ctx)
{
	struct scanning *s = ctx;
	uint32_t remote, local;

	/* The scanners are among the suspects. */
	if (!address_ids_hold(&s->suspect_ids, ev->cap, ev->col[ACCEPT_RADDR]))
		return 0;
	remote = peer_of(s->peers, ev->cap, ev->col[ACCEPT_RADDR]);
	local = peer_of(s->peers, ev->cap, ev->col[ACCEPT_LADDR]);
	if (!remote || !local)
		return -1;
	if (remote >= s->nruns || !s->runs[remote].count)
		return 0;
	credit_accept(s, remote, peers_host(s->peers, ev->cap), local, ev, ev->col[ACCEPT_LPORT]);
	credit_accept(s, remote, -1, 0, ev, ev->col[ACCEPT_LPORT]);
	return 0;
}

/*
 * What scanner_accept() will read for an accept a few ahead (replay's
 * prefetch and prefetch_near): its scanner's run, then the run's first
 * findings.  Every one of the 20M accepts over 100M generated events comes
 * from a scanner, among 20,000.
 */
static void prefetch_run(const struct event *ev, void *ctx)
{
	struct scanning *s = ctx;
	uint32_t remote = peer_seen(s->peers, ev->cap, ev->col[ACCEPT_RADDR]);

	if (remote < s->nruns)
		__builtin_prefetch(&s->runs[remote]);
}

static void prefetch_pending(const struct event *ev, void *ctx)
{
	struct scanning *s = ctx;
	uint32_t remote = peer_seen(s->peers, ev->cap, ev->col[ACCEPT_RADDR]);
	const struct remote_run *run;

	if (remote >= s->nruns)
		return;
	run = &s->runs[remote];
	for (uint32_t i = 0; i < run->count && i < PENDING_AHEAD; i++)
		__builtin_prefetch(&s->pending[run->first + i], 1);
}

/*
 * The low confidence port scans that drop_covered() will drop need no
 * accepts counted: over 100M generated events they were three pending
 * findings in four, and every accept searched its scanner's run of them.
 */
static void skip_covered(struct scanning *s)
{
	size_t kept = 0, nhigh;
	struct span *high = high_spans(s->out, s->from, &nhigh);

	for (size_t i = 0; i < s->npending; i++) {
		struct pending *p = &s->pending[i];

		if (p->low && covered(high, nhigh, span_of(&s->out->list[p->finding]))) {
			hashmap_clear(&p->open);
			continue;
		}
		s->pending[kept++] = *p;
	}
	s->npending = kept;
	free(high);
}

/*
 * Accepts from the scanners during their findings (to the target, for a port
 * scan), counted, and their ports added to the open ones: one replay of the
 * accepts over the findings' span, whatever their number.
 */
static int count_accepts(struct scanning *s)
{
	struct event_query query = {
		.table = "ev_accept",
		.columns = "e.laddr, e.lport, e.raddr",
		.filter = {.task = "e.task"},
		.emit = scanner_accept,
		.ctx = s,
		.ids = suspects_of,
		.ids_columns = 1u << ACCEPT_RADDR,
		.prefetch = prefetch_run,
		.prefetch_near = prefetch_pending,
		.address_columns = 1u << ACCEPT_LADDR | 1u << ACCEPT_RADDR,
	};
	int64_t first = INT64_MAX, last = INT64_MIN;
	struct options narrow;
	int err;

	skip_covered(s);
	if (!s->npending)
		return 0;
	qsort(s->pending, s->npending, sizeof(*s->pending), pending_order);
	s->nruns = s->pending[s->npending - 1].remote + 1;
	s->runs = xcalloc(s->nruns, sizeof(*s->runs));
	for (size_t i = 0; i < s->npending; i++) {
		const struct pending *p = &s->pending[i];

		if (!s->runs[p->remote].count)
			s->runs[p->remote].first = (uint32_t)i;
		s->runs[p->remote].count++;
		first = s->pending[i].first_ns < first ? s->pending[i].first_ns : first;
		last = s->pending[i].last_ns > last ? s->pending[i].last_ns : last;
	}
	narrow = narrowed(s->opts, first, last);
	err = replay(s->set, &query, 1, &narrow);
	for (size_t i = 0; i < s->npending; i++) {
		struct pending *p = &s->pending[i];
		struct finding *f = &s->out->list[p->finding];

		f->accepts = p->accepts;
		for (int j = 0; j < p->naccepted; j++)
			put(&p->open, p->accepted[j]);
		if (!err && f->kind == FINDING_PORTSCAN)
			f->open_ports = lowest_numbers(&p->open, 65536);
		hashmap_clear(&p->open);
	}
	s->npending = 0;
	return err;
}

/* --- The whole ------------------------------------------------------------------------------ */

/* Whether (host, scanner) is the target of a probe. */
static bool probed(const struct scanning *s, uint64_t host, uint64_t scanner)
{
	return hashmap_find(&s->probed_where, pair(host, scanner), 0) != NULL;
}

/*
 * Whether the port scans the first pass found are those the second would:
 * its episodes are the second's, but for what it could not tell apart.  A
 * candidate's probe may be a late segment of our own connection (own
 * holds one of its key), a candidate scanner's resets may answer the
 * SYN-ACKs of the ports it found (it is the target of a probe), and a
 * sweep's scanner's resets are probes, never answers.
 */
static bool first_pass_told(const struct scanning *s)
{
	const struct hashmap_entry *e;
	size_t cursor = 0;

	if (s->candidates[SWEEP].count)
		return false;
	while ((e = hashmap_next(&s->own, &cursor)))
		if (hashmap_find(&s->candidates[PORTSCAN].groups, e->a, e->b >> 32) ||
		    hashmap_find(&s->candidates[PORTSCAN_LOW].groups, e->a, e->b >> 32))
			return false;
	for (enum rule rule = PORTSCAN; rule <= PORTSCAN_LOW; rule++) {
		cursor = 0;
		while ((e = hashmap_next(&s->candidates[rule].groups, &cursor)))
			if (probed(s, e->a >> 32, e->b))
				return false;
	}
	return true;
}

/* The port scans of the first pass, to be found again by the second. */
static void drop_first_findings(struct scanning *s)
{
	for (size_t i = s->from; i < s->out->count; i++)
		free(s->out->list[i].sample_ports);
	s->out->count = s->from;
	for (size_t i = 0; i < s->npending; i++)
		hashmap_clear(&s->pending[i].open);
	s->npending = 0;
}

static int second_pass(struct scanning *s)
{
	int err = 0;

	int64_t first = INT64_MAX, last = INT64_MIN;

	start_pass(s, 2);
	for (enum rule rule = PORTSCAN; rule <= SWEEP; rule++) {
		if (!s->candidates[rule].count)
			continue;
		if (s->candidates[rule].first_ns < first)
			first = s->candidates[rule].first_ns;
		if (s->candidates[rule].last_ns > last)
			last = s->candidates[rule].last_ns;
	}
	if (first <= last) {
		/* A window around: the scanner's answers to SYN-ACKs need not be within the probes.
		 */
		struct options narrow = narrowed(s->opts, first - s->t->scan_window_ns,
						 last + s->t->scan_window_ns);

		find_suspects(s);
		for (int c = 0; !err && c < s->set->count; c++)
			err = address_ids_add(&s->suspect_ids, s->peers, s->set->list[c],
					      s->suspects, s->nsuspects) ||
			      read_own(s, s->set->list[c], last);
		if (!err && !first_pass_told(s)) {
			drop_first_findings(s);
			err = replay_probes(s, &narrow);
		}
		if (!err)
			err = count_accepts(s);
	}
	if (!err && s->candidates[OUTBOUND].count) {
		struct options narrow = narrowed(s->opts, s->candidates[OUTBOUND].first_ns,
						 s->candidates[OUTBOUND].last_ns);

		err = replay_attempts(s, &narrow);
	}
	return err;
}

static void drop_covered(struct findings *out, size_t from)
{
	size_t kept = from, nhigh;
	struct span *high = high_spans(out, from, &nhigh);

	for (size_t i = from; i < out->count; i++) {
		struct finding *f = &out->list[i];

		if (f->low_confidence && covered(high, nhigh, span_of(f))) {
			free(f->sample_ports);
			free(f->open_ports);
			continue;
		}
		out->list[kept++] = *f;
	}
	out->count = kept;
	free(high);
}

int find_scans(struct captures *set, const struct options *opts, const struct thresholds *t,
	       struct peers *peers, unsigned directions, const struct detect_tap *tap,
	       struct findings *out)
{
	struct scanning s = {.set = set,
			     .opts = opts,
			     .t = t,
			     .peers = peers,
			     .tap = tap,
			     .out = out,
			     .from = out->count,
			     .numbers = xcalloc((size_t)set->count, sizeof(*s.numbers))};
	int err;

	start_pass(&s, 1);
	err = ((directions & SCANS_INBOUND) && replay_probes(&s, opts)) ||
	      ((directions & SCANS_OUTBOUND) && replay_attempts(&s, opts)) || second_pass(&s);
	if (!err)
		drop_covered(out, s.from);
	for (int i = 0; i < RULES; i++) {
		episodes_free(s.episodes[i]);
		candidates_clear(&s.candidates[i]);
	}
	bloom_clear(&s.probed);
	hashmap_clear(&s.probed_where);
	hashmap_clear(&s.own);
	address_ids_clear(&s.suspect_ids);
	hashmap_clear(&s.answered);
	hashmap_clear(&s.answered_by_scan);
	free(s.answers);
	free(s.suspects);
	for (size_t i = 0; i < s.npending; i++)
		hashmap_clear(&s.pending[i].open);
	free(s.pending);
	free(s.runs);
	free(s.numbers);
	return err ? -1 : 0;
}
