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

/* The row-writing statements; each takes integer values, in table order. */
enum capture_statement {
	INSERT_CONNECT, /* t, seq, task, saddr, lport, daddr, dport, outcome_state, error,
			   latency_ns */
	UPDATE_OUTCOME, /* lport, outcome_state, error, latency_ns, t, seq */
	INSERT_ACCEPT,	/* t, seq, task, laddr, lport, raddr, rport */
	INSERT_RESET,	/* t, seq, task, laddr, lport, raddr, rport, state, reason */
	INSERT_CAPABLE, /* t, seq, task, cap, ret, userns_level, audit */
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
	int64_t base_ns;	    /* CLOCK_BOOTTIME */
	int64_t realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_BOOTTIME */
};

struct capture;

/* The name of each record type, as the event_kind table stores it. */
extern const char *const record_type_names[RECORD_TYPES];

/*
 * Create the file at path with mode 0600, refusing an existing file unless
 * replace is set, and never following a symbolic link.  Writes the schema.
 */
struct capture *capture_create(const char *path, bool replace);

/* Write the capture row and the kinds, and start the first batch. */
int capture_start(struct capture *cap, const struct capture_setup *setup);

/* Name a value of the recording kernel's enum sk_rst_reason. */
int capture_add_reset_reason(struct capture *cap, int64_t reason, const char *name);

/* Insert a task or an address; returns its row id, or -1. */
int64_t capture_add_task(struct capture *cap, const struct task_ctx *task);
int64_t capture_add_address(struct capture *cap, int ip_version, const char *text);

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

const char *capture_path(const struct capture *cap);

/* Close; with discard, also delete the file (recording never started). */
void capture_close(struct capture *cap, bool discard);

#endif
