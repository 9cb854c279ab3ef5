// SPDX-License-Identifier: GPL-2.0
/*
 * ARP and IPv6 neighbour advertisements on the mirror tell which IP owns
 * an otherwise unnamed server-side MAC (np_neigh).
 */
#include <string.h>

#include "test_progs.h"

static bool want_neigh(struct tprog *t, const __u8 mac[6], const char *ip,
		       __u64 seen_ns, const char *what)
{
	struct np_neigh n;
	__u8 want[16];
	char name[96];

	snprintf(name, sizeof(name), "%s: np_neigh entry", what);
	if (!ASSERT_TRUE(tp_neigh(t, mac, strchr(ip, ':') ? NP_NEIGH_IPV6 :
				  NP_NEIGH_IPV4, &n), name))
		return false;
	tp_addr(want, ip);
	snprintf(name, sizeof(name), "%s: owner ip", what);
	if (!ASSERT_MEMEQ(n.ip, want, 16, name))
		return false;
	snprintf(name, sizeof(name), "%s: seen_ns", what);
	return ASSERT_EQ(n.seen_ns, seen_ns, name);
}

/* f cut to len: one not_ip frame, neigh of them teaching an owner */
static bool arp_cut(struct tprog *t, struct frame *f, __u32 len, __u64 neigh)
{
	__u64 want[NP_STAT_MAX] = {};

	want[NP_STAT_PACKETS] = 1;
	want[NP_STAT_NOT_IP] = 1;
	want[NP_STAT_NEIGH] = neigh;
	return tp_run(t, f, len) && tp_stats_delta(t, want);
}

static void neigh_arp(void)
{
	__u64 want[NP_STAT_MAX] = {};
	struct np_neigh n;
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;

	/* vmk4 answers the data mover: the sender owns its address */
	arp_frame(&f, 2, MAC_VMK4, IP_ESX_VMK4, MAC_RUBRIK, IP_RUBRIK);
	if (!tp_run(&t, &f, 0))
		goto out;
	/* vmk4 asks for the data mover "tell 10.0.0.10" (vmk0's address:
	 * the seed's host replying from vmk0's IP out of vmk4): a request
	 * never replaces what a reply said
	 */
	arp_frame(&f, 1, MAC_VMK4, IP_ESX, NULL, IP_RUBRIK);
	if (!tp_run(&t, &f, 0))
		goto out;
	/* vmk0 announces itself (gratuitous: sender = target address) */
	arp_frame(&f, 1, MAC_VMK0, IP_ESX, NULL, IP_ESX);
	if (!tp_run(&t, &f, 0))
		goto out;
	/* an address probe (RFC 5227) has sender 0.0.0.0: owns nothing */
	arp_frame(&f, 1, MAC_RUBRIK, "0.0.0.0", NULL, IP_RUBRIK);
	if (!tp_run(&t, &f, 0))
		goto out;
	/* vmk4's reply on a tagged port group */
	frame_init(&f);
	frame_eth(&f, MAC_RUBRIK, MAC_VMK4);
	frame_vlan(&f, FRAME_ETH_P_8021Q, 28);
	frame_arp(&f, 2, MAC_VMK4, IP_ESX_VMK4, MAC_RUBRIK, IP_RUBRIK);
	frame_end(&f);
	if (!tp_run(&t, &f, 0))
		goto out;
	want[NP_STAT_PACKETS] = 5;
	want[NP_STAT_NOT_IP] = 5;
	want[NP_STAT_NEIGH] = 4;
	want[NP_STAT_VLAN] = 1;
	if (!tp_stats_delta(&t, want))
		goto out;
	want[NP_STAT_VLAN] = 0;
	want_neigh(&t, MAC_VMK4, IP_ESX_VMK4, TP_CLOCK0, "vmk4");
	if (tp_neigh(&t, MAC_VMK4, NP_NEIGH_IPV4, &n))
		ASSERT_EQ(n.from_request, 0, "vmk4: from a reply");
	want_neigh(&t, MAC_VMK0, IP_ESX, TP_CLOCK0, "vmk0");
	if (tp_neigh(&t, MAC_VMK0, NP_NEIGH_IPV4, &n))
		ASSERT_EQ(n.from_request, 0, "vmk0: from an announcement");

	/* a request alone is taken for what it is, until a reply */
	arp_frame(&f, 1, MAC_GW, IP_GW28, NULL, IP_RUBRIK);
	if (!tp_run(&t, &f, 0))
		goto out;
	want_neigh(&t, MAC_GW, IP_GW28, TP_CLOCK0, "the router asks");
	if (tp_neigh(&t, MAC_GW, NP_NEIGH_IPV4, &n))
		ASSERT_EQ(n.from_request, 1, "router: from a request");
	tp_set_clock(&t, TP_CLOCK0 + 100);
	arp_frame(&f, 2, MAC_GW, IP_GW28, MAC_RUBRIK, IP_RUBRIK);
	if (!tp_run(&t, &f, 0))
		goto out;
	want_neigh(&t, MAC_GW, IP_GW28, TP_CLOCK0 + 100,
		   "the router answers");
	if (tp_neigh(&t, MAC_GW, NP_NEIGH_IPV4, &n))
		ASSERT_EQ(n.from_request, 0, "router: from a reply now");
	want[NP_STAT_PACKETS] = 2;
	want[NP_STAT_NOT_IP] = 2;
	want[NP_STAT_NEIGH] = 2;
	if (!tp_stats_delta(&t, want))
		goto out;
	tp_set_clock(&t, TP_CLOCK0);
	/* a request cut before the target address: nothing learnt */
	arp_frame(&f, 1, MAC_VMK0, "10.0.0.9", NULL, "10.0.0.9");
	if (!arp_cut(&t, &f, 14 + 27, 0))
		goto out;
	want_neigh(&t, MAC_VMK0, IP_ESX, TP_CLOCK0, "vmk0 after a cut request");
	ASSERT_TRUE(!tp_neigh(&t, MAC_RUBRIK, 0, &n), "probe learnt nothing");

	/* the same binding again: counted, the entry left as it was */
	tp_set_clock(&t, TP_CLOCK0 + 5000);
	arp_frame(&f, 2, MAC_VMK4, IP_ESX_VMK4, MAC_RUBRIK, IP_RUBRIK);
	if (!tp_run(&t, &f, 0))
		goto out;
	/* vmk4 given a new address: the entry follows, newly stamped */
	arp_frame(&f, 2, MAC_VMK4, "10.0.28.11", MAC_RUBRIK, IP_RUBRIK);
	if (!tp_run(&t, &f, 0))
		goto out;
	want[NP_STAT_PACKETS] = 2;
	want[NP_STAT_NOT_IP] = 2;
	want[NP_STAT_NEIGH] = 2;
	if (!tp_stats_delta(&t, want))
		goto out;
	want_neigh(&t, MAC_VMK4, "10.0.28.11", TP_CLOCK0 + 5000, "vmk4 moved");

	/* cut before the sender's address: nothing learnt */
	arp_frame(&f, 2, MAC_RUBRIK, IP_RUBRIK, MAC_VMK4, IP_ESX_VMK4);
	if (!arp_cut(&t, &f, 14 + 17, 0))
		goto out;
	ASSERT_TRUE(!tp_neigh(&t, MAC_RUBRIK, 0, &n), "cut ARP learnt nothing");
	/* ...and one byte more is enough */
	if (!arp_cut(&t, &f, 14 + 18, 1))
		goto out;
	want_neigh(&t, MAC_RUBRIK, IP_RUBRIK, TP_CLOCK0 + 5000, "rubrik");
out:
	tp_close(&t);
}

