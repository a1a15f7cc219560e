/*
 * The report fuzzer: each input turns a fresh capture into an odd one, then
 * report's commands, in every format, run on it, in this process.
 *
 * An input is one byte choosing the start (bit 0: schema.sql alone, or with
 * tests/fuzz/base.sql's rows) and which quarter of the command lines below
 * run (bits 1-2: all of them take too long for one input), then operations
 * until it ends:
 *   EXEC     SQL text, run as is on the capture being made (no ATTACH or
 *            VACUUM INTO, bounded work): tables dropped or redefined, views
 *   INSERT   a row of typed values into one of the capture's tables
 *   UPDATE   one column of one row, DELETE some rows
 *   PRAGMA   the format version or application id
 *   PATCH    bytes of the file once written (SQLite's own pages)
 *   SIBLING  a -wal, -shm or -journal file beside it, of input bytes
 *   ARGS     one more command line, of input words
 * Values are typed by the input: NULL, integers (edge values among them),
 * reals, text and blobs of any bytes.  The capture is a file (report takes a
 * path); command-line words cannot name another: report runs in a directory
 * of the fuzzer's own, and no word holds a '/'.
 *
 * Built with libFuzzer (make fuzz), or with replay_main.c to replay inputs
 * (tests/fuzz.test.sh: tests/fuzz-regressions/ and tests/fuzz/seeds/).
 */
#include <fcntl.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "schema.h"
#include "util.h"

/* report/commands/main.c, compiled as report_main for the fuzzer */
int report_main(int argc, char **argv);
/* tests/fuzz/base.sql, compiled in */
extern const char fuzz_base_sql[];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAPTURE	     "c.db"
#define MAX_WORDS    24
#define MAX_EXTRA    4 /* command lines from the input */
#define MAX_PATCHES  16
#define MAX_SIBLINGS 3
#define WORK_LIMIT   200 /* progress callbacks (of 1000 steps) while making a capture */
#define RUN_GROUPS   4	 /* an input runs one in four of the command lines */

enum { BASE_SCHEMA, BASE_ROWS, BASES };
enum { OP_EXEC, OP_INSERT, OP_UPDATE, OP_DELETE, OP_PRAGMA, OP_PATCH, OP_SIBLING, OP_ARGS, OPS };

static struct {
	unsigned char *image[BASES]; /* each start, serialized */
	sqlite3_int64 size[BASES];
	char dir[256];
	int home_fd; /* the working directory, for libFuzzer between inputs */
	int null_fd, stderr_fd;
	bool verbose; /* FUZZ_VERBOSE: report's stderr shown */
	int work;     /* progress callbacks so far */
} fz;

/* The tables a capture has; the input picks one by number. */
static const char *const tables[] = {
	"capture",     "event_kind",  "task",	       "address",   "ev_connect",
	"ev_accept",   "ev_reset",    "ev_capable",    "module",    "stack",
	"stack_frame", "event_stack", "cap_name",      "tcp_state", "reset_reason",
	"process",     "ev_exit",     "ev_unaccepted", "dns",
};

/* Every command (some still to come: unknown ones just fail), each format. */
static const char *const runs[][MAX_WORDS] = {
	{"info"},
	{"info", "--format", "json", "--local"},
	{"info", "--format", "csv"},
	{"tcpconnect", "-tUL", "-o"},
	{"tcpconnect", "-c", "--format", "json"},
	{"tcpconnect", "-K", "--user-stack", "--format", "csv", "-4", "-P", "80,443"},
	{"tcpconnect", "--folded", "--since", "+1s", "--until", "@1795398004"},
	{"tcpaccept", "-t", "-K", "-U", "-p", "100"},
	{"tcpaccept", "--format", "json", "--local", "-6"},
	{"tcpreset", "-r", "-K", "-U"},
	{"tcpreset", "--format", "csv", "-r"},
	{"tcpreset", "--folded", "-K", "--comm", "curl"},
	{"capable", "-v", "-x", "-K", "-U"},
	{"capable", "--unique", "--format", "json", "-K", "-U", "-u", "65534"},
	{"capable", "-v", "--format", "csv", "-K", "-U", "--cgroup", "1", "--mntns", "4026532000"},
	{"capable", "-v", "--folded"},
	{"tcpaccept", "--since", "2026-11-23T01:18:03.5+05:30", "--until", "23:59:59.999999999"},
	{"capable", "--local", "--since", "2026-11-23 00:00", "--until", "+1h30m", "--format",
	 "json"},
	{"summary"},
	{"summary", "--format", "json"},
	{"timeline", "--format", "csv"},
	{"scans"},
	{"bruteforce", "--format", "json"},
	{"caps"},
	{"caps", "--folded"},
	/* Group 1 runs timeline -c twice: once its connections outlived a run. */
	{"timeline", "-c"},
	{"timeline", "-v", "--format", "json", "-P", "22"},
	{"timeline", "-c", "--format", "csv", "--addr", "10.0.0.1"},
	{"scans", "--format", "csv", "--ports", "2"},
	{"timeline", "-c", "--format", "json"},
	{"tcpconnect", "-d", "-l"},
	{"proc", "100", "--format", "json"},
	{"timeline", "-l", "--format", "csv"},
	{"capable", "-v", "-l", "--format", "json"},
	{"proc", "1@0"},
	{"tcpconnect", "-d", "--format", "csv", "--since", "+1s"},
	{"tcpaccept", "-l"},
	{"tcpreset", "-l", "--format", "json"},
	{"html", "-o", "/dev/null"},
	{"logins", "--format", "csv"},
	{"proc", "100", "--depth", "2"},
	{"timeline", "--ppid", "1", "--format", "json"},
};

