/* The capture file as the recorder writes it. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "capture.h"
#include "kinds.h"
#include "schema.h"
#include "util.h"

/* The TABLEs of kinds.def: what capture_add_connect()... write into. */
enum capture_table {
#define TABLE(name, table, COLUMNS) TABLE_##name,
#include "kinds.def"
	CAPTURE_TABLES,
};

/* Each TABLE's name and columns (", t, seq, ..."): what its INSERT names. */
static const struct table_sql {
	const char *table, *columns;
	int count;
} tables[CAPTURE_TABLES] = {
#define INT(column)		    ", " #column
#define TEXT(column)		    ", " #column
#define TABLE(name, table, COLUMNS) [TABLE_##name] = {table, COLUMNS, COLUMNS_##name},
#include "kinds.def"
#undef INT
#undef TEXT
};

/*
 * A TABLE whose columns are all INT is written ROWS_PER_BATCH rows to an
 * INSERT: SQLite's cost per statement run (opening the b-tree, the VDBE's
 * start and halt) is most of a small row's, and a capability storm writes
 * 1.5M rows a second (bench: 1.62M rows per CPU-second one by one, 2.67M 64
 * at a time).  Its rows wait in memory meanwhile; they are written before
 * every commit and before anything reads or updates their table.  A TABLE
 * with TEXT columns is written at once: its texts are the caller's, for the
 * call's time only.
 */
#define ROWS_PER_BATCH 64

enum table_texts {
#define INT(column)		    +0
#define TEXT(column)		    +1
#define TABLE(name, table, COLUMNS) TEXTS_##name = 0 COLUMNS,
#include "kinds.def"
#undef INT
#undef TEXT
};

