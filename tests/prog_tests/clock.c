// SPDX-License-Identifier: GPL-2.0
/* The clock flows are stamped with. */
#include <time.h>
#include "test_progs.h"

/*
 * Without a replay clock the program stamps flows with the coarse
 * monotonic clock: bracket it.
 */
void test_clock_live(void)
{
	struct seg g = seed_req(CLIENT_PORT, FRAME_TH_SYN, 0);
	const struct np_flow_rec *r;
	struct timespec ts;
	struct frame f;
	struct tprog t;
	__u64 before, after;

	if (!tp_load(&t, NULL))
		goto out;
	tp_set_clock(&t, 0);
	frame_seg(&f, &g);
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	before = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	if (!tp_run(&t, &f, 0))
		goto out;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	after = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	r = tp_read_seed(&t);
	if (!r)
		goto out;
	ASSERT_TRUE(r->dir[0].first_ns >= before && r->dir[0].first_ns <= after,
		    "first_ns within the coarse clock's bracket");
	ASSERT_EQ(r->dir[0].last_ns, r->dir[0].first_ns, "last_ns");
out:
	tp_close(&t);
}
