/*
 * Who did it: each process's images and parents, from an index of the
 * capture's process table read once (a few tens of bytes per process row,
 * never per event) and shared by the connections opened again to the same
 * file, and the images as shown, rendered once each into a bounded cache
 * per connection.
 */
#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineage.h"
#include "pages.h"
#include "util.h"

#define COMM_MAX	16
#define IMAGE_SLOTS	1024 /* at most, a power of two */
#define IMAGE_SLOTS_MIN 16
#define FIRST_SLOTS	4096 /* a power of two */
#define PARENTS_MAX	(LINEAGE_DEPTH_MAX * (4 * COMM_MAX + 24))
/*
 * The process tables' texts (executables and command lines) the indexes
 * keep, all captures together: a fleet's small captures keep theirs (some
 * 20 kB each), so that an image is rendered without a query by its key
 * (8,000 instructions); a capture whose texts would pass it keeps none,
 * and looks each up by its key.
 */
#define TEXTS_MAX (16u << 20)
#define TEXT_NONE UINT32_MAX

/*
 * A row of the process table, as the index keeps it: sorted by (pid, start_ns,
 * t, seq).  With what makes its executable stand out, so that counting events
 * per suspect program reads no row's texts (lineage_stands_out).
 */
struct proc_row {
	int64_t pid, start_ns, t, seq, ppid, uid;
	bool fork;	   /* the parent's image, until the process execs */
	bool exec;	   /* how = 'exec' (neither: 'running') */
	bool exit_deleted; /* the last row of a process whose exit found its executable gone */
	int64_t exit_t;	   /* the first row of a process: its exit's t; INT64_MAX: none seen */
	int64_t exit_uid;  /* the first row: its uid then (a setuid without exec shows there) */
	bool has_exe, exe_deleted, world_writable, default_name; /* of its exe column */
	uint8_t comm_len;
	char comm[COMM_MAX];
	uint8_t streams[3]; /* an exec's fds 0, 1, 2: enum image_stream */
	int32_t tcp;	    /* its TCP stream's tuple in the index's tcps; -1: none */
	int32_t pipes;	    /* its streams' pipes in the index's pipes; -1: none is one */
	int32_t parent_tcp; /* its parent's connection at the exec in tcps; -1: none */
	uint32_t text;	    /* its exe's and args' place in the index's texts (row_texts()) */
};

/* An image as shown, with the bytes it points to. */
struct slot {
	bool filled;
	struct image image;
	char *text; /* comm, exe, exe_marked, args and parents, one after the other */
	size_t text_size;
};

/* Where a process's rows begin: events come in runs of few processes. */
struct first_slot {
	int64_t pid, start_ns;
	size_t first; /* SIZE_MAX: not in the capture */
	bool filled;
};

/*
 * The index: read-only once read, so the threads of a report, each on a
 * connection of its own to the same file, read it once and share it (it is
 * most of what a report over a busy capture holds per process).
 */
struct process_index {
	int refs;     /* connections holding it, and the first capture while it names it */
	bool present; /* the capture has process lives */
	struct proc_row *rows;
	size_t nrows;
	/* Every process's first row, by (ppid, t): the children of a pid, in birth order. */
	size_t *births;
	size_t nbirths;
	/* The TCP streams of the execs that had one (few): laddr, lport, raddr, rport. */
	int64_t (*tcps)[4];
	size_t ntcps;
	/* The pipes of the execs that had one (few): each stream's, 0 for no pipe. */
	int64_t (*pipes)[3];
	size_t npipes;
	/* The execs by the pipe on their stdin (0) and on their stdout (1): a pipeline's ends. */
	struct keyed_row *pipe_ends[2];
	size_t npipe_ends[2];
	/*
	 * Each row's exe and args (keep_texts()), as two lengths (uint32_t)
	 * and their bytes; none once they would pass TEXTS_MAX (dropped).
	 */
	char *texts;
	size_t texts_len, texts_size;
	bool texts_dropped;
};

/* The bytes of texts the indexes hold (TEXTS_MAX). */
static atomic_size_t texts_held;

/* Guards every capture's shared index and its references: taken once per connection. */
static pthread_mutex_t sharing = PTHREAD_MUTEX_INITIALIZER;

/* A connection's own: the shared index, and caches of what it looked up. */
struct capture_lineage {
	struct process_index *index; /* NULL until the first call reads or finds it */
	/*
	 * Sized to the index (twice its rows, up to FIRST_SLOTS): they are
	 * reached by a hash, all over, and a fleet's captures' each held
	 * 160 kB for some 800 processes.
	 */
	struct first_slot *firsts;
	uint64_t firsts_mask;
	sqlite3_stmt *details; /* one row's texts, by its key */
	/*
	 * Made at the first image (many connections ask only lineage_stands_out)
	 * with IMAGE_SLOTS_MIN, doubled when an image would take another's
	 * place, up to the index's rows or IMAGE_SLOTS; each slot made at its
	 * first image, and never moved (an image stays where it was given).
	 * Summary's connections to a fleet's captures each ask for a few images
	 * (16 to 64 slots), and held 1,024 slots each (470 kB a capture, 140 MB
	 * over 300 captures).
	 */
	struct slot **slots;
	size_t nslots;
};

static int read_failed(struct capture *cap, const char *what)
{
	fprintf(stderr, "report: %s: cannot read %s: %s\n", cap->name, what, capture_error(cap));
	return -1;
}

static int corrupt(const struct capture *cap, const char *why)
{
	fprintf(stderr, "report: %s: cannot read process: corrupt capture: %s\n", cap->name, why);
	return -1;
}

static int by_key(const void *x, const void *y)
{
	const struct proc_row *a = x, *b = y;
	const int64_t ka[] = {a->pid, a->start_ns, a->t, a->seq},
		      kb[] = {b->pid, b->start_ns, b->t, b->seq};

	for (size_t i = 0; i < ARRAY_SIZE(ka); i++)
		if (ka[i] != kb[i])
			return ka[i] < kb[i] ? -1 : 1;
	return 0;
}

