// SPDX-License-Identifier: GPL-2.0
/*
 * Encapsulated remote mirrors: ERSPAN types I, II, III and GRE/TEB, over
 * IPv4 or IPv6, with or without outer tags. The inner frame is the one
 * counted; the outer headers only say how it came.
 */
#include "test_progs.h"

static const __u16 gre_combos[] = {
	0,
	FRAME_GRE_C,
	FRAME_GRE_K,
	FRAME_GRE_S,
	FRAME_GRE_C | FRAME_GRE_K,
	FRAME_GRE_C | FRAME_GRE_S,
	FRAME_GRE_K | FRAME_GRE_S,
	FRAME_GRE_C | FRAME_GRE_K | FRAME_GRE_S,
};

static struct seg req(__u16 cport)
{
	return (struct seg){
		.dmac = MAC_VMK0, .smac = MAC_GW,
		.saddr = IP_RUBRIK, .daddr = IP_ESX,
		.sport = cport, .dport = NBD_PORT,
		.flags = FRAME_TH_PSH | FRAME_TH_ACK, .payload = 16,
	};
}

static struct seg rep(__u16 cport)
{
	return (struct seg){
		.dmac = MAC_RUBRIK, .smac = MAC_VMK4,
		.saddr = IP_ESX, .daddr = IP_RUBRIK,
		.sport = NBD_PORT, .dport = cport,
		.flags = FRAME_TH_ACK, .payload = 1448,
	};
}

static void encap_frame(struct frame *f, const struct encap *e,
			const struct seg *g)
{
	frame_init(f);
	frame_encap(f, e);
	frame_seg_inner(f, g);
	frame_end(f);
}

static __u32 features(const struct encap *e)
{
	__u32 m = F(GRE);

	if (e->type != ENCAP_TEB)
		m |= F(ERSPAN);
	if (e->outer_v6)
		m |= F(IPV6);
	if (e->n_tags)
		m |= F(VLAN);
	return m;
}

/* The request of flow cport, as it should read after one frame. */
static bool want_req(struct tprog *t, __u16 cport, const struct encap *e,
		     const char *what)
{
	const struct np_flow_rec *r = tp_flow(t, IP_ESX, NBD_PORT, IP_RUBRIK,
					      cport);
	bool sess = e->type != ENCAP_ERSPAN1 && e->type != ENCAP_TEB;

	return r && tp_dir(&r->dir[NP_DIR_TO_SERVER], &(struct want_dir){
		.packets = 1, .bytes = 68, .payload = 16,
		.macs = { { MAC_VMK0, 1, 68 } },
		.src_mac = MAC_GW, .dst_mac = MAC_VMK0,
		.tcp_flags = FRAME_TH_PSH | FRAME_TH_ACK,
		.flags = NP_DIRF_UNTAGGED,
		.n_sessions = sess, .sessions = { e->session },
		.encap = encap_bit(e),
	}, what) && tp_dir(&r->dir[NP_DIR_FROM_SERVER], &(struct want_dir){},
			   what);
}

/* Run every encapsulation of cases, each for a flow of its own. */
static void run_cases(const struct encap *cases, int n, const char *what)
{
	struct frame f;
	struct tprog t;
	char name[96];
	int i;

	if (!tp_load(&t, NULL))
		goto out;
	for (i = 0; i < n; i++) {
		struct seg g = req(CLIENT_PORT + i);

		snprintf(name, sizeof(name), "%s #%d (type %d, GRE 0x%04x%s)",
			 what, i, cases[i].type, cases[i].gre_flags,
			 cases[i].outer_v6 ? ", IPv6" : "");
		encap_frame(&f, &cases[i], &g);
		if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, features(&cases[i]),
				name))
			goto out;
	}
	if (!tp_read(&t) || !ASSERT_EQ(t.flows.n, n, "flows"))
		goto out;
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s #%d", what, i);
		want_req(&t, CLIENT_PORT + i, &cases[i], name);
	}
out:
	tp_close(&t);
}

/* Each ERSPAN type, over IPv4 and IPv6. */
void test_erspan_types(void)
{
	struct encap c[8];
	int n = 0;

	for (int v6 = 0; v6 < 2; v6++) {
		c[n++] = (struct encap){ .type = ENCAP_ERSPAN1, .outer_v6 = v6 };
		c[n++] = (struct encap){ .type = ENCAP_ERSPAN2, .outer_v6 = v6,
					 .session = 1 };
		c[n++] = (struct encap){ .type = ENCAP_ERSPAN3, .outer_v6 = v6,
					 .session = 1023 };
		c[n++] = (struct encap){ .type = ENCAP_ERSPAN3_SUB,
					 .outer_v6 = v6, .session = 512 };
	}
	run_cases(c, n, "erspan");
}

