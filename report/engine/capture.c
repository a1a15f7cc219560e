/*
 * Opening captures for reading: read-only, never modifying the evidence (nor
 * creating files beside it), refusing with one clear line whatever is not a
 * capture this report reads; their metadata, and cached lookups of the tasks,
 * addresses and names their events refer to.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "arena.h"
#include "capture.h"
#include "hashmap.h"
#include "output.h"
#include "pages.h"
#include "rovfs.h"
#include "schema.h"
#include "util.h"
#include "when.h"

/* Longest value a capture holds (a command line, a path): longer is not one. */
#define CAPTURE_VALUE_MAX (1 << 20)

/*
 * What SQLite may spend on captures: memory, all connections together (its
 * page caches and what a statement keeps: 6 MB at most for summary over a
 * million events; report's own structures are apart), and work per
 * connection, in virtual machine instructions per byte of the capture's
 * files (0.2 at most over the same capture, counted as SQLite's progress
 * handler counts them), at least WORK_MIN.  A capture that takes more is
 * built to burn the analyst's machine.
 */
#define SQLITE_HEAP_MAX ((int64_t)128 << 20)
/*
 * And, for each connection open beside the first, its page cache and 1 MiB
 * for its schema (some 43 kB) and statements: 128 MiB for all ran out at the
 * 34th of 100 captures of 1M events, when each connection's cache took
 * SQLite's default 2 MB.
 */
#define SQLITE_HEAP_PER_CONNECTION ((int64_t)1 << 20)
#define WORK_STEP		   10000
#define WORK_PER_BYTE		   100
#define WORK_MIN		   ((int64_t)1 << 30)

/*
 * The connections' page caches share a budget: SQLite's default (2000 KiB)
 * each for up to 8 captures (a report's connection and its reader's each),
 * less beside more, down to 64 KiB (16 pages).  A report streams its
 * tables in key order: a page is read once, and a cursor holds the pages
 * of its path; a larger cache holds pages no one reads again.
 */
#define PAGE_CACHE_BUDGET_KIB 32768
#define PAGE_CACHE_MAX_KIB    2000
#define PAGE_CACHE_MIN_KIB    64

/*
 * What schema.sql, run in memory, defines: its format, its tables' columns
 * as JSON ({"task": [["id", "INTEGER", 1], ...]}: name, type, place in the
 * primary key) and its indexes ({"dns_by_address": "CREATE INDEX ..."}).
 */
static struct {
	bool read;
	int format;
	char *tables, *indexes;
} schema;

static void read_schema(void)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;

	schema.read = true;
	if (sqlite3_open(":memory:", &db) == SQLITE_OK &&
	    sqlite3_exec(db, casefile_schema_sql, NULL, NULL, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db,
			       "SELECT (SELECT user_version FROM pragma_user_version), "
			       "(SELECT json_group_object(s.name, (SELECT json_group_array("
			       "json_array(c.name, upper(c.type), c.pk)) FROM "
			       "pragma_table_xinfo(s.name) c)) FROM sqlite_schema s WHERE s.type = "
			       "'table'), (SELECT json_group_object(name, sql) FROM sqlite_schema "
			       "WHERE type = 'index' AND sql IS NOT NULL)",
			       -1, &stmt, NULL) == SQLITE_OK) {
		if (sqlite3_step(stmt) == SQLITE_ROW) {
			schema.format = sqlite3_column_int(stmt, 0);
			schema.tables = xstrdup((const char *)sqlite3_column_text(stmt, 1));
			schema.indexes = xstrdup((const char *)sqlite3_column_text(stmt, 2));
		}
		sqlite3_finalize(stmt);
	}
	sqlite3_close(db);
}

/* Its user_version is the format this build writes. */
int supported_format(void)
{
	if (!schema.read)
		read_schema();
	return schema.format;
}

const char *capture_error(struct capture *cap)
{
	free(cap->error);
	cap->error = render_string(cap->work_left < 0
					   ? "it takes more work than a capture of its size can"
					   : sqlite3_errmsg(cap->db));
	return cap->error;
}

/* --- Opening --------------------------------------------------------------- */

/* SQLite's progress handler: nonzero interrupts the statement. */
static int over_budget(void *data)
{
	struct capture *cap = data;

	cap->work_left -= WORK_STEP;
	return cap->work_left < 0;
}

static char *sibling_path(const char *path, const char *suffix)
{
	char *name = xmalloc(strlen(path) + strlen(suffix) + 1);

	return strcat(strcpy(name, path), suffix);
}

static bool sibling_exists(const char *path, const char *suffix, struct stat *st)
{
	char *sibling = sibling_path(path, suffix);
	bool exists = !stat(sibling, st);

	if (!exists)
		memset(st, 0, sizeof(*st));
	free(sibling);
	return exists;
}

/* A file: URI naming path exactly, every byte but [A-Za-z0-9._~-] escaped. */
static char *file_uri(const char *path, const char *parameters)
{
	static const char hex[] = "0123456789ABCDEF";
	char *uri = xmalloc(5 + 3 * strlen(path) + strlen(parameters) + 1), *p;

	p = stpcpy(uri, "file:");
	for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || strchr("._~-", *c)) {
			*p++ = (char)*c;
		} else {
			*p++ = '%';
			*p++ = hex[*c >> 4];
			*p++ = hex[*c & 15];
		}
	}
	strcpy(p, parameters);
	return uri;
}

/* "a FIFO": what a file that is not a regular one is, for a message. */
static const char *file_kind(mode_t mode)
{
	return S_ISDIR(mode)	? "a directory"
	       : S_ISFIFO(mode) ? "a FIFO"
	       : S_ISCHR(mode)	? "a character device"
	       : S_ISBLK(mode)	? "a block device"
	       : S_ISSOCK(mode) ? "a socket"
				: "not a regular file";
}

/*
 * Only a regular file is a capture: a FIFO would block the open forever, a
 * device is no evidence.  Opened without blocking, then asked what it is;
 * our own open() first, too, for the system's own words (Permission
 * denied...).  SQLite opens it again through the read-only VFS, which
 * checks the same.
 */
static int check_regular(struct capture *cap)
{
	int fd = open(cap->path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &cap->seen_db)) {
		fprintf(stderr, "report: cannot open %s: %s%s\n", cap->name, strerror(errno),
			errno == EMFILE ? " (raise the limit on open files: ulimit -n)" : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if (!S_ISREG(cap->seen_db.st_mode)) {
		fprintf(stderr, "report: cannot open %s: it is %s, not a capture file\n", cap->name,
			file_kind(cap->seen_db.st_mode));
		return -1;
	}
	return 0;
}

/*
 * Through the read-only VFS (rovfs.c): nothing SQLite does can change,
 * create or delete a file.  Beside a -wal or a rollback journal, SQLite
 * reads them (the WAL index in our own memory); with neither the file
 * alone is the whole capture, read as immutable (no locks, no -wal looked
 * for).
 */
/* The captures' connections open: SQLite's heap bound grows with them. */
static int64_t open_databases;
/* Each connection's page cache, set before the captures are opened (share_page_cache). */
static int64_t page_cache_kib = PAGE_CACHE_MAX_KIB;

/*
 * Beside more captures than this, the connections to one file share its
 * pages and its parsed schema (SQLite's shared cache): a fleet's captures
 * are each read on up to eight connections at once, and each parsed the
 * schema again (43 kB, a quarter of opening it) and kept pages of its own.
 * Not for fewer: a statement's step holds the file's cache, and the threads
 * reading one large capture at once would take turns.
 */
#define SHARED_CACHE_CAPTURES_MIN 5
static bool shared_cache;

static void bound_heap(void)
{
	sqlite3_hard_heap_limit64(SQLITE_HEAP_MAX +
				  (open_databases > 1 ? open_databases - 1 : 0) *
					  ((page_cache_kib << 10) + SQLITE_HEAP_PER_CONNECTION));
}

/* The budget's share of each of that many connections. */
static void share_page_cache(int connections)
{
	page_cache_kib = PAGE_CACHE_BUDGET_KIB / (connections > 1 ? connections : 1);
	if (page_cache_kib > PAGE_CACHE_MAX_KIB)
		page_cache_kib = PAGE_CACHE_MAX_KIB;
	if (page_cache_kib < PAGE_CACHE_MIN_KIB)
		page_cache_kib = PAGE_CACHE_MIN_KIB;
}

#define SCAN_CACHE_KIB 128

void capture_scan_cache(struct capture *cap)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%lld",
		 (long long)(page_cache_kib < SCAN_CACHE_KIB ? page_cache_kib : SCAN_CACHE_KIB));
	sqlite3_exec(cap->db, sql, NULL, NULL, NULL);
}

/* The work the capture's connection may run from now on (see WORK_PER_BYTE). */
static void grant_work(struct capture *cap)
{
	cap->work_left = (cap->seen_db.st_size + cap->wal.size) * WORK_PER_BYTE;
	if (cap->work_left < WORK_MIN)
		cap->work_left = WORK_MIN;
}

