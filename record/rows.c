/* From ring-buffer records to capture rows. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dedup.h"
#include "rows.h"
#include "util.h"

/* Bounds on the recorder's memory of what it has written (see dedup.h). */
#define MAX_CACHED_TASKS       65536
#define MAX_CACHED_ADDRESSES   65536
#define MAX_CONNECTS_IN_FLIGHT 65536 /* as connects_in_flight in bpf/tcpconnect.bpf.c */
#define MAX_PENDING_CONNECTS   4096

/* ev_connect's columns, as INSERT_CONNECT takes them. */
enum connect_column {
	C_T,
	C_SEQ,
	C_TASK,
	C_SADDR,
	C_LPORT,
	C_DADDR,
	C_DPORT,
	C_STATE,
	C_ERROR,
	C_LATENCY,
	CONNECT_COLUMNS
};

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
 * UPDATE took a fifth of the recorder's time on TCP churn.  What still waits
 * at a commit, or when the table is full, is written without its outcome,
 * and an outcome arriving later updates its row.
 */
struct pending_connect {
	struct connect_key key;
	int64_t values[CONNECT_COLUMNS];
	bool written; /* with its outcome */
};

struct rows {
	struct capture *cap;
	int64_t base_ns;
	int64_t next_seq;
	struct dedup *tasks;	 /* task_ctx -> task.id */
	struct dedup *addresses; /* address_key -> address.id */
	struct dedup *connects;	 /* connect_key -> seq of its ev_connect row, written */
	struct dedup *pending;	 /* connect_key -> index in pending_rows, not written */
	struct pending_connect pending_rows[MAX_PENDING_CONNECTS];
	unsigned nr_pending;
	struct audit_deriver *audit;
	uint64_t recorded[RECORD_TYPES];
	uint64_t lost[RECORD_TYPES];
};

struct rows *rows_new(struct capture *cap, int64_t base_ns, struct audit_deriver *audit)
{
	struct rows *rows = xcalloc(1, sizeof(*rows));

	rows->cap = cap;
	rows->base_ns = base_ns;
	rows->next_seq = 1;
	rows->tasks = dedup_new(offsetof(struct task_ctx, comm) + COMM_LEN, MAX_CACHED_TASKS);
	rows->addresses = dedup_new(sizeof(struct address_key), MAX_CACHED_ADDRESSES);
	rows->connects = dedup_new(sizeof(struct connect_key), MAX_CONNECTS_IN_FLIGHT);
	rows->pending = dedup_new(sizeof(struct connect_key), MAX_PENDING_CONNECTS);
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
	dedup_free(rows->pending);
	free(rows);
}

const uint64_t *rows_recorded(const struct rows *rows)
{
	return rows->recorded;
}

const uint64_t *rows_lost(const struct rows *rows)
{
	return rows->lost;
}

/* task.id for the record's task, CAPTURE_NULL when it has none, -1 on error. */
static int64_t task_id(struct rows *rows, const struct record_header *hdr,
		       const struct task_ctx *task)
{
	int64_t id;

	if (!hdr->has_task)
		return CAPTURE_NULL;
	id = dedup_find(rows->tasks, task);
	if (id < 0) {
		id = capture_add_task(rows->cap, task);
		if (id >= 0)
			dedup_add(rows->tasks, task, id);
	}
	return id;
}

