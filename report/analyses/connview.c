/*
 * report timeline -c: one line per connection.  Its events are joined by
 * their ends (client address and port, server address and port, IPv4-mapped
 * addresses unmapped): the connect with its outcome and latency, the accept
 * (when the other end was captured too: loopback, or another host's capture),
 * the resets sent on it, by either end, and its close (how long it lasted,
 * the payload each way, who closed it first).  An inbound attempt answered by
 * a reset is a connection too, and so is a close whose opening the capture
 * does not hold.  Connections are printed in the order they
 * started, once a minute has passed (HORIZON_NS): memory holds a minute of
 * them, and a reset later than that is a line of its own.
 */
#include <assert.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "events.h"
#include "hashmap.h"
#include "peers.h"
#include "connview.h"
#include "endpoints.h"
#include "util.h"

#define HORIZON_NS (60 * 1000000000LL)
#define TCP_LISTEN 10 /* schema.sql's tcp_state */

enum {
	CONN_CLIENT = EVENT_FIELDS, /* table: address:port */
	CONN_CLIENT_ADDR,
	CONN_CLIENT_PORT,
	CONN_SERVER,
	CONN_SERVER_ADDR,
	CONN_SERVER_PORT,
	CONN_OUTCOME,
	CONN_ERROR,
	CONN_LATENCY,
	CONN_ACCEPTED, /* table: comm/pid */
	CONN_ACCEPT_PID,
	CONN_ACCEPT_COMM,
	CONN_ACCEPT_DELAY,
	CONN_RESET_TEXT, /* table: how many, by whom, why */
	CONN_RESETS,
	CONN_RESET_BY,
	CONN_RESET_REASON,
	CONN_DURATION,
	CONN_CLIENT_BYTES,
	CONN_SERVER_BYTES,
	CONN_END,
	CONN_FIELDS
};

/* Each query's columns, as event.col numbers them. */
enum {
	CONNECT_TASK,
	CONNECT_SADDR,
	CONNECT_LPORT,
	CONNECT_DADDR,
	CONNECT_DPORT,
	CONNECT_STATE,
	CONNECT_ERROR,
	CONNECT_LATENCY,
	CONNECT_CHOSEN /* the task filters' mark (write_task_match) */
};
enum { END_TASK, END_LADDR, END_LPORT, END_RADDR, END_RPORT, ACCEPT_CHOSEN };
enum { RESET_STATE = END_RPORT + 1, RESET_REASON, RESET_NETNS, RESET_CHOSEN };
enum {
	CLOSE_START = END_RPORT + 1,
	CLOSE_SENT,
	CLOSE_RECEIVED,
	CLOSE_BY,
	CLOSE_NETNS,
	CLOSE_CHOSEN
};

/*
 * A connection while its events may still come: small, a minute of them is
 * held, and read at random.  Two cache lines: at 176 bytes it spanned three
 * or four, and fetching each ahead, and the merge's every event, waited on
 * the lines more.  Its captures are the set's by number (peers_index), its
 * ends' hash is computed again where the index needs it.
 */
struct conn {
	int64_t start_ns;
	int64_t client_port, server_port;   /* -1 unknown */
	int64_t duration_ns;		    /* -1: opened before the capture */
	int64_t client_bytes, server_bytes; /* payload each way */
	/* tasks and reason by number, named when printed */
	int64_t connect_task, accept_task, reason; /* reason: -1 none */
	int64_t state, error, latency_ns, accept_delay_ns;
	uint32_t client, server; /* peers; 0 unknown */
	uint32_t space; /* a namespace's own loopback connection: its netns; 0 the host's */
	uint32_t resets;
	uint16_t cap; /* of its first event (a connect's, if it has one) */
	uint16_t accept_cap, reset_cap;
	uint8_t closed_by : 3; /* ev_close's code from the end that told: 1-4, else 0 */
	bool has_connect : 1, has_accept : 1, has_outcome : 1, reset_by_server : 1, refused : 1;
	bool orphan : 1; /* began with a RST with no socket: which end is the client is guessed */
	bool has_close : 1;
	bool closed_by_client_end : 1; /* the client's socket told */
	bool keyed : 1;	 /* the newest of its ends: the index's entry for them is this one */
	bool chosen : 1; /* one of its events passes the task filters: it is printed */
};

static_assert(sizeof(struct conn) == 2 * CACHE_LINE, "a connection is two cache lines");

/*
 * An end's address as put_endpoint writes it before a port ("[fd00::1]:",
 * "10.0.0.1:"), made once per address: an end printed is then a copy and
 * the port's digits.
 */
#define PREFIX_MAX   (CAPTURE_TEXT_MAX + 4) /* "[", "]", ":" and the port put_endpoint wrote */
#define ENDPOINT_MAX (PREFIX_MAX + 20)	    /* PREFIX_MAX bytes copied, and a number */

struct prefix {
	size_t at;   /* in prefixes.text */
	uint8_t len; /* up to PREFIX_MAX; 0: not made yet */
	bool plain;  /* needs no escaping (output.h, text_is_plain) */
};

struct prefixes {
	struct prefix *of; /* by peer; [0]: the unknown address's */
	size_t count;
	/*
	 * Their texts one after the other, and PREFIX_MAX bytes after the
	 * last: PREFIX_MAX bytes copied from any of them stay inside.
	 */
	char *text;
	size_t used, size;
};

/*
 * The index of ends: a connection's ends (key_of) -> the id of the newest
 * connection between them, in slots of 8 bytes: the hash of the ends either
 * way round (ends_hash; 0: an empty slot) and the id's low 32 bits (the ring
 * holds far fewer).  The ends are checked on the connection, which its
 * event reads anyway.  A map of 32-byte entries that kept the keys was 8
 * MiB for a minute of the bench's connections (2 MiB now), and a close or
 * reset probed it twice, once for each end as the client.  In the arena's
 * huge pages, as the ring.
 */
struct end_slot {
	uint32_t hash, id;
};

struct end_index {
	struct end_slot *slots;
	size_t mask; /* slots - 1; 0 before the first put */
	size_t count;
};

/*
 * The row printed.  A format reads only its own fields (a table its columns,
 * JSON and CSV their keys): a row sets those, the others stay null from the
 * start.  Its values point into it.
 */
struct row {
	struct value v[CONN_FIELDS];
	struct task connect_task, accept_task;
	struct name reason; /* len 0: none */
	char client[ENDPOINT_MAX], server[ENDPOINT_MAX];
	char accepted[CAPTURE_TEXT_MAX + 24], resets[CAPTURE_TEXT_MAX + 48];
};

/*
 * A connection finished, as the printing thread gets it (handoff): its
 * captures are that thread's copies, and its ends' names are copied (the
 * merge adds peers meanwhile: their array moves).
 */
struct done {
	struct conn c;
	struct capture *cap, *accept_cap, *reset_cap; /* the printer's (copy_of), c's numbers' */
	struct peer_name client, server;	      /* name_of's */
};

/*
 * The merge assembles connections, a thread of its own prints them: the
 * printing was a third of the merge's time, and the merge is the report's
 * wall clock.  Finished connections go over in order, in blocks: a lock
 * and a wake-up per block cost little per connection, and HANDOFF_BLOCKS
 * of them bound the memory (some 1 MiB) and let either thread run on
 * while the other is slow for a while.
 */
#define HANDOFF_CONNS  256
#define HANDOFF_BLOCKS 16

struct handoff {
	pthread_mutex_t lock;
	pthread_cond_t filled;	/* a block was handed over, or the merge finished */
	pthread_cond_t emptied; /* a block was printed: the merge may fill it */
	struct done *blocks;	/* HANDOFF_BLOCKS of HANDOFF_CONNS */
	int count[HANDOFF_BLOCKS];
	uint64_t head, tail;	/* blocks: the next to print, the one the merge fills */
	int filling;		/* connections in the tail block */
	bool finished;		/* no more blocks */
	bool failed;		/* printing failed (said on stderr): the merge stops */
	struct captures copies; /* the captures again, for the printer's lookups */
	pthread_t thread;
};

