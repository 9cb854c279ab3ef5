// SPDX-License-Identifier: GPL-2.0
/*
 * A lossy or firewalled leg for tests/t_lab_health.sh, on the lab
 * switch's port toward the backup nodes (tc egress, after the mirror has
 * copied the frame where it entered the switch):
 *   tc_drop_data:   every NP_DROP_EVERY-th IPv4 TCP segment with data
 *                   from port 902 (a congested link dropping data);
 *   tc_drop_synack: every SYN-ACK from port 902 (a stateful firewall
 *                   that never saw the SYN).
 * `make check` builds it into .build/tc_drop.bpf.o.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define NP_DROP_EVERY	20

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);		/* data segments seen, dropped */
	__type(key, __u32);
	__type(value, __u64);
} tc_drop_count SEC(".maps");

/* The TCP header of an IPv4 segment from port 902, or NULL. */
static __always_inline struct tcphdr *from_902(struct __sk_buff *skb,
					       __u32 *payload)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *th;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_TCP || ip->ihl < 5)
		return NULL;
	th = (void *)ip + ip->ihl * 4;
	if ((void *)(th + 1) > end || th->source != bpf_htons(902))
		return NULL;
	*payload = bpf_ntohs(ip->tot_len) - ip->ihl * 4 - th->doff * 4;
	return th;
}

SEC("tc/data")
int tc_drop_data(struct __sk_buff *skb)
{
	__u32 k0 = 0, k1 = 1, payload = 0;
	struct tcphdr *th = from_902(skb, &payload);
	__u64 *seen, *dropped;

	if (!th || !payload || th->syn || th->fin || th->rst)
		return TC_ACT_OK;
	seen = bpf_map_lookup_elem(&tc_drop_count, &k0);
	dropped = bpf_map_lookup_elem(&tc_drop_count, &k1);
	if (!seen || !dropped)
		return TC_ACT_OK;
	if (++*seen % NP_DROP_EVERY)
		return TC_ACT_OK;
	++*dropped;
	return TC_ACT_SHOT;
}

SEC("tc/synack")
int tc_drop_synack(struct __sk_buff *skb)
{
	__u32 payload = 0;
	struct tcphdr *th = from_902(skb, &payload);

	return th && th->syn && th->ack ? TC_ACT_SHOT : TC_ACT_OK;
}
