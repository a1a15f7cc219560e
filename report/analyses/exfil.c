/* Exfiltration: bytes out per process and remote, from connection lives (exfil.h). */
#include <stdlib.h>
#include <string.h>

#include "exfil.h"
#include "hashmap.h"
#include "lives.h"
#include "util.h"

void exfil_defaults(struct exfil_thresholds *t)
{
	*t = (struct exfil_thresholds){.min_bytes = 1000000, .pcr = 0.8};
}

double exfil_pcr(int64_t sent, int64_t received)
{
	return sent + received ? (double)(sent - received) / (double)(sent + received) : 0;
}

struct tally {
	struct peers *peers;
	struct hashmap index; /* (host, pid), remote -> 1 + index in pairs */
	struct exfil_pair *pairs;
	size_t count, allocated;
};

static struct exfil_pair *pair_of(struct tally *t, const struct event *ev, const struct task *task,
				  int64_t task_id, uint32_t remote)
{
	int host = peers_host(t->peers, ev->cap);
	int64_t pid = task ? task->pid : -1;
	bool added;
	uint64_t *slot =
		hashmap_put(&t->index, (uint64_t)host << 32 | (uint32_t)pid, remote, &added);
	struct exfil_pair *p;

	if (!added)
		return &t->pairs[*slot - 1];
	if (t->count == t->allocated) {
		t->allocated = t->allocated ? 2 * t->allocated : 64;
		t->pairs = xrealloc(t->pairs, t->allocated * sizeof(*t->pairs));
	}
	p = &t->pairs[t->count++];
	*slot = t->count;
	*p = (struct exfil_pair){.host = host,
				 .pid = pid,
				 .remote = remote,
				 .cap = ev->cap,
				 .task = task_id,
				 .first_ns = INT64_MAX};
	return p;
}

static int count_life(const struct event *ev, const struct task *task, int64_t task_id,
		      enum life_opening opened, void *ctx)
{
	struct tally *t = ctx;
	uint32_t remote = peer_of(t->peers, ev->cap, ev->col[LIVES_RADDR]);
	struct exfil_pair *p;

	if (!remote)
		return -1;
	p = pair_of(t, ev, task, task_id, remote);
	p->connections++;
	p->sent += ev->col[LIVES_SENT];
	p->received += ev->col[LIVES_RECEIVED];
	/* The originator's side, as PCR is defined on: what it sent and was sent. */
	if (opened == OPENED_BY_CONNECT) {
		p->opened_sent += ev->col[LIVES_SENT];
		p->opened_received += ev->col[LIVES_RECEIVED];
	}
	if (ev->wall_ns < p->first_ns)
		p->first_ns = ev->wall_ns;
	p->last_ns = ev->wall_ns;
	return 0;
}

static int by_bytes_sent(const void *x, const void *y)
{
	const struct exfil_pair *a = x, *b = y;

	if (a->sent != b->sent)
		return a->sent > b->sent ? -1 : 1;
	return (a->first_ns > b->first_ns) - (a->first_ns < b->first_ns);
}

int find_exfil(struct captures *set, const struct options *opts, const struct exfil_thresholds *t,
	       struct peers *peers, struct exfil *out)
{
	struct tally tally = {.peers = peers};
	int err = replay_lives(set, opts, count_life, &tally);

	hashmap_clear(&tally.index);
	if (err) {
		free(tally.pairs);
		return -1;
	}
	for (size_t i = 0; i < tally.count; i++) {
		struct exfil_pair *p = &tally.pairs[i];

		p->flagged = p->opened_sent >= t->min_bytes &&
			     exfil_pcr(p->opened_sent, p->opened_received) >= t->pcr;
	}
	if (tally.count)
		qsort(tally.pairs, tally.count, sizeof(*tally.pairs), by_bytes_sent);
	*out = (struct exfil){tally.pairs, tally.count};
	return 0;
}

void exfil_free(struct exfil *e)
{
	free(e->list);
	*e = (struct exfil){0};
}
