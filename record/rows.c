/* From ring-buffer records to capture rows. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cgroups.h"
#include "dedup.h"
#include "dns.h"
#include "kinds.h"
#include "procinfo.h"
#include "rows.h"
#include "util.h"

/* Bounds on the recorder's memory of what it has written (see dedup.h). */
#define MAX_CACHED_TASKS       65536
#define MAX_CACHED_ADDRESSES   65536
#define MAX_CONNECTS_IN_FLIGHT 65536 /* as connects_in_flight holds (bpf/tcp.bpf.c) */
#define MAX_WAITING_CONNECTS   4096
#define TASK_KEY_BYTES	       (offsetof(struct task_ctx, comm) + COMM_LEN) /* no padding */

struct address_key {
	uint32_t family;
	uint8_t addr[16];
};

/* A connect's identity until its outcome: the socket, and when it began. */
struct connect_key {
	uint64_t sock;
	uint64_t start_ns;
};

/*
 * A connect's row waits in memory for its outcome, which mostly follows
 * within microseconds: then one INSERT carries both, where an INSERT and an
 * UPDATE took a fifth of the recorder's time on TCP churn (bench).  What
 * still waits at a commit, at a new part, or when too many wait, is written
 * without its outcome, and an outcome arriving later updates its row.
 */
struct waiting_connect {
	struct connect_key key;
	struct connect_row row;
	bool written; /* with its outcome */
};

struct rows {
	int64_t base_ns;
	int64_t next_seq;
	struct dedup *tasks; /* task_ctx -> task.id, in the current part */
	/*
	 * The last task found, and its task.id in the current part (-1: none):
	 * a storm's records come from one task, compared in fewer
	 * instructions than it is hashed.
	 */
	struct task_ctx last_task;
	int64_t last_task_id;
	struct dedup *addresses; /* address_key -> address.id, in the current part */
	/*
	 * The last two addresses found, and their address.id in the current
	 * part (-1: none): a connection's rows name the same two, compared in
	 * fewer instructions than they are hashed (bench: the hashing was a
	 * twentieth of the recorder's time on TCP churn).
	 */
	struct address_key last_addresses[2];
	int64_t last_address_ids[2];
	unsigned last_address_next; /* the one to replace */
	struct dedup *connects;	    /* connect_key -> seq of its ev_connect row, written */
	struct dedup *waiting;	    /* connect_key -> index in waiting_rows, not written yet */
	struct waiting_connect waiting_rows[MAX_WAITING_CONNECTS];
	unsigned nwaiting;
	struct audit_deriver *audit;
	struct stack_store *stacks;
	unsigned kernel_stack_types, user_stack_types; /* which to store */
	struct part parts[MAX_OPEN_PARTS];
	size_t nparts;
	uint64_t total_recorded;
	bool insert_failed; /* a task or address row could not be written */
};

struct rows *rows_new(int64_t base_ns, struct audit_deriver *audit)
{
	struct rows *rows = xcalloc(1, sizeof(*rows));

	rows->base_ns = base_ns;
	rows->next_seq = 1;
	rows->tasks = dedup_new(TASK_KEY_BYTES, MAX_CACHED_TASKS);
	rows->last_task_id = -1;
	rows->addresses = dedup_new(sizeof(struct address_key), MAX_CACHED_ADDRESSES);
	rows->last_address_ids[0] = rows->last_address_ids[1] = -1;
	rows->connects = dedup_new(sizeof(struct connect_key), MAX_CONNECTS_IN_FLIGHT);
	rows->waiting = dedup_new(sizeof(struct connect_key), MAX_WAITING_CONNECTS);
	rows->audit = audit;
	return rows;
}

void rows_free(struct rows *rows)
{
	if (!rows)
		return;
	dedup_free(rows->tasks);
	dedup_free(rows->addresses);
	dedup_free(rows->connects);
	dedup_free(rows->waiting);
	free(rows);
}