/* address.id for one side of a tuple, CAPTURE_NULL if the family is unknown. */
static int64_t address_id(struct rows *rows, unsigned family, const uint8_t *addr)
{
	struct address_key key = {.family = family};
	char text[INET6_ADDRSTRLEN];
	int64_t id;

	if (family != AF_INET && family != AF_INET6)
		return CAPTURE_NULL;
	memcpy(key.addr, addr, family == AF_INET ? 4 : 16);
	id = dedup_find(rows->addresses, &key);
	if (id >= 0)
		return id;
	inet_ntop((int)family, key.addr, text, sizeof(text));
	id = capture_add_address(rows->cap, family == AF_INET ? 4 : 6, text);
	if (id >= 0)
		dedup_add(rows->addresses, &key, id);
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

/* Write the connects still waiting, without their outcome; remember them for it. */
int rows_flush(struct rows *rows)
{
	for (unsigned i = 0; i < rows->nr_pending; i++) {
		struct pending_connect *p = &rows->pending_rows[i];

		if (p->written)
			continue;
		if (capture_write(rows->cap, INSERT_CONNECT, p->values, CONNECT_COLUMNS))
			return -1;
		dedup_remove(rows->pending, &p->key);
		dedup_add(rows->connects, &p->key, p->values[C_SEQ]);
	}
	rows->nr_pending = 0;
	return 0;
}

static int add_connect(struct rows *rows, const struct connect_record *rec)
{
	const struct tcp_tuple *tuple = &rec->tuple;
	struct pending_connect *p;

	if (rows->nr_pending == MAX_PENDING_CONNECTS && rows_flush(rows))
		return -1;
	p = &rows->pending_rows[rows->nr_pending];
	*p = (struct pending_connect){
		.key = {rec->sock, rec->hdr.ts_ns},
		.values =
			{
				[C_T] = relative_time(rows, rec->hdr.ts_ns),
				[C_SEQ] = rows->next_seq++,
				[C_TASK] = task_id(rows, &rec->hdr, &rec->task),
				[C_SADDR] = address_id(rows, tuple->family, tuple->laddr),
				[C_LPORT] = null_if(tuple->lport, 0),
				[C_DADDR] = address_id(rows, tuple->family, tuple->raddr),
				[C_DPORT] = tuple->rport,
				[C_STATE] = CAPTURE_NULL,
				[C_ERROR] = CAPTURE_NULL,
				[C_LATENCY] = CAPTURE_NULL,
			},
	};
	if (p->values[C_TASK] == -1 || p->values[C_SADDR] == -1 || p->values[C_DADDR] == -1)
		return -1;
	dedup_add(rows->pending, &p->key, rows->nr_pending++);
	return 0;
}

/* The outcome of a connect still in memory: its row is written whole. */
static int complete_pending(struct rows *rows, int64_t index, const struct outcome_record *rec)
{
	struct pending_connect *p = &rows->pending_rows[index];

	if (rec->lport)
		p->values[C_LPORT] = rec->lport;
	p->values[C_STATE] = rec->new_state;
	p->values[C_ERROR] = rec->error;
	p->values[C_LATENCY] = (int64_t)(rec->hdr.ts_ns - rec->start_ns);
	p->written = true;
	return capture_write(rows->cap, INSERT_CONNECT, p->values, CONNECT_COLUMNS);
}

static int add_outcome(struct rows *rows, const struct outcome_record *rec)
{
	struct connect_key key = {rec->sock, rec->start_ns};
	int64_t index = dedup_remove(rows->pending, &key);
	int64_t seq = index >= 0 ? -1 : dedup_remove(rows->connects, &key);
	int64_t values[] = {
		null_if(rec->lport, 0),
		rec->new_state,
		rec->error,
		(int64_t)(rec->hdr.ts_ns - rec->start_ns),
		relative_time(rows, rec->start_ns),
		seq,
	};

	if (index >= 0)
		return complete_pending(rows, index, rec);
	if (seq < 0) {
		rows->lost[RECORD_OUTCOME]++; /* its connect was forgotten (dedup.h) */
		return 1;
	}
	return capture_write(rows->cap, UPDATE_OUTCOME, values, ARRAY_SIZE(values));
}

static int add_accept(struct rows *rows, const struct accept_record *rec)
{
	const struct tcp_tuple *tuple = &rec->tuple;
	int64_t values[] = {
		relative_time(rows, rec->hdr.ts_ns),
		rows->next_seq++,
		task_id(rows, &rec->hdr, &rec->task),
		address_id(rows, tuple->family, tuple->laddr),
		tuple->lport,
		address_id(rows, tuple->family, tuple->raddr),
		tuple->rport,
	};

	if (values[2] == -1 || values[3] == -1 || values[5] == -1)
		return -1;
	return capture_write(rows->cap, INSERT_ACCEPT, values, ARRAY_SIZE(values));
}

static int add_reset(struct rows *rows, const struct reset_record *rec)
{
	const struct tcp_tuple *tuple = &rec->tuple;
	int64_t values[] = {
		relative_time(rows, rec->hdr.ts_ns),
		rows->next_seq++,
		task_id(rows, &rec->hdr, &rec->task),
		address_id(rows, tuple->family, tuple->laddr),
		tuple->lport,
		address_id(rows, tuple->family, tuple->raddr),
		tuple->rport,
		null_if(rec->state, RESET_NO_SOCKET),
		null_if(rec->reason, RESET_REASON_UNKNOWN),
	};

	if (values[2] == -1 || values[3] == -1 || values[5] == -1)
		return -1;
	return capture_write(rows->cap, INSERT_RESET, values, ARRAY_SIZE(values));
}

static int add_capable(struct rows *rows, const struct capable_record *rec)
{
	int nr_frames = rec->kstack_bytes > 0 ? rec->kstack_bytes / (int)sizeof(__u64) : 0;
	int audit = derive_audit(rows->audit, (const uint64_t *)rec->kstack, nr_frames);
	int64_t values[] = {
		relative_time(rows, rec->hdr.ts_ns),
		rows->next_seq++,
		task_id(rows, &rec->hdr, &rec->task),
		rec->cap,
		rec->ret,
		rec->userns_level,
		null_if(audit, AUDIT_UNKNOWN),
	};

	if (values[2] == -1)
		return -1;
	return capture_write(rows->cap, INSERT_CAPABLE, values, ARRAY_SIZE(values));
}

static const size_t record_sizes[RECORD_TYPES] = {
	[RECORD_CONNECT] = sizeof(struct connect_record),
	[RECORD_OUTCOME] = sizeof(struct outcome_record),
	[RECORD_ACCEPT] = sizeof(struct accept_record),
	[RECORD_RESET] = sizeof(struct reset_record),
	[RECORD_CAPABLE] = sizeof(struct capable_record),
};

int rows_add_record(struct rows *rows, const void *data, size_t size)
{
	const struct record_header *hdr = data;
	int err;

	if (size < sizeof(*hdr) || hdr->type >= RECORD_TYPES || size < record_sizes[hdr->type]) {
		fprintf(stderr, "record: malformed record from the kernel (%zu bytes)\n", size);
		return -1;
	}
	switch (hdr->type) {
	case RECORD_CONNECT:
		err = add_connect(rows, data);
		break;
	case RECORD_OUTCOME:
		err = add_outcome(rows, data);
		break;
	case RECORD_ACCEPT:
		err = add_accept(rows, data);
		break;
	case RECORD_RESET:
		err = add_reset(rows, data);
		break;
	default:
		err = add_capable(rows, data);
		break;
	}
	if (err < 0)
		return -1;
	if (!err)
		rows->recorded[hdr->type]++;
	return 0;
}
