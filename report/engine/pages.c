/*
 * Reading an event table's rows straight from its b-tree's pages (pages.h).
 * SQLite's file format (https://www.sqlite.org/fileformat2.html): a WITHOUT
 * ROWID table is an index b-tree whose entries are the rows' records, the
 * primary key's columns first; interior pages hold entries too, each
 * between the children left and right of it; a rowid table's entries
 * are in its leaves, each a rowid and a record, its interior pages holding
 * only rowids that bound their children.  The pages are read through
 * the connection's own file (the read-only VFS), one level of the tree at a
 * time, a leaf's next siblings with it (batchread.h); every number a page
 * holds is checked before it is followed.
 */
#include <assert.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "batchread.h"
#include "pages.h"
#include "rovfs.h"
#include "util.h"

/* Deeper than any table of a file SQLite can write (a few levels per billion rows). */
#define DEPTH_MAX 20
/* The record's columns read, from the first: the key and the columns named. */
#define POSITIONS_MAX 64
#define CELLS_MAX     32
#define NULL_SLOT     POSITIONS_MAX

#define INLINE __attribute__((always_inline)) static inline

/*
 * Readers that read ahead at once, at most: their buffers (BATCH_READ_MAX
 * pages each, 32 KiB of 4 KiB pages) stay bounded over a fleet of hundreds
 * of captures, whose readers are all open together; the others read a page
 * at a time.
 */
#define READERS_AHEAD 64
static atomic_int readers_ahead;

#define PAGE_INDEX_INTERIOR 0x02
#define PAGE_INDEX_LEAF	    0x0a
#define PAGE_TABLE_INTERIOR 0x05
#define PAGE_TABLE_LEAF	    0x0d

/* A page of the tree being read, and where the reading is in it. */
struct level {
	uint8_t *page; /* page_size bytes and 8 spare, kept for the next page at this depth */
	uint32_t pgno;
	int cells;
	int pointers; /* where its cell pointers begin */
	bool leaf;
	/* leaf: the next cell; interior: 2i, go down child i next; 2i + 1, cell i next */
	int at;
	/* Every key of the page and below it is less than this (the cell right of it). */
	bool bounded;
	int64_t bound_t, bound_seq;
};

/* An entry's record: its bytes in the page, and where the rest is. */
struct payload {
	const uint8_t *local;
	uint64_t size;
	uint32_t nlocal;
	uint32_t overflow; /* the first page of the rest (size > nlocal) */
};

/* What a column's value is (value()). */
enum value { VALUE_NULL, VALUE_INTEGER, VALUE_ODD };

/* What decode_small() makes of a serial type: those below SMALL_TYPES, a NULL, number or real. */
#define SMALL_TYPES 10

struct small_type {
	uint8_t shift; /* an integer's: 64 less its bits */
	bool null, odd;
	int64_t mask, one; /* an integer's: all ones; type 9's value: 1 */
};

struct pages {
	sqlite3_file *file;
	uint32_t page_size, usable, page_count, root;
	uint32_t max_local, min_local; /* of an index b-tree's entry (fileformat2 1.6) */
	int cells;
	int position[CELLS_MAX]; /* each cell's column in the record, -1: NULL or constant */
	int slot[CELLS_MAX];	 /* the same, NULL_SLOT for NULL (decode_small()) */
	struct small_type small[SMALL_TYPES];
	uint32_t constants; /* bit i: cell i is constant[i] instead */
	int64_t constant[CELLS_MAX];
	int last;  /* the last column of the record read */
	bool drop; /* pages_drop()'s, of drop_value */
	int64_t drop_value;
	/* pages_range()'s: rows of from <= t <= to; seeking: the first not read yet. */
	bool ranged, seeking, past;
	int64_t from, to;
	/* pages_keep()'s: the cells tested (bit i: cell i), the map of ids held. */
	uint32_t keep_cells;
	const uint8_t *keep_map;
	size_t keep_size;
	struct level levels[DEPTH_MAX];
	int depth;
	int64_t visited; /* the tree's pages read: no more than the file has */
	uint8_t *overflow_page;
	/* Leaves read ahead: the next ones under their parent, in one call. */
	int fd;				     /* the file's; -1: none read ahead */
	uint8_t *ahead[BATCH_READ_MAX];	     /* pages, as a level's (page_size and 8 bytes) */
	uint32_t ahead_pgno[BATCH_READ_MAX]; /* 0: not read */
	int ahead_count, ahead_next;
	/*
	 * A reader of pages_open_table(): its columns' texts that go on in
	 * overflow pages; rowid: of a rowid table (else WITHOUT ROWID).
	 */
	bool columns, rowid, utf8;
	uint8_t *text[CELLS_MAX];
	uint64_t text_room[CELLS_MAX];
	bool started, have_key, corrupt;
	int64_t key_t, key_seq;
	char error[160];
};

__attribute__((format(printf, 2, 3))) static int corrupt(struct pages *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->error, sizeof(p->error), fmt, ap);
	va_end(ap);
	p->corrupt = true;
	return -1;
}