/* The first row of (pid, start_ns) or after, by binary search. */
static size_t lower_bound(const struct process_index *ix, int64_t pid, int64_t start_ns)
{
	size_t lo = 0, hi = ix->nrows;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct proc_row *r = &ix->rows[mid];

		if (r->pid < pid || (r->pid == pid && r->start_ns < start_ns))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool is_process(const struct process_index *ix, size_t i, int64_t pid, int64_t start_ns)
{
	return i < ix->nrows && ix->rows[i].pid == pid && ix->rows[i].start_ns == start_ns;
}

/* A compiler's default output name (a.out...). */
static bool default_name(const char *exe, size_t len)
{
	static const char *const names[] = {"a.out", "b.out", "a.exe"};
	const char *slash = memrchr(exe, '/', len);
	const char *base = slash ? slash + 1 : exe;
	size_t base_len = len - (size_t)(base - exe);

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (base_len == strlen(names[i]) && !memcmp(base, names[i], base_len))
			return true;
	return false;
}

/*
 * Each process's exit on its first row (time and uid), and its last row
 * marked when the exit found its executable deleted.
 */
static int read_exits(struct capture *cap, struct process_index *ix)
{
	const char *sql = capture_has_column(cap, "ev_exit", "exe_deleted")
				  ? "SELECT k.pid, k.start_ns, e.t, k.uid, e.exe_deleted = 1 FROM "
				    "ev_exit e JOIN task k ON k.id = e.task"
				  : "SELECT k.pid, k.start_ns, e.t, k.uid, 0 FROM ev_exit e JOIN "
				    "task k ON k.id = e.task";
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return read_failed(cap, "ev_exit");
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t pid = sqlite3_column_int64(stmt, 0), start = sqlite3_column_int64(stmt, 1);
		size_t i = lower_bound(ix, pid, start);

		if (!is_process(ix, i, pid, start))
			continue;
		ix->rows[i].exit_t = sqlite3_column_int64(stmt, 2);
		ix->rows[i].exit_uid = sqlite3_column_int64(stmt, 3);
		if (!sqlite3_column_int(stmt, 4))
			continue;
		while (is_process(ix, i + 1, pid, start))
			i++;
		ix->rows[i].exit_deleted = true;
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : read_failed(cap, "ev_exit");
}

/*
 * A row by two keys: a process's first row by (ppid, t), an exec by (the
 * pipe on its stdin, row).  qsort has no context, so a copy of the keys.
 */
struct keyed_row {
	int64_t key, then;
	size_t row;
};

static int by_keys(const void *x, const void *y)
{
	const struct keyed_row *a = x, *b = y;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return (a->then > b->then) - (a->then < b->then);
}

static void index_births(struct process_index *ix)
{
	struct keyed_row *births = xcalloc(ix->nrows ? ix->nrows : 1, sizeof(*births));
	size_t n = 0;

	for (size_t i = 0; i < ix->nrows; i++)
		if (i == 0 || !is_process(ix, i - 1, ix->rows[i].pid, ix->rows[i].start_ns))
			births[n++] = (struct keyed_row){ix->rows[i].ppid, ix->rows[i].t, i};
	qsort(births, n, sizeof(*births), by_keys);
	ix->births = xcalloc(n ? n : 1, sizeof(*ix->births));
	for (size_t i = 0; i < n; i++)
		ix->births[i] = births[i].row;
	ix->nbirths = n;
	free(births);
}

/*
 * The process table's columns the index reads (read_rows()), in this order;
 * those a later recorder added in groups, read from the captures that have
 * them (NULL in older ones).
 */
enum proc_column {
	PROC_PID,
	PROC_START_NS,
	PROC_T,
	PROC_SEQ,
	PROC_PPID,
	PROC_UID, /* the last that is always an integer */
	PROC_HOW,
	PROC_COMM,
	PROC_EXE,
	PROC_EXE_DELETED,
	PROC_EXE_WORLD_WRITABLE,
	PROC_ARGS,
	PROC_STREAMS,			  /* stdin, stdout, stderr */
	PROC_TCP = PROC_STREAMS + 3,	  /* laddr, lport, raddr, rport */
	PROC_PIPES = PROC_TCP + 4,	  /* stdin's, stdout's, stderr's */
	PROC_PARENT_TCP = PROC_PIPES + 3, /* laddr, lport, raddr, rport */
	PROC_COLUMNS = PROC_PARENT_TCP + 4,
};

static const char *const proc_columns[PROC_COLUMNS] = {
	"pid",
	"start_ns",
	"t",
	"seq",
	"ppid",
	"uid",
	"how",
	"comm",
	"exe",
	"exe_deleted",
	"exe_world_writable",
	"args",
	"stdin",
	"stdout",
	"stderr",
	"tcp_laddr",
	"tcp_lport",
	"tcp_raddr",
	"tcp_rport",
	"stdin_pipe",
	"stdout_pipe",
	"stderr_pipe",
	"parent_tcp_laddr",
	"parent_tcp_lport",
	"parent_tcp_raddr",
	"parent_tcp_rport",
};

/* The groups a later recorder added: from first to last, if the capture has first. */
static const struct {
	int first, last;
} proc_groups[] = {
	{PROC_STREAMS, PROC_TCP + 3},
	{PROC_PIPES, PROC_PIPES + 2},
	{PROC_PARENT_TCP, PROC_PARENT_TCP + 3},
};

/* Whether v is this text of len bytes, as SQL's "= 'text'" tells (a blob never is). */
static bool is_text(const struct pages_value *v, const char *text, size_t len)
{
	return v->type == SQLITE_TEXT && v->len == len && v->bytes && !memcmp(v->bytes, text, len);
}

#define IS_TEXT(v, literal) is_text(v, literal, sizeof(literal) - 1)

/* v's integer, 0 for anything else. */
static int64_t integer_of(const struct pages_value *v)
{
	return v->type == SQLITE_INTEGER ? v->integer : 0;
}

/* A stream as the process table names it (schema.sql), as enum image_stream. */
static uint8_t stream_of(const struct pages_value *v)
{
#define STREAM(e, name) [e] = { name, sizeof(name) - 1 }
	static const struct {
		const char *name;
		size_t len;
	} names[] = {
		STREAM(IMAGE_STREAM_CLOSED, "closed"), STREAM(IMAGE_STREAM_TTY, "tty"),
		STREAM(IMAGE_STREAM_PIPE, "pipe"),     STREAM(IMAGE_STREAM_FILE, "file"),
		STREAM(IMAGE_STREAM_DEVICE, "device"), STREAM(IMAGE_STREAM_UNIX, "unix"),
		STREAM(IMAGE_STREAM_TCP, "tcp"),       STREAM(IMAGE_STREAM_SOCKET, "socket"),
		STREAM(IMAGE_STREAM_OTHER, "other"),
	};
#undef STREAM

	for (uint8_t i = 1; v->type == SQLITE_TEXT && i < ARRAY_SIZE(names); i++)
		if (is_text(v, names[i].name, names[i].len))
			return i;
	return IMAGE_STREAM_UNKNOWN;
}

/* The room for one more of n: doubled when full. */
static void *grow_for_one(void *list, size_t n, size_t *allocated, size_t size)
{
	if (n < *allocated)
		return list;
	*allocated = *allocated ? 2 * *allocated : 16;
	return xrealloc(list, *allocated * size);
}

/* A tuple of four columns kept aside in the index's tcps: its place, or -1 when NULL. */
static int32_t keep_tuple(const struct pages_value *v, struct process_index *ix, size_t *allocated)
{
	if (v[0].type == SQLITE_NULL)
		return -1;
	ix->tcps = grow_for_one(ix->tcps, ix->ntcps, allocated, sizeof(*ix->tcps));
	for (int i = 0; i < 4; i++)
		ix->tcps[ix->ntcps][i] = integer_of(&v[i]);
	return (int32_t)ix->ntcps++;
}

/*
 * An exec's standard streams, and kept aside its TCP stream's tuple, its
 * pipes and its parent's connection.
 */
static void keep_streams(const struct pages_value *v, struct process_index *ix, struct proc_row *r,
			 size_t allocated[2])
{
	r->pipes = -1;
	for (int i = 0; i < 3; i++)
		r->streams[i] = stream_of(&v[PROC_STREAMS + i]);
	r->tcp = keep_tuple(&v[PROC_TCP], ix, &allocated[0]);
	r->parent_tcp = keep_tuple(&v[PROC_PARENT_TCP], ix, &allocated[0]);
	if (!integer_of(&v[PROC_PIPES]) && !integer_of(&v[PROC_PIPES + 1]) &&
	    !integer_of(&v[PROC_PIPES + 2]))
		return;
	ix->pipes = grow_for_one(ix->pipes, ix->npipes, &allocated[1], sizeof(*ix->pipes));
	for (int i = 0; i < 3; i++)
		ix->pipes[ix->npipes][i] = integer_of(&v[PROC_PIPES + i]);
	r->pipes = (int32_t)ix->npipes++;
}

/* The execs by the pipe on their stdin or stdout (fd), once the rows are in their order. */
static void index_pipe_ends(struct process_index *ix, int fd)
{
	size_t n = 0;

	for (size_t i = 0; i < ix->nrows; i++)
		if (ix->rows[i].pipes >= 0 && ix->pipes[ix->rows[i].pipes][fd])
			n++;
	ix->npipe_ends[fd] = n;
	if (!n)
		return;
	ix->pipe_ends[fd] = xcalloc(n, sizeof(*ix->pipe_ends[fd]));
	n = 0;
	for (size_t i = 0; i < ix->nrows; i++)
		if (ix->rows[i].pipes >= 0 && ix->pipes[ix->rows[i].pipes][fd])
			ix->pipe_ends[fd][n++] =
				(struct keyed_row){ix->pipes[ix->rows[i].pipes][fd], (int64_t)i, i};
	qsort(ix->pipe_ends[fd], n, sizeof(*ix->pipe_ends[fd]), by_keys);
}

static char *put_bytes(char *p, const void *bytes, size_t len)
{
	if (len)
		memcpy(p, bytes, len);
	return p + len;
}

/* The index's texts given up: its rows' are looked up by their key. */
static void drop_texts(struct process_index *ix)
{
	atomic_fetch_sub(&texts_held, ix->texts_len);
	free(ix->texts);
	ix->texts = NULL;
	ix->texts_len = ix->texts_size = 0;
	ix->texts_dropped = true;
}

/* Row r's exe and args into the index's texts, while all stay within TEXTS_MAX. */
static void keep_texts(struct process_index *ix, struct proc_row *r, const struct pages_value *exe,
		       const struct pages_value *args)
{
	/* An empty text is NULL's, as sqlite3_column_blob() gives it. */
	uint32_t len[2] = {exe->bytes ? (uint32_t)exe->len : 0,
			   args->bytes ? (uint32_t)args->len : 0};
	size_t need = sizeof(len) + len[0] + len[1];
	bool fits = !ix->texts_dropped && ix->texts_len + need < TEXT_NONE;
	char *p;

	r->text = TEXT_NONE;
	if (fits && atomic_fetch_add(&texts_held, need) + need > TEXTS_MAX) {
		atomic_fetch_sub(&texts_held, need);
		fits = false;
	}
	if (!fits) {
		if (!ix->texts_dropped)
			drop_texts(ix);
		return;
	}
	if (ix->texts_len + need > ix->texts_size) {
		ix->texts_size = 2 * (ix->texts_len + need);
		ix->texts = xrealloc(ix->texts, ix->texts_size);
	}
	r->text = (uint32_t)ix->texts_len;
	p = ix->texts + ix->texts_len;
	memcpy(p, len, sizeof(len));
	p = put_bytes(p + sizeof(len), exe->bytes, len[0]);
	put_bytes(p, args->bytes, len[1]);
	ix->texts_len += need;
}

/* A row of the process table into the index: NULL, or why it is corrupt. */
static const char *keep_row(struct process_index *ix, const struct pages_value *v,
			    size_t *allocated, size_t side_allocated[2])
{
	const struct pages_value *comm = &v[PROC_COMM], *exe = &v[PROC_EXE];
	bool has_exe = (exe->type == SQLITE_TEXT || exe->type == SQLITE_BLOB) && exe->bytes;
	struct proc_row *r;

	for (int i = 0; i <= PROC_UID; i++)
		if (v[i].type != SQLITE_INTEGER)
			return "a number that is not one";
	if ((exe->len && !exe->bytes) || (comm->len && !comm->bytes) ||
	    (v[PROC_ARGS].len && !v[PROC_ARGS].bytes))
		return "a text longer than any";
	if (ix->nrows == *allocated) {
		*allocated = *allocated ? 2 * *allocated : 256;
		ix->rows = xrealloc(ix->rows, *allocated * sizeof(*ix->rows));
	}
	r = &ix->rows[ix->nrows++];
	*r = (struct proc_row){
		.pid = v[PROC_PID].integer,
		.start_ns = v[PROC_START_NS].integer,
		.t = v[PROC_T].integer,
		.seq = v[PROC_SEQ].integer,
		.ppid = v[PROC_PPID].integer,
		.uid = v[PROC_UID].integer,
		.fork = IS_TEXT(&v[PROC_HOW], "fork"),
		.exec = IS_TEXT(&v[PROC_HOW], "exec"),
		.has_exe = has_exe,
		.exe_deleted = integer_of(&v[PROC_EXE_DELETED]) == 1,
		.world_writable = integer_of(&v[PROC_EXE_WORLD_WRITABLE]) == 1,
		.default_name = has_exe && default_name(exe->bytes, (size_t)exe->len),
		.comm_len = (uint8_t)(comm->len < COMM_MAX ? comm->len : COMM_MAX),
		.exit_t = INT64_MAX,
		.exit_uid = -1,
	};
	if (r->comm_len)
		memcpy(r->comm, comm->bytes, r->comm_len);
	keep_streams(v, ix, r, side_allocated);
	keep_texts(ix, r, exe, &v[PROC_ARGS]);
	return NULL;
}

/* Column i of a statement's row, as pages_row() gives it. */
static struct pages_value stmt_value(sqlite3_stmt *stmt, int i)
{
	struct pages_value v = {.type = sqlite3_column_type(stmt, i)};

	if (v.type == SQLITE_INTEGER) {
		v.integer = sqlite3_column_int64(stmt, i);
	} else if (v.type == SQLITE_TEXT || v.type == SQLITE_BLOB) {
		v.bytes = sqlite3_column_blob(stmt, i);
		v.len = (uint64_t)sqlite3_column_bytes(stmt, i);
	}
	return v;
}

/*
 * The process table's rows into the index, its columns (names, n of them)
 * placed in v by at[] (-1: NULL): from its pages on a capture read as
 * immutable (5,000 instructions a row through SQL, the most of what a
 * fleet's small capture cost before its first event), else through SQL.
 */
static int read_process(struct capture *cap, struct process_index *ix, const char **names, int n,
			const int at[PROC_COLUMNS])
{
	struct pages *p = cap->immutable ? pages_open_table(cap->db, "process", names, n) : NULL;
	struct pages_value got[PROC_COLUMNS], v[PROC_COLUMNS];
	size_t allocated = 0, side_allocated[2] = {0};
	sqlite3_stmt *stmt = NULL;
	const char *why = NULL;
	int64_t rowid;
	int rc;

	if (!p) {
		char sql[640], *end = stpcpy(sql, "SELECT ");

		for (int i = 0; i < n; i++)
			end = stpcpy(stpcpy(end, i ? ", " : ""), names[i]);
		stpcpy(end, " FROM process");
		if (sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL) != SQLITE_OK)
			return read_failed(cap, "process");
	}
	for (;;) {
		if (p) {
			rc = pages_row(p, &rowid, got);
		} else {
			rc = sqlite3_step(stmt);
			for (int i = 0; rc == SQLITE_ROW && i < n; i++)
				got[i] = stmt_value(stmt, i);
			rc = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
		}
		if (rc <= 0)
			break;
		for (int c = 0; c < PROC_COLUMNS; c++)
			v[c] = at[c] < 0 ? (struct pages_value){.type = SQLITE_NULL} : got[at[c]];
		if ((why = keep_row(ix, v, &allocated, side_allocated)))
			break;
	}
	if (p && rc < 0)
		fprintf(stderr, "report: %s: cannot read process: %s%s\n", cap->name,
			pages_corrupt(p) ? "corrupt capture: " : "", pages_error(p));
	else if (rc < 0)
		read_failed(cap, "process");
	else if (why)
		corrupt(cap, why);
	pages_close(p);
	sqlite3_finalize(stmt);
	/* Held to the end: no more than they need. */
	if (ix->nrows)
		ix->rows = xrealloc(ix->rows, ix->nrows * sizeof(*ix->rows));
	if (ix->texts_len)
		ix->texts = xrealloc(ix->texts, ix->texts_len);
	return rc < 0 || why ? -1 : 0;
}

