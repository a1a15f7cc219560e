/*
 * Output: rows of typed fields as a BCC-style table, JSON Lines or CSV, with
 * every string from the capture escaped so it cannot act on a terminal, a
 * JSON parser or a spreadsheet.
 */
#ifndef CASEFILE_REPORT_OUTPUT_H
#define CASEFILE_REPORT_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The last three are report export's only: it writes their lines itself (output_line). */
enum output_format {
	FORMAT_TABLE,
	FORMAT_JSON,
	FORMAT_CSV,
	FORMAT_OCSF,
	FORMAT_ECS,
	FORMAT_TIMESKETCH
};

enum field_type {
	FIELD_INT,     /* a number */
	FIELD_TEXT,    /* bytes, escaped on output (render_text) */
	FIELD_BOOL,    /* 0 or 1; JSON true/false */
	FIELD_CLOCK,   /* wall-clock ns: HH:MM:SS in a table, RFC 3339 elsewhere */
	FIELD_RFC3339, /* wall-clock ns: RFC 3339 with nanoseconds everywhere */
	FIELD_ELAPSED, /* wall-clock ns: seconds since the first row, table only */
	FIELD_MILLIS,  /* ns: milliseconds in a table, the ns elsewhere */
	FIELD_FIXED3,  /* thousandths: a number with three decimals, everywhere */
	FIELD_LINES,   /* lines of text (a stack's frames): under the row in a table,
			* indented, "[no TITLE]" when null; a JSON array of strings; one CSV
			* cell, the lines joined by " < " */
};

/*
 * One column.  title names it in a table (NULL: not a table column), key in
 * JSON and CSV (NULL: table only).  A table column is shown when `shown`.
 */
struct field {
	const char *title;
	const char *key;
	int width; /* minimum table width, as the BCC tool's printf */
	enum field_type type;
	bool shown;
};

/* A line of FIELD_LINES: bytes, escaped on output as FIELD_TEXT is. */
struct line {
	const char *s;
	size_t len;
};

/* A value of a row; NULL shows as "-" in a table, null in JSON, empty in CSV. */
struct value {
	bool null;
	bool plain; /* FIELD_TEXT known to need no escaping (text_is_plain): copied as is */
	int64_t i;
	const char *s; /* FIELD_TEXT */
	size_t len;    /* FIELD_TEXT: of s; FIELD_LINES: of lines */
	const struct line *lines;
};

static inline struct value null_value(void)
{
	return (struct value){.null = true};
}

static inline struct value int_value(int64_t i)
{
	return (struct value){.i = i};
}

static inline struct value text_value(const char *s, size_t len)
{
	return (struct value){.null = !s, .s = s, .len = len};
}

/* Text whose plainness is known already (a lookup checked it once for every use). */
static inline struct value checked_text_value(const char *s, size_t len, bool plain)
{
	return (struct value){.null = !s, .plain = plain, .s = s, .len = len};
}

/* One of the report's own words ("connect", "refused"), plain; NULL is null. */
static inline struct value word_value(const char *word)
{
	return word ? checked_text_value(word, strlen(word), true) : null_value();
}

static inline struct value lines_value(const struct line *lines, size_t count)
{
	return (struct value){.lines = lines, .len = count};
}

/*
 * Start the output.  The header (table, CSV) comes with the first row, or at
 * the end: a report that fails before any row prints nothing.  The fields
 * array stays the caller's and must outlive the output.
 */
void output_begin(enum output_format format, bool local, const struct field *fields, int count);

/*
 * Tables to fit this many columns (0: no limit, the default): columns are
 * dropped by rank (output_column_fit) until the others fit, a text cell
 * longer than its column is cut with "..." (the last column takes what is
 * left), and so is a line under a row.  JSON and CSV are never cut.
 */
void output_set_width(int columns);

/* Fields a report's output may have. */
#define OUTPUT_FIELDS_MAX 128

/*
 * How a table column gives way, set before the first row (before or after
 * output_begin; output_end forgets it): its text cut to max characters, silently, as BCC's %-12.12s
 * (0: never); and, to fit a width, its drop rank: columns with one are left out, lowest first,
 * until the others fit (0: kept).
 */
void output_column_fit(int field, int max, int drop);

/* One row: values[i] for fields[i]. */
void output_row(const struct value *values);

/*
 * A line of a format of its own (folded stacks), as is: every byte of it
 * from the capture must have been rendered (render_text) already.
 */
void output_line(const char *text, size_t len);

/* Write out the header and the rows so far (--follow, after each poll). */
void output_flush(void);

/*
 * Flush: the rows so far, and the header if the report is complete.  -1
 * after one line on stderr when standard output could not be written.
 */
int output_end(bool complete);

/*
 * Bytes as safe printable ASCII: a backslash doubles, any byte outside 0x20-0x7e
 * becomes \xHH, so the original bytes are recoverable and nothing reaches a
 * terminal raw.  out must hold 4 * len bytes; returns the length written.
 * Every format prints capture text so (JSON and CSV then quote it).
 */
size_t render_text(const char *s, size_t len, char *out);

/* A number in decimal at out (21 bytes at most, no NUL): its end.  printf costs more, per row. */
char *int_text(char *out, int64_t value);

/*
 * Whether every byte is printable ASCII that no format escapes (nor JSON's
 * < > & \" \\): such text is printed as it is, without the escaping pass.
 */
bool text_is_plain(const char *s, size_t len);

/*
 * The same of the first len (at most 16) of the 16 bytes at s, whatever the
 * rest: a short text in a buffer of that size, without a copy of its length
 * (the lookups ask it of every row of a fleet's small tables).
 */
bool text16_is_plain(const char *s, size_t len);

/* The same, valid inside a JSON string too (as JSON output writes it): out holds 6 * len bytes. */
size_t render_json_text(const char *s, size_t len, char *out);

/* A NUL-terminated string rendered so, in memory to free. */
char *render_string(const char *text);

/* The inverse, for arguments such as --comm: \\ and \xHH.  -1 when malformed. */
int unrender_text(const char *text, char *out, size_t *len);

#endif