void rows_set_symbols(struct rows *rows, struct audit_deriver *audit, struct stack_store *stacks,
		      unsigned kernel_stack_types, unsigned user_stack_types)
{
	rows->audit = audit;
	rows->stacks = stacks;
	rows->kernel_stack_types = kernel_stack_types;
	rows->user_stack_types = user_stack_types;
}

/* The part rows go to; rows_begin_part() has been called. */
static struct part *current_part(struct rows *rows)
{
	return &rows->parts[rows->nparts - 1];
}

int rows_begin_part(struct rows *rows, struct capture *cap,
		    const uint64_t kernel_lost[RECORD_TYPES])
{
	struct part *part;

	if (rows->nparts) {
		/* Waiting connects belong to the part they began in. */
		if (rows_flush(rows))
			return -1;
		part = current_part(rows);
		part->current = false;
		memcpy(part->kernel_lost_at_end, kernel_lost, sizeof(part->kernel_lost_at_end));
	}
	part = &rows->parts[rows->nparts++];
	*part = (struct part){.cap = cap, .first_seq = rows->next_seq, .current = true};
	memcpy(part->kernel_lost_at_start, kernel_lost, sizeof(part->kernel_lost_at_start));
	/* Task, address and stack rows are per file. */
	if (rows->stacks)
		stack_store_reset(rows->stacks);
	dedup_free(rows->tasks);
	dedup_free(rows->addresses);
	cgroups_begin_file();
	rows->tasks = dedup_new(TASK_KEY_BYTES, MAX_CACHED_TASKS);
	rows->last_task_id = -1;
	rows->addresses = dedup_new(sizeof(struct address_key), MAX_CACHED_ADDRESSES);
	rows->last_address_ids[0] = rows->last_address_ids[1] = -1;
	return 0;
}

struct capture *rows_current_capture(struct rows *rows)
{
	return current_part(rows)->cap;
}

const uint64_t *rows_recorded(struct rows *rows)
{
	return current_part(rows)->recorded;
}

struct part *rows_parts(struct rows *rows, size_t *count)
{
	*count = rows->nparts;
	return rows->parts;
}

bool rows_take_part(struct rows *rows, bool any, struct part *out)
{
	for (size_t i = 0; i < rows->nparts; i++) {
		if (!any && (rows->parts[i].current || rows->parts[i].awaiting_outcome))
			continue;
		*out = rows->parts[i];
		memmove(&rows->parts[i], &rows->parts[i + 1],
			(rows->nparts - i - 1) * sizeof(rows->parts[0]));
		rows->nparts--;
		return true;
	}
	return false;
}

uint64_t rows_total_recorded(const struct rows *rows)
{
	return rows->total_recorded;
}

/* The open part holding the row numbered seq, or NULL if it was closed. */
static struct part *part_of_seq(struct rows *rows, int64_t seq)
{
	for (size_t i = rows->nparts; i-- > 0;)
		if (seq >= rows->parts[i].first_seq)
			return &rows->parts[i];
	return NULL;
}

/* task.id for the record's task; CAPTURE_NULL when it has none, or on error. */
static int64_t task_id(struct rows *rows, const struct record_header *hdr,
		       const struct task_ctx *task)
{
	int64_t id;

	if (!hdr->has_task)
		return CAPTURE_NULL;
	if (rows->last_task_id >= 0 && !memcmp(task, &rows->last_task, TASK_KEY_BYTES))
		return rows->last_task_id;
	id = dedup_find(rows->tasks, task);
	if (id < 0) {
		struct capture *cap = current_part(rows)->cap;

		id = cgroups_note(cap, (int64_t)task->cgroup_id) ? -1 : capture_add_task(cap, task);
		if (id < 0) {
			rows->insert_failed = true;
			return CAPTURE_NULL;
		}
		dedup_add(rows->tasks, task, id);
	}
	memcpy(&rows->last_task, task, TASK_KEY_BYTES);
	rows->last_task_id = id;
	return id;
}

