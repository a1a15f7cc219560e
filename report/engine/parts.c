/*
 * The parts of a rotated recording: naming them as record does, and finding
 * the next one while it is being written, without a word until it is there.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "parts.h"
#include "rovfs.h"
#include "util.h"

/* What ties the parts of one recording together, and which one a file is. */
struct identity {
	int64_t part, recorder_pid, base_ns;
	char boot_id[64];
};

static int read_identity(sqlite3 *db, bool has_part, struct identity *id)
{
	const char *sql = has_part ? "SELECT part, recorder_pid, base_ns, boot_id FROM capture "
				     "WHERE id = 1"
				   : "SELECT 1, recorder_pid, base_ns, boot_id FROM capture "
				     "WHERE id = 1";
	sqlite3_stmt *stmt;
	int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const unsigned char *boot = sqlite3_column_text(stmt, 3);

		id->part = sqlite3_column_int64(stmt, 0);
		id->recorder_pid = sqlite3_column_int64(stmt, 1);
		id->base_ns = sqlite3_column_int64(stmt, 2);
		snprintf(id->boot_id, sizeof(id->boot_id), "%s", boot ? (const char *)boot : "");
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 0 : -1;
}

int capture_part(struct capture *cap)
{
	struct identity id;

	if (!capture_has_column(cap, "capture", "part") || read_identity(cap->db, true, &id) ||
	    id.part < 1 || id.part > INT32_MAX)
		return 1;
	return (int)id.part;
}

/* record's name for part n of the recording begun at first. */
static char *name_part(const char *first, int n)
{
	const char *slash = strrchr(first, '/');
	const char *base = slash ? slash + 1 : first;
	const char *dot = strrchr(base, '.');
	size_t stem = dot && dot != base ? (size_t)(dot - first) : strlen(first);
	char *path = xmalloc(strlen(first) + 16);

	if (n == 1)
		return strcpy(path, first);
	sprintf(path, "%.*s.%d%s", (int)stem, first, n, first + stem);
	return path;
}

char *part_path(const char *path, int part, int n)
{
	char suffix[16], *first, *named;
	size_t len = strlen(path), slen;

	if (part == 1)
		return name_part(path, n);
	slen = (size_t)snprintf(suffix, sizeof(suffix), ".%d", part);
	/* ".part" sits before the extension, or ends a name without one. */
	for (const char *at = strstr(path, suffix); at; at = strstr(at + 1, suffix)) {
		first = xmalloc(len + 1);
		memcpy(first, path, (size_t)(at - path));
		strcpy(first + (at - path), at + slen);
		named = name_part(first, part);
		if (!strcmp(named, path)) {
			free(named);
			named = name_part(first, n);
			free(first);
			return named;
		}
		free(named);
		free(first);
	}
	return NULL;
}

static int ascending(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* n, when name is "STEM.n" followed by end (n from 2, as record writes it), else 0. */
static int numbered(const char *name, const char *stem, size_t stem_len, const char *end)
{
	long long n = 0;
	const char *at = name + stem_len + 1;

	if (strncmp(name, stem, stem_len) || name[stem_len] != '.' || *at < '1' || *at > '9')
		return 0;
	for (; *at >= '0' && *at <= '9'; at++)
		if ((n = n * 10 + (*at - '0')) > INT32_MAX)
			return 0;
	return n >= 2 && !strcmp(at, end) ? (int)n : 0;
}

int *part_numbers_beside(struct capture *cap, int *n)
{
	int own = capture_part(cap), *numbers = NULL, count = 0, allocated = 0;
	char *first = part_path(cap->path, own, 1), *base, *dot, *dir_name;
	size_t dir_len;
	DIR *dir;
	struct dirent *entry;

	*n = 0;
	if (!first)
		return NULL;
	base = strrchr(first, '/') ? strrchr(first, '/') + 1 : first;
	dir_len = (size_t)(base - first);
	dot = strrchr(base, '.');
	if (!dot || dot == base)
		dot = base + strlen(base);
	dir_name = xstrdup(dir_len ? first : ".");
	if (dir_len)
		dir_name[dir_len] = '\0'; /* after its '/' */
	dir = opendir(dir_name);
	while (dir && (entry = readdir(dir))) {
		int k = !strcmp(entry->d_name, base)
				? 1
				: numbered(entry->d_name, base, (size_t)(dot - base), dot);
		char *named;

		if (!k || k == own)
			continue;
		/* The name record would give part k: the number's digits as it prints them. */
		named = part_path(cap->path, own, k);
		if (named && !strcmp(named + dir_len, entry->d_name)) {
			if (count == allocated) {
				allocated = allocated ? 2 * allocated : 16;
				numbers = xrealloc(numbers, (size_t)allocated * sizeof(*numbers));
			}
			numbers[count++] = k;
		}
		free(named);
	}
	if (dir)
		closedir(dir);
	free(dir_name);
	free(first);
	if (count)
		qsort(numbers, (size_t)count, sizeof(*numbers), ascending);
	*n = count;
	return numbers;
}

/*
 * Whether the file at path is, already, part n of the recording cap
 * belongs to.  Looked at with a connection of its own that reports nothing:
 * the recorder may be creating it right now.  Through the read-only VFS, as
 * every capture: the look creates or changes nothing beside it (no -shm).
 */
static bool is_part(struct capture *cap, const char *path, int n)
{
	struct stat st;
	struct identity ours, theirs;
	bool same = false;
	sqlite3 *db = NULL;

	if (stat(path, &st) || !S_ISREG(st.st_mode) || read_identity(cap->db, true, &ours))
		return false;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, rovfs_name()) == SQLITE_OK) {
		/* A recorder switching the file's journal locks it for a moment. */
		sqlite3_busy_timeout(db, 5000);
		sqlite3_exec(db, "PRAGMA trusted_schema = OFF", NULL, NULL, NULL);
		same = !read_identity(db, true, &theirs) && theirs.part == n &&
		       theirs.recorder_pid == ours.recorder_pid && theirs.base_ns == ours.base_ns &&
		       !strcmp(theirs.boot_id, ours.boot_id);
	}
	sqlite3_close(db);
	return same;
}

struct capture *capture_open_part(struct capture *cap, int n, bool tell)
{
	char *path = part_path(cap->path, capture_part(cap), n);
	struct capture *part = NULL;

	if (path && is_part(cap, path, n))
		part = capture_open(path, tell);
	free(path);
	return part;
}
