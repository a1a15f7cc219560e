/*
 * report redact: a copy of a capture safe to share.  Addresses, host names,
 * DNS names, command lines and paths under /home become keyed pseudonyms
 * (analyses/pseudonym.c); times, ports, counts, capabilities and program
 * names stay, so every report reads the copy and finds what it finds in the
 * original.  The input is read through report's read-only connection; the
 * copy is written beside OUT under a temporary name, with SQLite's
 * secure_delete on and rebuilt by VACUUM (no page keeps an old value), and
 * renamed to OUT only when whole.  A capture with text of a table or column
 * this build does not know is refused: it could not say that text is safe.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command.h"
#include "pseudonym.h"
#include "util.h"

#define KEY_MIN 16
#define KEY_MAX 4096

static struct {
	const char *key_file;
	char *output;
	struct hmac_key key;
	char *host; /* the capture's host name, for free text */
} rm;

static const char usage[] =
	"usage: report redact --key-file KEY [-h] IN.db OUT.db\n"
	"\n"
	"Write OUT.db, a copy of the capture IN.db safe to share: IP addresses, host\n"
	"names, DNS names, command lines, the host's user and group names and paths\n"
	"under /home (user names with them) become keyed pseudonyms, HMAC-SHA256\n"
	"under the key in KEY (16 bytes at least: head -c 32 /dev/urandom >\n"
	"fleet.key).  The same key gives the same\n"
	"pseudonym to the same name in every capture, so a fleet's captures still\n"
	"match; without the key a pseudonym cannot be traced back, nor a guess\n"
	"tested.  Addresses keep their class and prefixes (private stays private,\n"
	"loopback stays loopback, a /24 stays one /24).  Times, ports, counts,\n"
	"capabilities, process names and the paths of system binaries stay: every\n"
	"report command reads OUT.db and finds the same findings.  IN.db is opened\n"
	"read-only; OUT.db must not exist, and holds none of the original text,\n"
	"even in free pages.  The key is never written anywhere.\n"
	"\n"
	"  --key-file KEY   the secret key (keep it: it makes the pseudonyms)\n"
	"\n"
	"examples:\n"
	"    head -c 32 /dev/urandom > fleet.key\n"
	"    report redact --key-file fleet.key web-1.db web-1.shared.db\n"
	"    report html -o ticket.html web-1.shared.db\n";

enum { OPT_KEY_FILE = 0x400 };

static const struct option long_options[] = {
	{"key-file", required_argument, NULL, OPT_KEY_FILE},
	{NULL, 0, NULL, 0},
};

static int own_option(int option, const char *arg, void *ctx)
{
	(void)ctx;
	if (option == OPT_KEY_FILE)
		rm.key_file = arg;
	return 0;
}

/* The last operand is the copy to write, not a capture to read. */
static int operands(struct options *opts)
{
	if (opts->nfiles != 2)
		return option_error("redact", "give one capture to read and one to write (IN.db "
					      "OUT.db)");
	rm.output = opts->files[--opts->nfiles];
	return 0;
}

static int check(const struct options *opts)
{
	struct stat st;
	int rc;
	char *name;

	(void)opts;
	if (!rm.key_file)
		return option_error("redact", "no key: give --key-file KEY");
	rc = lstat(rm.output, &st);
	if (rc == 0 || errno != ENOENT) {
		name = render_string(rm.output);
		option_error("redact", "%s: %s", name,
			     rc == 0 ? "exists already" : strerror(errno));
		free(name);
		return -1;
	}
	return 0;
}

static int read_key(void)
{
	unsigned char secret[KEY_MAX + 1];
	int fd = open(rm.key_file, O_RDONLY | O_CLOEXEC);
	ssize_t n = 0, got;
	char *name = render_string(rm.key_file);
	const char *why = NULL;

	if (fd < 0) {
		why = strerror(errno);
	} else {
		while ((size_t)n < sizeof(secret) &&
		       (got = read(fd, secret + n, sizeof(secret) - (size_t)n)) > 0)
			n += got;
		if (got < 0 && (size_t)n < sizeof(secret))
			why = strerror(errno);
		close(fd);
	}
	if (!why && n < KEY_MIN)
		why = "shorter than 16 bytes (head -c 32 /dev/urandom > KEY makes one)";
	if (!why && n > KEY_MAX)
		why = "longer than 4096 bytes";
	if (why)
		fprintf(stderr, "report: redact: key %s: %s\n", name, why);
	else
		hmac_key_init(&rm.key, secret, (size_t)n);
	memset(secret, 0, sizeof(secret));
	free(name);
	return why ? -1 : 0;
}

