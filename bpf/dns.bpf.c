// SPDX-License-Identifier: GPL-2.0
/*
 * dns: DNS responses arriving over UDP, as tcpconnect -d sees them, so that a
 * report can name the address a connect went to.  A socket filter on a packet
 * socket of the recorder's: it hands the message to the ring buffer with the
 * kernel's timestamp and drops the packet, so the socket itself receives
 * nothing.  The recorder parses the answers (record/dns.c).
 */
#include "common.bpf.h"

#define ETH_HLEN	 14
#define ETH_P_IP	 0x0800
#define ETH_P_IPV6	 0x86DD
#define IPPROTO_UDP	 17
#define PACKET_OUTGOING	 4
#define DNS_PORT	 53
#define UDP_HEADER_BYTES 8

/*
 * Offset of the UDP header of a UDP packet, or 0.  Every packet the host
 * receives comes here, a TCP connection's too: one helper call reads as far
 * as the protocol.
 */
static __always_inline __u32 udp_offset(struct __sk_buff *skb)
{
	__u8 ip[10]; /* IPv4's header through its protocol */

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, ETH_HLEN, ip, sizeof(ip)) || ip[9] != IPPROTO_UDP)
			return 0;
		return ETH_HLEN + (ip[0] & 0x0f) * 4;
	}
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		/* Extension headers are not followed: DNS answers do not carry them. */
		if (bpf_skb_load_bytes(skb, ETH_HLEN + 6, ip, 1) || ip[0] != IPPROTO_UDP)
			return 0;
		return ETH_HLEN + 40;
	}
	return 0;
}

SEC("socket")
int dns_response(struct __sk_buff *skb)
{
	struct dns_record *rec;
	__u64 len; /* 64-bit: the verifier bounds the very register passed on */
	__u32 udp;
	__u16 port;

	/* A response concerns no process: -p and -u cannot keep it. */
	if (filter_tgid || filter_uid != (__u32)-1 || skb->pkt_type == PACKET_OUTGOING)
		return 0;
	udp = udp_offset(skb);
	if (!udp || bpf_skb_load_bytes(skb, udp, &port, sizeof(port)) ||
	    port != bpf_htons(DNS_PORT) || skb->len <= udp + UDP_HEADER_BYTES)
		return 0;
	/* A response is no process's: its loss is not one either. */
	rec = reserve_record(sizeof(*rec), RECORD_DNS, bpf_ktime_get_boot_ns(), false);
	if (!rec)
		return 0;
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
		return 0;
	}
	rec->len = len;
	submit_record(rec);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
