// SPDX-License-Identifier: GPL-2.0
/*
 * Harness programs for `make bench` (tests/bench.c), run with
 * BPF_PROG_TEST_RUN beside nbdpath:
 *
 * bench_bare   drops everything: the cost of the test-run loop itself,
 *              subtracted from every nbdpath figure measured in the
 *              same round.
 * bench_fresh  gives every repetition a flow key never seen before, then
 *              tail-calls whatever sits in bench_next[0] (nbdpath, or
 *              bench_bare for its own cost). BPF_PROG_TEST_RUN repeats one
 *              frame; without this a "new flow" could only be measured
 *              with repeat=1, where the syscall costs a hundred times
 *              more than the packet.
 * bench_inorder gives every repetition the sequence number that follows
 *              the one before (seq_step bytes on), then tail-calls
 *              bench_next[0]: the established flow's next segment, where
 *              the same frame again is a retransmission (TCP health
 *              counts both, by different paths).
 *
 * Both are xdp.frags like nbdpath: a tail call needs caller and callee
 * to agree on it, and the bare figure should run under the same rules.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "bench_seq.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_next SEC(".maps");

/*
 * Set by the benchmark before a run: where in the frame the client's
 * address (its last two bytes are rewritten) and port sit, and the
 * sequence number the next repetition starts from.
 */
__u32 addr_off;
__u32 port_off;
__u32 seq;
/* bench_inorder: where the TCP sequence number sits, and its step */
__u32 seq_off;
__u32 seq_step;
__u32 seq_n;

/* Client ports cycle through 1024..65023, clear of 902 and of 0. */
#define PORT_BASE	1024
#define PORT_SPAN	64000

SEC("xdp.frags")
int bench_bare(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_DROP;
}

SEC("xdp.frags")
int bench_fresh(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 n = seq++, a = addr_off, p = port_off, hi, port;
	__u8 *ap, *pp;

	/* bounded offsets keep the packet pointers checkable */
	if (a > 256 || p > 256)
		return XDP_ABORTED;
	ap = data + a;
	pp = data + p;
	if ((void *)(ap + 2) > end || (void *)(pp + 2) > end)
		return XDP_ABORTED;
	/* 64000 ports x 65536 addresses: 4e9 distinct clients */
	hi = n / PORT_SPAN;
	port = PORT_BASE + n % PORT_SPAN;
	ap[0] = hi >> 8;
	ap[1] = hi;
	pp[0] = port >> 8;
	pp[1] = port;
	bpf_tail_call(ctx, &bench_next, 0);
	return XDP_ABORTED;	/* the slot was empty */
}

SEC("xdp.frags")
int bench_inorder(struct xdp_md *ctx)
{
	__u32 n = seq_n++;

	/* from the frame's own 1000, whether or not the data persists */
	if (!bench_put_seq(ctx, seq_off, 1000 + n * seq_step))
		return XDP_ABORTED;
	bpf_tail_call(ctx, &bench_next, 0);
	return XDP_ABORTED;	/* the slot was empty */
}