/*
 * GRE checksum, key and sequence number in every combination: TEB and
 * ERSPAN III take all eight, type II always has a sequence number and
 * type I never does (that is what tells them apart).
 */
void test_gre_flags(void)
{
	struct encap c[24];
	int n = 0, i;

	for (i = 0; i < 8; i++) {
		c[n++] = (struct encap){ .type = ENCAP_TEB,
					 .gre_flags = gre_combos[i],
					 .exact_flags = true };
		c[n++] = (struct encap){ .type = ENCAP_ERSPAN3,
					 .gre_flags = gre_combos[i],
					 .exact_flags = true, .session = i };
		if (gre_combos[i] & FRAME_GRE_S)
			c[n++] = (struct encap){ .type = ENCAP_ERSPAN2,
						 .gre_flags = gre_combos[i],
						 .exact_flags = true,
						 .session = 100 + i };
		else
			c[n++] = (struct encap){ .type = ENCAP_ERSPAN1,
						 .gre_flags = gre_combos[i],
						 .exact_flags = true };
	}
	run_cases(c, n, "gre flags");
}

/*
 * Outer tags belong to the mirror's transport (an RSPAN VLAN, the
 * collector's network): only the mirrored frame's own tags are recorded.
 */
void test_encap_vlans(void)
{
	struct encap e = { .type = ENCAP_ERSPAN2, .session = 9, .n_tags = 2,
			   .vid = { 900, 901 } };
	const struct np_flow_rec *r;
	struct seg g = req(CLIENT_PORT);
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	/* outer 900+901, inner 802.1Q 10: one frame with tags, one count */
	g.n_tags = 1;
	g.tpid[0] = FRAME_ETH_P_8021Q;
	g.vid[0] = 10;
	encap_frame(&f, &e, &g);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, features(&e), "in+out"))
		goto out;
	/* outer tags, inner frame untagged */
	g.n_tags = 0;
	encap_frame(&f, &e, &g);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, features(&e), "outer only"))
		goto out;
	/* no outer tag, the inner frame double tagged */
	e.n_tags = 0;
	g.n_tags = 2;
	g.tpid[0] = FRAME_ETH_P_8021AD;
	g.vid[0] = 20;
	g.tpid[1] = FRAME_ETH_P_8021Q;
	g.vid[1] = 30;
	encap_frame(&f, &e, &g);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, features(&e) | F(VLAN),
			"inner only"))
		goto out;
	/* three inner tags: unsupported even though the outer had none */
	g.n_tags = 3;
	g.tpid[2] = FRAME_ETH_P_QINQ1;
	g.vid[2] = 40;
	encap_frame(&f, &e, &g);
	if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, features(&e) | F(VLAN),
			"three inner tags"))
		goto out;
	if (!tp_read(&t))
		goto out;
	r = tp_flow(&t, IP_ESX, NBD_PORT, IP_RUBRIK, CLIENT_PORT);
	if (!r)
		goto out;
	tp_dir(&r->dir[NP_DIR_TO_SERVER], &(struct want_dir){
		.packets = 3, .bytes = 3 * 68, .payload = 3 * 16,
		.macs = { { MAC_VMK0, 3, 3 * 68 } },
		.src_mac = MAC_GW, .dst_mac = MAC_VMK0,
		.tcp_flags = FRAME_TH_PSH | FRAME_TH_ACK,
		.n_vlans = 3, .vlans = { 10, 20, 30 },
		.flags = NP_DIRF_UNTAGGED,
		.n_sessions = 1, .sessions = { 9 },
		.encap = 1 << NP_ENCAP_ERSPAN2,
	}, "to_server");
out:
	tp_close(&t);
}

/*
 * One connection, its directions mirrored by different sessions (vmk0's
 * port by one, vmk4's by another) and one direction also plain: one flow,
 * sessions and encapsulations recorded per direction.
 */