/* --- SQL functions on the copy ------------------------------------------------------ */

enum redaction {
	R_ADDRESS,
	R_HOST,
	R_DNS,
	R_PROGRAM,
	R_PATH,
	R_ARGS,
	R_TEXT,
	R_UUID,
	R_USER,
	R_CGROUP
};

static void redact_value(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	enum redaction how = (enum redaction)(intptr_t)sqlite3_user_data(ctx);
	const char *text = (const char *)sqlite3_value_text(argv[0]);
	size_t len = (size_t)sqlite3_value_bytes(argv[0]);
	size_t size = PSEUDONYM_MAX(len);
	char *out;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	out = xmalloc(size);
	switch (how) {
	case R_ADDRESS:
		if (!pseudonym_address(&rm.key, text, out, size)) {
			free(out);
			sqlite3_result_error(ctx, "an address that is no address", -1);
			return;
		}
		break;
	case R_HOST:
		pseudonym_host(&rm.key, text, len, out, size);
		break;
	case R_DNS:
		pseudonym_dns(&rm.key, text, len, out, size);
		break;
	case R_PROGRAM:
	case R_PATH:
		pseudonym_path(&rm.key, text, len, how == R_PROGRAM, out, size);
		break;
	case R_CGROUP:
		pseudonym_cgroup(&rm.key, text, len, out, size);
		break;
	case R_ARGS:
		pseudonym_args(&rm.key, text, len, out, size);
		break;
	case R_TEXT:
		pseudonym_text(&rm.key, text, len, rm.host, out, size);
		break;
	case R_UUID:
		pseudonym_uuid(&rm.key, text, len, out, size);
		break;
	case R_USER:
		pseudonym_user(&rm.key, text, len, out, size);
		break;
	}
	sqlite3_result_text(ctx, out, -1, free);
}

static const struct {
	const char *name;
	enum redaction how;
} functions[] = {
	{"redact_address", R_ADDRESS}, {"redact_host", R_HOST}, {"redact_dns", R_DNS},
	{"redact_program", R_PROGRAM}, {"redact_path", R_PATH}, {"redact_args", R_ARGS},
	{"redact_text", R_TEXT},       {"redact_uuid", R_UUID}, {"redact_user", R_USER},
	{"redact_cgroup", R_CGROUP},
};

/*
 * Every text column of the format, and what becomes of it: a function, or
 * NULL to keep it (names of the kernel's, the recorder's and the tools').
 */
static const struct {
	const char *table, *column, *function;
} columns[] = {
	{"capture", "tool_version", NULL},
	{"capture", "hostname", "redact_host"},
	{"capture", "kernel_release", NULL},
	{"capture", "kernel_version", NULL},
	{"capture", "machine", NULL},
	{"capture", "boot_id", "redact_uuid"},
	{"capture", "command_line", "redact_text"},
	{"capture", "event_kinds", NULL},
	{"capture", "stop_reason", "redact_text"},
	{"event_kind", "name", NULL},
	{"event_kind", "mechanism", NULL}, /* the hooks used: record/mechanisms.c's words */
	{"loss", "kind", NULL},
	{"process_loss", "kind", NULL},
	{"process_loss", "comm", NULL},	  /* a process name, as task.comm */
	{"skipped_run", "program", NULL}, /* the recorder's BPF programs: bpf/'s names */
	{"skipped_run", "kinds", NULL},
	{"task", "comm", NULL},
	{"address", "addr", "redact_address"},
	{"process", "how", NULL},
	{"process", "comm", NULL},
	{"process", "exe", "redact_program"},
	{"process", "filename", "redact_program"},
	{"process", "args", "redact_args"},
	{"process", "stdin", NULL}, /* what fds 0-2 are: "tty", "pipe", "tcp"... */
	{"process", "stdout", NULL},
	{"process", "stderr", NULL},
	{"cgroup", "path", "redact_cgroup"}, /* names a container, a user's slice... */
	{"account", "kind", NULL},
	{"account", "name", "redact_user"},
	{"dns", "name", "redact_dns"},
	{"module", "name", "redact_program"},
	{"module", "build_id", NULL},
	{"stack_frame", "symbol", NULL},
	{"cap_name", "name", NULL},
	{"tcp_state", "name", NULL},
	{"reset_reason", "name", NULL},
};

