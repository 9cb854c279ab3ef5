// SPDX-License-Identifier: GPL-2.0
/*
 * The reference receiver for `make bench`: count every frame in one
 * per-CPU counter and drop it. Attached where nbdpath would be, it shows
 * the best rate the NIC and driver allow, so nbdpath's rate can be given
 * as a fraction of it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} rx_count SEC(".maps");

SEC("xdp.frags")
int bench_count(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n;

	(void)ctx;
	n = bpf_map_lookup_elem(&rx_count, &zero);
	if (n)
		(*n)++;
	return XDP_DROP;
}
