/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every Casefile BPF program shares: the ring buffer, the loss counters,
 * the filters the recorder sets before load, and the helpers that describe the
 * current task.  The maps and settings are weak so that each tool's object
 * carries them and `bpftool gen object` links them into one.
 */
#ifndef CASEFILE_BPF_COMMON_BPF_H
#define CASEFILE_BPF_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "casefile.h"

#define PF_KTHREAD 0x00200000 /* include/linux/sched.h */

/*
 * Smallest kernel stack of the supported architectures (x86_64 and arm64
 * without KASAN).  A larger real stack only makes in_process_context() answer
 * "no" for a very deep frame: an event loses its process, never gets a wrong one.
 */
#define KERNEL_STACK_SIZE 16384

/*
 * A kernel pointer typed as a BTF type, read-only and untrusted, so that its
 * fields are plain loads rather than helper calls: the verifier turns this
 * kfunc into a move (Linux 6.2+).  Loads through it are fault-safe, as
 * helpers are.  Weak: on older kernels libbpf leaves it unresolved, and only
 * the programs that do not call it are loaded (record/mechanisms.c).
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;
#define kernel_cast(ptr, type) ((type *)bpf_rdonly_cast((ptr), bpf_core_type_id_kernel(type)))

/*
 * Fields through kernel pointers, as BPF_CORE_READ(ptr, a, b...) names them:
 * with the kfunc (cast) plain loads, else CO-RE reads, a helper call each.
 * cast is a constant: each program keeps one way.  Never plain loads through
 * a trusted pointer (bpf_get_current_task_btf(), a tp_btf argument): since
 * 6.5 the verifier checks each pointer read that way against its lists of
 * fields that keep trust, up to four searches by name through the kernel's
 * whole BTF for every such read on every path it verifies (0.2-0.3 ms each
 * here).  Through the cast pointer, which is untrusted, it searches nothing.
 * A scalar field of a trusted pointer costs no search.
 */
#define KERNEL_FIELD(cast, ptr, type, ...)                                                         \
	((cast) ? ___arrow(kernel_cast(ptr, type), __VA_ARGS__)                                    \
		: BPF_CORE_READ((type *)(ptr), __VA_ARGS__))

/* Set by the recorder before load; constant for the verifier after it. */
const volatile __u32 recorder_tgid __weak = 0;	    /* never trace ourselves */
const volatile __u32 filter_tgid __weak = 0;	    /* 0: every process */
const volatile __u32 filter_uid __weak = (__u32)-1; /* -1: every user */
const volatile __u32 kernel_stack_types __weak = 0; /* -K: 1 << record_type */
const volatile __u32 user_stack_types __weak = 0;   /* -U: 1 << record_type */
const volatile __u32 recorded_types __weak = 0;	    /* -e: 1 << record_type */

/* Was this record type asked for?  Programs that serve several kinds ask. */
static __always_inline bool records(enum record_type type)
{
	return recorded_types & (1u << type);
}

/*
 * A ring buffer for each kind (ring_CONNECT, ring_CAPABLE...): a flood of one
 * kind, which any user can make (capability checks as fast as a core
 * allows), fills its own ring, never the others': it cannot hide the
 * connections and processes recorded meanwhile.  Sized by the recorder (-b);
 * the kinds not recorded get the smallest.
 */
#define KIND(name, NAME, ...)                                                                      \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_RINGBUF);                                                \
		__uint(max_entries, 4096);                                                         \
	} ring_##NAME SEC(".maps") __weak;
#include "kinds.def"

/*
 * Each kind's ring's size in bytes, which the recorder sets with the ring's:
 * a constant where bpf_ringbuf_query() would be a helper call per record.
 */
#define KIND(name, NAME, ...) const volatile __u32 ring_bytes_##NAME __weak = 4096;
#include "kinds.def"

/*
 * The ring of a record type: its kind's.  Callers name the type as a
 * constant, so the switch folds away; the verifier wants a ring buffer
 * whatever the value, so one stands for the types that are not.
 */
static __always_inline void *ring_of(enum record_type type)
{
	switch (type) {
#define RECORD(name, NAME, KIND, stacks)                                                           \
	case RECORD_##NAME:                                                                        \
		return &ring_##KIND;
#include "kinds.def"
	default:
		return &ring_CAPABLE;
	}
}

/* The size of a record type's ring: its kind's. */
static __always_inline __u32 ring_bytes_of(enum record_type type)
{
	switch (type) {
#define RECORD(name, NAME, KIND, stacks)                                                           \
	case RECORD_##NAME:                                                                        \
		return ring_bytes_##KIND;
#include "kinds.def"
	default:
		return ring_bytes_CAPABLE;
	}
}