static uint32_t be16(const uint8_t *b)
{
	return (uint32_t)b[0] << 8 | b[1];
}

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* A varint of at most avail bytes at b: its length, or 0 when it runs past them. */
static int varint(const uint8_t *b, uint64_t avail, uint64_t *v)
{
	uint64_t x = 0;

	for (int i = 0; i < 9 && (uint64_t)i < avail; i++) {
		if (i == 8) {
			*v = x << 8 | b[i];
			return 9;
		}
		x = x << 7 | (b[i] & 0x7f);
		if (!(b[i] & 0x80)) {
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

static int read_page(struct pages *p, uint32_t pgno, uint8_t *page)
{
	int rc;

	if (pgno < 1 || pgno > p->page_count)
		return corrupt(p, "page %u of a file of %u", pgno, p->page_count);
	rc = p->file->pMethods->xRead(p->file, page, (int)p->page_size,
				      (sqlite3_int64)(pgno - 1) * p->page_size);
	if (rc == SQLITE_IOERR_SHORT_READ)
		return corrupt(p, "page %u past the file's end", pgno);
	if (rc != SQLITE_OK) {
		snprintf(p->error, sizeof(p->error), "%s (page %u)", sqlite3_errstr(rc), pgno);
		return -1;
	}
	return 0;
}

/* Page pgno into *page: the next read ahead, its buffer traded for *page's; or read now. */
static int fetch(struct pages *p, uint32_t pgno, uint8_t **page)
{
	if (p->ahead_next < p->ahead_count && p->ahead_pgno[p->ahead_next] == pgno) {
		uint8_t *read = p->ahead[p->ahead_next];

		p->ahead[p->ahead_next++] = *page;
		*page = read;
		return 0;
	}
	return read_page(p, pgno, *page);
}

/* Go down to page pgno, the next level. */
static int descend(struct pages *p, uint32_t pgno)
{
	struct level *l;
	uint8_t type;

	if (p->depth == DEPTH_MAX)
		return corrupt(p, "a b-tree deeper than %d pages", DEPTH_MAX);
	l = &p->levels[p->depth];
	if (++p->visited > p->page_count)
		return corrupt(p, "a b-tree of more pages than the file has");
	if (!l->page)
		l->page = xcalloc(1, p->page_size + 8); /* small_integer()'s 8 bytes */
	if (fetch(p, pgno, &l->page))
		return -1;
	type = l->page[0];
	if (p->rowid ? type != PAGE_TABLE_INTERIOR && type != PAGE_TABLE_LEAF
		     : type != PAGE_INDEX_INTERIOR && type != PAGE_INDEX_LEAF)
		return corrupt(p, "page %u is not one of the table's (type %u)", pgno, type);
	l->pgno = pgno;
	l->leaf = type == PAGE_INDEX_LEAF || type == PAGE_TABLE_LEAF;
	l->pointers = l->leaf ? 8 : 12;
	l->cells = (int)be16(l->page + 3);
	l->at = 0;
	l->bounded = false;
	if ((uint32_t)(l->pointers + 2 * l->cells) > p->usable)
		return corrupt(p, "page %u: %d cells, more than fit", pgno, l->cells);
	p->depth++;
	return 0;
}

/* Whether a cell at offset lies in the level's page, past its pointers. */
INLINE bool cell_inside(const struct pages *p, const struct level *l, uint32_t offset)
{
	return offset >= (uint32_t)(l->pointers + 2 * l->cells) && offset + 4 <= p->usable;
}

/* Where cell i of the level's page begins. */
INLINE int cell_offset(struct pages *p, const struct level *l, int i, uint32_t *offset)
{
	*offset = be16(l->page + l->pointers + 2 * i);
	if (!cell_inside(p, l, *offset))
		return corrupt(p, "page %u: cell %d at %u, outside its cells", l->pgno, i, *offset);
	return 0;
}

/*
 * The child i of an interior page: left of cell i, or its right-most for
 * the last; 0 when its cell lies outside the page (child() tells of it).
 */
INLINE uint32_t child_pgno(const struct pages *p, const struct level *l, int i)
{
	uint32_t at = i < l->cells ? be16(l->page + l->pointers + 2 * i) : 8;

	return i == l->cells || cell_inside(p, l, at) ? be32(l->page + at) : 0;
}

/* child_pgno(), or -1 after saying where the cell is. */
static int child(struct pages *p, const struct level *l, int i, uint32_t *pgno)
{
	uint32_t offset;

	*pgno = child_pgno(p, l, i);
	if (*pgno || i == l->cells)
		return 0;
	return cell_offset(p, l, i, &offset);
}

/*
 * Children i, i + 1, ... of the interior page l, leaves (its last one gone
 * down to was), read in one call: as many as batch_read takes, up to the
 * first whose number is out of place (descend() tells of it when it comes).
 */
static void read_ahead(struct pages *p, const struct level *l, int i)
{
	uint64_t offset[BATCH_READ_MAX];
	int n = 0, got[BATCH_READ_MAX];

	p->ahead_count = p->ahead_next = 0;
	for (; i <= l->cells && n < BATCH_READ_MAX; i++) {
		uint32_t pgno = child_pgno(p, l, i);

		if (pgno < 1 || pgno > p->page_count)
			break;
		p->ahead_pgno[n] = pgno;
		offset[n++] = (uint64_t)(pgno - 1) * p->page_size;
	}
	if (n < 2)
		return;
	if (!p->ahead[0]) {
		if (atomic_fetch_add(&readers_ahead, 1) >= READERS_AHEAD) {
			atomic_fetch_sub(&readers_ahead, 1);
			p->fd = -1;
			return;
		}
		for (int k = 0; k < BATCH_READ_MAX; k++)
			p->ahead[k] = xcalloc(1, p->page_size + 8); /* as a level's: descend() */
	}
	if (batch_read(p->fd, offset, n, p->page_size, p->ahead, got))
		return;
	for (int k = 0; k < n; k++)
		if (got[k] != (int)p->page_size)
			p->ahead_pgno[k] = 0; /* read again, and told of, when it comes */
	p->ahead_count = n;
}

/*
 * The record of pl->size bytes at offset of the level's page (its cell i):
 * its local bytes and overflow (fileformat2 1.6).
 */
INLINE int local_payload(struct pages *p, const struct level *l, int i, uint32_t offset,
			 struct payload *pl)
{
	uint64_t room;

	if (pl->size <= p->max_local) {
		pl->nlocal = (uint32_t)pl->size;
	} else {
		uint32_t k = p->min_local + (uint32_t)((pl->size - p->min_local) % (p->usable - 4));

		pl->nlocal = k <= p->max_local ? k : p->min_local;
	}
	room = p->usable - offset;
	if (pl->nlocal + (pl->size > pl->nlocal ? 4 : 0) > room)
		return corrupt(p, "page %u: cell %d runs past the page", l->pgno, i);
	pl->local = l->page + offset;
	pl->overflow = pl->size > pl->nlocal ? be32(pl->local + pl->nlocal) : 0;
	return 0;
}

/* The entry of cell i: its record's size, local bytes and overflow (fileformat2 1.6). */
INLINE int entry(struct pages *p, const struct level *l, int i, struct payload *pl)
{
	uint32_t offset;
	int n;

	if (cell_offset(p, l, i, &offset))
		return -1;
	offset += l->leaf ? 0 : 4;
	n = varint(l->page + offset, p->usable - offset, &pl->size);
	if (!n)
		return corrupt(p, "page %u: cell %d runs past the page", l->pgno, i);
	return local_payload(p, l, i, offset + (uint32_t)n, pl);
}

static int entry_key(struct pages *p, const struct payload *pl, int64_t key[2], int kind[2],
		     bool *real);

/* The bound of the page just gone down to, child i of parent: its cell i's key, or the parent's. */
static int bound(struct pages *p, const struct level *parent, int i)
{
	struct level *l = &p->levels[p->depth - 1];
	struct payload pl;
	int64_t key[2];
	int kind[2];
	bool real;

	l->bounded = parent->bounded;
	l->bound_t = parent->bound_t;
	l->bound_seq = parent->bound_seq;
	if (i == parent->cells)
		return 0;
	if (entry(p, parent, i, &pl) || entry_key(p, &pl, key, kind, &real))
		return -1;
	/* A key not of integers: SQLite's order puts it after them. */
	if (kind[0] == VALUE_INTEGER && kind[1] == VALUE_INTEGER) {
		l->bounded = true;
		l->bound_t = key[0];
		l->bound_seq = key[1];
	}
	return 0;
}

/*
 * On the way down to the range's first row (pages_range()), the page just
 * gone down to: from its first cell whose t is not below from, or is not
 * an integer (a real, compared as one by each row read from there); an
 * interior page's from the child left of that cell.  The entries before
 * it, and those under the children left of it, are below from: a child's
 * keys are below its cell's.
 */
static int seek_from(struct pages *p)
{
	struct level *l = &p->levels[p->depth - 1];
	int i;

	for (i = 0; i < l->cells; i++) {
		struct payload pl;
		int64_t key[2];
		int kind[2];
		bool real;

		if (entry(p, l, i, &pl) || entry_key(p, &pl, key, kind, &real))
			return -1;
		if (kind[0] != VALUE_INTEGER || key[0] >= p->from)
			break;
	}
	l->at = l->leaf ? i : 2 * i;
	p->seeking = !l->leaf;
	return 0;
}

/*
 * Step to the next entry of the tree, in key order: 1, 0 at its end, or -1;
 * with leaves, 2 on coming to a leaf (its page on top, its entries next).
 */
INLINE int next_entry(struct pages *p, struct payload *pl, bool leaves)
{
	if (!p->started) {
		p->started = true;
		if (descend(p, p->root) || (p->seeking && seek_from(p)))
			return -1;
		if (leaves && p->levels[0].leaf)
			return 2;
	}
	while (p->depth > 0) {
		struct level *l = &p->levels[p->depth - 1];
		uint32_t pgno;
		int i;

		if (l->leaf) {
			if (l->at < l->cells)
				return entry(p, l, l->at++, pl) ? -1 : 1;
			p->depth--;
			continue;
		}
		if (l->at > 2 * l->cells) {
			p->depth--;
			continue;
		}
		i = l->at / 2;
		if (l->at++ & 1)
			return entry(p, l, i, pl) ? -1 : 1;
		if (child(p, l, i, &pgno))
			return -1;
		/* Its siblings are leaves too when the last page below was one (the tree is
		 * balanced). */
		if (p->fd >= 0 && p->depth < DEPTH_MAX && p->levels[p->depth].leaf &&
		    (p->ahead_next == p->ahead_count || p->ahead_pgno[p->ahead_next] != pgno))
			read_ahead(p, l, i);
		if (descend(p, pgno) || bound(p, l, i) || (p->seeking && seek_from(p)))
			return -1;
		if (leaves && p->levels[p->depth - 1].leaf)
			return 2;
	}
	return 0;
}

/* Bytes at..at+len of a record that goes on in overflow pages, into out. */
static int read_overflow(struct pages *p, const struct payload *pl, uint64_t at, uint32_t len,
			 uint8_t *out)
{
	uint32_t chunk = p->usable - 4, pgno = pl->overflow, done = 0;
	uint64_t from = pl->nlocal; /* where the page's bytes are in the record */

	for (; done < len && at + done < pl->nlocal; done++)
		out[done] = pl->local[at + done];
	if (!p->overflow_page && done < len)
		p->overflow_page = xmalloc(p->page_size);
	for (uint64_t pages = 0; done < len; pages++, from += chunk) {
		uint64_t want = at + done;

		if (pages >= p->page_count)
			return corrupt(p, "an overflow chain longer than the file");
		if (read_page(p, pgno, p->overflow_page))
			return -1;
		if (want < from + chunk) {
			uint32_t n = (uint32_t)(from + chunk - want);

			n = n < len - done ? n : len - done;
			memcpy(out + done, p->overflow_page + 4 + (want - from), n);
			done += n;
		}
		pgno = be32(p->overflow_page);
	}
	return 0;
}

/*
 * Decoding a record: always inlined, once for a record whole in its page
 * (nearly every one: a few small integers), where every byte is a pointer
 * into the page, and once for one that goes on in overflow pages.
 */
/* The record's bytes at..at+len (at most 9, within its size): in its page, or copied into tmp. */
INLINE const uint8_t *record_bytes(struct pages *p, const struct payload *pl, uint64_t at,
				   uint32_t len, uint8_t *tmp, bool local)
{
	if (local || at + len <= pl->nlocal)
		return pl->local + at;
	return read_overflow(p, pl, at, len, tmp) ? NULL : tmp;
}

/* The varint at *at of the record's header (which ends at end), moving *at past it. */
INLINE int record_varint(struct pages *p, const struct payload *pl, uint64_t *at, uint64_t end,
			 uint64_t *v, bool local)
{
	uint8_t tmp[9];
	uint64_t avail = end - *at < 9 ? end - *at : 9;
	const uint8_t *b = record_bytes(p, pl, *at, (uint32_t)avail, tmp, local);
	int n;

	if (!b)
		return -1;
	if (b[0] < 0x80) { /* a small one, as nearly all are */
		*v = b[0];
		*at += 1;
		return 0;
	}
	n = varint(b, avail, v);
	if (!n)
		return corrupt(p, "a record's header past its end");
	*at += (uint64_t)n;
	return 0;
}

/* The bytes of a value of the serial type (fileformat2 2.1). */
INLINE uint64_t value_bytes(uint64_t type)
{
	static const uint8_t bytes[] = {0, 1, 2, 3, 4, 6, 8, 8, 0, 0};

	return type < 10 ? bytes[type] : (type - 12) / 2;
}

/* The integer of serial type 1 to 6 at b: big-endian, two's complement. */
INLINE int64_t integer(const uint8_t *b, uint64_t type)
{
	switch (type) {
	case 1:
		return (int8_t)b[0];
	case 2:
		return (int16_t)be16(b);
	case 3:
		return (int32_t)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
				 (uint32_t)b[2] << 8) >>
		       8;
	case 4:
		return (int32_t)be32(b);
	case 5:
		return (int64_t)((uint64_t)be16(b) << 48 | (uint64_t)be32(b + 2) << 16) >> 16;
	default:
		return (int64_t)((uint64_t)be32(b) << 32 | be32(b + 4));
	}
}

/*
 * A row out of key order, or beyond its page's bound, is a page where
 * another should be (a child's number damaged): 0, or -1.
 */
INLINE int check_key(struct pages *p, int kt, int64_t t, int ks, int64_t seq)
{
	const struct level *l = &p->levels[p->depth - 1];

	if (kt != VALUE_INTEGER || ks != VALUE_INTEGER)
		return 0;
	if ((p->have_key && (t < p->key_t || (t == p->key_t && seq <= p->key_seq))) ||
	    (l->bounded && (t > l->bound_t || (t == l->bound_t && seq >= l->bound_seq))))
		return corrupt(p, "rows out of key order (page %u)", l->pgno);
	p->have_key = true;
	p->key_t = t;
	p->key_seq = seq;
	return 0;
}

/* Column at of the record's parsed ones: what it is, and an integer's value. */
INLINE int value(struct pages *p, const struct payload *pl, const uint64_t *types,
		 const uint64_t *offsets, int parsed, int at, int64_t *v, bool local)
{
	uint8_t tmp[8];
	const uint8_t *b;
	uint64_t type = at >= 0 && at < parsed ? types[at] : 0;

	*v = 0;
	if (type == 0)
		return VALUE_NULL;
	if (type == 7 || type >= 12)
		return VALUE_ODD;
	if (type >= 8) {
		*v = type == 9;
		return VALUE_INTEGER;
	}
	b = record_bytes(p, pl, offsets[at], (uint32_t)value_bytes(type), tmp, local);
	if (!b)
		return -1;
	*v = integer(b, type);
	return VALUE_INTEGER;
}

/* The record's header, up to its column last: the columns' types and offsets, how many, or -1. */
INLINE int parse_header(struct pages *p, const struct payload *pl, uint64_t *types,
			uint64_t *offsets, int last, bool local)
{
	uint64_t header = 0, at = 0, body;
	int parsed = 0;

	if (pl->size == 0 || record_varint(p, pl, &at, pl->size, &header, local))
		return p->corrupt ? -1 : corrupt(p, "a record's header past its end");
	if (header < at || header > pl->size)
		return corrupt(p, "a record's header past its end");
	for (body = header; parsed <= last && at < header; parsed++) {
		if (record_varint(p, pl, &at, header, &types[parsed], local))
			return -1;
		if (types[parsed] == 10 || types[parsed] == 11)
			return corrupt(p, "a record's header that is not one");
		offsets[parsed] = body;
		/* Each checked: a huge type must not wrap the sum around. */
		if (value_bytes(types[parsed]) > pl->size - body)
			return corrupt(p, "a record's values past its end");
		body += value_bytes(types[parsed]);
	}
	return parsed;
}

/*
 * The entry's key (t, seq): their kinds (enum value), an integer's value,
 * and whether t is a real; 0, or -1 on a damaged record.
 */
static int entry_key(struct pages *p, const struct payload *pl, int64_t key[2], int kind[2],
		     bool *real)
{
	uint64_t types[2], offsets[2];
	bool local = pl->nlocal == pl->size;
	int parsed = parse_header(p, pl, types, offsets, 1, local);

	if (parsed < 0)
		return -1;
	kind[0] = value(p, pl, types, offsets, parsed, 0, &key[0], local);
	kind[1] = value(p, pl, types, offsets, parsed, 1, &key[1], local);
	*real = parsed > 0 && types[0] == 7;
	return kind[0] < 0 || kind[1] < 0 ? -1 : 0;
}

/*
 * Whether a row whose t is of serial type type (an integer's value t, a
 * real's 8 bytes at real) is pages_range()'s, as SQL's BETWEEN tells: 1;
 * else 2, before it or past it (and the reading ends there).  NULL, text
 * and blobs are never in it; a real is compared as a number (a long
 * double holds every int64 and double exactly).
 */
INLINE int in_range(struct pages *p, uint64_t type, int64_t t, const uint8_t *real)
{
	if (type == 7) {
		uint64_t bits = (uint64_t)be32(real) << 32 | be32(real + 4);
		double d;
		long double v;

		memcpy(&d, &bits, sizeof(d));
		v = d;
		if (v >= (long double)p->from && v <= (long double)p->to)
			return 1;
		p->past = v > (long double)p->to;
		return 2;
	}
	if (type == 0 || type >= 12)
		return 2;
	if (t >= p->from && t <= p->to)
		return 1;
	p->past = t > p->to;
	return 2;
}

/* The entry's record into the row's cells (pages_next()). */
INLINE int decode(struct pages *p, const struct payload *pl, int64_t *cell, uint32_t *nulls,
		  uint32_t *odd, bool local)
{
	uint64_t types[POSITIONS_MAX], offsets[POSITIONS_MAX];
	int64_t t, seq;
	int parsed = parse_header(p, pl, types, offsets, p->last, local), kt, ks;
	uint32_t n = 0, o = 0;

	if (parsed < 0)
		return -1;
	kt = value(p, pl, types, offsets, parsed, 0, &t, local);
	ks = value(p, pl, types, offsets, parsed, 1, &seq, local);
	if (kt < 0 || ks < 0 || check_key(p, kt, t, ks, seq))
		return -1;
	if (p->ranged) {
		uint64_t type = parsed > 0 ? types[0] : 0;
		uint8_t tmp[8];
		const uint8_t *real =
			type == 7 ? record_bytes(p, pl, offsets[0], sizeof(tmp), tmp, local) : NULL;

		if (type == 7 && !real)
			return -1;
		if (in_range(p, type, t, real) == 2)
			return 2;
	}
	for (int i = 0; i < p->cells; i++) {
		int kind = value(p, pl, types, offsets, parsed, p->position[i], &cell[i], local);

		if (kind < 0)
			return -1;
		n |= (uint32_t)(kind == VALUE_NULL) << i;
		o |= (uint32_t)(kind == VALUE_ODD) << i;
	}
	*nulls = n;
	*odd = o;
	return 1;
}

/* The integer of a small type at b: its 8 bytes shifted down, sign-extended, masked. */
INLINE int64_t small_value(const struct small_type *type, const uint8_t *b)
{
	uint64_t raw;

	memcpy(&raw, b, sizeof(raw));
	return ((int64_t)__builtin_bswap64(raw) >> type->shift & type->mask) | type->one;
}

/* Whether the row is one pages_drop() passes over: its last cell the integer. */
INLINE bool dropped(const struct pages *p, const int64_t *cell, uint32_t odd_or_null)
{
	int last = p->cells - 1;

	return !(odd_or_null >> last & 1) && cell[last] == p->drop_value;
}

/* x's bytes, each 1 where it is at least k, else 0 (every byte of x below 0x80). */
INLINE uint64_t bytes_at_least(uint64_t x, unsigned k)
{
	return ((x | 0x8080808080808080ULL) - k * 0x0101010101010101ULL) >> 7 &
	       0x0101010101010101ULL;
}

/*
 * Eight serial types of a header, a byte each, all below 10 (NULL, the
 * integers, a real, 0 and 1): the bytes of each value, 0 1 2 3 4 6 8 8 0 0,
 * a byte each.  A table's look-up a column, a loaded byte, a look-up and an
 * add chained, was a third of the reader's instructions a row.
 */
INLINE uint64_t value_bytes_of(uint64_t x)
{
	uint64_t sizes = x + bytes_at_least(x, 5) + bytes_at_least(x, 6) - bytes_at_least(x, 7);

	return sizes & ~(bytes_at_least(x, 8) * 0xff);
}

/*
 * The record of an event row, whole in its page, of fewer than 256 bytes,
 * its header's numbers each a byte below 10 (NULL, an integer or a real):
 * its columns' offsets, a byte each, from their types eight at a time
 * (value_bytes_of(), their running sums by a multiply), not a varint each,
 * and each cell without a branch: its 8 bytes shifted down, sign-extended
 * (a page has 8 bytes to spare past its end for it), and masked.  1, or 0
 * for any other record, and for anything wrong (decode() tells what).
 */
static int decode_small(struct pages *p, const struct payload *pl, int64_t *cell, uint32_t *nulls,
			uint32_t *odd)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint8_t *rec = pl->local;
	uint32_t header = rec[0], body = header, n = 0, o = 0, parsed;
	/* The columns read, then NULL_SLOT's: what the record lacks reads as NULL (type 0). */
	uint8_t type[POSITIONS_MAX + 8], offset[POSITIONS_MAX + 8];
	int64_t v[2];

	if (header < 1 || header >= 0x80 || header > pl->size || pl->size > UINT8_MAX)
		return 0;
	parsed = header - 1 < (uint32_t)p->last + 1 ? header - 1 : (uint32_t)p->last + 1;
	for (int w = 0; w <= p->last / 8; w++) {
		int in = (int)parsed - 8 * w; /* of the word's bytes, those of the header */
		uint64_t x = 0, sums, before;

		/* Its first byte within the header: its 8 within the page and its 8 spare bytes. */
		if (in > 0) {
			memcpy(&x, rec + 1 + 8 * w, sizeof(x));
			if (in < 8)
				x &= (1ULL << 8 * in) - 1;
		}
		/* A type of SMALL_TYPES or more (its top bit set by the add) or a longer varint's.
		 */
		if (((x + (0x80 - SMALL_TYPES) * ones) | x) & 0x8080808080808080ULL)
			return 0;
		sums = value_bytes_of(x) * ones; /* byte i: the bytes of values 0 to i */
		/* Each below 256 when body ends within the record (checked next). */
		before = (sums << 8) + body * ones;
		memcpy(type + 8 * w, &x, sizeof(x));
		memcpy(offset + 8 * w, &before, sizeof(before));
		body += (uint32_t)(sums >> 56);
	}
	if (body > pl->size)
		return 0;
	type[NULL_SLOT] = 0;
	offset[NULL_SLOT] = 0;
#define AT(i) (rec + offset[i])
	/* Cell 0 is t, the record's first column (pages_open()); seq is its second. */
	for (int i = 0; i < 2; i++)
		v[i] = small_value(&p->small[type[i]], AT(i));
	if (type[0] && type[0] != 7 && type[1] && type[1] != 7 &&
	    check_key(p, VALUE_INTEGER, v[0], VALUE_INTEGER, v[1]))
		return -1;
	if (p->ranged && in_range(p, type[0], v[0], AT(0)) == 2)
		return 2;
	/* A row dropped before its other cells are decoded. */
	if (p->drop) {
		int at = p->slot[p->cells - 1];
		const struct small_type *t = &p->small[type[at]];

		cell[p->cells - 1] = small_value(t, AT(at));
		if (dropped(p, cell, (uint32_t)(t->null | t->odd) << (p->cells - 1)))
			return 2;
	}
	for (int i = 0; i < p->cells; i++) {
		int at = p->slot[i];
		const struct small_type *t = &p->small[type[at]];

		cell[i] = small_value(t, AT(at));
		n |= (uint32_t)t->null << i;
		o |= (uint32_t)t->odd << i;
	}
#undef AT
	*nulls = n;
	*odd = o;
	return 1;
}

/* decode_small()'s table of the serial types of a byte (fileformat2 2.1). */
static void small_types(struct small_type *small)
{
	for (int type = 0; type < SMALL_TYPES; type++) {
		struct small_type *t = &small[type];

		*t = (struct small_type){.null = type == 0, .odd = type == 7, .one = type == 9};
		if (type >= 1 && type <= 6) {
			t->shift = (uint8_t)(64 - 8 * value_bytes((uint64_t)type));
			t->mask = -1;
		}
	}
}

/* Whether a row holds one of pages_keep()'s ids, or a cell tested is not a number. */
INLINE bool kept(const struct pages *p, const int64_t *cell, uint32_t nulls, uint32_t odd)
{
	if (p->keep_cells & odd)
		return true;
	for (uint32_t c = p->keep_cells & ~nulls; c; c &= c - 1) {
		uint64_t id = (uint64_t)cell[__builtin_ctz(c)];

		if (id < p->keep_size && p->keep_map[id])
			return true;
	}
	return false;
}

int pages_next(struct pages *p, int64_t *cell, uint32_t *nulls, uint32_t *odd)
{
	struct payload pl;
	int rc;

	if (p->past)
		return 0;
	do {
		rc = next_entry(p, &pl, false);
		if (rc <= 0)
			return rc;
		if (pl.nlocal < pl.size)
			rc = decode(p, &pl, cell, nulls, odd, false);
		else if (!(rc = decode_small(p, &pl, cell, nulls, odd)))
			rc = decode(p, &pl, cell, nulls, odd, true);
		if (rc == 1 && p->drop && dropped(p, cell, *nulls | *odd))
			rc = 2;
		if (rc == 1 && p->keep_map && !kept(p, cell, *nulls, *odd))
			rc = 2;
	} while (rc == 2 && !p->past);
	if (p->past)
		return 0;
	if (rc > 0 && p->constants) {
		for (uint32_t c = p->constants; c; c &= c - 1)
			cell[__builtin_ctz(c)] = p->constant[__builtin_ctz(c)];
		*nulls &= ~p->constants;
	}
	if (rc > 0 && p->drop) {
		*nulls &= ~(1u << (p->cells - 1));
		*odd &= ~(1u << (p->cells - 1));
	}
	return rc;
}

void pages_drop(struct pages *p, int64_t value)
{
	p->drop = true;
	p->drop_value = value;
}

void pages_keep(struct pages *p, uint32_t cells, const uint8_t *map, size_t size)
{
	assert(cells && !(cells >> p->cells));
	p->keep_cells = cells;
	p->keep_map = map;
	p->keep_size = size;
}

void pages_range(struct pages *p, int64_t from, int64_t to)
{
	assert(!p->started);
	p->ranged = true;
	p->seeking = from != INT64_MIN;
	p->from = from;
	p->to = to;
}

/* --- Counting rows by t -------------------------------------------------------- */

/* Buckets of t: bucket i holds from + i * width <= t < from + (i + 1) * width. */
struct buckets {
	int64_t from, width;
	int count;
	int64_t *counts;
};

/* t's bucket: -1 below them all, b->count above. */
static int bucket_of(const struct buckets *b, int64_t t)
{
	uint64_t i;

	if (t < b->from)
		return -1;
	i = ((uint64_t)t - (uint64_t)b->from) / (uint64_t)b->width;
	return i < (uint64_t)b->count ? (int)i : b->count;
}

/* One entry into its bucket: 1, 0 for a t that is a real (SQLite's comparison of it: not here), or
 * -1. */
static int count_entry(struct pages *p, const struct payload *pl, const struct buckets *b)
{
	int64_t key[2];
	int kind[2], i;
	bool real;

	if (entry_key(p, pl, key, kind, &real) || check_key(p, kind[0], key[0], kind[1], key[1]))
		return -1;
	if (real)
		return 0;
	/* NULL is in no range; a text or a blob is after every number. */
	if (kind[0] == VALUE_INTEGER && (i = bucket_of(b, key[0])) >= 0 && i < b->count)
		b->counts[i]++;
	return 1;
}

/*
 * The leaf on top, when its first and last keys are integers of one bucket
 * (or both outside them on one side): every entry between sorts between
 * them, a number in the same range, so its cells are counted, none
 * decoded, and the leaf is done.  0 (done or not), or -1.
 */
static int count_leaf(struct pages *p, const struct buckets *b)
{
	struct level *l = &p->levels[p->depth - 1];
	struct payload first, last;
	int64_t k0[2], k1[2];
	int kind0[2], kind1[2], i;
	bool real;

	if (l->cells < 2)
		return 0;
	if (entry(p, l, 0, &first) || entry(p, l, l->cells - 1, &last) ||
	    entry_key(p, &first, k0, kind0, &real) || entry_key(p, &last, k1, kind1, &real))
		return -1;
	if (kind0[0] != VALUE_INTEGER || kind0[1] != VALUE_INTEGER || kind1[0] != VALUE_INTEGER ||
	    kind1[1] != VALUE_INTEGER || (i = bucket_of(b, k0[0])) != bucket_of(b, k1[0]))
		return 0;
	if (check_key(p, VALUE_INTEGER, k0[0], VALUE_INTEGER, k0[1]) ||
	    check_key(p, VALUE_INTEGER, k1[0], VALUE_INTEGER, k1[1]))
		return -1;
	if (i >= 0 && i < b->count)
		b->counts[i] += l->cells;
	l->at = l->cells;
	return 0;
}

int pages_count(struct pages *p, int64_t from, int64_t width, int buckets, int64_t *counts)
{
	struct buckets b = {.from = from, .width = width, .count = buckets, .counts = counts};
	struct payload pl;
	int rc;

	while ((rc = next_entry(p, &pl, true)) > 0) {
		if (rc == 2)
			rc = count_leaf(p, &b) ? -1 : 1;
		else
			rc = count_entry(p, &pl, &b);
		if (rc <= 0)
			return rc;
	}
	return rc < 0 ? -1 : 1;
}

/* --- A rowid table's rows ------------------------------------------------------- */

/*
 * The leaf cell i of a rowid table: its rowid, and its record as entry()'s
 * (fileformat2 1.6: the payload's size, the rowid, the payload).
 */
static int table_entry(struct pages *p, const struct level *l, int i, int64_t *rowid,
		       struct payload *pl)
{
	uint32_t offset;
	uint64_t key;
	int n, m;

	if (cell_offset(p, l, i, &offset))
		return -1;
	n = varint(l->page + offset, p->usable - offset, &pl->size);
	m = n ? varint(l->page + offset + n, p->usable - offset - (uint32_t)n, &key) : 0;
	if (!m)
		return corrupt(p, "page %u: cell %d runs past the page", l->pgno, i);
	*rowid = (int64_t)key;
	return local_payload(p, l, i, offset + (uint32_t)(n + m), pl);
}

/*
 * The page just gone down to, child i of an interior page of a rowid table:
 * its rowids are at most cell i's key (the parent's bound for the right-most).
 */
static int table_bound(struct pages *p, const struct level *parent, int i)
{
	struct level *l = &p->levels[p->depth - 1];
	uint32_t offset;
	uint64_t key;

	l->bounded = parent->bounded;
	l->bound_t = parent->bound_t;
	if (i == parent->cells)
		return 0;
	if (cell_offset(p, parent, i, &offset))
		return -1;
	if (!varint(parent->page + offset + 4, p->usable - offset - 4, &key))
		return corrupt(p, "page %u: cell %d runs past the page", parent->pgno, i);
	l->bounded = true;
	l->bound_t = (int64_t)key;
	return 0;
}

/* The next row of a rowid table, in rowid order: 1, its rowid and record; 0 at the end; -1. */
static int next_table_row(struct pages *p, int64_t *rowid, struct payload *pl)
{
	if (!p->started) {
		p->started = true;
		if (descend(p, p->root))
			return -1;
	}
	while (p->depth > 0) {
		struct level *l = &p->levels[p->depth - 1];
		uint32_t pgno;
		int i;

		if (l->leaf && l->at < l->cells) {
			if (table_entry(p, l, l->at++, rowid, pl))
				return -1;
			/* Out of order, or past its bound: a page where another should be. */
			if ((p->have_key && *rowid <= p->key_t) ||
			    (l->bounded && *rowid > l->bound_t))
				return corrupt(p, "rows out of key order (page %u)", l->pgno);
			p->have_key = true;
			p->key_t = *rowid;
			return 1;
		}
		if (l->leaf || l->at > l->cells) {
			p->depth--;
			continue;
		}
		i = l->at++;
		if (child(p, l, i, &pgno) || descend(p, pgno) || table_bound(p, l, i))
			return -1;
	}
	return 0;
}

/* The next row of a WITHOUT ROWID table, in key order: 1 and its record; 0 at the end; -1. */
static int next_keyed_row(struct pages *p, struct payload *pl)
{
	int64_t key[2];
	int kind[2];
	bool real;
	int rc = next_entry(p, pl, false);

	if (rc <= 0)
		return rc;
	if (entry_key(p, pl, key, kind, &real) || check_key(p, kind[0], key[0], kind[1], key[1]))
		return -1;
	return 1;
}

/* A text's or blob's bytes at..at+len of the record, column i's: in its page, or copied. */
static const uint8_t *table_bytes(struct pages *p, const struct payload *pl, int i, uint64_t at,
				  uint64_t len)
{
	if (at + len <= pl->nlocal)
		return pl->local + at;
	if (len > p->text_room[i]) {
		free(p->text[i]);
		p->text[i] = xmalloc(len);
		p->text_room[i] = len;
	}
	return read_overflow(p, pl, at, (uint32_t)len, p->text[i]) ? NULL : p->text[i];
}

/*
 * The values of a record whole in its page, its header's numbers each a
 * byte (nearly every row of a small table: a few integers and a short
 * text), without a varint's loop or a bound's check per byte: 1, or 0 for
 * any other record (pages_row() decodes it, and tells what is wrong).
 */
static int decode_local(const struct pages *p, const struct payload *pl, int64_t rowid,
			struct pages_value *values)
{
	const uint8_t *rec = pl->local;
	uint32_t header = rec[0], body = header, parsed, offsets[POSITIONS_MAX];
	uint8_t types[POSITIONS_MAX];

	if (header < 1 || header >= 0x80 || header > pl->size)
		return 0;
	parsed = header - 1 < (uint32_t)p->last + 1 ? header - 1 : (uint32_t)p->last + 1;
	for (uint32_t i = 0; i < parsed; i++) {
		types[i] = rec[1 + i];
		if (types[i] >= 0x80 || types[i] == 10 || types[i] == 11)
			return 0;
		offsets[i] = body;
		body += (uint32_t)value_bytes(types[i]);
	}
	if (body > pl->size)
		return 0;
	for (int i = 0; i < p->cells; i++) {
		struct pages_value *v = &values[i];
		int at = p->position[i];
		uint8_t type = at >= 0 && (uint32_t)at < parsed ? types[at] : 0;

		v->bytes = NULL;
		v->len = 0;
		v->integer = 0;
		if (at < 0) {
			v->type = SQLITE_INTEGER;
			v->integer = rowid;
		} else if (type >= 12) {
			v->type = type & 1 ? SQLITE_TEXT : SQLITE_BLOB;
			v->len = value_bytes(type);
			v->bytes = v->len ? rec + offsets[at] : NULL;
		} else if (type == 0) {
			v->type = SQLITE_NULL;
		} else if (type == 7) {
			v->type = SQLITE_FLOAT;
		} else {
			v->type = SQLITE_INTEGER;
			v->integer = type >= 8 ? type == 9 : integer(rec + offsets[at], type);
		}
	}
	return 1;
}

int pages_row(struct pages *p, int64_t *rowid, struct pages_value *values)
{
	uint64_t types[POSITIONS_MAX], offsets[POSITIONS_MAX];
	struct payload pl;
	int rc, parsed;

	*rowid = 0; /* a WITHOUT ROWID table's */
	rc = p->rowid ? next_table_row(p, rowid, &pl) : next_keyed_row(p, &pl);

	if (rc <= 0 || (pl.nlocal == pl.size && decode_local(p, &pl, *rowid, values)))
		return rc;
	parsed = parse_header(p, &pl, types, offsets, p->last, pl.nlocal == pl.size);
	if (parsed < 0)
		return -1;
	for (int i = 0; i < p->cells; i++) {
		struct pages_value *v = &values[i];
		int at = p->position[i];
		uint64_t type = at >= 0 && at < parsed ? types[at] : 0;

		*v = (struct pages_value){.type = SQLITE_NULL};
		if (at < 0) {
			v->type = SQLITE_INTEGER;
			v->integer = *rowid;
		} else if (type == 7) {
			v->type = SQLITE_FLOAT;
		} else if (type >= 12) {
			v->type = type & 1 ? SQLITE_TEXT : SQLITE_BLOB;
			v->len = value_bytes(type);
			if (v->len && v->len <= PAGES_VALUE_MAX &&
			    !(v->bytes = table_bytes(p, &pl, i, offsets[at], v->len)))
				return -1;
		} else if (type != 0) {
			v->type = SQLITE_INTEGER;
			if (value(p, &pl, types, offsets, parsed, at, &v->integer, false) < 0)
				return -1;
		}
	}
	return 1;
}

/* --- Whether SQLite would read the same rows ----------------------------------- */

/* Run sql with ?1 the table's name: its statement at its first row, or NULL. */
static sqlite3_stmt *query(sqlite3 *db, const char *sql, const char *table)
{
	sqlite3_stmt *stmt;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(stmt, 1, table, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		sqlite3_finalize(stmt);
		return NULL;
	}
	return stmt;
}

static int64_t query_int(sqlite3 *db, const char *sql, const char *table)
{
	sqlite3_stmt *stmt = query(db, sql, table);
	int64_t v = stmt && sqlite3_column_type(stmt, 0) == SQLITE_INTEGER
			    ? sqlite3_column_int64(stmt, 0)
			    : -1;

	sqlite3_finalize(stmt);
	return v;
}

static bool real_affinity(const char *type);

/*
 * Each named cell's column in the record, from the primary key's index:
 * the key (t, seq) first, ascending, then the rest; each with no default
 * (a record older than its column gives NULL), and an integer column for
 * pages_next() (a REAL one reads an integer back as a real), any but a
 * REAL one for pages_row().  false when any is not so.
 */
static bool place_cells(struct pages *p, sqlite3 *db, const char *table, char **names)
{
	static const char sql[] =
		"SELECT x.seqno, x.name, x.\"desc\", x.coll, x.\"key\", c.type, c.dflt_value"
		" FROM pragma_index_list(?1) l, pragma_index_xinfo(l.name) x"
		" LEFT JOIN pragma_table_xinfo(?1) c ON c.cid = x.cid"
		" WHERE l.origin = 'pk' ORDER BY x.seqno";
	sqlite3_stmt *stmt = query(db, sql, table);
	bool ok = stmt != NULL;

	for (int found = 0; ok && found >= 0;) {
		int seqno = sqlite3_column_int(stmt, 0);
		const char *name = (const char *)sqlite3_column_text(stmt, 1);
		const char *coll = (const char *)sqlite3_column_text(stmt, 3);
		const char *type = (const char *)sqlite3_column_text(stmt, 5);
		bool key = sqlite3_column_int(stmt, 4);

		ok = name && seqno == found && key == (seqno < 2) && !sqlite3_column_int(stmt, 2) &&
		     coll && !strcmp(coll, "BINARY") &&
		     (seqno > 1 || !strcmp(name, seqno ? "seq" : "t"));
		for (int i = 0; ok && i < p->cells; i++) {
			if (!names[i] || strcasecmp(names[i], name))
				continue;
			ok = type &&
			     (p->columns ? !real_affinity(type)
					 : strcasestr(type, "INT") != NULL) &&
			     sqlite3_column_type(stmt, 6) == SQLITE_NULL && seqno < POSITIONS_MAX;
			p->position[i] = seqno;
			p->last = seqno > p->last ? seqno : p->last;
		}
		found++;
		if (sqlite3_step(stmt) != SQLITE_ROW)
			found = -1;
	}
	sqlite3_finalize(stmt);
	for (int i = 0; ok && i < p->cells; i++)
		ok = !names[i] || p->position[i] >= 0;
	return ok;
}

/*
 * place_cells() on a WITHOUT ROWID table (the index of its key has no root
 * of its own, a rowid table's has; pragma_table_list's wr would say so at
 * 3 M instructions a call: it counts every table's columns) with no hidden
 * column.
 */
static bool place_index_cells(struct pages *p, sqlite3 *db, const char *table, void *names)
{
	for (int i = 0; i < CELLS_MAX; i++)
		p->position[i] = -1;
	p->last = 1;
	return query_int(db,
			 "SELECT count(*) FROM pragma_index_list(?1) l WHERE l.origin = 'pk' AND "
			 "NOT EXISTS (SELECT 1 FROM main.sqlite_schema s WHERE s.name = l.name)",
			 table) == 1 &&
	       query_int(db, "SELECT count(*) FROM pragma_table_xinfo(?1) WHERE hidden", table) ==
		       0 &&
	       place_cells(p, db, table, names);
}

/* A cell that is an integer of SQL, "1" or "(1)" (the task filters' mark, none given). */
static bool integer_literal(const char *c, int64_t *v)
{
	char *end;
	bool parens = *c == '(';

	if (!(c[parens] >= '0' && c[parens] <= '9'))
		return false;
	*v = strtoll(c + parens, &end, 10);
	return *v < INT64_MAX && !strcmp(end, parens ? ")" : "");
}

/*
 * The cells' names ("e.task"; NULL for NULL and for an integer, into
 * p->constant), the first e.t: their count, or -1.
 */
static int cell_names(struct pages *p, char *cells, char **names, int max)
{
	int n = 0;

	for (char *save = NULL, *c = strtok_r(cells, ",", &save); c;
	     c = strtok_r(NULL, ",", &save)) {
		c += strspn(c, " ");
		if (n == max)
			return -1;
		names[n] = NULL;
		if (integer_literal(c, &p->constant[n]))
			p->constants |= 1u << n;
		else if (!strncmp(c, "e.", 2))
			names[n] = c + 2;
		else if (strcmp(c, "NULL"))
			return -1;
		n++;
	}
	return n && names[0] && !strcmp(names[0], "t") ? n : -1;
}

/* The file's page size and usable bytes from its header (fileformat2 1.3). */
static bool read_header(struct pages *p, uint8_t h[100])
{
	if (p->file->pMethods->xRead(p->file, h, 100, 0) != SQLITE_OK ||
	    memcmp(h, "SQLite format 3", 16))
		return false;
	p->page_size = be16(h + 16) == 1 ? 65536 : be16(h + 16);
	if (p->page_size < 512 || p->page_size > 65536 || (p->page_size & (p->page_size - 1)))
		return false;
	p->usable = p->page_size - h[20];
	if (p->usable < 480 || h[21] != 64 || h[22] != 32 || h[23] != 32)
		return false;
	p->max_local = (p->usable - 12) * 64 / 255 - 23;
	p->min_local = (p->usable - 12) * 32 / 255 - 23;
	p->utf8 = be32(h + 56) == 1;
	return true;
}

/* The table's root page and CREATE statement (to free), or 0. */
static int64_t table_root(sqlite3 *db, const char *table, char **create)
{
	sqlite3_stmt *stmt =
		query(db,
		      "SELECT rootpage, sql FROM main.sqlite_schema WHERE type = 'table' "
		      "AND name = ?1 COLLATE NOCASE",
		      table);
	const char *text = stmt ? (const char *)sqlite3_column_text(stmt, 1) : NULL;
	int64_t root = text && sqlite3_column_type(stmt, 0) == SQLITE_INTEGER
			       ? sqlite3_column_int64(stmt, 0)
			       : 0;

	*create = root ? xstrdup(text) : NULL;
	sqlite3_finalize(stmt);
	return root;
}

/*
 * The pages of the file as SQLite counts them (btree.c): the header's count
 * when valid (its change counter that of its version), else the file's size.
 */
static int64_t file_pages(struct pages *p, const uint8_t h[100])
{
	sqlite3_int64 size;

	if (be32(h + 28) && be32(h + 24) == be32(h + 92))
		return be32(h + 28);
	if (p->file->pMethods->xFileSize(p->file, &size) != SQLITE_OK)
		return -1;
	return size / p->page_size;
}

/*
 * What a place function (place_index_cells(), place_columns()) answers of a
 * table, remembered by its CREATE statement and what is asked: a fleet's
 * captures share their schema, and the pragmas cost some 400,000
 * instructions a table.  Kept until exit.
 */
#define PLACED_MAX 64

static struct {
	pthread_mutex_t lock;
	int count;
	struct placed {
		char *key; /* the statement and what is asked, each ended by a NUL */
		size_t size;
		bool ok, rowid;
		int position[CELLS_MAX], last;
	} list[PLACED_MAX];
} placings = {.lock = PTHREAD_MUTEX_INITIALIZER};

typedef bool place_fn(struct pages *p, sqlite3 *db, const char *table, void *arg);

/* place(p, db, table, arg) on the table of this CREATE statement, asked these n texts. */
static bool placed(struct pages *p, sqlite3 *db, const char *table, const char *create,
		   const char *const *asked, int n, place_fn *place, void *arg)
{
	size_t size = strlen(create) + 1;
	struct placed *at = NULL;
	char *key;
	bool ok;

	for (int i = 0; i < n; i++)
		size += strlen(asked[i]) + 1;
	key = xmalloc(size);
	size = (size_t)(stpcpy(key, create) - key) + 1;
	for (int i = 0; i < n; i++)
		size = (size_t)(stpcpy(key + size, asked[i]) - key) + 1;
	pthread_mutex_lock(&placings.lock);
	for (int i = 0; i < placings.count && !at; i++)
		if (placings.list[i].size == size && !memcmp(placings.list[i].key, key, size))
			at = &placings.list[i];
	if (at) {
		memcpy(p->position, at->position, sizeof(p->position));
		p->last = at->last;
		p->rowid = at->rowid;
		ok = at->ok;
	}
	pthread_mutex_unlock(&placings.lock);
	if (at) {
		free(key);
		return ok;
	}
	ok = place(p, db, table, arg);
	pthread_mutex_lock(&placings.lock);
	if (placings.count < PLACED_MAX) {
		at = &placings.list[placings.count++];
		*at = (struct placed){
			.key = key, .size = size, .ok = ok, .rowid = p->rowid, .last = p->last};
		memcpy(at->position, p->position, sizeof(p->position));
		key = NULL;
	}
	pthread_mutex_unlock(&placings.lock);
	free(key);
	return ok;
}

struct pages *pages_open(sqlite3 *db, const char *table, const char *cells, int max_cells)
{
	struct pages *p = xcalloc(1, sizeof(*p));
	char *list = xstrdup(cells), *names[CELLS_MAX], *create = NULL;
	const char *asked[] = {"index", cells};
	uint8_t header[100];
	int64_t root, count = -1;
	bool ok;

	p->cells = cell_names(p, list, names, max_cells < CELLS_MAX ? max_cells : CELLS_MAX);
	root = p->cells > 0 ? table_root(db, table, &create) : 0;
	ok = root > 1 && placed(p, db, table, create, asked, 2, place_index_cells, names) &&
	     sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &p->file) == SQLITE_OK &&
	     p->file && p->file->pMethods && read_header(p, header) &&
	     (count = file_pages(p, header)) >= root && count <= UINT32_MAX;
	free(create);
	free(list);
	if (!ok) {
		free(p);
		return NULL;
	}
	for (int i = 0; i < p->cells; i++)
		p->slot[i] = p->position[i] >= 0 ? p->position[i] : NULL_SLOT;
	small_types(p->small);
	p->fd = rovfs_file_fd(db);
	p->root = (uint32_t)root;
	p->page_count = (uint32_t)count;
	return p;
}

