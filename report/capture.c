/* Opening a capture for reading, and refusing what is not one. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "capture.h"
#include "schema.h"

#define CAPTURE_APPLICATION_ID 0x43415345 /* "CASE", as schema.sql sets it */

/* Run schema.sql in memory: its user_version is the format this build writes. */
int supported_format(void)
{
	static int format = -1;
	sqlite3 *db;
	sqlite3_stmt *stmt;

	if (format >= 0)
		return format;
	format = 0;
	if (sqlite3_open(":memory:", &db) == SQLITE_OK &&
	    sqlite3_exec(db, casefile_schema_sql, NULL, NULL, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK) {
		if (sqlite3_step(stmt) == SQLITE_ROW)
			format = sqlite3_column_int(stmt, 0);
		sqlite3_finalize(stmt);
	}
	sqlite3_close(db);
	return format;
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

sqlite3 *open_capture(const char *path)
{
	sqlite3 *db = NULL;
	struct stat st;
	int application_id, format;

	if (stat(path, &st)) {
		fprintf(stderr, "report: cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		fprintf(stderr, "report: cannot open %s: Is a directory\n", path);
		return NULL;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "report: cannot open %s: %s\n", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	if (pragma_int(db, "PRAGMA application_id", &application_id)) {
		fprintf(stderr, "report: %s is not a Casefile capture: %s\n", path,
			sqlite3_errmsg(db));
		goto refuse;
	}
	if (application_id != CAPTURE_APPLICATION_ID) {
		fprintf(stderr, "report: %s is not a Casefile capture\n", path);
		goto refuse;
	}
	if (pragma_int(db, "PRAGMA user_version", &format) || format < 1) {
		fprintf(stderr, "report: %s is not a Casefile capture (no format version)\n", path);
		goto refuse;
	}
	if (format > supported_format()) {
		fprintf(stderr,
			"report: %s was made by a newer casefile (format %d); this report reads "
			"up to %d\n",
			path, format, supported_format());
		goto refuse;
	}
	return db;
refuse:
	sqlite3_close(db);
	return NULL;
}
