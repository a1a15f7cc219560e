// SPDX-License-Identifier: GPL-2.0
/*
 * tcpconnect: active TCP opens, and how each one ended.
 *
 * The stable tracepoint sock:inet_sock_set_state sees a socket enter SYN_SENT
 * inside connect(), in the caller's process context: that is the attempt.  The
 * kernel has not chosen the local port yet at that point, so when the socket
 * leaves SYN_SENT (established, refused, timed out, closed), a second record
 * carries the outcome, the port and the latency.
 */
#include "common.bpf.h"

/* Sockets in SYN_SENT whose attempt was recorded: socket address -> start. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
} connects_in_flight SEC(".maps");

static int record_attempt(void *ctx, const struct sock *sk)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	__u64 ts_ns = bpf_ktime_get_boot_ns();
	__u64 sock = (__u64)sk;
	struct connect_record *rec;

	if (!task_is_wanted(pid_tgid, uid))
		return 0;
	rec = begin_record(sizeof(*rec), 0, RECORD_CONNECT, ts_ns);
	if (!rec)
		return 0;
	describe_task(&rec->hdr, &rec->task, true, pid_tgid, uid);
	tuple_from_sock(&rec->tuple, sk);
	rec->sock = sock;
	send_record(ctx, rec, sizeof(*rec), RECORD_CONNECT, true);

	/* Without room to remember it, this attempt's outcome is lost: count it now. */
	if (bpf_map_update_elem(&connects_in_flight, &sock, &ts_ns, BPF_ANY))
		count_lost(RECORD_OUTCOME);
	return 0;
}

static int record_outcome(const struct sock *sk, int new_state)
{
	__u64 sock = (__u64)sk;
	__u64 *start_ns = bpf_map_lookup_elem(&connects_in_flight, &sock);
	__u64 ts_ns = bpf_ktime_get_boot_ns();
	struct outcome_record *rec;

	if (!start_ns)
		return 0; /* began before recording, or filtered out */
	rec = reserve_record(sizeof(*rec), RECORD_OUTCOME, ts_ns);
	if (rec) {
		rec->sock = sock;
		rec->start_ns = *start_ns;
		rec->new_state = new_state;
		rec->error = BPF_CORE_READ(sk, sk_err);
		rec->lport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
		submit_record(rec);
	}
	bpf_map_delete_elem(&connects_in_flight, &sock);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp_state_change, const struct sock *sk, int old_state, int new_state)
{
	if (!is_tcp_inet(sk))
		return 0;
	if (old_state == TCP_CLOSE && new_state == TCP_SYN_SENT)
		return record_attempt(ctx, sk);
	if (old_state == TCP_SYN_SENT)
		return record_outcome(sk, new_state);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
