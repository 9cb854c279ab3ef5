/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The loader's one hash of a flow key and one index of records by key:
 * open addressing, each entry keeping 32 bits of the key's hash beside
 * the record's index, so that a probe reads a record (a cache miss, in a
 * set of 100,000 flows) only when those match. The records are any array
 * whose elements start with their struct np_flow_key.
 */
#ifndef NBDPATH_KEYIDX_H
#define NBDPATH_KEYIDX_H

#include <stdlib.h>
#include <string.h>
#include "nbdpath.h"

static inline __u64 np_flow_key_hash(const struct np_flow_key *k)
{
	const __u64 *w = (const __u64 *)k;
	__u64 h = 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < sizeof(*k) / 8; i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h;
}

_Static_assert(sizeof(struct np_flow_key) % 8 == 0, "hashed as words");

struct np_keyent {
	__u32 idx;			/* record index + 1; 0 = empty */
	__u32 tag;			/* the hash's high half */
};

struct np_keyidx {
	struct np_keyent *slot;
	size_t mask;			/* slots - 1 */
};

/* Room for n keys at half load at most; -ENOMEM. */
static inline int np_keyidx_init(struct np_keyidx *x, size_t n)
{
	size_t sz = 64;

	while (sz < n * 2)
		sz <<= 1;
	free(x->slot);
	x->slot = calloc(sz, sizeof(*x->slot));
	x->mask = sz - 1;
	return x->slot ? 0 : -12;
}

static inline void np_keyidx_free(struct np_keyidx *x)
{
	free(x->slot);
	x->slot = NULL;
}

/*
 * The entry of key k (hash h) among the records at base, stride bytes
 * apart; when absent, the free entry where it goes, its tag already set
 * (the caller stores idx to insert).
 */
static inline struct np_keyent *np_keyidx_find(const struct np_keyidx *x,
					       const void *base, size_t stride,
					       const struct np_flow_key *k,
					       __u64 h)
{
	size_t i = h & x->mask;
	__u32 tag = h >> 32;

	for (; x->slot[i].idx; i = (i + 1) & x->mask)
		if (x->slot[i].tag == tag &&
		    !memcmp((const char *)base +
			    (size_t)(x->slot[i].idx - 1) * stride, k,
			    sizeof(*k)))
			break;
	x->slot[i].tag = tag;
	return &x->slot[i];
}

/*
 * The same for records of one connection each, keyed by the flow key and
 * the time of its first packet (an __s64 at first_off in the record): a
 * key comes back as a new connection once its slot is reused, and both
 * may be listed at once, so a record found by key alone could be the
 * other one's.
 */
static inline struct np_keyent *np_keyidx_find_conn(const struct np_keyidx *x,
						    const void *base,
						    size_t stride,
						    const struct np_flow_key *k,
						    __s64 first_ns,
						    size_t first_off)
{
	__u64 h = np_flow_key_hash(k) ^ ((__u64)first_ns * 0x9e3779b97f4a7c15ull);
	size_t i = h & x->mask;
	__u32 tag = h >> 32;

	for (; x->slot[i].idx; i = (i + 1) & x->mask) {
		const char *r = (const char *)base +
				(size_t)(x->slot[i].idx - 1) * stride;
		__s64 f;

		memcpy(&f, r + first_off, sizeof(f));
		if (x->slot[i].tag == tag && f == first_ns &&
		    !memcmp(r, k, sizeof(*k)))
			break;
	}
	x->slot[i].tag = tag;
	return &x->slot[i];
}

#endif /* NBDPATH_KEYIDX_H */
