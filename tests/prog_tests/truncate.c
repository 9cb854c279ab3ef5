// SPDX-License-Identifier: GPL-2.0
/*
 * Mirrors that cut frames ("mirrored packet length"): a frame cut at any
 * length lands in exactly one outcome. Cut before the inner TCP ports it
 * is truncated; from the ports on it is matched, with the full size from
 * the IP header and the TCP flags only once they are in the capture; cut
 * before the data offset, its payload as if the TCP header were 20 bytes,
 * the direction marked NP_DIRF_PAYLOAD_ESTIMATED.
 */
#include "test_progs.h"

struct sweep {
	const struct frame *f;
	__u32 tcp_off;		/* where the counted TCP header starts */
	__u32 ip_len;		/* the counted IP packet's length */
	__u32 ip_hdrs;		/* its IP and extension headers */
	__u32 doff;		/* TCP header bytes */
	__u8 tcp_flags;
	__u32 feat_from[NP_STAT_MAX];	/* a feature counts from this length */
	struct want_dir dir;	/* to_server, less what the sweep adds */
	const char *server;
	const char *client;
};

/*
 * Run every length from 14 (the least BPF_PROG_TEST_RUN takes) to the
 * whole frame; check the outcome and the flow after each.
 */
static void sweep(const struct sweep *s, const char *what)
{
	struct want_dir w = s->dir;
	struct tprog t;
	__u32 len;

	if (!tp_load(&t, NULL))
		goto out;
	w.packets = 0;
	for (len = 14; len <= s->f->len; len++) {
		const struct np_flow_rec *r;
		bool ports = len >= s->tcp_off + 4;
		__u32 mask = 0;
		char name[64];

		for (int i = 0; i < NP_STAT_MAX; i++)
			if (s->feat_from[i] && len >= s->feat_from[i])
				mask |= 1u << i;
		snprintf(name, sizeof(name), "%s cut at %u", what, len);
		if (!tp_outcome(&t, s->f, len, ports ? NP_STAT_MATCHED :
				NP_STAT_TRUNCATED, mask, name))
			goto out;
		if (!tp_read(&t))
			goto out;
		if (!ports) {
			if (!ASSERT_EQ(t.flows.n, 0, name))
				goto out;
			continue;
		}
		w.packets++;
		w.bytes += s->ip_len;
		w.macs[0].packets++;
		w.macs[0].bytes += s->ip_len;
		/* without the data offset the header is taken as 20 bytes,
		 * and the direction says its payload is an estimate
		 */
		if (len >= s->tcp_off + 13) {
			w.payload += s->ip_len - s->ip_hdrs - s->doff;
		} else {
			w.payload += s->ip_len - s->ip_hdrs - 20;
			w.flags |= NP_DIRF_PAYLOAD_ESTIMATED;
		}
		if (len >= s->tcp_off + 14)
			w.tcp_flags = s->tcp_flags;
		if (!ASSERT_EQ(t.flows.n, 1, name))
			goto out;
		r = tp_flow(&t, s->server, NBD_PORT, s->client, CLIENT_PORT);
		if (!r || !tp_dir(&r->dir[NP_DIR_TO_SERVER], &w, name) ||
		    !tp_dir(&r->dir[NP_DIR_FROM_SERVER], &(struct want_dir){},
			    name))
			goto out;
	}
	/* every length ran: as many packets as lengths */
	ASSERT_EQ(t.stats[NP_STAT_PACKETS], s->f->len - 13, "packets");
out:
	tp_close(&t);
}

static const struct seg req = {
	.dmac = MAC_VMK0, .smac = MAC_GW,
	.saddr = IP_RUBRIK, .daddr = IP_ESX,
	.sport = CLIENT_PORT, .dport = NBD_PORT,
	.flags = FRAME_TH_PSH | FRAME_TH_ACK, .payload = 100,
};