static int fail(sqlite3 *db, const char *what)
{
	char *name = render_string(rm.output), *error = render_string(sqlite3_errmsg(db));

	fprintf(stderr, "report: redact: cannot %s %s: %s\n", what, name, error);
	free(name);
	free(error);
	return -1;
}

static int column_index(const char *table, const char *column)
{
	for (size_t i = 0; i < ARRAY_SIZE(columns); i++)
		if (!strcmp(columns[i].table, table) && !strcmp(columns[i].column, column))
			return (int)i;
	return -1;
}

/* Whether a column of integers holds any text or bytes (a capture is data: it might). */
static int integers_only(sqlite3 *db, const char *table, const char *conditions)
{
	char *sql = sqlite3_mprintf("SELECT 1 FROM \"%w\" WHERE %s LIMIT 1", table, conditions);
	sqlite3_stmt *stmt;
	int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);

	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return fail(db, "read");
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc == SQLITE_ROW) {
		char *t = render_string(table);

		fprintf(stderr,
			"report: redact: %s holds text where numbers belong: nothing written\n", t);
		free(t);
	}
	return rc == SQLITE_DONE ? 0 : rc == SQLITE_ROW ? -1 : fail(db, "read");
}

/*
 * Redact every known text column; refuse a column that may hold text (any
 * declared type but INTEGER) that is not in the list, and integer columns
 * that hold text.
 */
