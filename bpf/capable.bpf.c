// SPDX-License-Identifier: GPL-2.0
/*
 * capable: capability checks, allowed and denied.  From the stable tracepoint
 * capability:cap_capable (6.14+), which does not say whether the check is
 * audited: the recorder finds the function that asked for the check in its
 * kernel frames and derives AUDIT from it (record/audit.c).  Before 6.14,
 * from fexit on cap_capable() itself, whose opts say it directly.
 *
 * Walking the stack is most of a check's cost, and a busy host makes the
 * same checks from a few call sites over and over.  So each check reads the
 * stack words just above the tracepoint's arguments, where the return
 * addresses of cap_capable()'s callers lie, as its call path; the recorder,
 * having derived AUDIT from the frames of a check, tells the program the
 * AUDIT of that call path (audit_by_path) when the path reaches the function
 * that decided it.  A check whose path is known takes no frames; one down
 * the same path as its CPU's last does not even walk the words.
 */
#include "common.bpf.h"

#define AUDIT_STACK_BYTES (AUDIT_STACK_DEPTH * sizeof(__u64))
/* Room after a record whose AUDIT comes from its frames: the frames, then its call path. */
#define AUDIT_EXTRA_BYTES (AUDIT_STACK_BYTES + sizeof(struct call_path))
#define CAP_OPT_NOAUDIT	  (1 << 1) /* include/linux/security.h */

/*
 * Kernel text, [start, end): set by the recorder once it has read the
 * kernel's symbols (after attaching); until then no check has a call path.
 */
__u64 kernel_text_start = 0;
__u64 kernel_text_end = 0;

/* AUDIT of the call paths the recorder has learned: 1 audited, 0 not (all deny). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct call_path);
	__type(value, __s32);
} audit_by_path SEC(".maps");

struct path_scratch {
	__u64 window[CALL_PATH_WINDOW_WORDS];
	struct call_path path;
	__u32 kept;		   /* words of path */
	__u32 at[CALL_PATH_WORDS]; /* the window's word of each of path's words */
	/*
	 * The call path this CPU last found in audit_by_path, as the words to
	 * find at the places of the window (the first repeated where it has
	 * fewer), and its AUDIT: a storm's checks come down one path, and
	 * reading its words where they lie costs less than walking the window
	 * for them and hashing them into the map again.  A path's AUDIT, once
	 * learned, does not change.
	 */
	__u32 has_last;
	__s32 last_audit;
	struct stack_words last_read; /* its words' places from ctx, and what is there */
	__u64 last_words[CALL_PATH_WORDS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct path_scratch);
} path_scratch SEC(".maps");

/*
 * This CPU's scratch, when the check's call path can be read: after the
 * recorder gave the kernel's text, and when the window, from the
 * tracepoint's arguments up (ctx: args[] on the stack of bpf_trace_run5(),
 * see in_process_context()), stays below the top of the task's stack.
 * Only in process context.
 */
static __always_inline struct path_scratch *path_window(void *ctx, struct task_struct *task)
{
	unsigned long at = (unsigned long)ctx;
	unsigned long last =
		(unsigned long)task->stack + KERNEL_STACK_SIZE - CALL_PATH_WINDOW_WORDS * 8;
	__u32 zero = 0;

	/* Compared, never subtracted, as in in_process_context(). */
	barrier_var(at);
	barrier_var(last);
	if (!kernel_text_start || at > last)
		return NULL;
	return bpf_map_lookup_elem(&path_scratch, &zero);
}

/*
 * Does the check come down this CPU's last learned call path?  Then *audit
 * is its AUDIT.  Only that path's words are read, where they lie: the
 * return address nearest the arguments is always at the same place
 * (bpf_trace_run5()'s frame is always the same), and each return address
 * fixes the place of the next (its function's frame at that call is always
 * the same size), so equal words at those places are the same callers up to
 * the requester, whatever the words between them hold.
 */
static __always_inline bool on_last_path(void *ctx, struct path_scratch *s, __s32 *audit)
{
	struct stack_words *w = &s->last_read;

	if (!s->has_last)
		return false;
	/* Stored as a number: a pointer in a map needs CAP_PERFMON, which the recorder has. */
	*(void *volatile *)&w->from = ctx;
	read_stack_words(w);
	if ((w->words[0] ^ s->last_words[0]) | (w->words[1] ^ s->last_words[1]) |
	    (w->words[2] ^ s->last_words[2]) | (w->words[3] ^ s->last_words[3]))
		return false;
	*audit = s->last_audit;
	return true;
}

/*
 * The check's call path: the text words of the whole window, the nearest
 * first, with their places.  NULL when the window cannot be read.
 */
static __always_inline struct call_path *call_path_of(void *ctx, struct path_scratch *s)
{
	__u64 start = kernel_text_start, size = kernel_text_end - start;

	if (bpf_probe_read_kernel(s->window, sizeof(s->window), ctx))
		return NULL;
	__builtin_memset(&s->path, 0, sizeof(s->path)); /* a key: the unused words too */
	s->kept = 0;
	for (__u32 i = 0; i < CALL_PATH_WINDOW_WORDS; i++) {
		__u64 word = s->window[i];
		__u32 n;

		if (word - start >= size)
			continue;
		/*
		 * Counted in the map, not in a register: the verifier would
		 * follow every combination of kept words as a state of its own.
		 */
		n = *(volatile __u32 *)&s->kept;
		s->path.words[n & (CALL_PATH_WORDS - 1)] = word;
		s->at[n & (CALL_PATH_WORDS - 1)] = i;
		*(volatile __u64 *)&s->path.positions |= 1ull << i;
		*(volatile __u32 *)&s->kept = ++n;
		if (n >= CALL_PATH_WORDS)
			break;
	}
	return &s->path;
}