static int read_rows(struct capture *cap, struct process_index *ix)
{
	const char *names[PROC_COLUMNS];
	int at[PROC_COLUMNS], n = 0;

	for (int c = 0; c < PROC_COLUMNS; c++)
		at[c] = c < proc_groups[0].first ? c : -1;
	n = proc_groups[0].first;
	memcpy(names, proc_columns, (size_t)n * sizeof(*names));
	/* Captures of recorders before the streams, the pipes or the parents' connections: NULL. */
	for (size_t g = 0; g < ARRAY_SIZE(proc_groups); g++) {
		if (!capture_has_column(cap, "process", proc_columns[proc_groups[g].first]))
			continue;
		for (int c = proc_groups[g].first; c <= proc_groups[g].last; c++) {
			at[c] = n;
			names[n++] = proc_columns[c];
		}
	}
	if (read_process(cap, ix, names, n, at))
		return -1;
	if (ix->nrows)
		qsort(ix->rows, ix->nrows, sizeof(*ix->rows), by_key);
	if (read_exits(cap, ix))
		return -1;
	index_births(ix);
	index_pipe_ends(ix, 0);
	index_pipe_ends(ix, 1);
	return 0;
}

static void drop_index(struct process_index *ix)
{
	if (ix && --ix->refs == 0) {
		free(ix->rows);
		free(ix->births);
		free(ix->tcps);
		free(ix->pipes);
		free(ix->pipe_ends[0]);
		free(ix->pipe_ends[1]);
		drop_texts(ix);
		free(ix);
	}
}