/* Whether a column of this declared type reads an integer back as a real (SQLite's affinity rules).
 */
static bool real_affinity(const char *type)
{
	return !strcasestr(type, "INT") && !strcasestr(type, "CHAR") && !strcasestr(type, "CLOB") &&
	       !strcasestr(type, "TEXT") && !strcasestr(type, "BLOB") &&
	       (strcasestr(type, "REAL") || strcasestr(type, "FLOA") || strcasestr(type, "DOUB"));
}

/*
 * Each named column's place in the records of a table of this CREATE
 * statement (-1: the rowid's alias): false when it is read so neither as
 * a rowid table nor as a WITHOUT ROWID one keyed (t, seq) (place_cells())
 * (a column generated or hidden, or with a default a short record takes,
 * or reading an integer back as a real).
 */
static bool place_columns(struct pages *p, sqlite3 *db, const char *table, void *names)
{
	const char *const *columns = names;

	/* A key of its own (WITHOUT ROWID, or not an alias of the rowid) has an index. */
	static const char sql[] =
		"SELECT (SELECT count(*) FROM pragma_index_list(?1) WHERE origin = 'pk'),"
		" c.cid, c.name, ifnull(c.type, ''), c.dflt_value IS NULL, c.pk, c.hidden"
		" FROM pragma_table_xinfo(?1) c ORDER BY c.cid";
	sqlite3_stmt *stmt = query(db, sql, table);
	bool ok = stmt && sqlite3_column_int(stmt, 0) == 0;

	p->rowid = stmt && ok;
	if (stmt && !ok) {
		sqlite3_finalize(stmt);
		return place_index_cells(p, db, table, names);
	}

	for (int i = 0; i < CELLS_MAX; i++)
		p->position[i] = POSITIONS_MAX; /* not found */
	for (int cid = 0; ok && cid >= 0;) {
		const char *name = (const char *)sqlite3_column_text(stmt, 2);
		const char *type = (const char *)sqlite3_column_text(stmt, 3);
		bool alias = sqlite3_column_int(stmt, 5) != 0;

		ok = name && type && sqlite3_column_int(stmt, 1) == cid &&
		     sqlite3_column_int(stmt, 6) == 0 && cid < POSITIONS_MAX;
		for (int i = 0; ok && i < p->cells; i++) {
			if (strcasecmp(columns[i], name))
				continue;
			ok = alias || (sqlite3_column_int(stmt, 4) && !real_affinity(type));
			p->position[i] = alias ? -1 : cid;
			p->last = !alias && cid > p->last ? cid : p->last;
		}
		cid++;
		if (sqlite3_step(stmt) != SQLITE_ROW)
			cid = -1;
	}
	sqlite3_finalize(stmt);
	for (int i = 0; ok && i < p->cells; i++)
		ok = p->position[i] < POSITIONS_MAX;
	return ok;
}

