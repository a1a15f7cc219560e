/*
 * Output: rows of typed fields as a BCC-style table, JSON Lines or CSV, with
 * every string from the capture escaped so it cannot act on a terminal, a
 * JSON parser or a spreadsheet.  Rows are built into one buffer written out
 * in large blocks: a report may print millions of them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "progress.h"
#include "util.h"
#include "when.h"

#define FLUSH_AT (64 * 1024)

static struct {
	enum output_format format;
	bool local;
	const struct field *fields;
	int count;
	int *columns; /* the table's columns: the fields shown, in order */
	int *widths;  /* per column, its width: the field's, or its share of a fitted line */
	int *cut;     /* per column, a text cell's most characters: 0 none, < 0 silently (max) */
	int ncolumns;
	int width;					     /* output_set_width's: 0, no limit */
	int max[OUTPUT_FIELDS_MAX], drop[OUTPUT_FIELDS_MAX]; /* per field, output_column_fit's */
	int *line_fields; /* the FIELD_LINES shown, under each row */
	int nline_fields;
	int last_shown;	 /* the last table column: not padded */
	char **json_key; /* per field: "key": with its comma */
	size_t *json_key_len;
	bool have_first;
	int64_t first_ns; /* FIELD_ELAPSED counts from the first row */
	char *buf;	  /* rows not written yet */
	size_t len, size;
	char *scratch; /* CSV: a cell rendered, before its quoting */
	size_t scratch_size;
	bool header_pending; /* table and CSV: written with the first row, or at the end */
	bool write_failed;
	int write_errno;
} out;

static void grow(size_t more)
{
	while (out.len + more > out.size)
		out.size = out.size ? out.size * 2 : 2 * FLUSH_AT;
	out.buf = xrealloc(out.buf, out.size);
}

static inline char *reserve(size_t more)
{
	if (out.len + more > out.size)
		grow(more);
	return out.buf + out.len;
}

/* The output ends at end now: the bytes up to it, reserved, are written. */
static inline void commit(char *end)
{
	out.len = (size_t)(end - out.buf);
}

/* The first and the last n bytes of len (n <= len <= 2n): all of them, in two moves. */
static inline void copy_ends(char *p, const char *s, size_t len, size_t n)
{
	uint64_t head, tail;

	memcpy(&head, s, n);
	memcpy(&tail, s + len - n, n);
	memcpy(p, &head, n);
	memcpy(p + len - n, &tail, n);
}

/*
 * len bytes of s at p: their end.  Most copies are of a few bytes (a key, a
 * comm, a word), inline: a call to memcpy would cost more than such a copy.
 */
static inline char *copy_text(char *p, const char *s, size_t len)
{
	if (len > 16)
		return mempcpy(p, s, len);
	if (len >= 8)
		copy_ends(p, s, len, 8);
	else if (len >= 4)
		copy_ends(p, s, len, 4);
	else if (len >= 2)
		copy_ends(p, s, len, 2);
	else if (len)
		*p = *s;
	return p + len;
}

static inline void put(const char *s, size_t len)
{
	commit(copy_text(reserve(len), s, len));
}

static inline void put_char(char c)
{
	*reserve(1) = c;
	out.len++;
}

/* How many decimal digits a number has: 1 to 20. */
static inline int digit_count(uint64_t n)
{
	/* least[d]: the least number of d + 1 digits (0: zero has one digit); exact as doubles */
	static const uint64_t least[] = {0,    1e1,  1e2,  1e3,	 1e4,  1e5,  1e6,
					 1e7,  1e8,  1e9,  1e10, 1e11, 1e12, 1e13,
					 1e14, 1e15, 1e16, 1e17, 1e18, 1e19};
	/* bits * 1233 / 4096 (log10 of 2 as 1233/4096): the count, or one less */
	int d = (64 - __builtin_clzll(n | 1)) * 1233 >> 12;

	return d + (n >= least[d]);
}