/*
 * The index of the capture's file, read on this connection by the first that
 * needs it (the others wait for it): a reference, or NULL after one line.
 */
static struct process_index *shared_index(struct capture *cap)
{
	struct capture *first = cap->origin ? cap->origin : cap;
	struct process_index *ix;

	pthread_mutex_lock(&sharing);
	ix = first->process_index;
	if (!ix) {
		ix = xcalloc(1, sizeof(*ix));
		ix->refs = 1; /* the first capture's, until it is released */
		ix->present = capture_has_column(cap, "process", NULL) &&
			      capture_has_column(cap, "task", "start_ns");
		if (ix->present && read_rows(cap, ix)) {
			drop_index(ix);
			ix = NULL;
		}
		first->process_index = ix;
	}
	if (ix)
		ix->refs++;
	pthread_mutex_unlock(&sharing);
	return ix;
}

/*
 * The statement and the index go with the connection (--follow reads them
 * again), the caches with the capture (Closing, below).
 */
static void lineage_release(struct capture *cap);
static void lineage_free(struct capture *cap);
static const struct capture_keeper keeper = {lineage_release, lineage_free};

/* The connection's lineage, with the index: NULL after one line. */
static struct capture_lineage *lineage_of(struct capture *cap)
{
	struct capture_lineage *l = cap->lineage;