/* A batched table's row is its values, in the order of its columns. */
#define TABLE(name, table, COLUMNS)                                                                \
	_Static_assert(TEXTS_##name ||                                                             \
			       sizeof(struct name##_row) == COLUMNS_##name * sizeof(int64_t),      \
		       "TABLE(" #name "): an all-INT row is an array of values");
#include "kinds.def"

static const bool batched[CAPTURE_TABLES] = {
#define TABLE(name, table, COLUMNS) [TABLE_##name] = TEXTS_##name == 0,
#include "kinds.def"
};

/* The rows of a batched table not inserted yet. */
struct batch {
	sqlite3_stmt *insert; /* ROWS_PER_BATCH rows at once */
	int64_t *values;      /* ROWS_PER_BATCH rows of the table's columns */
	int64_t *bound;	      /* the values insert's parameters hold: see bind_changed() */
	int rows;
};

struct capture {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *rows[CAPTURE_TABLES]; /* one row */
	struct batch batches[CAPTURE_TABLES];
	sqlite3_stmt *set_outcome;
	sqlite3_stmt *insert_task;
	sqlite3_stmt *insert_address;
	sqlite3_stmt *insert_cgroup;
	sqlite3_stmt *update_kind;
	sqlite3_stmt *update_commit_time;
	sqlite3_stmt *page_count;
	int64_t page_size;
	sqlite3_stmt *insert_module;
	sqlite3_stmt *insert_stack;
	sqlite3_stmt *insert_frame;
	sqlite3_stmt *set_loss;
	sqlite3_stmt *insert_process_loss;
	sqlite3_stmt *set_skipped;
};

/* One line on stderr: what could not be done to the capture, and why. */
static int fail(const struct capture *cap, const char *what)
{
	fprintf(stderr, "record: cannot %s %s: %s\n", what, cap->path, sqlite3_errmsg(cap->db));
	return -1;
}

static int exec(struct capture *cap, const char *sql, const char *what)
{
	return sqlite3_exec(cap->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : fail(cap, what);
}

static char *sibling_path(const char *path, const char *suffix)
{
	char *name = xmalloc(strlen(path) + strlen(suffix) + 1);

	return strcat(strcpy(name, path), suffix);
}

static const char *const sqlite_siblings[] = {"-wal", "-shm", "-journal"};

/* "a directory": what a file that is not a regular one is, for a message. */
static const char *file_kind(mode_t mode)
{
	return S_ISDIR(mode)	? "a directory"
	       : S_ISLNK(mode)	? "a symbolic link"
	       : S_ISFIFO(mode) ? "a FIFO"
	       : S_ISCHR(mode)	? "a character device"
	       : S_ISBLK(mode)	? "a block device"
	       : S_ISSOCK(mode) ? "a socket"
				: "not a regular file";
}

/* Whether the open file starts as a Casefile capture: SQLite's header, our application id. */
static bool is_capture(int fd)
{
	static const char magic[16] = "SQLite format 3";
	unsigned char header[100];

	return pread(fd, header, sizeof(header), 0) == (ssize_t)sizeof(header) &&
	       !memcmp(header, magic, sizeof(magic)) &&
	       ((uint32_t)header[68] << 24 | (uint32_t)header[69] << 16 |
		(uint32_t)header[70] << 8 | header[71]) == CAPTURE_APPLICATION_ID;
}

/*
 * Remove what is at path for -f: nothing, or a regular file, and a capture
 * unless -ff; never a device or a directory (record -f -o /dev/null as root
 * removed /dev/null); a symbolic link itself (never its target) only with
 * -ff.  A sibling (-wal...) need not be a capture.
 */
static int remove_old(const char *path, enum replace replace, bool sibling)
{
	const char *refusal = NULL, *hint = ", not a capture file";
	struct stat st, again;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "record: cannot replace %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode) && replace < REPLACE_ANY_FILE) {
		refusal = "a symbolic link";
		hint = " (use -ff to replace the link itself)";
	} else if (!S_ISLNK(st.st_mode) && !S_ISREG(st.st_mode)) {
		refusal = file_kind(st.st_mode);
	} else if (S_ISREG(st.st_mode) && !sibling && replace < REPLACE_ANY_FILE) {
		int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

		if (fd < 0 || !is_capture(fd)) {
			refusal = "not a Casefile capture";
			hint = " (use -ff to replace it anyway)";
		}
		if (fd >= 0)
			close(fd);
	}
	if (refusal) {
		fprintf(stderr, "record: cannot replace %s: it is %s%s\n", path, refusal, hint);
		return -1;
	}
	/* The file checked must be the one removed. */
	errno = 0;
	if (lstat(path, &again) || again.st_ino != st.st_ino || again.st_dev != st.st_dev ||
	    unlink(path)) {
		fprintf(stderr, "record: cannot replace %s: %s\n", path,
			errno ? strerror(errno) : "it changed while being checked");
		return -1;
	}
	return 0;
}

/*
 * A leftover journal next to a new capture would be replayed into it: refuse
 * one unless replacing, in which case it goes with the old file.
 */
static int clear_siblings(const char *path, enum replace replace)
{
	for (size_t i = 0; i < ARRAY_SIZE(sqlite_siblings); i++) {
		char *sibling = sibling_path(path, sqlite_siblings[i]);
		struct stat st;
		int err = 0;

		if (replace) {
			err = remove_old(sibling, replace, true);
		} else if (!lstat(sibling, &st)) {
			fprintf(stderr,
				"record: cannot create %s: %s exists (use -f to replace both)\n",
				path, sibling);
			err = -1;
		}
		free(sibling);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Create a file of ours, mode 0600, not following a link, refusing one
 * that exists (one planted by another user).
 */
static int create_exclusive(const char *path, struct stat *created)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0) {
		fprintf(stderr, "record: cannot create %s: %s%s\n", path, strerror(errno),
			errno == EEXIST ? " (use -f to replace it)" : "");
		return -1;
	}
	if (created)
		fstat(fd, created);
	close(fd);
	return 0;
}

/*
 * Create the file ourselves: mode 0600, no symlink, no silent overwrite.
 * Its -wal and -shm first: SQLite would open them with O_CREAT but not
 * O_EXCL, so another user able to write the directory (/tmp) could plant
 * them, or create and hold the -shm the moment the file appears, and keep
 * the recorder from starting ("database is locked").  Created here first,
 * they are ours; SQLite opens them as they are.
 */
static int create_file(const char *path, enum replace replace, struct stat *created)
{
	static const char *const ours[] = {"-wal", "-shm"};
	size_t made = 0;

	if ((replace && remove_old(path, replace, false)) || clear_siblings(path, replace))
		return -1;
	for (; made < ARRAY_SIZE(ours); made++) {
		char *sibling = sibling_path(path, ours[made]);
		int err = create_exclusive(sibling, NULL);

		free(sibling);
		if (err)
			break;
	}
	if (made == ARRAY_SIZE(ours) && !create_exclusive(path, created))
		return 0;
	while (made--) {
		char *sibling = sibling_path(path, ours[made]);

		unlink(sibling);
		free(sibling);
	}
	return -1;
}

static int prepare(struct capture *cap, const char *sql, sqlite3_stmt **stmt)
{
	if (sqlite3_prepare_v3(cap->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL) !=
	    SQLITE_OK)
		return fail(cap, "prepare statements for");
	return 0;
}

/*
 * "INSERT INTO ev_accept (t, seq, ...) VALUES (?, ?, ...), (?, ?, ...)...",
 * rows rows at once, for a TABLE of kinds.def.
 */
static int prepare_insert(struct capture *cap, const struct table_sql *table, int rows,
			  sqlite3_stmt **stmt)
{
	size_t size = strlen(table->table) + strlen(table->columns) +
		      (size_t)rows * (3 * (size_t)table->count + 4) + 32;
	char *sql = xmalloc(size), *p;
	int err;

	/* The column list begins with ", ". */
	p = sql +
	    snprintf(sql, size, "INSERT INTO %s (%s) VALUES ", table->table, table->columns + 2);
	for (int row = 0; row < rows; row++) {
		p = stpcpy(p, row ? ", (?" : "(?");
		for (int i = 1; i < table->count; i++)
			p = stpcpy(p, ", ?");
		p = stpcpy(p, ")");
	}
	err = prepare(cap, sql, stmt);
	free(sql);
	return err;
}

static int prepare_all(struct capture *cap)
{
	for (int i = 0; i < CAPTURE_TABLES; i++) {
		struct batch *batch = &cap->batches[i];

		if (prepare_insert(cap, &tables[i], 1, &cap->rows[i]))
			return -1;
		if (!batched[i])
			continue;
		if (prepare_insert(cap, &tables[i], ROWS_PER_BATCH, &batch->insert))
			return -1;
		batch->values = xmalloc(ROWS_PER_BATCH * (size_t)tables[i].count * sizeof(int64_t));
		/* A statement's parameters start NULL. */
		batch->bound = xmalloc(ROWS_PER_BATCH * (size_t)tables[i].count * sizeof(int64_t));
		for (int v = 0; v < ROWS_PER_BATCH * tables[i].count; v++)
			batch->bound[v] = CAPTURE_NULL;
	}
	return prepare(cap,
		       "UPDATE ev_connect SET lport = coalesce(?1, lport), outcome_state = ?2, "
		       "error = ?3, latency_ns = ?4 WHERE t = ?5 AND seq = ?6",
		       &cap->set_outcome) ||
	       prepare(cap,
		       "INSERT INTO task (pid, tid, start_ns, ppid, uid, comm, cgroup, mntns, "
		       "netns, nspid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		       &cap->insert_task) ||
	       prepare(cap, "INSERT INTO address (ip, addr) VALUES (?, ?)", &cap->insert_address) ||
	       /* Once per id and file; a second time when the recorder forgot it wrote it. */
	       prepare(cap, "INSERT OR IGNORE INTO cgroup (id, path) VALUES (?, ?)",
		       &cap->insert_cgroup) ||
	       prepare(cap, "UPDATE event_kind SET recorded = ?, lost = ? WHERE name = ?",
		       &cap->update_kind) ||
	       prepare(cap, "UPDATE capture SET last_commit_at_ns = ?", &cap->update_commit_time) ||
	       /*
		* Compiled again at every run all the same (SQLite expires a
		* pragma's statement once run), as pragma_page_count is: the
		* recorder asks only under a size limit (check_size()).
		*/
	       prepare(cap, "PRAGMA page_count", &cap->page_count) ||
	       prepare(cap, "INSERT INTO module (name, build_id, deleted) VALUES (?, ?, ?)",
		       &cap->insert_module) ||
	       prepare(cap, "INSERT INTO stack (user, frames, cut_at) VALUES (?, ?, ?)",
		       &cap->insert_stack) ||
	       prepare(cap,
		       "INSERT INTO stack_frame (stack, depth, ip, module, offset, symbol, "
		       "symbol_offset) VALUES (?, ?, ?, ?, ?, ?, ?)",
		       &cap->insert_frame) ||
	       prepare(cap,
		       "INSERT INTO loss (kind, first_t, last_t, count) VALUES (?1, ?2, ?3, ?4) "
		       "ON CONFLICT (kind, first_t) DO UPDATE SET last_t = ?3, count = ?4",
		       &cap->set_loss) ||
	       prepare(cap,
		       "INSERT INTO process_loss (kind, pid, start_ns, comm, count) "
		       "VALUES (?, ?, ?, ?, ?)",
		       &cap->insert_process_loss) ||
	       prepare(cap,
		       "INSERT INTO skipped_run (program, kinds, runs) VALUES (?1, ?2, ?3) "
		       "ON CONFLICT (program) DO UPDATE SET runs = ?3",
		       &cap->set_skipped);
}

/* The page size, fixed once the schema is written (WAL): capture_content_bytes() counts pages. */
static int read_page_size(struct capture *cap)
{
	sqlite3_stmt *stmt;
	int rc;

	if (prepare(cap, "PRAGMA page_size", &stmt))
		return -1;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		cap->page_size = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 0 : fail(cap, "read the page size of");
}

struct capture *capture_create(const char *path, enum replace replace)
{
	struct capture *cap;
	struct stat created, opened;

	if (create_file(path, replace, &created))
		return NULL;
	cap = xcalloc(1, sizeof(*cap));
	cap->path = xstrdup(path);
	/*
	 * One thread uses SQLite (the image watcher never does): its mutexes and
	 * allocation statistics cost about a tenth of each row (bench, callgrind).
	 * Only possible before SQLite's first use, which this is; later calls do
	 * nothing.
	 */
	sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (sqlite3_open_v2(path, &cap->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) !=
	    SQLITE_OK) {
		fail(cap, "open");
		goto discard;
	}
	/* The file SQLite opened must be the one just created, not a swapped-in one. */
	if (stat(path, &opened) || opened.st_ino != created.st_ino ||
	    opened.st_dev != created.st_dev) {
		fprintf(stderr, "record: cannot open %s: replaced while being created\n", path);
		capture_close(cap, false);
		return NULL;
	}
	/*
	 * WAL: a commit appends to the log, and a crash keeps every committed
	 * batch.  synchronous=NORMAL syncs at checkpoints, not at each commit:
	 * a killed recorder loses nothing committed, a power cut at most the
	 * last batches, and the file stays consistent either way.  Into WAL
	 * and out of it (at the stop) by way of an in-memory journal: the one
	 * write each switch makes (the header's format bytes) then needs no
	 * -journal file, which another user could plant or hold.
	 */
	if (exec(cap,
		 "PRAGMA journal_mode = MEMORY; PRAGMA journal_mode = WAL; "
		 "PRAGMA synchronous = NORMAL;"
		 "PRAGMA cache_size = -16384;",
		 "configure") ||
	    exec(cap, casefile_schema_sql, "write the schema into") || prepare_all(cap) ||
	    read_page_size(cap))
		goto discard;
	return cap;
discard:
	capture_close(cap, true);
	return NULL;
}

/* The first line of a small file, such as /proc/sys/kernel/random/boot_id. */
static void read_line(const char *file, char *buf, size_t size)
{
	FILE *f = fopen(file, "re");

	buf[0] = '\0';
	if (f) {
		if (fgets(buf, (int)size, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
}

static void bind_value(sqlite3_stmt *stmt, int index, int64_t value)
{
	if (value == CAPTURE_NULL)
		sqlite3_bind_null(stmt, index);
	else
		sqlite3_bind_int64(stmt, index, value);
}

static int write_setup(struct capture *cap, const struct capture_setup *setup)
{
	static const char sql[] =
		"INSERT INTO capture (id, tool_version, hostname, kernel_release, kernel_version, "
		"machine, boot_id, command_line, event_kinds, filter_pid, filter_uid, "
		"ring_buffer_bytes, recorder_pid, part, base_ns, realtime_offset_ns, "
		"started_at_ns, last_commit_at_ns, netns) "
		"VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	int64_t started_at = setup->started_at_ns;
	struct utsname uts;
	char boot_id[64];
	sqlite3_stmt *stmt;
	int rc;

	uname(&uts);
	read_line("/proc/sys/kernel/random/boot_id", boot_id, sizeof(boot_id));
	if (prepare(cap, sql, &stmt))
		return -1;
	sqlite3_bind_text(stmt, 1, CASEFILE_VERSION, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, uts.nodename, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 3, uts.release, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 4, uts.version, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 5, uts.machine, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 6, boot_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 7, setup->command_line, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 8, setup->event_kinds, -1, SQLITE_STATIC);
	bind_value(stmt, 9, setup->filter_pid < 0 ? CAPTURE_NULL : setup->filter_pid);
	bind_value(stmt, 10, setup->filter_uid < 0 ? CAPTURE_NULL : setup->filter_uid);
	sqlite3_bind_int64(stmt, 11, setup->ring_buffer_bytes);
	sqlite3_bind_int64(stmt, 12, getpid());
	sqlite3_bind_int(stmt, 13, setup->part);
	sqlite3_bind_int64(stmt, 14, setup->base_ns);
	sqlite3_bind_int64(stmt, 15, setup->realtime_offset_ns);
	sqlite3_bind_int64(stmt, 16, started_at);
	sqlite3_bind_int64(stmt, 17, started_at);
	sqlite3_bind_int64(stmt, 18, setup->netns);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : fail(cap, "write the capture's metadata into");
}

static int write_kinds(struct capture *cap, const struct capture_setup *setup)
{
	sqlite3_stmt *stmt;
	int rc = SQLITE_DONE;

	if (prepare(cap, "INSERT INTO event_kind (name, enabled, mechanism) VALUES (?, ?, ?)",
		    &stmt))
		return -1;
	for (int i = 0; i < RECORD_TYPES && rc == SQLITE_DONE; i++) {
		sqlite3_bind_text(stmt, 1, record_type_names[i], -1, SQLITE_STATIC);
		sqlite3_bind_int(stmt, 2, setup->record_type_enabled[i]);
		sqlite3_bind_text(stmt, 3, setup->mechanism[i], -1, SQLITE_STATIC);
		rc = sqlite3_step(stmt);
		sqlite3_reset(stmt);
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : fail(cap, "write the event kinds into");
}

int capture_start(struct capture *cap, const struct capture_setup *setup)
{
	if (exec(cap, "BEGIN", "write") || write_setup(cap, setup) || write_kinds(cap, setup))
		return -1;
	return exec(cap, "COMMIT; BEGIN", "write");
}

int capture_add_reset_reason(struct capture *cap, int64_t reason, const char *name)
{
	sqlite3_stmt *stmt;
	int rc;

	if (prepare(cap, "INSERT OR REPLACE INTO reset_reason (reason, name) VALUES (?, ?)", &stmt))
		return -1;
	sqlite3_bind_int64(stmt, 1, reason);
	sqlite3_bind_text(stmt, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : fail(cap, "write reset reasons into");
}

/* Run a bound statement and make it ready for the next values. */
static int step(struct capture *cap, sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);

	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : fail(cap, "write to");
}

/* Step a bound insert and hand back the new row's id. */
static int64_t insert_row(struct capture *cap, sqlite3_stmt *stmt)
{
	return step(cap, stmt) ? -1 : sqlite3_last_insert_rowid(cap->db);
}

int64_t capture_add_task(struct capture *cap, const struct task_ctx *task)
{
	sqlite3_stmt *stmt = cap->insert_task;

	sqlite3_bind_int64(stmt, 1, task->pid);
	sqlite3_bind_int64(stmt, 2, task->tid);
	sqlite3_bind_int64(stmt, 3, process_start_ns(task->start_ns));
	sqlite3_bind_int64(stmt, 4, task->ppid);
	sqlite3_bind_int64(stmt, 5, task->uid);
	sqlite3_bind_text(stmt, 6, task->comm, (int)strnlen(task->comm, COMM_LEN), SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 7, (int64_t)task->cgroup_id);
	sqlite3_bind_int64(stmt, 8, task->mntns_id);
	sqlite3_bind_int64(stmt, 9, task->netns_id);
	sqlite3_bind_int64(stmt, 10, task->nspid);
	return insert_row(cap, stmt);
}

int capture_add_cgroup(struct capture *cap, int64_t id, const char *path)
{
	sqlite3_bind_int64(cap->insert_cgroup, 1, id);
	sqlite3_bind_text(cap->insert_cgroup, 2, path, -1, SQLITE_STATIC);
	return step(cap, cap->insert_cgroup);
}

int64_t capture_add_address(struct capture *cap, int ip_version, const char *text)
{
	sqlite3_bind_int(cap->insert_address, 1, ip_version);
	sqlite3_bind_text(cap->insert_address, 2, text, -1, SQLITE_STATIC);
	return insert_row(cap, cap->insert_address);
}

int64_t process_start_ns(uint64_t start_ns)
{
	return (int64_t)(start_ns - start_ns % PROC_TICK_NS);
}

static void bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
	sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
}

/* Bind values of rows rows (columns each) to stmt's parameters, from the first. */
static void bind_values(sqlite3_stmt *stmt, const int64_t *values, int rows, int columns)
{
	for (int i = 0; i < rows * columns; i++)
		bind_value(stmt, i + 1, values[i]);
}

/* Insert the rows of a batched table still waiting, one by one: fewer than a batch. */
static int flush_table(struct capture *cap, int table)
{
	struct batch *batch = &cap->batches[table];
	int columns = tables[table].count;

	for (int row = 0; row < batch->rows; row++) {
		bind_values(cap->rows[table], batch->values + row * columns, 1, columns);
		if (step(cap, cap->rows[table])) {
			batch->rows = 0;
			return -1;
		}
	}
	batch->rows = 0;
	return 0;
}

static int flush_batches(struct capture *cap)
{
	for (int i = 0; i < CAPTURE_TABLES; i++)
		if (batched[i] && flush_table(cap, i))
			return -1;
	return 0;
}

/*
 * Bind the values that differ from those the parameters hold: a statement
 * keeps its bindings from one run to the next, and most columns of a batch's
 * rows (addresses, ports, task, states...) are those of the batch before.
 * A binding costs about a tenth of a row's insert (bench: TCP churn).
 */
static void bind_changed(sqlite3_stmt *stmt, const int64_t *values, int64_t *bound, int count)
{
	for (int i = 0; i < count; i++) {
		if (values[i] == bound[i])
			continue;
		bind_value(stmt, i + 1, values[i]);
		bound[i] = values[i];
	}
}

/* Add a row of a batched table; a full batch is inserted. */
static int batch_row(struct capture *cap, int table, const int64_t *values)
{
	struct batch *batch = &cap->batches[table];
	int columns = tables[table].count;

	memcpy(batch->values + batch->rows * columns, values, (size_t)columns * sizeof(*values));
	if (++batch->rows < ROWS_PER_BATCH)
		return 0;
	batch->rows = 0;
	bind_changed(batch->insert, batch->values, batch->bound, ROWS_PER_BATCH * columns);
	return step(cap, batch->insert);
}

/* capture_add_connect()...: each column of the row bound in the order of the list. */
#define INT(column)  bind_value(stmt, ++index, row->column);
#define TEXT(column) bind_text(stmt, ++index, row->column);
#define TABLE(name, table, COLUMNS)                                                                \
	int capture_add_##name(struct capture *cap, const struct name##_row *row)                  \
	{                                                                                          \
		sqlite3_stmt *stmt = cap->rows[TABLE_##name];                                      \
		int index = 0;                                                                     \
                                                                                                   \
		if (batched[TABLE_##name])                                                         \
			return batch_row(cap, TABLE_##name, (const int64_t *)row);                 \
		COLUMNS                                                                            \
		return step(cap, stmt);                                                            \
	}
#include "kinds.def"
#undef INT
#undef TEXT

int capture_set_outcome(struct capture *cap, const struct connect_outcome *outcome)
{
	sqlite3_stmt *stmt = cap->set_outcome;

	if (flush_table(cap, TABLE_connect)) /* its row may still wait for its batch */
		return -1;

	bind_value(stmt, 1, outcome->lport);
	bind_value(stmt, 2, outcome->outcome_state);
	bind_value(stmt, 3, outcome->error);
	bind_value(stmt, 4, outcome->latency_ns);
	bind_value(stmt, 5, outcome->t);
	bind_value(stmt, 6, outcome->seq);
	return step(cap, stmt);
}

int64_t capture_add_module(struct capture *cap, const char *name, const char *build_id,
			   bool deleted)
{
	sqlite3_bind_text(cap->insert_module, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(cap->insert_module, 2, build_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(cap->insert_module, 3, deleted);
	return insert_row(cap, cap->insert_module);
}

int64_t capture_add_stack(struct capture *cap, bool user, int frames, int64_t cut_at)
{
	sqlite3_bind_int(cap->insert_stack, 1, user);
	sqlite3_bind_int(cap->insert_stack, 2, frames);
	bind_value(cap->insert_stack, 3, cut_at);
	return insert_row(cap, cap->insert_stack);
}

int capture_module_frames(struct capture *cap, int64_t module, struct frame_row **frames,
			  size_t *count)
{
	static const char sql[] = "SELECT stack, depth, ip FROM stack_frame WHERE module = ?";
	sqlite3_stmt *stmt;
	int rc = sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL);

	*frames = NULL;
	*count = 0;
	if (rc == SQLITE_OK)
		sqlite3_bind_int64(stmt, 1, module);
	while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*frames = xrealloc(*frames, (*count + 1) * sizeof(**frames));
		(*frames)[(*count)++] = (struct frame_row){
			.stack = sqlite3_column_int64(stmt, 0),
			.depth = sqlite3_column_int64(stmt, 1),
			.ip = sqlite3_column_int64(stmt, 2),
			.module = module,
		};
		rc = SQLITE_OK;
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : fail(cap, "read the frames of");
}

int capture_rename_frame(struct capture *cap, const struct frame_row *frame)
{
	static const char sql[] = "UPDATE stack_frame SET module = ?, offset = ?, symbol = ?, "
				  "symbol_offset = ? WHERE stack = ? AND depth = ?";
	sqlite3_stmt *stmt;
	int rc = sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL);

	if (rc == SQLITE_OK) {
		bind_value(stmt, 1, frame->module);
		bind_value(stmt, 2, frame->offset);
		sqlite3_bind_text(stmt, 3, frame->symbol, -1, SQLITE_STATIC);
		bind_value(stmt, 4, frame->symbol_offset);
		sqlite3_bind_int64(stmt, 5, frame->stack);
		sqlite3_bind_int64(stmt, 6, frame->depth);
		rc = sqlite3_step(stmt);
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : fail(cap, "name the frames of");
}

int capture_add_frame(struct capture *cap, const struct frame_row *frame)
{
	sqlite3_stmt *stmt = cap->insert_frame;

	sqlite3_bind_int64(stmt, 1, frame->stack);
	sqlite3_bind_int64(stmt, 2, frame->depth);
	sqlite3_bind_int64(stmt, 3, frame->ip);
	bind_value(stmt, 4, frame->module);
	bind_value(stmt, 5, frame->offset);
	sqlite3_bind_text(stmt, 6, frame->symbol, -1, SQLITE_STATIC);
	bind_value(stmt, 7, frame->symbol_offset);
	return step(cap, stmt);
}

int capture_set_loss(struct capture *cap, enum record_type type, int64_t first_t, int64_t last_t,
		     uint64_t count)
{
	sqlite3_stmt *stmt = cap->set_loss;

	sqlite3_bind_text(stmt, 1, record_type_names[type], -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, first_t);
	sqlite3_bind_int64(stmt, 3, last_t);
	sqlite3_bind_int64(stmt, 4, (int64_t)count);
	return step(cap, stmt);
}

int capture_clear_process_losses(struct capture *cap)
{
	return exec(cap, "DELETE FROM process_loss", "write to");
}

int capture_add_process_loss(struct capture *cap, const struct process_loss_row *row)
{
	sqlite3_stmt *stmt = cap->insert_process_loss;

	sqlite3_bind_text(stmt, 1, record_type_names[row->type], -1, SQLITE_STATIC);
	bind_value(stmt, 2, row->pid);
	bind_value(stmt, 3, row->start_ns);
	if (row->comm)
		sqlite3_bind_text(stmt, 4, row->comm, (int)strnlen(row->comm, COMM_LEN),
				  SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 4);
	sqlite3_bind_int64(stmt, 5, (int64_t)row->count);
	return step(cap, stmt);
}

int capture_set_skipped_runs(struct capture *cap, const char *program, const char *kinds,
			     uint64_t runs)
{
	sqlite3_stmt *stmt = cap->set_skipped;

	sqlite3_bind_text(stmt, 1, program, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, kinds, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, (int64_t)runs);
	return step(cap, stmt);
}

static int write_counts(struct capture *cap, const uint64_t recorded[RECORD_TYPES],
			const uint64_t lost[RECORD_TYPES])
{
	sqlite3_stmt *stmt = cap->update_kind;

	for (int i = 0; i < RECORD_TYPES; i++) {
		sqlite3_bind_int64(stmt, 1, (int64_t)recorded[i]);
		sqlite3_bind_int64(stmt, 2, (int64_t)lost[i]);
		sqlite3_bind_text(stmt, 3, record_type_names[i], -1, SQLITE_STATIC);
		if (step(cap, stmt))
			return -1;
	}
	sqlite3_bind_int64(cap->update_commit_time, 1, clock_ns(CLOCK_REALTIME));
	return step(cap, cap->update_commit_time);
}

int capture_commit(struct capture *cap, const uint64_t recorded[RECORD_TYPES],
		   const uint64_t lost[RECORD_TYPES])
{
	if (flush_batches(cap) || write_counts(cap, recorded, lost))
		return -1;
	return exec(cap, "COMMIT; BEGIN", "commit to");
}

int capture_finish(struct capture *cap, const char *stop_reason,
		   const uint64_t recorded[RECORD_TYPES], const uint64_t lost[RECORD_TYPES],
		   bool (*asked_again)(void))
{
	sqlite3_stmt *stmt;
	int rc;

	if (flush_batches(cap) || write_counts(cap, recorded, lost) ||
	    prepare(cap,
		    "UPDATE capture SET stopped_at_ns = ?, stop_reason = ?, clean_stop = 1, "
		    "last_commit_at_ns = ?1",
		    &stmt))
		return -1;
	sqlite3_bind_int64(stmt, 1, clock_ns(CLOCK_REALTIME));
	sqlite3_bind_text(stmt, 2, stop_reason, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return fail(cap, "write the stop into");
	if (exec(cap, "COMMIT", "close"))
		return -1;
	/*
	 * Out of WAL: the capture becomes one file to copy.  A reader (report
	 * --follow, sqlite3) holding the file makes this busy, and
	 * busy_timeout does not apply to it: wait.  A follower's pass lets go
	 * between polls, but on a loaded host one pass can take seconds: say
	 * what the wait is for after 5 s, give up after a minute or when asked
	 * to stop again (everything is committed: the capture and its -wal are
	 * then whole, together).
	 */
	for (int tries = 0;; tries++) {
		rc = sqlite3_exec(cap->db, "PRAGMA journal_mode = MEMORY", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if (rc != SQLITE_BUSY)
			return fail(cap, "close");
		if (tries == 6000 || (asked_again && asked_again())) {
			fprintf(stderr,
				"record: %s is still being read (%s): left with its -wal "
				"beside it, keep both: together they are the whole capture\n",
				cap->path,
				tries == 6000 ? "a minute passed" : "asked again to stop");
			return -1;
		}
		if (tries == 500)
			fprintf(stderr,
				"record: %s is being read (report --follow?): waiting for the "
				"reader to let go, up to a minute, to close it\n",
				cap->path);
		usleep(10000);
	}
}

int64_t capture_size(const struct capture *cap)
{
	char *wal = sibling_path(cap->path, "-wal");
	struct stat st;
	int64_t size = 0;

	if (!stat(cap->path, &st))
		size += st.st_size;
	if (!stat(wal, &st))
		size += st.st_size;
	free(wal);
	return size;
}

int64_t capture_content_bytes(struct capture *cap)
{
	sqlite3_stmt *stmt = cap->page_count;
	int64_t pages = 0;

	if (sqlite3_step(stmt) == SQLITE_ROW)
		pages = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return pages * cap->page_size;
}

void capture_abandon(struct capture *cap, const char *error)
{
	sqlite3_stmt *stmt;
	char reason[256];

	snprintf(reason, sizeof(reason), "error: %s", error ? error : sqlite3_errmsg(cap->db));
	/* The failed batch's log frames are reused: a small write fits where it did not. */
	for (int i = 0; i < CAPTURE_TABLES; i++)
		cap->batches[i].rows = 0;
	sqlite3_exec(cap->db, "ROLLBACK", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(cap->db, "UPDATE capture SET stop_reason = ?", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return;
	sqlite3_bind_text(stmt, 1, reason, -1, SQLITE_STATIC);
	sqlite3_step(stmt);
	sqlite3_finalize(stmt);
}

void capture_close(struct capture *cap, bool discard)
{
	if (!cap)
		return;
	for (int i = 0; i < CAPTURE_TABLES; i++) {
		sqlite3_finalize(cap->rows[i]);
		sqlite3_finalize(cap->batches[i].insert);
		free(cap->batches[i].values);
		free(cap->batches[i].bound);
	}
	sqlite3_finalize(cap->set_outcome);
	sqlite3_finalize(cap->insert_task);
	sqlite3_finalize(cap->insert_cgroup);
	sqlite3_finalize(cap->insert_address);
	sqlite3_finalize(cap->update_kind);
	sqlite3_finalize(cap->update_commit_time);
	sqlite3_finalize(cap->page_count);
	sqlite3_finalize(cap->insert_module);
	sqlite3_finalize(cap->insert_stack);
	sqlite3_finalize(cap->insert_frame);
	sqlite3_finalize(cap->set_loss);
	sqlite3_finalize(cap->insert_process_loss);
	sqlite3_finalize(cap->set_skipped);
	sqlite3_close(cap->db);
	if (discard) {
		unlink(cap->path);
		for (size_t i = 0; i < ARRAY_SIZE(sqlite_siblings); i++) {
			char *sibling = sibling_path(cap->path, sqlite_siblings[i]);

			unlink(sibling);
			free(sibling);
		}
	}
	free(cap->path);
	free(cap);
}
