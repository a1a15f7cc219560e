/*
 * Stacks of events (record -K, -U), from the capture alone: an event's kernel
 * and user stacks found by its seq, their frames as the recording host named
 * them, formatted once per stack into a bounded cache.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casefile.h"
#include "stacks.h"
#include "util.h"

/* Text of a frame past this is cut, the cut marked "...": a symbol, a path, a build-id. */
#define FRAME_TEXT_MAX 4096

/*
 * Per capture and kind of stack: direct-mapped slots by stack id (dense from
 * 1), and the bytes they may hold.  Stacks are stored once each, so a report
 * of millions of events formats a few hundred stacks.
 */
#define STACK_SLOTS_MAX	  4096
#define STACK_CACHE_BYTES (16u << 20)

struct formatted {
	int64_t id;
	bool filled;
	struct stack_text text;
	struct line *lines;
	char *bytes; /* the lines' text, then the folded names */
	size_t size; /* counted against STACK_CACHE_BYTES */
};

struct stack_cache {
	struct formatted *slots;
	uint64_t mask;
	size_t bytes;
	struct formatted spare; /* the last stack that did not fit */
};

struct capture_stacks {
	sqlite3_stmt *stack_stmt, *frames_stmt;
	struct stack_cache cache[STACK_KINDS];
};

/* --- Options ------------------------------------------------------------------ */

bool stack_option(int option, struct stack_choice *choice)
{
	switch (option) {
	case 'K':
		choice->kernel = true;
		return true;
	case 'U':
	case OPT_USER_STACK:
		choice->user = true;
		return true;
	case OPT_FOLDED:
		choice->folded = true;
		return true;
	default:
		return false;
	}
}

int stack_check(const struct options *opts, struct stack_choice *choice, const char *column_options)
{
	if (!choice->folded)
		return 0;
	if (opts->format != FORMAT_TABLE)
		return option_error(opts->command,
				    "--folded prints folded stacks: it takes no --format %s",
				    opts->format == FORMAT_JSON ? "json" : "csv");
	if (column_options)
		return option_error(opts->command, "--folded prints no columns: it takes no %s",
				    column_options);
	/* Folded stacks are whole stacks unless -K or -U says which half. */
	if (!choice->kernel && !choice->user)
		choice->kernel = choice->user = true;
	return 0;
}

/* --- Reading ------------------------------------------------------------------ */

/* The statements go with the connection, the cache with the capture (Closing, below). */
static void stacks_release(struct capture *cap);
static void stacks_free(struct capture *cap);
static const struct capture_keeper keeper = {stacks_release, stacks_free};

static struct capture_stacks *stacks_of(struct capture *cap)
{
	if (!cap->stacks) {
		capture_keeper(&keeper);
		cap->stacks = xcalloc(1, sizeof(*cap->stacks));
	}
	return cap->stacks;
}

static int stacks_failed(const struct capture *cap, const char *what, int64_t id, const char *why)
{
	fprintf(stderr, "report: %s: cannot read %s %lld: %s\n", cap->name, what, (long long)id,
		why);
	return -1;
}

static int prepare(struct capture *cap, sqlite3_stmt **stmt, const char *sql)
{
	if (*stmt)
		return 0;
	if (sqlite3_prepare_v3(cap->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL) ==
	    SQLITE_OK)
		return 0;
	fprintf(stderr, "report: %s: cannot read its stacks: %s\n", cap->name, capture_error(cap));
	return -1;
}

/* An integer column, or NULL; false when it holds anything else (a corrupt capture). */
static bool int_column(sqlite3_stmt *stmt, int column, bool *null, int64_t *value)
{
	int type = sqlite3_column_type(stmt, column);

	*null = type == SQLITE_NULL;
	*value = type == SQLITE_INTEGER ? sqlite3_column_int64(stmt, column) : 0;
	return type == SQLITE_NULL || type == SQLITE_INTEGER;
}

/* --- Formatting ------------------------------------------------------------------ */

/* Bytes being put together. */
struct builder {
	char *s;
	size_t len, size;
};

static void add(struct builder *b, const void *bytes, size_t len)
{
	if (!len)
		return;
	if (b->len + len > b->size) {
		b->size = 2 * (b->len + len) + 256;
		b->s = xrealloc(b->s, b->size);
	}
	memcpy(b->s + b->len, bytes, len);
	b->len += len;
}