	if (!l) {
		capture_keeper(&keeper); /* before any index, which an origin may hold too */
		l = cap->lineage = xcalloc(1, sizeof(*l));
	}
	if (!l->index && !(l->index = shared_index(cap)))
		return NULL;
	if (!l->firsts) {
		size_t slots = 16;

		while (slots < FIRST_SLOTS && slots < 2 * l->index->nrows)
			slots *= 2;
		l->firsts = xcalloc(slots, sizeof(*l->firsts));
		l->firsts_mask = slots - 1;
	}
	return l;
}

/* The row of the process that was current at t: the latest at or before t, else its first. */
static size_t row_at(const struct process_index *ix, size_t first, int64_t t)
{
	size_t i = first;

	while (is_process(ix, i + 1, ix->rows[first].pid, ix->rows[first].start_ns) &&
	       ix->rows[i + 1].t <= t)
		i++;
	return i;
}

/*
 * The process ppid a child started at child_start had for parent: the
 * latest process with that pid started no later.  Its first row, or
 * SIZE_MAX when the capture has none.
 */
static size_t parent_of(const struct process_index *ix, int64_t ppid, int64_t child_start)
{
	size_t i = lower_bound(ix, ppid, child_start == INT64_MAX ? child_start : child_start + 1);

	if (i == 0 || ix->rows[i - 1].pid != ppid)
		return SIZE_MAX;
	return lower_bound(ix, ppid, ix->rows[i - 1].start_ns);
}

/* The row whose executable a row ran: itself, or for a fork its parent's then. */
static size_t exec_row(const struct process_index *ix, size_t row)
{
	for (int depth = 0; depth < LINEAGE_DEPTH_MAX && ix->rows[row].fork; depth++) {
		size_t parent = parent_of(ix, ix->rows[row].ppid, ix->rows[row].start_ns);

		if (parent == SIZE_MAX)
			return SIZE_MAX;
		row = row_at(ix, parent, ix->rows[row].t);
	}
	return ix->rows[row].fork ? SIZE_MAX : row;
}

/* The first row of the process holding row. */
static size_t first_row(const struct process_index *ix, size_t row)
{
	while (row > 0 && is_process(ix, row - 1, ix->rows[row].pid, ix->rows[row].start_ns))
		row--;
	return row;
}

/* "comm(pid) < comm(pid)...": the parents of row's process, as each was when its child began. */
static size_t put_parents(const struct process_index *ix, size_t row, char *out)
{
	char *p = out;
	size_t first = first_row(ix, row);
	int64_t ppid = ix->rows[row].ppid;

	for (int depth = 0; depth < LINEAGE_DEPTH_MAX && ppid > 0; depth++) {
		size_t parent = parent_of(ix, ppid, ix->rows[first].start_ns);
		const struct proc_row *r;

		if (p != out)
			p = stpcpy(p, " < ");
		if (parent == SIZE_MAX) {
			*p++ = '?';
			p = stpcpy(int_text(stpcpy(p, "("), ppid), ")");
			break;
		}
		r = &ix->rows[row_at(ix, parent, ix->rows[first].t)];
		p = put_bytes(p, r->comm, r->comm_len);
		p = stpcpy(int_text(stpcpy(p, "("), r->pid), ")");
		first = parent;
		ppid = r->ppid;
		if (r->pid == 1)
			break;
	}
	return (size_t)(p - out);
}

/* Text columns of the details, each held by the slot's text once filled. */
enum { DETAIL_EXE, DETAIL_ARGS };

/*
 * The slot's texts, room for the longest parents given up: a fleet's
 * captures each keep a cache of images, and the room (some 3 kB an image,
 * 2.3 MB a capture) was most of what timeline held per capture.
 */