void test_erspan_sessions(void)
{
	const struct np_flow_rec *r;
	struct frame f;
	struct tprog t;
	struct seg g;
	int i;

	if (!tp_load(&t, NULL))
		goto out;
	g = req(CLIENT_PORT);
	encap_frame(&f, &(struct encap){ .type = ENCAP_ERSPAN2,
					 .session = 5 }, &g);
	if (!tp_run(&t, &f, 0))
		goto out;
	g = rep(CLIENT_PORT);
	encap_frame(&f, &(struct encap){ .type = ENCAP_ERSPAN3,
					 .session = 6 }, &g);
	if (!tp_run(&t, &f, 0) || !tp_run(&t, &f, 0))
		goto out;
	frame_seg(&f, &g);
	if (!tp_run(&t, &f, 0))
		goto out;
	/* to_server: sessions 5 (again), then 7, 8, 9, 10: one too many */
	g = req(CLIENT_PORT);
	for (i = 5; i <= 10; i++) {
		encap_frame(&f, &(struct encap){ .type = ENCAP_ERSPAN2,
						 .session = i }, &g);
		if (!tp_run(&t, &f, 0))
			goto out;
		if (i == 5)
			i = 6;
	}
	if (!tp_read(&t) || !ASSERT_EQ(t.flows.n, 1, "flows"))
		goto out;
	r = tp_flow(&t, IP_ESX, NBD_PORT, IP_RUBRIK, CLIENT_PORT);
	if (!r)
		goto out;
	tp_dir(&r->dir[NP_DIR_TO_SERVER], &(struct want_dir){
		.packets = 6, .bytes = 6 * 68, .payload = 6 * 16,
		.macs = { { MAC_VMK0, 6, 6 * 68 } },
		.src_mac = MAC_GW, .dst_mac = MAC_VMK0,
		.tcp_flags = FRAME_TH_PSH | FRAME_TH_ACK,
		.flags = NP_DIRF_UNTAGGED | NP_DIRF_SESS_OVERFLOW,
		.n_sessions = 4, .sessions = { 5, 7, 8, 9 },
		.encap = 1 << NP_ENCAP_ERSPAN2,
	}, "to_server");
	tp_dir(&r->dir[NP_DIR_FROM_SERVER], &(struct want_dir){
		.packets = 3, .bytes = 3 * 1500, .payload = 3 * 1448,
		.macs = { { MAC_VMK4, 3, 3 * 1500 } },
		.src_mac = MAC_VMK4, .dst_mac = MAC_RUBRIK,
		.tcp_flags = FRAME_TH_ACK,
		.flags = NP_DIRF_UNTAGGED,
		.n_sessions = 1, .sessions = { 6 },
		.encap = 1 << NP_ENCAP_ERSPAN3 | 1 << NP_ENCAP_NONE,
	}, "from_server");
out:
	tp_close(&t);
}

/* Only the frame kinds named in SPEC §3 are parsed; the rest is counted. */
void test_encap_unsupported(void)
{
	struct seg g = req(CLIENT_PORT);
	struct frame f;
	struct tprog t;
	__u32 gre;

	if (!tp_load(&t, NULL))
		goto out;
	gre = 14 + 20;

	/* GRE version 1 (PPTP's enhanced GRE) */
	encap_frame(&f, &(struct encap){ .type = ENCAP_TEB }, &g);
	f.data[gre + 1] |= 1;
	if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, F(GRE), "version 1"))
		goto out;
	f.data[gre + 1] = (f.data[gre + 1] & ~7) | 7;
	if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, F(GRE), "version 7"))
		goto out;
	/* the RFC 1701 routing bit */
	encap_frame(&f, &(struct encap){ .type = ENCAP_TEB }, &g);
	f.data[gre] |= 0x40;
	if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, F(GRE), "routing"))
		goto out;
	/* ERSPAN II header of another version */
	encap_frame(&f, &(struct encap){ .type = ENCAP_ERSPAN2 }, &g);
	for (__u8 v = 0; v < 16; v++) {
		if (v == 1)
			continue;
		f.data[gre + 8] = (f.data[gre + 8] & 0x0f) | v << 4;
		if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, F(GRE),
				"ERSPAN II version"))
			goto out;
	}
	/* ERSPAN III header of another version */
	encap_frame(&f, &(struct encap){ .type = ENCAP_ERSPAN3 }, &g);
	for (__u8 v = 0; v < 16; v++) {
		if (v == 2)
			continue;
		f.data[gre + 8] = (f.data[gre + 8] & 0x0f) | v << 4;
		if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, F(GRE),
				"ERSPAN III version"))
			goto out;
	}
	/* ERSPAN III carrying frame type 2 (bare IP, no MACs) and 31 */
	for (__u8 ft = 1; ft < 32; ft++) {
		frame_init(&f);
		frame_eth(&f, MAC_MIRROR_DST, MAC_MIRROR_SRC);
		frame_ipv4(&f, &(struct frame_ip4){ .saddr = IP_MIRROR_SRC,
						     .daddr = IP_MIRROR_DST });
		frame_gre(&f, &(struct frame_gre){ .flags = FRAME_GRE_S });
		frame_erspan3(&f, &(struct frame_erspan3){ .ft = ft });
		frame_seg_inner(&f, &g);
		frame_end(&f);
		if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, F(GRE),
				"ERSPAN III frame type"))
			goto out;
	}
	/* plain GRE: IPv4 and IPv6 inside carry no MACs */
	frame_init(&f);
	frame_eth(&f, MAC_MIRROR_DST, MAC_MIRROR_SRC);
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = IP_MIRROR_SRC,
					     .daddr = IP_MIRROR_DST });
	frame_gre(&f, &(struct frame_gre){ .flags = FRAME_GRE_K });
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = IP_RUBRIK,
					     .daddr = IP_ESX });
	frame_tcp(&f, &(struct frame_tcp){ .sport = CLIENT_PORT,
					   .dport = NBD_PORT });
	frame_end(&f);
	if (!ASSERT_EQ(frame_get16(&f, gre + 2), FRAME_ETH_P_IP, "GRE proto"))
		goto out;
	if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, F(GRE), "IP in GRE"))
		goto out;
	frame_put16(&f, gre + 2, FRAME_ETH_P_IPV6);
	if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, F(GRE), "0x86dd"))
		goto out;
	if (!tp_read(&t))
		goto out;
	ASSERT_EQ(t.flows.n, 0, "flows");
