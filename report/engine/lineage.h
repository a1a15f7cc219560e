/*
 * Who did it: the image a process ran at an event's time (its executable,
 * marked when deleted or in a world-writable directory, its command line)
 * and its parents, from the capture's process lives (README, Processes and
 * DNS).  A process is (pid, start_ns); it has an image per exec, from its
 * fork (its parent's image) and from when the recorder read /proc.
 */
#ifndef CASEFILE_REPORT_LINEAGE_H
#define CASEFILE_REPORT_LINEAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "output.h"

/* Parents named in a chain, at most (a loop in a corrupt capture ends there too). */
#define LINEAGE_DEPTH_MAX 32

/* What a standard stream of an exec was (the process table's stdin, stdout, stderr). */
enum image_stream {
	IMAGE_STREAM_UNKNOWN, /* not recorded: a fork, a process already running */
	IMAGE_STREAM_CLOSED,
	IMAGE_STREAM_TTY,
	IMAGE_STREAM_PIPE,
	IMAGE_STREAM_FILE,
	IMAGE_STREAM_DEVICE,
	IMAGE_STREAM_UNIX,
	IMAGE_STREAM_TCP,
	IMAGE_STREAM_SOCKET,
	IMAGE_STREAM_OTHER,
};

/* An image of a process, from one row of the process table. */
struct image {
	int64_t pid, start_ns, ppid, uid;
	int64_t t;	 /* when it began: the exec, the fork, or when /proc was read */
	int64_t first_t; /* when the process was first seen (its fork, mostly) */
	const char *how; /* "exec", "fork", "running" */
	const char *comm;
	size_t comm_len;
	const char *exe; /* NULL: unknown (a kernel thread) */
	size_t exe_len;
	const char
		*exe_marked; /* exe, then " (deleted)" and " (world-writable dir)" as they hold */
	size_t exe_marked_len;
	bool deleted;	     /* gone or replaced when read, or by the process's exit */
	bool world_writable; /* its directory is writable by anyone (/tmp...) */
	bool default_name;   /* a compiler's default output name (a.out...) */
	const char *args;    /* shell-quoted command line; NULL: unknown */
	size_t args_len;
	const char *parents; /* "sh(7472) < bash(7371) < systemd(1)" */
	size_t parents_len;
	int64_t row;	       /* its place in the capture's process index: names the image */
	uint8_t streams[3];    /* an exec's fds 0, 1, 2 (enum image_stream) */
	bool has_tcp;	       /* one of them is a TCP socket: */
	int64_t tcp[4];	       /* its laddr (address.id), lport, raddr, rport */
	int64_t pipes[3];      /* each stream's pipe, as the process table says; 0: no pipe */
	bool parent_has_tcp;   /* an exec whose parent then held an established TCP connection: */
	int64_t parent_tcp[4]; /* its laddr (address.id), lport, raddr, rport */
};

/*
 * The image process (pid, start_ns) ran at t: the latest that began at or
 * before t, else its first.  1 and *image (valid until the next lineage
 * call on cap), 0 when the capture knows no such process (or has no process
 * lives), -1 after one line on stderr.
 */
int lineage_image(struct capture *cap, int64_t pid, int64_t start_ns, int64_t t,
		  const struct image **image);

/*
 * Whether that image's program stands out (deleted, in a world-writable
 * directory, a compiler's default name), from the index alone: 1 or 0 (also
 * when the capture knows no such process), -1 after one line.  Far cheaper
 * than the image itself, for a question asked per event.
 */
int lineage_stands_out(struct capture *cap, int64_t pid, int64_t start_ns, int64_t t);

/*
 * The processes with this pid, in start order: *start_ns after `after`
 * (INT64_MIN: the first).  1 found, 0 no more, -1 after one line.
 */
int lineage_next_process(struct capture *cap, int64_t pid, int64_t after, int64_t *start_ns);

/*
 * Image number n (0 first) of process (pid, start_ns), in time order: 1 and
 * *image as lineage_image gives it, 0 past the last, -1 after one line.
 */
int lineage_nth_image(struct capture *cap, int64_t pid, int64_t start_ns, int n,
		      const struct image **image);

/*
 * The parent of a process as its image names it, as it was when the
 * process was first seen: 1 and its (pid, start_ns), 0 when the capture
 * does not know it, -1 after one line.
 */
int lineage_parent(struct capture *cap, const struct image *child, int64_t *pid, int64_t *start_ns);

/*
 * The children of process (pid, start_ns), in birth order, from those born at
 * or after from_t: *cursor 0 for the first, then as left by the call before.
 * 1 and the child's (pid, start_ns) and its first row's t (its fork, mostly),
 * 0 no more, -1 after one line.
 */
int lineage_children(struct capture *cap, int64_t pid, int64_t start_ns, int64_t from_t,
		     size_t *cursor, int64_t *child_pid, int64_t *child_start, int64_t *child_t);

/*
 * The execs whose stdin (fd 0: its readers) or stdout (fd 1: its writers)
 * is pipe (an image's pipes[]): *cursor 0 for the first, then as left by
 * the call before.  1 and the exec's (pid, start_ns) and t, 0 no more, -1
 * after one line.
 */
int lineage_pipe_end(struct capture *cap, int64_t pipe, int fd, size_t *cursor, int64_t *pid,
		     int64_t *start_ns, int64_t *t);

/*
 * The exit of process (pid, start_ns): 1 and its t and the uid it then ran as
 * (a setuid() without an exec shows only there), 0 when the capture saw none,
 * -1 after one line.
 */
int lineage_exit(struct capture *cap, int64_t pid, int64_t start_ns, int64_t *exit_t,
		 int64_t *exit_uid);

/* Where a process ran, as its newest process row says; -1: not known. */
struct process_where {
	int64_t netns, nspid, cgroup;
};

/*
 * Where process (pid, start_ns) ran: 1 and *where, 0 when the capture does
 * not say (no such process, or made before namespaces), -1 after one line.
 */
int lineage_where(struct capture *cap, int64_t pid, int64_t start_ns, struct process_where *where);

/* The fields of -l (--lineage): EXE and PARENTS in a table; exe and its marks, args, parents. */
enum {
	LINEAGE_EXE_MARKED,
	LINEAGE_EXE,
	LINEAGE_DELETED,
	LINEAGE_WORLD_WRITABLE,
	LINEAGE_ARGS,
	LINEAGE_PARENTS,
	LINEAGE_FIELDS
};

void lineage_fields(struct field fields[LINEAGE_FIELDS], bool shown);

/*
 * To fit a terminal, the lineage columns at fields[first...] go after the
 * view's own columns, asked for as they were (-l): PARENTS, then EXE.
 */
void lineage_fit(int first);

/*
 * Their values for an event of the task (NULL: none) at t, valid until the
 * next lineage call on cap; null when the capture does not know the
 * process.  0, or -1 after one line on stderr.
 */
int lineage_values(struct capture *cap, const struct task *task, int64_t t,
		   struct value values[LINEAGE_FIELDS]);

#endif
