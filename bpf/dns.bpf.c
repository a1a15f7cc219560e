// SPDX-License-Identifier: GPL-2.0
/*
 * dns: DNS responses arriving over UDP, as tcpconnect -d sees them, so that a
 * report can name the address a connect went to.  The message goes to the
 * ring buffer with the kernel's timestamp; the recorder parses the answers
 * (record/dns.c).  Two hooks, the better first (bpf/kinds.def):
 *
 * dns_response_delivered, a cgroup_skb ingress program on the cgroup v2
 * root: it runs for each packet delivered to a socket, of any network
 * namespace, where the packet's IP header starts the data.  Always 1: the
 * packet goes on.
 *
 * dns_response, a socket filter on a packet socket of the recorder's: it
 * runs for every packet the host's network namespace receives, its
 * Ethernet header first, and drops it, so the socket itself receives
 * nothing.
 */
#include "common.bpf.h"

#define ETH_HLEN	 14
#define ETH_P_IP	 0x0800
#define ETH_P_IPV6	 0x86DD
#define IPPROTO_UDP	 17
#define PACKET_OUTGOING	 4
#define DNS_PORT	 53
#define UDP_HEADER_BYTES 8
#define SK_PASS		 1

/*
 * Offset of the UDP header of a UDP packet whose IP header is at ip, or 0.
 * Every packet comes here, a TCP connection's too: one helper call reads as
 * far as the protocol.
 */
static __always_inline __u32 udp_offset(struct __sk_buff *skb, __u32 ip_at)
{
	__u8 ip[10]; /* IPv4's header through its protocol */

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, ip_at, ip, sizeof(ip)) || ip[9] != IPPROTO_UDP)
			return 0;
		return ip_at + (ip[0] & 0x0f) * 4;
	}
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		/* Extension headers are not followed: DNS answers do not carry them. */
		if (bpf_skb_load_bytes(skb, ip_at + 6, ip, 1) || ip[0] != IPPROTO_UDP)
			return 0;
		return ip_at + 40;
	}
	return 0;
}

/* The UDP datagram at udp, if it comes from port 53, to the ring buffer. */
static __always_inline void record_response(struct __sk_buff *skb, __u32 udp)
{
	struct dns_record *rec;
	__u64 len; /* 64-bit: the verifier bounds the very register passed on */
	__u16 port;

	if (!udp || bpf_skb_load_bytes(skb, udp, &port, sizeof(port)) ||
	    port != bpf_htons(DNS_PORT) || skb->len <= udp + UDP_HEADER_BYTES)
		return;
	/* A response is no process's: its loss is not one either. */
	rec = reserve_record(sizeof(*rec), RECORD_DNS, bpf_ktime_get_boot_ns(), false);
	if (!rec)
		return;
	len = (__u64)skb->len - udp - UDP_HEADER_BYTES;
	rec->truncated = len > DNS_MESSAGE_MAX;
	if (len > DNS_MESSAGE_MAX)
		len = DNS_MESSAGE_MAX;
	/*
	 * Signed, and hidden from clang, which would test len == 0: the
	 * verifier of 6.1 learns no lower bound from that, and needs one.
	 */
	barrier_var(len);
	if ((__s64)len < 1 || bpf_skb_load_bytes(skb, udp + UDP_HEADER_BYTES, rec->message, len)) {
		bpf_ringbuf_discard(rec, 0);
		return;
	}
	rec->len = len;
	submit_record(rec, RECORD_DNS);
}

/* A response concerns no process: -p and -u cannot keep it. */
static __always_inline bool responses_wanted(void)
{
	return !filter_tgid && filter_uid == (__u32)-1;
}

/*
 * The IP header is in the linear data by now (ip_rcv pulled it): read
 * directly, a TCP packet costs no helper call.
 */
SEC("cgroup_skb/ingress")
int dns_response_delivered(struct __sk_buff *skb)
{
	__u8 *ip = (__u8 *)(long)skb->data, *end = (__u8 *)(long)skb->data_end;

	if (!responses_wanted())
		return SK_PASS;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (ip + 10 > end || ip[9] != IPPROTO_UDP)
			return SK_PASS;
		record_response(skb, (ip[0] & 0x0f) * 4);
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (ip + 7 > end || ip[6] != IPPROTO_UDP)
			return SK_PASS;
		record_response(skb, 40);
	}
	return SK_PASS;
}

SEC("socket")
int dns_response(struct __sk_buff *skb)
{
	if (responses_wanted() && skb->pkt_type != PACKET_OUTGOING)
		record_response(skb, udp_offset(skb, ETH_HLEN));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