static void lookup_row(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/*
 * wal_end: of the connection this one reads the capture beside (>= 0), that
 * it read no further into the -wal (rovfs.h): else a pass's reader, opened
 * later, could read events whose tasks its report's lookups do not find.
 */
static int open_database(struct capture *cap, int64_t wal_end)
{
	struct stat journal;
	bool has_wal = !rovfs_scan_wal(cap->path, &cap->wal);
	bool has_journal = sibling_exists(cap->path, "-journal", &journal);
	char parameters[64];
	char *uri;
	int rc;

	if (has_wal && wal_end >= 0)
		snprintf(parameters, sizeof(parameters), "?mode=ro&wal_end=%lld",
			 (long long)wal_end);
	else
		snprintf(parameters, sizeof(parameters), "%s",
			 has_wal || has_journal ? "?mode=ro" : "?mode=ro&immutable=1");
	uri = file_uri(cap->path, parameters);

	sibling_exists(cap->path, "-wal", &cap->seen_wal);
	if (check_regular(cap)) {
		free(uri);
		return -1;
	}
	rc = sqlite3_open_v2(uri, &cap->db,
			     SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX |
				     (shared_cache ? SQLITE_OPEN_SHAREDCACHE : 0),
			     rovfs_name());
	free(uri);
	/* A recorder that is stopping locks the file for a moment: wait for it. */
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(cap->db, 5000);
	/* The lookups keep their rows through it (lookup_row). */
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(cap->db, "lookup_row", -1,
					     SQLITE_UTF8 | SQLITE_DIRECTONLY, cap, lookup_row, NULL,
					     NULL);
	/* Bounds on what a capture can cost (see WORK_PER_BYTE). */
	if (cap->db)
		open_databases++;
	bound_heap();
	grant_work(cap);
	if (rc == SQLITE_OK)
		sqlite3_progress_handler(cap->db, WORK_STEP, over_budget, cap);
	/* Closing, SQLite would try to checkpoint: nothing to try. */
	if (rc == SQLITE_OK)
		rc = sqlite3_db_config(cap->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	/*
	 * A capture is data: its schema's expressions (generated columns,
	 * defaults) may call no function with side effects, no value is huge,
	 * and whatever SQLite needs aside (sorts, automatic indexes) stays in
	 * memory rather than in temporary files.
	 */
	if (rc == SQLITE_OK) {
		sqlite3_limit(cap->db, SQLITE_LIMIT_LENGTH, CAPTURE_VALUE_MAX);
		rc = sqlite3_exec(cap->db,
				  "PRAGMA trusted_schema = OFF; PRAGMA temp_store = MEMORY", NULL,
				  NULL, NULL);
	}
	/*
	 * A smaller page cache only beside many captures: the pragma reads the
	 * schema at once, and a part --follow opens as the recorder creates it
	 * would wait for the recorder's lock here (tests/report-follow.test.sh).
	 */
	if (rc == SQLITE_OK && page_cache_kib < PAGE_CACHE_MAX_KIB) {
		char sql[64];

		snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%lld", (long long)page_cache_kib);
		rc = sqlite3_exec(cap->db, sql, NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK) {
		fprintf(stderr, "report: cannot open %s: %s\n", cap->name, capture_error(cap));
		capture_release(cap);
		return -1;
	}
	cap->file = rovfs_file(cap->db);
	cap->immutable = !has_wal && !has_journal && !rovfs_file_stat(cap->db, &cap->read_from);
	/*
	 * A file read as immutable never changes under the connection: one
	 * transaction for all its statements, rather than one begun and ended
	 * at each (some 2,000 instructions a query by key: a fleet's captures
	 * each look up their processes' images one by one).
	 */
	if (cap->immutable && sqlite3_exec(cap->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "report: cannot read %s: %s\n", cap->name, capture_error(cap));
		capture_release(cap);
		return -1;
	}
	/* A hot journal is a write never finished: undoing it would write. */
	if (has_journal && sqlite3_exec(cap->db, "PRAGMA schema_version", NULL, NULL, NULL) &&
	    sqlite3_extended_errcode(cap->db) == SQLITE_READONLY_ROLLBACK) {
		fprintf(stderr,
			"report: cannot read %s: its -journal holds a write never finished, and "
			"undoing it would change the evidence\n",
			cap->name);
		capture_release(cap);
		return -1;
	}
	return 0;
}

static int pragma_int(sqlite3 *db, const char *sql, int *value)
{
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*value = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 0 : -1;
}

static char *column_text(sqlite3_stmt *stmt, int column)
{
	const unsigned char *text = sqlite3_column_text(stmt, column);
	size_t len = (size_t)sqlite3_column_bytes(stmt, column);
	char *copy = xmalloc(len + 1);

	if (text)
		memcpy(copy, text, len);
	copy[text ? len : 0] = '\0';
	return copy;
}

/*
 * One check of the capture's schema: sql (?1 the format's tables, ?2 its
 * indexes) gives the first object that fails it and what it is instead.
 */
static int schema_problem(struct capture *cap, const char *sql)
{
	sqlite3_stmt *stmt;
	char *name = NULL, *what = NULL;
	int rc = sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_bind_text(stmt, 1, schema.tables, -1, SQLITE_STATIC);
		if (sqlite3_bind_parameter_count(stmt) > 1)
			sqlite3_bind_text(stmt, 2, schema.indexes, -1, SQLITE_STATIC);
		rc = sqlite3_step(stmt);
		if (rc == SQLITE_ROW) {
			name = column_text(stmt, 0);
			what = column_text(stmt, 1);
		}
	}
	sqlite3_finalize(stmt);
	if (rc == SQLITE_ROW) {
		char *safe_name = render_string(name), *safe_what = render_string(what);

		fprintf(stderr, "report: %s is not a Casefile capture (its %s is %s)\n", cap->name,
			safe_name, safe_what);
		free(safe_name);
		free(safe_what);
	} else if (rc != SQLITE_DONE) {
		fprintf(stderr, "report: %s is not a Casefile capture: %s\n", cap->name,
			capture_error(cap));
	}
	free(name);
	free(what);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * A capture is data, not a program: every table report reads must be
 * defined as schema.sql defines it (its columns, their types, its primary
 * key; an older format may lack columns), and the capture may hold nothing
 * SQLite would run or that would steer it: no trigger, no virtual table
 * (its module would parse the capture's bytes), no generated or hidden
 * column (an expression per row read: hex(zeroblob(500000)) made a
 * thousand rows cost a gigabyte), no view in a table's place (a recursive
 * one never ends), no index or statistics of its own.
 */
static int check_tables(struct capture *cap)
{
	return schema_problem(
		       cap,
		       "SELECT name, CASE WHEN type = 'trigger' THEN 'a trigger' WHEN sql LIKE "
		       "'%VIRTUAL%' THEN 'a virtual table' ELSE 'not a plain table, view or "
		       "index' END FROM sqlite_schema WHERE sql IS NOT NULL AND NOT (sql GLOB "
		       "'CREATE TABLE *' OR sql GLOB 'CREATE VIEW *' OR sql GLOB 'CREATE "
		       "INDEX *' OR sql GLOB 'CREATE UNIQUE INDEX *') ORDER BY name LIMIT 1") ||
	       schema_problem(cap, "SELECT name, 'statistics that would steer SQLite''s plans' "
				   "FROM sqlite_schema WHERE name LIKE 'sqlite_stat%' LIMIT 1") ||
	       schema_problem(cap, "SELECT name, 'a ' || type FROM sqlite_schema WHERE type != "
				   "'table' AND name IN (SELECT key FROM json_each(?1)) ORDER BY "
				   "name LIMIT 1") ||
	       schema_problem(
		       cap,
		       "WITH known(t, c, type, pk) AS MATERIALIZED (SELECT k.key, "
		       "json_extract(c.value, '$[0]'), json_extract(c.value, '$[1]'), "
		       "json_extract(c.value, '$[2]') FROM json_each(?1) k, json_each(k.value) "
		       "c), ours(t, c, type, pk, hidden) AS MATERIALIZED (SELECT s.name, "
		       "x.name, upper(x.type), x.pk, x.hidden FROM sqlite_schema s, "
		       "pragma_table_xinfo(s.name) x WHERE s.type = 'table' AND s.name IN "
		       "(SELECT t FROM known)) "
		       "SELECT t || '.' || c, CASE hidden WHEN 0 THEN 'not a column of the "
		       "format' ELSE 'a generated or hidden column' END, hidden = 0 FROM ours o "
		       "WHERE hidden OR NOT EXISTS (SELECT 1 FROM known k WHERE k.t = o.t AND "
		       "k.c = o.c AND k.type = o.type) UNION ALL SELECT t, 'without the "
		       "format''s primary key', 2 FROM (SELECT * FROM (SELECT t, c, pk FROM "
		       "known WHERE pk > 0 AND t IN (SELECT t FROM ours) EXCEPT SELECT t, c, pk "
		       "FROM ours WHERE pk > 0) UNION SELECT * FROM (SELECT t, c, pk FROM ours "
		       "WHERE pk > 0 EXCEPT SELECT t, c, pk FROM known)) ORDER BY 3, 1 LIMIT 1") ||
	       schema_problem(cap,
			      "SELECT name, 'an index the format does not have' FROM "
			      "sqlite_schema WHERE type = 'index' AND sql IS NOT NULL AND sql "
			      "IS NOT (SELECT value FROM json_each(?2) WHERE key = name) ORDER "
			      "BY name LIMIT 1");
}

/*
 * The schema of the captures that passed check_tables, as sqlite_schema
 * holds it: a capture whose schema is the same text passes too, without the
 * checks' queries (a fleet's captures share one; checking each again took
 * a third of a report's time over 300 small ones).  Kept until exit.
 */
static struct {
	pthread_mutex_t lock;
	struct passed {
		char *text;
		/*
		 * capture_has_stacks()'s answer, of the schema alone: a query of
		 * sqlite_schema and a pragma, 290,000 instructions a capture.
		 * STACK_TABLES_UNKNOWN: not asked yet, or unreadable (each
		 * capture then says so).
		 */
		int stack_tables;
	} * list;
	size_t count;
} passed = {.lock = PTHREAD_MUTEX_INITIALIZER};

#define PASSED_MAX 16 /* schemas remembered: the formats a fleet mixes */

/* The capture's whole schema as text (to free), or NULL. */
static char *schema_text(struct capture *cap)
{
	sqlite3_stmt *stmt;
	char *text = NULL;

	if (sqlite3_prepare_v2(cap->db,
			       "SELECT group_concat(type || ' ' || name || ' ' || tbl_name || ' ' "
			       "|| ifnull(sql, ''), char(10)) FROM sqlite_schema",
			       -1, &stmt, NULL) != SQLITE_OK)
		return NULL;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		text = column_text(stmt, 0);
	sqlite3_finalize(stmt);
	return text;
}

/* Its place among those passed, or -1. */
static int schema_passed(const char *text)
{
	int found = -1;

	pthread_mutex_lock(&passed.lock);
	for (size_t i = 0; i < passed.count && found < 0; i++)
		if (!strcmp(passed.list[i].text, text))
			found = (int)i;
	pthread_mutex_unlock(&passed.lock);
	return found;
}

/* Its place among those passed, or -1 (too many). */
static int remember_passed(char *text)
{
	int at = -1;

	pthread_mutex_lock(&passed.lock);
	if (passed.count < PASSED_MAX) {
		passed.list = xrealloc(passed.list, (passed.count + 1) * sizeof(*passed.list));
		passed.list[passed.count] = (struct passed){.text = text};
		at = (int)passed.count++;
		text = NULL;
	}
	pthread_mutex_unlock(&passed.lock);
	free(text);
	return at;
}

static int check_schema(struct capture *cap)
{
	char *text = schema_text(cap);

	cap->schema = text ? schema_passed(text) : -1;
	if (cap->schema >= 0) {
		free(text);
		return 0;
	}
	if (check_tables(cap)) {
		free(text);
		return -1;
	}
	if (text)
		cap->schema = remember_passed(text);
	return 0;
}

static int check_format(struct capture *cap)
{
	int application_id;

	if (pragma_int(cap->db, "PRAGMA application_id", &application_id)) {
		fprintf(stderr, "report: %s is not a Casefile capture: %s\n", cap->name,
			capture_error(cap));
		return -1;
	}
	if (application_id != CAPTURE_APPLICATION_ID) {
		fprintf(stderr, "report: %s is not a Casefile capture\n", cap->name);
		return -1;
	}
	if (pragma_int(cap->db, "PRAGMA user_version", &cap->format) || cap->format < 1) {
		fprintf(stderr, "report: %s is not a Casefile capture (no format version)\n",
			cap->name);
		return -1;
	}
	if (cap->format > supported_format()) {
		fprintf(stderr,
			"report: %s was made by a newer casefile (format %d); this report reads "
			"up to %d\n",
			cap->name, cap->format, supported_format());
		return -1;
	}
	return check_schema(cap);
}

#define METADATA_TEXTS 9

/* The capture row's text columns, in the order read_capture_row selects them. */
static void metadata_texts(struct capture *cap, char **texts[METADATA_TEXTS])
{
	char **all[METADATA_TEXTS] = {&cap->tool_version,   &cap->host,	       &cap->kernel_release,
				      &cap->kernel_version, &cap->machine,     &cap->boot_id,
				      &cap->command_line,   &cap->event_kinds, &cap->stop_reason};

	memcpy(texts, all, sizeof(all));
}

static void free_metadata(struct capture *cap)
{
	char **texts[METADATA_TEXTS];

	metadata_texts(cap, texts);
	for (int i = 0; i < METADATA_TEXTS; i++) {
		free(*texts[i]);
		*texts[i] = NULL;
	}
}

static int check_clocks(const struct capture *cap)
{
	const int64_t clocks[] = {cap->base_ns, cap->realtime_offset_ns, cap->started_ns,
				  cap->last_commit_ns, cap->stopped_ns};

	for (size_t i = 0; i < ARRAY_SIZE(clocks); i++) {
		if (clocks[i] < 0 || clocks[i] >= CAPTURE_CLOCK_MAX) {
			fprintf(stderr,
				"report: %s: cannot read the capture's metadata: corrupt capture: "
				"a clock out of range\n",
				cap->name);
			return -1;
		}
	}
	return 0;
}

/* The recorder's network namespace, in captures that say it. */
static int read_netns(struct capture *cap)
{
	sqlite3_stmt *stmt;
	int rc;

	cap->netns = -1;
	if (!capture_has_column(cap, "capture", "netns"))
		return SQLITE_ROW;
	rc = sqlite3_prepare_v2(cap->db, "SELECT ifnull(netns, -1) FROM capture WHERE id = 1", -1,
				&stmt, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
		cap->netns = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return rc;
}

static int read_capture_row(struct capture *cap)
{
	static const char sql[] =
		"SELECT tool_version, hostname, kernel_release, kernel_version, machine, boot_id, "
		"command_line, event_kinds, stop_reason, base_ns, realtime_offset_ns, "
		"started_at_ns, last_commit_at_ns, stopped_at_ns, clean_stop FROM capture WHERE id "
		"= 1";
	char **texts[METADATA_TEXTS];
	sqlite3_stmt *stmt;
	int rc = sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		free_metadata(cap);
		metadata_texts(cap, texts);
		for (int i = 0; i < METADATA_TEXTS; i++)
			*texts[i] = column_text(stmt, i);
		cap->host_len = strlen(cap->host);
		cap->base_ns = sqlite3_column_int64(stmt, 9);
		cap->realtime_offset_ns = sqlite3_column_int64(stmt, 10);
		cap->started_ns = sqlite3_column_int64(stmt, 11);
		cap->last_commit_ns = sqlite3_column_int64(stmt, 12);
		cap->stopped_ns = sqlite3_column_int64(stmt, 13);
		cap->clean = sqlite3_column_int(stmt, 14) != 0;
	}
	sqlite3_finalize(stmt);
	if (rc == SQLITE_ROW)
		rc = read_netns(cap);
	if (rc != SQLITE_ROW) {
		fprintf(stderr, "report: %s: cannot read the capture's metadata: %s\n", cap->name,
			rc == SQLITE_DONE ? "no capture row" : capture_error(cap));
		return -1;
	}
	return check_clocks(cap);
}

static struct kind_count *find_kind(struct capture *cap, const char *name)
{
	for (int i = 0; i < cap->nkinds; i++)
		if (!strcmp(cap->kinds[i].name, name))
			return &cap->kinds[i];
	return NULL;
}

/* How each kind was recorded; captures of recorders before it was kept do not say. */
static int read_mechanisms(struct capture *cap)
{
	static const char sql[] = "SELECT name, mechanism FROM event_kind";
	sqlite3_stmt *stmt;
	int rc;

	if (!capture_has_column(cap, "event_kind", "mechanism"))
		return 0;
	rc = sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		char *name = column_text(stmt, 0);
		struct kind_count *kind = find_kind(cap, name);

		rc = SQLITE_OK;
		free(name);
		if (!kind)
			continue;
		free(kind->mechanism);
		kind->mechanism =
			sqlite3_column_type(stmt, 1) == SQLITE_NULL ? NULL : column_text(stmt, 1);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "report: %s: cannot read the event kinds: %s\n", cap->name,
			capture_error(cap));
		return -1;
	}
	return 0;
}

static int read_kinds(struct capture *cap)
{
	static const char sql[] = "SELECT name, enabled, recorded, lost FROM event_kind "
				  "ORDER BY CASE name WHEN 'connect' THEN 1 WHEN 'outcome' THEN 2 "
				  "WHEN 'accept' THEN 3 WHEN 'reset' THEN 4 WHEN 'capable' THEN 5 "
				  "ELSE 6 END, name";
	const char *corrupt = NULL;
	sqlite3_stmt *stmt;
	int rc = sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL);

	while (rc == SQLITE_OK && !corrupt && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		char *name = column_text(stmt, 0);
		struct kind_count *kind = find_kind(cap, name);

		rc = SQLITE_OK;
		for (int i = 2; i <= 3; i++)
			if (sqlite3_column_type(stmt, i) != SQLITE_INTEGER ||
			    sqlite3_column_int64(stmt, i) < 0 ||
			    sqlite3_column_int64(stmt, i) >= CAPTURE_COUNT_MAX)
				corrupt = "corrupt capture: a count out of range";
		if (!kind && cap->nkinds == CAPTURE_KINDS_MAX) {
			free(name);
			continue;
		}
		if (!kind) {
			kind = &cap->kinds[cap->nkinds++];
			kind->name = name;
		} else {
			free(name);
		}
		kind->enabled = sqlite3_column_int(stmt, 1) != 0;
		kind->recorded = sqlite3_column_int64(stmt, 2);
		kind->lost = sqlite3_column_int64(stmt, 3);
	}
	if (rc != SQLITE_DONE && rc != SQLITE_OK)
		corrupt = capture_error(cap);
	sqlite3_finalize(stmt);
	if (corrupt) {
		fprintf(stderr, "report: %s: cannot read the event kinds: %s\n", cap->name,
			corrupt);
		return -1;
	}
	return read_mechanisms(cap);
}