struct pages *pages_open_table(sqlite3 *db, const char *table, const char *const *columns, int n)
{
	struct pages *p = xcalloc(1, sizeof(*p));
	const char *asked[1 + CELLS_MAX] = {"columns"};
	uint8_t h[100];
	int64_t root, count = -1;
	char *create = NULL;
	bool ok;

	p->columns = true;
	p->cells = n;
	root = n > 0 && n <= CELLS_MAX ? table_root(db, table, &create) : 0;
	for (int i = 0; root && i < n; i++)
		asked[1 + i] = columns[i];
	ok = root > 1 &&
	     placed(p, db, table, create, asked, 1 + n, place_columns, (void *)columns) &&
	     sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &p->file) == SQLITE_OK &&
	     p->file && p->file->pMethods && read_header(p, h) && p->utf8 &&
	     (count = file_pages(p, h)) >= root && count <= UINT32_MAX;
	free(create);
	if (!ok) {
		free(p);
		return NULL;
	}
	/* A table's leaf holds more of a record in its page than an index's (fileformat2 1.6). */
	if (p->rowid)
		p->max_local = p->usable - 35;
	p->fd = -1; /* small tables, read a page at a time */
	p->root = (uint32_t)root;
	p->page_count = (uint32_t)count;
	return p;
}

int pages_cells(const struct pages *p)
{
	return p->cells - p->drop;
}

const char *pages_error(const struct pages *p)
{
	return p->error;
}

bool pages_corrupt(const struct pages *p)
{
	return p->corrupt;
}

void pages_close(struct pages *p)
{
	if (!p)
		return;
	for (int i = 0; i < DEPTH_MAX; i++)
		free(p->levels[i].page);
	free(p->overflow_page);
	if (p->ahead[0])
		atomic_fetch_sub(&readers_ahead, 1);
	for (int i = 0; i < BATCH_READ_MAX; i++)
		free(p->ahead[i]);
	for (int i = 0; i < CELLS_MAX; i++)
		free(p->text[i]);
	free(p);
}
