/*
 * Reading an event table's rows straight from its b-tree's pages, in key
 * order, rather than stepping SQLite's virtual machine: some 1,700
 * instructions a row went to that, for a record of a few integers.  Only
 * for what SQLite's own reading would give exactly the same rows: a
 * capture read as immutable, a WITHOUT ROWID table keyed (t, seq), plain
 * columns; the file's format is SQLite's documented one (fileformat2).
 * A second reader reads a table's rows with their texts
 * (pages_open_table()): the small tables a report's lookups read whole,
 * 800 instructions a row in SQLite's virtual machine, and the process
 * table the lineage's index reads whole, 5,000.
 */
#ifndef CASEFILE_REPORT_PAGES_H
#define CASEFILE_REPORT_PAGES_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

struct pages;

/*
 * A reader of table's rows on db's main file, for cells, a list such as
 * "e.t, e.seq, e.task, NULL, (1)" (each e.NAME, NULL or an integer; the
 * first e.t): NULL when the table or the list is not one it reads exactly
 * as SQLite would (then SQL reads it, and tells of any trouble).  At most
 * max_cells cells.
 */
struct pages *pages_open(sqlite3 *db, const char *table, const char *cells, int max_cells);

/*
 * Pass over the rows whose last cell is the integer value, as SQL's "IS
 * NOT value" on it drops them (NULL, text, a blob or a real is never it:
 * SQLite stores an integral real in an INTEGER column as an integer), and
 * give the others' cells without it.
 */
void pages_drop(struct pages *p, int64_t value);

/*
 * Only the rows of from <= t <= to, as SQL's "e.t BETWEEN from AND to"
 * gives them: the reading goes down the tree to the first (not through
 * the rows before it) and ends at the first past to.  Before the first row.
 */
void pages_range(struct pages *p, int64_t from, int64_t to);
/*
 * Only the rows one of whose cells (bit i: cell i) holds an id whose byte
 * in map (size of them, kept by the caller while rows are read) is
 * nonzero, as SQL's in_map() on them tells; but a row whose cell tested
 * is not a number is given (in_map would convert it; the replay fails it).
 */
void pages_keep(struct pages *p, uint32_t cells, const uint8_t *map, size_t size);
/* Its cells a row. */
int pages_cells(const struct pages *p);

/*
 * The next row: 1 with its cells in cell[] (bit i of *nulls: cell i is
 * NULL, of *odd: it is text, a blob or a real, and cell[i] is 0), as
 * SQLite's values would be; 0 at the end; -1 on a damaged file or a read
 * that failed, with why in pages_error() (and pages_corrupt() says which).
 */
int pages_next(struct pages *p, int64_t *cell, uint32_t *nulls, uint32_t *odd);

/*
 * Count the rows into buckets of t, as SQLite's range counts would: into
 * counts[i] (added to), those of from + i * width <= t < from + (i + 1) *
 * width, for i below buckets (width above 0).  Leaves whose first and last
 * rows fall in one bucket are counted without their rows decoded.  1; 0
 * when a t is a real (SQL compares it, counts partly made); -1 as
 * pages_next().  On a reader opened with e.t its first cell, none read.
 */
int pages_count(struct pages *p, int64_t from, int64_t width, int buckets, int64_t *counts);

/*
 * A table's columns, named, read as SQLite reads them: a reader of the rows
 * of table on db's main file, a rowid table or a WITHOUT ROWID one keyed
 * (t, seq); or NULL when SQL must read it (no such table or column; a
 * column that reads an integer back as a real, or takes a default where a
 * record is short; generated columns; another key; a text encoding other
 * than UTF-8).  The rowid's alias (INTEGER PRIMARY KEY) reads as the rowid.
 * At most 32 columns.
 */
struct pages *pages_open_table(sqlite3 *db, const char *table, const char *const *columns, int n);

/* A column's value: a text's or blob's bytes are valid until the next row. */
struct pages_value {
	int type; /* SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB, SQLITE_NULL */
	int64_t integer;
	const void *bytes; /* NULL when empty, or longer than PAGES_VALUE_MAX (not read) */
	uint64_t len;
};

#define PAGES_VALUE_MAX (1 << 20)

/*
 * The next row of a reader of pages_open_table(), in rowid (or key) order:
 * 1, its rowid (0 for a WITHOUT ROWID table) and its columns' values (a
 * real's is not given); 0 at the end; -1 as pages_next().
 */
int pages_row(struct pages *p, int64_t *rowid, struct pages_value *values);

const char *pages_error(const struct pages *p);
bool pages_corrupt(const struct pages *p);

void pages_close(struct pages *p);

#endif