static struct skipped_run *find_skipped(struct capture *cap, const char *program)
{
	for (int i = 0; i < cap->nskipped; i++)
		if (!strcmp(cap->skipped[i].program, program))
			return &cap->skipped[i];
	return NULL;
}

/* Table skipped_run, absent from captures of older recorders; kept across --follow's reads. */
static int read_skipped_runs(struct capture *cap)
{
	static const char sql[] = "SELECT program, kinds, runs FROM skipped_run WHERE runs IS NOT "
				  "0 ORDER BY program";
	const char *corrupt = NULL;
	sqlite3_stmt *stmt;
	int rc;

	if (!capture_has_column(cap, "skipped_run", NULL))
		return 0;
	rc = sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL);
	while (rc == SQLITE_OK && !corrupt && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		char *program = column_text(stmt, 0);
		struct skipped_run *run = find_skipped(cap, program);

		rc = SQLITE_OK;
		if (sqlite3_column_type(stmt, 2) != SQLITE_INTEGER ||
		    sqlite3_column_int64(stmt, 2) < 0 ||
		    sqlite3_column_int64(stmt, 2) >= CAPTURE_COUNT_MAX) {
			corrupt = "corrupt capture: a count out of range";
			free(program);
			break;
		}
		if (!run) {
			cap->skipped = xrealloc(cap->skipped, (size_t)(cap->nskipped + 1) *
								      sizeof(*cap->skipped));
			run = &cap->skipped[cap->nskipped++];
			*run = (struct skipped_run){.program = program,
						    .kinds = column_text(stmt, 1)};
		} else {
			free(program);
		}
		run->runs = sqlite3_column_int64(stmt, 2);
	}
	if (rc != SQLITE_DONE && rc != SQLITE_OK)
		corrupt = capture_error(cap);
	sqlite3_finalize(stmt);
	if (corrupt) {
		fprintf(stderr, "report: %s: cannot read its skipped runs: %s\n", cap->name,
			corrupt);
		return -1;
	}
	return 0;
}

/* What a damaged -wal left unread: said once, never repaired (that would change it). */
static void tell_wal(const struct capture *cap)
{
	if (!*cap->wal.trouble || cap->wal.live)
		return;
	fprintf(stderr, "report: %s: its -wal %s: %lld of its %lld bytes were not read\n",
		cap->name, cap->wal.trouble, (long long)(cap->wal.size - cap->wal.read_end),
		(long long)cap->wal.size);
}

static void free_capture(struct capture *cap);

struct capture *capture_open(const char *path, bool tell)
{
	struct capture *cap = xcalloc(1, sizeof(*cap));

	cap->schema = -1;
	cap->path = xstrdup(path);
	cap->name = render_string(path);
	if (!open_database(cap, -1) && tell)
		tell_wal(cap);
	if (!cap->db || check_format(cap) || read_capture_row(cap) || read_kinds(cap) ||
	    read_skipped_runs(cap)) {
		free_capture(cap);
		return NULL;
	}
	/*
	 * The pages its checks read are not read again soon: given back, the
	 * next capture's opening takes their memory instead of fresh pages (a
	 * fleet's captures are all open at once; see rovfs.c's register_vfs).
	 */
	sqlite3_db_release_memory(cap->db);
	return cap;
}

/*
 * Whether cap's connection reads the very file origin's checked: both opened
 * immutable (nothing beside them to change what they hold), the same inode
 * of the same size, modified at the same time.
 */