/*
 * The AUDIT learned for the call path call_path_of() found into *audit,
 * which becomes this CPU's last; false if none is learned.
 */
static __always_inline bool path_audit(struct path_scratch *s, __s32 *audit)
{
	__s32 *known = bpf_map_lookup_elem(&audit_by_path, &s->path);
	__u32 kept = s->kept;

	if (!known || !kept || kept > CALL_PATH_WORDS)
		return false;
	*audit = s->last_audit = *known;
	for (__u32 i = 0; i < CALL_PATH_WORDS; i++) {
		__u32 w = i < kept ? i : 0; /* a path of fewer words repeats its first */

		s->last_read.at[i] = s->at[w] * sizeof(__u64);
		s->last_words[i] = s->path.words[w];
	}
	s->has_last = 1;
	return true;
}

/* cast: the program may call the kfunc (KERNEL_FIELD()). */
static __always_inline void fill_check(struct capable_record *rec, struct user_namespace *target_ns,
				       int cap, int ret, int audit, int denies,
				       struct task_struct *task, bool in_process, __u64 pid_tgid,
				       __u32 uid, bool cast)
{
	describe_task(&rec->hdr, &rec->task, task, in_process, pid_tgid, uid, cast);
	rec->cap = cap;
	rec->ret = ret;
	rec->userns_level = target_ns->level;
	rec->audit = audit;
	rec->has_path = 0;
	rec->denies = denies;
}

/*
 * One check without frames of its own for AUDIT: known from the hook or for
 * its call path, or to be derived from the whole stack that -K takes.
 */
static __always_inline int record_plain(void *ctx, struct user_namespace *target_ns, int cap,
					int ret, int audit, int denies, struct task_struct *task,
					bool in_process, __u64 pid_tgid, __u32 uid, __u64 ts_ns,
					bool cast)
{
	struct capable_record *rec =
		begin_record(sizeof(*rec), 0, RECORD_CAPABLE, ts_ns, in_process);

	if (!rec)
		return 0;
	fill_check(rec, target_ns, cap, ret, audit, denies, task, in_process, pid_tgid, uid, cast);
	send_record(ctx, rec, sizeof(*rec), RECORD_CAPABLE, in_process);
	return 0;
}

SEC("tp_btf/cap_capable")
int BPF_PROG(capability_check, const struct cred *cred, struct user_namespace *target_ns,
	     const struct user_namespace *capable_ns, int cap, int ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 uid;
	__u64 pid_tgid = current_ids(task, &uid, true);
	__u64 ts_ns = bpf_ktime_get_boot_ns();
	bool in_process = in_process_context(ctx, task);
	struct call_path *path = NULL;
	struct path_scratch *s = NULL;
	struct capable_record *rec;
	__s32 audit;

	if (!event_is_wanted(in_process, pid_tgid, uid))
		return 0;
	/* With -K or -U the whole kernel stack comes anyway (see probes.c). */
	if (takes_stacks(RECORD_CAPABLE))
		return record_plain(ctx, target_ns, cap, ret, CAPABLE_AUDIT_FROM_STACK,
				    CAPABLE_DENIES_UNKNOWN, task, in_process, pid_tgid, uid, ts_ns,
				    true);
	if (in_process)
		s = path_window(ctx, task);
	if (s && !on_last_path(ctx, s, &audit)) {
		path = call_path_of(ctx, s);
		if (!path || !path_audit(s, &audit))
			s = NULL;
	}
	if (s) /* its call path's AUDIT is known */
		return record_plain(ctx, target_ns, cap, ret, audit, 1, task, in_process, pid_tgid,
				    uid, ts_ns, true);
	rec = begin_record(sizeof(*rec), AUDIT_EXTRA_BYTES, RECORD_CAPABLE, ts_ns, in_process);
	if (!rec)
		return 0;
	fill_check(rec, target_ns, cap, ret, CAPABLE_AUDIT_FROM_STACK, CAPABLE_DENIES_UNKNOWN, task,
		   in_process, pid_tgid, uid, true);
	rec->stacks.kernel_bytes = bpf_get_stack(ctx, rec + 1, AUDIT_STACK_BYTES, 0);
	if (path) {
		__builtin_memcpy((void *)(rec + 1) + AUDIT_STACK_BYTES, path, sizeof(*path));
		rec->has_path = 1;
	}
	send_record(ctx, rec, sizeof(*rec), RECORD_CAPABLE, in_process);
	return 0;
}

SEC("fexit/cap_capable")
int BPF_PROG(capability_check_fexit, const struct cred *cred, struct user_namespace *target_ns,
	     int cap, unsigned int opts, int ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 uid;
	__u64 pid_tgid = current_ids(task, &uid, false);
	__u64 ts_ns = bpf_ktime_get_boot_ns();
	bool in_process = in_process_context(ctx, task);

	if (!event_is_wanted(in_process, pid_tgid, uid))
		return 0;
	return record_plain(ctx, target_ns, cap, ret, !(opts & CAP_OPT_NOAUDIT),
			    CAPABLE_DENIES_UNKNOWN, task, in_process, pid_tgid, uid, ts_ns, false);
}

char LICENSE[] SEC("license") = "GPL";
