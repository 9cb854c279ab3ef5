/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The flow table: a per-CPU array probed linearly from a hash of the key.
 *
 * Why not a hash map: a BPF hash lookup hashes the whole key with jhash
 * and walks a bucket list under RCU; the array lookup is inlined by the
 * verifier into a few instructions, and the per-CPU copy needs no atomics.
 * A hit is one multiply, one load and a 40-byte compare.
 *
 * Each CPU fills its own copy independently, so a flow seen by two CPUs
 * may sit in different slots: readers merge slots by key. Slots are never
 * written by userspace (a per-CPU array update rewrites every CPU's copy,
 * which would race with live flows of other CPUs); the program itself
 * reclaims a slot whose flow has been idle for cfg.idle_ns, or closed
 * (FIN both ways, or RST) for cfg.closed_ns. The loader polls far more
 * often than that, so it has always read a slot's final counts before
 * the slot is reused.
 */
#ifndef NBDPATH_FLOW_H
#define NBDPATH_FLOW_H

#include <stdbool.h>
#include "nbdpath.h"

#define TCPF_FIN	0x01
#define TCPF_RST	0x04

static __always_inline __u32 flow_hash(const struct np_flow_key *k)
{
	const __u32 *w = (const __u32 *)k;
	__u32 h;

	/*
	 * Each field gets its own odd multiplier before the sum, so no two
	 * fields can cancel out (as an address byte and a port byte would
	 * under XOR). IPv4 lives in words 3 and 7, the ports in word 8;
	 * the rest of an IPv6 address is folded in more cheaply. The last
	 * steps spread every input bit to the low bits the index is cut from.
	 */
	h = w[8] * 0x9e3779b1u;
	h += w[3] * 0x85ebca77u;
	h += w[7] * 0xc2b2ae3du;
	h += (w[2] ^ (w[6] << 1)) * 0x27d4eb2fu;
	h += (w[0] ^ w[1] ^ (w[4] << 1) ^ (w[5] << 2)) * 0x165667b1u;
	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	h ^= h >> 13;
	return h;
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
	__u8 fl = a->tcp_flags | b->tcp_flags;
	bool closed = (fl & TCPF_RST) ||
		      ((a->tcp_flags & TCPF_FIN) && (b->tcp_flags & TCPF_FIN));

	if (now < last)
		return false;
	if (now - last >= idle_ns)
		return true;
	return closed && now - last >= closed_ns;
}

#endif /* NBDPATH_FLOW_H */
