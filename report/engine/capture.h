/*
 * Opening captures for reading: read-only, never modifying the evidence (nor
 * creating files beside it), refusing with one clear line whatever is not a
 * capture this report reads; their metadata, and cached lookups of the tasks,
 * addresses and names their events refer to.
 */
#ifndef CASEFILE_REPORT_CAPTURE_H
#define CASEFILE_REPORT_CAPTURE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "options.h"
#include "rovfs.h"

#define CAPTURE_KINDS_MAX 16

/*
 * Runs of a recorder's BPF program the kernel skipped (table skipped_run):
 * the events they were for are missing from the kinds it records.
 */
struct skipped_run {
	char *program, *kinds; /* as the capture names them: render to show */
	int64_t runs;
	int64_t runs_told; /* how many a warning already told */
};

struct kind_count {
	char *name; /* connect, outcome, accept, reset, capable, or a newer one */
	bool enabled;
	int64_t recorded, lost;
	int64_t lost_told; /* how many losses a warning already told */
	char *mechanism;   /* how the kernel let it be recorded; NULL: not said */
};

struct capture {
	char *path;
	char *name;  /* path as messages show it: rendered (render_string) */
	char *error; /* capture_error()'s */
	sqlite3 *db; /* NULL between --follow polls */
	/* db's file, taken where db opened: copies read its -wal's end without entering db */
	const sqlite3_file *file;
	int format;
	char *tool_version, *host, *kernel_release, *kernel_version, *machine, *boot_id;
	char *command_line, *event_kinds, *stop_reason;
	size_t host_len; /* every event names its host: counted once */
	/* wall clock (Unix ns) = base_ns + t + realtime_offset_ns */
	int64_t base_ns, realtime_offset_ns;
	int64_t started_ns, last_commit_ns, stopped_ns;
	int64_t netns; /* the recorder's network namespace; -1: not known (older captures) */
	bool clean;
	struct kind_count kinds[CAPTURE_KINDS_MAX];
	int nkinds;
	struct skipped_run *skipped; /* the programs with runs skipped, by name */
	int nskipped;
	struct stat seen_db, seen_wal; /* as last read, to notice new commits */
	/* Opened immutable (no -wal, no journal): what its connection reads, as it was then. */
	bool immutable;
	struct stat read_from;
	enum {
		STACK_TABLES_UNKNOWN, /* not looked for yet */
		STACK_TABLES_ABSENT,
		STACK_TABLES_PRESENT,
		STACK_TABLES_UNREADABLE, /* said once */
	} stack_tables;			 /* capture_has_stacks */
	int schema;	     /* its schema's place among those checked (capture.c); -1: none */
	struct wal_scan wal; /* its -wal as last opened */
	int64_t work_left;   /* SQLite instructions this connection may still run */
	struct lookup *lookups;
	struct lookup *tables; /* its small tables read whole, for its copies too (the origin's) */
	struct keeping *keeping; /* where its lookup_row keeps rows, while a lookup reads them */
	struct capture_accounts *accounts; /* capture_account_name's, read whole at its first */
	/* Kept here by the modules above (struct capture_keeper) */
	struct capture_stacks *stacks;	 /* stacks.c's statements and cache */
	struct capture_lineage *lineage; /* lineage.c's caches, and its process index */
	/*
	 * Opened again from origin (captures_open_again), and closed before it:
	 * what is read once per file, it shares with it.
	 */
	struct capture *origin;
	/*
	 * Its index in the set it was opened in (captures_open, following) or
	 * opened again for (captures_open_again): what an analysis keeps per
	 * capture is found by it, checked, not searched for among a fleet's.
	 */
	int place;
	/* The origin's: its copies not in use, kept open; a copy's: the next such copy. */
	struct capture *spares;
	struct process_index *process_index; /* lineage.c's, shared (the origin's only) */
};

/*
 * Longest text a task, address or name may have (a comm has 15 bytes, an
 * address 45, a name some 30); longer means a corrupt capture.
 */
#define CAPTURE_TEXT_MAX 64

/* A task as the capture holds it. */
struct task {
	int64_t pid, tid, ppid, uid, cgroup, mntns;
	int64_t netns, nspid; /* -1: not known (captures before them) */
	int64_t start_ns;     /* with pid, names the process (0: a capture without process lives) */
	size_t comm_len;
	bool comm_plain; /* needs no escaping (output.h, text_is_plain) */
	char comm[CAPTURE_TEXT_MAX];
};

/* The capture files of one report, all open. */
struct captures {
	struct capture **list;
	int count;
	bool many_hosts; /* more than one host: a HOST column */
	int host_width;
	int64_t earliest_start_ns;
	const char *const *kinds; /* the kinds of events the report is about */
};

/*
 * SQLite's last error on the capture, rendered: it may quote the capture's
 * own names.  Valid until the next call.
 */
const char *capture_error(struct capture *cap);

/* The newest capture format this build reads (schema.sql's user_version). */
int supported_format(void);

/*
 * Open every file of opts, resolve --since/--until against them, and tell
 * once on stderr what they lack for these kinds of events (NULL: any kind):
 * records lost, kinds not recorded, no clean stop.  -1 after one line.
 */
int captures_open(struct captures *set, struct options *opts, const char *const *kinds);
void captures_close(struct captures *set);

/*
 * One capture, opened and checked; NULL after one line.  tell: say what its
 * -wal left unread (the first time this report opens it, not again).
 */
struct capture *capture_open(const char *path, bool tell);

