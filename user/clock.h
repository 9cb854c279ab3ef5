/* SPDX-License-Identifier: GPL-2.0 */
/* The one clock reader every command uses. */
#ifndef NBDPATH_CLOCK_H
#define NBDPATH_CLOCK_H

#include <time.h>
#include <linux/types.h>

/* Nanoseconds on clock id (CLOCK_MONOTONIC, _COARSE, CLOCK_REALTIME). */
static inline __u64 np_clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

#endif /* NBDPATH_CLOCK_H */