char *int_text(char *p, int64_t value)
{
	/* Two digits per division: half the divisions of one at a time. */
	static const char pairs[] = "00010203040506070809101112131415161718192021222324"
				    "25262728293031323334353637383940414243444546474849"
				    "50515253545556575859606162636465666768697071727374"
				    "75767778798081828384858687888990919293949596979899";
	uint64_t magnitude = value < 0 ? -(uint64_t)value : (uint64_t)value;
	char *end, *d;

	if (value < 0)
		*p++ = '-';
	/* Counted first, the digits go in place from the last: no copy. */
	end = d = p + digit_count(magnitude);
	while (magnitude >= 100) {
		d -= 2;
		memcpy(d, &pairs[2 * (magnitude % 100)], 2);
		magnitude /= 100;
	}
	if (magnitude >= 10)
		memcpy(d - 2, &pairs[2 * magnitude], 2);
	else
		d[-1] = (char)('0' + magnitude);
	return end;
}

/* Bytes int_text writes at most: a sign and 19 digits, or 20 digits. */
#define INT_TEXT_MAX 21

static void put_int(int64_t value)
{
	commit(int_text(reserve(INT_TEXT_MAX), value));
}

/* Bytes decimal_text writes at most: a sign, the whole part, a point and 3 decimals. */
#define DECIMAL_MAX (1 + INT_TEXT_MAX + 4)

/* ns in units of `unit` ns, with three decimals, rounded as printf's %.3f: its end. */
static inline char *decimal_text(char *p, int64_t ns, int64_t unit)
{
	uint64_t step = (uint64_t)unit / 1000;
	uint64_t magnitude = ns < 0 ? -(uint64_t)ns : (uint64_t)ns;
	uint64_t thousandths = (magnitude + step / 2) / step;
	unsigned decimals = (unsigned)(thousandths % 1000);

	if (ns < 0)
		*p++ = '-';
	p = int_text(p, (int64_t)(thousandths / 1000));
	p[0] = '.';
	p[1] = (char)('0' + decimals / 100);
	p[2] = (char)('0' + decimals / 10 % 10);
	p[3] = (char)('0' + decimals % 10);
	return p + 4;
}

static void put_decimal(int64_t ns, int64_t unit)
{
	commit(decimal_text(reserve(DECIMAL_MAX), ns, unit));
}

/* Bytes render() may write for len bytes: \u003c for one, in JSON. */
#define RENDERED_MAX(len) (6 * (len))

/*
 * The one definition of plain text: printable ASCII that needs no escaping,
 * and in JSON not < > & either (inert in HTML).  Sixteen bytes at once, as
 * the compiler's vectors (SSE2's on x86-64): each byte of the result is
 * nonzero where v's is not plain.
 */
typedef signed char bytes16 __attribute__((vector_size(16)));

static inline bytes16 not_plain16(bytes16 v, bool json)
{
	/* Signed: a byte of 0x80 and above is below 0x20 too. */
	bytes16 bad = (v < 0x20) | (v == 0x7f) | (v == '\\') | (v == '"');

	if (json)
		bad |= (v == '<') | (v == '>') | (v == '&');
	return bad;
}

/* Byte 0 of a vector is its first word's low byte: where a mask's lowest bit points. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "plain text is found by low bits first");

/* Where the first byte that is not plain is among the first len (at most 16) of v; 16 if none. */
static inline size_t first_not_plain16(bytes16 v, size_t len, bool json)
{
	static const bytes16 at = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
	bytes16 bad = not_plain16(v, json) & (at < (signed char)len);
	uint64_t words[2];

	memcpy(words, &bad, sizeof(words));
	if (words[0])
		return (size_t)__builtin_ctzll(words[0]) / 8;
	if (words[1])
		return 8 + (size_t)__builtin_ctzll(words[1]) / 8;
	return 16;
}