/*
 * The captures of set opened again, each on a connection of its own, for
 * another thread to read them at the same time; nothing told (set told it).
 * -1 after one line.  captures_close keeps such copies open, for the next
 * call to take again, until their origin is released or closed.
 */
int captures_open_again(struct captures *copy, const struct captures *set);

/*
 * A connection that scans its tables in key order reads each leaf once: a
 * page cache beyond the paths to the leaves (128 KiB, less beside many
 * captures) is memory it never reads again.
 */
void capture_scan_cache(struct capture *cap);

/*
 * The clocks a capture holds (Unix ns, boot ns) lie from 0 to 2^62 (the
 * year 2116): so do their sums and differences, within int64.  Beyond is
 * a corrupt capture.
 */
#define CAPTURE_CLOCK_MAX ((int64_t)1 << 62)

/*
 * Records counted per kind (event_kind): up to 2^48, nearly a year at ten
 * million a second, so that sums over kinds and captures stay within int64.
 */
#define CAPTURE_COUNT_MAX ((int64_t)1 << 48)

/* The wall clock of an event's t; false when out of that range. */
static inline bool capture_wall_ns(const struct capture *cap, int64_t t, int64_t *wall_ns)
{
	return !__builtin_add_overflow(cap->base_ns + cap->realtime_offset_ns, t, wall_ns) &&
	       *wall_ns >= 0 && *wall_ns < CAPTURE_CLOCK_MAX;
}

/*
 * --follow: whether the files changed since last read; reopen and reread the
 * metadata (telling new losses); release the connection between polls, so the
 * recorder is never kept from finishing.  reopen: -1 after one line.
 */
bool capture_changed(struct capture *cap);
int capture_reopen(struct capture *cap, const char *const *kinds);
void capture_release(struct capture *cap);

/*
 * What a module above keeps in a capture (stacks.c, lineage.c), and how it
 * lets it go: release before the connection closes (capture_release), free
 * with the capture.  Each does nothing for a capture it keeps nothing in.
 * The module gives its keeper before keeping anything (again and again is
 * fine): this one, below them, need not know them.
 */
struct capture_keeper {
	void (*release)(struct capture *cap);
	void (*free)(struct capture *cap);
};
void capture_keeper(const struct capture_keeper *keeper);

/*
 * Whether the capture has this column of this table (NULL: the table):
 * captures made by older recorders lack the newer ones.
 */
bool capture_has_column(struct capture *cap, const char *table, const char *column);

/*
 * Whether the capture has the stack tables (those made before record -K
 * existed have none): 0, or -1 after one line (once) on stderr.
 */
int capture_has_stacks(struct capture *cap, bool *present);

/* An address as the capture holds it. */
struct address {
	int64_t ip; /* 4 or 6 */
	size_t len;
	bool plain; /* needs no escaping (output.h, text_is_plain) */
	char text[CAPTURE_TEXT_MAX];
};

/* A name from the capture's own tables (cap_name, tcp_state, reset_reason). */
struct name {
	bool found; /* false: the capture has no name for the number */
	size_t len;
	bool plain; /* needs no escaping (output.h, text_is_plain) */
	char text[CAPTURE_TEXT_MAX];
};

/*
 * What events refer to, through a bounded cache, copied out.  0, or -1 after
 * one line on stderr: a task or address that is not there means a corrupt
 * capture.
 */
int capture_task(struct capture *cap, int64_t id, struct task *task);
/*
 * Start fetching the cache slot of address id, for a capture_address() of it
 * soon: ids name addresses all over a large table, and a slot not in the
 * processor's cache costs more than the rest of a row.
 */
void capture_prefetch_address(struct capture *cap, int64_t id);
int capture_address(struct capture *cap, int64_t id, struct address *address);
/*
 * Each address row of the capture, in the order of its ids: each(id, its
 * text (len bytes, not NUL-terminated), ctx), from the table's rows as
 * capture_address() keeps them when they are all there, else read again.
 * 0, or -1 when each() returns nonzero or after one line on stderr.
 */
int capture_each_address(struct capture *cap,
			 int (*each)(int64_t id, const char *text, size_t len, void *ctx),
			 void *ctx);
int capture_cap_name(struct capture *cap, int64_t number, struct name *name);
int capture_tcp_state(struct capture *cap, int64_t state, struct name *name);
int capture_reset_reason(struct capture *cap, int64_t reason, struct name *name);

/* Longest user name kept (Linux allows 32 bytes; longer is cut). */
#define ACCOUNT_NAME_MAX 64

/*
 * The name the capture's snapshot of its host's accounts gives user uid
 * (its first row of the uid): 1 and out (raw capture bytes, NUL-terminated:
 * render them to print), 0 when none names it (or the capture has no such
 * table), -1 after one line on stderr (each later ask: -1, nothing said).
 */
int capture_account_name(struct capture *cap, int64_t uid, char out[ACCOUNT_NAME_MAX + 1]);

/* Longest cgroup path kept: a longer one is cut at its front, marked "...". */
#define CAPTURE_PATH_MAX 255

/* The path of a cgroup v2 id, from the capture's cgroup table. */
struct cgroup_path {
	enum {
		CGROUP_UNKNOWN, /* the capture does not name it (or has no such table) */
		CGROUP_GONE,	/* gone before the recorder read its path */
		CGROUP_NAMED,
	} state;
	size_t len;
	bool plain; /* needs no escaping (output.h, text_is_plain) */
	char text[CAPTURE_PATH_MAX];
};
int capture_cgroup_path(struct capture *cap, int64_t id, struct cgroup_path *path);

#endif
