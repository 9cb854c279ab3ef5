/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For the bench's frame writers (bench_inorder, bench_tx): a TCP
 * sequence number, big-endian, into the frame at off bytes from its
 * start (at most 256). False when the frame is too short for it.
 */
#ifndef NBDPATH_BENCH_SEQ_H
#define NBDPATH_BENCH_SEQ_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __always_inline bool bench_put_seq(struct xdp_md *ctx, __u32 off,
					  __u32 seq)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *sp;

	/* bounded, so the verifier can track data + off */
	if (off > 256)
		return false;
	sp = data + off;
	if ((void *)(sp + 4) > end)
		return false;
	sp[0] = seq >> 24;
	sp[1] = seq >> 16;
	sp[2] = seq >> 8;
	sp[3] = seq;
	return true;
}

#endif /* NBDPATH_BENCH_SEQ_H */