/* address.id for one side of a tuple; CAPTURE_NULL if the family is unknown, or on error. */
static int64_t address_id(struct rows *rows, unsigned family, const uint8_t *addr)
{
	struct address_key key = {.family = family};
	char text[INET6_ADDRSTRLEN];
	int64_t id;

	if (family != AF_INET && family != AF_INET6)
		return CAPTURE_NULL;
	memcpy(key.addr, addr, family == AF_INET ? 4 : 16);
	for (int i = 0; i < 2; i++)
		if (rows->last_address_ids[i] >= 0 &&
		    !memcmp(&key, &rows->last_addresses[i], sizeof(key)))
			return rows->last_address_ids[i];
	id = dedup_find(rows->addresses, &key);
	if (id < 0) {
		inet_ntop((int)family, key.addr, text, sizeof(text));
		id = capture_add_address(current_part(rows)->cap, family == AF_INET ? 4 : 6, text);
		if (id < 0) {
			rows->insert_failed = true;
			return CAPTURE_NULL;
		}
		dedup_add(rows->addresses, &key, id);
	}
	rows->last_addresses[rows->last_address_next] = key;
	rows->last_address_ids[rows->last_address_next] = id;
	rows->last_address_next ^= 1;
	return id;
}

static int64_t relative_time(const struct rows *rows, uint64_t ts_ns)
{
	return (int64_t)ts_ns - rows->base_ns;
}

static int64_t null_if(int64_t value, int64_t absent)
{
	return value == absent ? CAPTURE_NULL : value;
}

/* Write a row into table name of the current part, unless one of its task or address rows failed.
 */