out:
	tp_close(&t);
}

/* One level of encapsulation: GRE inside GRE is not followed. */
void test_gre_in_gre(void)
{
	struct seg g = req(CLIENT_PORT);
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	frame_init(&f);
	frame_encap(&f, &(struct encap){ .type = ENCAP_TEB });
	frame_encap(&f, &(struct encap){ .type = ENCAP_ERSPAN2 });
	frame_seg_inner(&f, &g);
	frame_end(&f);
	/* the inner GRE header is not even looked at */
	if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, F(GRE),
			"ERSPAN in GRE/TEB"))
		goto out;
	frame_init(&f);
	frame_encap(&f, &(struct encap){ .type = ENCAP_ERSPAN2 });
	frame_encap(&f, &(struct encap){ .type = ENCAP_ERSPAN1 });
	frame_seg_inner(&f, &g);
	frame_end(&f);
	if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, F(GRE) | F(ERSPAN),
			"ERSPAN I in ERSPAN II"))
		goto out;
	if (!tp_read(&t))
		goto out;
	ASSERT_EQ(t.flows.n, 0, "flows");
out:
	tp_close(&t);
}

/* A fragmented mirror packet: only the first fragment has GRE. */
void test_encap_fragment(void)
{
	struct seg g = req(CLIENT_PORT);
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	frame_init(&f);
	frame_eth(&f, MAC_MIRROR_DST, MAC_MIRROR_SRC);
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = IP_MIRROR_SRC,
					     .daddr = IP_MIRROR_DST,
					     .proto = FRAME_IPPROTO_GRE,
					     .frag_off = 1480 / 8 });
	frame_payload(&f, 200);
	frame_end(&f);
	if (!tp_outcome(&t, &f, 0, NP_STAT_FRAGMENT, 0, "outer v4 fragment"))
		goto out;
	frame_init(&f);
	frame_eth(&f, MAC_MIRROR_DST, MAC_MIRROR_SRC);
	frame_ipv6(&f, &(struct frame_ip6){ .saddr = IP6_MIRROR_SRC,
					    .daddr = IP6_MIRROR_DST });
	frame_ip6_frag(&f, 1448 / 8, false, 5);
	frame_set_next(&f, FRAME_IPPROTO_GRE);
	frame_payload(&f, 200);
	frame_end(&f);
	if (!tp_outcome(&t, &f, 0, NP_STAT_FRAGMENT, F(IPV6),
			"outer v6 fragment"))
		goto out;
	/* the first fragment carries the whole inner header chain */
	frame_init(&f);
	frame_eth(&f, MAC_MIRROR_DST, MAC_MIRROR_SRC);
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = IP_MIRROR_SRC,
					     .daddr = IP_MIRROR_DST, .mf = true });
	frame_gre(&f, &(struct frame_gre){ .flags = FRAME_GRE_S });
	frame_erspan2(&f, &(struct frame_erspan2){ .session = 4 });
	frame_seg_inner(&f, &g);
	frame_end(&f);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, F(GRE) | F(ERSPAN),
			"outer first fragment"))
		goto out;
	/* an inner non-first fragment */
	frame_init(&f);
	frame_encap(&f, &(struct encap){ .type = ENCAP_ERSPAN2 });
	frame_eth(&f, MAC_VMK0, MAC_GW);
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = IP_RUBRIK,
					     .daddr = IP_ESX,
					     .proto = FRAME_IPPROTO_TCP,
					     .frag_off = 100 });
	frame_payload(&f, 100);
	frame_end(&f);
	if (!tp_outcome(&t, &f, 0, NP_STAT_FRAGMENT, F(GRE) | F(ERSPAN),
			"inner fragment"))
		goto out;
	if (!tp_read(&t))
		goto out;
	ASSERT_EQ(t.flows.n, 1, "flows");
