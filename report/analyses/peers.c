/*
 * Addresses and hosts across captures: each capture's address ids mapped,
 * as events name them, to one number per address text (IPv4-mapped IPv6
 * unmapped), and each capture to the number of its host name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"
#include "output.h"
#include "peers.h"
#include "util.h"

#define MAPPED_PREFIX "::ffff:"
/* Address ids are dense from 1: an array up to this many, a hash map beyond. */
#define DIRECT_IDS (1 << 22)

struct capture_peers {
	const struct capture *cap;
	int host;
	uint32_t *direct; /* address id -> peer, 0 unknown */
	int64_t direct_size;
	struct hashmap ids; /* the ids beyond */
};

struct peers {
	const struct captures *set; /* grows with the parts --follow adds */
	struct capture_peers *captures;
	int ncaptures;
	char **hosts;
	int nhosts;
	struct peer_name *names; /* peer n (1 and up) is names[n - 1] */
	uint32_t count, allocated;
	uint32_t *table; /* open addressing over the texts: peer numbers, 0 empty */
	size_t mask;
};

static uint64_t hash_text(const char *text)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *text; text++)
		h = (h ^ (unsigned char)*text) * 0x100000001b3ULL;
	return h;
}

static uint32_t *table_slot(uint32_t *table, size_t mask, const struct peer_name *names,
			    const char *text)
{
	size_t i = hash_text(text) & mask;

	while (table[i] && strcmp(names[table[i] - 1].text, text))
		i = (i + 1) & mask;
	return &table[i];
}

/* The peer of a canonical text, added if new. */
static uint32_t intern(struct peers *peers, const char *text)
{
	struct peer_name *name;
	uint32_t *slot;

	if (2 * (peers->count + 1) > peers->mask + 1) {
		size_t mask = peers->mask ? 2 * peers->mask + 1 : 255;
		uint32_t *table = xcalloc(mask + 1, sizeof(*table));

		for (uint32_t n = 1; n <= peers->count; n++)
			*table_slot(table, mask, peers->names, peers->names[n - 1].text) = n;
		free(peers->table);
		peers->table = table;
		peers->mask = mask;
	}
	slot = table_slot(peers->table, peers->mask, peers->names, text);
	if (*slot)
		return *slot;
	if (peers->count == peers->allocated) {
		peers->allocated = peers->allocated ? 2 * peers->allocated : 256;
		peers->names = xrealloc(peers->names, peers->allocated * sizeof(*peers->names));
	}
	name = &peers->names[peers->count];
	name->text = xstrdup(text);
	name->len = strlen(text);
	name->plain = text_is_plain(text, name->len);
	*slot = ++peers->count;
	return *slot;
}

/* Room for the capture's ids, from its largest one (no scan: the end of the rowid key). */
static int64_t direct_size(const struct capture *cap)
{
	sqlite3_stmt *stmt;
	int64_t largest = 0;

	if (sqlite3_prepare_v2(cap->db, "SELECT max(id) FROM address", -1, &stmt, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(stmt) == SQLITE_ROW)
			largest = sqlite3_column_int64(stmt, 0);
		sqlite3_finalize(stmt);
	}
	return largest >= 0 && largest < DIRECT_IDS ? largest + 1 : DIRECT_IDS;
}

/* The set's captures from ncaptures on: those it had, or the parts --follow added since. */
static void add_captures(struct peers *peers)
{
	const struct captures *set = peers->set;

	peers->captures = xrealloc(peers->captures, (size_t)set->count * sizeof(*peers->captures));
	peers->hosts = xrealloc(peers->hosts, (size_t)set->count * sizeof(*peers->hosts));
	for (int i = peers->ncaptures; i < set->count; i++) {
		const char *host = set->list[i]->host;
		struct capture_peers *c = &peers->captures[i];
		int h = 0;

		while (h < peers->nhosts && strcmp(peers->hosts[h], host))
			h++;
		if (h == peers->nhosts)
			peers->hosts[peers->nhosts++] = xstrdup(host);
		*c = (struct capture_peers){.cap = set->list[i], .host = h};
		c->direct_size = direct_size(set->list[i]);
		c->direct = xcalloc((size_t)c->direct_size, sizeof(*c->direct));
	}
	peers->ncaptures = set->count;
}

struct peers *peers_new(const struct captures *set)
{
	struct peers *peers = xcalloc(1, sizeof(*peers));

	peers->set = set;
	add_captures(peers);
	return peers;
}

void peers_free(struct peers *peers)
{
	if (!peers)
		return;
	for (int i = 0; i < peers->ncaptures; i++) {
		free(peers->captures[i].direct);
		hashmap_clear(&peers->captures[i].ids);
	}
	for (int i = 0; i < peers->nhosts; i++)
		free(peers->hosts[i]);
	for (uint32_t n = 0; n < peers->count; n++)
		free((char *)peers->names[n].text);
	free(peers->captures);
	free(peers->hosts);
	free(peers->names);
	free(peers->table);
	free(peers);
}

/*
 * The capture's entry: at its place in the set (a fleet's events come from
 * a different capture each, and a search among them was a quarter of
 * `caps`'s time over 300).
 */
