/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The flow table: an array of buckets of NP_FLOW_BUCKET slots, one
 * partition of it per CPU; each key may sit in either of two buckets of
 * the partition, chosen by its hash.
 *
 * Why not a hash map: a BPF hash lookup hashes the whole key with jhash
 * and walks a bucket list under RCU; the array lookup is inlined by the
 * verifier into a few instructions. A hit is the hash (six multiplies),
 * one load and a 40-byte compare.
 *
 * Why a partition per CPU: each CPU only ever writes its own, so no
 * update needs an atomic, as with a per-CPU array. Why not a per-CPU
 * array: the loader reads the whole table every interval, and a per-CPU
 * array can only be read by copying every slot of every CPU through the
 * bpf() syscall (at 100,000 flows, 2 x 262,144 slots x 400 bytes: 50 ms
 * before any work). A plain array is BPF_F_MMAPABLE: the loader maps it
 * read-only and copies only the slots in use. The partition's start,
 * bpf_get_smp_processor_id() << shift, costs what the per-CPU array's
 * offset did: the verifier inlines both into a per-CPU load.
 *
 * Why two buckets: with one window of 8 slots probed linearly, runs of
 * used slots merge, and at the loads the loader sizes for (at least 1.5
 * slots per flow) about one new flow in a thousand found its window full.
 * A new flow goes to the emptier of its two buckets instead, which keeps
 * every bucket short: --max-flows N flows fit. Slots are never emptied
 * (a reclaimed slot is reused in place), so the used slots of a bucket
 * are always its first ones and a search stops at the first free slot.
 *
 * A flow seen by two CPUs sits in both partitions, each counting what
 * its CPU saw: readers merge slots by key. Slots are never written by
 * userspace (a write could race with the program's own update of the
 * slot); the program itself reclaims a slot whose flow has been idle for
 * cfg.idle_ns, or closed (FIN both ways, or RST) for cfg.closed_ns. The
 * loader polls far more often than that, so it has always read a slot's
 * final counts before the slot is reused.
 */
#ifndef NBDPATH_FLOW_H
#define NBDPATH_FLOW_H

#include <stdbool.h>
#include "nbdpath.h"
#include "np_rules.h"

/*
 * 64 bits of hash. The key's 32-bit words are paired and each pair
 * multiplied out in 64 bits, (a + c1) * (b + c2), and the products
 * summed: every bit of a pair reaches the high half of its product.
 * (Multiplying each word by a constant would keep the addresses and
 * ports, which sit in the high bytes of little-endian words, in the high
 * bits only: keys that differ there would collide however they are mixed
 * afterwards.) For IPv4 the varying words are 3 (server), 7 (client) and
 * 8 (ports); ports and client share a product so that neither can cancel
 * the other. A factor taken as a whole 64-bit word, w[2i] + (w[2i+1] << 32),
 * instead of its low word adds a term to the high half only, which
 * changes nothing above and saves masking it. The fold and the last
 * multiply spread every bit over the high half, where the bucket index
 * is cut from. The addends stay below 2^31: one BPF immediate each.
 */
static __always_inline __u64 flow_hash(const struct np_flow_key *k)
{
	const __u64 *q = (const __u64 *)k;	/* q[i]: words 2i, 2i + 1 */
	__u64 x;

	x = (q[4] + 0x1e3779b9) * ((q[3] >> 32) + 0x7f4a7c15);	/* 8, 7 */
	x += ((q[1] >> 32) + 0x05ebca6b) * (q[3] + 0x42b2ae35);	/* 3, 6 */
	x += (q[1] + 0x27d4eb2f) * ((q[2] >> 32) + 0x165667b1);	/* 2, 5 */
	x += ((q[0] >> 32) + 0x53a2646c) * (q[2] + 0x7d7046c5);	/* 1, 4 */
	x += (q[0] + 0x355a4f09) * 0x14d049bb;			/* 0 */
	x ^= x >> 32;
	return x * 0x9e3779b97f4a7c15ull;
}

/* The key's first bucket; bucket_mask: buckets - 1, at least 1. */
static __always_inline __u32 flow_bucket_a(__u64 h, __u32 bucket_mask)
{
	return (__u32)(h >> 32) & bucket_mask;
}

/*
 * The second bucket, from other bits of the hash. Forced to differ from
 * the first in its lowest bit: the two are never the same bucket, so the
 * smallest table (two buckets) gives every key all of its slots.
 */
static __always_inline __u32 flow_bucket_b(__u64 h, __u32 a,
					   __u32 bucket_mask)
{
	__u32 r = (__u32)((h * 0xc2b2ae3d27d4eb4full) >> 32);

	return a ^ ((r & bucket_mask) | 1);
}

static __always_inline bool key_eq(const struct np_flow_key *a,
				   const struct np_flow_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] &&
	       x[3] == y[3] && x[4] == y[4];
}

static __always_inline bool flow_reclaimable(const struct np_flow *f,
					     __u64 now, __u64 idle_ns,
					     __u64 closed_ns)
{
	const struct np_dir *a = &f->dir[0], *b = &f->dir[1];
	__u64 last = a->last_ns > b->last_ns ? a->last_ns : b->last_ns;

	return np_flow_expired(a->tcp_flags, b->tcp_flags, last, now,
			       idle_ns, closed_ns);
}

#endif /* NBDPATH_FLOW_H */