out:
	tp_close(&t);
}

/* Inner frames that are not ours land in the same outcomes as plain ones. */
void test_encap_inner_outcomes(void)
{
	struct encap e = { .type = ENCAP_ERSPAN3_SUB, .session = 2 };
	struct seg g = req(CLIENT_PORT);
	struct np_neigh n;
	struct frame f;
	struct tprog t;
	__u8 ip[16];

	if (!tp_load(&t, NULL))
		goto out;
	g.dport = 443;
	encap_frame(&f, &e, &g);
	if (!tp_outcome(&t, &f, 0, NP_STAT_OTHER_PORT, features(&e), "443"))
		goto out;
	frame_init(&f);
	frame_encap(&f, &e);
	frame_eth(&f, MAC_VMK0, MAC_GW);
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = IP_RUBRIK,
					     .daddr = IP_ESX });
	frame_udp(&f, CLIENT_PORT, NBD_PORT);
	frame_end(&f);
	if (!tp_outcome(&t, &f, 0, NP_STAT_NOT_TCP, features(&e), "UDP"))
		goto out;
	/* an ARP reply seen through the mirror still teaches its owner */
	frame_init(&f);
	frame_encap(&f, &e);
	frame_eth(&f, MAC_RUBRIK, MAC_VMK4);
	frame_arp(&f, 2, MAC_VMK4, IP_ESX_VMK4, MAC_RUBRIK, IP_RUBRIK);
	frame_end(&f);
	if (!tp_outcome(&t, &f, 0, NP_STAT_NOT_IP, features(&e) | F(NEIGH),
			"ARP"))
		goto out;
	if (ASSERT_TRUE(tp_neigh(&t, MAC_VMK4, &n), "neigh entry")) {
		tp_addr(ip, IP_ESX_VMK4);
		ASSERT_MEMEQ(n.ip, ip, 16, "owner ip");
	}
	/* the mirror's own ARP has no encapsulation */
	frame_init(&f);
	frame_eth(&f, MAC_MIRROR_DST, MAC_MIRROR_SRC);
	frame_arp(&f, 2, MAC_MIRROR_SRC, IP_MIRROR_SRC, MAC_MIRROR_DST,
		  IP_MIRROR_DST);
	frame_end(&f);
	if (!tp_outcome(&t, &f, 0, NP_STAT_NOT_IP, F(NEIGH), "mirror's ARP"))
		goto out;
	if (!tp_read(&t))
		goto out;
	ASSERT_EQ(t.flows.n, 0, "flows");
out:
	tp_close(&t);
}

/*
 * Outer headers deeper than the program follows (NP_MAX_OFFSET, 512
 * bytes): a whole frame the program does not parse is "unsupported",
 * never "truncated" (which says the mirror cut it).
 */