/*
 * The connections held, by start (id), in segments of SEGMENT_CONNS: one
 * the printing has passed takes the newest ones.  A ring that doubled and
 * was copied had touched twice the memory it held, every page of it zeroed
 * by the kernel first, and copied half of it again.  The segments come
 * from the arena, some twenty to a huge page (a larger one left a third of
 * its huge page unused): read at random, a ring of 4 KiB pages missed the
 * TLB at nearly every connection, and fetching ahead waited on the page
 * walks.
 */
#define SEGMENT_CONNS 512

struct ring {
	struct conn **of; /* by segment number (id / SEGMENT_CONNS) & (count - 1) */
	size_t count;
	struct conn **made, **spare; /* every segment; those passed, to take again */
	size_t nmade, nspare;
};

/* Per peer: LOOPBACK, OTHER, or 0 (not known yet). */
enum { OTHER = 1, LOOPBACK };

struct loopbacks {
	uint8_t *of;
	size_t count;
};

static struct {
	struct peers *peers;
	struct loopbacks loopbacks;
	struct handoff handoff;
	struct row row; /* the printer's */
	struct prefixes prefixes;
	struct end_index ends;	    /* (client, server), (ports) -> id of the newest connection */
	struct hashmap orphan_ends; /* (peer, port) -> orphans held with this end */
	struct ring ring;	    /* connections by start */
	uint64_t head, tail;	    /* ids */
	bool table;
	struct field fields[CONN_FIELDS];
} cv;

static void key_of(uint32_t client, int64_t client_port, uint32_t server, int64_t server_port,
		   uint32_t space, uint64_t *a, uint64_t *b)
{
	*a = (uint64_t)client << 32 | server;
	*b = (uint64_t)space << 32 | (uint64_t)(client_port & 0xffff) << 16 |
	     (uint64_t)(server_port & 0xffff);
}

/* Whether a peer is a loopback address: its text read once (a peer's name is a miss away). */
static bool loopback(uint32_t peer)
{
	struct loopbacks *l = &cv.loopbacks;

	if (peer >= l->count) {
		size_t n = l->count ? 2 * l->count : 1024;

		while (n <= peer)
			n *= 2;
		l->of = xrealloc(l->of, n);
		memset(l->of + l->count, 0, n - l->count);
		l->count = n;
	}
	if (!l->of[peer]) {
		const char *text = peer_text(cv.peers, peer);

		l->of[peer] = !strncmp(text, "127.", 4) || !strcmp(text, "::1") ? LOOPBACK : OTHER;
	}
	return l->of[peer] == LOOPBACK;
}

/*
 * Where a connection between these ends lives, as its key tells: a
 * container's loopback connection has the host's ends, and never leaves its
 * network namespace, so that namespace (netns, when not the recorder's own)
 * is part of its key.  Other connections are joined by their ends alone,
 * across hosts too.
 */
static uint32_t space_of(const struct event *ev, int64_t netns, uint32_t client, uint32_t server)
{
	if (netns < 0 || netns == ev->cap->netns || !client || !server)
		return 0;
	return loopback(client) && loopback(server) ? (uint32_t)netns : 0;
}

/*
 * The same for the connection of an event's task, whose namespace it is:
 * the task is read only for loopback ends (at 100M events, reading every
 * connect's and accept's task reloaded blocks of the task table).  0, or
 * -1 after one line.
 */
static int task_space(const struct event *ev, int task_column, uint32_t client, uint32_t server,
		      uint32_t *space)
{
	struct task task;

	*space = 0;
	if (!client || !server || !loopback(client) || !loopback(server))
		return 0;
	if (capture_task(ev->cap, ev->col[task_column], &task))
		return -1;
	*space = space_of(ev, task.netns, client, server);
	return 0;
}

static bool has_key(uint32_t client, int64_t client_port, uint32_t server)
{
	return client && server && client_port >= 0;
}

/* A connection held, by its id (or the id's low 32 bits: the ring holds far fewer). */
static struct conn *at(uint64_t id)
{
	return &cv.ring.of[id / SEGMENT_CONNS & (cv.ring.count - 1)][id % SEGMENT_CONNS];
}

/*
 * Start fetching every line of a connection: two, in the arena's segments
 * (three where a segment is not aligned to a line: the sanitizer's).
 * Inlined always, as index_prefetch.
 */
__attribute__((always_inline)) static inline void prefetch_whole(const struct conn *c)
{
	const char *first = (const char *)c, *last = first + sizeof(*c) - 1;

	for (const char *line = first; line < last; line += CACHE_LINE)
		__builtin_prefetch(line);
	__builtin_prefetch(last);
}

/* --- The index of ends ----------------------------------------------------------- */

/*
 * The hash of some ends, either way round: the connection of those ends and
 * that of the ends reversed (which end of a reset's or close's socket is the
 * client) are found in one probe of the index, where two probes missed the
 * cache twice.
 */
static uint32_t ends_hash(uint32_t client, int64_t client_port, uint32_t server,
			  int64_t server_port, uint32_t space)
{
	uint64_t one = (uint64_t)client << 16 | (uint64_t)(client_port & 0xffff),
		 other = (uint64_t)server << 16 | (uint64_t)(server_port & 0xffff);
	uint64_t a = one < other ? one : other,
		 b = (one < other ? other : one) ^ (uint64_t)space << 48;
	uint64_t h =
		a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL) * 0xbf58476d1ce4e5b9ULL;
	uint32_t hash;

	h ^= h >> 31;
	hash = (uint32_t)(h * 0x94d049bb133111ebULL >> 32);
	return hash ? hash : 1;
}

/* The hash of a connection's ends, as its entry in the index has it. */
static uint32_t conn_hash(const struct conn *c)
{
	return ends_hash(c->client, c->client_port, c->server, c->server_port, c->space);
}

/* Whether the connection's ends are the key (a, b). */
static bool has_ends(const struct conn *c, uint64_t a, uint64_t b)
{
	uint64_t ca, cb;

	key_of(c->client, c->client_port, c->server, c->server_port, c->space, &ca, &cb);
	return ca == a && cb == b;
}

/* Slots twice as many (or the first ones), each entry at its hash's place. */
static void index_grow(void)
{
	struct end_index *x = &cv.ends;
	struct end_slot *old = x->slots;
	size_t old_slots = old ? x->mask + 1 : 0, slots = old ? 2 * old_slots : 1024;

	x->slots = arena_zalloc(slots * sizeof(*x->slots));
	x->mask = slots - 1;
	for (size_t i = 0; i < old_slots; i++) {
		size_t j;

		if (!old[i].hash)
			continue;
		for (j = old[i].hash & x->mask; x->slots[j].hash; j = (j + 1) & x->mask)
			;
		x->slots[j] = old[i];
	}
	arena_free(old);
}

/* The slot of the key's connection (its hash: ends_hash), a new one (id unset) when *added. */
static struct end_slot *index_put(uint64_t a, uint64_t b, uint32_t hash, bool *added)
{
	struct end_index *x = &cv.ends;
	size_t i;

	/* At most half full. */
	if (!x->slots || 2 * (x->count + 1) > x->mask + 1)
		index_grow();
	for (i = hash & x->mask; x->slots[i].hash; i = (i + 1) & x->mask) {
		if (x->slots[i].hash == hash && has_ends(at(x->slots[i].id), a, b)) {
			*added = false;
			return &x->slots[i];
		}
	}
	x->slots[i].hash = hash;
	x->count++;
	*added = true;
	return &x->slots[i];
}