/* The command names an input's own command line picks from. */
static const char *const commands[] = {
	"info",	 "tcpconnect", "tcpaccept", "tcpreset", "capable", "summary", "timeline",
	"scans", "bruteforce", "caps",	    "proc",	"nope",	   "--help",
};

static const int64_t edge_values[] = {
	0,
	1,
	-1,
	2,
	4,
	6,
	7,
	12,
	41,
	111,
	127,
	128,
	255,
	4096,
	65535,
	65536,
	-65536,
	INT32_MAX,
	INT32_MIN,
	UINT32_MAX,
	INT64_MAX,
	INT64_MIN,
	INT64_MAX - 1,
	INT64_MIN + 1,
	1000000000000,
	1795398000000000000,
	-1795398000000000000,
	9223372036854775000,
	4026531832,
	1000000000,
};

/* --- The input ---------------------------------------------------------------- */

/* The input, read from the front; past its end, zeros. */
struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t take_u8(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static uint64_t take_u64(struct input *in)
{
	uint64_t value = 0;

	for (int i = 0; i < 8; i++)
		value = value << 8 | take_u8(in);
	return value;
}

/* Bytes, their count first (at most max), in place. */
static size_t take_bytes(struct input *in, size_t max, const uint8_t **bytes)
{
	size_t len = take_u8(in);

	if (len > max)
		len = max;
	if (len > in->left)
		len = in->left;
	*bytes = in->p;
	in->p += len;
	in->left -= len;
	return len;
}

/* --- Making the capture -------------------------------------------------------- */

/* The fuzzer's SQL stays within its capture and within bounds. */
static int authorize(void *ctx, int action, const char *a, const char *b, const char *c,
		     const char *d)
{
	static const char *const pragmas[] = {"user_version", "application_id", "writable_schema",
					      "foreign_keys", "legacy_alter_table"};

	(void)ctx;
	(void)b;
	(void)c;
	(void)d;
	if (action == SQLITE_ATTACH || action == SQLITE_DETACH)
		return SQLITE_DENY;
	if (action == SQLITE_PRAGMA) {
		for (size_t i = 0; i < ARRAY_SIZE(pragmas); i++)
			if (!strcasecmp(a, pragmas[i]))
				return SQLITE_OK;
		return SQLITE_DENY;
	}
	return SQLITE_OK;
}

static int progress(void *ctx)
{
	(void)ctx;
	return ++fz.work > WORK_LIMIT;
}

static sqlite3 *open_image(const unsigned char *image, sqlite3_int64 size)
{
	sqlite3 *db;
	unsigned char *copy = sqlite3_malloc64((sqlite3_uint64)size);

	if (sqlite3_open(":memory:", &db) != SQLITE_OK || !copy) {
		fprintf(stderr, "report-fuzz: cannot open a database in memory\n");
		abort();
	}
	memcpy(copy, image, (size_t)size);
	if (sqlite3_deserialize(db, "main", copy, size, size,
				SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE) !=
	    SQLITE_OK)
		abort();
	sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 1 << 20);
	sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, 1 << 16);
	sqlite3_set_authorizer(db, authorize, NULL);
	sqlite3_progress_handler(db, 1000, progress, NULL);
	return db;
}