static void fit_text(struct slot *s, size_t used)
{
	struct image *im = &s->image;
	const char **texts[] = {&im->comm, &im->exe, &im->args, &im->exe_marked, &im->parents};
	size_t offsets[ARRAY_SIZE(texts)];

	if (used + 256 >= s->text_size)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(texts); i++)
		offsets[i] = *texts[i] ? (size_t)(*texts[i] - s->text) : SIZE_MAX;
	s->text = xrealloc(s->text, used ? used : 1);
	s->text_size = used ? used : 1;
	for (size_t i = 0; i < ARRAY_SIZE(texts); i++)
		if (offsets[i] != SIZE_MAX)
			*texts[i] = s->text + offsets[i];
}

/* A row's exe and args (NULL when empty), as the index keeps them or SQL reads them. */
struct row_texts {
	const char *exe, *args;
	size_t exe_len, args_len;
};

/*
 * Row q's texts: from the index's, else read by its key (valid until
 * l->details is reset).  0, or -1 after one line.
 */
static int row_texts(struct capture *cap, struct capture_lineage *l, const struct proc_row *q,
		     struct row_texts *out)
{
	static const char sql[] = "SELECT exe, args FROM process WHERE t = ? AND seq = ?";
	int rc;

	if (q->text != TEXT_NONE && l->index->texts) {
		const char *p = l->index->texts + q->text;
		uint32_t len[2];

		memcpy(len, p, sizeof(len));
		p += sizeof(len);
		*out = (struct row_texts){len[0] ? p : NULL, len[1] ? p + len[0] : NULL, len[0],
					  len[1]};
		return 0;
	}
	if (!l->details &&
	    sqlite3_prepare_v3(cap->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &l->details, NULL))
		return read_failed(cap, "process");
	sqlite3_bind_int64(l->details, 1, q->t);
	sqlite3_bind_int64(l->details, 2, q->seq);
	rc = sqlite3_step(l->details);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(l->details);
		return rc == SQLITE_DONE ? corrupt(cap, "a row that is not there")
					 : read_failed(cap, "process");
	}
	/* sqlite3_column_blob() gives NULL for NULL and for an empty text. */
	out->exe = (const char *)sqlite3_column_blob(l->details, DETAIL_EXE);
	out->exe_len = out->exe ? (size_t)sqlite3_column_bytes(l->details, DETAIL_EXE) : 0;
	out->args = (const char *)sqlite3_column_blob(l->details, DETAIL_ARGS);
	out->args_len = out->args ? (size_t)sqlite3_column_bytes(l->details, DETAIL_ARGS) : 0;
	return 0;
}

/*
 * The image of a row: the texts from the row of its executable (for a fork
 * its parent's), the rest from the index.
 */
static int fill_slot(struct capture *cap, struct capture_lineage *l, size_t row, struct slot *s)
{
	const struct process_index *ix = l->index;
	const struct proc_row *r = &ix->rows[row];
	size_t source = exec_row(ix, row), exe_len, args_len, need;
	const struct proc_row *q = &ix->rows[source == SIZE_MAX ? row : source];
	const char *exe, *args;
	struct row_texts texts;
	struct image *im = &s->image;
	char *p;

	if (row_texts(cap, l, q, &texts))
		return -1;
	exe = source != SIZE_MAX ? texts.exe : NULL;
	exe_len = exe ? texts.exe_len : 0;
	args = texts.args;
	args_len = texts.args_len;
	/* The bytes stay valid until the reset: copy them now. */
	need = r->comm_len + 2 * exe_len + args_len + 48 + PARENTS_MAX + 16;
	if (need > s->text_size) {
		s->text_size = need;
		s->text = xrealloc(s->text, need);
	}
	p = s->text;
	im->comm = p;
	p = put_bytes(p, r->comm, r->comm_len);
	im->exe = exe ? p : NULL;
	p = put_bytes(p, exe, exe_len);
	im->args = args ? p : NULL;
	p = put_bytes(p, args, args_len);
	if (l->details)
		sqlite3_reset(l->details);
	im->how = r->exec ? "exec" : r->fork ? "fork" : "running";
	im->uid = r->uid;
	im->pid = r->pid;
	im->start_ns = r->start_ns;
	im->ppid = r->ppid;
	im->t = r->t;
	im->first_t = ix->rows[first_row(ix, row)].t;
	im->comm_len = r->comm_len;
	im->exe_len = exe_len;
	im->args_len = args_len;
	/* Deleted while it ran: its exit says so (the index marks the process's last image). */
	im->deleted = exe && (q->exe_deleted || r->exit_deleted);
	im->world_writable = exe && q->world_writable;
	im->default_name = exe && q->default_name;
	im->exe_marked = exe ? p : NULL;
	p = put_bytes(p, im->exe, exe_len);
	if (im->deleted)
		p = stpcpy(p, " (deleted)");
	if (im->world_writable)
		p = stpcpy(p, " (world-writable dir)");
	im->exe_marked_len = exe ? (size_t)(p - im->exe_marked) : 0;
	im->parents = p;
	im->parents_len = put_parents(ix, row, p);
	fit_text(s, (size_t)(p - s->text) + im->parents_len);
	im->row = (int64_t)row;
	memcpy(im->streams, r->streams, sizeof(im->streams));
	im->has_tcp = r->tcp >= 0;
	if (im->has_tcp)
		memcpy(im->tcp, ix->tcps[r->tcp], sizeof(im->tcp));
	im->parent_has_tcp = r->parent_tcp >= 0;
	if (im->parent_has_tcp)
		memcpy(im->parent_tcp, ix->tcps[r->parent_tcp], sizeof(im->parent_tcp));
	if (r->pipes >= 0)
		memcpy(im->pipes, ix->pipes[r->pipes], sizeof(im->pipes));
	else
		memset(im->pipes, 0, sizeof(im->pipes));
	s->filled = true;
	return 0;
}

/* The slots doubled: slot i goes to i, or to i + nslots when its image's row has that bit. */
static void grow_slots(struct capture_lineage *l)
{
	struct slot **grown = xcalloc(2 * l->nslots, sizeof(*grown));

	for (size_t i = 0; i < l->nslots; i++) {
		struct slot *s = l->slots[i];

		grown[s && s->filled && (uint64_t)s->image.row & l->nslots ? i + l->nslots : i] = s;
	}
	free(l->slots);
	l->slots = grown;
	l->nslots *= 2;
}