static bool same_file(const struct capture *cap, const struct capture *origin)
{
	const struct stat *a = &cap->read_from, *b = &origin->read_from;

	return cap->immutable && origin->immutable && a->st_dev == b->st_dev &&
	       a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Origin's metadata (as captures_open told it), into its copy cap. */
static void copy_metadata(struct capture *cap, const struct capture *origin)
{
	char **to[METADATA_TEXTS], **from[METADATA_TEXTS];

	metadata_texts(cap, to);
	metadata_texts((struct capture *)origin, from);
	for (int i = 0; i < METADATA_TEXTS; i++)
		*to[i] = xstrdup(*from[i]);
	cap->host_len = origin->host_len;
	cap->base_ns = origin->base_ns;
	cap->realtime_offset_ns = origin->realtime_offset_ns;
	cap->started_ns = origin->started_ns;
	cap->last_commit_ns = origin->last_commit_ns;
	cap->stopped_ns = origin->stopped_ns;
	cap->netns = origin->netns;
	cap->clean = origin->clean;
	cap->nkinds = origin->nkinds;
	for (int i = 0; i < origin->nkinds; i++) {
		cap->kinds[i] = origin->kinds[i];
		cap->kinds[i].name = xstrdup(origin->kinds[i].name);
		if (origin->kinds[i].mechanism)
			cap->kinds[i].mechanism = xstrdup(origin->kinds[i].mechanism);
	}
	cap->nskipped = origin->nskipped;
	cap->skipped =
		origin->nskipped ? xcalloc((size_t)origin->nskipped, sizeof(*cap->skipped)) : NULL;
	for (int i = 0; i < origin->nskipped; i++) {
		cap->skipped[i] = origin->skipped[i];
		cap->skipped[i].program = xstrdup(origin->skipped[i].program);
		cap->skipped[i].kinds = xstrdup(origin->skipped[i].kinds);
	}
}

/*
 * Origin opened again, on a connection of its own, reading what origin's
 * reads (of a live capture, as far into the -wal): checked as origin was,
 * unless it reads the very file origin's connection checked (a fleet's
 * copies each queried the schema and metadata again, a third of opening
 * them); its metadata origin's, the same for every copy.
 */
static struct capture *capture_copy(struct capture *origin)
{
	struct capture *cap = xcalloc(1, sizeof(*cap));

	cap->schema = -1;
	cap->path = xstrdup(origin->path);
	cap->name = xstrdup(origin->name);
	/*
	 * Not through origin->db: copies are made on several threads at once,
	 * and a connection opened without a mutex entered by two of them left
	 * its shared cache's lock held for good (summary over 300 captures hung).
	 */
	if (open_database(cap, origin->file ? rovfs_wal_end(origin->file) : -1)) {
		free_capture(cap);
		return NULL;
	}
	if (same_file(cap, origin)) {
		cap->format = origin->format;
		cap->schema = origin->schema;
	} else if (check_format(cap)) {
		free_capture(cap);
		return NULL;
	}
	copy_metadata(cap, origin);
	cap->origin = origin;
	return cap;
}

/* --- Telling what a capture lacks ------------------------------------------ */

static bool wanted(const char *const *kinds, const char *name)
{
	if (!kinds)
		return true;
	for (; *kinds; kinds++)
		if (!strcmp(*kinds, name))
			return true;
	return false;
}

/*
 * " from 2026-11-23T01:18:03.120Z to 2026-11-23T01:18:05.310Z": when a kind's
 * losses happened, as its loss intervals (table loss) span them; "" when the
 * capture does not tell.
 */
static void loss_span(struct capture *cap, const char *kind, char *out, size_t size)
{
	sqlite3_stmt *stmt;
	int64_t first, last;
	char from[WHEN_MAX], to[WHEN_MAX];

	*out = '\0';
	if (!capture_has_column(cap, "loss", NULL) ||
	    sqlite3_prepare_v2(cap->db, "SELECT min(first_t), max(last_t) FROM loss WHERE kind = ?",
			       -1, &stmt, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(stmt, 1, kind, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) == SQLITE_INTEGER &&
	    sqlite3_column_type(stmt, 1) == SQLITE_INTEGER &&
	    capture_wall_ns(cap, sqlite3_column_int64(stmt, 0), &first) &&
	    capture_wall_ns(cap, sqlite3_column_int64(stmt, 1), &last)) {
		format_rfc3339(first, false, from);
		format_rfc3339(last, false, to);
		snprintf(out, size, " from %s to %s", from, to);
	}
	sqlite3_finalize(stmt);
}

/*
 * "12 runs of tcp_state_change (connect,accept,close)": the skipped runs not told
 * yet, whatever kinds a subcommand reads (a program's kinds are record -e's).
 */
static void tell_skipped_runs(struct capture *cap)
{
	char list[1024] = "";
	size_t len = 0;

	for (int i = 0; i < cap->nskipped; i++) {
		struct skipped_run *run = &cap->skipped[i];
		char *program, *kinds;

		if (run->runs <= run->runs_told)
			continue;
		program = render_string(run->program);
		kinds = render_string(run->kinds);
		len += (size_t)snprintf(list + len, len < sizeof(list) ? sizeof(list) - len : 0,
					"%s%lld runs of %s (%s)", len ? ", " : "",
					(long long)run->runs, program, kinds);
		free(program);
		free(kinds);
		run->runs_told = run->runs;
	}
	if (len)
		fprintf(stderr,
			"report: %s: the kernel skipped %s: their events are missing, this "
			"report is incomplete\n",
			cap->name, list);
}

/* "3025 capable" or "12 connect, 3 outcome", and when if known: the losses not told yet. */
static void tell_losses(struct capture *cap, const char *const *kinds)
{
	char list[1024] = "", span[2 * WHEN_MAX + 16];
	size_t len = 0;

	for (int i = 0; i < cap->nkinds; i++) {
		struct kind_count *kind = &cap->kinds[i];

		char *name;

		if (!wanted(kinds, kind->name) || kind->lost <= kind->lost_told)
			continue;
		name = render_string(kind->name);
		loss_span(cap, kind->name, span, sizeof(span));
		len += (size_t)snprintf(list + len, len < sizeof(list) ? sizeof(list) - len : 0,
					"%s%lld %s%s", len ? ", " : "", (long long)kind->lost, name,
					span);
		free(name);
		kind->lost_told = kind->lost;
	}
	if (len)
		fprintf(stderr,
			"report: %s: the recorder lost records (%s): this report is incomplete\n",
			cap->name, list);
	tell_skipped_runs(cap);
}

/* Only for the kinds a subcommand named: no rows must not read as no events. */
static void tell_missing_kinds(struct capture *cap, const char *const *kinds)
{
	char list[256] = "", *asked;
	size_t len = 0;

	/* The kinds a subcommand names are ours: plain words. */
	for (int i = 0; kinds && i < cap->nkinds; i++)
		if (wanted(kinds, cap->kinds[i].name) && !cap->kinds[i].enabled)
			len += (size_t)snprintf(list + len,
						len < sizeof(list) ? sizeof(list) - len : 0, "%s%s",
						len ? ", " : "", cap->kinds[i].name);
	if (!len)
		return;
	asked = render_string(cap->event_kinds);
	fprintf(stderr, "report: %s: %s events were not recorded (record -e %s)\n", cap->name, list,
		asked);
	free(asked);
}

static void tell_unclean(const struct capture *cap)
{
	char when[WHEN_MAX], *reason;

	if (cap->clean)
		return;
	format_human(cap->last_commit_ns, false, when);
	reason = render_string(*cap->stop_reason ? cap->stop_reason
						 : "still recording, or the recorder was killed");
	fprintf(stderr, "report: %s: no clean stop (%s): nothing after %s is in it\n", cap->name,
		reason, when);
	free(reason);
}

/* --- The set of captures ------------------------------------------------------ */

static int resolve_time(struct options *opts, const char *name, const char *text,
			int64_t reference_ns, int64_t *unix_ns)
{
	if (text && parse_when(text, reference_ns, opts->local, unix_ns))
		return option_error(opts->command, "%s: '%s' is not a time (see --help)", name,
				    text);
	return 0;
}

static void count_hosts(struct captures *set)
{
	for (int i = 0; i < set->count; i++) {
		size_t len = strlen(set->list[i]->host);
		char *rendered = xmalloc(4 * len + 1);
		int width = (int)render_text(set->list[i]->host, len, rendered);

		free(rendered);
		if (width > set->host_width)
			set->host_width = width;
		if (strcmp(set->list[i]->host, set->list[0]->host))
			set->many_hosts = true;
	}
}

/*
 * A capture replayed holds two descriptors (the report's connection and its
 * reader's); summary's and html's analyses read it on three copies more at
 * once, each with its reader's: eight.  Raise the soft limit on open files
 * as far as the most needs, the hard one allowing, and when it allows less
 * than two per capture, say what to raise.  0, or -1 after one line (a
 * report that runs out of descriptors later says what to raise too).
 */
#define FILES_PER_CAPTURE      2
#define FILES_PER_CAPTURE_MOST 8
#define FILES_SPARE	       32 /* standard streams, a live capture's WAL, temporary files */

static int enough_files(int captures)
{
	rlim_t need = (rlim_t)captures * FILES_PER_CAPTURE + FILES_SPARE;
	rlim_t most = (rlim_t)captures * FILES_PER_CAPTURE_MOST + FILES_SPARE;
	struct rlimit limit;

	if (getrlimit(RLIMIT_NOFILE, &limit) || limit.rlim_cur >= most)
		return 0;
	if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < need) {
		fprintf(stderr,
			"report: %d captures need %llu open files, more than this process may "
			"open (%llu): raise the limit (ulimit -n %llu as root, LimitNOFILE=)\n",
			captures, (unsigned long long)need, (unsigned long long)limit.rlim_max,
			(unsigned long long)most);
		return -1;
	}
	if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < most)
		most = limit.rlim_max;
	if (limit.rlim_cur >= most)
		return 0;
	limit.rlim_cur = most;
	return setrlimit(RLIMIT_NOFILE, &limit) ? -1 : 0;
}

int captures_open(struct captures *set, struct options *opts, const char *const *kinds)
{
	*set = (struct captures){.list = xcalloc((size_t)opts->nfiles, sizeof(*set->list)),
				 .kinds = kinds};
	if (enough_files(opts->nfiles)) {
		captures_close(set);
		return -1;
	}
	share_page_cache(opts->nfiles * FILES_PER_CAPTURE);
	shared_cache = opts->nfiles >= SHARED_CACHE_CAPTURES_MIN;
	for (int i = 0; i < opts->nfiles; i++) {
		struct capture *cap = capture_open(opts->files[i], true);

		if (!cap) {
			captures_close(set);
			return -1;
		}
		cap->place = set->count;
		set->list[set->count++] = cap;
		if (i == 0 || cap->started_ns < set->earliest_start_ns)
			set->earliest_start_ns = cap->started_ns;
	}
	if (resolve_time(opts, "--since", opts->since_text, set->earliest_start_ns,
			 &opts->since_ns) ||
	    resolve_time(opts, "--until", opts->until_text, set->earliest_start_ns,
			 &opts->until_ns)) {
		captures_close(set);
		return -1;
	}
	count_hosts(set);
	for (int i = 0; i < set->count; i++) {
		tell_losses(set->list[i], kinds);
		tell_missing_kinds(set->list[i], kinds);
		if (!opts->follow)
			tell_unclean(set->list[i]);
	}
	return 0;
}

/*
 * The copies captures_close was done with, kept open on their origin for the
 * next captures_open_again (threads open and close copies at once): a report
 * replays its captures a dozen times (summary, html), and opening a capture
 * again, its schema parsed, took a third of a pass over a fleet's small ones.
 */
static pthread_mutex_t spares_lock = PTHREAD_MUTEX_INITIALIZER;