/* A statement on one of the capture's tables; NULL when it cannot be (gone, redefined). */
static sqlite3_stmt *prepare(sqlite3 *db, char *sql)
{
	sqlite3_stmt *stmt = NULL;

	if (sql && sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		stmt = NULL;
	sqlite3_free(sql);
	return stmt;
}

/* A table's columns now: their count, and the first and the nth's names. */
static int columns_of(sqlite3 *db, const char *table, int nth, char **first, char **named)
{
	sqlite3_stmt *stmt = prepare(db, sqlite3_mprintf("SELECT * FROM \"%w\"", table));
	int count = stmt ? sqlite3_column_count(stmt) : 0;

	if (count && first && named) {
		*first = sqlite3_mprintf("%s", sqlite3_column_name(stmt, 0));
		*named = sqlite3_mprintf("%s", sqlite3_column_name(stmt, nth % count));
	}
	sqlite3_finalize(stmt);
	return count;
}

static void bind_value(sqlite3_stmt *stmt, int index, struct input *in)
{
	const uint8_t *bytes;
	uint64_t bits;
	double real;
	size_t len;

	switch (take_u8(in) % 8) {
	case 0:
		sqlite3_bind_null(stmt, index);
		break;
	case 1:
		sqlite3_bind_int64(stmt, index, (int8_t)take_u8(in));
		break;
	case 2:
		sqlite3_bind_int64(stmt, index, (int64_t)take_u64(in));
		break;
	case 3:
		sqlite3_bind_int64(stmt, index, edge_values[take_u8(in) % ARRAY_SIZE(edge_values)]);
		break;
	case 4:
		len = take_bytes(in, 255, &bytes);
		sqlite3_bind_text(stmt, index, (const char *)bytes, (int)len, SQLITE_TRANSIENT);
		break;
	case 5:
		len = take_bytes(in, 255, &bytes);
		sqlite3_bind_blob(stmt, index, bytes, (int)len, SQLITE_TRANSIENT);
		break;
	case 6:
		bits = take_u64(in);
		memcpy(&real, &bits, sizeof(real));
		sqlite3_bind_double(stmt, index, real);
		break;
	default:
		sqlite3_bind_int64(stmt, index, 1 + take_u8(in) % 8); /* an id that exists */
		break;
	}
}

static void step_once(sqlite3_stmt *stmt)
{
	if (stmt)
		sqlite3_step(stmt);
	sqlite3_finalize(stmt);
}

static void op_exec(sqlite3 *db, struct input *in)
{
	const uint8_t *bytes;
	size_t len = take_bytes(in, 255, &bytes);
	char sql[256];

	memcpy(sql, bytes, len);
	sql[len] = '\0';
	/* VACUUM INTO writes a file anywhere: the only way out the authorizer leaves. */
	if (!strcasestr(sql, "vacuum") && sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK &&
	    fz.verbose)
		fprintf(stderr, "report-fuzz: %s: %s\n", sql, sqlite3_errmsg(db));
}

static void op_insert(sqlite3 *db, struct input *in)
{
	const char *table = tables[take_u8(in) % ARRAY_SIZE(tables)];
	int count = columns_of(db, table, 0, NULL, NULL);
	char marks[4 * 64] = "?";
	sqlite3_stmt *stmt;

	if (!count || count > 64)
		return;
	for (int i = 1; i < count; i++)
		strcat(marks, ", ?");
	stmt = prepare(db,
		       sqlite3_mprintf("INSERT OR REPLACE INTO \"%w\" VALUES (%s)", table, marks));
	for (int i = 1; stmt && i <= count; i++)
		bind_value(stmt, i, in);
	step_once(stmt);
}

static void op_update_or_delete(sqlite3 *db, struct input *in, bool update)
{
	const char *table = tables[take_u8(in) % ARRAY_SIZE(tables)];
	char *first = NULL, *named = NULL;
	int nth = take_u8(in), offset = take_u8(in) % 16, rows = 1 + take_u8(in) % 4;
	sqlite3_stmt *stmt;

	if (!columns_of(db, table, nth, &first, &named))
		return;
	/* Rows by their order on the first column: WITHOUT ROWID tables have no rowid. */
	if (update)
		stmt = prepare(db, sqlite3_mprintf("UPDATE \"%w\" SET \"%w\" = ?1 WHERE \"%w\" IN "
						   "(SELECT \"%w\" FROM \"%w\" ORDER BY 1 LIMIT 1 "
						   "OFFSET %d)",
						   table, named, first, first, table, offset));
	else
		stmt = prepare(db,
			       sqlite3_mprintf("DELETE FROM \"%w\" WHERE \"%w\" IN (SELECT \"%w\" "
					       "FROM \"%w\" ORDER BY 1 LIMIT %d OFFSET %d)",
					       table, first, first, table, rows, offset));
	if (stmt && update)
		bind_value(stmt, 1, in);
	step_once(stmt);
	sqlite3_free(first);
	sqlite3_free(named);
}

static void op_pragma(sqlite3 *db, struct input *in)
{
	bool version = take_u8(in) & 1;
	char *sql = sqlite3_mprintf("PRAGMA %s = %d", version ? "user_version" : "application_id",
				    (int32_t)take_u64(in));

	sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_free(sql);
}

/* Bytes of the input put somewhere: at an offset of the file, or in a sibling. */
struct placed {
	uint32_t offset;
	const char *suffix;
	const uint8_t *bytes;
	size_t len;
};

/* What is done to the file after the SQL. */
struct file_ops {
	struct placed patch[MAX_PATCHES];
	int npatches;
	struct placed sibling[MAX_SIBLINGS];
	int nsiblings;
	char *extra[MAX_EXTRA][MAX_WORDS + 2]; /* command lines: words, NULL-ended */
	int nextra;
};

static void op_patch(struct input *in, struct file_ops *ops)
{
	uint32_t offset = (uint32_t)take_u8(in) << 16 | (uint32_t)take_u8(in) << 8 | take_u8(in);
	const uint8_t *bytes;
	size_t len = take_bytes(in, 64, &bytes);

	if (ops->npatches < MAX_PATCHES)
		ops->patch[ops->npatches++] = (struct placed){offset, NULL, bytes, len};
}

static void op_sibling(struct input *in, struct file_ops *ops)
{
	static const char *const suffixes[] = {"-wal", "-shm", "-journal"};
	const char *suffix = suffixes[take_u8(in) % ARRAY_SIZE(suffixes)];
	const uint8_t *bytes;
	size_t len = take_bytes(in, 255, &bytes);

	if (ops->nsiblings < MAX_SIBLINGS)
		ops->sibling[ops->nsiblings++] = (struct placed){0, suffix, bytes, len};
}

/*
 * Words of the input: no word names a file elsewhere (no '/'), and none
 * asks --follow, which waits for a recorder that will never come.
 */
static void op_args(struct input *in, struct file_ops *ops)
{
	char **argv = ops->extra[ops->nextra];
	int nwords = take_u8(in) % MAX_WORDS, argc = 0;

	if (ops->nextra == MAX_EXTRA)
		return;
	argv[argc++] = xstrdup(commands[take_u8(in) % ARRAY_SIZE(commands)]);
	for (int i = 1; i < nwords; i++) {
		const uint8_t *bytes;
		size_t len = take_bytes(in, 32, &bytes);
		char *word = xmalloc(len + 1);

		memcpy(word, bytes, len);
		word[len] = '\0';
		for (char *c = word; *c; c++)
			if (*c == '/')
				*c = '_';
		if (!strncmp(word, "--foll", 6)) {
			free(word);
			continue;
		}
		argv[argc++] = word;
	}
	if (take_u8(in) & 1)
		argv[argc++] = xstrdup(CAPTURE);
	argv[argc] = NULL;
	ops->nextra++;
}

static sqlite3 *make_capture(struct input *in, struct file_ops *ops, int *group)
{
	uint8_t first = take_u8(in);
	int base = first % BASES;
	sqlite3 *db = open_image(fz.image[base], fz.size[base]);

	*group = first / BASES % RUN_GROUPS;
	fz.work = 0;
	while (in->left && fz.work <= WORK_LIMIT) {
		switch (take_u8(in) % OPS) {
		case OP_EXEC:
			op_exec(db, in);
			break;
		case OP_INSERT:
			op_insert(db, in);
			break;
		case OP_UPDATE:
			op_update_or_delete(db, in, true);
			break;
		case OP_DELETE:
			op_update_or_delete(db, in, false);
			break;
		case OP_PRAGMA:
			op_pragma(db, in);
			break;
		case OP_PATCH:
			op_patch(in, ops);
			break;
		case OP_SIBLING:
			op_sibling(in, ops);
			break;
		default:
			op_args(in, ops);
			break;
		}
	}
	return db;
}

static void write_file(const char *path, const void *bytes, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, bytes, len) != (ssize_t)len) {
		perror(path);
		abort();
	}
	close(fd);
}