/* Records the ring buffer had no room for, per record type. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RECORD_TYPES);
	__type(key, __u32);
	__type(value, __u64);
} lost_records SEC(".maps") __weak;

/*
 * The same losses by the process that lost them, when one did (in process
 * context): bounded, so that a flood of processes cannot grow it; an entry
 * pushed out or never made leaves its losses unattributed, never wrong.
 * lost_records is counted first: no reading finds more attributed than lost.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LOSS_PROCESSES);
	__type(key, struct process_loss_key);
	__type(value, struct process_loss);
} lost_by_process SEC(".maps") __weak;

static __always_inline void count_lost(enum record_type type)
{
	__u32 key = type;
	__u64 *count = bpf_map_lookup_elem(&lost_records, &key);

	if (count)
		(*count)++;
}

/*
 * Off the programs' paths: it runs only when a record is lost.  A global
 * function (weak: every object carries it, the linker keeps one), which the
 * verifier checks once per program, not at every call.  Its leader is a
 * plain load through the trusted task (KERNEL_FIELD() says what that costs
 * the verifier: here 0.6 ms a program, once), not two helper calls more for
 * each of the millions of checks a flood loses.
 */
__weak __noinline int count_process_lost(__u32 type)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct process_loss_key key = {
		.start_ns = task->group_leader->start_boottime,
		.pid = bpf_get_current_pid_tgid() >> 32,
		.type = type,
	};
	struct process_loss *loss = bpf_map_lookup_elem(&lost_by_process, &key);
	__u64 exec_id = task->self_exec_id;

	if (!loss) {
		struct process_loss first = {.exec_id = exec_id};

		bpf_get_current_comm(first.comm, sizeof(first.comm));
		/* Another CPU may add it meanwhile: then that entry is counted. */
		bpf_map_update_elem(&lost_by_process, &key, &first, BPF_NOEXIST);
		loss = bpf_map_lookup_elem(&lost_by_process, &key);
		if (!loss)
			return 0;
	} else if (loss->exec_id != exec_id) { /* it ran another program since: name it */
		loss->exec_id = exec_id;
		bpf_get_current_comm(loss->comm, sizeof(loss->comm));
	}
	__sync_fetch_and_add(&loss->count, 1);
	return 0;
}

/*
 * Whose a lost record is, as the functions that may lose one take it: no
 * process's (false), the current process's (true), or the current process's
 * but counted by process only when the program calls pay_process_losses():
 * a program that runs with interrupts off cannot call count_process_lost(),
 * a global function, there (the verifier of 6.14 and 6.15 refuses it).
 */
typedef __u32 loser_t;
#define LOSS_OWED 2

/* Record types whose loss the current process is owed (LOSS_OWED), per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} process_losses_owed SEC(".maps") __weak;

/* A record of this type was lost: counted, and by process as loser says. */
static __always_inline void lose_record(enum record_type type, loser_t loser)
{
	__u32 zero = 0, *owed;

	count_lost(type);
	if (loser == LOSS_OWED) {
		owed = bpf_map_lookup_elem(&process_losses_owed, &zero);
		if (owed)
			*owed |= 1u << type;
	} else if (loser) {
		count_process_lost(type);
	}
}

/* Count by process the losses owed on this CPU (interrupts on again). */
static __always_inline void pay_process_losses(void)
{
	__u32 zero = 0, *owed = bpf_map_lookup_elem(&process_losses_owed, &zero);

	if (!owed || !*owed)
		return;
	for (__u32 type = 0; type < RECORD_TYPES; type++)
		if (*owed & (1u << type))
			count_process_lost(type);
	*owed = 0;
}

/* Reserve a record in the ring buffer, or count it as lost. */
static __always_inline void *reserve_record(__u64 size, enum record_type type, __u64 ts_ns,
					    loser_t in_process)
{
	struct record_header *hdr = bpf_ringbuf_reserve(ring_of(type), size, 0);

	if (!hdr) {
		lose_record(type, in_process);
		return NULL;
	}
	hdr->type = type;
	hdr->has_task = 0;
	hdr->ts_ns = ts_ns;
	return hdr;
}

/*
 * Whether a record should wake the recorder.  By default a record that finds
 * the recorder caught up wakes it: under a storm that is an interrupt and a
 * context switch per record, several times the cost of the event itself.  The
 * recorder polls the ring every few milliseconds instead (record/probes.c);
 * only the record that takes the ring past a quarter full wakes it early, so
 * that a burst into a small ring (-b) is not lost waiting for the next poll.
 */
#define WAKE_BAND 4096 /* more than any record: one record lands in it on the way up */

