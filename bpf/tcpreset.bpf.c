// SPDX-License-Identifier: GPL-2.0
/*
 * tcpreset: TCP RSTs the kernel sends, IPv4 and IPv6, with the kernel's
 * reason (6.10+): "no socket" is a closed port, what a port scan provokes.
 *
 * A reset answering a segment is sent from softirq, where `current` is an
 * unrelated interrupted task: such records carry no process.
 */
#include "common.bpf.h"

#define IP_VERSION_4 4
#define IP_VERSION_6 6

/* The RST answers this segment: its reversed four-tuple is the RST's own. */
static void tuple_from_segment(struct tcp_tuple *tuple, const struct sk_buff *skb)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	unsigned char *network = head + BPF_CORE_READ(skb, network_header);
	/* As the kernel's own tracepoint: skb->data is at the TCP header here. */
	struct tcphdr *th = (struct tcphdr *)BPF_CORE_READ(skb, data);
	__u8 version = 0;

	bpf_probe_read_kernel(&version, 1, network);
	version >>= 4;
	if (version == IP_VERSION_4) {
		struct iphdr *ip = (struct iphdr *)network;

		tuple->family = AF_INET;
		bpf_probe_read_kernel(tuple->laddr, 4, &ip->daddr);
		bpf_probe_read_kernel(tuple->raddr, 4, &ip->saddr);
	} else if (version == IP_VERSION_6) {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)network;

		tuple->family = AF_INET6;
		bpf_probe_read_kernel(tuple->laddr, 16, &ip6->daddr);
		bpf_probe_read_kernel(tuple->raddr, 16, &ip6->saddr);
	}
	tuple->lport = bpf_ntohs(BPF_CORE_READ(th, dest));
	tuple->rport = bpf_ntohs(BPF_CORE_READ(th, source));
}

/* Raw context rather than BPF_PROG: kernels before 6.10 pass no reason. */
SEC("tp_btf/tcp_send_reset")
int tcp_reset_sent(__u64 *ctx)
{
	const struct sock *sk = (const struct sock *)ctx[0];
	const struct sk_buff *skb = (const struct sk_buff *)ctx[1];
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	__u64 ts_ns = bpf_ktime_get_boot_ns();
	bool in_process = in_process_context(ctx);
	struct reset_record *rec;

	if (!event_is_wanted(in_process, pid_tgid, uid))
		return 0;
	rec = reserve_record(sizeof(*rec), RECORD_RESET, ts_ns);
	if (!rec)
		return 0;
	describe_task(&rec->hdr, &rec->task, in_process, pid_tgid, uid);
	__builtin_memset(&rec->tuple, 0, sizeof(rec->tuple));
	if (skb)
		tuple_from_segment(&rec->tuple, skb);
	else if (sk)
		tuple_from_sock(&rec->tuple, sk);
	rec->state = sk ? BPF_CORE_READ(sk, __sk_common.skc_state) : RESET_NO_SOCKET;
	rec->reason =
		bpf_core_type_exists(enum sk_rst_reason) ? (__u32)ctx[2] : RESET_REASON_UNKNOWN;
	submit_record(rec);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