/* The capture as a file, patched, with its siblings. */
static void write_capture(sqlite3 *db, const struct file_ops *ops)
{
	sqlite3_int64 size = 0;
	unsigned char *bytes = sqlite3_serialize(db, "main", &size, 0);

	for (int i = 0; bytes && i < ops->npatches; i++) {
		size_t at = ops->patch[i].offset % (size_t)size;
		size_t len = ops->patch[i].len < (size_t)size - at ? ops->patch[i].len
								   : (size_t)size - at;

		memcpy(bytes + at, ops->patch[i].bytes, len);
	}
	write_file(CAPTURE, bytes, bytes ? (size_t)size : 0);
	sqlite3_free(bytes);
	for (int i = 0; i < ops->nsiblings; i++) {
		char path[32];

		snprintf(path, sizeof(path), "%s%s", CAPTURE, ops->sibling[i].suffix);
		write_file(path, ops->sibling[i].bytes, ops->sibling[i].len);
	}
}

/* --- Running report ------------------------------------------------------------ */

static void run(const char *const *words, bool add_capture)
{
	char *argv[MAX_WORDS + 3];
	int argc = 0;

	argv[argc++] = (char *)"report";
	for (int i = 0; words[i] && i < MAX_WORDS; i++)
		argv[argc++] = (char *)words[i];
	if (add_capture)
		argv[argc++] = (char *)CAPTURE;
	argv[argc] = NULL;
	if (!fz.verbose)
		dup2(fz.null_fd, STDERR_FILENO);
	report_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	if (!fz.verbose)
		dup2(fz.stderr_fd, STDERR_FILENO);
}

