// SPDX-License-Identifier: GPL-2.0
/*
 * One flow seen from two CPUs: each CPU counts in its own part of the
 * table, and the reader merges the parts by key.
 */
#include <bpf/bpf.h>
#include "test_progs.h"

/*
 * Slots in use in the partitions of the first two CPUs, read straight
 * from the map: CPU c's slots are c * n_slots onwards.
 */
static bool slots_in_use(struct tprog *t, int used[2])
{
	struct np_flow f;
	bool ok = true;

	used[0] = used[1] = 0;
	for (int i = 0; i < 2; i++) {
		for (__u32 k = 0; k < t->maps.n_slots && ok; k++) {
			__u32 idx = env.cpus[i] * t->maps.n_slots + k;

			ok = ASSERT_OK(bpf_map_lookup_elem(t->maps.flows, &idx,
							   &f), "lookup slot");
			used[i] += ok && f.in_use;
		}
	}
	return ok;
}

static struct seg to_srv(const __u8 *smac, __u32 payload)
{
	return (struct seg){
		.dmac = MAC_VMK0, .smac = smac,
		.saddr = IP_RUBRIK, .daddr = IP_ESX,
		.sport = CLIENT_PORT, .dport = NBD_PORT,
		.flags = FRAME_TH_PSH | FRAME_TH_ACK, .payload = payload,
	};
}

static struct seg from_srv(const __u8 *smac, __u32 payload)
{
	return (struct seg){
		.dmac = MAC_RUBRIK, .smac = smac,
		.saddr = IP_ESX, .daddr = IP_RUBRIK,
		.sport = NBD_PORT, .dport = CLIENT_PORT,
		.flags = FRAME_TH_ACK, .payload = payload,
	};
}

/* Run seg n times on cpu, the clock at *now, one tick further each. */
static bool burst(struct tprog *t, const struct seg *g, int n, int cpu,
		  __u64 *now)
{
	struct frame f;

	frame_seg(&f, g);
	for (int i = 0; i < n; i++) {
		tp_set_clock(t, ++*now);
		if (!tp_run_on(t, &f, 0, cpu))
			return false;
	}
	return true;
}

void test_percpu_merge(void)
{
	const __u64 want[NP_STAT_MAX] = {
		[NP_STAT_PACKETS] = 12,
		[NP_STAT_MATCHED] = 12,
	};
	const struct np_flow_rec *r;
	struct seg g;
	struct tprog t;
	__u64 now = TP_CLOCK0;
	int used[2];

	if (env.nr_cpus < 2) {
		test__skip("needs 2 CPUs, this process may use %d",
			   env.nr_cpus);
		return;
	}
	if (!tp_load(&t, NULL))
		goto out;
	/* requests on CPU 0, data on CPU 1, then more of both on both */
	g = to_srv(MAC_GW, 16);
	if (!burst(&t, &g, 3, 0, &now))			/* t0+1..3 */
		goto out;
	g = from_srv(MAC_VMK4, 1448);
	if (!burst(&t, &g, 5, 1, &now))			/* t0+4..8 */
		goto out;
	g = to_srv(MAC_RUBRIK, 32);
	if (!burst(&t, &g, 2, 1, &now))			/* t0+9..10 */
		goto out;
	g = from_srv(MAC_VMK0, 500);
	if (!burst(&t, &g, 2, 0, &now))			/* t0+11..12 */
		goto out;

	if (!tp_stats(&t, want) || !slots_in_use(&t, used))
		goto out;
	/* each CPU holds its own copy: otherwise nothing was merged */
	ASSERT_EQ(used[0], 1, "slots in use on CPU 0");
	ASSERT_EQ(used[1], 1, "slots in use on CPU 1");
	if (!tp_read(&t) || !ASSERT_EQ(t.flows.n, 1, "merged flows"))
		goto out;
	r = tp_flow(&t, IP_ESX, NBD_PORT, IP_RUBRIK, CLIENT_PORT);
	if (!r)
		goto out;
	/* the last frame's MACs are the latest CPU's */
	tp_dir(&r->dir[NP_DIR_TO_SERVER], &(struct want_dir){
		.packets = 5, .bytes = 3 * 68 + 2 * 84, .payload = 3 * 16 + 2 * 32,
		.macs = { { MAC_VMK0, 5, 3 * 68 + 2 * 84 } },
		.src_mac = MAC_RUBRIK, .dst_mac = MAC_VMK0,
		.tcp_flags = FRAME_TH_PSH | FRAME_TH_ACK,
		.flags = NP_DIRF_UNTAGGED,
		.first_ns = TP_CLOCK0 + 1, .last_ns = TP_CLOCK0 + 10,
	}, "to_server");
	tp_dir(&r->dir[NP_DIR_FROM_SERVER], &(struct want_dir){
		.packets = 7, .bytes = 5 * 1500 + 2 * 552,
		.payload = 5 * 1448 + 2 * 500,
		.macs = { { MAC_VMK4, 5, 5 * 1500 }, { MAC_VMK0, 2, 2 * 552 } },
		.macs_any_order = true,
		.src_mac = MAC_VMK0, .dst_mac = MAC_RUBRIK,
		.tcp_flags = FRAME_TH_ACK,
		.flags = NP_DIRF_UNTAGGED,
		.first_ns = TP_CLOCK0 + 4, .last_ns = TP_CLOCK0 + 12,
	}, "from_server");
out:
	tp_close(&t);
}

