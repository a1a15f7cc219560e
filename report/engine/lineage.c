/*
 * Who did it: each process's images and parents, from an index of the
 * capture's process table read once (a few tens of bytes per process row,
 * never per event) and shared by the connections opened again to the same
 * file, and the images as shown, rendered once each into a bounded cache
 * per connection.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineage.h"
#include "util.h"

#define COMM_MAX	16
#define IMAGE_SLOTS	1024 /* at most, a power of two */
#define IMAGE_SLOTS_MIN 16
#define FIRST_SLOTS	4096 /* a power of two */
#define PARENTS_MAX	(LINEAGE_DEPTH_MAX * (4 * COMM_MAX + 24))

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
	/* The execs whose stdin is a pipe, by that pipe: who reads what a pipeline writes. */
	struct keyed_row *readers;
	size_t nreaders;
};

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

/* A stream as the process table names it (schema.sql), as enum image_stream. */
static uint8_t stream_of(const unsigned char *name)
{
	static const char *const names[] = {
		[IMAGE_STREAM_CLOSED] = "closed", [IMAGE_STREAM_TTY] = "tty",
		[IMAGE_STREAM_PIPE] = "pipe",	  [IMAGE_STREAM_FILE] = "file",
		[IMAGE_STREAM_DEVICE] = "device", [IMAGE_STREAM_UNIX] = "unix",
		[IMAGE_STREAM_TCP] = "tcp",	  [IMAGE_STREAM_SOCKET] = "socket",
		[IMAGE_STREAM_OTHER] = "other",
	};

	for (uint8_t i = 1; name && i < ARRAY_SIZE(names); i++)
		if (!strcmp((const char *)name, names[i]))
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

/* A tuple from columns at..at + 3 kept aside in the index's tcps: its place, or -1 when NULL. */
static int32_t read_tuple(sqlite3_stmt *stmt, int at, struct process_index *ix, size_t *allocated)
{
	if (sqlite3_column_type(stmt, at) == SQLITE_NULL)
		return -1;
	ix->tcps = grow_for_one(ix->tcps, ix->ntcps, allocated, sizeof(*ix->tcps));
	for (int i = 0; i < 4; i++)
		ix->tcps[ix->ntcps][i] = sqlite3_column_int64(stmt, at + i);
	return (int32_t)ix->ntcps++;
}

/*
 * An exec's standard streams, and kept aside its TCP stream's tuple, its
 * pipes and its parent's connection.
 */
static void read_streams(sqlite3_stmt *stmt, struct process_index *ix, struct proc_row *r,
			 size_t allocated[2])
{
	r->pipes = -1;
	for (int i = 0; i < 3; i++)
		r->streams[i] = stream_of(sqlite3_column_text(stmt, 12 + i));
	r->tcp = read_tuple(stmt, 15, ix, &allocated[0]);
	r->parent_tcp = read_tuple(stmt, 22, ix, &allocated[0]);
	if (!sqlite3_column_int64(stmt, 19) && !sqlite3_column_int64(stmt, 20) &&
	    !sqlite3_column_int64(stmt, 21))
		return;
	ix->pipes = grow_for_one(ix->pipes, ix->npipes, &allocated[1], sizeof(*ix->pipes));
	for (int i = 0; i < 3; i++)
		ix->pipes[ix->npipes][i] = sqlite3_column_int64(stmt, 19 + i);
	r->pipes = (int32_t)ix->npipes++;
}

/* The execs by the pipe on their stdin, once the rows are in their order. */
static void index_readers(struct process_index *ix)
{
	for (size_t i = 0; i < ix->nrows; i++)
		if (ix->rows[i].pipes >= 0 && ix->pipes[ix->rows[i].pipes][0])
			ix->nreaders++;
	if (!ix->nreaders)
		return;
	ix->readers = xcalloc(ix->nreaders, sizeof(*ix->readers));
	for (size_t i = 0, n = 0; i < ix->nrows; i++)
		if (ix->rows[i].pipes >= 0 && ix->pipes[ix->rows[i].pipes][0])
			ix->readers[n++] =
				(struct keyed_row){ix->pipes[ix->rows[i].pipes][0], (int64_t)i, i};
	qsort(ix->readers, ix->nreaders, sizeof(*ix->readers), by_keys);
}

static int read_rows(struct capture *cap, struct process_index *ix)
{
	char sql[640];
	sqlite3_stmt *stmt;
	size_t allocated = 0, side_allocated[2] = {0};
	int rc;

	/* Captures of recorders before the streams, the pipes or the parents' connections: NULL. */
	snprintf(sql, sizeof(sql),
		 "SELECT pid, start_ns, t, seq, ppid, how = 'fork', comm, how = 'exec', uid, exe, "
		 "exe_deleted, exe_world_writable, %s, %s, %s FROM process",
		 capture_has_column(cap, "process", "stdin")
			 ? "stdin, stdout, stderr, tcp_laddr, tcp_lport, tcp_raddr, tcp_rport"
			 : "NULL, NULL, NULL, NULL, NULL, NULL, NULL",
		 capture_has_column(cap, "process", "stdin_pipe")
			 ? "stdin_pipe, stdout_pipe, stderr_pipe"
			 : "NULL, NULL, NULL",
		 capture_has_column(cap, "process", "parent_tcp_laddr")
			 ? "parent_tcp_laddr, parent_tcp_lport, parent_tcp_raddr, parent_tcp_rport"
			 : "NULL, NULL, NULL, NULL");
	if (sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return read_failed(cap, "process");
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct proc_row *r;
		int len = sqlite3_column_bytes(stmt, 6);
		const char *exe = (const char *)sqlite3_column_blob(stmt, 9);

		if (ix->nrows == allocated) {
			allocated = allocated ? 2 * allocated : 256;
			ix->rows = xrealloc(ix->rows, allocated * sizeof(*ix->rows));
		}
		r = &ix->rows[ix->nrows++];
		*r = (struct proc_row){
			.pid = sqlite3_column_int64(stmt, 0),
			.start_ns = sqlite3_column_int64(stmt, 1),
			.t = sqlite3_column_int64(stmt, 2),
			.seq = sqlite3_column_int64(stmt, 3),
			.ppid = sqlite3_column_int64(stmt, 4),
			.uid = sqlite3_column_int64(stmt, 8),
			.fork = sqlite3_column_int(stmt, 5) != 0,
			.exec = sqlite3_column_int(stmt, 7) != 0,
			.has_exe = exe != NULL,
			.exe_deleted = sqlite3_column_int(stmt, 10) == 1,
			.world_writable = sqlite3_column_int(stmt, 11) == 1,
			.default_name =
				exe && default_name(exe, (size_t)sqlite3_column_bytes(stmt, 9)),
			.comm_len = (uint8_t)(len < COMM_MAX ? len : COMM_MAX),
			.exit_t = INT64_MAX,
			.exit_uid = -1,
		};
		if (r->comm_len)
			memcpy(r->comm, sqlite3_column_blob(stmt, 6), r->comm_len);
		read_streams(stmt, ix, r, side_allocated);
		for (int i = 0; i < 5; i++) {
			if (sqlite3_column_type(stmt, i) != SQLITE_INTEGER) {
				sqlite3_finalize(stmt);
				return corrupt(cap, "a number that is not one");
			}
		}
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return read_failed(cap, "process");
	if (ix->nrows) { /* rows is NULL otherwise */
		/* Held to the end: not a quarter more than the rows. */
		ix->rows = xrealloc(ix->rows, ix->nrows * sizeof(*ix->rows));
		qsort(ix->rows, ix->nrows, sizeof(*ix->rows), by_key);
	}
	if (read_exits(cap, ix))
		return -1;
	index_births(ix);
	index_readers(ix);
	return 0;
}

static void drop_index(struct process_index *ix)
{
	if (ix && --ix->refs == 0) {
		free(ix->rows);
		free(ix->births);
		free(ix->tcps);
		free(ix->pipes);
		free(ix->readers);
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

static char *put_bytes(char *p, const void *bytes, size_t len)
{
	if (len)
		memcpy(p, bytes, len);
	return p + len;
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

/*
 * The image of a row: the texts from the row of its executable (for a fork
 * its parent's), the rest from the index.  One read of the table, by its key.
 */
static int fill_slot(struct capture *cap, struct capture_lineage *l, size_t row, struct slot *s)
{
	static const char sql[] = "SELECT exe, args FROM process WHERE t = ? AND seq = ?";
	const struct process_index *ix = l->index;
	const struct proc_row *r = &ix->rows[row];
	size_t source = exec_row(ix, row), exe_len = 0, args_len, need;
	const struct proc_row *q = &ix->rows[source == SIZE_MAX ? row : source];
	const char *exe = NULL, *args;
	struct image *im = &s->image;
	char *p;
	int rc;

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
	if (source != SIZE_MAX)
		exe = (const char *)sqlite3_column_blob(l->details, DETAIL_EXE);
	exe_len = exe ? (size_t)sqlite3_column_bytes(l->details, DETAIL_EXE) : 0;
	args = (const char *)sqlite3_column_blob(l->details, DETAIL_ARGS);
	args_len = (size_t)sqlite3_column_bytes(l->details, DETAIL_ARGS);
	if (sqlite3_column_type(l->details, DETAIL_ARGS) == SQLITE_NULL)
		args = NULL;
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

int lineage_pipe_reader(struct capture *cap, int64_t pipe, size_t *cursor, int64_t *pid,
			int64_t *start_ns, int64_t *t)
{
	struct capture_lineage *l = lineage_of(cap);
	const struct process_index *ix;
	size_t i;

	if (!l)
		return -1;
	ix = l->index;
	i = *cursor;
	if (i == 0) { /* the first reader of pipe */
		size_t lo = 0, hi = ix->nreaders;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (ix->readers[mid].key < pipe)
				lo = mid + 1;
			else
				hi = mid;
		}
		i = lo;
	} else {
		i--;
	}
	if (!pipe || i >= ix->nreaders || ix->readers[i].key != pipe)
		return 0;
	*cursor = i + 2;
	*pid = ix->rows[ix->readers[i].row].pid;
	*start_ns = ix->rows[ix->readers[i].row].start_ns;
	*t = ix->rows[ix->readers[i].row].t;
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
