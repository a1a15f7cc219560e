/*
 * Names of connected addresses from the DNS answers of the captures: the
 * newest answer per (host, address) as the answers stream by in time order
 * with the connects.  Memory grows with distinct addresses answered, never
 * with events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsnames.h"
#include "hashmap.h"
#include "peers.h"
#include "util.h"

/* The newest answer for an address of a host. */
struct answer {
	int64_t wall_ns;
	char *name;
	size_t len;
};

struct dns_names {
	struct peers *peers;
	struct hashmap index; /* (host, peer) -> 1 + index in answers */
	struct answer *answers;
	size_t count, allocated;
	sqlite3_stmt **names;	       /* per capture: an answer's name, by its key */
	int nnames;		       /* captures it has room for (--follow adds parts) */
	char name[DNS_NAME_MAX];       /* dns_answer_name()'s */
	char query[DNS_NAME_MAX + 32]; /* the name and its age */
};

struct dns_names *dns_names_new(const struct captures *set)
{
	struct dns_names *n = xcalloc(1, sizeof(*n));

	n->peers = peers_new(set);
	n->names = xcalloc((size_t)set->count, sizeof(*n->names));
	n->nnames = set->count;
	return n;
}

void dns_names_free(struct dns_names *n)
{
	if (!n)
		return;
	for (int i = 0; i < n->nnames; i++)
		sqlite3_finalize(n->names[i]);
	for (size_t i = 0; i < n->count; i++)
		free(n->answers[i].name);
	free(n->answers);
	free(n->names);
	hashmap_clear(&n->index);
	peers_free(n->peers);
	free(n);
}

/* The capture's statement of names, room made for a part --follow added. */
static sqlite3_stmt **names_of(struct dns_names *n, const struct capture *cap)
{
	int i = peers_index(n->peers, cap);

	if (i >= n->nnames) {
		n->names = xrealloc(n->names, (size_t)(i + 1) * sizeof(*n->names));
		memset(n->names + n->nnames, 0, (size_t)(i + 1 - n->nnames) * sizeof(*n->names));
		n->nnames = i + 1;
	}
	return &n->names[i];
}

int dns_answer_name(struct dns_names *n, const struct event *ev, const char **name, size_t *len)
{
	sqlite3_stmt **stmt = names_of(n, ev->cap);
	int rc, bytes;

	if (!*stmt &&
	    sqlite3_prepare_v3(ev->cap->db, "SELECT name FROM dns WHERE t = ? AND seq = ?", -1,
			       SQLITE_PREPARE_PERSISTENT, stmt, NULL) != SQLITE_OK) {
		fprintf(stderr, "report: %s: cannot read dns: %s\n", ev->cap->name,
			capture_error(ev->cap));
		return -1;
	}
	sqlite3_bind_int64(*stmt, 1, ev->t);
	sqlite3_bind_int64(*stmt, 2, ev->seq);
	rc = sqlite3_step(*stmt);
	bytes = rc == SQLITE_ROW ? sqlite3_column_bytes(*stmt, 0) : 0;
	if (rc == SQLITE_ROW && bytes <= DNS_NAME_MAX) {
		*len = (size_t)bytes;
		*name = n->name;
		if (bytes) /* an empty text may have no bytes at all */
			memcpy(n->name, sqlite3_column_blob(*stmt, 0), *len);
	}
	sqlite3_reset(*stmt);
	if (rc == SQLITE_ROW && bytes <= DNS_NAME_MAX)
		return 0;
	fprintf(stderr, "report: %s: cannot read dns: %s\n", ev->cap->name,
		rc == SQLITE_ROW ? "corrupt capture: a name too long" : capture_error(ev->cap));
	return -1;
}

/* The query's columns, as event.col numbers them. */
enum { COL_ADDRESS };