#define WRITE_ROW(rows, name, row)                                                                 \
	((rows)->insert_failed ? -1 : capture_add_##name(current_part(rows)->cap, &(row)))

int rows_flush(struct rows *rows)
{
	struct capture *cap = current_part(rows)->cap;

	for (unsigned i = 0; i < rows->nwaiting; i++) {
		struct waiting_connect *w = &rows->waiting_rows[i];

		if (w->written)
			continue;
		if (capture_add_connect(cap, &w->row))
			return -1;
		dedup_remove(rows->waiting, &w->key);
		dedup_add(rows->connects, &w->key, w->row.seq);
	}
	rows->nwaiting = 0;
	return rows->stacks ? stack_store_name_unseen(rows->stacks, cap) : 0;
}

static int add_connect(struct rows *rows, const void *data)
{
	const struct connect_record *rec = data;
	const struct tcp_tuple *tuple = &rec->tuple;
	struct waiting_connect *w;

	if (rows->nwaiting == MAX_WAITING_CONNECTS && rows_flush(rows))
		return -1;
	ROW(connect, row, .t = relative_time(rows, rec->hdr.ts_ns), .seq = rows->next_seq++,
	    .task = task_id(rows, &rec->hdr, &rec->task),
	    .saddr = address_id(rows, tuple->family, tuple->laddr),
	    .lport = null_if(tuple->lport, 0),
	    .daddr = address_id(rows, tuple->family, tuple->raddr), .dport = tuple->rport,
	    .outcome_state = CAPTURE_NULL, .error = CAPTURE_NULL, .latency_ns = CAPTURE_NULL);
	if (rows->insert_failed)
		return -1;
	w = &rows->waiting_rows[rows->nwaiting];
	*w = (struct waiting_connect){.key = {rec->sock, rec->hdr.ts_ns}, .row = row};
	dedup_add(rows->waiting, &w->key, rows->nwaiting++);
	current_part(rows)->awaiting_outcome++;
	return 0;
}

/*
 * An outcome completes its connect: in memory, written whole; or in whichever
 * part holds its row already.
 */
static int add_outcome(struct rows *rows, const void *data)
{
	const struct outcome_record *rec = data;
	struct connect_key key = {rec->sock, rec->start_ns};
	int64_t waiting = dedup_remove(rows->waiting, &key);
	int64_t seq = waiting >= 0 ? -1 : dedup_remove(rows->connects, &key);
	struct part *part = waiting >= 0 ? current_part(rows)
			    : seq < 0	 ? NULL
					 : part_of_seq(rows, seq);
	struct connect_outcome outcome = {
		.t = relative_time(rows, rec->start_ns),
		.seq = seq,
		.lport = null_if(rec->lport, 0),
		.outcome_state = rec->new_state,
		.error = rec->error,
		.latency_ns = (int64_t)(rec->hdr.ts_ns - rec->start_ns),
	};
	int err;

	if (!part) {
		current_part(rows)->dropped[RECORD_OUTCOME]++; /* its connect was forgotten */
		return 0;
	}
	if (waiting >= 0) {
		struct waiting_connect *w = &rows->waiting_rows[waiting];

		if (rec->lport)
			w->row.lport = rec->lport;
		w->row.outcome_state = outcome.outcome_state;
		w->row.error = outcome.error;
		w->row.latency_ns = outcome.latency_ns;
		w->written = true;
		err = capture_add_connect(part->cap, &w->row);
	} else {
		err = capture_set_outcome(part->cap, &outcome);
	}
	if (err)
		return -1;
	part->awaiting_outcome--;
	part->recorded[RECORD_OUTCOME]++;
	rows->total_recorded++;
	return 0;
}

static int add_accept(struct rows *rows, const void *data)
{
	const struct accept_record *rec = data;
	const struct tcp_tuple *tuple = &rec->tuple;
	ROW(accept, row, .t = relative_time(rows, rec->hdr.ts_ns), .seq = rows->next_seq++,
	    .task = task_id(rows, &rec->hdr, &rec->task),
	    .laddr = address_id(rows, tuple->family, tuple->laddr), .lport = tuple->lport,
	    .raddr = address_id(rows, tuple->family, tuple->raddr), .rport = tuple->rport);

	return WRITE_ROW(rows, accept, row);
}

static int add_reset(struct rows *rows, const void *data)
{
	const struct reset_record *rec = data;
	const struct tcp_tuple *tuple = &rec->tuple;
	ROW(reset, row, .t = relative_time(rows, rec->hdr.ts_ns), .seq = rows->next_seq++,
	    .task = task_id(rows, &rec->hdr, &rec->task),
	    .laddr = address_id(rows, tuple->family, tuple->laddr), .lport = tuple->lport,
	    .raddr = address_id(rows, tuple->family, tuple->raddr), .rport = tuple->rport,
	    .state = null_if(rec->state, RESET_NO_SOCKET),
	    .reason = null_if(rec->reason, RESET_REASON_UNKNOWN),
	    .netns = netns_column(rec->netns));

	return WRITE_ROW(rows, reset, row);
}

static int add_capable(struct rows *rows, const void *data)
{
	const struct capable_record *rec = data;
	int audit = rec->audit == CAPABLE_AUDIT_FROM_STACK ? AUDIT_UNKNOWN : rec->audit;
	int denies = rec->denies == CAPABLE_DENIES_UNKNOWN ? AUDIT_UNKNOWN : rec->denies;

	if (rows->audit)
		verdict_of_check(rows->audit, rec, &audit, &denies);
	ROW(capable, row, .t = relative_time(rows, rec->hdr.ts_ns), .seq = rows->next_seq++,
	    .task = task_id(rows, &rec->hdr, &rec->task), .cap = rec->cap, .ret = rec->ret,
	    .userns_level = rec->userns_level, .audit = null_if(audit, AUDIT_UNKNOWN),
	    .denies = null_if(denies, AUDIT_UNKNOWN));

	return WRITE_ROW(rows, capable, row);
}

/* The executable's path, built from the end of rec->exe by the BPF program. */
static void exe_path(const struct exec_record *rec, char *path)
{
	size_t from = rec->exe_offset < EXE_PATH_MAX ? rec->exe_offset : EXE_PATH_MAX;

	memcpy(path, rec->exe + from, EXE_PATH_MAX - from);
	path[EXE_PATH_MAX - from] = '\0';
}

/* A standard stream as the process table names it (enum stream_kind); NULL: not read. */
static const char *stream_name(uint8_t kind)
{
	static const char *const names[] = {
		[STREAM_CLOSED] = "closed", [STREAM_TTY] = "tty",	[STREAM_PIPE] = "pipe",
		[STREAM_FILE] = "file",	    [STREAM_DEVICE] = "device", [STREAM_UNIX] = "unix",
		[STREAM_TCP] = "tcp",	    [STREAM_SOCKET] = "socket", [STREAM_OTHER] = "other",
	};

	return kind < ARRAY_SIZE(names) ? names[kind] : NULL;
}

/* A standard stream's pipe (the inode both its ends share); NULL when it is no pipe. */
static int64_t pipe_of(const struct exec_record *rec, int fd)
{
	return rec->streams[fd] == STREAM_PIPE ? (int64_t)rec->stream_pipe[fd] : CAPTURE_NULL;
}

static int add_exec(struct rows *rows, const void *data)
{
	const struct exec_record *rec = data;
	const struct task_ctx *task = &rec->task;
	char exe[EXE_PATH_MAX + 1], filename[EXEC_FILENAME_MAX + 1], comm[COMM_LEN + 1];
	bool whole = !rec->exe_truncated && rec->exe_offset < EXE_PATH_MAX;
	bool tcp = rec->stream_tcp != 0, parent_tcp = rec->parent_tcp != 0;
	const struct tcp_tuple *tuple = &rec->stream_tuple, *held = &rec->parent_tuple;
	char *command_line = quote_arguments(
		rec->args, rec->args_len < EXEC_ARGS_MAX ? rec->args_len : EXEC_ARGS_MAX);
	int err;

	exe_path(rec, exe);
	snprintf(comm, sizeof(comm), "%.*s", COMM_LEN, task->comm);
	snprintf(filename, sizeof(filename), "%.*s", EXEC_FILENAME_MAX, rec->filename);
	/* A path cut at its front names another file: nothing can be told of it. */
	ROW(process, row, .t = relative_time(rows, rec->hdr.ts_ns), .seq = rows->next_seq++,
	    .how = "exec", .pid = task->pid, .start_ns = process_start_ns(task->start_ns),
	    .ppid = task->ppid, .uid = task->uid, .comm = comm, .exe = exe,
	    .exe_deleted = whole ? executable_deleted(task->pid, task->mntns_id, exe, rec->exe_ino,
						      rec->exe_dev)
				 : CAPTURE_NULL,
	    .exe_world_writable =
		    whole ? in_world_writable_dir(task->pid, task->mntns_id, exe) : CAPTURE_NULL,
	    .exe_truncated = rec->exe_truncated, .filename = filename, .args = command_line,
	    .args_truncated = rec->args_truncated, .cgroup = (int64_t)task->cgroup_id,
	    .mntns = task->mntns_id, .stdin = stream_name(rec->streams[0]),
	    .stdout = stream_name(rec->streams[1]), .stderr = stream_name(rec->streams[2]),
	    .tcp_laddr = tcp ? address_id(rows, tuple->family, tuple->laddr) : CAPTURE_NULL,
	    .tcp_lport = tcp ? tuple->lport : CAPTURE_NULL,
	    .tcp_raddr = tcp ? address_id(rows, tuple->family, tuple->raddr) : CAPTURE_NULL,
	    .tcp_rport = tcp ? tuple->rport : CAPTURE_NULL, .netns = task->netns_id,
	    .nspid = task->nspid, .stdin_pipe = pipe_of(rec, 0), .stdout_pipe = pipe_of(rec, 1),
	    .stderr_pipe = pipe_of(rec, 2),
	    .parent_tcp_laddr =
		    parent_tcp ? address_id(rows, held->family, held->laddr) : CAPTURE_NULL,
	    .parent_tcp_lport = parent_tcp ? held->lport : CAPTURE_NULL,
	    .parent_tcp_raddr =
		    parent_tcp ? address_id(rows, held->family, held->raddr) : CAPTURE_NULL,
	    .parent_tcp_rport = parent_tcp ? held->rport : CAPTURE_NULL);

	err = cgroups_note(current_part(rows)->cap, row.cgroup) ||
	      capture_add_process(current_part(rows)->cap, &row);
	free(command_line);
	return err;
}

/* A new process runs its parent's image until it execs. */
static int add_fork(struct rows *rows, const void *data)
{
	const struct fork_record *rec = data;
	const struct task_ctx *parent = &rec->task;
	char comm[COMM_LEN + 1];

	snprintf(comm, sizeof(comm), "%.*s", COMM_LEN, parent->comm);
	ROW(process, row, .t = relative_time(rows, rec->hdr.ts_ns), .seq = rows->next_seq++,
	    .how = "fork", .pid = rec->child_pid, .start_ns = process_start_ns(rec->child_start_ns),
	    .ppid = parent->pid, .uid = parent->uid, .comm = comm, .exe = NULL,
	    .exe_deleted = CAPTURE_NULL, .exe_world_writable = CAPTURE_NULL,
	    .exe_truncated = CAPTURE_NULL, .filename = NULL, .args = NULL,
	    .args_truncated = CAPTURE_NULL, .cgroup = (int64_t)parent->cgroup_id,
	    .mntns = parent->mntns_id, .stdin = NULL, .stdout = NULL, .stderr = NULL,
	    .tcp_laddr = CAPTURE_NULL, .tcp_lport = CAPTURE_NULL, .tcp_raddr = CAPTURE_NULL,
	    .tcp_rport = CAPTURE_NULL, .netns = parent->netns_id, .nspid = CAPTURE_NULL,
	    .stdin_pipe = CAPTURE_NULL, .stdout_pipe = CAPTURE_NULL, .stderr_pipe = CAPTURE_NULL,
	    .parent_tcp_laddr = CAPTURE_NULL, .parent_tcp_lport = CAPTURE_NULL,
	    .parent_tcp_raddr = CAPTURE_NULL, .parent_tcp_rport = CAPTURE_NULL);

	return cgroups_note(current_part(rows)->cap, row.cgroup) ||
	       capture_add_process(current_part(rows)->cap, &row);
}

static int add_exit(struct rows *rows, const void *data)
{
	const struct exit_record *rec = data;
	ROW(exit, row, .t = relative_time(rows, rec->hdr.ts_ns), .seq = rows->next_seq++,
	    .task = task_id(rows, &rec->hdr, &rec->task), .exit_code = rec->exit_code,
	    .exe_deleted = null_if(rec->exe_deleted, -1));

	return WRITE_ROW(rows, exit, row);
}

struct dns_context {
	struct rows *rows;
	int64_t t;
};

static int add_dns_answer(void *ctx, const char *name, int family, const uint8_t *addr,
			  uint32_t ttl)
{
	struct dns_context *dns = ctx;
	struct rows *rows = dns->rows;
	ROW(dns, row, .t = dns->t, .seq = rows->next_seq++, .name = name,
	    .address = address_id(rows, (unsigned)family, addr), .ttl = ttl);

	return WRITE_ROW(rows, dns, row);
}

static int add_dns(struct rows *rows, const void *data)
{
	const struct dns_record *rec = data;
	struct dns_context ctx = {rows, relative_time(rows, rec->hdr.ts_ns)};

	return dns_each_answer(rec->message,
			       rec->len < DNS_MESSAGE_MAX ? rec->len : DNS_MESSAGE_MAX,
			       add_dns_answer, &ctx);
}

static int add_unaccepted(struct rows *rows, const void *data)
{
	const struct unaccepted_record *rec = data;
	const struct tcp_tuple *tuple = &rec->tuple;
	ROW(unaccepted, row, .t = relative_time(rows, rec->hdr.ts_ns), .seq = rows->next_seq++,
	    .established_t = relative_time(rows, rec->established_ns),
	    .laddr = address_id(rows, tuple->family, tuple->laddr), .lport = tuple->lport,
	    .raddr = address_id(rows, tuple->family, tuple->raddr), .rport = tuple->rport,
	    .closed_from = rec->old_state, .error = rec->error, .netns = netns_column(rec->netns));

	return WRITE_ROW(rows, unaccepted, row);
}

/* TCP states (include/net/tcp_states.h), and the errors a reset leaves. */
enum {
	STATE_ESTABLISHED = 1,
	STATE_SYN_SENT,
	STATE_SYN_RECV,
	STATE_FIN_WAIT1,
	STATE_FIN_WAIT2,
	STATE_TIME_WAIT,
	STATE_CLOSE_WAIT = 8,
	STATE_LAST_ACK,
	STATE_CLOSING = 11,
};
enum { CLOSED_BY_OUR_FIN = 1, CLOSED_BY_THEIR_FIN, CLOSED_BY_OUR_RST, CLOSED_BY_THEIR_RST };

/*
 * Who closed first, from the state the socket closed from: a FIN of ours
 * leads through FIN_WAIT1 (then FIN_WAIT2, CLOSING, TIME_WAIT), one of
 * theirs through CLOSE_WAIT (then LAST_ACK); straight from an open state it
 * was a RST: theirs when it left the error tcp_reset() sets (ECONNRESET, or
 * ECONNREFUSED to a connect), else ours (an abortive close).  A connect that
 * timed out or was unreachable was closed by no one.
 */
static int64_t closed_by(uint32_t old_state, uint32_t error)
{
	switch (old_state) {
	case STATE_FIN_WAIT1:
	case STATE_FIN_WAIT2:
	case STATE_TIME_WAIT:
	case STATE_CLOSING:
		return CLOSED_BY_OUR_FIN;
	case STATE_CLOSE_WAIT:
	case STATE_LAST_ACK:
		return CLOSED_BY_THEIR_FIN;
	case STATE_SYN_SENT:
		if (error == ETIMEDOUT || error == ENETUNREACH || error == EHOSTUNREACH)
			return CAPTURE_NULL;
		return error == ECONNREFUSED ? CLOSED_BY_THEIR_RST : CLOSED_BY_OUR_RST;
	default:
		return error == ECONNRESET || error == EPIPE ? CLOSED_BY_THEIR_RST
							     : CLOSED_BY_OUR_RST;
	}
}

static int add_close(struct rows *rows, const void *data)
{
	const struct close_record *rec = data;
	const struct tcp_tuple *tuple = &rec->tuple;
	ROW(close, row, .t = relative_time(rows, rec->hdr.ts_ns), .seq = rows->next_seq++,
	    .task = task_id(rows, &rec->hdr, &rec->task),
	    .laddr = address_id(rows, tuple->family, tuple->laddr), .lport = tuple->lport,
	    .raddr = address_id(rows, tuple->family, tuple->raddr), .rport = tuple->rport,
	    .start_t = rec->start_ns ? relative_time(rows, rec->start_ns) : CAPTURE_NULL,
	    .established = rec->established, .bytes_sent = (int64_t)rec->bytes_acked,
	    .bytes_received = (int64_t)rec->bytes_received, .segs_in = rec->segs_in,
	    .segs_out = rec->segs_out, .retransmits = rec->retransmits,
	    .closed_from = rec->old_state, .error = rec->error,
	    .closed_by = closed_by(rec->old_state, rec->error), .netns = netns_column(rec->netns));

	return WRITE_ROW(rows, close, row);
}

int rows_add_running_processes(struct rows *rows)
{
	return snapshot_processes(current_part(rows)->cap,
				  relative_time(rows, (uint64_t)clock_ns(CLOCK_BOOTTIME)),
				  &rows->next_seq);
}

/*
 * Each record type of kinds.def: its fixed part, where its struct stacks lies
 * (0: none), and add_name(), which makes rows of it (0: done and counted;
 * -1: the capture failed).
 */
static const struct record_layout {
	size_t size, stacks;
	int (*add)(struct rows *rows, const void *data);
} layouts[RECORD_TYPES] = {
#define RECORD(name, NAME, KIND, stacks)                                                           \
	[RECORD_##NAME] = {sizeof(struct name##_record),                                           \
			   RECORD_STACKS_AT_##stacks(struct name##_record), add_##name},
#include "kinds.def"
};

/* Frames of n bytes from a taken stack, or none. */
/* Kernel frames are addresses; user frames, struct bpf_stack_build_id. */
static int frame_count(int32_t bytes, size_t frame_size)
{
	return bytes > 0 ? bytes / (int)frame_size : 0;
}

/* A record's size must cover its fixed part and the frames it says follow. */
static bool well_formed(const void *data, size_t size)
{
	const struct record_header *hdr = data;
	const struct stacks *stacks;

	if (size < sizeof(*hdr) || hdr->type >= RECORD_TYPES || size < layouts[hdr->type].size)
		return false;
	if (hdr->type == RECORD_CAPABLE && ((const struct capable_record *)data)->has_path &&
	    size < CAPABLE_WITH_PATH_BYTES)
		return false;
	if (!layouts[hdr->type].stacks)
		return true;
	stacks = (const void *)((const char *)data + layouts[hdr->type].stacks);
	return stacks->kernel_bytes <= MAX_STACK_DEPTH * 8 &&
	       stacks->user_bytes <= MAX_STACK_DEPTH * (int)sizeof(struct bpf_stack_build_id) &&
	       size >= layouts[hdr->type].size + 8 * (size_t)frame_count(stacks->kernel_bytes, 8) +
			       sizeof(struct bpf_stack_build_id) *
				       (size_t)frame_count(stacks->user_bytes,
							   sizeof(struct bpf_stack_build_id));
}

/* The stacks asked for with -K and -U, linked to the event numbered seq. */
static int add_stacks(struct rows *rows, const void *data, int64_t seq)
{
	const struct record_header *hdr = data;
	const struct stacks *stacks =
		(const void *)((const char *)data + layouts[hdr->type].stacks);
	const uint64_t *kernel = (const uint64_t *)((const char *)data + layouts[hdr->type].size);
	int nkernel = frame_count(stacks->kernel_bytes, sizeof(*kernel));
	int nuser = frame_count(stacks->user_bytes, sizeof(struct bpf_stack_build_id));
	struct capture *cap = current_part(rows)->cap;
	int64_t kstack = CAPTURE_NULL, ustack = CAPTURE_NULL;

	if ((rows->kernel_stack_types & (1u << hdr->type)) && nkernel)
		kstack = store_kernel_stack(rows->stacks, cap, kernel, nkernel);
	if ((rows->user_stack_types & (1u << hdr->type)) && nuser && hdr->has_task)
		ustack = store_user_stack(rows->stacks, cap, &stacks->image,
					  (const struct bpf_stack_build_id *)(kernel + nkernel),
					  nuser);
	if (kstack == -1 || ustack == -1)
		return -1;
	if (kstack == CAPTURE_NULL && ustack == CAPTURE_NULL)
		return 0;
	ROW(event_stack, row, .seq = seq, .kstack = kstack, .ustack = ustack);
	return capture_add_event_stack(cap, &row);
}

int rows_add_record(struct rows *rows, const void *data, size_t size)
{
	const struct record_header *hdr = data;
	int err;

	if (!well_formed(data, size)) {
		fprintf(stderr, "record: malformed record from the kernel (%zu bytes)\n", size);
		return -1;
	}
	err = layouts[hdr->type].add(rows, data);
	if (hdr->type == RECORD_OUTCOME) /* it counts itself, in its connect's part */
		return err;
	if (!err && rows->stacks && layouts[hdr->type].stacks)
		err = add_stacks(rows, data, rows->next_seq - 1);
	if (err)
		return -1;
	current_part(rows)->recorded[hdr->type]++;
	rows->total_recorded++;
	return 0;
}