static void add_string(struct builder *b, const char *s)
{
	add(b, s, strlen(s));
}

/* A name for a folded stack, rendered (render_folded). */
static void add_folded(struct builder *b, const char *name, size_t len)
{
	if (b->len + 4 * len > b->size) {
		b->size = 2 * (b->len + 4 * len) + 256;
		b->s = xrealloc(b->s, b->size);
	}
	b->len += render_folded(name, len, b->s + b->len);
}

/* Numbers only: the formats are ours, never the capture's. */
static void __attribute__((format(printf, 2, 3)))
add_number(struct builder *b, const char *format, ...)
{
	char number[64];
	va_list ap;
	int len;

	va_start(ap, format);
	len = vsnprintf(number, sizeof(number), format, ap);
	va_end(ap);
	add(b, number, (size_t)len < sizeof(number) ? (size_t)len : sizeof(number) - 1);
}

/* A text column's bytes, cut at FRAME_TEXT_MAX; from the basename on if asked. */
static void add_text(struct builder *b, sqlite3_stmt *stmt, int column, bool basename)
{
	const char *text = sqlite3_column_blob(stmt, column);
	size_t len = (size_t)sqlite3_column_bytes(stmt, column);
	const char *slash = len ? memrchr(text, '/', len) : NULL;

	if (basename && slash && slash + 1 < text + len) {
		len -= (size_t)(slash + 1 - text);
		text = slash + 1;
	}
	if (len > FRAME_TEXT_MAX) {
		add(b, text, FRAME_TEXT_MAX);
		add_string(b, "...");
		return;
	}
	add(b, text, len);
}

/* The columns of a frame, as frames_sql selects them. */
enum {
	FRAME_DEPTH,
	FRAME_IP,
	FRAME_MODULE,
	FRAME_OFFSET,
	FRAME_SYMBOL,
	FRAME_SYMBOL_OFFSET,
	FRAME_MODULE_ID,
	FRAME_MODULE_NAME,
	FRAME_BUILD_ID,
	FRAME_DELETED,
	FRAME_COLUMNS
};

static const char frames_sql[] =
	"SELECT f.depth, f.ip, f.module, f.offset, f.symbol, f.symbol_offset, m.id, m.name, "
	"m.build_id, m.deleted FROM stack_frame f LEFT JOIN module m ON m.id = f.module "
	"WHERE f.stack = ? ORDER BY f.depth";

/* A frame's numbers, read and checked. */
struct frame {
	bool null[FRAME_COLUMNS];
	int64_t number[FRAME_COLUMNS];
};

static const char *read_frame(sqlite3_stmt *stmt, int64_t depth, struct frame *f)
{
	static const int numbers[] = {
		FRAME_DEPTH,	     FRAME_IP,	      FRAME_MODULE, FRAME_OFFSET,
		FRAME_SYMBOL_OFFSET, FRAME_MODULE_ID, FRAME_DELETED};

	for (size_t i = 0; i < ARRAY_SIZE(numbers); i++)
		if (!int_column(stmt, numbers[i], &f->null[numbers[i]], &f->number[numbers[i]]))
			return "corrupt capture: a frame's number is not a number";
	f->null[FRAME_SYMBOL] = sqlite3_column_type(stmt, FRAME_SYMBOL) == SQLITE_NULL;
	f->null[FRAME_MODULE_NAME] = sqlite3_column_type(stmt, FRAME_MODULE_NAME) == SQLITE_NULL;
	f->null[FRAME_BUILD_ID] = sqlite3_column_type(stmt, FRAME_BUILD_ID) == SQLITE_NULL;
	if (f->null[FRAME_DEPTH] || f->number[FRAME_DEPTH] != depth || f->null[FRAME_IP])
		return "corrupt capture: its frames are not numbered 0, 1, 2...";
	if (!f->null[FRAME_MODULE] && (f->null[FRAME_MODULE_ID] || f->null[FRAME_MODULE_NAME]))
		return "corrupt capture: a frame's module is not there";
	return NULL;
}

static void add_signed_hex(struct builder *b, int64_t value)
{
	uint64_t magnitude = value < 0 ? -(uint64_t)value : (uint64_t)value;

	add_number(b, "%s0x%" PRIx64, value < 0 ? "-" : "+", magnitude);
}