static struct capture *take_spare(struct capture *origin)
{
	struct capture *cap;

	pthread_mutex_lock(&spares_lock);
	cap = origin->spares;
	if (cap)
		origin->spares = cap->spares;
	pthread_mutex_unlock(&spares_lock);
	if (cap) {
		cap->spares = NULL;
		grant_work(cap); /* each use as much as a fresh copy may run */
	}
	return cap;
}

/* The origin's copies not in use, closed: with it, or between --follow's polls. */
static void free_spares(struct capture *origin)
{
	struct capture *cap, *next;

	pthread_mutex_lock(&spares_lock);
	cap = origin->spares;
	origin->spares = NULL;
	pthread_mutex_unlock(&spares_lock);
	for (; cap; cap = next) {
		next = cap->spares;
		cap->spares = NULL;
		free_capture(cap);
	}
}

int captures_open_again(struct captures *copy, const struct captures *set)
{
	*copy = *set;
	copy->list = xcalloc((size_t)set->count, sizeof(*copy->list));
	copy->count = 0;
	for (int i = 0; i < set->count; i++) {
		struct capture *origin = set->list[i]->origin ? set->list[i]->origin : set->list[i];
		struct capture *cap = take_spare(origin);

		if (!cap)
			cap = capture_copy(origin);
		if (!cap) {
			captures_close(copy);
			return -1;
		}
		cap->place = copy->count;
		copy->list[copy->count++] = cap;
	}
	return 0;
}

void captures_close(struct captures *set)
{
	for (int i = 0; i < set->count; i++) {
		struct capture *cap = set->list[i];

		if (cap->origin && cap->db) {
			pthread_mutex_lock(&spares_lock);
			cap->spares = cap->origin->spares;
			cap->origin->spares = cap;
			pthread_mutex_unlock(&spares_lock);
		} else {
			free_capture(cap);
		}
	}
	free(set->list);
	set->list = NULL;
	set->count = 0;
}

/* --- Following ---------------------------------------------------------------- */

static bool same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

bool capture_changed(struct capture *cap)
{
	struct stat db, wal;

	if (stat(cap->path, &db))
		return true; /* gone: reopening says why */
	sibling_exists(cap->path, "-wal", &wal);
	return !same_file_state(&db, &cap->seen_db) || !same_file_state(&wal, &cap->seen_wal);
}

static void tables_may_grow(struct capture *cap);

int capture_reopen(struct capture *cap, const char *const *kinds)
{
	tables_may_grow(cap);
	if (!cap->db && (open_database(cap, -1) || check_format(cap)))
		return -1;
	if (read_capture_row(cap) || read_kinds(cap) || read_skipped_runs(cap))
		return -1;
	tell_losses(cap, kinds);
	return 0;
}

bool capture_has_column(struct capture *cap, const char *table, const char *column)
{
	return sqlite3_table_column_metadata(cap->db, "main", table, column, NULL, NULL, NULL, NULL,
					     NULL) == SQLITE_OK;
}

/*
 * Captures made before stacks existed have none of their tables: no stacks,
 * no error.  Events join event_stack on seq: it must be its key (its rowid),
 * or an event would come out once per row naming it.
 */
int capture_has_stacks(struct capture *cap, bool *present)
{
	static const char sql[] =
		"SELECT (SELECT count(*) FROM sqlite_schema WHERE name IN "
		"('event_stack', 'stack', 'stack_frame', 'module')), "
		"(SELECT count(*) = 1 AND sum(name = 'seq' AND upper(type) = 'INTEGER') = 1 "
		"FROM pragma_table_info('event_stack') WHERE pk > 0)";
	const char *corrupt = NULL;
	sqlite3_stmt *stmt;
	int count = -1;

	if (cap->stack_tables == STACK_TABLES_UNREADABLE)
		return -1; /* said once */
	if (cap->stack_tables == STACK_TABLES_UNKNOWN && cap->schema >= 0) {
		pthread_mutex_lock(&passed.lock);
		cap->stack_tables = passed.list[cap->schema].stack_tables;
		pthread_mutex_unlock(&passed.lock);
	}
	if (cap->stack_tables == STACK_TABLES_UNKNOWN) {
		if (sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL) == SQLITE_OK) {
			if (sqlite3_step(stmt) == SQLITE_ROW) {
				count = sqlite3_column_int(stmt, 0);
				if (count == 4 && !sqlite3_column_int(stmt, 1))
					corrupt =
						"corrupt capture: event_stack is not keyed on seq";
			}
			sqlite3_finalize(stmt);
		}
		if (count != 0 && count != 4)
			corrupt = "corrupt capture: some stack tables are missing";
		if (count < 0 || corrupt) {
			fprintf(stderr, "report: %s: cannot read its stacks: %s\n", cap->name,
				corrupt ? corrupt : capture_error(cap));
			cap->stack_tables = STACK_TABLES_UNREADABLE;
			return -1;
		}
		cap->stack_tables = count == 4 ? STACK_TABLES_PRESENT : STACK_TABLES_ABSENT;
		if (cap->schema >= 0) {
			pthread_mutex_lock(&passed.lock);
			passed.list[cap->schema].stack_tables = cap->stack_tables;
			pthread_mutex_unlock(&passed.lock);
		}
	}
	*present = cap->stack_tables == STACK_TABLES_PRESENT;
	return 0;
}

/* --- Lookups -------------------------------------------------------------------- */

enum lookup_kind {
	LOOKUP_TASK,
	LOOKUP_ADDRESS,
	LOOKUP_CAP_NAME,
	LOOKUP_TCP_STATE,
	LOOKUP_RESET_REASON,
	LOOKUP_CGROUP,
	LOOKUPS
};

/*
 * A cache slot: the spec's numbers, then room for a text of up to
 * TEXT_INLINE bytes (an IPv4 address, a comm); a longer one (IPv6, a path)
 * is kept in the lookup's overflow; then, in a keyed lookup's slots, the id.
 * Slots are as small as their table allows: a report over many addresses
 * waits on memory, not on code, and a fleet keeps a cache per capture (72
 * bytes an address with room for the longest, 590 kB a capture of 20,000
 * events; 40 with its id, 32 in a table read whole: two to a cache line,
 * and some 55 kB less fresh memory a capture).
 */
#define TEXT_INLINE 16

struct cached {
	bool filled, found;
	bool plain; /* the text needs no escaping in any format (output.h) */
	uint8_t len;
	uint32_t overflow_at; /* a longer text's place in the overflow */
	int64_t numbers[];    /* spec->numbers of them, then TEXT_INLINE bytes of text */
};

/*
 * A direct-mapped cache per table, sized to the table's largest id up to a
 * bound.  Ids are dense from 1, so a table of up to that many rows never
 * misses twice; a larger one costs a read per miss.  A miss reads the block
 * of ids around it in one range of the key: a seek costs as much as some
 * fifty rows read in order, and events name neighbouring ids (those the
 * recorder added at the same time).
 */
/* The most numbers a spec has (a task's). */
#define LOOKUP_NUMBERS_MAX 9

static const struct lookup_spec {
	const char *table, *key;
	const char *cells;   /* lookup_row's: the key, numbers, then the text */
	const char *max_sql; /* the largest id */
	int numbers;
	int text_max;	    /* longer: a corrupt capture */
	unsigned max_slots; /* a power of two; tasks: an hour of a busy server has 49k */
	const char *what;   /* NULL: absence is no error */
	bool text_only;	    /* no NUL in the text either (an address) */
} lookup_specs[LOOKUPS] = {
	[LOOKUP_TASK] = {"task", "id",
			 "id, pid, tid, ppid, uid, cgroup, mntns, start_ns, ifnull(netns, -1), "
			 "ifnull(nspid, -1), comm",
			 "SELECT max(id) FROM task", LOOKUP_NUMBERS_MAX, CAPTURE_TEXT_MAX, 65536,
			 "task", false},
	[LOOKUP_ADDRESS] = {"address", "id", "id, ip, addr", "SELECT max(id) FROM address", 1,
			    INET6_ADDRSTRLEN, 32768, "address", true},
	[LOOKUP_CAP_NAME] = {"cap_name", "cap", "cap, name", "SELECT max(cap) FROM cap_name", 0,
			     CAPTURE_TEXT_MAX, 64, NULL, false},
	[LOOKUP_TCP_STATE] = {"tcp_state", "state", "state, name",
			      "SELECT max(state) FROM tcp_state", 0, CAPTURE_TEXT_MAX, 16, NULL,
			      false},
	[LOOKUP_RESET_REASON] = {"reset_reason", "reason", "reason, name",
				 "SELECT max(reason) FROM reset_reason", 0, CAPTURE_TEXT_MAX, 64,
				 NULL, false},
	/* '' for a cgroup gone before its path was read; a longer path loses its front. */
	[LOOKUP_CGROUP] = {"cgroup", "id",
			   "id, CASE WHEN length(CAST(path AS BLOB)) > 255 THEN '...' || "
			   "substr(CAST(path AS BLOB), -252) ELSE ifnull(path, '') END",
			   "SELECT max(id) FROM cgroup", 0, CAPTURE_PATH_MAX, 1024, NULL, false},
};

/*
 * The same cells, read from the tables' pages (read_pages): the key, the
 * numbers, then the text.  The numbers of or_minus_one (bit i: number i)
 * read NULL as -1; path: a NULL text reads as '', one longer than
 * 3 + PATH_KEPT bytes as "..." and its last PATH_KEPT.
 */
static const struct page_columns {
	const char *names[LOOKUP_NUMBERS_MAX + 2];
	unsigned or_minus_one;
	bool path;
} page_columns[LOOKUPS] = {
	[LOOKUP_TASK] = {.names = {"id", "pid", "tid", "ppid", "uid", "cgroup", "mntns", "start_ns",
				   "netns", "nspid", "comm"},
			 .or_minus_one = 1u << 7 | 1u << 8},
	[LOOKUP_ADDRESS] = {.names = {"id", "ip", "addr"}},
	[LOOKUP_CAP_NAME] = {.names = {"cap", "name"}},
	[LOOKUP_TCP_STATE] = {.names = {"state", "name"}},
	[LOOKUP_RESET_REASON] = {.names = {"reason", "name"}},
	[LOOKUP_CGROUP] = {.names = {"id", "path"}, .path = true},
};

/* Ids a miss reads at once (a power of two, at most the fewest slots of a spec). */
#define LOOKUP_BLOCK 16

