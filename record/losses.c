/*
 * When and by whom records were lost.  The kernel counts losses per record
 * type (exact) and, in a bounded map, per process; the recorder looks at the
 * counts often and writes what grew between two looks as an interval, and
 * at every commit each part's losses by process.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "losses.h"
#include "util.h"

struct process_counts {
	struct entry {
		struct process_loss_key key;
		struct process_loss loss;
	} * entries; /* sorted by key, each once */
	size_t count;
};

struct loss_log {
	int64_t looked_t;		    /* the last look, as t */
	uint64_t written[RECORD_TYPES];	    /* losses the loss table holds */
	int64_t open_first_t[RECORD_TYPES]; /* the last interval written: its first look */
	int64_t open_last_t[RECORD_TYPES];  /* and its last; -1: none yet */
	uint64_t open_count[RECORD_TYPES];
	struct process_counts *since;	   /* the counts when the part began */
	struct process_counts *by_process; /* once it ended: its own, kept */
};

static int compare_keys(const void *a, const void *b)
{
	const struct process_loss_key *x = a, *y = b;

	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->type < y->type ? -1 : x->type > y->type;
}

/*
 * Walking a map the programs change: a key pushed out meanwhile sends the
 * walk back to the start, so a key may come twice (the later reading is
 * kept) and the walk is bounded.
 */
#define WALK_STEPS (4 * LOSS_PROCESSES)

int process_counts_read(int fd, struct process_counts **out)
{
	struct process_counts *counts = xcalloc(1, sizeof(*counts));
	struct process_loss_key key, next;
	size_t kept = 0;
	int err = 0;

	counts->entries = xmalloc(WALK_STEPS * sizeof(*counts->entries));
	for (int steps = 0; steps < WALK_STEPS; steps++) {
		struct entry *e = &counts->entries[counts->count];

		if (bpf_map_get_next_key(fd, steps ? &key : NULL, &next)) {
			err = errno == ENOENT ? 0 : -errno;
			break;
		}
		key = next;
		e->key = next;
		if (!bpf_map_lookup_elem(fd, &next, &e->loss))
			counts->count += next.type < RECORD_TYPES; /* the programs' types only */
		else if (errno != ENOENT) /* gone meanwhile: its losses go unattributed */
			err = -errno;
		if (err)
			break;
	}
	if (err) {
		process_counts_free(counts);
		return err;
	}
	qsort(counts->entries, counts->count, sizeof(*counts->entries), compare_keys);
	for (size_t i = 0; i < counts->count; i++) {
		if (kept && !compare_keys(&counts->entries[kept - 1].key, &counts->entries[i].key))
			kept--; /* read twice: the later count */
		counts->entries[kept++] = counts->entries[i];
	}
	counts->count = kept;
	*out = counts;
	return 0;
}

void process_counts_free(struct process_counts *counts)
{
	if (!counts)
		return;
	free(counts->entries);
	free(counts);
}

/*
 * The losses by process between two readings.  A count lower than before is
 * an entry pushed out and made again: all of it came after, the rest went
 * unattributed.
 */
static struct process_counts *difference(const struct process_counts *now,
					 const struct process_counts *before)
{
	struct process_counts *diff = xcalloc(1, sizeof(*diff));

	diff->entries = xcalloc(now->count ? now->count : 1, sizeof(*diff->entries));
	for (size_t i = 0; i < now->count; i++) {
		const struct entry *was =
			bsearch(&now->entries[i].key, before->entries, before->count,
				sizeof(*before->entries), compare_keys);
		uint64_t count = now->entries[i].loss.count;

		if (was && was->loss.count <= count)
			count -= was->loss.count;
		if (!count)
			continue;
		diff->entries[diff->count] = now->entries[i];
		diff->entries[diff->count++].loss.count = count;
	}
	return diff;
}

struct loss_log *loss_log_new(int64_t begin_t, struct process_counts *since)
{
	struct loss_log *log = xcalloc(1, sizeof(*log));

	log->looked_t = begin_t;
	for (int i = 0; i < RECORD_TYPES; i++)
		log->open_last_t[i] = -1;
	log->since = since;
	return log;
}

void loss_log_end(struct loss_log *log, const struct process_counts *counts)
{
	log->by_process = difference(counts, log->since);
}

int loss_log_look(struct loss_log *log, struct capture *cap, const uint64_t lost[RECORD_TYPES],
		  int64_t now_t)
{
	/* Looks are apart in time: an interval's first look names it. */
	if (now_t <= log->looked_t)
		now_t = log->looked_t + 1;
	for (int i = 0; i < RECORD_TYPES; i++) {
		uint64_t grew = lost[i] > log->written[i] ? lost[i] - log->written[i] : 0;

		if (!grew)
			continue;
		if (log->open_last_t[i] != log->looked_t) { /* none at the last look: a new one */
			log->open_first_t[i] = log->looked_t;
			log->open_count[i] = 0;
		}
		log->open_last_t[i] = now_t;
		log->open_count[i] += grew;
		log->written[i] = lost[i];
		if (capture_set_loss(cap, (enum record_type)i, log->open_first_t[i], now_t,
				     log->open_count[i]))
			return -1;
	}
	log->looked_t = now_t;
	return 0;
}

/*
 * A loss counted between the two readings at a part's start or end may be
 * seen by process in one part and in the totals of the other: a part never
 * names more losses than it has, the excess is given back.
 */
static void keep_within(struct process_counts *by_process, const uint64_t lost[RECORD_TYPES])
{
	uint64_t named[RECORD_TYPES] = {0};

	for (size_t i = 0; i < by_process->count; i++) {
		struct entry *e = &by_process->entries[i];
		uint64_t room = lost[e->key.type] - named[e->key.type];

		if (e->loss.count > room)
			e->loss.count = room;
		named[e->key.type] += e->loss.count;
	}
}

int loss_log_write_processes(struct loss_log *log, struct capture *cap,
			     const uint64_t lost[RECORD_TYPES], const struct process_counts *counts)
{
	struct process_counts *by_process =
		log->by_process ? log->by_process : difference(counts, log->since);
	uint64_t named[RECORD_TYPES] = {0};
	int err = capture_clear_process_losses(cap);

	keep_within(by_process, lost);
	for (size_t i = 0; i < by_process->count && !err; i++) {
		const struct entry *e = &by_process->entries[i];
		struct process_loss_row row = {
			.type = (enum record_type)e->key.type,
			.pid = e->key.pid,
			.start_ns = process_start_ns(e->key.start_ns),
			.comm = e->loss.comm,
			.count = e->loss.count,
		};

		named[e->key.type] += e->loss.count;
		if (row.count)
			err = capture_add_process_loss(cap, &row);
	}
	for (int i = 0; i < RECORD_TYPES && !err; i++) {
		struct process_loss_row row = {(enum record_type)i, CAPTURE_NULL, CAPTURE_NULL,
					       NULL, lost[i] - named[i]};

		if (row.count)
			err = capture_add_process_loss(cap, &row);
	}
	if (by_process != log->by_process)
		process_counts_free(by_process);
	return err;
}

void loss_log_free(struct loss_log *log)
{
	if (!log)
		return;
	process_counts_free(log->since);
	process_counts_free(log->by_process);
	free(log);
}