/* Ethernet, IPv4, TCP with timestamps, 100 bytes of data. */
static void truncate_plain(void)
{
	struct frame f;

	frame_seg(&f, &req);
	sweep(&(struct sweep){
		.f = &f, .tcp_off = 34, .ip_len = 152, .ip_hdrs = 20,
		.doff = 32, .tcp_flags = req.flags,
		.dir = {
			.macs = { { MAC_VMK0 } },
			.src_mac = MAC_GW, .dst_mac = MAC_VMK0,
			.flags = NP_DIRF_UNTAGGED,
		},
		.server = IP_ESX, .client = IP_RUBRIK,
	}, "plain");
}

/* Ethernet, a tag, IPv6 with hop-by-hop and fragment headers, TCP. */
static void truncate_ipv6(void)
{
	struct frame f;

	frame_init(&f);
	frame_eth(&f, MAC_VMK0, MAC_GW);
	frame_vlan(&f, FRAME_ETH_P_8021AD, 10);
	frame_ipv6(&f, &(struct frame_ip6){ .saddr = IP6_RUBRIK,
					    .daddr = IP6_ESX });
	frame_ip6_ext(&f, FRAME_IPPROTO_HOPOPTS, 8);
	frame_ip6_frag(&f, 0, false, 99);
	frame_tcp(&f, &(struct frame_tcp){ .sport = CLIENT_PORT,
					   .dport = NBD_PORT,
					   .flags = FRAME_TH_ACK,
					   .opt_len = 12 });
	frame_payload(&f, 100);
	frame_end(&f);
	sweep(&(struct sweep){
		.f = &f, .tcp_off = 18 + 40 + 16, .ip_len = 40 + 16 + 32 + 100,
		.ip_hdrs = 56, .doff = 32, .tcp_flags = FRAME_TH_ACK,
		/* IPv6 as soon as the EtherType says so */
		.feat_from = { [NP_STAT_VLAN] = 18, [NP_STAT_IPV6] = 18 },
		.dir = {
			.macs = { { MAC_VMK0 } },
			.src_mac = MAC_GW, .dst_mac = MAC_VMK0,
			.n_vlans = 1, .vlans = { 10 },
		},
		.server = IP6_ESX, .client = IP6_RUBRIK,
	}, "ipv6");
}

/*
 * ERSPAN II carrying a tagged frame: outer Ethernet (14), IPv4 (20), GRE
 * with a sequence number (8) and ERSPAN (8), then the inner Ethernet (14),
 * tag (4), IPv4 (20) and TCP.
 */
static void truncate_erspan(void)
{
	struct encap e = { .type = ENCAP_ERSPAN2, .session = 12 };
	struct seg g = req;
	struct frame f;

	g.n_tags = 1;
	g.tpid[0] = FRAME_ETH_P_8021Q;
	g.vid[0] = 28;
	frame_encap_seg(&f, &e, &g);
	if (!ASSERT_EQ(encap_len(&e), 50, "outer headers"))
		return;
	sweep(&(struct sweep){
		.f = &f, .tcp_off = 50 + 18 + 20, .ip_len = 152, .ip_hdrs = 20,
		.doff = 32, .tcp_flags = req.flags,
		.feat_from = { [NP_STAT_GRE] = 38, [NP_STAT_ERSPAN] = 50,
			       [NP_STAT_VLAN] = 68 },
		.dir = {
			.macs = { { MAC_VMK0 } },
			.src_mac = MAC_GW, .dst_mac = MAC_VMK0,
			.n_vlans = 1, .vlans = { 28 },
			.n_sessions = 1, .sessions = { 12 },
			.encap = 1 << NP_ENCAP_ERSPAN2,
		},
		.server = IP_ESX, .client = IP_RUBRIK,
	}, "erspan2");
}

