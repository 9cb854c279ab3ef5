// SPDX-License-Identifier: GPL-2.0
/*
 * Somebody else's XDP program, for the tests: nbdpath must leave it alone.
 * `make check` builds it into .build/xdp_pass.bpf.o.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int other_xdp(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_PASS;
}
