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

#define AF_INET	    2
#define AF_INET6    10
#define IPPROTO_TCP 6
#define PF_KTHREAD  0x00200000 /* include/linux/sched.h */

/*
 * Smallest kernel stack of the supported architectures (x86_64 and arm64
 * without KASAN).  A larger real stack only makes in_process_context() answer
 * "no" for a very deep frame: an event loses its process, never gets a wrong one.
 */
#define KERNEL_STACK_SIZE 16384

/* Set by the recorder before load; constant for the verifier after it. */
const volatile __u32 recorder_tgid __weak = 0;	    /* never trace ourselves */
const volatile __u32 filter_tgid __weak = 0;	    /* 0: every process */
const volatile __u32 filter_uid __weak = (__u32)-1; /* -1: every user */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* resized by the recorder (-b) */
} events SEC(".maps") __weak;

/* Records the ring buffer had no room for, per record type. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RECORD_TYPES);
	__type(key, __u32);
	__type(value, __u64);
} lost_records SEC(".maps") __weak;

static __always_inline void count_lost(enum record_type type)
{
	__u32 key = type;
	__u64 *count = bpf_map_lookup_elem(&lost_records, &key);

	if (count)
		(*count)++;
}

/* Reserve a record in the ring buffer, or count it as lost. */
static __always_inline void *reserve_record(__u64 size, enum record_type type, __u64 ts_ns)
{
	struct record_header *hdr = bpf_ringbuf_reserve(&events, size, 0);

	if (!hdr) {
		count_lost(type);
		return NULL;
	}
	hdr->type = type;
	hdr->has_task = 0;
	hdr->ts_ns = ts_ns;
	return hdr;
}

/*
 * Hand a record to the recorder.  By default a record that finds the recorder
 * caught up wakes it: under a storm that is an interrupt and a context switch
 * per record, several times the cost of the event itself.  The recorder polls
 * the ring every few milliseconds instead (record/probes.c); only the record
 * that takes the ring past a quarter full wakes it early, so that a burst into
 * a small ring (-b) is not lost waiting for the next poll.
 */
#define WAKE_BAND 512 /* more than any record: one record lands in it on the way up */

static __always_inline void submit_record(void *rec)
{
	__u64 wake_at = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) / 4;
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	bool wake = avail >= wake_at && avail - wake_at < WAKE_BAND;

	bpf_ringbuf_submit(rec, wake ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
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
static __always_inline bool in_process_context(const void *tp_btf_ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();

	if (task->flags & PF_KTHREAD)
		return false;
	return (unsigned long)tp_btf_ctx - (unsigned long)task->stack < KERNEL_STACK_SIZE;
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

/* Describe the current task, or no task at all outside process context. */
static __always_inline void describe_task(struct record_header *hdr, struct task_ctx *ctx,
					  bool in_process, __u64 pid_tgid, __u32 uid)
{
	struct task_struct *task = bpf_get_current_task_btf();

	if (!in_process) {
		__builtin_memset(ctx, 0, sizeof(*ctx));
		return;
	}
	hdr->has_task = 1;
	ctx->pid = pid_tgid >> 32;
	ctx->tid = (__u32)pid_tgid;
	ctx->uid = uid;
	ctx->ppid = BPF_CORE_READ(task, real_parent, tgid);
	ctx->mntns_id = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	ctx->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(ctx->comm, sizeof(ctx->comm));
}

/* The four-tuple of a full socket. */
static __always_inline void tuple_from_sock(struct tcp_tuple *tuple, const struct sock *sk)
{
	const struct sock_common *common = &sk->__sk_common;

	tuple->family = BPF_CORE_READ(common, skc_family);
	if (tuple->family == AF_INET) {
		BPF_CORE_READ_INTO((__u32 *)tuple->laddr, common, skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)tuple->raddr, common, skc_daddr);
	} else {
		BPF_CORE_READ_INTO((struct in6_addr *)tuple->laddr, common, skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO((struct in6_addr *)tuple->raddr, common, skc_v6_daddr);
	}
	/* inet_sport, not skc_num: closing releases the port before the RST goes out. */
	tuple->lport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	tuple->rport = bpf_ntohs(BPF_CORE_READ(common, skc_dport));
}

static __always_inline bool is_tcp_inet(const struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	return BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP &&
	       (family == AF_INET || family == AF_INET6);
}

#endif /* CASEFILE_BPF_COMMON_BPF_H */
