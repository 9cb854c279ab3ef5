// SPDX-License-Identifier: GPL-2.0
/*
 * IPv4-mapped IPv6 addresses: a connection between ::ffff:10.0.28.50 and
 * ::ffff:10.0.0.10 in IPv6 headers is not the IPv4 connection between
 * 10.0.28.50 and 10.0.0.10 of the same ports (the flow key carries the
 * family, include/nbdpath.h): two flows, each with its own counts.
 */
#include "test_progs.h"
#include "../bpf/flow.h"

#define MAPPED_ESX	"::ffff:" IP_ESX
#define MAPPED_RUBRIK	"::ffff:" IP_RUBRIK

/* A request (data mover to vmk0) or reply (vmk4 to it) of either family. */
static void mapped_seg(struct frame *f, bool v6, bool req, __u32 payload)
{
	const char *esx = v6 ? MAPPED_ESX : IP_ESX;
	const char *mover = v6 ? MAPPED_RUBRIK : IP_RUBRIK;

	frame_seg(f, &(struct seg){
		.dmac = req ? MAC_VMK0 : MAC_RUBRIK,
		.smac = req ? MAC_GW : MAC_VMK4,
		.saddr = req ? mover : esx,
		.daddr = req ? esx : mover,
		.sport = req ? CLIENT_PORT : NBD_PORT,
		.dport = req ? NBD_PORT : CLIENT_PORT,
		.flags = req ? FRAME_TH_ACK : FRAME_TH_PSH | FRAME_TH_ACK,
		.v6 = v6,
		.payload = payload,
	});
}

/*
 * The two connections' segments interleaved, so that each family's frame
 * follows the other's and first tries the slot of the other's last hit
 * (whose key differs in the family alone). v4: 3 requests of 100 bytes,
 * 2 replies of 1000; v6: 4 requests of 200, 1 reply of 500.
 */
static bool run_both(struct tprog *t)
{
	static const struct { bool v6, req; __u32 payload; } steps[] = {
		{ false, true, 100 }, { true, true, 200 },
		{ false, true, 100 }, { true, true, 200 },
		{ false, false, 1000 }, { true, false, 500 },
		{ false, true, 100 }, { true, true, 200 },
		{ false, false, 1000 }, { true, true, 200 },
	};
	__u64 want[NP_STAT_MAX] = {};
	struct frame f;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		mapped_seg(&f, steps[i].v6, steps[i].req, steps[i].payload);
		if (!tp_outcome(t, &f, 0, NP_STAT_MATCHED,
				steps[i].v6 ? F(IPV6) : 0, "segment"))
			return false;
	}
	want[NP_STAT_PACKETS] = 10;
	want[NP_STAT_MATCHED] = 10;
	want[NP_STAT_IPV6] = 5;
	return tp_stats(t, want);
}

static void want_both(struct tprog *t)
{
	const struct np_flow_rec *r4, *r6;

	if (!tp_read_n(t, 2))
		return;
	r4 = tp_flow(t, IP_ESX, NBD_PORT, IP_RUBRIK, CLIENT_PORT);
	r6 = tp_flow(t, MAPPED_ESX, NBD_PORT, MAPPED_RUBRIK, CLIENT_PORT);
	if (!r4 || !r6)
		return;
	ASSERT_EQ(r4->key.v6, 0, "IPv4 key");
	ASSERT_EQ(r6->key.v6, 1, "IPv6 key");
	/* the same 16 bytes of each address in both keys */
	ASSERT_OK(memcmp(r4->key.server_ip, r6->key.server_ip, 16), "server");
	ASSERT_OK(memcmp(r4->key.client_ip, r6->key.client_ip, 16), "client");
	/* IP bytes: 20 or 40, a TCP header of 32, the payload */
	tp_plain(r4, NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0, 3, 3 * (20 + 32 + 100),
		 300, FRAME_TH_ACK);
	tp_plain(r4, NP_DIR_FROM_SERVER, MAC_VMK4, MAC_RUBRIK, 2,
		 2 * (20 + 32 + 1000), 2000, FRAME_TH_PSH | FRAME_TH_ACK);
	tp_plain(r6, NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0, 4, 4 * (40 + 32 + 200),
		 800, FRAME_TH_ACK);
	tp_plain(r6, NP_DIR_FROM_SERVER, MAC_VMK4, MAC_RUBRIK, 1,
		 40 + 32 + 500, 500, FRAME_TH_PSH | FRAME_TH_ACK);
}

/*
 * The smallest table (two buckets: both keys share them), a known
 * secret: the keys hash apart, and every frame still finds its own flow.
 */
void test_mapped_two_flows(void)
{
	static const __u64 rnd[12] = { 0x9e3779b9, 0x7f4a7c15, 0x85ebca6b,
				       0xc2b2ae35, 0x27d4eb2f, 0x165667b1,
				       0xd3a2646c, 0xfd7046c5, 0xb55a4f09,
				       0x14d049bb, 0x94d049bb133111ebull, 3 };
	struct np_prog_opts o = { .max_flows = 8 };
	struct np_flow_key k4, k6;
	__u32 srv, cli, ports;
	struct np_hkey hk;
	struct tprog t;

	np_hkey_set(&hk, rnd);
	o.hkey = &hk;
	tp_key(&k4, IP_ESX, NBD_PORT, IP_RUBRIK, CLIENT_PORT);
	tp_key(&k6, MAPPED_ESX, NBD_PORT, MAPPED_RUBRIK, CLIENT_PORT);
	if (!ASSERT_EQ(k6.v6, 1, "tp_key: family") ||
	    !ASSERT_TRUE(flow_hash(&k4, &hk) != flow_hash(&k6, &hk),
			 "the keys hash apart"))
		return;
	/* the hit path's IPv4 hash is flow_hash() of the family-0 key */
	memcpy(&srv, k4.server_ip + 12, 4);
	memcpy(&cli, k4.client_ip + 12, 4);
	memcpy(&ports, &k4.server_port, 4);
	ASSERT_EQ(flow_hash_v4(srv, cli, ports, &hk), flow_hash(&k4, &hk),
		  "flow_hash_v4");
	if (!tp_load(&t, &o))
		goto out;
	if (!ASSERT_EQ(t.skel->rodata->bucket_mask, 1, "two buckets"))
		goto out;
	if (run_both(&t))
		want_both(&t);
out:
	tp_close(&t);
}

/*
 * Both ports monitored: the slow path builds the key (and np_orient's,
 * which says which end is the server) with the family too.
 */
void test_mapped_both_ports(void)
{
	static const __u16 ports[] = { NBD_PORT, CLIENT_PORT };
	struct np_prog_opts o = { .ports = ports, .n_ports = 2 };
	struct tprog t;

	if (!tp_load(&t, &o))
		goto out;
	if (run_both(&t))
		want_both(&t);
out:
	tp_close(&t);
}
