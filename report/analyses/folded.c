/*
 * Folded stacks, the input of flame-graph tools: events counted per process
 * name and pair of stacks as they stream, then each pair's frames named once
 * and the lines that read the same added up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folded.h"
#include "tally.h"
#include "util.h"

/* Events are counted under this key: stack ids are a capture's own. */
struct folded_key {
	const struct capture *cap;
	int64_t id[STACK_KINDS];
	uint8_t has[STACK_KINDS];
	uint8_t has_comm;
	uint8_t comm_len;
	char comm[CAPTURE_TEXT_MAX];
};

struct folded {
	bool asked[STACK_KINDS];
	bool hosts; /* prefix the host: events from more than one */
	struct tally *counts;
};

struct folded *folded_new(const struct captures *set, const struct stack_choice *choice)
{
	struct folded *folded = xcalloc(1, sizeof(*folded));

	folded->asked[STACK_KERNEL] = choice->kernel;
	folded->asked[STACK_USER] = choice->user;
	folded->hosts = set->many_hosts;
	folded->counts = tally_new();
	return folded;
}

void folded_free(struct folded *folded)
{
	if (!folded)
		return;
	tally_free(folded->counts);
	free(folded);
}

int folded_add_stacks(struct folded *folded, struct capture *cap, const char *comm, size_t comm_len,
		      const struct event_stacks *stacks, int64_t n)
{
	struct folded_key key;

	memset(&key, 0, sizeof(key)); /* the key's bytes are hashed: no stray padding */
	key.cap = cap;
	for (int kind = 0; kind < STACK_KINDS; kind++) {
		if (!folded->asked[kind] || !stacks->has[kind])
			continue;
		key.has[kind] = 1;
		key.id[kind] = stacks->id[kind];
	}
	if (comm) {
		if (comm_len > sizeof(key.comm))
			comm_len = sizeof(key.comm); /* a task's comm never is: capture.c checks */
		key.has_comm = 1;
		key.comm_len = (uint8_t)comm_len;
		memcpy(key.comm, comm, comm_len);
	}
	tally_add(folded->counts, &key, offsetof(struct folded_key, comm) + key.comm_len, n);
	return 0;
}

int folded_add_event(struct folded *folded, const struct event *ev, int task_column)
{
	struct task task;

	if (event_null(ev, task_column))
		return folded_add_stacks(folded, ev->cap, NULL, 0, &ev->stacks, 1);
	if (capture_task(ev->cap, ev->col[task_column], &task))
		return -1;
	return folded_add_stacks(folded, ev->cap, task.comm, task.comm_len, &ev->stacks, 1);
}

int folded_add(struct folded *folded, const struct event *ev, const struct value *comm)
{
	return folded_add_stacks(folded, ev->cap, comm->null ? NULL : comm->s,
				 comm->null ? 0 : comm->len, &ev->stacks, 1);
}

/* A line being put together. */
struct line_buf {
	char *s;
	size_t len, size;
};

static char *room(struct line_buf *b, size_t more)
{
	if (b->len + more > b->size) {
		b->size = 2 * (b->len + more) + 256;
		b->s = xrealloc(b->s, b->size);
	}
	return b->s + b->len;
}

/* One part of the line (a name, a stack's names), after a ';' unless first. */
static void add_part(struct line_buf *b, const char *text, size_t len, bool rendered)
{
	if (!len)
		return;
	if (b->len) {
		*room(b, 1) = ';';
		b->len++;
	}
	if (rendered) {
		memcpy(room(b, len), text, len);
		b->len += len;
	} else {
		b->len += render_folded(text, len, room(b, 4 * len));
	}
}

/* The folded line of a key: frames named from its capture. */
static int folded_line(struct folded *folded, const struct folded_key *key, struct line_buf *b)
{
	static const char *const none[STACK_KINDS] = {"[no kernel stack]", "[no user stack]"};
	/* User frames first: the caller's side of the flame graph, at its base. */
	static const int order[STACK_KINDS] = {STACK_USER, STACK_KERNEL};
	struct capture *cap = (struct capture *)key->cap;
	const struct stack_text *text;

	b->len = 0;
	if (folded->hosts)
		add_part(b, cap->host, strlen(cap->host), false);
	if (key->has_comm)
		add_part(b, key->comm, key->comm_len, false);
	else
		add_part(b, "[no process]", strlen("[no process]"), true);
	for (int i = 0; i < STACK_KINDS; i++) {
		int kind = order[i];

		if (!folded->asked[kind])
			continue;
		if (!key->has[kind]) {
			add_part(b, none[kind], strlen(none[kind]), true);
			continue;
		}
		if (stack_text(cap, kind, key->id[kind], &text))
			return -1;
		add_part(b, text->folded, text->folded_len, true);
	}
	return 0;
}

int folded_print(struct folded *folded)
{
	struct tally *lines = tally_new();
	struct line_buf b = {0};
	struct tally_entry **entries;
	size_t n;
	int err = 0;

	/* Different stacks may read the same (the same functions at other offsets). */
	entries = tally_sorted(folded->counts, &n);
	for (size_t i = 0; i < n && !err; i++) {
		struct folded_key key;

		memcpy(&key, entries[i]->key, entries[i]->len);
		err = folded_line(folded, &key, &b);
		if (!err)
			tally_add(lines, b.s, b.len, entries[i]->count);
	}
	entries = tally_sorted(lines, &n);
	for (size_t i = 0; i < n && !err; i++) {
		b.len = 0;
		memcpy(room(&b, entries[i]->len), entries[i]->key, entries[i]->len);
		b.len = entries[i]->len;
		b.len += (size_t)snprintf(room(&b, 24), 24, " %lld", (long long)entries[i]->count);
		output_line(b.s, b.len);
	}
	free(b.s);
	tally_free(lines);
	return err;
}

int replay_with_stacks(struct captures *set, const struct event_query *queries, int nqueries,
		       const struct options *opts, const struct stack_choice *choice,
		       struct folded **folded, const struct field *fields, int count)
{
	int err;

	stacks_tell_missing(set, choice);
	if (!choice->folded) {
		output_begin(opts->format, opts->local, fields, count);
		return replay(set, queries, nqueries, opts);
	}
	*folded = folded_new(set, choice);
	err = replay(set, queries, nqueries, opts);
	if (!err)
		err = folded_print(*folded);
	folded_free(*folded);
	*folded = NULL;
	return err;
}