static __always_inline __u64 wake_flags(enum record_type type)
{
	__u64 wake_at = ring_bytes_of(type) / 4;
	__u64 avail = bpf_ringbuf_query(ring_of(type), BPF_RB_AVAIL_DATA);

	return avail >= wake_at && avail - wake_at < WAKE_BAND ? BPF_RB_FORCE_WAKEUP
							       : BPF_RB_NO_WAKEUP;
}

/* Hand a record of this type from reserve_record() to the recorder. */
static __always_inline void submit_record(void *rec, enum record_type type)
{
	bpf_ringbuf_submit(rec, wake_flags(type));
}

#define STACK_BYTES	 (MAX_STACK_DEPTH * sizeof(__u64))
#define USER_STACK_BYTES (MAX_STACK_DEPTH * sizeof(struct bpf_stack_build_id))
#define SCRATCH_BYTES	 8192 /* the largest record and both its stacks */

/*
 * Where records are built before being sent whole, one area per record type
 * and CPU: programs of different types nest (a reset sent from softirq
 * interrupts a capability check), one program does not nest in itself.
 */
struct scratch {
	__u8 bytes[SCRATCH_BYTES];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RECORD_TYPES);
	__type(key, __u32);
	__type(value, struct scratch);
} record_scratch SEC(".maps") __weak;

static __always_inline void *scratch_of(enum record_type type)
{
	__u32 key = type;

	return bpf_map_lookup_elem(&record_scratch, &key);
}

static __always_inline bool takes_stacks(enum record_type type)
{
	return (kernel_stack_types | user_stack_types) & (1u << type);
}

/*
 * Room for a record whose fixed part (ending with its struct stacks) has size
 * bytes: in the ring buffer itself, no copy, with extra bytes after it; or,
 * when stacks of unknown length will follow it, in the per-CPU scratch area.
 * Its stacks start empty.  Send it with send_record().  in_process: whether
 * the program runs in the acting process's context (a loss is then its, as
 * loser_t says).
 */
static __always_inline void *begin_record(__u64 size, __u64 extra, enum record_type type,
					  __u64 ts_ns, loser_t in_process)
{
	struct record_header *hdr;
	struct stacks *stacks;

	if (!takes_stacks(type)) {
		hdr = reserve_record(size + extra, type, ts_ns, in_process);
	} else {
		hdr = scratch_of(type);
		if (hdr) {
			hdr->type = type;
			hdr->has_task = 0;
			hdr->ts_ns = ts_ns;
		}
	}
	if (hdr) {
		stacks = (void *)hdr + size - sizeof(*stacks);
		stacks->kernel_bytes = 0;
		stacks->user_bytes = 0;
	}
	return hdr;
}

/*
 * Images whose mappings the recorder was asked to snapshot: a process's first
 * user stack raises an alert on a ring of its own, so that a dedicated thread
 * reads its mappings at once, before a short-lived process exits, rather than
 * when the record's turn comes.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct process_image);
	__type(value, __u8);
} images_seen SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 << 10);
} image_alerts SEC(".maps") __weak;

/* Alerts the image ring had no room for: their processes may go unnamed. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} image_alerts_lost SEC(".maps") __weak;

static __always_inline void describe_image(struct process_image *image)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 zero = 0;
	__u64 *lost;
	__u8 seen = 1;

	image->pid = bpf_get_current_pid_tgid() >> 32;
	image->pad = 0;
	image->start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	image->exec_id = BPF_CORE_READ(task, self_exec_id);
	image->start_code = BPF_CORE_READ(task, mm, start_code);
	if (bpf_map_lookup_elem(&images_seen, image))
		return;
	bpf_map_update_elem(&images_seen, image, &seen, BPF_ANY);
	/* Rare (once per image) and urgent: wake the watcher whatever its position. */
	if (!bpf_ringbuf_output(&image_alerts, image, sizeof(*image), BPF_RB_FORCE_WAKEUP))
		return;
	lost = bpf_map_lookup_elem(&image_alerts_lost, &zero);
	if (lost)
		(*lost)++;
}

static __always_inline long non_negative(long bytes)
{
	return bytes > 0 ? bytes : 0;
}

/*
 * Send a record from begin_record(); size is its fixed part, which ends with
 * its struct stacks.  A user stack is only taken in the task's own context,
 * each frame as its file's build-id and offset (struct bpf_stack_build_id),
 * which name it whatever the process does next, or as its address when the
 * kernel cannot tell them (no file, the mm lock taken).
 */
