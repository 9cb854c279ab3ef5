// SPDX-License-Identifier: GPL-2.0
/*
 * Frame generator for `make bench`: run by BPF_PROG_TEST_RUN in live-frames
 * mode (BPF_F_TEST_XDP_LIVE_FRAMES), where XDP_TX becomes a redirect out of
 * the ingress device given in the context. On a veth, that delivers the
 * frame to the peer's XDP receive path, as a NIC would.
 *
 * Each transmitted frame is counted here, per CPU, so the benchmark knows
 * exactly how many frames left even if a run is cut short by a signal.
 *
 * spin paces the generator. One live-frames syscall costs tens of
 * milliseconds to set up, so pacing by sleeping between many small calls
 * cannot reach a million frames a second; instead each frame waits spin
 * empty loop iterations, calibrated by the benchmark to the offered rate.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tx_count SEC(".maps");

__u32 spin;

static long idle(__u32 i, void *ctx)
{
	(void)i;
	(void)ctx;
	return 0;
}

SEC("xdp")
int bench_tx(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n;

	(void)ctx;
	if (spin)
		bpf_loop(spin, idle, NULL, 0);
	n = bpf_map_lookup_elem(&tx_count, &zero);
	if (n)
		(*n)++;
	return XDP_TX;
}
