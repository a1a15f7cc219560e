/*
 * A step of the build: check bpf/kinds.def where the compiler cannot.  Each
 * TABLE must list its table's columns as schema.sql defines them: all of
 * them, in that order, INT for INTEGER and TEXT for TEXT.  Each kind must
 * have a record type, and names must be distinct.  One line per problem on
 * stderr, and exit 1: the build stops there.
 */
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kinds.h"
#include "schema.h"
#include "util.h"

#define MAX_COLUMNS 64

struct column {
	const char *name, *type;
};

static const struct table {
	const char *name, *table;
	struct column columns[MAX_COLUMNS];
} tables[] = {
#define INT(column)		    {#column, "INTEGER"},
#define TEXT(column)		    {#column, "TEXT"},
#define TABLE(name, table, COLUMNS) {#name, table, {COLUMNS}},
#include "kinds.def"
#undef INT
#undef TEXT
};

static int problems;

static void problem(const char *format, ...) __attribute__((format(printf, 1, 2)));

static void problem(const char *format, ...)
{
	va_list args;

	fputs("bpf/kinds.def: ", stderr);
	va_start(args, format);
	vfprintf(stderr, format, args);
	va_end(args);
	fputc('\n', stderr);
	problems++;
}

/* The TABLE's columns against those schema.sql gives its table. */
static void check_table(sqlite3 *db, const struct table *t)
{
	sqlite3_stmt *stmt;
	bool differ = false;
	int i = 0;

	if (sqlite3_prepare_v2(db, "SELECT name, type FROM pragma_table_info(?) ORDER BY cid", -1,
			       &stmt, NULL) != SQLITE_OK) {
		problem("TABLE(%s): %s", t->name, sqlite3_errmsg(db));
		return;
	}
	sqlite3_bind_text(stmt, 1, t->table, -1, SQLITE_STATIC);
	for (; !differ && sqlite3_step(stmt) == SQLITE_ROW; i++) {
		const char *name = (const char *)sqlite3_column_text(stmt, 0);
		const char *type = (const char *)sqlite3_column_text(stmt, 1);
		const struct column *c = &t->columns[i];

		differ = i == MAX_COLUMNS - 1 || !c->name || strcmp(c->name, name) ||
			 strcmp(c->type, type);
		if (differ)
			problem("TABLE(%s): column %d is %s %s, where schema.sql's %s has %s %s",
				t->name, i + 1,
				!c->name		   ? ""
				: !strcmp(c->type, "TEXT") ? "TEXT"
							   : "INT",
				c->name ? c->name : "none", t->table, type, name);
	}
	sqlite3_finalize(stmt);
	if (i == 0)
		problem("TABLE(%s): schema.sql has no table %s", t->name, t->table);
	else if (!differ && t->columns[i].name)
		problem("TABLE(%s): schema.sql's %s has no column %s", t->name, t->table,
			t->columns[i].name);
}

static void check_distinct(const char *what, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (!strcmp(names[i], names[j]))
				problem("two %ss named %s", what, names[i]);
}

int main(void)
{
	sqlite3 *db;

	if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
	    sqlite3_exec(db, casefile_schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "check-kinds: cannot run schema.sql: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(tables); i++)
		check_table(db, &tables[i]);
	sqlite3_close(db);
	for (int i = 0; i < KINDS; i++)
		if (!record_types(1u << i))
			problem("KIND(%s) has no RECORD", kind_names[i]);
	check_distinct("KIND", kind_names, KINDS);
	check_distinct("RECORD", record_type_names, RECORD_TYPES);
	return problems ? 1 : 0;
}