/*
 * Both ports monitored, the first packet on CPU 0 and the reply on CPU 1:
 * CPU 1 never saw the first packet, so it files the reply under the
 * reversed key. The reader folds it back: the earlier packet decides.
 */
void test_percpu_both_ports(void)
{
	const __u16 ports[] = { 902, 903 };
	struct np_prog_opts o = { .ports = ports, .n_ports = 2, .max_flows = 64 };
	const struct np_flow_rec *r;
	struct seg g;
	struct tprog t;
	__u64 now = TP_CLOCK0;

	if (env.nr_cpus < 2) {
		test__skip("needs 2 CPUs, this process may use %d",
			   env.nr_cpus);
		return;
	}
	if (!tp_load(&t, &o))
		goto out;
	g = to_srv(MAC_GW, 0);
	g.sport = 903;
	g.flags = FRAME_TH_SYN;
	if (!burst(&t, &g, 1, 0, &now))
		goto out;
	g = from_srv(MAC_VMK4, 0);
	g.dport = 903;
	g.flags = FRAME_TH_SYN | FRAME_TH_ACK;
	if (!burst(&t, &g, 1, 1, &now))
		goto out;
	g.flags = FRAME_TH_ACK;
	g.payload = 1000;
	if (!burst(&t, &g, 2, 1, &now))
		goto out;
	if (!tp_read(&t) || !ASSERT_EQ(t.flows.n, 1, "merged flows"))
		goto out;
	r = tp_flow(&t, IP_ESX, 902, IP_RUBRIK, 903);
	if (!r)
		goto out;
	tp_dir(&r->dir[NP_DIR_TO_SERVER], &(struct want_dir){
		.packets = 1, .bytes = 52,
		.macs = { { MAC_VMK0, 1, 52 } },
		.src_mac = MAC_GW, .dst_mac = MAC_VMK0,
		.tcp_flags = FRAME_TH_SYN, .flags = NP_DIRF_UNTAGGED,
		.first_ns = TP_CLOCK0 + 1, .last_ns = TP_CLOCK0 + 1,
	}, "to_server");
	tp_dir(&r->dir[NP_DIR_FROM_SERVER], &(struct want_dir){
		.packets = 3, .bytes = 52 + 2 * 1052, .payload = 2000,
		.macs = { { MAC_VMK4, 3, 52 + 2 * 1052 } },
		.src_mac = MAC_VMK4, .dst_mac = MAC_RUBRIK,
		.tcp_flags = FRAME_TH_SYN | FRAME_TH_ACK,
		.flags = NP_DIRF_UNTAGGED,
		.first_ns = TP_CLOCK0 + 2, .last_ns = TP_CLOCK0 + 4,
	}, "from_server");
out:
	tp_close(&t);
}

#include "../bpf/flow.h"

/*
 * The hit path first tries the slot of its CPU's last hit, which starts
 * at zero: CPU 0's first slot. A flow sitting there must still be
 * counted in CPU 1's own partition when CPU 1 sees it first.
 */
void test_percpu_last_slot(void)
{
	static const __u64 r[12] = { 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
				     21, 22 };
	const __u64 want[NP_STAT_MAX] = {
		[NP_STAT_PACKETS] = 3,
		[NP_STAT_MATCHED] = 3,
	};
	struct np_prog_opts o = { .max_flows = 64 };
	struct np_flow_key k;
	struct np_hkey hk;
	struct tprog t;
	struct seg g;
	__u16 port;
	__u64 now = TP_CLOCK0;
	int used[2];

	if (env.nr_cpus < 2) {
		test__skip("needs 2 CPUs, this process may use %d",
			   env.nr_cpus);
		return;
	}
	np_hkey_set(&hk, r);
	o.hkey = &hk;
	if (!tp_load(&t, &o))
		goto out;
	/* a client port whose first bucket is bucket 0: slot 0 */
	for (port = 40000; port < 60000; port++) {
		tp_key(&k, IP_ESX, NBD_PORT, IP_RUBRIK, port);
		if (!flow_bucket_a(flow_hash(&k, &hk),
				   t.skel->rodata->bucket_mask))
			break;
	}
	g = to_srv(MAC_GW, 16);
	g.sport = port;
	if (!burst(&t, &g, 2, 0, &now) || !burst(&t, &g, 1, 1, &now) ||
	    !tp_stats(&t, want) || !slots_in_use(&t, used))
		goto out;
	ASSERT_EQ(used[0], 1, "slots in use on CPU 0");
	ASSERT_EQ(used[1], 1, "slots in use on CPU 1");
	if (tp_read_n(&t, 1))
		ASSERT_EQ(np_dir_packets(&t.flows.v[0].dir[NP_DIR_TO_SERVER]), 3,
			  "packets");
out:
	tp_close(&t);
}