/*
 * Take out connection id's entry, of that hash: the entries after it that
 * would not be found past the hole move back (no tombstones).
 */
static void index_remove(uint32_t hash, uint32_t id)
{
	struct end_index *x = &cv.ends;
	size_t hole = hash & x->mask;

	while (x->slots[hole].hash != hash || x->slots[hole].id != id)
		hole = (hole + 1) & x->mask;
	for (size_t i = (hole + 1) & x->mask; x->slots[i].hash; i = (i + 1) & x->mask) {
		size_t home = x->slots[i].hash & x->mask;

		if (hashmap_stays(hole, home, i))
			continue;
		x->slots[hole] = x->slots[i];
		hole = i;
	}
	x->slots[hole].hash = 0;
	x->count--;
}

/*
 * Start fetching the hash's slot, and the next line: probes and removals go
 * on past it.  Inlined always: GCC found a function of prefetches alone pure
 * and deleted every call to it (replay.c's prefetch_whole), so the index was
 * never fetched ahead and the merge waited on a slot at nearly every event.
 */
__attribute__((always_inline)) static inline void index_prefetch(uint32_t hash)
{
	const struct end_index *x = &cv.ends;
	size_t i;

	if (!x->slots)
		return;
	i = hash & x->mask;
	__builtin_prefetch(&x->slots[i]);
	__builtin_prefetch(&x->slots[(i + 1) & x->mask]);
}

/*
 * The newest connection from (client, client_port) to (server, server_port),
 * else the newest the other way round (*reversed set), else NULL.
 */
static struct conn *find(uint32_t client, int64_t client_port, uint32_t server, int64_t server_port,
			 uint32_t space, bool *reversed)
{
	const struct end_index *x = &cv.ends;
	bool forward = has_key(client, client_port, server),
	     backward = has_key(server, server_port, client);
	uint64_t a = 0, b = 0, ra = 0, rb = 0;
	uint32_t hash;
	struct conn *other = NULL;

	*reversed = false;
	if ((!forward && !backward) || !x->slots)
		return NULL;
	if (forward)
		key_of(client, client_port, server, server_port, space, &a, &b);
	if (backward)
		key_of(server, server_port, client, client_port, space, &ra, &rb);
	hash = ends_hash(client, client_port, server, server_port, space);
	for (size_t i = hash & x->mask; x->slots[i].hash; i = (i + 1) & x->mask) {
		struct conn *c;

		if (x->slots[i].hash != hash)
			continue;
		c = at(x->slots[i].id);
		if (forward && has_ends(c, a, b))
			return c;
		if (backward && !other && has_ends(c, ra, rb))
			other = c;
	}
	*reversed = other != NULL;
	return other;
}

/* A segment for the connections from cv.tail on: a spare one, else a new one. */
static void add_segment(void)
{
	struct ring *r = &cv.ring;
	uint64_t first = cv.head / SEGMENT_CONNS, number = cv.tail / SEGMENT_CONNS;

	if (number - first >= r->count) { /* the segments' table twice as large */
		size_t count = r->count ? 2 * r->count : 16;
		struct conn **of = xcalloc(count, sizeof(*of));

		for (uint64_t n = first; n < number; n++)
			of[n & (count - 1)] = r->of[n & (r->count - 1)];
		free(r->of);
		r->of = of;
		r->count = count;
	}
	if (!r->nspare) {
		r->made = xrealloc(r->made, (r->nmade + 1) * sizeof(*r->made));
		r->spare = xrealloc(r->spare, (r->nmade + 1) * sizeof(*r->spare));
		r->made[r->nmade] = arena_zalloc(SEGMENT_CONNS * sizeof(struct conn));
		r->spare[r->nspare++] = r->made[r->nmade++];
	}
	r->of[number & (r->count - 1)] = r->spare[--r->nspare];
}

/* Past the connection at cv.head: its segment is spare once all of it is passed. */
static void pass_conn(void)
{
	struct ring *r = &cv.ring;

	if (++cv.head % SEGMENT_CONNS == 0)
		r->spare[r->nspare++] = r->of[(cv.head / SEGMENT_CONNS - 1) & (r->count - 1)];
}

static void free_ring(void)
{
	for (size_t i = 0; i < cv.ring.nmade; i++)
		arena_free(cv.ring.made[i]);
	free(cv.ring.made);
	free(cv.ring.spare);
	free(cv.ring.of);
	cv.ring = (struct ring){0};
}

/* A capture's number in the set (a connection's cap). */
static uint16_t cap_number(const struct capture *cap)
{
	return (uint16_t)peers_index(cv.peers, cap);
}

/* A connection at the end of the ring: the index is the caller's (keyed: its entry's). */
static struct conn *push_conn(const struct event *ev, uint32_t client, int64_t client_port,
			      uint32_t server, int64_t server_port, uint32_t space, bool keyed)
{
	struct conn *c;

	if (cv.tail % SEGMENT_CONNS == 0)
		add_segment();
	c = at(cv.tail++);
	*c = (struct conn){.cap = cap_number(ev->cap),
			   .start_ns = ev->wall_ns,
			   .client = client,
			   .server = server,
			   .client_port = client_port,
			   .server_port = server_port,
			   .space = space,
			   .keyed = keyed};
	return c;
}

/*
 * A new connection of these ends, now the newest of them; with `accept`,
 * the newest one if no accept came for it yet (an accept completes the
 * connect of its ends).  One probe of the map either way.
 */
static struct conn *start_conn(const struct event *ev, uint32_t client, int64_t client_port,
			       uint32_t server, int64_t server_port, uint32_t space, bool accept)
{
	uint64_t a, b;
	uint32_t hash = 0;
	struct end_slot *slot;
	bool added;

	if (has_key(client, client_port, server)) {
		key_of(client, client_port, server, server_port, space, &a, &b);
		hash = ends_hash(client, client_port, server, server_port, space);
		slot = index_put(a, b, hash, &added);
		if (!added) {
			struct conn *newest = at(slot->id);

			if (accept && !newest->has_accept)
				return newest;
			newest->keyed = false; /* printing it leaves the key to this one's */
		}
		slot->id = (uint32_t)cv.tail;
	}
	return push_conn(ev, client, client_port, server, server_port, space, hash != 0);
}

/* --- Printing ------------------------------------------------------------------- */

static struct value text_of(const char *text)
{
	return text ? text_value(text, strlen(text)) : null_value();
}

static struct value end_value(uint32_t peer, const struct peer_name *name)
{
	return peer ? checked_text_value(name->text, name->len, name->plain) : null_value();
}

static const char *outcome_of(const struct conn *c)
{
	if (c->has_connect)
		return c->has_outcome ? connect_outcome(true, c->state, c->error) : "in flight";
	if (c->has_accept)
		return "accepted";
	if (!c->resets)
		return "closed"; /* only its close: opened before the capture */
	return c->refused ? "refused" : "reset";
}

/*
 * Who closed it first, from the client's and server's side: ev_close's
 * codes are the telling socket's (1 our FIN, 2 theirs, 3 our RST, 4 theirs).
 */
static const char *end_of(const struct conn *c)
{
	static const char *const ends[2][5] = {
		{NULL, "server FIN", "client FIN", "server RST", "client RST"},
		{NULL, "client FIN", "server FIN", "client RST", "server RST"},
	};

	if (!c->has_close || !c->closed_by)
		return NULL;
	return ends[c->closed_by_client_end][c->closed_by];
}

static char *append(char *to, const char *text, size_t len)
{
	memcpy(to, text, len);
	return to + len;
}

/* The text of a peer, or "?" for 0 (unknown). */
static const struct peer_name *name_of(uint32_t peer)
{
	static const struct peer_name unknown = {"?", 1, true};

	return peer ? peer_name(cv.peers, peer) : &unknown;
}

