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
 *
 * seq_off, when set, is where the frame's TCP sequence number sits: each
 * CPU's frames then carry 1000, 1000 + seq_step, and so on, the next
 * segment of a stream every time (a frame sent again would be a
 * retransmission to nbdpath's TCP health counters, not a backup's data).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "bench_seq.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tx_count SEC(".maps");

__u32 spin;
__u32 seq_off;
__u32 seq_step;

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

	if (spin)
		bpf_loop(spin, idle, NULL, 0);
	n = bpf_map_lookup_elem(&tx_count, &zero);
	if (!n)
		return XDP_ABORTED;
	/* this CPU's frames so far: its stream's next segment */
	if (seq_off &&
	    !bench_put_seq(ctx, seq_off, 1000 + (__u32)*n * seq_step))
		return XDP_ABORTED;
	(*n)++;
	return XDP_TX;
}
