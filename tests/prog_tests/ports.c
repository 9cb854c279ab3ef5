// SPDX-License-Identifier: GPL-2.0
/*
 * The monitored TCP ports: frames to others are counted as other_port and
 * kept out of the table; the set changes on a loaded program; with two
 * monitored, a connection between them belongs to its first packet's
 * destination.
 */
#include "test_progs.h"

static void ports_other(void)
{
	const __u64 want[NP_STAT_MAX] = {
		[NP_STAT_PACKETS] = 2,
		[NP_STAT_OTHER_PORT] = 2,
	};
	struct seg g = seed_req(CLIENT_PORT, FRAME_TH_SYN, 0);
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	/* vCenter's HTTPS, and the ESXi host's own client connection */
	g.dport = 443;
	frame_seg(&f, &g);
	if (!tp_run(&t, &f, 0))
		goto out;
	frame_seg(&f, &(struct seg){
		.dmac = MAC_GW, .smac = MAC_VMK0,
		.saddr = IP_ESX, .daddr = IP_RUBRIK,
		.sport = 903, .dport = 9020, .flags = FRAME_TH_SYN,
	});
	if (!tp_run(&t, &f, 0))
		goto out;
	if (tp_stats(&t, want))
		tp_read_n(&t, 0);
out:
	tp_close(&t);
}

/* np_prog_set_ports() on a loaded program: the next frame obeys it. */
static void ports_runtime(void)
{
	static const __u16 only_903[] = { 903 };
	static const __u16 both[] = { 902, 903 };
	static const struct {
		const char *what;
		bool set;		/* call np_prog_set_ports() first */
		const __u16 *ports;
		int n_ports;
		__u64 matched;		/* of the two frames */
	} steps[] = {
		{ "default", false, NULL, 0, 1 },
		{ "903 only", true, only_903, 1, 1 },
		{ "902 and 903", true, both, 2, 2 },
		/* NULL: back to the default, 902 alone */
		{ "NULL", true, NULL, 0, 1 },
	};
	struct seg g = seed_req(CLIENT_PORT, FRAME_TH_SYN, 0);
	const struct np_flow_rec *r;
	struct frame f902, f903;
	struct tprog t;
	__u64 want[NP_STAT_MAX] = { [NP_STAT_PACKETS] = 2 };

	if (!tp_load(&t, NULL))
		goto out;
	frame_seg(&f902, &g);
	g.sport = CLIENT_PORT + 1;
	g.dport = 903;
	frame_seg(&f903, &g);

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (steps[i].set)
			np_prog_set_ports(t.skel, steps[i].ports,
					  steps[i].n_ports);
		if (!tp_run(&t, &f902, 0) || !tp_run(&t, &f903, 0))
			goto out;
		want[NP_STAT_MATCHED] = steps[i].matched;
		want[NP_STAT_OTHER_PORT] = 2 - steps[i].matched;
		if (!tp_stats_delta(&t, want)) {
			printf("    (ports: %s)\n", steps[i].what);
			goto out;
		}
	}
	if (!tp_read_n(&t, 2))
		goto out;
	/* 902 matched in runs 1, 3, 4; 903 in runs 2 and 3 */
	r = tp_flow(&t, IP_ESX, 902, IP_RUBRIK, CLIENT_PORT);
	if (r)
		tp_plain(r, NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0, 3, 3 * 52, 0,
			 FRAME_TH_SYN);
	r = tp_flow(&t, IP_ESX, 903, IP_RUBRIK, CLIENT_PORT + 1);
	if (r)
		tp_plain(r, NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0, 2, 2 * 52, 0,
			 FRAME_TH_SYN);
out:
	tp_close(&t);
}

/*
 * Both ports monitored: a connection from port 903 to port 902. The
 * destination of the first packet is the server; its replies, also
 * "to" a monitored port, land in from_server of the same flow.
 */
static void ports_both(void)
{
	static const struct tp_step steps[] = {
		{ true,  FRAME_TH_SYN, 0, 0 },
		{ false, FRAME_TH_SYN | FRAME_TH_ACK, 0, 0 },
		{ true,  FRAME_TH_ACK, 0, 0 },
		{ false, FRAME_TH_ACK, 0, 1000 },
	};
	const __u16 ports[] = { 902, 903 };
	struct np_prog_opts o = { .ports = ports, .n_ports = 2, .max_flows = 64 };
	const __u64 want[NP_STAT_MAX] = {
		[NP_STAT_PACKETS] = 4,
		[NP_STAT_MATCHED] = 4,
	};
	struct seg req = seed_req(903, 0, 0), rep = seed_rep(903, 0, 0);
	const struct np_flow_rec *r;
	struct tprog t;

	if (!tp_load(&t, &o))
		goto out;
	req.dport = 902;
	rep.sport = 902;
	if (!tp_run_steps(&t, steps, sizeof(steps) / sizeof(steps[0]), &req, &rep))
		goto out;
	if (!tp_stats(&t, want) || !tp_read_n(&t, 1))
		goto out;
	r = tp_flow(&t, IP_ESX, 902, IP_RUBRIK, 903);
	if (!r)
		goto out;
	tp_plain(r, NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0, 2, 104, 0,
		 FRAME_TH_SYN | FRAME_TH_ACK);
	tp_plain(r, NP_DIR_FROM_SERVER, MAC_VMK4, MAC_RUBRIK, 2, 52 + 1052,
		 1000, FRAME_TH_SYN | FRAME_TH_ACK);
out:
	tp_close(&t);
}

/*
 * A connection whose two ends are the same address and port (crafted,
 * or a capture's oddity): its key is its own reverse. It is one flow
 * with every packet, not folded into itself and lost.
 */
static void ports_same_ends(void)
{
	const __u64 want[NP_STAT_MAX] = {
		[NP_STAT_PACKETS] = 3,
		[NP_STAT_MATCHED] = 3,
	};
	struct seg s = seed_req(NBD_PORT, FRAME_TH_ACK, 100);
	const struct np_flow_rec *r;
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	s.saddr = IP_ESX;
	frame_seg(&f, &s);
	for (int i = 0; i < 3; i++)
		if (!tp_run(&t, &f, 0))
			goto out;
	if (!tp_stats(&t, want) || !tp_read_n(&t, 1))
		goto out;
	r = tp_flow(&t, IP_ESX, NBD_PORT, IP_ESX, NBD_PORT);
	if (ASSERT_TRUE(r, "the flow") &&
	    ASSERT_EQ(np_dir_packets(&r->dir[NP_DIR_TO_SERVER]) +
		      np_dir_packets(&r->dir[NP_DIR_FROM_SERVER]), 3,
		      "every packet"))
		ASSERT_EQ(r->dir[NP_DIR_TO_SERVER].payload_bytes +
			  r->dir[NP_DIR_FROM_SERVER].payload_bytes, 300,
			  "payload");
out:
	tp_close(&t);
}

void test_ports(void)
{
	if (test__start_subtest("other_port"))
		ports_other();
	if (test__start_subtest("runtime"))
		ports_runtime();
	if (test__start_subtest("same_ends"))
		ports_same_ends();
	if (test__start_subtest("both"))
		ports_both();
}