/* The prefix of a peer not printed yet: kept out of prefix_of's common path (its frame). */
static __attribute__((noinline)) const struct prefix *make_prefix(uint32_t peer,
								  const struct peer_name *name)
{
	struct prefixes *all = &cv.prefixes;
	struct prefix *p;

	if (peer >= all->count) {
		size_t n = all->count ? 2 * all->count : 1024;

		while (n <= peer)
			n *= 2;
		all->of = xrealloc(all->of, n * sizeof(*all->of));
		memset(&all->of[all->count], 0, (n - all->count) * sizeof(*all->of));
		all->count = n;
	}
	if (all->size - all->used < 2 * PREFIX_MAX) {
		size_t size = all->size ? 2 * all->size : 16384;

		all->text = xrealloc(all->text, size);
		memset(all->text + all->size, 0, size - all->size);
		all->size = size;
	}
	p = &all->of[peer];
	p->at = all->used;
	/* put_endpoint's text for port 0, less the 0 */
	p->len = (uint8_t)(put_endpoint(all->text + p->at, name->text, name->len, 0) - 1);
	p->plain = name->plain;
	all->used += p->len;
	return p;
}

static const struct prefix *prefix_of(uint32_t peer, const struct peer_name *name)
{
	if (peer < cv.prefixes.count && cv.prefixes.of[peer].len)
		return &cv.prefixes.of[peer];
	return make_prefix(peer, name);
}

/*
 * "address:port" of an end (peer, its name: name_of's) into out,
 * ENDPOINT_MAX bytes ("?" for an unknown address).
 */
static struct value endpoint_value(char *out, uint32_t peer, const struct peer_name *name,
				   int64_t port)
{
	const struct prefix *p;

	if (port < 0)
		return checked_text_value(out, put_endpoint(out, name->text, name->len, port),
					  name->plain);
	p = prefix_of(peer, name);
	/* PREFIX_MAX bytes, a fixed size: cheaper than a call for its length. */
	memcpy(out, cv.prefixes.text + p->at, PREFIX_MAX);
	return checked_text_value(out, (size_t)(int_text(out + p->len, port) - out), p->plain);
}

/* What the connection's numbers name: its tasks and the reason of its first reset. */
static int look_up(const struct done *d, struct row *r)
{
	const struct conn *c = &d->c;

	r->reason.len = 0;
	if ((c->has_connect && capture_task(d->cap, c->connect_task, &r->connect_task)) ||
	    (c->has_accept && capture_task(d->accept_cap, c->accept_task, &r->accept_task)) ||
	    (c->resets && c->reason >= 0 &&
	     capture_reset_reason(d->reset_cap, c->reason, &r->reason)))
		return -1;
	if (c->resets && c->reason >= 0 && !r->reason.found) {
		r->reason.len = (size_t)snprintf(r->reason.text, sizeof(r->reason.text), "%lld",
						 (long long)c->reason);
		r->reason.plain = true;
	}
	return 0;
}

/* The table's own columns: both ends, "comm/pid" and "N by server REASON". */
static void table_values(const struct done *d, struct row *r)
{
	const struct conn *c = &d->c;
	struct value *v = r->v;

	v[CONN_CLIENT] = endpoint_value(r->client, c->client, &d->client, c->client_port);
	v[CONN_SERVER] = endpoint_value(r->server, c->server, &d->server, c->server_port);
	/* Built directly: printf showed in profiles. */
	if (c->has_accept) {
		const struct task *t = &r->accept_task;
		char *end =
			int_text(append(append(r->accepted, t->comm, t->comm_len), "/", 1), t->pid);

		v[CONN_ACCEPTED] =
			checked_text_value(r->accepted, (size_t)(end - r->accepted), t->comm_plain);
	} else {
		v[CONN_ACCEPTED] = null_value();
	}
	if (c->resets) {
		const char *by = c->reset_by_server ? " by server" : " by client";
		char *end = append(int_text(r->resets, c->resets), by, strlen(by));

		if (r->reason.len)
			end = append(append(end, " ", 1), r->reason.text, r->reason.len);
		v[CONN_RESET_TEXT] = checked_text_value(r->resets, (size_t)(end - r->resets),
							!r->reason.len || r->reason.plain);
	} else {
		v[CONN_RESET_TEXT] = null_value();
	}
}

/* The fields of JSON and CSV alone; local: the local process, or NULL. */
static int record_values(const struct done *d, struct row *r, const struct task *local)
{
	const struct conn *c = &d->c;
	struct value *v = r->v;
	const struct task *accepter = c->has_accept ? &r->accept_task : NULL;

	v[EVENT_TS_NS] = int_value(c->start_ns - d->cap->realtime_offset_ns); /* base_ns + t */
	v[EVENT_HOST] = text_of(d->cap->host);
	v[EVENT_UID] = local ? int_value(local->uid) : null_value();
	v[EVENT_TID] = local ? int_value(local->tid) : null_value();
	v[EVENT_PPID] = local ? int_value(local->ppid) : null_value();
	v[EVENT_CGROUP] = local ? int_value(local->cgroup) : null_value();
	v[EVENT_MNTNS] = local ? int_value(local->mntns) : null_value();
	v[EVENT_NETNS] = local && local->netns >= 0 ? int_value(local->netns) : null_value();
	v[EVENT_NSPID] = local && local->nspid >= 0 ? int_value(local->nspid) : null_value();
	v[EVENT_CGROUP_PATH] = null_value();
	v[CONN_CLIENT_ADDR] = end_value(c->client, &d->client);
	v[CONN_CLIENT_PORT] = c->client_port < 0 ? null_value() : int_value(c->client_port);
	v[CONN_SERVER_ADDR] = end_value(c->server, &d->server);
	v[CONN_SERVER_PORT] = int_value(c->server_port);
	v[CONN_ERROR] = c->has_outcome ? int_value(c->error) : null_value();
	v[CONN_ACCEPT_PID] = accepter ? int_value(accepter->pid) : null_value();
	v[CONN_ACCEPT_COMM] = accepter ? checked_text_value(accepter->comm, accepter->comm_len,
							    accepter->comm_plain)
				       : null_value();
	v[CONN_ACCEPT_DELAY] = accepter ? int_value(c->accept_delay_ns) : null_value();
	v[CONN_RESETS] = int_value(c->resets);
	v[CONN_RESET_BY] =
		c->resets ? word_value(c->reset_by_server ? "server" : "client") : null_value();
	v[CONN_RESET_REASON] =
		r->reason.len ? checked_text_value(r->reason.text, r->reason.len, r->reason.plain)
			      : null_value();
	return local ? task_cgroup_value(d->cap, local, &v[EVENT_CGROUP_PATH]) : 0;
}

static int print_conn(const struct done *d)
{
	const struct conn *c = &d->c;
	struct row *r = &cv.row;
	struct value *v = r->v;
	/* The local process: the one connecting, else the one accepting. */
	const struct task *local = c->has_connect  ? &r->connect_task
				   : c->has_accept ? &r->accept_task
						   : NULL;

	if (look_up(d, r))
		return -1;
	v[EVENT_ELAPSED] = int_value(c->start_ns);
	v[EVENT_CLOCK] = int_value(c->start_ns);
	v[EVENT_PID] = local ? int_value(local->pid) : null_value();
	v[EVENT_COMM] = local ? checked_text_value(local->comm, local->comm_len, local->comm_plain)
			      : null_value();
	v[CONN_OUTCOME] = word_value(outcome_of(c));
	v[CONN_LATENCY] =
		c->has_outcome && c->latency_ns >= 0 ? int_value(c->latency_ns) : null_value();
	v[CONN_DURATION] =
		c->has_close && c->duration_ns >= 0 ? int_value(c->duration_ns) : null_value();
	v[CONN_CLIENT_BYTES] = c->has_close ? int_value(c->client_bytes) : null_value();
	v[CONN_SERVER_BYTES] = c->has_close ? int_value(c->server_bytes) : null_value();
	v[CONN_END] = end_of(c) ? word_value(end_of(c)) : null_value();
	if (cv.table) {
		if (cv.fields[EVENT_HOST].shown)
			v[EVENT_HOST] = text_of(d->cap->host);
		table_values(d, r);
	} else if (record_values(d, r, local)) {
		return -1;
	}
	output_row(v);
	return 0;
}