/* ERSPAN III with the platform subheader, over IPv6, keyed GRE. */
static void truncate_erspan3(void)
{
	struct encap e = { .type = ENCAP_ERSPAN3_SUB, .session = 1023,
			   .outer_v6 = true, .gre_flags = FRAME_GRE_K };
	struct frame f;
	__u32 hdr;

	frame_encap_seg(&f, &e, &req);
	hdr = encap_len(&e);
	if (!ASSERT_EQ(hdr, 14 + 40 + 12 + 20, "outer headers"))
		return;
	sweep(&(struct sweep){
		.f = &f, .tcp_off = hdr + 14 + 20, .ip_len = 152, .ip_hdrs = 20,
		.doff = 32, .tcp_flags = req.flags,
		/* ERSPAN counts once its fixed 12 bytes are in, subheader
		 * or not
		 */
		.feat_from = { [NP_STAT_IPV6] = 14, [NP_STAT_GRE] = 58,
			       [NP_STAT_ERSPAN] = hdr - 8 },
		.dir = {
			.macs = { { MAC_VMK0 } },
			.src_mac = MAC_GW, .dst_mac = MAC_VMK0,
			.n_sessions = 1, .sessions = { 1023 },
			.flags = NP_DIRF_UNTAGGED,
			.encap = 1 << NP_ENCAP_ERSPAN3,
		},
		.server = IP_ESX, .client = IP_RUBRIK,
	}, "erspan3");
}

/*
 * A capture cut after the ports (editcap -s 38, a mirror's smallest
 * "mirrored packet length"): bytes stay exact, from the IP header; the
 * payload of a frame cut before its data offset is the IP payload less
 * 20 bytes, an upper bound, and marks its direction. Frames whose data
 * offset made it in, and frames too short to hold any payload whatever
 * their offset, count exactly and mark nothing.
 */
static void truncate_payload_estimated(void)
{
	const struct np_flow_rec *r;
	struct want_dir w;
	struct frame f;
	struct tprog t;
	struct seg s;
	int i;

	if (!tp_load(&t, NULL))
		goto out;
	/* to_server: three pure ACKs with timestamps (32-byte header)
	 * and a 100-byte request, all cut at 38
	 */
	s = seed_req(CLIENT_PORT, FRAME_TH_ACK, 0);
	frame_seg(&f, &s);
	for (i = 0; i < 3; i++)
		if (!tp_outcome(&t, &f, 38, NP_STAT_MATCHED, 0, "ACK at 38"))
			goto out;
	s = seed_req(CLIENT_PORT, FRAME_TH_PSH | FRAME_TH_ACK, 100);
	frame_seg(&f, &s);
	if (!tp_outcome(&t, &f, 38, NP_STAT_MATCHED, 0, "request at 38"))
		goto out;
	/* from_server: an ACK of a 20-byte header cut at 38 (no payload
	 * either way), a segment cut just after its data offset, and a
	 * whole one
	 */
	s = seed_rep(CLIENT_PORT, FRAME_TH_ACK, 0);
	s.doff = 5;
	frame_seg(&f, &s);
	if (!tp_outcome(&t, &f, 38, NP_STAT_MATCHED, 0, "bare ACK at 38"))
		goto out;
	s = seed_rep(CLIENT_PORT, FRAME_TH_ACK, 1448);
	frame_seg(&f, &s);
	if (!tp_outcome(&t, &f, 14 + 20 + 13, NP_STAT_MATCHED, 0,
			"data at 47") ||
	    !tp_outcome(&t, &f, 0, NP_STAT_MATCHED, 0, "data"))
		goto out;
	r = tp_read_seed(&t);
	if (!r)
		goto out;
	/* 3 x (52 - 40) + (152 - 40): 148, where 100 were sent */
	w = want_plain(NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0, 4, 3 * 52 + 152,
		       3 * 12 + 112, 0);
	w.flags |= NP_DIRF_PAYLOAD_ESTIMATED;
	tp_dir(&r->dir[NP_DIR_TO_SERVER], &w, "to_server");
	tp_plain(r, NP_DIR_FROM_SERVER, MAC_VMK4, MAC_RUBRIK, 3,
		 40 + 2 * 1500, 2 * 1448, FRAME_TH_ACK);
out:
	tp_close(&t);
}

void test_truncate(void)
{
	if (test__start_subtest("plain"))
		truncate_plain();
	if (test__start_subtest("ipv6"))
		truncate_ipv6();
	if (test__start_subtest("erspan"))
		truncate_erspan();
	if (test__start_subtest("erspan3"))
		truncate_erspan3();
	if (test__start_subtest("payload_estimated"))
		truncate_payload_estimated();
}