static struct capture_peers *capture_peers(struct peers *peers, const struct capture *cap)
{
	/* A part --follow added to the set since. */
	if (cap->place >= peers->ncaptures && cap->place < peers->set->count)
		add_captures(peers);
	/* Every capture of the set, which peers_new was given. */
	if (cap->place < 0 || cap->place >= peers->ncaptures ||
	    peers->captures[cap->place].cap != cap)
		abort();
	return &peers->captures[cap->place];
}

int peers_index(struct peers *peers, const struct capture *cap)
{
	return (int)(capture_peers(peers, cap) - peers->captures);
}

int peers_host(struct peers *peers, const struct capture *cap)
{
	return capture_peers(peers, cap)->host;
}

const char *peers_host_name(const struct peers *peers, int host)
{
	return peers->hosts[host];
}

/* An address text without its IPv4-mapped prefix. */
static const char *unmapped(const char *text)
{
	if (!strncmp(text, MAPPED_PREFIX, strlen(MAPPED_PREFIX)) && strchr(text, '.'))
		return text + strlen(MAPPED_PREFIX);
	return text;
}

/*
 * peer_of for an id not seen yet: its large frame kept out of the common
 * path (an id seen), which is one load.
 */
static __attribute__((noinline)) uint32_t peer_of_unseen(struct peers *peers,
							 struct capture_peers *c,
							 struct capture *cap, int64_t address_id)
{
	bool direct = address_id >= 0 && address_id < c->direct_size;
	struct address address;
	char text[CAPTURE_TEXT_MAX + 1];
	uint32_t peer;

	if (capture_address(cap, address_id, &address))
		return 0;
	memcpy(text, address.text, address.len);
	text[address.len] = '\0';
	peer = intern(peers, unmapped(text));
	if (direct)
		c->direct[address_id] = peer;
	else
		*hashmap_put(&c->ids, (uint64_t)address_id, 0, NULL) = peer;
	return peer;
}

uint32_t peer_seen(struct peers *peers, const struct capture *cap, int64_t address_id)
{
	const struct capture_peers *c = capture_peers(peers, cap);
	const uint64_t *known;

	if (address_id >= 0 && address_id < c->direct_size)
		return c->direct[address_id];
	known = hashmap_find(&c->ids, (uint64_t)address_id, 0);
	return known ? (uint32_t)*known : 0;
}

uint32_t peer_of(struct peers *peers, struct capture *cap, int64_t address_id)
{
	uint32_t peer = peer_seen(peers, cap, address_id);

	return peer ? peer : peer_of_unseen(peers, capture_peers(peers, cap), cap, address_id);
}

const char *peer_text(const struct peers *peers, uint32_t peer)
{
	return peers->names[peer - 1].text;
}

const struct peer_name *peer_name(const struct peers *peers, uint32_t peer)
{
	return &peers->names[peer - 1];
}

int peer_compare(const struct peers *peers, uint32_t a, uint32_t b)
{
	return strcmp(peer_text(peers, a), peer_text(peers, b));
}

/* What peers_ids() looks for, and what it found. */
struct wanted {
	const struct peers *peers;
	const uint8_t *peer; /* by peer number: nonzero for one asked */
	uint32_t npeers;     /* of the map */
	int64_t *ids;
	size_t count, allocated;
};

/* An address row: its id kept when its text is one of those asked. */
static int want_address(int64_t id, const char *text, size_t len, void *ctx)
{
	struct wanted *w = ctx;
	char canonical[CAPTURE_TEXT_MAX + 1];
	uint32_t peer;

	len = len < CAPTURE_TEXT_MAX ? len : CAPTURE_TEXT_MAX;
	memcpy(canonical, text, len);
	canonical[len] = '\0';
	peer = *table_slot(w->peers->table, w->peers->mask, w->peers->names, unmapped(canonical));
	if (!peer || peer >= w->npeers || !w->peer[peer])
		return 0;
	if (w->count == w->allocated) {
		w->allocated = w->allocated ? 2 * w->allocated : 16;
		w->ids = xrealloc(w->ids, w->allocated * sizeof(*w->ids));
	}
	w->ids[w->count++] = id;
	return 0;
}

/*
 * One walk of the capture's addresses, each looked up among the peers' texts
 * (asked once per capture and pass): a sort of every row by the hash of its
 * text, kept per capture, was a tenth of a fleet's summary.
 */
int64_t *peers_ids(struct peers *peers, struct capture *cap, const uint32_t *list, size_t count,
		   size_t *n)
{
	struct wanted w = {.peers = peers, .npeers = peers->count + 1};
	uint8_t *asked = xcalloc(w.npeers, 1);
	int err = 0;

	for (size_t i = 0; i < count; i++)
		if (list[i] < w.npeers)
			asked[list[i]] = 1;
	w.peer = asked;
	/* No peer yet, no text to look up (the table is made at the first). */
	if (peers->count && count)
		err = capture_each_address(cap, want_address, &w);
	free(asked);
	if (err) {
		free(w.ids);
		return NULL;
	}
	*n = w.count;
	return w.ids ? w.ids : xcalloc(1, sizeof(*w.ids));
}