/* Linux's default ip_local_port_range: the ports a client's kernel picks. */
#define EPHEMERAL_FIRST 32768
#define EPHEMERAL_LAST	60999

static bool ephemeral(int64_t port)
{
	return port >= EPHEMERAL_FIRST && port <= EPHEMERAL_LAST;
}

/*
 * A RST with no socket answers a segment of the remote end: a SYN to a
 * closed port (the remote end is the client), or a SYN-ACK to a raw socket's
 * SYN (the local end is).  The capture does not keep the segment's flags.  A
 * scanner probes from one end: the end that more such resets held within
 * the minute is the client (the scanner's, on either side); else the end
 * whose port is ephemeral while the other's is not, else the higher port.
 */
static void count_orphan_end(uint32_t peer, int64_t port)
{
	++*hashmap_put(&cv.orphan_ends, peer, (uint64_t)port, NULL);
}

/* An orphan is held as client remote, server local: whether it is the other way. */
static bool reversed(const struct conn *c, uint64_t remote, uint64_t local)
{
	if (local != remote)
		return local > remote;
	if (ephemeral(c->server_port) != ephemeral(c->client_port))
		return ephemeral(c->server_port);
	return c->server_port > c->client_port;
}

/*
 * An orphan printed: the right way round, and no longer counted.  Each end's
 * count is found once (both ends may be one key): a find and a put for each
 * showed in profiles.
 */
static struct conn orient(const struct conn *c)
{
	struct conn o = *c;
	uint64_t *remote = hashmap_find(&cv.orphan_ends, c->client, (uint64_t)c->client_port);
	uint64_t *local = hashmap_find(&cv.orphan_ends, c->server, (uint64_t)c->server_port);
	bool remote_done, local_done;

	assert(remote && local); /* on_reset counted both ends of every orphan */
	if (reversed(c, *remote, *local)) {
		o.client = c->server;
		o.client_port = c->server_port;
		o.server = c->client;
		o.server_port = c->client_port;
		o.reset_by_server = !c->reset_by_server;
		o.refused = false;
	}
	--*remote;
	--*local;
	/* Removing one may move the other: both read first. */
	remote_done = !*remote;
	local_done = !*local;
	if (remote_done)
		hashmap_remove(&cv.orphan_ends, c->client, (uint64_t)c->client_port);
	if (local_done)
		hashmap_remove(&cv.orphan_ends, c->server, (uint64_t)c->server_port);
	return o;
}

/*
 * Connections ahead whose keys and orphans' counts are brought into the
 * cache while one is handed over; the printer, ahead of the one it prints,
 * the ends' prefixes (their entries), and at half the distance the
 * prefixes' texts that those entries locate.
 */
#define PREFETCH_AHEAD 16

/*
 * A minute later what finishing a connection reads at random has left the
 * cache: its slot in the index, its ends' names, an orphan's counts.
 * Inlined always, as index_prefetch.
 */
__attribute__((always_inline)) static inline void prefetch_finished(const struct conn *c)
{
	if (c->keyed)
		index_prefetch(conn_hash(c));
	if (c->client)
		__builtin_prefetch(peer_name(cv.peers, c->client));
	if (c->server)
		__builtin_prefetch(peer_name(cv.peers, c->server));
	if (c->orphan) {
		hashmap_prefetch(&cv.orphan_ends, c->client, (uint64_t)c->client_port);
		hashmap_prefetch(&cv.orphan_ends, c->server, (uint64_t)c->server_port);
	}
}

/* The prefixes' entries of a connection's ends, for the printer. */
__attribute__((always_inline)) static inline void prefetch_prefixes(const struct conn *c)
{
	if (c->client < cv.prefixes.count)
		__builtin_prefetch(&cv.prefixes.of[c->client]);
	if (c->server < cv.prefixes.count)
		__builtin_prefetch(&cv.prefixes.of[c->server]);
}

/* The text of a peer's prefix, once its entry is in the cache (prefetch_prefixes). */
__attribute__((always_inline)) static inline void prefetch_prefix_text(uint32_t peer)
{
	const char *text;

	if (peer >= cv.prefixes.count || !cv.prefixes.of[peer].len)
		return;
	text = cv.prefixes.text + cv.prefixes.of[peer].at;
	__builtin_prefetch(text);
	__builtin_prefetch(text + PREFIX_MAX - 1); /* endpoint_value copies PREFIX_MAX bytes */
}

/* --- The printing thread ------------------------------------------------------------ */

static struct done *block_of(uint64_t block)
{
	return &cv.handoff.blocks[(block % HANDOFF_BLOCKS) * HANDOFF_CONNS];
}

/* Print a block's connections, in order: 0, or -1 after one line. */
static int print_block(const struct done *block, int count)
{
	for (int i = 0; i < count; i++) {
		if (cv.table && i + PREFETCH_AHEAD < count)
			prefetch_prefixes(&block[i + PREFETCH_AHEAD].c);
		if (cv.table && i + PREFETCH_AHEAD / 2 < count) {
			prefetch_prefix_text(block[i + PREFETCH_AHEAD / 2].c.client);
			prefetch_prefix_text(block[i + PREFETCH_AHEAD / 2].c.server);
		}
		if (print_conn(&block[i]))
			return -1;
	}
	return 0;
}

