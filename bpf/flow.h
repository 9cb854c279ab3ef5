/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The flow table: an array of buckets of NP_FLOW_BUCKET slots, one
 * partition of it per CPU; each key may sit in either of two buckets of
 * the partition, chosen by a keyed hash, or in the partition's stash.
 *
 * Why not a hash map: a BPF hash lookup hashes the whole key with jhash
 * and walks a bucket list under RCU, behind a helper call; the array
 * lookup is inlined by the verifier into a few instructions. A hit is
 * the hash (four multiplies for IPv4, from the packet's own words), one
 * load per slot and a compare of five words, with no call at all.
 *
 * Why a partition per CPU: each CPU only ever writes its own, so no
 * update needs an atomic, as with a per-CPU array. Why not a per-CPU
 * array: the loader reads the whole table every interval, and a per-CPU
 * array can only be read by copying every slot of every CPU through the
 * bpf() syscall (at 100,000 flows, 2 x 262,144 slots x 400 bytes: 50 ms
 * before any work). A plain array is BPF_F_MMAPABLE: the loader maps it
 * read-only and copies only the slots in use. The partition's start,
 * bpf_get_smp_processor_id() * n_slots, costs what the per-CPU array's
 * offset did: the verifier inlines the helper into a per-CPU load.
 *
 * Why two buckets of 8 and a stash: a new flow goes to the emptier of
 * its two buckets, which keeps every bucket short. With buckets of 4,
 * at the loads the loader sizes for (at least 1.5 slots per flow) a few
 * flows in ten thousand found both of theirs full; with 8, the fullest
 * bucket of a large table at two thirds full just reaches 8, and the
 * stash (one more bucket per partition, searched only when both of a
 * key's buckets are full) takes the rare flow that then has no room:
 * --max-flows N flows fit (tests/prog_tests/table.c, test_table_holds).
 * Slots are never emptied (a reclaimed slot is reused in place), so the
 * used slots of a bucket are always its first ones and a search stops at
 * the first free slot.
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
 * 64 bits of keyed hash. The key's 32-bit words are paired and each pair
 * multiplied out in 64 bits, (a + k1) * (b + k2), and the products
 * summed: NH, the hash of UMAC (RFC 4418), whose collisions are rare
 * for every pair of keys when the addends are secret. Here they are
 * drawn at load (struct np_hkey), so a sender of crafted flows cannot
 * know which keys share a bucket. (Multiplying each word by a constant
 * would keep the addresses and ports, which sit in the high bytes of
 * little-endian words, in the high bits only.) For IPv4 the varying
 * words are 3 (server), 7 (client) and 8 (ports); ports and client
 * share a product so that neither can cancel the other. A factor taken
 * as a whole 64-bit word, w[2i] + (w[2i+1] << 32), instead of its low
 * word adds a term to the high half only, which changes nothing above
 * and saves masking it. The fold and the last multiply spread every bit
 * over the high half, where the bucket index is cut from.
 *
 * Host-compilable: the tests compute where a key must sit.
 */
static __always_inline __u64 flow_mix(__u64 x, const struct np_hkey *hk)
{
	x ^= x >> 32;
	return x * hk->mul;
}

/* q0..q4: the key's 64-bit words, word 2i + 1 in the high half of qi */
static __always_inline __u64 flow_hash_words(__u64 q0, __u64 q1, __u64 q2,
					     __u64 q3, __u64 q4,
					     const struct np_hkey *hk)
{
	const __u64 *a = hk->add;
	__u64 x;

	x = (q4 + a[0]) * ((q3 >> 32) + a[1]);		/* 8, 7 */
	x += ((q1 >> 32) + a[2]) * (q3 + a[3]);		/* 3, 6 */
	x += (q1 + a[4]) * ((q2 >> 32) + a[5]);		/* 2, 5 */
	x += ((q0 >> 32) + a[6]) * (q2 + a[7]);		/* 1, 4 */
	x += (q0 + a[8]) * a[9];			/* 0 */
	return flow_mix(x, hk);
}

static __always_inline __u64 flow_hash(const struct np_flow_key *k,
				       const struct np_hkey *hk)
{
	const __u64 *q = (const __u64 *)k;

	return flow_hash_words(q[0], q[1], q[2], q[3], q[4], hk);
}

/* Word 2 or 6 of an IPv4-mapped address, ::ffff:0:0, little-endian. */
#define NP_V4_MAPPED_W2	0xffff0000ull

/*
 * np_flow_key.v6 in the key's last 64-bit word (q4: the ports below it).
 * Only IPv6 keys set it, so the IPv4 hit path builds q4 as before; it
 * enters the hash as q4's high half, a term (1 << 32) * (word 7 + a[1])
 * in the sum's high half, so an IPv6 key between IPv4-mapped addresses
 * hashes apart from the IPv4 key of the same addresses and ports (and
 * never compares equal to it).
 */
#define NP_KEY_V6_W4	(1ull << 32)

/*
 * flow_hash() of an IPv4 key (::ffff:server, ::ffff:client, ports, v6 0)
 * from the three words that vary, as the packet holds them: words 0, 1,
 * 4, 5 and 9 are zero, so two of the five products are the constant hk->v4.
 */
static __always_inline __u64 flow_hash_v4(__u32 server, __u32 client,
					  __u32 ports, const struct np_hkey *hk)
{
	const __u64 *a = hk->add;
	__u64 q1 = NP_V4_MAPPED_W2 | (__u64)server << 32;
	__u64 q3 = NP_V4_MAPPED_W2 | (__u64)client << 32;
	__u64 x;

	x = (ports + a[0]) * (client + a[1]);
	x += (server + a[2]) * (q3 + a[3]);
	x += (q1 + a[4]) * a[5];
	x += hk->v4;
	return flow_mix(x, hk);
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