struct lookup {
	sqlite3_stmt *stmt;
	char *slots; /* arena_zalloc's */
	size_t slot_size;
	uint64_t mask;
	/*
	 * Its slots end with their id: a connection's, where ids share a slot.
	 * An origin's table read whole has one slot per id, the id its place.
	 */
	bool keyed;
	/*
	 * Slots made: mask + 1, but an origin's table's only up to its largest
	 * id: in huge pages (arena.h), the slots never filled would cost memory
	 * as much as the rest (90 kB a capture of a fleet).
	 */
	uint64_t made;
	bool whole; /* the table fits the slots: the first miss reads all of it */
	/*
	 * An origin's table read whole from its pages, every row kept: an id
	 * it lacks is in no row, and its last slot (made) is such an id's.
	 */
	bool complete;
	/*
	 * The texts longer than TEXT_INLINE, appended; when full, the live
	 * ones are gathered again once it holds as much as slots of the
	 * longest text would: it never exceeds twice that.
	 */
	char *overflow;
	size_t overflow_len, overflow_room;
	/*
	 * A connection's: its origin's table (whole_table) once asked for
	 * (tried), or NULL.  An origin's table: tried once, by whichever
	 * connection asked first.
	 */
	bool tried;
	const struct lookup *table;
	char *damaged; /* an origin's table's: why its pages could not be read */
};

/* A cached text: valid until the next lookup of its kind. */
static const char *cached_text(const struct lookup *l, const struct cached *c,
			       const struct lookup_spec *spec)
{
	return c->len > TEXT_INLINE ? l->overflow + c->overflow_at
				    : (const char *)&c->numbers[spec->numbers];
}

/*
 * A cached text into a caller's buffer: a short one as a copy of fixed size,
 * which the compiler makes two moves, where one of the text's length became
 * a string instruction that cost a timeline's merge some 40 cycles per
 * address (a tenth of its time).
 */
#define COPY_TEXT(to, l, c, spec)                                                                  \
	do {                                                                                       \
		_Static_assert(sizeof(to) >= TEXT_INLINE, "the buffer holds an inline text");      \
		if ((c)->len <= TEXT_INLINE)                                                       \
			memcpy((to), cached_text((l), (c), (spec)), TEXT_INLINE);                  \
		else                                                                               \
			memcpy((to), cached_text((l), (c), (spec)), (c)->len);                     \
	} while (0)

static struct cached *slot_at(const struct lookup *l, uint64_t index)
{
	return (struct cached *)(l->slots + index * l->slot_size);
}

/* A keyed lookup's slot's id. */
static int64_t *slot_id(const struct lookup *l, const struct cached *c)
{
	return (int64_t *)((char *)c + l->slot_size - sizeof(int64_t));
}

/* Whether slot c of l (id's place) holds id's row. */
static inline bool holds(const struct lookup *l, const struct cached *c, int64_t id)
{
	return c->filled && (!l->keyed || *slot_id(l, c) == id);
}

/* The overflow with only the texts of the slots that hold one. */
static void gather_overflow(struct lookup *l)
{
	char *texts = xmalloc(l->overflow_room);
	size_t len = 0;

	for (uint64_t i = 0; i < l->made; i++) {
		struct cached *c = slot_at(l, i);

		if (!c->filled || c->len <= TEXT_INLINE)
			continue;
		memcpy(texts + len, l->overflow + c->overflow_at, c->len);
		c->overflow_at = (uint32_t)len;
		len += c->len;
	}
	free(l->overflow);
	l->overflow = texts;
	l->overflow_len = len;
}

/* Keep a text longer than TEXT_INLINE (of a slot not holding one now): its place. */
static uint32_t overflow_put(struct lookup *l, const struct lookup_spec *spec, const void *text,
			     size_t len)
{
	size_t bound = (l->mask + 1) * (size_t)spec->text_max;
	uint32_t at;

	if (l->overflow_len + len > l->overflow_room && l->overflow_len + len > bound)
		gather_overflow(l);
	if (l->overflow_len + len > l->overflow_room) {
		l->overflow_room = 2 * l->overflow_room > l->overflow_len + len
					   ? 2 * l->overflow_room
					   : l->overflow_len + len + 256;
		l->overflow = xrealloc(l->overflow, l->overflow_room);
	}
	memcpy(l->overflow + l->overflow_len, text, len);
	at = (uint32_t)l->overflow_len;
	l->overflow_len += len;
	return at;
}

/* Slots for ids up to the table's largest (*largest), within the spec's bound. */
static uint64_t slots_for(struct capture *cap, const struct lookup_spec *spec, bool *whole,
			  int64_t *largest_id)
{
	sqlite3_stmt *stmt;
	int64_t largest = 0;
	uint64_t slots = LOOKUP_BLOCK;

	if (sqlite3_prepare_v2(cap->db, spec->max_sql, -1, &stmt, NULL) == SQLITE_OK) {
		if (sqlite3_step(stmt) == SQLITE_ROW)
			largest = sqlite3_column_int64(stmt, 0);
		sqlite3_finalize(stmt);
	}
	while (slots < spec->max_slots && (int64_t)slots <= largest)
		slots *= 2;
	*whole = (int64_t)slots > largest;
	*largest_id = largest;
	return slots;
}

static int lookup_failed(struct capture *cap, const struct lookup_spec *spec, int64_t id,
			 const char *why)
{
	fprintf(stderr, "report: %s: cannot read %s %lld: %s\n", cap->name,
		spec->what ? spec->what : "a name", (long long)id, why);
	return -1;
}

/*
 * The statement keeping the rows of ids ?2 to ?3 (block) or of the whole
 * table (a range read per row costs a tenth of it), to free.  Captures made
 * before process lives have no task.start_ns: 0 there; before namespaces,
 * no netns, nspid or cgroup paths.
 */
static char *lookup_sql(struct capture *cap, const struct lookup_spec *spec, bool block)
{
	const char *cells = spec->cells;
	size_t size;
	char *sql;

	if (spec == &lookup_specs[LOOKUP_TASK] && !capture_has_column(cap, "task", "start_ns"))
		cells = "id, pid, tid, ppid, uid, cgroup, mntns, 0, -1, -1, comm";
	else if (spec == &lookup_specs[LOOKUP_TASK] && !capture_has_column(cap, "task", "netns"))
		cells = "id, pid, tid, ppid, uid, cgroup, mntns, start_ns, -1, -1, comm";
	if (spec == &lookup_specs[LOOKUP_CGROUP] && !capture_has_column(cap, "cgroup", NULL))
		return xstrdup("SELECT ?1, ?2, ?3 WHERE 0");
	size = strlen(spec->table) + strlen(cells) + strlen(spec->key) + 80;
	sql = xmalloc(size);
	snprintf(sql, size, "SELECT 1 FROM %s WHERE lookup_row(%s)%s%s%s", spec->table, cells,
		 block ? " AND " : "", block ? spec->key : "", block ? " BETWEEN ?1 AND ?2" : "");
	return sql;
}

/* A row's text, taken out of its cell once. */
struct row_text {
	const void *bytes; /* NULL: empty */
	size_t len;
};

/*
 * Why a row whose text's bytes are text->bytes, len of them, is corrupt
 * (NULL if it is not), the rest of its text in *text.
 */
static const char *corrupt_text(const struct lookup_spec *spec, struct row_text *text, size_t len)
{
	if (len > (size_t)spec->text_max)
		return "corrupt capture: text too long";
	text->len = len;
	return NULL;
}

/*
 * Why the row of these cells (key, numbers, text) is corrupt; NULL if it is
 * not, its text in *text.
 */
static const char *corrupt_row(const struct lookup_spec *spec, sqlite3_value **cells,
			       struct row_text *text)
{
	text->bytes = sqlite3_value_blob(cells[1 + spec->numbers]);
	for (int i = 0; i <= spec->numbers; i++)
		if (sqlite3_value_type(cells[i]) != SQLITE_INTEGER)
			return "corrupt capture: a number that is not one";
	return corrupt_text(spec, text, (size_t)sqlite3_value_bytes(cells[1 + spec->numbers]));
}

static struct cached *slot_of(const struct lookup *l, int64_t id)
{
	return slot_at(l, (uint64_t)id & l->mask);
}

/*
 * The row of these numbers and text into its slot; or why its text is
 * corrupt (the slot then empty).  A short text is checked for escapes where
 * it is kept, in the slot's fixed room (some 140 instructions a row less
 * than a check of its length: a fleet's captures each read 7,600 rows).  A
 * NUL is no plain byte: only a text not plain is searched for one.
 */
static const char *keep_row(const struct lookup_spec *spec, struct lookup *l,
			    const int64_t *numbers, const struct row_text *text, int64_t id)
{
	struct cached *c = slot_of(l, id);
	char *inline_text = (char *)&c->numbers[spec->numbers];
	size_t len = text->len;
	bool plain;

	c->filled = false; /* its old text, if any, is no longer kept */
	if (len > TEXT_INLINE) {
		plain = text_is_plain(text->bytes, len);
	} else {
		if (len) /* an empty text may have no bytes at all */
			memcpy(inline_text, text->bytes, len);
		plain = text16_is_plain(inline_text, len);
	}
	if (spec->text_only && !plain && len && memchr(text->bytes, '\0', len))
		return "corrupt capture: not an address";
	if (len > TEXT_INLINE)
		c->overflow_at = overflow_put(l, spec, text->bytes, len);
	for (int i = 0; i < spec->numbers; i++)
		c->numbers[i] = numbers[i];
	c->len = (uint8_t)len;
	c->plain = plain;
	if (l->keyed)
		*slot_id(l, c) = id;
	c->found = true;
	c->filled = true;
	return NULL;
}

/*
 * What a lookup's statement keeps its rows into (those of ids first to last),
 * and what it saw of the id asked for.
 */
struct keeping {
	const struct lookup_spec *spec;
	struct lookup *l;
	int64_t first, last;
	int64_t id;
	bool seen;
	const char *corrupt; /* the id's row's; NULL: sound (or not seen) */
};

/*
 * lookup_row(key, numbers..., text), in a lookup's WHERE: keeps the row (of
 * the ids of its connection's keeping, keep_rows') within the statement's
 * own loop, which then returns none.  The keeping is the capture's, not a
 * bound pointer: taking one out of each row's argument cost some 50
 * instructions a row (its type's name compared).  A row
 * handed over a step at a time cost some 400 instructions more than its
 * cells (the step, each cell taken out): a fleet's captures each read
 * their small tables, 2.3M rows over 300 captures against 50k in one
 * capture of as many events.
 */
static void lookup_row(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const struct capture *cap = sqlite3_user_data(ctx);
	struct keeping *k = cap->keeping;
	sqlite3_value **cells = argv;
	struct row_text text;
	const char *why;
	int64_t id;

	if (!k || argc != k->spec->numbers + 2) {
		sqlite3_result_error(ctx, "lookup_row: not a lookup's statement", -1);
		return;
	}
	id = sqlite3_value_int64(cells[0]);
	if (id < k->first || id > k->last)
		return;
	why = corrupt_row(k->spec, cells, &text);
	if (!why) {
		int64_t numbers[LOOKUP_NUMBERS_MAX];

		for (int i = 0; i < k->spec->numbers; i++)
			numbers[i] = sqlite3_value_int64(cells[1 + i]);
		why = keep_row(k->spec, k->l, numbers, &text, id);
	}
	if (id == k->id) {
		k->seen = true;
		k->corrupt = why;
	}
}

