/*
 * The capture file as the recorder writes it: created safely, filled in
 * batched transactions, closed with its stop metadata.  Every function that
 * fails has printed one line on stderr naming the file and the cause.
 */
#ifndef CASEFILE_RECORD_CAPTURE_H
#define CASEFILE_RECORD_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "casefile.h"

/* Stand-in for SQL NULL among the integer values of a row. */
#define CAPTURE_NULL INT64_MIN

/* /proc's clock tick (USER_HZ 100), to which process start times are rounded. */
#define PROC_TICK_NS 10000000ull

/* A process's start as the capture stores it: rounded down to /proc's tick. */
int64_t process_start_ns(uint64_t start_ns);

/* The argument count of a macro, up to 40. */
#define COUNT_ARGS(...)                                                                            \
	COUNT_ARGS_(__VA_ARGS__, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25,   \
		    24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4,  \
		    3, 2, 1, 0)
#define COUNT_ARGS_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, _17,    \
		    _18, _19, _20, _21, _22, _23, _24, _25, _26, _27, _28, _29, _30, _31, _32,     \
		    _33, _34, _35, _36, _37, _38, _39, _40, n, ...)                                \
	n

/*
 * For each TABLE of kinds.def: struct name_row, one row of it (integers, or
 * CAPTURE_NULL; texts, or NULL), and COLUMNS_name, its number of columns.
 */
#define INT(column)  int64_t column;
#define TEXT(column) const char *column;
#define TABLE(name, table, COLUMNS)                                                                \
	struct name##_row {                                                                        \
		COLUMNS                                                                            \
	};
#include "kinds.def"
#undef INT
#undef TEXT

enum row_columns {
#define INT(column)		    +1
#define TEXT(column)		    +1
#define TABLE(name, table, COLUMNS) COLUMNS_##name = 0 COLUMNS,
#include "kinds.def"
#undef INT
#undef TEXT
};