static int add_answer(const struct event *ev, void *ctx)
{
	struct dns_names *n = ctx;
	uint32_t peer = peer_of(n->peers, ev->cap, ev->col[COL_ADDRESS]);
	bool added;
	uint64_t *slot;
	struct answer *a;
	const char *name;
	size_t len;

	if (!peer || dns_answer_name(n, ev, &name, &len))
		return -1;
	slot = hashmap_put(&n->index, (uint64_t)peers_host(n->peers, ev->cap), peer, &added);
	if (added) {
		if (n->count == n->allocated) {
			n->allocated = n->allocated ? 2 * n->allocated : 64;
			n->answers = xrealloc(n->answers, n->allocated * sizeof(*n->answers));
		}
		n->answers[n->count] = (struct answer){0};
		*slot = ++n->count;
	}
	a = &n->answers[*slot - 1];
	free(a->name);
	a->name = xmalloc(len + 1);
	memcpy(a->name, name, len);
	a->len = len;
	a->wall_ns = ev->wall_ns;
	return 0;
}

struct event_query dns_names_query(struct dns_names *names)
{
	return (struct event_query){
		.table = "dns",
		.columns = "e.address",
		.emit = add_answer,
		.ctx = names,
		.unfiltered = true,
		.optional = true,
		.names_rows = true,
	};
}

void dns_fields(struct field fields[DNS_FIELDS], bool shown)
{
	fields[DNS_QUERY_SHOWN] = (struct field){"QUERY", NULL, 0, FIELD_TEXT, shown};
	fields[DNS_QUERY] = (struct field){NULL, shown ? "query" : NULL, 0, FIELD_TEXT, false};
	fields[DNS_AGE] = (struct field){NULL, shown ? "query_age_ns" : NULL, 0, FIELD_INT, false};
}

/*
 * " (123.342ms)", as BCC prints the age (%.3f, rounded to the microsecond),
 * without printf's cost per connect; the length written.
 */
static size_t put_ms(char *out, int64_t ns)
{
	unsigned long long us = ((unsigned long long)ns + 500) / 1000;
	char digits[24];
	int n = 0;
	char *p = out;

	do
		digits[n++] = (char)('0' + us % 10);
	while ((us /= 10) || n < 4);
	p = stpcpy(p, " (");
	while (n > 3)
		*p++ = digits[--n];
	*p++ = '.';
	while (n)
		*p++ = digits[--n];
	return (size_t)(stpcpy(p, "ms)") - out);
}

/* 127.0.0.0/8, ::1, and 127.x as IPv4-mapped IPv6 (peers unmaps that form). */
static bool loopback(const char *text)
{
	return !strncmp(text, "127.", 4) || !strcmp(text, "::1");
}

int dns_values(struct dns_names *n, const struct event *ev, int64_t address_id,
	       struct value values[DNS_FIELDS])
{
	uint32_t peer = peer_of(n->peers, ev->cap, address_id);
	uint64_t *slot;
	const struct answer *a;
	int64_t age;

	if (!peer)
		return -1;
	slot = hashmap_find(&n->index, (uint64_t)peers_host(n->peers, ev->cap), peer);
	if (!slot) {
		const char *none = loopback(peer_text(n->peers, peer)) ? "localhost" : NULL;

		values[DNS_QUERY_SHOWN] = text_value(none ? none : "No DNS Query",
						     strlen(none ? none : "No DNS Query"));
		values[DNS_QUERY] = none ? text_value(none, strlen(none)) : null_value();
		values[DNS_AGE] = null_value();
		return 0;
	}
	a = &n->answers[*slot - 1];
	age = ev->wall_ns - a->wall_ns;
	values[DNS_QUERY] = text_value(a->name, a->len);
	values[DNS_AGE] = int_value(age);
	if (age <= DNS_AGE_SHOWN_NS) {
		values[DNS_QUERY_SHOWN] = values[DNS_QUERY];
		return 0;
	}
	/* Names are at most DNS_NAME_MAX bytes (dns_answer_name): the age fits after. */
	memcpy(n->query, a->name, a->len);
	values[DNS_QUERY_SHOWN] = text_value(n->query, a->len + put_ms(n->query + a->len, age));
	return 0;
}