static __always_inline void send_record(void *ctx, void *rec, __u64 size, enum record_type type,
					loser_t task_context)
{
	struct stacks *stacks = rec + size - sizeof(struct stacks);
	long kernel_bytes = 0, user_bytes = 0;
	__u64 total;

	if (!takes_stacks(type)) {
		submit_record(rec, type);
		return;
	}
	if (kernel_stack_types & (1u << type))
		kernel_bytes = bpf_get_stack(ctx, rec + size, STACK_BYTES, 0);
	if ((user_stack_types & (1u << type)) && task_context) {
		user_bytes =
			bpf_get_stack(ctx, rec + size + non_negative(kernel_bytes),
				      USER_STACK_BYTES, BPF_F_USER_STACK | BPF_F_USER_BUILD_ID);
		if (user_bytes > 0)
			describe_image(&stacks->image);
	}
	stacks->kernel_bytes = kernel_bytes;
	stacks->user_bytes = user_bytes;
	total = size + non_negative(kernel_bytes) + non_negative(user_bytes);
	if (total > SCRATCH_BYTES) /* cannot happen: bounds the size for the verifier */
		return;
	if (bpf_ringbuf_output(ring_of(type), rec, total, wake_flags(type)))
		lose_record(type, task_context);
}

static __always_inline bool task_is_wanted(__u64 pid_tgid, __u32 uid)
{
	__u32 tgid = pid_tgid >> 32;

	if (tgid == recorder_tgid)
		return false;
	if (filter_tgid && tgid != filter_tgid)
		return false;
	return filter_uid == (__u32)-1 || uid == filter_uid;
}

/*
 * Is the current task the one acting?  In softirq or hard interrupt context
 * `current` is whichever task was interrupted, so attributing the event to it
 * would name the wrong process.  The usual test reads the per-CPU
 * __preempt_count, which kernels without CONFIG_KALLSYMS_ALL do not let BPF
 * resolve.  Instead: x86_64 and arm64 run interrupts and softirqs on per-CPU
 * IRQ stacks or in ksoftirqd (a kernel thread), and a tp_btf program's context
 * is the args[] array bpf_trace_runN() keeps on the stack it runs on.  That
 * array lies on the current task's own stack exactly in its process context.
 * (Our own frame would not do: since 6.13 the JIT may give BPF programs a
 * private per-CPU stack.)
 */
static __always_inline bool in_process_context(const void *tp_btf_ctx, struct task_struct *task)
{
	unsigned long stack = (unsigned long)task->stack, end = stack + KERNEL_STACK_SIZE;
	unsigned long at = (unsigned long)tp_btf_ctx;

	if (task->flags & PF_KTHREAD)
		return false;
	/*
	 * Compared, never subtracted: kernels before 6.13 refuse arithmetic on
	 * the context pointer.  The barriers keep clang from folding the two
	 * comparisons back into one subtraction.
	 */
	barrier_var(at);
	barrier_var(end);
	if (!(stack <= at && at < end))
		return false;
#ifdef __TARGET_ARCH_x86
	/*
	 * But x86_64 takes an interrupt from user mode on the task's stack,
	 * and runs softirqs at its exit there: a timer's (a connect timing
	 * out, a delayed ACK closing a connection) would be the interrupted
	 * process's, or dropped as the recorder's own.  In process context the
	 * task entered the kernel by a system call; an interrupt or exception
	 * leaves orig_ax -1 in its registers.
	 */
	return ((struct pt_regs *)bpf_task_pt_regs(task))->orig_ax != -1;
#else
	return true;
#endif
}

/*
 * Should an event be recorded?  Outside process context it belongs to no
 * process, so a -p or -u filter cannot keep it.
 */
static __always_inline bool event_is_wanted(bool in_process, __u64 pid_tgid, __u32 uid)
{
	if (in_process)
		return task_is_wanted(pid_tgid, uid);
	return !filter_tgid && filter_uid == (__u32)-1;
}

/*
 * The process's pid as its own pid namespace numbers it (what `ps` shows
 * inside a container): the number at the deepest level of its leader's
 * struct pid.  In the initial namespace, the pid itself.  numbers[] is read
 * at a variable index, which the verifier allows through a helper only.
 */
static __always_inline __u32 namespace_pid(struct task_struct *task, __u32 tgid, bool cast)
{
	unsigned int level =
		KERNEL_FIELD(cast, task, struct task_struct, group_leader, thread_pid, level);
	struct pid *pid;
	int nr = 0;

	if (!level)
		return tgid;
	pid = BPF_CORE_READ(task, group_leader, thread_pid); /* a plain number: indexable */
	bpf_core_read(&nr, sizeof(nr), &pid->numbers[level].nr);
	return nr;
}