#define TABLE(name, table, COLUMNS)                                                                \
	_Static_assert(COLUMNS_##name <= 40, "TABLE(" #name "): more columns than ROW() counts");
#include "kinds.def"

/*
 * ROW(name, var, .column = value, ...): struct name_row var, every column
 * given by name, once.  A value left out, one too many, a column the table
 * lacks or one given twice (-Woverride-init) fails the build.
 */
#define ROW(name, var, ...)                                                                        \
	_Static_assert(COUNT_ARGS(__VA_ARGS__) == COLUMNS_##name,                                  \
		       "ROW(" #name ", ...) gives each column of the table one value");            \
	struct name##_row var = {__VA_ARGS__}

/* How the capture was asked for, and the clocks at its start. */
struct capture_setup {
	const char *command_line;
	const char *event_kinds; /* "connect,accept,..." */
	bool record_type_enabled[RECORD_TYPES];
	const char *mechanism[RECORD_TYPES]; /* how each was recorded (record/mechanisms.c) */
	int64_t filter_pid;		     /* -1: none */
	int64_t filter_uid;		     /* -1: none */
	uint32_t ring_buffer_bytes;
	int part;		    /* 1, 2, ... for rotated recordings */
	int64_t base_ns;	    /* CLOCK_BOOTTIME */
	int64_t realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_BOOTTIME */
	int64_t started_at_ns;	    /* wall clock when this file begins */
	int64_t netns;		    /* the recorder's network namespace (inode number) */
};

struct capture;

/* What capture_create may replace at its path (-f, -ff): only ever a regular file. */
enum replace { REPLACE_NOTHING, REPLACE_CAPTURE, REPLACE_ANY_FILE };

/*
 * Create the file at path with mode 0600, refusing an existing file unless
 * replace allows it, never following a symbolic link, and its -wal and -shm
 * with it, so that no other user can plant or hold them.  Writes the schema.
 */
struct capture *capture_create(const char *path, enum replace replace);

/* Write the capture row and the kinds, and start the first batch. */
int capture_start(struct capture *cap, const struct capture_setup *setup);

/* Name a value of the recording kernel's enum sk_rst_reason. */
int capture_add_reset_reason(struct capture *cap, int64_t reason, const char *name);

/* Insert a task or an address; returns its row id, or -1. */
int64_t capture_add_task(struct capture *cap, const struct task_ctx *task);
int64_t capture_add_address(struct capture *cap, int ip_version, const char *text);

/* A cgroup's path (NULL: gone), unless the file has its id: 0, or -1. */
int capture_add_cgroup(struct capture *cap, int64_t id, const char *path);

/* Stacks: a module (build_id may be NULL), a stack, one of its frames; row id or -1. */
int64_t capture_add_module(struct capture *cap, const char *name, const char *build_id,
			   bool deleted);
/* cut_at: schema.sql's stack.cut_at, or CAPTURE_NULL. */
int64_t capture_add_stack(struct capture *cap, bool user, int frames, int64_t cut_at);

/* One frame: module, offset, symbol_offset may be CAPTURE_NULL, symbol NULL. */
struct frame_row {
	int64_t stack, depth, ip, module, offset, symbol_offset;
	const char *symbol;
};
int capture_add_frame(struct capture *cap, const struct frame_row *frame);
/*
 * The frames held by module (stack, depth, ip), into *frames (to free); and
 * a frame named again (its module, offset and symbol).  0, or -1 after one line.
 */
int capture_module_frames(struct capture *cap, int64_t module, struct frame_row **frames,
			  size_t *count);
int capture_rename_frame(struct capture *cap, const struct frame_row *frame);

/*
 * Write one row into a TABLE of kinds.def: capture_add_connect()...  Rows of
 * a table of INT columns only are inserted in batches: they reach the file
 * by the next commit, and a failure may be told by a later call.
 */
#define TABLE(name, table, COLUMNS)                                                                \
	int capture_add_##name(struct capture *cap, const struct name##_row *row);
#include "kinds.def"

/* A connect's outcome, into the row of its connect (t, seq), already written. */
struct connect_outcome {
	int64_t t, seq;
	int64_t lport; /* CAPTURE_NULL: keep the row's */
	int64_t outcome_state, error, latency_ns;
};
int capture_set_outcome(struct capture *cap, const struct connect_outcome *outcome);

/*
 * Losses of a record type between two looks (first_t, last_t: t, as the
 * events'): the row of (type, first_t), written or made longer.
 */
int capture_set_loss(struct capture *cap, enum record_type type, int64_t first_t, int64_t last_t,
		     uint64_t count);

/* Who lost records (table process_loss): pid and start_ns CAPTURE_NULL, comm NULL, for none. */
struct process_loss_row {
	enum record_type type;
	int64_t pid, start_ns;
	const char *comm; /* up to COMM_LEN bytes, not always terminated */
	uint64_t count;
};
int capture_clear_process_losses(struct capture *cap);
int capture_add_process_loss(struct capture *cap, const struct process_loss_row *row);

/* Runs of program (recording kinds) the kernel skipped: its skipped_run row, written or updated. */
int capture_set_skipped_runs(struct capture *cap, const char *program, const char *kinds,
			     uint64_t runs);

/* Commit the batch with the current counts, and start the next one. */
int capture_commit(struct capture *cap, const uint64_t recorded[RECORD_TYPES],
		   const uint64_t lost[RECORD_TYPES]);

/*
 * Final commit: stop time, reason, clean stop; leaves one self-contained file,
 * unless a reader holds it past a minute or asked_again (if given) says to hurry.
 */
int capture_finish(struct capture *cap, const char *stop_reason,
		   const uint64_t recorded[RECORD_TYPES], const uint64_t lost[RECORD_TYPES],
		   bool (*asked_again)(void));

/* Bytes on disk, the write-ahead log included. */
int64_t capture_size(const struct capture *cap);

/*
 * Bytes the database holds, uncommitted rows included: its size once closed,
 * but for the rows still waiting for their batch (a few KiB at most).
 */
int64_t capture_content_bytes(struct capture *cap);

/*
 * After a failure: give up the uncommitted batch and, if the disk still
 * takes a few bytes, record the error (NULL: SQLite's last, a write's) as
 * the stop reason.  Committed rows stay.
 */
void capture_abandon(struct capture *cap, const char *error);

/* Close; with discard, also delete the file (recording never started). */
void capture_close(struct capture *cap, bool discard);

#endif
