// SPDX-License-Identifier: GPL-2.0
/*
 * The XDP action: the default drops every frame, whatever its outcome;
 * --pass hands every frame on to the stack, counted all the same.
 */
#include "test_progs.h"

/*
 * Run f cut to len and check the XDP action, which tp_run() takes from the
 * load options: these tests check it against their own expectation.
 */
static bool run_action(struct tprog *t, const struct frame *f, __u32 len,
		       __u32 action, const char *what)
{
	char name[64];
	__u32 ret;

	snprintf(name, sizeof(name), "test_run %s", what);
	if (!ASSERT_OK(tp_run_raw(t, f->data, len, &ret), name))
		return false;
	snprintf(name, sizeof(name), "%s: %s", what,
		 action == XDP_PASS ? "XDP_PASS" : "XDP_DROP");
	return ASSERT_EQ(ret, action, name);
}

/* --pass: the frame goes on to the stack, counted all the same. */
static void action_pass(void)
{
	const __u64 want[NP_STAT_MAX] = {
		[NP_STAT_PACKETS] = 3,
		[NP_STAT_MATCHED] = 1,
		[NP_STAT_OTHER_PORT] = 1,
		[NP_STAT_NOT_IP] = 1,
	};
	struct np_prog_opts o = { .max_flows = 64, .pass = true };
	struct seg g = seed_req(CLIENT_PORT, FRAME_TH_SYN, 0);
	__u8 lldp[46] = {};
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, &o))
		goto out;
	frame_seg(&f, &g);
	if (!run_action(&t, &f, f.len, XDP_PASS, "matched"))
		goto out;
	g.dport = 22;
	frame_seg(&f, &g);
	if (!run_action(&t, &f, f.len, XDP_PASS, "other_port"))
		goto out;
	frame_init(&f);
	frame_eth(&f, (const __u8[6]){ 0x01, 0x80, 0xc2, 0, 0, 0x0e }, MAC_GW);
	frame_set_next(&f, 0x88cc);
	frame_raw(&f, lldp, sizeof(lldp));
	frame_end(&f);
	if (!run_action(&t, &f, f.len, XDP_PASS, "not_ip (LLDP)"))
		goto out;
	tp_stats(&t, want);
out:
	tp_close(&t);
}

/* The default drops every frame, whatever its outcome. */
static void action_drop(void)
{
	struct seg g = seed_req(CLIENT_PORT, FRAME_TH_SYN, 0);
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	frame_seg(&f, &g);
	if (!run_action(&t, &f, f.len, XDP_DROP, "matched"))
		goto out;
	run_action(&t, &f, 20, XDP_DROP, "truncated");
out:
	tp_close(&t);
}

void test_action(void)
{
	if (test__start_subtest("pass"))
		action_pass();
	if (test__start_subtest("drop"))
		action_drop();
}
