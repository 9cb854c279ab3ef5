/* SPDX-License-Identifier: GPL-2.0 */
/* The order of the flows list: by bytes, descending, then by key. */
#ifndef NBDPATH_FLOWSORT_H
#define NBDPATH_FLOWSORT_H

#include <stddef.h>
#include "nbdpath.h"

/*
 * One flow to sort. The key is kept beside the count as big-endian words
 * (memcmp() order), so that the sort touches nothing else: on a quiet
 * network most flows tie on bytes.
 */
struct np_fsort {
	__u64	bytes;
	__u64	k[5];
	size_t	idx;			/* the caller's */
};

_Static_assert(sizeof(struct np_flow_key) == 5 * 8, "key words");

/* The sort entry of a flow with this key and byte count. */
void np_fsort_set(struct np_fsort *x, const struct np_flow_key *k,
		  __u64 bytes, size_t idx);

/* a[0..n) by bytes, descending, then by key; t: room for n. */
void np_fsort_sort(struct np_fsort *a, struct np_fsort *t, size_t n);

/*
 * Buffers kept from one report to the next: at 100,000 flows the flow
 * array alone is 40 MB, which malloc() maps afresh each time, and the
 * page faults of filling new pages cost more than the copy into them.
 * One spare of each kind; the loader has one thread.
 */
enum np_spare { NP_SPARE_FLOWS, NP_SPARE_SORT, NP_SPARE_MAX };

void *np_spare_get(enum np_spare kind, size_t size);
void np_spare_put(enum np_spare kind, void *p);

#endif /* NBDPATH_FLOWSORT_H */