/*
 * The current task's ids, as bpf_get_current_pid_tgid() and
 * bpf_get_current_uid_gid() give them (the uid as the initial user namespace
 * sees it, which maps every id to itself), through the task:
 * no helper call on paths that run for every TCP connection.  The task is
 * bpf_get_current_task_btf(), a helper call each time: a program asks once
 * and passes it on.  cast: as KERNEL_FIELD() takes it.
 */
static __always_inline __u64 current_ids(struct task_struct *task, __u32 *uid, bool cast)
{
#ifdef KFUNC_OBJECT
	*uid = KERNEL_FIELD(cast, task, struct task_struct, cred, uid.val);
#else
	/*
	 * No kfunc in this object (see read_task_cast()): the trusted load
	 * costs the verifier one search by name, once at the program's top,
	 * and no helper call at run time.
	 */
	*uid = cast ? task->cred->uid.val : BPF_CORE_READ(task, cred, uid.val);
#endif
	return (__u64)task->tgid << 32 | (__u32)task->pid;
}

/*
 * What describe_task() reads through the current task: with the kfunc (cast,
 * see KERNEL_FIELD()) plain loads, not helper calls, which matters on paths
 * that run for every TCP connection and capability check.  Its cgroup and
 * comm too, as bpf_get_current_cgroup_id() and bpf_get_current_comm() read
 * them (the comm is NUL-padded: the kernel sets it with strscpy_pad()).
 */
static __always_inline void read_task(struct task_ctx *ctx, struct task_struct *task, bool cast)
{
	ctx->ppid = KERNEL_FIELD(cast, task, struct task_struct, real_parent, tgid);
	ctx->start_ns = KERNEL_FIELD(cast, task, struct task_struct, group_leader, start_boottime);
	ctx->mntns_id = KERNEL_FIELD(cast, task, struct task_struct, nsproxy, mnt_ns, ns.inum);
	ctx->netns_id = KERNEL_FIELD(cast, task, struct task_struct, nsproxy, net_ns, ns.inum);
	ctx->nspid = namespace_pid(task, ctx->pid, cast);
	ctx->cgroup_id = KERNEL_FIELD(cast, task, struct task_struct, cgroups, dfl_cgrp, kn, id);
	__builtin_memcpy(ctx->comm, task->comm, sizeof(ctx->comm));
}

/*
 * read_task() with the kfunc, for the objects that cannot call it: libbpf
 * 1.1's linker cannot share a kfunc between objects, so only tcp.bpf.c
 * (KFUNC_OBJECT) calls it, and defines this global function for the
 * others' programs that load with the kfunc (a call each; the verifier
 * checks it once per program).  ctx->pid must be set.
 */
int read_task_cast(struct task_ctx *ctx);

/*
 * Words at places of the current task's kernel stack: from, an address on
 * it (a number, not a pointer: whatever pointer it came from), and each
 * word's byte offset from it.  read_stack_words() reads them as plain loads
 * through the kfunc, fault-safe, where bpf_probe_read_kernel() would copy
 * the whole span between them in a helper call.  Like read_task_cast(),
 * defined in the object that may call the kfunc; for kernels that have it.
 */
struct stack_words {
	__u64 from;
	__u64 at[CALL_PATH_WORDS];
	__u64 words[CALL_PATH_WORDS];
};

int read_stack_words(struct stack_words *w);

#ifdef KFUNC_OBJECT
__noinline int read_stack_words(struct stack_words *w)
{
	if (!w)
		return 0;
	/* Any type with a word first will do: the load is what is wanted. */
	for (__u32 i = 0; i < CALL_PATH_WORDS; i++)
		w->words[i] = kernel_cast((void *)(w->from + w->at[i]), struct rlimit)->rlim_cur;
	return 0;
}
#endif

/*
 * Describe the current task, or no task at all outside process context.
 * cast: the program loads with the kfunc (6.2+); without, CO-RE reads.
 */
static __always_inline void describe_task(struct record_header *hdr, struct task_ctx *ctx,
					  struct task_struct *task, bool in_process, __u64 pid_tgid,
					  __u32 uid, bool cast)
{
	if (!in_process) {
		__builtin_memset(ctx, 0, sizeof(*ctx));
		return;
	}
	hdr->has_task = 1;
	ctx->pid = pid_tgid >> 32;
	ctx->tid = (__u32)pid_tgid;
	ctx->uid = uid;
#ifdef KFUNC_OBJECT
	read_task(ctx, task, cast);
#else
	if (cast)
		read_task_cast(ctx);
	else
		read_task(ctx, task, false);
#endif
}

#endif /* CASEFILE_BPF_COMMON_BPF_H */
