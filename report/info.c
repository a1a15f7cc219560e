/* report info: what a capture is, where and when it was made, what it holds. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "capture.h"
#include "info.h"

/* "2026-11-23 01:18:03.123456789 UTC" */
static const char *format_wall(int64_t unix_ns, char *buf, size_t size)
{
	time_t seconds = (time_t)(unix_ns / 1000000000);
	struct tm utc;
	size_t len;

	gmtime_r(&seconds, &utc);
	len = strftime(buf, size, "%Y-%m-%d %H:%M:%S", &utc);
	snprintf(buf + len, size - len, ".%09" PRId64 " UTC", unix_ns % 1000000000);
	return buf;
}

static const char *text(sqlite3_stmt *stmt, int column)
{
	const unsigned char *value = sqlite3_column_text(stmt, column);

	return value ? (const char *)value : "";
}

static int print_capture(sqlite3 *db, const char *path)
{
	static const char sql[] =
		"SELECT hostname, kernel_release, machine, boot_id, tool_version, command_line, "
		"started_at_ns, last_commit_at_ns, stopped_at_ns, clean_stop, stop_reason, "
		"event_kinds, (SELECT user_version FROM pragma_user_version) FROM capture WHERE id "
		"= 1";
	sqlite3_stmt *stmt;
	char started[64], ended[64];
	int64_t start_ns, end_ns;
	int clean;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW) {
		fprintf(stderr, "report: %s: cannot read the capture's metadata: %s\n", path,
			sqlite3_errmsg(db));
		sqlite3_finalize(stmt);
		return -1;
	}
	clean = sqlite3_column_int(stmt, 9);
	start_ns = sqlite3_column_int64(stmt, 6);
	end_ns = sqlite3_column_int64(stmt, clean ? 8 : 7);
	printf("capture   %s\n", path);
	printf("format    %d (recorded by casefile %s)\n", sqlite3_column_int(stmt, 12),
	       text(stmt, 4));
	printf("host      %s, Linux %s %s, boot %s\n", text(stmt, 0), text(stmt, 1), text(stmt, 2),
	       text(stmt, 3));
	printf("command   %s\n", text(stmt, 5));
	printf("started   %s\n", format_wall(start_ns, started, sizeof(started)));
	printf("%s %s\n", clean ? "stopped  " : "last save",
	       format_wall(end_ns, ended, sizeof(ended)));
	printf("duration  %.3f s\n", (double)(end_ns - start_ns) / 1e9);
	if (clean)
		printf("stop      clean (%s)\n", text(stmt, 10));
	else
		printf("stop      NOT CLEAN: the recorder did not finish; events after the last "
		       "save are missing\n");
	printf("kinds     %s\n", text(stmt, 11));
	sqlite3_finalize(stmt);
	return 0;
}

static int print_kinds(sqlite3 *db, const char *path)
{
	static const char sql[] = "SELECT name, enabled, recorded, lost FROM event_kind "
				  "ORDER BY CASE name WHEN 'connect' THEN 1 WHEN 'outcome' THEN 2 "
				  "WHEN 'accept' THEN 3 WHEN 'reset' THEN 4 ELSE 5 END";
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		fprintf(stderr, "report: %s: cannot read the event kinds: %s\n", path,
			sqlite3_errmsg(db));
		return -1;
	}
	printf("%-9s %12s %10s\n", "EVENTS", "RECORDED", "LOST");
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (!sqlite3_column_int(stmt, 1))
			continue;
		printf("%-9s %12lld %10lld\n", text(stmt, 0), sqlite3_column_int64(stmt, 2),
		       sqlite3_column_int64(stmt, 3));
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "report: %s: cannot read the event kinds: %s\n", path,
			sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

int report_info(int argc, char **argv)
{
	int err = 0;

	if (argc < 2) {
		fprintf(stderr, "report: info needs at least one capture file\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		sqlite3 *db = open_capture(argv[i]);

		if (!db)
			return 1;
		if (i > 1)
			putchar('\n');
		err = print_capture(db, argv[i]) || print_kinds(db, argv[i]);
		sqlite3_close(db);
		if (err)
			return 1;
	}
	return 0;
}
