/*
 * inserts: SQLite's own insert rate on this machine, the reference for the
 * recorder's.  ROWS rows of seven integers (the size of a capability check)
 * through one prepared statement, a commit every 65536 rows, WAL with
 * synchronous=NORMAL as in a capture, SQLite's default configuration.
 *
 *   inserts ROWS DIR    prints one line per table shape:
 *                       "table=NAME rows=N seconds=S cpu=C rate=R rows_per_cpu_s=P"
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define ROWS_PER_COMMIT 65536

static const struct shape {
	const char *name;
	const char *create;
} shapes[] = {
	{"rowid", "CREATE TABLE t (a INTEGER, b INTEGER, c INTEGER, d INTEGER, e INTEGER, "
		  "f INTEGER, g INTEGER)"},
	{"clustered", "CREATE TABLE t (a INTEGER NOT NULL, b INTEGER NOT NULL, c INTEGER, "
		      "d INTEGER, e INTEGER, f INTEGER, g INTEGER, PRIMARY KEY (a, b)) "
		      "WITHOUT ROWID"},
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static int fail(sqlite3 *db, const char *path)
{
	fprintf(stderr, "inserts: %s: %s\n", path, sqlite3_errmsg(db));
	sqlite3_close(db);
	return -1;
}

static int measure(const struct shape *shape, long rows, const char *dir)
{
	char path[4096];
	sqlite3 *db;
	sqlite3_stmt *insert;
	double start, cpu;

	snprintf(path, sizeof(path), "%s/inserts-%s.db", dir, shape->name);
	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL", NULL, NULL,
			 NULL) != SQLITE_OK ||
	    sqlite3_exec(db, shape->create, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &insert,
			       NULL) != SQLITE_OK)
		return fail(db, path);
	start = now();
	cpu = cpu_seconds();
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	for (long i = 0; i < rows; i++) {
		sqlite3_bind_int64(insert, 1, 1000000 + i * 7919);
		sqlite3_bind_int64(insert, 2, i + 1);
		sqlite3_bind_int64(insert, 3, 1 + i % 3);
		sqlite3_bind_int64(insert, 4, i % 41);
		sqlite3_bind_int64(insert, 5, 0);
		sqlite3_bind_int64(insert, 6, 0);
		sqlite3_bind_int64(insert, 7, i % 2);
		if (sqlite3_step(insert) != SQLITE_DONE)
			return fail(db, path);
		sqlite3_reset(insert);
		if ((i + 1) % ROWS_PER_COMMIT == 0 &&
		    sqlite3_exec(db, "COMMIT; BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			return fail(db, path);
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return fail(db, path);
	cpu = cpu_seconds() - cpu;
	start = now() - start;
	printf("table=%s rows=%ld seconds=%.3f cpu=%.3f rate=%.0f rows_per_cpu_s=%.0f\n",
	       shape->name, rows, start, cpu, rows / start, rows / cpu);
	sqlite3_finalize(insert);
	sqlite3_close(db);
	unlink(path);
	return 0;
}

int main(int argc, char **argv)
{
	long rows = argc == 3 ? atol(argv[1]) : 0;

	if (rows <= 0) {
		fprintf(stderr, "usage: inserts ROWS DIR\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		if (measure(&shapes[i], rows, argv[2]))
			return 1;
	return 0;
}