static void neigh_nd(void)
{
	__u64 want[NP_STAT_MAX] = {};
	const __u8 proxy[6] = { 0x00, 0x50, 0x56, 0x00, 0x00, 0x99 };
	struct np_neigh n;
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;

	/* the target link-layer option names the owner */
	na_frame(&f, MAC_VMK4, IP6_VMK4_LL, IP6_ESX_VMK4, MAC_VMK4);
	if (!tp_run(&t, &f, 0))
		goto out;
	/* ...even when another MAC sends the advertisement */
	na_frame(&f, proxy, "fe80::1", "fd00:28::20", MAC_VMK0);
	if (!tp_run(&t, &f, 0))
		goto out;
	want[NP_STAT_PACKETS] = 2;
	want[NP_STAT_NOT_TCP] = 2;
	want[NP_STAT_IPV6] = 2;
	want[NP_STAT_NEIGH] = 2;
	if (!tp_stats_delta(&t, want))
		goto out;
	want_neigh(&t, MAC_VMK4, IP6_ESX_VMK4, TP_CLOCK0, "vmk4 (option)");
	want_neigh(&t, MAC_VMK0, "fd00:28::20", TP_CLOCK0, "vmk0 (option)");
	ASSERT_TRUE(!tp_neigh(&t, proxy, 0, &n), "sender of a proxied NA");

	/* no option (a solicited answer): the frame's source owns it */
	na_frame(&f, proxy, "fe80::1", "fd00:28::30", NULL);
	if (!tp_run(&t, &f, 0))
		goto out;
	want[NP_STAT_PACKETS] = 1;
	want[NP_STAT_NOT_TCP] = 1;
	want[NP_STAT_IPV6] = 1;
	want[NP_STAT_NEIGH] = 1;
	if (!tp_stats_delta(&t, want))
		goto out;
	want_neigh(&t, proxy, "fd00:28::30", TP_CLOCK0, "no option");

	/* a link-local target is no address to point anything at, and
	 * must not replace the global one
	 */
	na_frame(&f, MAC_VMK4, IP6_VMK4_LL, IP6_VMK4_LL,
	   MAC_VMK4);
	if (!tp_run(&t, &f, 0))
		goto out;
	want[NP_STAT_NEIGH] = 0;
	if (!tp_stats_delta(&t, want))
		goto out;
	want_neigh(&t, MAC_VMK4, IP6_ESX_VMK4, TP_CLOCK0, "vmk4 after fe80::");

	/* a solicitation (type 135) teaches nothing */
	na_frame(&f, MAC_RUBRIK, IP6_RUBRIK, "fd00:28::40", MAC_RUBRIK);
	f.data[14 + 40] = 135;
	if (!tp_run(&t, &f, 0))
		goto out;
	want[NP_STAT_NEIGH] = 0;
	if (!tp_stats_delta(&t, want))
		goto out;
	ASSERT_TRUE(!tp_neigh(&t, MAC_RUBRIK, 0, &n), "solicitation");

	/* cut inside the target address: nothing */
	na_frame(&f, MAC_RUBRIK, IP6_RUBRIK, "fd00:28::50", MAC_RUBRIK);
	if (!tp_run(&t, &f, 14 + 40 + 23))
		goto out;
	if (!tp_stats_delta(&t, want))
		goto out;
	ASSERT_TRUE(!tp_neigh(&t, MAC_RUBRIK, 0, &n), "cut NA");
out:
	tp_close(&t);
}

void test_neigh(void)
{
	if (test__start_subtest("arp"))
		neigh_arp();
	if (test__start_subtest("nd"))
		neigh_nd();
}