/*
 * As BCC prints a frame: "cap_capable+0x83 [kernel]", "read_history+0x22
 * [bash]" (a user module by its basename).  Without a symbol, what resolves
 * it later: "[unknown] (/usr/lib/libc.so.6+0x2724a, build-id 93ac...)", or
 * the address alone when no module held it: "[unknown] (0x7f3a1c2d4e5f)".
 */
static void add_frame_line(struct builder *b, sqlite3_stmt *stmt, const struct frame *f, bool user)
{
	bool module = !f->null[FRAME_MODULE];

	if (!f->null[FRAME_SYMBOL]) {
		add_text(b, stmt, FRAME_SYMBOL, false);
		if (!f->null[FRAME_SYMBOL_OFFSET])
			add_signed_hex(b, f->number[FRAME_SYMBOL_OFFSET]);
		if (module) {
			add_string(b, " [");
			add_text(b, stmt, FRAME_MODULE_NAME, user);
			add_string(b, "]");
		}
		return;
	}
	add_string(b, "[unknown] (");
	if (!module) {
		add_number(b, "0x%" PRIx64 ")", (uint64_t)f->number[FRAME_IP]);
		return;
	}
	add_text(b, stmt, FRAME_MODULE_NAME, false);
	if (!f->null[FRAME_OFFSET])
		add_number(b, "+0x%" PRIx64, (uint64_t)f->number[FRAME_OFFSET]);
	if (!f->null[FRAME_BUILD_ID]) {
		add_string(b, ", build-id ");
		add_text(b, stmt, FRAME_BUILD_ID, false);
	}
	/* Taken by build-id from a file never seen mapped: where in the file. */
	if (user && f->null[FRAME_OFFSET])
		add_number(b, ", file offset 0x%" PRIx64, (uint64_t)f->number[FRAME_IP]);
	if (!f->null[FRAME_DELETED] && f->number[FRAME_DELETED])
		add_string(b, ", deleted");
	add_string(b, ")");
}

/* A frame in a folded stack: its function, else [module], else [unknown]. */
static void add_frame_name(struct builder *b, sqlite3_stmt *stmt, const struct frame *f, bool user)
{
	if (!f->null[FRAME_SYMBOL]) {
		add_text(b, stmt, FRAME_SYMBOL, false);
	} else if (!f->null[FRAME_MODULE]) {
		bool bracketed = sqlite3_column_bytes(stmt, FRAME_MODULE_NAME) > 0 &&
				 *(const char *)sqlite3_column_blob(stmt, FRAME_MODULE_NAME) == '[';

		add_string(b, bracketed ? "" : "[");
		add_text(b, stmt, FRAME_MODULE_NAME, user);
		add_string(b, bracketed ? "" : "]");
	} else {
		add_string(b, "[unknown]");
	}
}

size_t render_folded(const char *s, size_t len, char *out)
{
	size_t written = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == ';') {
			memcpy(out + written, "\\x3b", 4);
			written += 4;
		} else {
			written += render_text(s + i, 1, out + written);
		}
	}
	return written;
}

/* The stack row: whether it is of this kind, and how many frames it has. */
static int read_stack_row(struct capture *cap, int kind, int64_t id, int64_t *frames, bool *cut,
			  int64_t *cut_at)
{
	sqlite3_stmt *stmt;
	const char *corrupt = NULL;
	int64_t user = -1;
	bool null;
	int rc;

	/* Captures made before cut_at existed have none. */
	if (prepare(cap, &cap->stacks->stack_stmt,
		    capture_has_column(cap, "stack", "cut_at")
			    ? "SELECT user, frames, cut_at FROM stack WHERE id = ?"
			    : "SELECT user, frames, NULL FROM stack WHERE id = ?"))
		return -1;
	stmt = cap->stacks->stack_stmt;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW && (!int_column(stmt, 0, &null, &user) || null ||
				 !int_column(stmt, 1, &null, frames) || null))
		corrupt = "corrupt capture: not a stack row";
	else if (rc == SQLITE_ROW && user != kind)
		corrupt = kind == STACK_USER ? "corrupt capture: not a user stack"
					     : "corrupt capture: not a kernel stack";
	else if (rc == SQLITE_ROW && (*frames < 0 || *frames > MAX_STACK_DEPTH))
		corrupt = "corrupt capture: too many frames";
	else if (rc == SQLITE_ROW && !int_column(stmt, 2, &null, cut_at))
		corrupt = "corrupt capture: not a stack row";
	else if (rc == SQLITE_DONE)
		corrupt = "corrupt capture: not there";
	*cut = rc == SQLITE_ROW && !corrupt && !null;
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return stacks_failed(cap, "stack", id, capture_error(cap));
	return corrupt ? stacks_failed(cap, "stack", id, corrupt) : 0;
}