/* How many bytes from s, up to len, are plain. */
static inline size_t plain_run(const char *s, size_t len, bool json)
{
	size_t i = 0, first;
	bytes16 v = {0};

	for (; i + 16 <= len; i += 16) {
		memcpy(&v, s + i, 16);
		first = first_not_plain16(v, 16, json);
		if (first < 16)
			return i + first;
	}
	if (i == len) /* an empty text may have no bytes at all */
		return len;
	/* The tail, never read past the text: the bytes of v beyond it are not looked at. */
	copy_text((char *)&v, s + i, (len - i) & 15); /* & 15: so the compiler knows it too */
	first = first_not_plain16(v, len - i, json);
	return first < 16 ? i + first : len;
}

/*
 * The one escaping of capture text, for every format: a backslash doubles,
 * bytes outside 0x20-0x7e become \xHH.  json: also valid inside a JSON
 * string (its own backslashes doubled, quotes escaped), and inert inside
 * HTML too (< > & as \u003c \u003e \u0026, which decode to themselves).
 * out holds RENDERED_MAX(len).
 */
static size_t render(const char *s, size_t len, char *o, bool json)
{
	static const char hex[] = "0123456789abcdef";
	char *start = o;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t run = plain_run(s + i, len - i, json);

		/* Most text is plain: copy each run of it whole. */
		if (run) {
			o = copy_text(o, s + i, run);
			i += run - 1;
			continue;
		}
		if (c == '<' || c == '>' || c == '&') { /* JSON: \u003c */
			memcpy(o, "\\u00", 4);
			o[4] = hex[c >> 4];
			o[5] = hex[c & 15];
			o += 6;
			continue;
		}
		if (c == '"') {
			if (json)
				*o++ = '\\';
			*o++ = '"';
			continue;
		}
		*o++ = '\\';
		if (json)
			*o++ = '\\';
		if (c == '\\') {
			*o++ = '\\';
			if (json)
				*o++ = '\\';
			continue;
		}
		*o++ = 'x';
		*o++ = hex[c >> 4];
		*o++ = hex[c & 15];
	}
	return (size_t)(o - start);
}

size_t render_text(const char *s, size_t len, char *out_text)
{
	return render(s, len, out_text, false);
}

size_t render_json_text(const char *s, size_t len, char *out_text)
{
	return render(s, len, out_text, true);
}

bool text_is_plain(const char *s, size_t len)
{
	return plain_run(s, len, true) == len;
}

bool text16_is_plain(const char *s, size_t len)
{
	bytes16 v;

	memcpy(&v, s, sizeof(v));
	return first_not_plain16(v, len, true) == 16;
}