/* The printing thread: the blocks handed over, until the merge finishes or printing fails. */
static void *print_blocks(void *unused)
{
	struct handoff *h = &cv.handoff;

	(void)unused;
	pthread_mutex_lock(&h->lock);
	for (;;) {
		uint64_t block;
		int err;

		while (h->head == h->tail && !h->finished)
			pthread_cond_wait(&h->filled, &h->lock);
		if (h->head == h->tail)
			break;
		block = h->head;
		pthread_mutex_unlock(&h->lock);
		err = print_block(block_of(block), h->count[block % HANDOFF_BLOCKS]);
		pthread_mutex_lock(&h->lock);
		h->head++;
		h->failed = err != 0;
		pthread_cond_signal(&h->emptied);
		if (err)
			break;
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

static void free_handoff(void)
{
	struct handoff *h = &cv.handoff;

	pthread_cond_destroy(&h->emptied);
	pthread_cond_destroy(&h->filled);
	pthread_mutex_destroy(&h->lock);
	free(h->blocks);
	captures_close(&h->copies);
	*h = (struct handoff){0};
}

/* Start the printing thread, on captures of its own: 0, or -1 after one line. */
static int start_printing(struct captures *set)
{
	struct handoff *h = &cv.handoff;
	int err;

	if (captures_open_again(&h->copies, set))
		return -1;
	h->blocks = xcalloc(HANDOFF_BLOCKS * HANDOFF_CONNS, sizeof(*h->blocks));
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->filled, NULL);
	pthread_cond_init(&h->emptied, NULL);
	err = pthread_create(&h->thread, NULL, print_blocks, NULL);
	if (err) {
		fprintf(stderr, "report: cannot start a printing thread: %s\n", strerror(err));
		free_handoff();
		return -1;
	}
	return 0;
}

/* The block filled so far to the printer; finished: the last one. */
static void hand_block(bool finished)
{
	struct handoff *h = &cv.handoff;

	pthread_mutex_lock(&h->lock);
	if (h->filling) {
		h->count[h->tail % HANDOFF_BLOCKS] = h->filling;
		h->tail++;
		h->filling = 0;
	}
	h->finished = finished;
	/*
	 * The printer, faster than the merge, slept on an empty ring and was
	 * woken for each block: 13,000 wake-ups over 10M events, each a few
	 * microseconds of both threads here.  Woken for half the ring at once.
	 */
	if (finished || h->tail - h->head >= HANDOFF_BLOCKS / 2)
		pthread_cond_signal(&h->filled);
	pthread_mutex_unlock(&h->lock);
}

/* Room to fill a block, once the printer has printed one: 0, or -1 if printing failed. */
static int wait_room(void)
{
	struct handoff *h = &cv.handoff;
	bool failed;

	pthread_mutex_lock(&h->lock);
	while (h->tail - h->head == HANDOFF_BLOCKS && !h->failed)
		pthread_cond_wait(&h->emptied, &h->lock);
	failed = h->failed;
	pthread_mutex_unlock(&h->lock);
	return failed ? -1 : 0;
}

/* The printer's copy of the set's capture of that number (cap_number). */
static struct capture *copy_of(uint16_t number)
{
	return cv.handoff.copies.list[number];
}

/* A connection to print, to the printer: 0, or -1 if printing failed. */
static int hand_over(const struct conn *c)
{
	struct handoff *h = &cv.handoff;
	struct done *d;

	if (h->filling == HANDOFF_CONNS) {
		hand_block(false);
		if (wait_room())
			return -1;
	}
	d = &block_of(h->tail)[h->filling++];
	d->c = *c;
	d->cap = copy_of(c->cap);
	d->accept_cap = copy_of(c->accept_cap);
	d->reset_cap = copy_of(c->reset_cap);
	d->client = *name_of(c->client);
	d->server = *name_of(c->server);
	return 0;
}

/*
 * The printing thread, once it has printed what it was given: 0, or -1 if
 * printing failed.  Its captures closed.
 */
static int stop_printing(void)
{
	struct handoff *h = &cv.handoff;
	int failed;

	hand_block(true);
	pthread_join(h->thread, NULL);
	failed = h->failed ? -1 : 0;
	free_handoff();
	return failed;
}

/*
 * Hand over the connections that started more than the horizon before now
 * (all: INT64_MAX) to the printer: 0, or -1 if printing failed.
 */
static int print_older(int64_t now)
{
	while (cv.head < cv.tail) {
		struct conn *c = at(cv.head);

		if (now != INT64_MAX && c->start_ns >= now - HORIZON_NS)
			return 0;
		/* The ring's pages outrun the processor's own fetching ahead. */
		if (cv.head + 2 * PREFETCH_AHEAD < cv.tail)
			prefetch_whole(at(cv.head + 2 * PREFETCH_AHEAD));
		if (cv.head + PREFETCH_AHEAD < cv.tail)
			prefetch_finished(at(cv.head + PREFETCH_AHEAD));
		/* An orphan is oriented (and uncounted) whether it is printed or not. */
		if (c->orphan) {
			struct conn oriented = orient(c);

			if (oriented.chosen && hand_over(&oriented))
				return -1;
		} else if (c->chosen && hand_over(c)) {
			return -1;
		}
		if (c->keyed)
			index_remove(conn_hash(c), (uint32_t)cv.head);
		pass_conn();
	}
	return 0;
}

/* --- Events ---------------------------------------------------------------------- */

/*
 * The host's hash of an event's ends (ends_hash), when it has one with
 * addresses seen already (a new one is read when its event comes); a
 * namespace's loopback connection is not fetched ahead.
 */
static bool hash_ahead(const struct event *ev, int client, int client_port, int server,
		       int server_port, uint32_t *hash)
{
	uint32_t c, s;

	if (event_null(ev, client) || event_null(ev, client_port) || event_null(ev, server))
		return false;
	c = peer_seen(cv.peers, ev->cap, ev->col[client]);
	s = peer_seen(cv.peers, ev->cap, ev->col[server]);
	if (!has_key(c, ev->col[client_port], s))
		return false;
	*hash = ends_hash(c, ev->col[client_port], s, ev->col[server_port], 0);
	return true;
}

/*
 * The hashes prefetch_ends found, by the event's place: replay fetches
 * ahead for an event up to four times (prefetch, again when the merge goes
 * from stream to stream, prefetch_near), and finding its ends' peers each
 * time was a fifth of the merge's instructions.  Another event's at that
 * place (a batch reused) only fetches the wrong slot.  Some tens of events
 * of four streams are between their fetching ahead and their turn: among
 * 64 places, half of them were taken by another's meanwhile.
 */
#define AHEADS 512

struct ahead {
	const struct event *ev;
	uint32_t hash;
	bool has; /* hash_ahead found one */
};

static struct ahead aheads[AHEADS];

static struct ahead *ahead_of(const struct event *ev)
{
	return &aheads[(uintptr_t)ev / sizeof(*ev) % AHEADS];
}

/*
 * An event's ends fetched ahead (replay's prefetch): the index of a minute
 * of connections is larger than the processor's caches, and every event
 * probes it.
 */
static void prefetch_ends(const struct event *ev, int client, int client_port, int server,
			  int server_port)
{
	struct ahead *a = ahead_of(ev);

	if (a->ev != ev) {
		a->ev = ev;
		a->has = hash_ahead(ev, client, client_port, server, server_port, &a->hash);
	}
	if (a->has)
		index_prefetch(a->hash);
}

/*
 * Then the connection they name, once prefetch_ends brought its slot in
 * (replay's prefetch_near): the ring of a minute of connections is larger
 * than the caches too, and a close waited on its connection as long as on
 * its slot.  The first of the hash's (checking its ends would wait on what
 * is fetched); all its lines, since the handlers read fields across
 * them (fetching two, the ends were on a third as often as not).
 */
static void prefetch_conn(const struct event *ev, int client, int client_port, int server,
			  int server_port)
{
	const struct end_index *x = &cv.ends;
	const struct ahead *a = ahead_of(ev);
	uint32_t hash = a->hash;
	size_t i;

	if (!x->slots)
		return;
	if (a->ev != ev && !hash_ahead(ev, client, client_port, server, server_port, &hash))
		return;
	if (a->ev == ev && !a->has)
		return;
	for (i = hash & x->mask; x->slots[i].hash && x->slots[i].hash != hash;
	     i = (i + 1) & x->mask)
		;
	if (!x->slots[i].hash)
		return;
	prefetch_whole(at(x->slots[i].id));
}

static void prefetch_connect(const struct event *ev, void *ctx)
{
	(void)ctx;
	prefetch_ends(ev, CONNECT_SADDR, CONNECT_LPORT, CONNECT_DADDR, CONNECT_DPORT);
}

/* An accept's ends, and a reset's as the server sent it (the usual case). */
static void prefetch_server_end(const struct event *ev, void *ctx)
{
	(void)ctx;
	prefetch_ends(ev, END_RADDR, END_RPORT, END_LADDR, END_LPORT);
}

/* A reset's ends as the server sent it, and a reset with no socket's counts (an orphan's, likely).
 */
static void prefetch_reset(const struct event *ev, void *ctx)
{
	uint32_t remote, local;

	prefetch_server_end(ev, ctx);
	if (!event_null(ev, RESET_STATE) || event_null(ev, END_RADDR) || event_null(ev, END_LADDR))
		return;
	remote = peer_seen(cv.peers, ev->cap, ev->col[END_RADDR]);
	local = peer_seen(cv.peers, ev->cap, ev->col[END_LADDR]);
	if (remote && local) {
		hashmap_prefetch(&cv.orphan_ends, remote, (uint64_t)ev->col[END_RPORT]);
		hashmap_prefetch(&cv.orphan_ends, local, (uint64_t)ev->col[END_LPORT]);
	}
}

/* A close's ends, either way round (ends_hash): its socket may be the client's or the server's. */
static void prefetch_close(const struct event *ev, void *ctx)
{
	(void)ctx;
	if (!event_null(ev, END_LPORT))
		prefetch_ends(ev, END_LADDR, END_LPORT, END_RADDR, END_RPORT);
	else
		prefetch_ends(ev, END_RADDR, END_RPORT, END_LADDR, END_LPORT);
}

static void prefetch_server_conn(const struct event *ev, void *ctx)
{
	(void)ctx;
	prefetch_conn(ev, END_RADDR, END_RPORT, END_LADDR, END_LPORT);
}

static void prefetch_close_conn(const struct event *ev, void *ctx)
{
	(void)ctx;
	if (!event_null(ev, END_LPORT))
		prefetch_conn(ev, END_LADDR, END_LPORT, END_RADDR, END_RPORT);
	else
		prefetch_conn(ev, END_RADDR, END_RPORT, END_LADDR, END_LPORT);
}

static int peer_column(const struct event *ev, int column, uint32_t *peer)
{
	*peer = event_null(ev, column) ? 0 : peer_of(cv.peers, ev->cap, ev->col[column]);
	return !event_null(ev, column) && !*peer ? -1 : 0;
}

static int on_connect(const struct event *ev, void *ctx)
{
	uint32_t s, d;
	uint32_t space;
	struct conn *c;
	int64_t lport = event_null(ev, CONNECT_LPORT) ? -1 : ev->col[CONNECT_LPORT];

	(void)ctx;
	if (print_older(ev->wall_ns) || peer_column(ev, CONNECT_SADDR, &s) ||
	    peer_column(ev, CONNECT_DADDR, &d) || task_space(ev, CONNECT_TASK, s, d, &space))
		return -1;
	c = start_conn(ev, s, lport, d, ev->col[CONNECT_DPORT], space, false);
	c->has_connect = true;
	c->chosen |= ev->col[CONNECT_CHOSEN] == 1;
	c->connect_task = ev->col[CONNECT_TASK];
	c->has_outcome = !event_null(ev, CONNECT_STATE);
	c->state = ev->col[CONNECT_STATE];
	c->error = event_null(ev, CONNECT_ERROR) ? -1 : ev->col[CONNECT_ERROR];
	c->latency_ns = event_null(ev, CONNECT_LATENCY) ? -1 : ev->col[CONNECT_LATENCY];
	return 0;
}

static int on_accept(const struct event *ev, void *ctx)
{
	uint32_t l, r, space;
	struct conn *c;

	(void)ctx;
	if (print_older(ev->wall_ns) || peer_column(ev, END_LADDR, &l) ||
	    peer_column(ev, END_RADDR, &r) || task_space(ev, END_TASK, r, l, &space))
		return -1;
	c = start_conn(ev, r, ev->col[END_RPORT], l, ev->col[END_LPORT], space, true);
	c->has_accept = true;
	c->chosen |= ev->col[ACCEPT_CHOSEN] == 1;
	c->accept_cap = cap_number(ev->cap);
	c->accept_task = ev->col[END_TASK];
	c->accept_delay_ns = ev->wall_ns - c->start_ns;
	return 0;
}

static int on_reset(const struct event *ev, void *ctx)
{
	uint32_t l, r, space;
	struct conn *c;
	bool by_server, reversed;

	(void)ctx;
	if (print_older(ev->wall_ns) || peer_column(ev, END_LADDR, &l) ||
	    peer_column(ev, END_RADDR, &r))
		return -1;
	space = event_null(ev, RESET_NETNS) ? 0 : space_of(ev, ev->col[RESET_NETNS], l, r);
	/* Sent by the server to its client, or by the client to its server. */
	c = find(r, ev->col[END_RPORT], l, ev->col[END_LPORT], space, &reversed);
	by_server = !reversed;
	if (!c) {
		c = start_conn(ev, r, ev->col[END_RPORT], l, ev->col[END_LPORT], space, false);
		/* No socket (a closed port) or a listener's: the attempt was refused. */
		c->refused = event_null(ev, RESET_STATE) || ev->col[RESET_STATE] == TCP_LISTEN;
		c->orphan = event_null(ev, RESET_STATE) && r && l;
		if (c->orphan) {
			count_orphan_end(r, ev->col[END_RPORT]);
			count_orphan_end(l, ev->col[END_LPORT]);
		}
	}
	c->chosen |= ev->col[RESET_CHOSEN] == 1;
	if (c->resets++)
		return 0;
	c->reset_by_server = by_server;
	c->reset_cap = cap_number(ev->cap);
	c->reason = event_null(ev, RESET_REASON) ? -1 : ev->col[RESET_REASON];
	return 0;
}

/* Which end of a close with no connection known is the client: as for an orphan reset. */
static bool local_end_is_client(int64_t lport, int64_t rport)
{
	if (ephemeral(lport) != ephemeral(rport))
		return ephemeral(lport);
	return lport > rport;
}

static int on_close(const struct event *ev, void *ctx)
{
	uint32_t l, r, space;
	struct conn *c;
	bool local_client, reversed;
	int64_t lport = ev->col[END_LPORT], rport = ev->col[END_RPORT];

	(void)ctx;
	if (print_older(ev->wall_ns) || peer_column(ev, END_LADDR, &l) ||
	    peer_column(ev, END_RADDR, &r))
		return -1;
	space = event_null(ev, CLOSE_NETNS) ? 0 : space_of(ev, ev->col[CLOSE_NETNS], l, r);
	c = find(l, lport, r, rport, space, &reversed);
	local_client = !reversed;
	if (!c) {
		/*
		 * Opened before the capture, or more than a minute ago: a line of its
		 * own, at the time it closed (the lines stay in time order).
		 */
		local_client = local_end_is_client(lport, rport);
		c = local_client ? start_conn(ev, l, lport, r, rport, space, false)
				 : start_conn(ev, r, rport, l, lport, space, false);
	}
	c->chosen |= ev->col[CLOSE_CHOSEN] == 1;
	if (c->has_close)
		return 0; /* its other end told already */
	c->has_close = true;
	c->closed_by_client_end = local_client;
	c->duration_ns = event_null(ev, CLOSE_START) ? -1 : ev->t - ev->col[CLOSE_START];
	c->client_bytes = ev->col[local_client ? CLOSE_SENT : CLOSE_RECEIVED];
	c->server_bytes = ev->col[local_client ? CLOSE_RECEIVED : CLOSE_SENT];
	c->closed_by = !event_null(ev, CLOSE_BY) && ev->col[CLOSE_BY] >= 1 && ev->col[CLOSE_BY] <= 4
			       ? (uint8_t)ev->col[CLOSE_BY]
			       : 0;
	return 0;
}

static void set_fields(const struct captures *set)
{
	struct field *f = cv.fields;

	timeline_event_fields(f, set);
	f[CONN_CLIENT] = (struct field){"CLIENT", NULL, 22, FIELD_TEXT, true};
	f[CONN_CLIENT_ADDR] = (struct field){NULL, "client", 0, FIELD_TEXT, false};
	f[CONN_CLIENT_PORT] = (struct field){NULL, "client_port", 0, FIELD_INT, false};
	f[CONN_SERVER] = (struct field){"SERVER", NULL, 22, FIELD_TEXT, true};
	f[CONN_SERVER_ADDR] = (struct field){NULL, "server", 0, FIELD_TEXT, false};
	f[CONN_SERVER_PORT] = (struct field){NULL, "server_port", 0, FIELD_INT, false};
	f[CONN_OUTCOME] = (struct field){"OUTCOME", "outcome", 11, FIELD_TEXT, true};
	f[CONN_ERROR] = (struct field){NULL, "error", 0, FIELD_INT, false};
	f[CONN_LATENCY] = (struct field){"LAT(ms)", "latency_ns", 8, FIELD_MILLIS, true};
	f[CONN_ACCEPTED] = (struct field){"ACCEPTED", NULL, 16, FIELD_TEXT, true};
	f[CONN_ACCEPT_PID] = (struct field){NULL, "accept_pid", 0, FIELD_INT, false};
	f[CONN_ACCEPT_COMM] = (struct field){NULL, "accept_comm", 0, FIELD_TEXT, false};
	f[CONN_ACCEPT_DELAY] = (struct field){NULL, "accept_delay_ns", 0, FIELD_INT, false};
	f[CONN_RESET_TEXT] = (struct field){"RESETS", NULL, 22, FIELD_TEXT, true};
	f[CONN_RESETS] = (struct field){NULL, "resets", 0, FIELD_INT, false};
	f[CONN_RESET_BY] = (struct field){NULL, "reset_by", 0, FIELD_TEXT, false};
	f[CONN_RESET_REASON] = (struct field){NULL, "reset_reason", 0, FIELD_TEXT, false};
	f[CONN_DURATION] = (struct field){"DUR(ms)", "duration_ns", 10, FIELD_MILLIS, true};
	f[CONN_CLIENT_BYTES] = (struct field){"C>S", "client_bytes", 9, FIELD_INT, true};
	f[CONN_SERVER_BYTES] = (struct field){"S>C", "server_bytes", 9, FIELD_INT, true};
	f[CONN_END] = (struct field){"END", "closed_by", 10, FIELD_TEXT, true};
}

/* A query's columns, then the task filters' mark. */
static char *marked_columns(const char *columns, const struct options *opts,
			    const struct filter_columns *filter)
{
	char *sql = NULL;
	size_t size;
	FILE *f = open_memstream(&sql, &size);

	if (!f) {
		fprintf(stderr, "report: out of memory\n");
		exit(70);
	}
	fprintf(f, "%s, ", columns);
	write_task_match(f, opts, filter);
	fclose(f);
	return sql;
}

/*
 * The filters choose connections, never what is shown of them: the events
 * of every end are read, and a connection is printed when one of its events
 * passes the task filters (the client's -p shows who accepted, the client's
 * --comm the reset that refused it).  --addr and -P test the ends, the same
 * for every event of a connection: they choose rows (the engine's filter).
 */
static int connections(struct captures *set, const struct options *opts)
{
	static const char *connect_ports[2] = {"e.lport", "e.dport"},
			  *other_ports[2] = {"e.lport", "e.rport"};
	char *connect_condition = ports_condition(opts, connect_ports);
	char *other_condition = ports_condition(opts, other_ports);
	struct filter_columns connect_filter = {.task = "e.task",
						.ends = {"e.saddr", "e.daddr"},
						.mark_tasks = true},
			      filter = {.task = "e.task",
					.ends = {"e.laddr", "e.raddr"},
					.mark_tasks = true};
	char *columns[] = {
		marked_columns("e.task, e.saddr, e.lport, e.daddr, e.dport, e.outcome_state, "
			       "e.error, e.latency_ns",
			       opts, &filter),
		marked_columns("e.task, e.laddr, e.lport, e.raddr, e.rport", opts, &filter),
		marked_columns(
			"e.task, e.laddr, e.lport, e.raddr, e.rport, e.state, e.reason, e.netns",
			opts, &filter),
		marked_columns("e.task, e.laddr, e.lport, e.raddr, e.rport, e.start_t, "
			       "e.bytes_sent, e.bytes_received, e.closed_by, e.netns",
			       opts, &filter),
		/* Captures made before namespaces. */
		marked_columns(
			"e.task, e.laddr, e.lport, e.raddr, e.rport, e.state, e.reason, NULL", opts,
			&filter),
		marked_columns("e.task, e.laddr, e.lport, e.raddr, e.rport, e.start_t, "
			       "e.bytes_sent, e.bytes_received, e.closed_by, NULL",
			       opts, &filter),
	};
	struct event_query queries[] = {
		{.table = "ev_connect",
		 .columns = columns[0],
		 .condition = connect_condition,
		 .filter = connect_filter,
		 .emit = on_connect,
		 .prefetch = prefetch_connect},
		{.table = "ev_accept",
		 .columns = columns[1],
		 .condition = other_condition,
		 .filter = filter,
		 .emit = on_accept,
		 .prefetch = prefetch_server_end,
		 .prefetch_near = prefetch_server_conn},
		{.table = "ev_reset",
		 .columns = columns[2],
		 .newer_column = "netns",
		 .older_columns = columns[4],
		 .condition = other_condition,
		 .filter = filter,
		 .emit = on_reset,
		 .prefetch = prefetch_reset,
		 .prefetch_near = prefetch_server_conn},
		{.table = "ev_close",
		 .columns = columns[3],
		 .newer_column = "netns",
		 .older_columns = columns[5],
		 .condition = other_condition,
		 .filter = filter,
		 .emit = on_close,
		 .optional = true,
		 .prefetch = prefetch_close,
		 .prefetch_near = prefetch_close_conn},
	};
	int err;

	cv.peers = peers_new(set);
	cv.table = opts->format == FORMAT_TABLE;
	for (int i = 0; i < CONN_FIELDS; i++)
		cv.row.v[i] = null_value();
	set_fields(set);
	/*
	 * To fit a terminal: the close's columns (the bytes each way, the
	 * duration, who ended it: tcplife has them whole), then latency, pid
	 * (the name stays), resets, the acceptor.
	 */
	output_column_fit(CONN_SERVER_BYTES, 0, 4);
	output_column_fit(CONN_CLIENT_BYTES, 0, 5);
	output_column_fit(CONN_DURATION, 0, 6);
	output_column_fit(CONN_END, 0, 7);
	output_column_fit(CONN_LATENCY, 0, 8);
	output_column_fit(EVENT_PID, 0, 9);
	output_column_fit(CONN_RESET_TEXT, 0, 10);
	output_column_fit(CONN_ACCEPTED, 0, 11);
	output_begin(opts->format, opts->local, cv.fields, CONN_FIELDS);
	err = start_printing(set);
	if (!err) {
		int printing;

		err = replay(set, queries, ARRAY_SIZE(queries), opts) || print_older(INT64_MAX);
		printing =
			stop_printing(); /* what was handed over is printed, even after a failure */
		err = err || printing;
	}
	free(connect_condition);
	free(other_condition);
	for (size_t i = 0; i < ARRAY_SIZE(columns); i++)
		free(columns[i]);
	arena_free(cv.ends.slots);
	cv.ends = (struct end_index){0};
	hashmap_clear(&cv.orphan_ends);
	free_ring();
	free(cv.prefixes.of);
	free(cv.prefixes.text);
	free(cv.loopbacks.of);
	peers_free(cv.peers);
	/* Ready for another report in this process (the fields stay: output_end needs them). */
	cv.peers = NULL;
	cv.prefixes = (struct prefixes){0};
	cv.loopbacks = (struct loopbacks){0};
	cv.head = cv.tail = 0;
	return err;
}

int print_connections(struct captures *set, const struct options *opts)
{
	if (set->count > UINT16_MAX + 1) { /* a connection's cap is a number of 16 bits */
		fprintf(stderr, "report: timeline -c: %d captures, more than %d at once\n",
			set->count, UINT16_MAX + 1);
		return -1;
	}
	return connections(set, opts);
}