/*
 * Keep every sound row of k's ids into its slots, noting what is seen of its
 * id (none: INT64_MIN): SQLITE_DONE, or SQLite's error (its message in
 * cap->error).  block: the statement reads the range ?1 to ?2, else the
 * whole table.
 */
static int keep_rows(struct capture *cap, sqlite3_stmt *stmt, struct keeping *k, bool block)
{
	int rc;

	cap->keeping = k;
	if (block) {
		sqlite3_bind_int64(stmt, 1, k->first);
		sqlite3_bind_int64(stmt, 2, k->last);
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		;
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		capture_error(cap);
	/* k is this frame's: never left in cap. */
	cap->keeping = NULL;
	return rc;
}

/*
 * Read the block of ids around id into their slots; the whole table at the
 * first miss when it fits them: one scan instead of a query per block (a
 * fleet's captures each have their own tables, mostly read whole).  A corrupt
 * row fails only the lookup of its own id: another's is left out of the cache.
 */
static int fill(struct capture *cap, const struct lookup_spec *spec, struct lookup *l, int64_t id)
{
	struct cached *c = slot_of(l, id);
	struct keeping k = {.spec = spec,
			    .l = l,
			    .first = id & ~(int64_t)(LOOKUP_BLOCK - 1),
			    .last = id | (LOOKUP_BLOCK - 1),
			    .id = id};
	int rc;

	if (l->whole && id >= 0 && (uint64_t)id <= l->mask) {
		k.first = 0;
		k.last = (int64_t)l->mask;
		l->whole = false;
	}
	if (!l->stmt) {
		char *sql = lookup_sql(cap, spec, true);

		rc = sqlite3_prepare_v3(cap->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &l->stmt,
					NULL);
		free(sql);
		if (rc != SQLITE_OK)
			return lookup_failed(cap, spec, id, capture_error(cap));
	}
	c->filled = false;
	rc = keep_rows(cap, l->stmt, &k, true);
	if (k.corrupt)
		return lookup_failed(cap, spec, id, k.corrupt);
	if (rc != SQLITE_DONE)
		return lookup_failed(cap, spec, id, cap->error);
	if (!k.seen && spec->what)
		return lookup_failed(cap, spec, id, "corrupt capture: not there");
	if (!k.seen) {
		*c = (struct cached){.filled = true};
		*slot_id(l, c) = id;
	}
	return 0;
}

/* A connection's slots; an origin's table's (whole): only those of its ids, when it fits. */
static void make_slots(struct capture *cap, const struct lookup_spec *spec, struct lookup *l,
		       bool whole)
{
	int64_t largest;
	uint64_t slots = slots_for(cap, spec, &l->whole, &largest);
	size_t size = sizeof(struct cached) + (size_t)spec->numbers * sizeof(int64_t) +
		      TEXT_INLINE + (whole ? 0 : sizeof(int64_t));

	l->keyed = !whole;
	l->slot_size = (size + 7) & ~(size_t)7;
	l->mask = slots - 1;
	l->made = whole && l->whole && largest >= 0 ? (uint64_t)largest + 1 : slots;
	/* An origin's table's, one more: that of the ids it lacks (complete), empty. */
	l->slots = arena_zalloc((l->made + whole) * l->slot_size);
}

/* A cgroup's path as its lookup's SQL keeps it: its last bytes when longer. */
#define PATH_KEPT 252

/*
 * The text of a row read from its pages into *text as the lookup's SQL
 * would make it: false when only SQL's conversions would (a number where
 * a text is, a text too long to have been read).
 */
static bool page_text(const struct page_columns *pc, const struct pages_value *v,
		      struct row_text *text, char tail[3 + PATH_KEPT])
{
	if (v->type == SQLITE_NULL) {
		*text = (struct row_text){0};
		return true;
	}
	if ((v->type != SQLITE_TEXT && v->type != SQLITE_BLOB) || (v->len && !v->bytes))
		return false;
	text->bytes = v->bytes;
	text->len = (size_t)v->len;
	if (pc->path && v->len > 3 + PATH_KEPT) {
		memcpy(tail, "...", 3);
		memcpy(tail + 3, (const char *)v->bytes + v->len - PATH_KEPT, PATH_KEPT);
		text->bytes = tail;
		text->len = 3 + PATH_KEPT;
	}
	return true;
}

/*
 * Every sound row of the table, its ids within t's slots, into them, read
 * from the table's pages (pages.h) rather than through SQLite's virtual
 * machine (some 800 instructions a row there): a fleet's captures each
 * read their small tables whole, 7,600 rows a capture of 20,000 events.
 * 1; 0 when SQL must read them (t's slots then as they were); -1 on a
 * damaged page, why in t->damaged.
 */
static int read_pages(struct capture *cap, const struct lookup_spec *spec, struct lookup *t)
{
	int columns = spec->numbers + 2;
	const struct page_columns *pc = &page_columns[spec - lookup_specs];
	struct pages *p = pages_open_table(cap->db, spec->table, pc->names, columns);
	struct pages_value v[LOOKUP_NUMBERS_MAX + 2];
	int64_t numbers[LOOKUP_NUMBERS_MAX], id;
	char tail[3 + PATH_KEPT];
	bool plain = true, kept_all = true;
	int rc;

	if (!p)
		return 0;
	while ((rc = pages_row(p, &id, v)) > 0) {
		struct row_text text;
		bool sound = v[0].type == SQLITE_INTEGER;

		if (!page_text(pc, &v[columns - 1], &text, tail)) {
			plain = false;
			break;
		}
		/* As lookup_row() keeps the rows lookup_sql() gives it. */
		id = v[0].integer;
		if (!sound || id < 0 || (uint64_t)id >= t->made) {
			kept_all = false;
			continue;
		}
		for (int i = 0; sound && i < spec->numbers; i++) {
			const struct pages_value *n = &v[1 + i];

			sound = n->type == SQLITE_INTEGER ||
				(n->type == SQLITE_NULL && pc->or_minus_one >> i & 1);
			numbers[i] = n->type == SQLITE_INTEGER ? n->integer : -1;
		}
		if (!sound || corrupt_text(spec, &text, text.len) ||
		    keep_row(spec, t, numbers, &text, id))
			kept_all = false;
	}
	if (rc < 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s%s", pages_corrupt(p) ? "corrupt capture: " : "",
			 pages_error(p));
		t->damaged = xstrdup(why);
	} else if (!plain) {
		memset(t->slots, 0, t->made * t->slot_size);
		t->overflow_len = 0;
	}
	t->complete = rc == 0 && plain && kept_all;
	pages_close(p);
	return rc < 0 ? -1 : plain;
}

/* Every sound row of the table, its ids within t's slots, into them: false when unreadable. */
static bool read_whole(struct capture *cap, const struct lookup_spec *spec, struct lookup *t)
{
	char *sql;
	sqlite3_stmt *stmt;
	struct keeping k = {
		.spec = spec, .l = t, .first = 0, .last = (int64_t)t->made - 1, .id = INT64_MIN};
	int rc = cap->immutable ? read_pages(cap, spec, t) : 0;

	if (rc)
		return rc > 0;
	sql = lookup_sql(cap, spec, false);
	rc = sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return false;
	rc = keep_rows(cap, stmt, &k, false);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE;
}

/*
 * The origin's tables read whole, shared by its copies (threads ask at
 * once): a report reads a capture on several connections (summary's
 * analyses, the readers), and each read the same small tables into a
 * cache of its own, a fleet's captures each theirs.  Never changed once
 * read: a copy looks up without a lock.
 */
static pthread_mutex_t tables_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * The origin's table of this kind, read on cap's connection the first time
 * a connection asks; NULL when it does not fit the slots (or could not be
 * read: each connection's own lookups then say why).  A row it lacks (added
 * since, under --follow; corrupt) each connection looks up on its own.
 */
static const struct lookup *whole_table(struct capture *cap, enum lookup_kind kind)
{
	const struct lookup_spec *spec = &lookup_specs[kind];
	struct capture *origin = cap->origin ? cap->origin : cap;
	struct lookup *t;

	pthread_mutex_lock(&tables_lock);
	if (!origin->tables)
		origin->tables = xcalloc(LOOKUPS, sizeof(*origin->tables));
	t = &origin->tables[kind];
	if (!t->tried) {
		t->tried = true;
		make_slots(cap, spec, t, true);
		if (!t->whole || !read_whole(cap, spec, t)) {
			arena_free(t->slots);
			free(t->overflow);
			*t = (struct lookup){.tried = true, .damaged = t->damaged};
		}
		/* Its root's and largest id's pages too, as capture_open's. */
		sqlite3_db_release_memory(cap->db);
	}
	pthread_mutex_unlock(&tables_lock);
	return t->slots || t->damaged ? t : NULL;
}

/*
 * --follow reads the capture again: its tables, read whole before (kept),
 * may lack rows added since, which each connection then looks up itself.
 */
static void tables_may_grow(struct capture *cap)
{
	pthread_mutex_lock(&tables_lock);
	for (int i = 0; cap->tables && i < LOOKUPS; i++)
		cap->tables[i].complete = false;
	pthread_mutex_unlock(&tables_lock);
}

/* lookup() when the origin's table does not hold the row of id. */
static __attribute__((noinline)) const struct cached *
look_further(struct capture *cap, enum lookup_kind kind, int64_t id, const struct lookup **from)
{
	const struct lookup_spec *spec = &lookup_specs[kind];
	struct lookup *l;
	struct cached *c;

	if (!cap->lookups)
		cap->lookups = xcalloc(LOOKUPS, sizeof(*cap->lookups));
	l = &cap->lookups[kind];
	if (!l->tried) {
		l->tried = true;
		l->table = whole_table(cap, kind);
	}
	/* A damaged page: every lookup of the table fails, as the first does. */
	if (l->table && l->table->damaged) {
		lookup_failed(cap, spec, id, l->table->damaged);
		return NULL;
	}
	if (l->table && (uint64_t)id < l->table->made) {
		c = slot_of(l->table, id);
		*from = l->table;
		if (holds(l->table, c, id))
			return c;
	}
	/*
	 * No row has it: as SQL's read of its block would find (a fleet's
	 * captures each looked up every cgroup of their empty table so).
	 */
	if (l->table && l->table->complete) {
		*from = l->table;
		if (spec->what) {
			lookup_failed(cap, spec, id, "corrupt capture: not there");
			return NULL;
		}
		return slot_at(l->table, l->table->made);
	}
	if (!l->slots)
		make_slots(cap, spec, l, false);
	c = slot_of(l, id);
	*from = l;
	if (holds(l, c, id))
		return c;
	return fill(cap, spec, l, id) ? NULL : c;
}