static void remove_files(void)
{
	static const char *const paths[] = {CAPTURE, CAPTURE "-wal", CAPTURE "-shm",
					    CAPTURE "-journal"};

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		unlink(paths[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	struct file_ops ops = {0};
	int group;
	sqlite3 *db = make_capture(&in, &ops, &group);

	if (chdir(fz.dir)) {
		perror(fz.dir);
		abort();
	}
	write_capture(db, &ops);
	sqlite3_close(db);
	for (size_t i = (size_t)group; i < ARRAY_SIZE(runs); i += RUN_GROUPS)
		run(runs[i], true);
	for (int i = 0; i < ops.nextra; i++) {
		run((const char *const *)ops.extra[i], false);
		for (char **word = ops.extra[i]; *word; word++)
			free(*word);
	}
	remove_files();
	if (fchdir(fz.home_fd))
		abort();
	return 0;
}

/* --- Setting up -------------------------------------------------------------------- */

static void make_image(int base, const char *const *scripts)
{
	sqlite3 *db;

	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		abort();
	for (; *scripts; scripts++) {
		char *error = NULL;

		if (sqlite3_exec(db, *scripts, NULL, NULL, &error) != SQLITE_OK) {
			fprintf(stderr, "report-fuzz: the starting capture: %s\n", error);
			abort();
		}
	}
	fz.image[base] = sqlite3_serialize(db, "main", &fz.size[base], 0);
	sqlite3_close(db);
}

/* The fuzzer's directory holds only the capture and its siblings. */
static void clean_up(void)
{
	if (chdir(fz.dir) == 0)
		remove_files();
	if (fchdir(fz.home_fd) == 0)
		rmdir(fz.dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *const schema_only[] = {casefile_schema_sql, NULL};
	const char *const with_rows[] = {casefile_schema_sql, fuzz_base_sql, NULL};

	(void)argc;
	(void)argv;
	make_image(BASE_SCHEMA, schema_only);
	make_image(BASE_ROWS, with_rows);
	snprintf(fz.dir, sizeof(fz.dir), "%s/report-fuzz.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	fz.home_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!mkdtemp(fz.dir) || fz.home_fd < 0) {
		perror("report-fuzz: a directory of its own");
		abort();
	}
	atexit(clean_up);
	setenv("TZ", "UTC", 1);
	/* report_main() runs here, in this process: not started again (main.c). */
	setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=0", 1);
	fz.verbose = getenv("FUZZ_VERBOSE") != NULL;
	fz.null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	fz.stderr_fd = dup(STDERR_FILENO);
	/* report's output is not what is checked: only that it survives. */
	dup2(fz.null_fd, STDOUT_FILENO);
	return 0;
}
