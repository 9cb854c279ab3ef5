// SPDX-License-Identifier: GPL-2.0
/* The clock flows are stamped with. */
#include <time.h>
#include <unistd.h>
#include "test_progs.h"

/*
 * Without a replay clock the program stamps flows with the coarse
 * monotonic clock: bracket it. The first frame starts a timer that
 * keeps the clock moving; a hit then takes that time without reading
 * the clock itself.
 */
void test_clock_live(void)
{
	struct seg g = seed_req(CLIENT_PORT, FRAME_TH_SYN, 0);
	const struct np_flow_rec *r;
	struct timespec ts;
	struct frame f;
	struct tprog t;
	__u64 before, after, now;

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

	/* the hit path reads no clock: a timer moves the program's on */
	for (int i = 0; i < 2000; i++) {
		if (t.skel->data->cfg.clock_ns != r->dir[0].first_ns)
			break;
		usleep(1000);
	}
	now = t.skel->data->cfg.clock_ns;
	if (!ASSERT_NEQ(now, r->dir[0].first_ns, "the timer moved the clock"))
		goto out;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	after = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	ASSERT_TRUE(now > r->dir[0].first_ns && now <= after,
		    "the timer's clock is the coarse clock");
	g.flags = FRAME_TH_ACK;
	frame_seg(&f, &g);
	if (!tp_run(&t, &f, 0))
		goto out;
	r = tp_read_seed(&t);
	if (r)
		ASSERT_TRUE(r->dir[0].last_ns >= now &&
			    r->dir[0].last_ns <= t.skel->data->cfg.clock_ns,
			    "a hit takes the timer's time");
out:
	tp_close(&t);
}