static int redact_tables(sqlite3 *db)
{
	sqlite3_stmt *stmt;
	char *table = NULL, *integers = NULL;
	int rc, err = 0;

	rc = sqlite3_prepare_v2(db,
				"SELECT m.name, c.name, c.type FROM sqlite_schema m, "
				"pragma_table_info(m.name) c WHERE m.type = 'table' AND m.name NOT "
				"LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY m.name, c.cid",
				-1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return fail(db, "read the tables of");
	while (!err) {
		const char *name, *column, *type;
		int i;
		char *sql;

		rc = sqlite3_step(stmt);
		name = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(stmt, 0) : NULL;
		/* A table's columns read: its integers checked at once. */
		if (table && (!name || strcmp(name, table))) {
			if (integers)
				err = integers_only(db, table, integers);
			sqlite3_free(table);
			sqlite3_free(integers);
			table = integers = NULL;
		}
		if (rc != SQLITE_ROW || err)
			break;
		column = (const char *)sqlite3_column_text(stmt, 1);
		type = (const char *)sqlite3_column_text(stmt, 2);
		if (!table)
			table = sqlite3_mprintf("%s", name);
		i = column_index(name, column);
		if (i < 0 && type && !strcasecmp(type, "INTEGER")) {
			char *more = sqlite3_mprintf("%s%stypeof(\"%w\") IN ('text', 'blob')",
						     integers ? integers : "",
						     integers ? " OR " : "", column);

			sqlite3_free(integers);
			integers = more;
		} else if (i < 0) {
			char *t = render_string(name), *c = render_string(column);

			fprintf(stderr,
				"report: redact: %s.%s may hold text this report cannot redact (a "
				"newer capture format?): nothing written\n",
				t, c);
			free(t);
			free(c);
			err = -1;
		} else if (columns[i].function) {
			sql = sqlite3_mprintf("UPDATE \"%w\" SET \"%w\" = %s(\"%w\")", name, column,
					      columns[i].function, column);
			if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
				err = fail(db, "redact");
			sqlite3_free(sql);
		}
	}
	if (!err && rc != SQLITE_DONE)
		err = fail(db, "read the tables of");
	sqlite3_free(table);
	sqlite3_free(integers);
	sqlite3_finalize(stmt);
	return err;
}

/* Triggers are none of a capture's: one could keep a value the updates replace. */
static int drop_triggers(sqlite3 *db)
{
	sqlite3_stmt *stmt;
	int rc = sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE type = 'trigger'", -1,
				    &stmt, NULL);

	while (rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
		char *sql = sqlite3_mprintf("DROP TRIGGER \"%w\"", sqlite3_column_text(stmt, 0));

		sqlite3_finalize(stmt);
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
		sqlite3_free(sql);
		if (rc == SQLITE_OK)
			rc = sqlite3_prepare_v2(
				db, "SELECT name FROM sqlite_schema WHERE type = 'trigger'", -1,
				&stmt, NULL);
		else
			stmt = NULL;
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_OK ? 0 : fail(db, "redact");
}

/*
 * The copy at path, redacted in place, rebuilt so that no old value stays.
 * The rollback journal of the redaction, which holds the values replaced,
 * stays in memory (it is small: the tables of names and addresses); the
 * VACUUM that follows sorts aside in a temporary file, as SQLite does,
 * which by then holds redacted values only, so memory does not grow with
 * the capture.
 */
static int redact_copy(const char *path)
{
	sqlite3 *db;
	int err = 0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		err = fail(db, "open");
	if (!err && sqlite3_exec(db,
				 "PRAGMA journal_mode = MEMORY; PRAGMA secure_delete = ON; "
				 "PRAGMA trusted_schema = OFF",
				 NULL, NULL, NULL) != SQLITE_OK)
		err = fail(db, "set up");
	for (size_t i = 0; !err && i < ARRAY_SIZE(functions); i++)
		if (sqlite3_create_function(db, functions[i].name, 1,
					    SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY,
					    (void *)(intptr_t)functions[i].how, redact_value, NULL,
					    NULL) != SQLITE_OK)
			err = fail(db, "set up");
	if (!err && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		err = fail(db, "write");
	if (!err)
		err = drop_triggers(db);
	if (!err)
		err = redact_tables(db);
	if (!err && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		err = fail(db, "write");
	if (!err &&
	    sqlite3_exec(db, "PRAGMA journal_mode = DELETE; VACUUM", NULL, NULL, NULL) != SQLITE_OK)
		err = fail(db, "rebuild");
	if (sqlite3_close(db) != SQLITE_OK && !err)
		err = fail(db, "close");
	return err;
}

/*
 * The capture, page by page, into the empty file path: SQLite's backup reads
 * it through the capture's read-only connection and writes the copy through
 * the plain unix file layer, which the copy alone is opened with.
 */
static int copy_capture(struct capture *cap, const char *path)
{
	sqlite3 *out = NULL;
	sqlite3_backup *backup;
	int rc = sqlite3_open_v2(path, &out, SQLITE_OPEN_READWRITE, "unix");

	if (rc == SQLITE_OK) {
		backup = sqlite3_backup_init(out, "main", cap->db, "main");
		rc = backup ? sqlite3_backup_step(backup, -1) : sqlite3_errcode(out);
		if (backup && sqlite3_backup_finish(backup) != SQLITE_OK && rc == SQLITE_DONE)
			rc = sqlite3_errcode(out);
	}
	if (rc != SQLITE_DONE) {
		char *error = render_string(out ? sqlite3_errmsg(out) : sqlite3_errstr(rc));

		fprintf(stderr, "report: redact: cannot copy %s: %s\n", cap->name, error);
		free(error);
	}
	sqlite3_close(out);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int run(struct captures *set, const struct options *opts)
{
	struct capture *cap = set->list[0];
	char *dir = xstrdup(rm.output), *slash = strrchr(dir, '/'), *temp;
	int fd, err = 0;

	(void)opts;
	if (read_key()) {
		free(dir);
		return -1;
	}
	rm.host = xstrdup(cap->host);
	if (slash)
		slash[1] = '\0';
	temp = xmalloc(strlen(dir) + 32);
	sprintf(temp, "%s.redact-XXXXXX", slash ? dir : "");
	/* An empty file of our own, which copy_capture() fills. */
	fd = mkstemp(temp);
	if (fd < 0) {
		char *name = render_string(rm.output);

		fprintf(stderr, "report: redact: cannot write %s: %s\n", name, strerror(errno));
		free(name);
		err = -1;
	} else {
		close(fd);
		err = copy_capture(cap, temp);
		if (!err)
			err = redact_copy(temp);
		if (!err && renameat2(AT_FDCWD, temp, AT_FDCWD, rm.output, RENAME_NOREPLACE)) {
			char *name = render_string(rm.output);

			fprintf(stderr, "report: redact: cannot write %s: %s\n", name,
				strerror(errno));
			free(name);
			err = -1;
		}
		if (err)
			unlink(temp);
	}
	memset(&rm.key, 0, sizeof(rm.key));
	free(rm.host);
	free(temp);
	free(dir);
	return err;
}

const struct command redact_command = {
	.summary = "a copy safe to share: names and addresses as keyed pseudonyms",
	.spec = {.name = "redact",
		 .usage = usage,
		 .short_options = "",
		 .long_options = long_options,
		 .accepts = 0,
		 .own_option = own_option},
	.operands = operands,
	.check = check,
	.run = run,
	.state = &rm,
	.state_size = sizeof(rm),
};
