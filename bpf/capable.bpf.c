// SPDX-License-Identifier: GPL-2.0
/*
 * capable: capability checks, allowed and denied, from the stable tracepoint
 * capability:cap_capable (6.14+).  The tracepoint does not say whether the
 * check is audited, so each record carries the first kernel frames: the
 * recorder finds the function that asked for the check and derives AUDIT
 * from it (record/audit.c).
 */
#include "common.bpf.h"

SEC("tp_btf/cap_capable")
int BPF_PROG(capability_check, const struct cred *cred, struct user_namespace *target_ns,
	     const struct user_namespace *capable_ns, int cap, int ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	__u64 ts_ns = bpf_ktime_get_boot_ns();
	bool in_process = in_process_context(ctx);
	struct capable_record *rec;

	if (!event_is_wanted(in_process, pid_tgid, uid))
		return 0;
	rec = reserve_record(sizeof(*rec), RECORD_CAPABLE, ts_ns);
	if (!rec)
		return 0;
	describe_task(&rec->hdr, &rec->task, in_process, pid_tgid, uid);
	rec->cap = cap;
	rec->ret = ret;
	rec->userns_level = BPF_CORE_READ(target_ns, level);
	rec->kstack_bytes = bpf_get_stack(ctx, rec->kstack, sizeof(rec->kstack), 0);
	submit_record(rec);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