/*
 * The cached row of id, and the lookup holding it (its text may be in its
 * overflow): a row of the origin's table here, without the frame the rest
 * needs (its registers saved and restored: some 6 instructions a lookup).
 */
static inline const struct cached *lookup(struct capture *cap, enum lookup_kind kind, int64_t id,
					  const struct lookup **from)
{
	const struct lookup *t = cap->lookups ? cap->lookups[kind].table : NULL;

	if (t && !t->damaged && (uint64_t)id < t->made) {
		const struct cached *c = slot_of(t, id);

		if (c->filled) { /* its place is id's: made <= mask + 1 */
			*from = t;
			return c;
		}
	}
	return look_further(cap, kind, id, from);
}

int capture_task(struct capture *cap, int64_t id, struct task *task)
{
	const struct lookup *from;
	const struct cached *c = lookup(cap, LOOKUP_TASK, id, &from);

	if (!c)
		return -1;
	task->pid = c->numbers[0];
	task->tid = c->numbers[1];
	task->ppid = c->numbers[2];
	task->uid = c->numbers[3];
	task->cgroup = c->numbers[4];
	task->mntns = c->numbers[5];
	task->start_ns = c->numbers[6];
	task->netns = c->numbers[7];
	task->nspid = c->numbers[8];
	task->comm_len = c->len;
	task->comm_plain = c->plain;
	COPY_TEXT(task->comm, from, c, &lookup_specs[LOOKUP_TASK]);
	return 0;
}

void capture_prefetch_address(struct capture *cap, int64_t id)
{
	const struct lookup *l = cap->lookups ? &cap->lookups[LOOKUP_ADDRESS] : NULL;
	const char *slot;

	if (l && l->table && (uint64_t)id < l->table->made)
		l = l->table;
	if (!l || !l->slots)
		return; /* the first lookup makes the cache */
	slot = (const char *)slot_of(l, id);
	__builtin_prefetch(slot);
	__builtin_prefetch(slot + l->slot_size - 1); /* a slot may span two lines */
}

int capture_address(struct capture *cap, int64_t id, struct address *address)
{
	const struct lookup *from;
	const struct cached *c = lookup(cap, LOOKUP_ADDRESS, id, &from);

	if (!c)
		return -1;
	address->ip = c->numbers[0];
	address->len = c->len;
	address->plain = c->plain;
	COPY_TEXT(address->text, from, c, &lookup_specs[LOOKUP_ADDRESS]);
	return 0;
}

static int name_of(struct capture *cap, enum lookup_kind kind, int64_t number, struct name *name)
{
	const struct lookup *from;
	const struct cached *c = lookup(cap, kind, number, &from);

	if (!c)
		return -1;
	name->found = c->found;
	name->len = c->found ? c->len : 0;
	name->plain = c->plain;
	COPY_TEXT(name->text, from, c, &lookup_specs[kind]);
	return 0;
}

int capture_each_address(struct capture *cap,
			 int (*each)(int64_t id, const char *text, size_t len, void *ctx),
			 void *ctx)
{
	static const char sql[] = "SELECT id, addr FROM address ORDER BY id";
	const struct lookup_spec *spec = &lookup_specs[LOOKUP_ADDRESS];
	const struct lookup *t = whole_table(cap, LOOKUP_ADDRESS);
	sqlite3_stmt *stmt = NULL;
	int rc;

	/* Every row sound and kept, each at its id (a fleet's captures read theirs whole). */
	if (t && !t->damaged && t->complete) {
		for (uint64_t id = 0; id < t->made; id++) {
			const struct cached *c = slot_at(t, id);

			if (c->filled && each((int64_t)id, cached_text(t, c, spec), c->len, ctx))
				return -1;
		}
		return 0;
	}
	rc = sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(stmt, 1);

		if (text && each(sqlite3_column_int64(stmt, 0), text,
				 (size_t)sqlite3_column_bytes(stmt, 1), ctx)) {
			sqlite3_finalize(stmt);
			return -1;
		}
		rc = SQLITE_OK;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "report: %s: cannot read the addresses: %s\n", cap->name,
			capture_error(cap));
		return -1;
	}
	return 0;
}

int capture_cap_name(struct capture *cap, int64_t number, struct name *name)
{
	return name_of(cap, LOOKUP_CAP_NAME, number, name);
}

int capture_tcp_state(struct capture *cap, int64_t state, struct name *name)
{
	return name_of(cap, LOOKUP_TCP_STATE, state, name);
}

int capture_reset_reason(struct capture *cap, int64_t reason, struct name *name)
{
	return name_of(cap, LOOKUP_RESET_REASON, reason, name);
}

int capture_cgroup_path(struct capture *cap, int64_t id, struct cgroup_path *path)
{
	const struct lookup *from;
	const struct cached *c = lookup(cap, LOOKUP_CGROUP, id, &from);

	if (!c)
		return -1;
	path->state = !c->found ? CGROUP_UNKNOWN : c->len ? CGROUP_NAMED : CGROUP_GONE;
	path->len = c->found ? c->len : 0;
	path->plain = c->plain;
	memcpy(path->text, cached_text(from, c, &lookup_specs[LOOKUP_CGROUP]), path->len);
	return 0;
}

/* --- Account names ---------------------------------------------------------------- */

/*
 * A capture's user names, read whole at the first asked: a table of a few
 * rows a host, where one query per name asked (a statement prepared each
 * time) took a fifth of html's instructions over a fleet's captures.
 */
struct capture_accounts {
	struct hashmap ids; /* uid -> 1 + where its name is in names */
	char *names;	    /* each a length byte, then its bytes */
	size_t len, room;
	bool failed; /* said once */
};

static void accounts_free(struct capture *cap)
{
	if (!cap->accounts)
		return;
	hashmap_clear(&cap->accounts->ids);
	free(cap->accounts->names);
	free(cap->accounts);
	cap->accounts = NULL;
}

/* Each uid's first row, as a query of it by id (ORDER BY rowid LIMIT 1) would find. */
static int read_accounts(struct capture *cap, struct capture_accounts *a)
{
	static const char sql[] = "SELECT id, name FROM account WHERE kind = 'user' AND "
				  "typeof(id) = 'integer' ORDER BY rowid";
	sqlite3_stmt *stmt;
	int rc;

	if (!capture_has_column(cap, "account", NULL))
		return 0;
	if (sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int len = sqlite3_column_bytes(stmt, 1);
		bool added;
		uint64_t *at =
			hashmap_put(&a->ids, (uint64_t)sqlite3_column_int64(stmt, 0), 0, &added);

		if (!added)
			continue;
		len = len < ACCOUNT_NAME_MAX ? len : ACCOUNT_NAME_MAX;
		if (a->len + 1 + (size_t)len > a->room) {
			a->room = 2 * a->room + 1 + ACCOUNT_NAME_MAX;
			a->names = xrealloc(a->names, a->room);
		}
		*at = a->len + 1;
		a->names[a->len++] = (char)len;
		if (len)
			memcpy(a->names + a->len, sqlite3_column_blob(stmt, 1), (size_t)len);
		a->len += (size_t)len;
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

int capture_account_name(struct capture *cap, int64_t uid, char out[ACCOUNT_NAME_MAX + 1])
{
	struct capture_accounts *a = cap->accounts;
	const uint64_t *at;
	size_t len;

	if (!a) {
		a = cap->accounts = xcalloc(1, sizeof(*a));
		if (read_accounts(cap, a)) {
			fprintf(stderr, "report: %s: cannot read account: %s\n", cap->name,
				capture_error(cap));
			a->failed = true;
		}
	}
	if (a->failed)
		return -1;
	if (!(at = hashmap_find(&a->ids, (uint64_t)uid, 0)))
		return 0;
	len = (uint8_t)a->names[*at - 1];
	memcpy(out, a->names + *at, len);
	out[len] = '\0';
	return 1;
}

/* --- Closing ---------------------------------------------------------------------- */

/* The keepers given, in that order (threads may give theirs at once). */
static struct {
	pthread_mutex_t lock;
	const struct capture_keeper *list[4];
	size_t count;
} keepers = {.lock = PTHREAD_MUTEX_INITIALIZER};

void capture_keeper(const struct capture_keeper *keeper)
{
	size_t i;

	pthread_mutex_lock(&keepers.lock);
	for (i = 0; i < keepers.count && keepers.list[i] != keeper; i++)
		;
	if (i == keepers.count) {
		if (keepers.count == ARRAY_SIZE(keepers.list)) {
			fprintf(stderr, "report: more capture keepers than %zu\n",
				ARRAY_SIZE(keepers.list));
			abort(); /* a programming error, found by the first run */
		}
		keepers.list[keepers.count++] = keeper;
	}
	pthread_mutex_unlock(&keepers.lock);
}

/* The keepers given so far, into list: how many. */
static size_t all_keepers(const struct capture_keeper *list[ARRAY_SIZE(keepers.list)])
{
	size_t count;

	pthread_mutex_lock(&keepers.lock);
	count = keepers.count;
	memcpy(list, keepers.list, count * sizeof(*list));
	pthread_mutex_unlock(&keepers.lock);
	return count;
}

void capture_release(struct capture *cap)
{
	const struct capture_keeper *list[ARRAY_SIZE(keepers.list)];
	size_t count = all_keepers(list);

	free_spares(cap);
	for (int i = 0; cap->lookups && i < LOOKUPS; i++) {
		sqlite3_finalize(cap->lookups[i].stmt);
		cap->lookups[i].stmt = NULL;
	}
	for (size_t i = 0; i < count; i++)
		list[i]->release(cap);
	/* --follow opens it again: a part opened before its snapshot is read again. */
	accounts_free(cap);
	if (cap->db) {
		sqlite3_close(cap->db);
		open_databases--;
		bound_heap();
	}
	cap->db = NULL;
	cap->file = NULL;
}

static void free_capture(struct capture *cap)
{
	const struct capture_keeper *list[ARRAY_SIZE(keepers.list)];
	size_t count = all_keepers(list);

	capture_release(cap);
	for (size_t i = 0; i < count; i++)
		list[i]->free(cap);
	for (int i = 0; i < LOOKUPS; i++) {
		if (cap->lookups) {
			arena_free(cap->lookups[i].slots);
			free(cap->lookups[i].overflow);
		}
		if (cap->tables) {
			arena_free(cap->tables[i].slots);
			free(cap->tables[i].overflow);
			free(cap->tables[i].damaged);
		}
	}
	free(cap->lookups);
	free(cap->tables);
	for (int i = 0; i < cap->nkinds; i++) {
		free(cap->kinds[i].name);
		free(cap->kinds[i].mechanism);
	}
	for (int i = 0; i < cap->nskipped; i++) {
		free(cap->skipped[i].program);
		free(cap->skipped[i].kinds);
	}
	free(cap->skipped);
	free_metadata(cap);
	free(cap->name);
	free(cap->path);
	free(cap->error);
	free(cap);
}