void test_encap_deep_outer(void)
{
	struct seg g = req(CLIENT_PORT);
	struct frame f;
	struct tprog t;
	__u32 ext;

	if (!tp_load(&t, NULL))
		goto out;
	/* GRE at 54 + ext, the inner frame 16 bytes further */
	for (ext = 8; ext <= 1024; ext += 8) {
		__u32 inner = 14 + 40 + ext + 16;
		char what[64];

		frame_init(&f);
		frame_eth(&f, MAC_MIRROR_DST, MAC_MIRROR_SRC);
		frame_ipv6(&f, &(struct frame_ip6){ .saddr = IP6_MIRROR_SRC,
						    .daddr = IP6_MIRROR_DST });
		frame_ip6_ext(&f, FRAME_IPPROTO_DSTOPTS, ext);
		frame_gre(&f, &(struct frame_gre){ .flags = FRAME_GRE_S });
		frame_erspan2(&f, &(struct frame_erspan2){ .session = 1 });
		frame_seg_inner(&f, &g);
		frame_end(&f);
		snprintf(what, sizeof(what), "outer dstopts %u", ext);
		if (inner <= 512) {
			if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED,
					F(IPV6) | F(GRE) | F(ERSPAN), what))
				goto out;
		} else if (inner - 16 <= 512) {
			/* GRE parsed, the inner frame too deep */
			if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED,
					F(IPV6) | F(GRE) | F(ERSPAN), what))
				goto out;
		} else {
			if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED,
					F(IPV6), what))
				goto out;
		}
	}
out:
	tp_close(&t);
}

/* IPv6 inside, IPv6 with extension headers outside. */
void test_encap_ipv6(void)
{
	const struct np_flow_rec *r;
	struct frame f;
	struct tprog t;
	struct seg g = {
		.dmac = MAC_RUBRIK, .smac = MAC_VMK4,
		.saddr = IP6_ESX, .daddr = IP6_RUBRIK,
		.sport = NBD_PORT, .dport = CLIENT_PORT,
		.flags = FRAME_TH_ACK, .payload = 1000, .v6 = true,
	};

	if (!tp_load(&t, NULL))
		goto out;
	encap_frame(&f, &(struct encap){ .type = ENCAP_ERSPAN2, .session = 1 },
		    &g);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED,
			F(GRE) | F(ERSPAN) | F(IPV6), "v6 in v4"))
		goto out;
	/* outer: hop-by-hop and an unfragmented fragment header;
	 * inner: destination options before TCP
	 */
	frame_init(&f);
	frame_eth(&f, MAC_MIRROR_DST, MAC_MIRROR_SRC);
	frame_ipv6(&f, &(struct frame_ip6){ .saddr = IP6_MIRROR_SRC,
					    .daddr = IP6_MIRROR_DST });
	frame_ip6_ext(&f, FRAME_IPPROTO_HOPOPTS, 8);
	frame_ip6_frag(&f, 0, false, 1);
	frame_gre(&f, &(struct frame_gre){ .flags = FRAME_GRE_S });
	frame_erspan3(&f, &(struct frame_erspan3){ .session = 2, .o = true });
	frame_eth(&f, MAC_RUBRIK, MAC_VMK4);
	frame_ipv6(&f, &(struct frame_ip6){ .saddr = IP6_ESX,
					    .daddr = IP6_RUBRIK });
	frame_ip6_ext(&f, FRAME_IPPROTO_DSTOPTS, 24);
	frame_tcp(&f, &(struct frame_tcp){ .sport = NBD_PORT,
					   .dport = CLIENT_PORT,
					   .flags = FRAME_TH_ACK,
					   .opt_len = 12 });
	frame_payload(&f, 1000);
	frame_end(&f);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED,
			F(GRE) | F(ERSPAN) | F(IPV6), "v6 in v6"))
		goto out;
	if (!tp_read(&t))
		goto out;
	r = tp_flow(&t, IP6_ESX, NBD_PORT, IP6_RUBRIK, CLIENT_PORT);
	if (!r)
		goto out;
	/* 40 + 32 + 1000, and 40 + 24 + 32 + 1000 */
	tp_dir(&r->dir[NP_DIR_FROM_SERVER], &(struct want_dir){
		.packets = 2, .bytes = 1072 + 1096, .payload = 2000,
		.macs = { { MAC_VMK4, 2, 1072 + 1096 } },
		.src_mac = MAC_VMK4, .dst_mac = MAC_RUBRIK,
		.tcp_flags = FRAME_TH_ACK,
		.flags = NP_DIRF_UNTAGGED,
		.n_sessions = 2, .sessions = { 1, 2 },
		.encap = 1 << NP_ENCAP_ERSPAN2 | 1 << NP_ENCAP_ERSPAN3,
	}, "from_server");
	tp_dir(&r->dir[NP_DIR_TO_SERVER], &(struct want_dir){}, "to_server");
out:
	tp_close(&t);
}
