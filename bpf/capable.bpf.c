// SPDX-License-Identifier: GPL-2.0
/*
 * capable: capability checks, allowed and denied.  From the stable tracepoint
 * capability:cap_capable (6.14+), which does not say whether the check is
 * audited: each record then carries kernel frames, and the recorder finds the
 * function that asked for the check and derives AUDIT from it
 * (record/audit.c).  Before 6.14, from fexit on cap_capable() itself, whose
 * opts say it directly.
 */
#include "common.bpf.h"

#define AUDIT_STACK_BYTES (AUDIT_STACK_DEPTH * sizeof(__u64))
#define CAP_OPT_NOAUDIT	  (1 << 1) /* include/linux/security.h */

/* One check; audit is CAPABLE_AUDIT_FROM_STACK when the hook does not know it. */
static __always_inline int record_check(void *ctx, struct user_namespace *target_ns, int cap,
					int ret, int audit)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	__u64 ts_ns = bpf_ktime_get_boot_ns();
	bool in_process = in_process_context(ctx);
	/* With -K or -U the whole kernel stack comes anyway (see probes.c). */
	__u64 audit_bytes = takes_stacks(RECORD_CAPABLE) || audit != CAPABLE_AUDIT_FROM_STACK
				    ? 0
				    : AUDIT_STACK_BYTES;
	struct capable_record *rec;

	if (!event_is_wanted(in_process, pid_tgid, uid))
		return 0;
	rec = begin_record(sizeof(*rec), audit_bytes, RECORD_CAPABLE, ts_ns);
	if (!rec)
		return 0;
	describe_task(&rec->hdr, &rec->task, in_process, pid_tgid, uid);
	rec->cap = cap;
	rec->ret = ret;
	rec->userns_level = BPF_CORE_READ(target_ns, level);
	rec->audit = audit;
	if (audit_bytes)
		rec->stacks.kernel_bytes = bpf_get_stack(ctx, rec + 1, audit_bytes, 0);
	send_record(ctx, rec, sizeof(*rec), RECORD_CAPABLE, in_process);
	return 0;
}

SEC("tp_btf/cap_capable")
int BPF_PROG(capability_check, const struct cred *cred, struct user_namespace *target_ns,
	     const struct user_namespace *capable_ns, int cap, int ret)
{
	return record_check(ctx, target_ns, cap, ret, CAPABLE_AUDIT_FROM_STACK);
}

SEC("fexit/cap_capable")
int BPF_PROG(capability_check_fexit, const struct cred *cred, struct user_namespace *target_ns,
	     int cap, unsigned int opts, int ret)
{
	return record_check(ctx, target_ns, cap, ret, !(opts & CAP_OPT_NOAUDIT));
}

char LICENSE[] SEC("license") = "GPL";
