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

/* The row-writing statements; each takes integer values, in table order. */
enum capture_statement {
	INSERT_CONNECT,	    /* t, seq, task, saddr, lport, daddr, dport */
	UPDATE_OUTCOME,	    /* lport, outcome_state, error, latency_ns, t, seq */
	INSERT_ACCEPT,	    /* t, seq, task, laddr, lport, raddr, rport */
	INSERT_RESET,	    /* t, seq, task, laddr, lport, raddr, rport, state, reason */
	INSERT_CAPABLE,	    /* t, seq, task, cap, ret, userns_level, audit */
	INSERT_EVENT_STACK, /* seq, kstack, ustack */
	INSERT_EXIT,	    /* t, seq, task, exit_code, exe_deleted */
	INSERT_UNACCEPTED,  /* t, seq, established_t, laddr, lport, raddr, rport, closed_from,
			       error */
	CAPTURE_STATEMENTS,
};

/* How the capture was asked for, and the clocks at its start. */
struct capture_setup {
	const char *command_line;
	const char *event_kinds; /* "connect,accept,..." */
	bool record_type_enabled[RECORD_TYPES];
	int64_t filter_pid; /* -1: none */
	int64_t filter_uid; /* -1: none */
	uint32_t ring_buffer_bytes;
	int part;		    /* 1, 2, ... for rotated recordings */
	int64_t base_ns;	    /* CLOCK_BOOTTIME */
	int64_t realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_BOOTTIME */
	int64_t started_at_ns;	    /* wall clock when this file begins */
};

struct capture;

/* The name of each record type, as the event_kind table stores it. */
extern const char *const record_type_names[RECORD_TYPES];

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

/* Stacks: a module (build_id may be NULL), a stack, one of its frames; row id or -1. */
int64_t capture_add_module(struct capture *cap, const char *name, const char *build_id,
			   bool deleted);
int64_t capture_add_stack(struct capture *cap, bool user, int frames);

/* One frame: module, offset, symbol_offset may be CAPTURE_NULL, symbol NULL. */
struct frame_row {
	int64_t stack, depth, ip, module, offset, symbol_offset;
	const char *symbol;
};
int capture_add_frame(struct capture *cap, const struct frame_row *frame);

/* A process image; text fields may be NULL, integers CAPTURE_NULL. */
struct process_row {
	int64_t t, seq, pid, start_ns, ppid, uid, cgroup, mntns;
	const char *how; /* "exec", "fork", "running" */
	const char *comm;
	const char *exe;
	int64_t exe_deleted, exe_world_writable, exe_truncated;
	const char *filename;
	const char *args; /* arguments each ended by a NUL, as the kernel keeps them */
	size_t args_len;
	int64_t args_truncated;
};
int capture_add_process(struct capture *cap, const struct process_row *process);

/* One DNS answer: name resolved to the address row address. */
int capture_add_dns(struct capture *cap, int64_t t, int64_t seq, const char *name, int64_t address,
		    int64_t ttl);

/* Run one of the row statements with n integer values. */
int capture_write(struct capture *cap, enum capture_statement statement, const int64_t *values,
		  int n);

/* Commit the batch with the current counts, and start the next one. */
int capture_commit(struct capture *cap, const uint64_t recorded[RECORD_TYPES],
		   const uint64_t lost[RECORD_TYPES]);

/* Final commit: stop time, reason, clean stop; leaves one self-contained file. */
int capture_finish(struct capture *cap, const char *stop_reason,
		   const uint64_t recorded[RECORD_TYPES], const uint64_t lost[RECORD_TYPES]);

/* Bytes on disk, the write-ahead log included. */
int64_t capture_size(const struct capture *cap);

/* Bytes the database holds, uncommitted rows included: its size once closed. */
int64_t capture_content_bytes(struct capture *cap);

/*
 * After a failed write: give up the uncommitted batch and, if the disk still
 * takes a few bytes, record the error as the stop reason.  Committed rows stay.
 */
void capture_abandon(struct capture *cap);

const char *capture_path(const struct capture *cap);

/* Close; with discard, also delete the file (recording never started). */
void capture_close(struct capture *cap, bool discard);

#endif