/* The image of a row, through the cache. */
static int image_of_row(struct capture *cap, struct capture_lineage *l, size_t row,
			const struct image **image)
{
	struct slot **place, *s;

	if (!l->slots) {
		l->slots = xcalloc(IMAGE_SLOTS_MIN, sizeof(*l->slots));
		l->nslots = IMAGE_SLOTS_MIN;
	}
	place = &l->slots[row & (l->nslots - 1)];
	if (*place && (*place)->filled && (*place)->image.row != (int64_t)row &&
	    l->nslots < IMAGE_SLOTS && l->nslots < l->index->nrows) {
		grow_slots(l);
		place = &l->slots[row & (l->nslots - 1)];
	}
	if (!*place)
		*place = xcalloc(1, sizeof(**place));
	s = *place;
	if (!s->filled || s->image.row != (int64_t)row) {
		s->filled = false;
		if (fill_slot(cap, l, row, s))
			return -1;
	}
	*image = &s->image;
	return 1;
}

/* The index's row of the image process (pid, start_ns) ran at t: SIZE_MAX when none. */
static size_t row_of(struct capture_lineage *l, int64_t pid, int64_t start_ns, int64_t t)
{
	const struct process_index *ix = l->index;
	struct first_slot *f =
		&l->firsts[((uint64_t)pid * 0x9e3779b97f4a7c15ull ^ (uint64_t)start_ns / 10000000) &
			   l->firsts_mask];

	if (!f->filled || f->pid != pid || f->start_ns != start_ns) {
		size_t first = lower_bound(ix, pid, start_ns);

		*f = (struct first_slot){pid, start_ns,
					 is_process(ix, first, pid, start_ns) ? first : SIZE_MAX,
					 true};
	}
	return f->first == SIZE_MAX ? SIZE_MAX : row_at(ix, f->first, t);
}

int lineage_image(struct capture *cap, int64_t pid, int64_t start_ns, int64_t t,
		  const struct image **image)
{
	struct capture_lineage *l = lineage_of(cap);
	size_t row;

	if (!l)
		return -1;
	if (!l->index->present || (row = row_of(l, pid, start_ns, t)) == SIZE_MAX)
		return 0;
	return image_of_row(cap, l, row, image);
}

int lineage_stands_out(struct capture *cap, int64_t pid, int64_t start_ns, int64_t t)
{
	struct capture_lineage *l = lineage_of(cap);
	size_t row, source;
	const struct proc_row *q;

	if (!l)
		return -1;
	if (!l->index->present || (row = row_of(l, pid, start_ns, t)) == SIZE_MAX ||
	    (source = exec_row(l->index, row)) == SIZE_MAX)
		return 0;
	q = &l->index->rows[source];
	return q->has_exe && (q->exe_deleted || l->index->rows[row].exit_deleted ||
			      q->world_writable || q->default_name);
}

int lineage_next_process(struct capture *cap, int64_t pid, int64_t after, int64_t *start_ns)
{
	struct capture_lineage *l = lineage_of(cap);
	const struct process_index *ix;
	size_t i;

	if (!l)
		return -1;
	ix = l->index;
	i = lower_bound(ix, pid, after == INT64_MAX ? after : after + 1);
	if (!ix->present || i >= ix->nrows || ix->rows[i].pid != pid)
		return 0;
	*start_ns = ix->rows[i].start_ns;
	return 1;
}

int lineage_nth_image(struct capture *cap, int64_t pid, int64_t start_ns, int n,
		      const struct image **image)
{
	struct capture_lineage *l = lineage_of(cap);
	size_t row;

	if (!l)
		return -1;
	row = lower_bound(l->index, pid, start_ns) + (size_t)n;
	if (!l->index->present || n < 0 || !is_process(l->index, row, pid, start_ns))
		return 0;
	return image_of_row(cap, l, row, image);
}

int lineage_parent(struct capture *cap, const struct image *child, int64_t *pid, int64_t *start_ns)
{
	struct capture_lineage *l = lineage_of(cap);
	const struct process_index *ix;
	size_t parent;

	if (!l)
		return -1;
	ix = l->index;
	if (!ix->present || child->ppid <= 0)
		return 0;
	parent = parent_of(ix, child->ppid, child->start_ns);
	if (parent == SIZE_MAX)
		return 0;
	*pid = ix->rows[parent].pid;
	*start_ns = ix->rows[parent].start_ns;
	return 1;
}

int lineage_pipe_end(struct capture *cap, int64_t pipe, int fd, size_t *cursor, int64_t *pid,
		     int64_t *start_ns, int64_t *t)
{
	struct capture_lineage *l = lineage_of(cap);
	const struct keyed_row *ends;
	size_t i, n;

	assert(fd == 0 || fd == 1);
	if (!l)
		return -1;
	ends = l->index->pipe_ends[fd];
	n = l->index->npipe_ends[fd];
	i = *cursor;
	if (i == 0) { /* the first end of pipe */
		size_t lo = 0, hi = n;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (ends[mid].key < pipe)
				lo = mid + 1;
			else
				hi = mid;
		}
		i = lo;
	} else {
		i--;
	}
	if (!pipe || i >= n || ends[i].key != pipe)
		return 0;
	*cursor = i + 2;
	*pid = l->index->rows[ends[i].row].pid;
	*start_ns = l->index->rows[ends[i].row].start_ns;
	*t = l->index->rows[ends[i].row].t;
	return 1;
}