/* Read and format stack id into f.  0, or -1 after one line. */
static int format_stack(struct capture *cap, int kind, int64_t id, struct formatted *f)
{
	struct builder lines, names;
	size_t line_end[MAX_STACK_DEPTH + 1], name_end[MAX_STACK_DEPTH], folded_at, start;
	const char *corrupt = NULL;
	int64_t frames, depth = 0, cut_at;
	sqlite3_stmt *stmt;
	struct frame frame;
	bool cut;
	int rc;

	if (read_stack_row(cap, kind, id, &frames, &cut, &cut_at) ||
	    prepare(cap, &cap->stacks->frames_stmt, frames_sql))
		return -1;
	stmt = cap->stacks->frames_stmt;
	sqlite3_bind_int64(stmt, 1, id);
	/* Never empty: lines and names may point into them (an empty symbol). */
	lines = (struct builder){xmalloc(256), 0, 256};
	names = (struct builder){xmalloc(256), 0, 256};
	while (!corrupt && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (depth == frames) {
			corrupt = "corrupt capture: more frames than it says";
			break;
		}
		corrupt = read_frame(stmt, depth, &frame);
		if (corrupt)
			break;
		add_frame_line(&lines, stmt, &frame, kind == STACK_USER);
		add_frame_name(&names, stmt, &frame, kind == STACK_USER);
		line_end[depth] = lines.len;
		name_end[depth++] = names.len;
	}
	sqlite3_reset(stmt);
	if (!corrupt && rc != SQLITE_DONE && rc != SQLITE_ROW)
		corrupt = capture_error(cap);
	if (!corrupt && depth != frames)
		corrupt = "corrupt capture: frames are missing";
	if (corrupt) {
		free(lines.s);
		free(names.s);
		return stacks_failed(cap, "stack", id, corrupt);
	}
	/* The walk ended at what is no code: said as the last line, never as a frame. */
	if (cut) {
		add_number(&lines, "[walk ended: 0x%" PRIx64 " is not code]", (uint64_t)cut_at);
		line_end[depth] = lines.len;
	}

	/* The folded names after the lines' text, outermost first, rendered. */
	folded_at = lines.len;
	for (int64_t i = depth - 1; i >= 0; i--) {
		start = i ? name_end[i - 1] : 0;
		if (i != depth - 1)
			add_string(&lines, ";");
		add_folded(&lines, names.s + start, name_end[i] - start);
	}
	free(names.s);

	*f = (struct formatted){.id = id, .filled = true, .bytes = lines.s};
	f->lines = xcalloc((size_t)depth + 2, sizeof(*f->lines));
	for (int64_t i = 0; i < depth + cut; i++) {
		start = i ? line_end[i - 1] : 0;
		f->lines[i] = (struct line){lines.s + start, line_end[i] - start};
	}
	f->text = (struct stack_text){.nlines = (size_t)(depth + cut),
				      .lines = f->lines,
				      .folded = lines.s + folded_at,
				      .folded_len = lines.len - folded_at};
	f->size = lines.size + ((size_t)depth + 2) * sizeof(*f->lines);
	return 0;
}

static void free_formatted(struct formatted *f)
{
	free(f->lines);
	free(f->bytes);
	memset(f, 0, sizeof(*f));
}

/* Slots for ids up to the largest stack id, within STACK_SLOTS_MAX. */
static void make_slots(struct capture *cap, struct stack_cache *cache)
{
	sqlite3_stmt *stmt;
	int64_t largest = 0;
	uint64_t slots = 16;

	if (sqlite3_prepare_v2(cap->db, "SELECT max(id) FROM stack", -1, &stmt, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(stmt) == SQLITE_ROW)
			largest = sqlite3_column_int64(stmt, 0);
		sqlite3_finalize(stmt);
	}
	while (slots < STACK_SLOTS_MAX && (int64_t)slots <= largest)
		slots *= 2;
	cache->slots = xcalloc(slots, sizeof(*cache->slots));
	cache->mask = slots - 1;
}