char *render_string(const char *text)
{
	size_t len = strlen(text);
	char *safe = xmalloc(4 * len + 1);

	safe[render(text, len, safe, false)] = '\0';
	return safe;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int unrender_text(const char *text, char *o, size_t *len)
{
	char *start = o;

	while (*text) {
		if (*text != '\\') {
			*o++ = *text++;
		} else if (text[1] == '\\') {
			*o++ = '\\';
			text += 2;
		} else if (text[1] == 'x' && hex_digit(text[2]) >= 0 && hex_digit(text[3]) >= 0) {
			*o++ = (char)(hex_digit(text[2]) << 4 | hex_digit(text[3]));
			text += 4;
		} else {
			return -1;
		}
	}
	*len = (size_t)(o - start);
	return 0;
}

/* Bytes a FIELD_TEXT value takes at most, rendered. */
static size_t rendered_max(const struct value *v)
{
	return v->plain ? v->len : RENDERED_MAX(v->len);
}

/* A FIELD_TEXT value at p, rendered unless plain: its end. */
static char *rendered_text(char *p, const struct value *v, bool json)
{
	if (v->plain)
		return copy_text(p, v->s, v->len);
	return p + render(v->s, v->len, p, json);
}

static void put_rendered(const struct value *v, bool json)
{
	commit(rendered_text(reserve(rendered_max(v)), v, json));
}

static void put_rfc3339(int64_t ns)
{
	char *p = reserve(WHEN_MAX);

	commit(p + format_rfc3339(ns, out.local, p));
}

/* --- Table --------------------------------------------------------------- */

/*
 * Bytes a table cell takes at most: its value, the padding to its width, the
 * sixteen spaces pad() may write beyond it, and a space.  Of the values but
 * text, a time is the longest (WHEN_MAX).
 */
static size_t cell_max(const struct field *f, const struct value *v, int width)
{
	size_t value = WHEN_MAX;

	if (!v)
		value = strlen(f->title);
	else if (!v->null && f->type == FIELD_TEXT)
		value = rendered_max(v);
	return value + (size_t)width + 16 + 1;
}

/* A table cell's value at p: its end. */
static char *table_value(char *p, const struct field *f, const struct value *v)
{
	if (v->null) {
		*p = '-';
		return p + 1;
	}
	switch (f->type) {
	case FIELD_TEXT:
		return rendered_text(p, v, false);
	case FIELD_CLOCK:
		return p + format_clock(v->i, out.local, p);
	case FIELD_RFC3339:
		return p + format_rfc3339(v->i, out.local, p);
	case FIELD_ELAPSED:
		if (!out.have_first) {
			out.have_first = true;
			out.first_ns = v->i;
		}
		return decimal_text(p, v->i - out.first_ns, 1000000000);
	case FIELD_MILLIS:
		return decimal_text(p, v->i, 1000000);
	case FIELD_FIXED3:
		return decimal_text(p, v->i, 1000);
	case FIELD_INT:
	case FIELD_BOOL:
		return int_text(p, v->i);
	case FIELD_LINES:
		break; /* under the row: table_lines */
	}
	return p;
}

/* A table column: FIELD_LINES go under the row. */
static bool is_column(const struct field *f)
{
	return f->title && f->shown && f->type != FIELD_LINES;
}

/*
 * A cell from start to end padded to its width, then a space (not after the
 * last column): its end.  The spaces go sixteen at a time, not through
 * memset: most pads are short.
 */
static char *pad(char *start, char *end, int width, bool last)
{
	char *to = start + width;

	if (last)
		return end;
	for (char *p = end; p < to; p += 16)
		memcpy(p, "                ", 16);
	if (end < to)
		end = to;
	*end = ' ';
	return end + 1;
}

/*
 * Where rendered text from start is cut to at most `most` characters, or
 * with bytes, `most` of the bytes it renders (an escape, \\ or \xHH, is
 * one): never inside an escape, which would read as other bytes.
 */
static char *whole_units(char *start, char *end, int most, bool bytes)
{
	char *p = start;

	for (int n = 0; p < end; n++) {
		int unit = *p != '\\' ? 1 : p + 1 < end && p[1] == '\\' ? 2 : 4;

		if ((bytes ? n + 1 : p + unit - start) > most)
			break;
		p += unit;
	}
	return p;
}

/*
 * A cell's text from start to end cut to its column: its end.  cut < 0:
 * to -cut bytes of the capture's text, silently, as BCC's %-12.12s cuts a
 * comm; > 0: to cut characters, marked "...".
 */
static char *cut_cell(char *start, char *end, int cut)
{
	if (!cut || end - start <= (cut < 0 ? -cut : cut))
		return end;
	if (cut < 0)
		return whole_units(start, end, -cut, true);
	if (cut < 4)
		return whole_units(start, end, cut, false);
	end = whole_units(start, end, cut - 3, false);
	memcpy(end, "...", 3);
	return end + 3;
}

/* A row, or the header when values is NULL; each cell written into one reservation. */
static void table_row(const struct value *values)
{
	for (int c = 0; c < out.ncolumns; c++) {
		int i = out.columns[c];
		const struct field *f = &out.fields[i];
		const struct value *v = values ? &values[i] : NULL;
		char *start = reserve(cell_max(f, v, out.widths[c]));
		char *end =
			v ? table_value(start, f, v) : copy_text(start, f->title, strlen(f->title));

		if (!v || f->type == FIELD_TEXT)
			end = cut_cell(start, end, out.cut[c]);
		commit(pad(start, end, out.widths[c], i == out.last_shown));
	}
}

/* The lines of the row's FIELD_LINES, indented, each on its own line (BCC's stacks). */
static void table_lines(const struct value *values)
{
	static const char indent[] = "        ";

	for (int l = 0; l < out.nline_fields; l++) {
		const struct field *f = &out.fields[out.line_fields[l]];
		const struct value *v = &values[out.line_fields[l]];

		if (v->null) {
			put(indent, sizeof(indent) - 1);
			put("[no ", 4);
			put(f->title, strlen(f->title));
			put("]\n", 2);
			continue;
		}
		for (size_t j = 0; j < v->len; j++) {
			char *start;

			put(indent, sizeof(indent) - 1);
			start = reserve(RENDERED_MAX(v->lines[j].len));
			commit(cut_cell(
				start, start + render(v->lines[j].s, v->lines[j].len, start, false),
				out.width ? out.width - (int)sizeof(indent) + 1 : 0));
			put_char('\n');
		}
	}
}

/* --- JSON Lines ------------------------------------------------------------ */

static void json_row(const struct value *values)
{
	put_char('{');
	for (int i = 0; i < out.count; i++) {
		const struct field *f = &out.fields[i];
		const struct value *v = &values[i];

		if (!f->key)
			continue;
		put(out.json_key[i], out.json_key_len[i]);
		if (v->null) {
			put("null", 4);
		} else if (f->type == FIELD_TEXT) {
			put_char('"');
			put_rendered(v, true);
			put_char('"');
		} else if (f->type == FIELD_CLOCK || f->type == FIELD_RFC3339) {
			put_char('"');
			put_rfc3339(v->i);
			put_char('"');
		} else if (f->type == FIELD_BOOL) {
			put(v->i ? "true" : "false", v->i ? 4 : 5);
		} else if (f->type == FIELD_LINES) {
			put_char('[');
			for (size_t j = 0; j < v->len; j++) {
				put(j ? ",\"" : "\"", j ? 2 : 1);
				out.len += render(v->lines[j].s, v->lines[j].len,
						  reserve(RENDERED_MAX(v->lines[j].len)), true);
				put_char('"');
			}
			put_char(']');
		} else if (f->type == FIELD_FIXED3) {
			put_decimal(v->i, 1000);
		} else {
			put_int(v->i);
		}
	}
	put_char('}');
}

/* The keys are ours (plain words): no escaping. */
static void make_json_keys(void)
{
	bool first = true;

	out.json_key = xcalloc((size_t)out.count, sizeof(*out.json_key));
	out.json_key_len = xcalloc((size_t)out.count, sizeof(*out.json_key_len));
	for (int i = 0; i < out.count; i++) {
		const char *key = out.fields[i].key;

		if (!key)
			continue;
		out.json_key[i] = xmalloc(strlen(key) + 5);
		out.json_key_len[i] =
			(size_t)sprintf(out.json_key[i], "%s\"%s\":", first ? "" : ",", key);
		first = false;
	}
}

/* --- CSV (RFC 4180) ---------------------------------------------------------- */

static char *scratch(size_t size)
{
	if (size > out.scratch_size) {
		out.scratch_size = size;
		out.scratch = xrealloc(out.scratch, out.scratch_size);
	}
	return out.scratch;
}

/* A cell of rendered text, quoted as RFC 4180 wants, a formula made text. */
static void put_csv_cell(const char *cell, size_t len)
{
	bool formula;

	/* A spreadsheet would run a cell starting with = + - @: make it text. */
	formula = len && strchr("=+-@", cell[0]);
	if (!memchr(cell, ',', len) && !memchr(cell, '"', len) && !formula) {
		put(cell, len);
		return;
	}
	put_char('"');
	if (formula)
		put_char('\'');
	for (size_t i = 0; i < len; i++) {
		if (cell[i] == '"')
			put_char('"');
		put_char(cell[i]);
	}
	put_char('"');
}

static void put_csv_text(const struct value *v)
{
	char *cell;

	if (v->plain) {
		put_csv_cell(v->s, v->len);
		return;
	}
	cell = scratch(RENDERED_MAX(v->len) + 1);
	put_csv_cell(cell, render(v->s, v->len, cell, false));
}

/* FIELD_LINES: one cell, the lines joined by " < " (a stack: callee < caller). */
static void put_csv_lines(const struct value *v)
{
	size_t size = 1, len = 0;
	char *cell;

	for (size_t j = 0; j < v->len; j++)
		size += RENDERED_MAX(v->lines[j].len) + 3;
	cell = scratch(size);
	for (size_t j = 0; j < v->len; j++) {
		if (j) {
			memcpy(cell + len, " < ", 3);
			len += 3;
		}
		len += render(v->lines[j].s, v->lines[j].len, cell + len, false);
	}
	put_csv_cell(cell, len);
}

static void csv_row(const struct value *values)
{
	bool first = true;

	for (int i = 0; i < out.count; i++) {
		const struct field *f = &out.fields[i];
		const struct value *v = values ? &values[i] : NULL;

		if (!f->key)
			continue;
		if (!first)
			put_char(',');
		first = false;
		if (!v)
			put(f->key, strlen(f->key));
		else if (v->null)
			continue;
		else if (f->type == FIELD_TEXT)
			put_csv_text(v);
		else if (f->type == FIELD_LINES)
			put_csv_lines(v);
		else if (f->type == FIELD_CLOCK || f->type == FIELD_RFC3339)
			put_rfc3339(v->i);
		else if (f->type == FIELD_FIXED3)
			put_decimal(v->i, 1000);
		else
			put_int(v->i);
	}
}

/* --- Rows -------------------------------------------------------------------- */

static void write_out(void)
{
	size_t done = 0;

	if (out.len)
		progress_output();
	while (done < out.len && !out.write_failed) {
		ssize_t n = write(STDOUT_FILENO, out.buf + done, out.len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			out.write_failed = true;
			out.write_errno = n < 0 ? errno : EIO;
			break;
		}
		done += (size_t)n;
	}
	out.len = 0;
}

static void end_line(void)
{
	put_char('\n');
	if (out.len >= FLUSH_AT)
		write_out();
}

/* Narrowest a column of free text may be left to fit (a detail, a path): less tells nothing. */
#define FLEX_COLUMN_MIN 12

/*
 * A column of free text (no width of its own, or the last one) that takes
 * a share of what the others leave when a table is fitted.
 */
static bool is_flex(int i, int last)
{
	return out.fields[i].type == FIELD_TEXT && (!out.fields[i].width || i == last);
}

/*
 * The share of the line each flex column gets, once the others have theirs
 * and a space each, with dropped[] left out; the flex columns in *nflex.
 */
static int flex_share(const bool *dropped, int *nflex)
{
	int fixed = 0, last = -1;

	for (int i = 0; i < out.count; i++)
		if (is_column(&out.fields[i]) && !dropped[i])
			last = i;
	*nflex = 0;
	for (int i = 0; i < out.count; i++) {
		if (!is_column(&out.fields[i]) || dropped[i])
			continue;
		if (is_flex(i, last))
			(*nflex)++;
		else
			fixed += out.fields[i].width + 1;
	}
	return *nflex ? (out.width - fixed) / *nflex - 1 : out.width - fixed;
}

/* To fit out.width: the columns to drop, lowest rank first, until the rest fit. */
static void fit_columns(bool *dropped)
{
	int nflex;

	while (flex_share(dropped, &nflex) < (nflex ? FLEX_COLUMN_MIN : 0)) {
		int lowest = -1;

		for (int i = 0; i < out.count; i++)
			if (is_column(&out.fields[i]) && !dropped[i] && out.drop[i] > 0 &&
			    (lowest < 0 || out.drop[i] < out.drop[lowest]))
				lowest = i;
		if (lowest < 0)
			return; /* nothing left to drop: the lines are longer */
		dropped[lowest] = true;
	}
}

/*
 * The table's columns and lines, as the fields say now: the header fixes
 * them.  Fitted to out.width, each column is as wide as its field says and a
 * flex column as its share, a text cell cut to it; the last takes the rest.
 */
static void lay_out_columns(void)
{
	bool *dropped = xcalloc((size_t)out.count + 1, sizeof(*dropped));
	int share = 0, nflex, used = 0, last = -1;

	if (out.width) {
		fit_columns(dropped);
		share = flex_share(dropped, &nflex);
	}
	for (int i = 0; i < out.count; i++)
		if (is_column(&out.fields[i]) && !dropped[i])
			last = i;
	out.columns = xrealloc(out.columns, (size_t)out.count * sizeof(*out.columns));
	out.widths = xrealloc(out.widths, (size_t)out.count * sizeof(*out.widths));
	out.cut = xrealloc(out.cut, (size_t)out.count * sizeof(*out.cut));
	out.line_fields = xrealloc(out.line_fields, (size_t)out.count * sizeof(*out.line_fields));
	out.ncolumns = out.nline_fields = 0;
	for (int i = 0; i < out.count; i++) {
		const struct field *f = &out.fields[i];
		int c = out.ncolumns, width = f->width, cut = -out.max[i];

		if (f->type == FIELD_LINES && f->shown)
			out.line_fields[out.nline_fields++] = i;
		if (!is_column(f) || dropped[i])
			continue;
		if (out.width && is_flex(i, last))
			width = i == last ? out.width - used : share > 0 ? share : 1;
		else if (out.width && f->type == FIELD_TEXT && width)
			cut = width; /* within its column, marked */
		if (out.width && is_flex(i, last))
			cut = width > 0 ? width : 1;
		/* BCC's cut, when narrower */
		if (out.max[i] && (!cut || out.max[i] <= (cut < 0 ? -cut : cut)))
			cut = -out.max[i];
		out.widths[c] = width;
		out.cut[c] = f->type == FIELD_TEXT ? cut : 0;
		used += width + 1;
		out.columns[out.ncolumns++] = i;
		out.last_shown = i;
	}
	free(dropped);
}

static void write_header(void)
{
	if (!out.header_pending)
		return;
	out.header_pending = false;
	lay_out_columns();
	if (out.format == FORMAT_TABLE)
		table_row(NULL);
	else
		csv_row(NULL);
	end_line();
}

void output_flush(void)
{
	write_header();
	write_out();
}

void output_set_width(int columns)
{
	out.width = columns;
}

void output_column_fit(int field, int max, int drop)
{
	if (field < 0 || field >= OUTPUT_FIELDS_MAX)
		abort(); /* a report's own fields: a bug, not input */
	out.max[field] = max;
	out.drop[field] = drop;
}

void output_begin(enum output_format format, bool local, const struct field *fields, int count)
{
	fflush(stdout); /* anything printed before goes first */
	if (count > OUTPUT_FIELDS_MAX)
		abort(); /* a report's own fields: a bug, not input */
	out.format = format;
	out.local = local;
	out.fields = fields;
	out.count = count;
	if (format == FORMAT_JSON)
		make_json_keys();
	else
		out.header_pending = true;
}

void output_row(const struct value *values)
{
	write_header();
	if (out.format == FORMAT_TABLE)
		table_row(values);
	else if (out.format == FORMAT_JSON)
		json_row(values);
	else
		csv_row(values);
	end_line();
	if (out.format == FORMAT_TABLE)
		table_lines(values);
}

void output_line(const char *text, size_t len)
{
	put(text, len);
	end_line();
}

int output_end(bool complete)
{
	bool failed;
	int failed_errno;

	out.header_pending &= complete;
	output_flush();
	if (fflush(stdout) && !out.write_failed) {
		out.write_failed = true;
		out.write_errno = errno;
	}
	for (int i = 0; out.json_key && i < out.count; i++)
		free(out.json_key[i]);
	free(out.json_key);
	free(out.json_key_len);
	free(out.columns);
	free(out.cut);
	free(out.widths);
	free(out.line_fields);
	free(out.buf);
	free(out.scratch);
	failed = out.write_failed;
	failed_errno = out.write_errno;
	memset(&out, 0, sizeof(out)); /* ready for another report in this process */
	if (failed) {
		fprintf(stderr, "report: cannot write the output: %s\n", strerror(failed_errno));
		return -1;
	}
	return 0;
}