int lineage_children(struct capture *cap, int64_t pid, int64_t start_ns, int64_t from_t,
		     size_t *cursor, int64_t *child_pid, int64_t *child_start, int64_t *child_t)
{
	struct capture_lineage *l = lineage_of(cap);
	const struct process_index *ix;
	size_t parent, i;

	if (!l)
		return -1;
	ix = l->index;
	parent = lower_bound(ix, pid, start_ns);
	if (!ix->present || !is_process(ix, parent, pid, start_ns))
		return 0;
	i = *cursor;
	if (i == 0) { /* the first birth of a child of pid at or after from_t */
		size_t lo = 0, hi = ix->nbirths;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			const struct proc_row *r = &ix->rows[ix->births[mid]];

			if (r->ppid < pid || (r->ppid == pid && r->t < from_t))
				lo = mid + 1;
			else
				hi = mid;
		}
		i = lo;
	} else {
		i--;
	}
	for (; i < ix->nbirths && ix->rows[ix->births[i]].ppid == pid; i++) {
		const struct proc_row *r = &ix->rows[ix->births[i]];

		/* pid reuse: a child of another process that had this pid */
		if (parent_of(ix, pid, r->start_ns) != parent)
			continue;
		*cursor = i + 2;
		*child_pid = r->pid;
		*child_start = r->start_ns;
		*child_t = r->t;
		return 1;
	}
	*cursor = i + 1;
	return 0;
}

int lineage_exit(struct capture *cap, int64_t pid, int64_t start_ns, int64_t *exit_t,
		 int64_t *exit_uid)
{
	struct capture_lineage *l = lineage_of(cap);
	size_t first;

	if (!l)
		return -1;
	first = lower_bound(l->index, pid, start_ns);
	if (!l->index->present || !is_process(l->index, first, pid, start_ns) ||
	    l->index->rows[first].exit_t == INT64_MAX)
		return 0;
	*exit_t = l->index->rows[first].exit_t;
	*exit_uid = l->index->rows[first].exit_uid;
	return 1;
}

int lineage_where(struct capture *cap, int64_t pid, int64_t start_ns, struct process_where *where)
{
	/* A fork's row has no nspid (the child's is not known then): an exec's first. */
	static const char sql[] =
		"SELECT ifnull(netns, -1), ifnull(nspid, -1), ifnull(cgroup, -1) FROM process "
		"WHERE pid = ?1 AND start_ns = ?2 ORDER BY nspid IS NULL, t DESC LIMIT 1";
	sqlite3_stmt *stmt;
	int rc;

	if (!capture_has_column(cap, "process", "netns"))
		return 0;
	if (sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return read_failed(cap, "process");
	sqlite3_bind_int64(stmt, 1, pid);
	sqlite3_bind_int64(stmt, 2, start_ns);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		where->netns = sqlite3_column_int64(stmt, 0);
		where->nspid = sqlite3_column_int64(stmt, 1);
		where->cgroup = sqlite3_column_int64(stmt, 2);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return read_failed(cap, "process");
	return rc == SQLITE_ROW;
}

void lineage_fit(int first)
{
	output_column_fit(first + LINEAGE_PARENTS, 0, 20);
	output_column_fit(first + LINEAGE_EXE_MARKED, 0, 21);
}

void lineage_fields(struct field fields[LINEAGE_FIELDS], bool shown)
{
	fields[LINEAGE_EXE_MARKED] = (struct field){"EXE", NULL, 24, FIELD_TEXT, shown};
	fields[LINEAGE_EXE] = (struct field){NULL, shown ? "exe" : NULL, 0, FIELD_TEXT, false};
	fields[LINEAGE_DELETED] =
		(struct field){NULL, shown ? "exe_deleted" : NULL, 0, FIELD_BOOL, false};
	fields[LINEAGE_WORLD_WRITABLE] =
		(struct field){NULL, shown ? "exe_world_writable" : NULL, 0, FIELD_BOOL, false};
	fields[LINEAGE_ARGS] = (struct field){NULL, shown ? "args" : NULL, 0, FIELD_TEXT, false};
	fields[LINEAGE_PARENTS] =
		(struct field){"PARENTS", shown ? "parents" : NULL, 0, FIELD_TEXT, shown};
}

int lineage_values(struct capture *cap, const struct task *task, int64_t t,
		   struct value values[LINEAGE_FIELDS])
{
	const struct image *im;
	int found;

	for (int i = 0; i < LINEAGE_FIELDS; i++)
		values[i] = null_value();
	if (!task)
		return 0;
	found = lineage_image(cap, task->pid, task->start_ns, t, &im);
	if (found <= 0)
		return found;
	if (im->exe) {
		values[LINEAGE_EXE_MARKED] = text_value(im->exe_marked, im->exe_marked_len);
		values[LINEAGE_EXE] = text_value(im->exe, im->exe_len);
		values[LINEAGE_DELETED] = int_value(im->deleted);
		values[LINEAGE_WORLD_WRITABLE] = int_value(im->world_writable);
	}
	values[LINEAGE_ARGS] = text_value(im->args, im->args_len);
	values[LINEAGE_PARENTS] = text_value(im->parents, im->parents_len);
	return 0;
}

static void lineage_release(struct capture *cap)
{
	struct capture_lineage *l = cap->lineage;

	/* --follow: the recorder adds processes between polls; read them again. */
	pthread_mutex_lock(&sharing);
	if (l) {
		drop_index(l->index);
		l->index = NULL;
	}
	if (!cap->origin) {
		drop_index(cap->process_index);
		cap->process_index = NULL;
	}
	pthread_mutex_unlock(&sharing);
	if (!l)
		return;
	sqlite3_finalize(l->details);
	l->details = NULL;
	for (size_t i = 0; i < l->nslots; i++)
		if (l->slots[i])
			l->slots[i]->filled = false;
	free(l->firsts); /* sized again to the index read again */
	l->firsts = NULL;
}

static void lineage_free(struct capture *cap)
{
	lineage_release(cap);
	if (!cap->lineage)
		return;
	for (size_t i = 0; i < cap->lineage->nslots; i++) {
		if (cap->lineage->slots[i])
			free(cap->lineage->slots[i]->text);
		free(cap->lineage->slots[i]);
	}
	free(cap->lineage->slots);
	free(cap->lineage);
	cap->lineage = NULL;
}