int stack_text(struct capture *cap, int kind, int64_t id, const struct stack_text **text)
{
	struct stack_cache *cache = &stacks_of(cap)->cache[kind];
	struct formatted fresh, *slot;

	if (!cache->slots)
		make_slots(cap, cache);
	slot = &cache->slots[(uint64_t)id & cache->mask];
	if (slot->filled && slot->id == id) {
		*text = &slot->text;
		return 0;
	}
	if (format_stack(cap, kind, id, &fresh))
		return -1;
	cache->bytes -= slot->size;
	free_formatted(slot);
	if (cache->bytes + fresh.size > STACK_CACHE_BYTES) {
		free_formatted(&cache->spare);
		slot = &cache->spare;
	} else {
		cache->bytes += fresh.size;
	}
	*slot = fresh;
	*text = &slot->text;
	return 0;
}

/* --- For the commands --------------------------------------------------------- */

void stacks_tell_missing(struct captures *set, const struct stack_choice *choice)
{
	const bool asked[STACK_KINDS] = {choice->kernel, choice->user};

	for (int i = 0; i < set->count; i++) {
		struct capture *cap = set->list[i];
		bool present, missing[STACK_KINDS] = {false, false};
		sqlite3_stmt *stmt = NULL;

		if (capture_has_stacks(cap, &present))
			continue; /* said; reading its stacks will fail */
		for (int kind = 0; kind < STACK_KINDS; kind++) {
			if (!asked[kind])
				continue;
			missing[kind] = !present;
			if (present &&
			    sqlite3_prepare_v2(cap->db,
					       "SELECT EXISTS (SELECT 1 FROM stack WHERE user = ?)",
					       -1, &stmt, NULL) == SQLITE_OK) {
				sqlite3_bind_int(stmt, 1, kind);
				missing[kind] = sqlite3_step(stmt) == SQLITE_ROW &&
						!sqlite3_column_int(stmt, 0);
				sqlite3_finalize(stmt);
			}
		}
		if (missing[STACK_KERNEL] && missing[STACK_USER])
			fprintf(stderr,
				"report: %s: no kernel or user stacks in this capture (record -K "
				"-U "
				"takes them)\n",
				cap->name);
		else if (missing[STACK_KERNEL])
			fprintf(stderr,
				"report: %s: no kernel stacks in this capture (record -K takes "
				"them)\n",
				cap->name);
		else if (missing[STACK_USER])
			fprintf(stderr,
				"report: %s: no user stacks in this capture (record -U takes "
				"them)\n",
				cap->name);
	}
}

void stack_fields(struct field fields[STACK_KINDS], const struct stack_choice *choice)
{
	fields[STACK_KERNEL] =
		(struct field){"kernel stack", choice->kernel ? "kernel_stack" : NULL, 0,
			       FIELD_LINES, choice->kernel};
	fields[STACK_USER] = (struct field){"user stack", choice->user ? "user_stack" : NULL, 0,
					    FIELD_LINES, choice->user};
}

int stack_values(const struct event *ev, const struct stack_choice *choice,
		 struct value values[STACK_KINDS])
{
	const bool asked[STACK_KINDS] = {choice->kernel, choice->user};
	const struct stack_text *text;

	values[STACK_KERNEL] = values[STACK_USER] = null_value();
	for (int kind = 0; kind < STACK_KINDS; kind++) {
		if (!asked[kind] || !ev->stacks.has[kind])
			continue;
		if (stack_text(ev->cap, kind, ev->stacks.id[kind], &text))
			return -1;
		values[kind] = lines_value(text->lines, text->nlines);
	}
	return 0;
}

/* --- Closing ---------------------------------------------------------------------- */

static void stacks_release(struct capture *cap)
{
	if (!cap->stacks)
		return;
	sqlite3_finalize(cap->stacks->stack_stmt);
	sqlite3_finalize(cap->stacks->frames_stmt);
	cap->stacks->stack_stmt = cap->stacks->frames_stmt = NULL;
}

static void stacks_free(struct capture *cap)
{
	if (!cap->stacks)
		return;
	stacks_release(cap);
	for (int kind = 0; kind < STACK_KINDS; kind++) {
		struct stack_cache *cache = &cap->stacks->cache[kind];

		for (uint64_t i = 0; cache->slots && i <= cache->mask; i++)
			free_formatted(&cache->slots[i]);
		free(cache->slots);
		free_formatted(&cache->spare);
	}
	free(cap->stacks);
	cap->stacks = NULL;
}
