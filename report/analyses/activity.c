/*
 * Events over time by kind: one range count on the clustering key (t) per
 * bucket and table, which SQLite answers from the b-tree; on a capture read
 * as immutable, the table's pages counted at once (pages_count()), most
 * leaves by their cell counts alone.
 */
#include <stdio.h>
#include <string.h>

#include "activity.h"
#include "pages.h"

static const struct {
	const char *name, *table, *condition;
} kinds[ACT_KINDS] = {
	[ACT_CONNECT] = {"connect", "ev_connect", ""},
	[ACT_ACCEPT] = {"accept", "ev_accept", ""},
	[ACT_UNACCEPTED] = {"unaccepted", "ev_unaccepted", ""},
	[ACT_RESET] = {"reset", "ev_reset", ""},
	[ACT_CAPABLE] = {"capable", "ev_capable", ""},
	[ACT_EXEC] = {"exec", "process", " AND how = 'exec'"},
	[ACT_EXIT] = {"exit", "ev_exit", ""},
	[ACT_DNS] = {"dns", "dns", ""},
};

const char *activity_kind_name(enum activity_kind kind)
{
	return kinds[kind].name;
}

void activity_span(const struct captures *set, const struct options *opts, struct activity *a)
{
	*a = (struct activity){.from_ns = INT64_MAX, .to_ns = INT64_MIN};
	for (int i = 0; i < set->count; i++) {
		const struct capture *cap = set->list[i];
		int64_t end = cap->clean ? cap->stopped_ns : cap->last_commit_ns;

		if (cap->started_ns < a->from_ns)
			a->from_ns = cap->started_ns;
		if (end > a->to_ns)
			a->to_ns = end;
	}
	if (opts->since_ns > a->from_ns)
		a->from_ns = opts->since_ns;
	if (opts->until_ns < a->to_ns)
		a->to_ns = opts->until_ns;
	if (a->to_ns <= a->from_ns)
		a->to_ns = a->from_ns + 1;
	a->bucket_ns = (a->to_ns - a->from_ns + ACTIVITY_BUCKETS - 1) / ACTIVITY_BUCKETS;
}

/*
 * One kind of one capture from its table's pages: 1 counted, 0 when SQL
 * must count it, -1 after one line.
 */
static int count_pages(struct capture *cap, enum activity_kind kind, struct activity *a)
{
	struct pages *p = NULL;
	int64_t counts[ACTIVITY_BUCKETS] = {0};
	int rc = 0;

	if (cap->immutable && !*kinds[kind].condition)
		p = pages_open(cap->db, kinds[kind].table, "e.t", 1);
	if (p)
		rc = pages_count(p, a->from_ns - (cap->base_ns + cap->realtime_offset_ns),
				 a->bucket_ns, ACTIVITY_BUCKETS, counts);
	if (rc < 0)
		fprintf(stderr, "report: %s: cannot count %s events: %s%s\n", cap->name,
			kinds[kind].name, pages_corrupt(p) ? "corrupt capture: " : "",
			pages_error(p));
	for (int b = 0; rc > 0 && b < ACTIVITY_BUCKETS; b++) {
		a->counts[kind][b] += counts[b];
		a->totals[kind] += counts[b];
	}
	pages_close(p);
	return rc;
}

/* One kind of one capture, bucket by bucket. */
static int count_kind(struct capture *cap, enum activity_kind kind, struct activity *a)
{
	char sql[160];
	sqlite3_stmt *stmt;
	int64_t offset = cap->base_ns + cap->realtime_offset_ns; /* wall = offset + t */
	int rc = count_pages(cap, kind, a);

	if (rc)
		return rc > 0 ? 0 : -1;
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE t >= ? AND t < ?%s",
		 kinds[kind].table, kinds[kind].condition);
	if (sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		fprintf(stderr, "report: %s: cannot count %s events: %s\n", cap->name,
			kinds[kind].name, capture_error(cap));
		return -1;
	}
	rc = SQLITE_ROW;
	for (int b = 0; b < ACTIVITY_BUCKETS && rc == SQLITE_ROW; b++) {
		int64_t from = a->from_ns + b * a->bucket_ns;

		sqlite3_bind_int64(stmt, 1, from - offset);
		sqlite3_bind_int64(stmt, 2, from + a->bucket_ns - offset);
		rc = sqlite3_step(stmt);
		if (rc == SQLITE_ROW) {
			a->counts[kind][b] += sqlite3_column_int64(stmt, 0);
			a->totals[kind] += sqlite3_column_int64(stmt, 0);
		}
		sqlite3_reset(stmt);
	}
	if (rc != SQLITE_ROW)
		fprintf(stderr, "report: %s: cannot count %s events: %s\n", cap->name,
			kinds[kind].name, capture_error(cap));
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 0 : -1;
}

int activity_count(struct captures *set, struct activity *a)
{
	for (int i = 0; i < set->count; i++)
		for (int k = 0; k < ACT_KINDS; k++) {
			if (!capture_has_column(set->list[i], kinds[k].table, NULL))
				continue;
			a->present[k] = true;
			if (count_kind(set->list[i], (enum activity_kind)k, a))
				return -1;
		}
	return 0;
}
