/* When and by whom a capture's records were lost. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "losses.h"
#include "util.h"

static int kind_index(const struct capture *cap, const unsigned char *name)
{
	for (int i = 0; name && i < cap->nkinds; i++)
		if (!strcmp(cap->kinds[i].name, (const char *)name))
			return i;
	return -1;
}

static bool count_ok(sqlite3_stmt *stmt, int column)
{
	return sqlite3_column_type(stmt, column) == SQLITE_INTEGER &&
	       sqlite3_column_int64(stmt, column) > 0 &&
	       sqlite3_column_int64(stmt, column) < CAPTURE_COUNT_MAX;
}

/* A row of table loss; NULL, or what is wrong with it. */
static const char *read_interval(struct capture *cap, sqlite3_stmt *stmt, void *row)
{
	struct loss_interval *interval = row;

	interval->kind = kind_index(cap, sqlite3_column_text(stmt, 0));
	if (interval->kind < 0)
		return "corrupt capture: a loss of a kind it does not have";
	if (!count_ok(stmt, 3) || sqlite3_column_type(stmt, 1) != SQLITE_INTEGER ||
	    sqlite3_column_type(stmt, 2) != SQLITE_INTEGER ||
	    !capture_wall_ns(cap, sqlite3_column_int64(stmt, 1), &interval->first_ns) ||
	    !capture_wall_ns(cap, sqlite3_column_int64(stmt, 2), &interval->last_ns) ||
	    interval->last_ns < interval->first_ns)
		return "corrupt capture: a loss interval out of range";
	interval->count = sqlite3_column_int64(stmt, 3);
	return NULL;
}

/* A row of table process_loss; NULL, or what is wrong with it. */
static const char *read_process(struct capture *cap, sqlite3_stmt *stmt, void *row)
{
	struct process_losses *p = row;
	const unsigned char *comm = sqlite3_column_text(stmt, 3);

	p->kind = kind_index(cap, sqlite3_column_text(stmt, 0));
	if (p->kind < 0)
		return "corrupt capture: a loss of a kind it does not have";
	if (!count_ok(stmt, 4))
		return "corrupt capture: a count out of range";
	p->count = sqlite3_column_int64(stmt, 4);
	p->pid = sqlite3_column_type(stmt, 1) == SQLITE_NULL ? -1 : sqlite3_column_int64(stmt, 1);
	p->start_ns = sqlite3_column_int64(stmt, 2);
	p->comm_len = comm ? (size_t)sqlite3_column_bytes(stmt, 3) : 0;
	if (p->pid < -1 || p->comm_len >= sizeof(p->comm))
		return "corrupt capture: a process out of range";
	memcpy(p->comm, comm ? (const char *)comm : "", p->comm_len);
	return NULL;
}

/* Run sql, one row at a time into the array at *rows (grown), by read. */
static int read_rows(struct capture *cap, const char *sql, void **rows, size_t *count, size_t size,
		     const char *(*read)(struct capture *, sqlite3_stmt *, void *))
{
	const char *corrupt = NULL;
	sqlite3_stmt *stmt;
	int rc = sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL);

	while (rc == SQLITE_OK && !corrupt && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		rc = SQLITE_OK;
		*rows = xrealloc(*rows, (*count + 1) * size);
		corrupt = read(cap, stmt, (char *)*rows + *count * size);
		*count += !corrupt;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_OK)
		corrupt = capture_error(cap);
	sqlite3_finalize(stmt);
	if (corrupt)
		fprintf(stderr, "report: %s: cannot read its losses: %s\n", cap->name, corrupt);
	return corrupt ? -1 : 0;
}

int losses_read(struct capture *cap, struct losses *losses)
{
	*losses = (struct losses){0};
	losses->kept = capture_has_column(cap, "loss", NULL) &&
		       capture_has_column(cap, "process_loss", NULL);
	if (!losses->kept)
		return 0;
	if (read_rows(cap, "SELECT kind, first_t, last_t, count FROM loss ORDER BY first_t, kind",
		      (void **)&losses->intervals, &losses->nintervals, sizeof(*losses->intervals),
		      read_interval) ||
	    read_rows(cap,
		      "SELECT kind, pid, start_ns, comm, count FROM process_loss "
		      "ORDER BY kind, pid IS NULL, count DESC, pid",
		      (void **)&losses->by_process, &losses->nby_process,
		      sizeof(*losses->by_process), read_process)) {
		losses_free(losses);
		return -1;
	}
	return 0;
}

void losses_free(struct losses *losses)
{
	free(losses->intervals);
	free(losses->by_process);
	*losses = (struct losses){0};
}

struct losses *losses_read_all(const struct captures *set)
{
	struct losses *all = xcalloc((size_t)set->count + 1, sizeof(*all));

	for (int i = 0; i < set->count; i++)
		if (losses_read(set->list[i], &all[i])) {
			losses_free_all(all, set);
			return NULL;
		}
	return all;
}

void losses_free_all(struct losses *all, const struct captures *set)
{
	for (int i = 0; all && i < set->count; i++)
		losses_free(&all[i]);
	free(all);
}

bool losses_span(const struct losses *losses, int kind, int64_t *first_ns, int64_t *last_ns)
{
	bool found = false;

	for (size_t i = 0; i < losses->nintervals; i++) {
		const struct loss_interval *l = &losses->intervals[i];

		if (l->kind != kind)
			continue;
		if (!found || l->first_ns < *first_ns)
			*first_ns = l->first_ns;
		if (!found || l->last_ns > *last_ns)
			*last_ns = l->last_ns;
		found = true;
	}
	return found;
}

const struct process_losses *losses_top_process(const struct losses *losses, int kind)
{
	/* Ordered most first, the unattributed last: a kind's first is the one. */
	for (size_t i = 0; i < losses->nby_process; i++)
		if (losses->by_process[i].kind == kind)
			return &losses->by_process[i];
	return NULL;
}

size_t losses_processes(const struct losses *losses, int kind)
{
	size_t n = 0;

	for (size_t i = 0; i < losses->nby_process; i++)
		n += losses->by_process[i].kind == kind && losses->by_process[i].pid >= 0;
	return n;
}

void losses_who(const struct process_losses *p, char *out, size_t size)
{
	if (p->pid < 0)
		snprintf(out, size, "%lld unattributed", (long long)p->count);
	else
		snprintf(out, size, "%lld from pid %lld %.*s", (long long)p->count,
			 (long long)p->pid, (int)p->comm_len, p->comm);
}

char *losses_skipped_sentence(const struct skipped_run *run)
{
	static const char format[] = "%lld runs of %s skipped by the kernel: %s events may be "
				     "missing";
	size_t size = sizeof(format) + 20 + strlen(run->program) + strlen(run->kinds);
	char *sentence = xmalloc(size);

	snprintf(sentence, size, format, (long long)run->runs, run->program, run->kinds);
	return sentence;
}
