/* From ring-buffer records to capture rows. */
#include <arpa/inet.h>
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

struct rows {
	struct capture *cap;
	int64_t base_ns;
	int64_t next_seq;
	struct dedup *tasks;	 /* task_ctx -> task.id */
	struct dedup *addresses; /* address_key -> address.id */
	struct dedup *connects;	 /* connect_key -> seq of its ev_connect row */
	struct audit_deriver *audit;
	uint64_t recorded[RECORD_TYPES];
	uint64_t lost[RECORD_TYPES];
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

struct rows *rows_new(struct capture *cap, int64_t base_ns, struct audit_deriver *audit)
{
	struct rows *rows = xcalloc(1, sizeof(*rows));

	rows->cap = cap;
	rows->base_ns = base_ns;
	rows->next_seq = 1;
	rows->tasks = dedup_new(offsetof(struct task_ctx, comm) + COMM_LEN, MAX_CACHED_TASKS);
	rows->addresses = dedup_new(sizeof(struct address_key), MAX_CACHED_ADDRESSES);
	rows->connects = dedup_new(sizeof(struct connect_key), MAX_CONNECTS_IN_FLIGHT);
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

static int add_connect(struct rows *rows, const struct connect_record *rec)
{
	const struct tcp_tuple *tuple = &rec->tuple;
	struct connect_key key = {rec->sock, rec->hdr.ts_ns};
	int64_t seq = rows->next_seq++;
	int64_t values[] = {
		relative_time(rows, rec->hdr.ts_ns),
		seq,
		task_id(rows, &rec->hdr, &rec->task),
		address_id(rows, tuple->family, tuple->laddr),
		null_if(tuple->lport, 0),
		address_id(rows, tuple->family, tuple->raddr),
		tuple->rport,
	};

	if (values[2] == -1 || values[3] == -1 || values[5] == -1 ||
	    capture_write(rows->cap, INSERT_CONNECT, values, ARRAY_SIZE(values)))
		return -1;
	dedup_add(rows->connects, &key, seq);
	return 0;
}

static int add_outcome(struct rows *rows, const struct outcome_record *rec)
{
	struct connect_key key = {rec->sock, rec->start_ns};
	int64_t seq = dedup_remove(rows->connects, &key);
	int64_t values[] = {
		null_if(rec->lport, 0),
		rec->new_state,
		rec->error,
		(int64_t)(rec->hdr.ts_ns - rec->start_ns),
		relative_time(rows, rec->start_ns),
		seq,
	};

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
