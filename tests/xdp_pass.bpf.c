// SPDX-License-Identifier: GPL-2.0
/* Somebody else's XDP program, for the tests: nbdpath must leave it alone. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int other_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}
