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

#define REQ_FLAGS	(FRAME_TH_PSH | FRAME_TH_ACK)

static struct seg req(__u16 cport)
{
	return seed_req(cport, REQ_FLAGS, 16);
}

static struct seg rep(__u16 cport)
{
	return seed_rep(cport, FRAME_TH_ACK, 1448);
}

/*
 * A mirror packet's outer Ethernet and IP headers, the IPv4 one as ip (NULL:
 * IPv6 instead), between the mirror's addresses.
 */
static void mirror_outer(struct frame *f, const struct frame_ip4 *ip)
{
	frame_init(f);
	frame_eth(f, MAC_MIRROR_DST, MAC_MIRROR_SRC);
	if (ip) {
		struct frame_ip4 o = *ip;

		o.saddr = IP_MIRROR_SRC;
		o.daddr = IP_MIRROR_DST;
		frame_ipv4(f, &o);
	} else {
		frame_ipv6(f, &(struct frame_ip6){ .saddr = IP6_MIRROR_SRC,
						   .daddr = IP6_MIRROR_DST });
	}
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
	struct want_dir w = want_plain(NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0,
				       1, 68, 16, REQ_FLAGS);

	w.n_sessions = e->type != ENCAP_ERSPAN1 && e->type != ENCAP_TEB;
	w.sessions[0] = e->session;
	w.encap = encap_bit(e);
	return r && tp_dir(&r->dir[NP_DIR_TO_SERVER], &w, what) &&
	       tp_dir(&r->dir[NP_DIR_FROM_SERVER], &(struct want_dir){}, what);
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
		frame_encap_seg(&f, &cases[i], &g);
		if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, features(&cases[i]),
				name))
			goto out;
	}
	if (!tp_read_n(&t, n))
		goto out;
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s #%d", what, i);
		want_req(&t, CLIENT_PORT + i, &cases[i], name);
	}
out:
	tp_close(&t);
}

/* Each ERSPAN type, over IPv4 and IPv6. */
void test_encap_erspan_types(void)
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
void test_encap_gre_flags(void)
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
	struct want_dir w = want_plain(NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0,
				       3, 3 * 68, 3 * 16, REQ_FLAGS);
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
	frame_encap_seg(&f, &e, &g);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, features(&e), "in+out"))
		goto out;
	/* outer tags, inner frame untagged */
	g.n_tags = 0;
	frame_encap_seg(&f, &e, &g);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, features(&e), "outer only"))
		goto out;
	/* no outer tag, the inner frame double tagged */
	e.n_tags = 0;
	g.n_tags = 2;
	g.tpid[0] = FRAME_ETH_P_8021AD;
	g.vid[0] = 20;
	g.tpid[1] = FRAME_ETH_P_8021Q;
	g.vid[1] = 30;
	frame_encap_seg(&f, &e, &g);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, features(&e) | F(VLAN),
			"inner only"))
		goto out;
	/* three inner tags: unsupported even though the outer had none */
	g.n_tags = 3;
	g.tpid[2] = FRAME_ETH_P_QINQ1;
	g.vid[2] = 40;
	frame_encap_seg(&f, &e, &g);
	if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, features(&e) | F(VLAN),
			"three inner tags"))
		goto out;
	r = tp_read_seed(&t);
	if (!r)
		goto out;
	w.n_vlans = 3;
	memcpy(w.vlans, (const __u16[]){ 10, 20, 30 }, 3 * sizeof(__u16));
	w.n_sessions = 1;
	w.sessions[0] = 9;
	w.encap = 1 << NP_ENCAP_ERSPAN2;
	tp_dir(&r->dir[NP_DIR_TO_SERVER], &w, "to_server");
out:
	tp_close(&t);
}

/*
 * One connection, its directions mirrored by different sessions (vmk0's
 * port by one, vmk4's by another) and one direction also plain: one flow,
 * sessions and encapsulations recorded per direction.
 */
void test_encap_erspan_sessions(void)
{
	struct want_dir to, from;
	const struct np_flow_rec *r;
	struct frame f;
	struct tprog t;
	struct seg g;
	int i;

	if (!tp_load(&t, NULL))
		goto out;
	g = req(CLIENT_PORT);
	frame_encap_seg(&f, &(struct encap){ .type = ENCAP_ERSPAN2,
					 .session = 5 }, &g);
	if (!tp_run(&t, &f, 0))
		goto out;
	g = rep(CLIENT_PORT);
	frame_encap_seg(&f, &(struct encap){ .type = ENCAP_ERSPAN3,
					 .session = 6 }, &g);
	if (!tp_run(&t, &f, 0) || !tp_run(&t, &f, 0))
		goto out;
	frame_seg(&f, &g);
	if (!tp_run(&t, &f, 0))
		goto out;
	/* to_server: sessions 5 (again), then 7, 8, 9, 10: one too many */
	g = req(CLIENT_PORT);
	for (i = 5; i <= 10; i++) {
		frame_encap_seg(&f, &(struct encap){ .type = ENCAP_ERSPAN2,
						 .session = i }, &g);
		if (!tp_run(&t, &f, 0))
			goto out;
		if (i == 5)
			i = 6;
	}
	if (!tp_read_n(&t, 1))
		goto out;
	r = tp_flow(&t, IP_ESX, NBD_PORT, IP_RUBRIK, CLIENT_PORT);
	if (!r)
		goto out;
	to = want_plain(NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0, 6, 6 * 68, 6 * 16,
			REQ_FLAGS);
	to.flags |= NP_DIRF_SESS_OVERFLOW;
	to.n_sessions = 4;
	memcpy(to.sessions, (const __u16[]){ 5, 7, 8, 9 }, 4 * sizeof(__u16));
	to.encap = 1 << NP_ENCAP_ERSPAN2;
	tp_dir(&r->dir[NP_DIR_TO_SERVER], &to, "to_server");
	from = want_plain(NP_DIR_FROM_SERVER, MAC_VMK4, MAC_RUBRIK, 3, 3 * 1500,
			  3 * 1448, FRAME_TH_ACK);
	from.n_sessions = 1;
	from.sessions[0] = 6;
	from.encap = 1 << NP_ENCAP_ERSPAN3 | 1 << NP_ENCAP_NONE;
	tp_dir(&r->dir[NP_DIR_FROM_SERVER], &from, "from_server");
out:
	tp_close(&t);
}

/* Only the frame kinds README lists are parsed; the rest is counted. */
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
	frame_encap_seg(&f, &(struct encap){ .type = ENCAP_TEB }, &g);
	f.data[gre + 1] |= 1;
	if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, F(GRE), "version 1"))
		goto out;
	f.data[gre + 1] = (f.data[gre + 1] & ~7) | 7;
	if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, F(GRE), "version 7"))
		goto out;
	/* the RFC 1701 routing bit */
	frame_encap_seg(&f, &(struct encap){ .type = ENCAP_TEB }, &g);
	f.data[gre] |= 0x40;
	if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, F(GRE), "routing"))
		goto out;
	/* ERSPAN II header of another version: still an ERSPAN frame */
	frame_encap_seg(&f, &(struct encap){ .type = ENCAP_ERSPAN2 }, &g);
	for (__u8 v = 0; v < 16; v++) {
		if (v == 1)
			continue;
		f.data[gre + 8] = (f.data[gre + 8] & 0x0f) | v << 4;
		if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED,
				F(GRE) | F(ERSPAN), "ERSPAN II version"))
			goto out;
	}
	/* ERSPAN III header of another version */
	frame_encap_seg(&f, &(struct encap){ .type = ENCAP_ERSPAN3 }, &g);
	for (__u8 v = 0; v < 16; v++) {
		if (v == 2)
			continue;
		f.data[gre + 8] = (f.data[gre + 8] & 0x0f) | v << 4;
		if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED,
				F(GRE) | F(ERSPAN), "ERSPAN III version"))
			goto out;
	}
	/* ERSPAN III carrying frame type 2 (bare IP, no MACs) and 31 */
	for (__u8 ft = 1; ft < 32; ft++) {
		mirror_outer(&f, &(struct frame_ip4){});
		frame_gre(&f, &(struct frame_gre){ .flags = FRAME_GRE_S });
		frame_erspan3(&f, &(struct frame_erspan3){ .ft = ft });
		frame_seg_inner(&f, &g);
		frame_end(&f);
		if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED,
				F(GRE) | F(ERSPAN), "ERSPAN III frame type"))
			goto out;
	}
	/* plain GRE: IPv4 and IPv6 inside carry no MACs */
	mirror_outer(&f, &(struct frame_ip4){});
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
	tp_read_n(&t, 0);
out:
	tp_close(&t);
}

/* One level of encapsulation: GRE inside GRE is not followed. */
void test_encap_gre_in_gre(void)
{
	static const struct {
		const char *what;
		enum encap_type outer, inner;
		__u32 mask;
	} cases[] = {
		/* the inner GRE header is not even looked at */
		{ "ERSPAN in GRE/TEB", ENCAP_TEB, ENCAP_ERSPAN2, F(GRE) },
		{ "ERSPAN I in ERSPAN II", ENCAP_ERSPAN2, ENCAP_ERSPAN1,
		  F(GRE) | F(ERSPAN) },
	};
	struct seg g = req(CLIENT_PORT);
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		frame_init(&f);
		frame_encap(&f, &(struct encap){ .type = cases[i].outer });
		frame_encap(&f, &(struct encap){ .type = cases[i].inner });
		frame_seg_inner(&f, &g);
		frame_end(&f);
		if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, cases[i].mask,
				cases[i].what))
			goto out;
	}
	tp_read_n(&t, 0);
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
	mirror_outer(&f, &(struct frame_ip4){ .proto = FRAME_IPPROTO_GRE,
					      .frag_off = 1480 / 8 });
	frame_payload(&f, 200);
	frame_end(&f);
	if (!tp_outcome(&t, &f, 0, NP_STAT_FRAGMENT, 0, "outer v4 fragment"))
		goto out;
	mirror_outer(&f, NULL);
	frame_ip6_frag(&f, 1448 / 8, false, 5);
	frame_set_next(&f, FRAME_IPPROTO_GRE);
	frame_payload(&f, 200);
	frame_end(&f);
	if (!tp_outcome(&t, &f, 0, NP_STAT_FRAGMENT, F(IPV6),
			"outer v6 fragment"))
		goto out;
	/* the first fragment carries the whole inner header chain */
	mirror_outer(&f, &(struct frame_ip4){ .mf = true });
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
	tp_read_n(&t, 1);
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
	frame_encap_seg(&f, &e, &g);
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
	if (ASSERT_TRUE(tp_neigh(&t, MAC_VMK4, NP_NEIGH_IPV4, &n), "neigh entry")) {
		tp_addr(ip, IP_ESX_VMK4);
		ASSERT_MEMEQ(n.ip, ip, 16, "owner ip");
	}
	/* the mirror's own ARP has no encapsulation */
	arp_frame(&f, 2, MAC_MIRROR_SRC, IP_MIRROR_SRC, MAC_MIRROR_DST,
		  IP_MIRROR_DST);
	if (!tp_outcome(&t, &f, 0, NP_STAT_NOT_IP, F(NEIGH), "mirror's ARP"))
		goto out;
	tp_read_n(&t, 0);
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

		mirror_outer(&f, NULL);
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
	struct want_dir w;
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
	frame_encap_seg(&f, &(struct encap){ .type = ENCAP_ERSPAN2, .session = 1 },
		    &g);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED,
			F(GRE) | F(ERSPAN) | F(IPV6), "v6 in v4"))
		goto out;
	/* outer: hop-by-hop and an unfragmented fragment header;
	 * inner: destination options before TCP
	 */
	mirror_outer(&f, NULL);
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
	r = tp_read_flow(&t, IP6_ESX, NBD_PORT, IP6_RUBRIK, CLIENT_PORT);
	if (!r)
		goto out;
	/* 40 + 32 + 1000, and 40 + 24 + 32 + 1000 */
	w = want_plain(NP_DIR_FROM_SERVER, MAC_VMK4, MAC_RUBRIK, 2, 1072 + 1096,
		       2000, FRAME_TH_ACK);
	w.n_sessions = 2;
	w.sessions[0] = 1;
	w.sessions[1] = 2;
	w.encap = 1 << NP_ENCAP_ERSPAN2 | 1 << NP_ENCAP_ERSPAN3;
	tp_dir(&r->dir[NP_DIR_FROM_SERVER], &w, "from_server");
	tp_dir(&r->dir[NP_DIR_TO_SERVER], &(struct want_dir){}, "to_server");
out:
	tp_close(&t);
}

/*
 * A frame refused for its ERSPAN header's version or frame type is still
 * an ERSPAN frame: counted in erspan (and gre) beside its outcome. One
 * whose fixed ERSPAN header the capture cut is not known to be one.
 */
void test_encap_refused_counted(void)
{
	struct seg g = req(CLIENT_PORT);
	__u64 want[NP_STAT_MAX] = {};
	struct frame f;
	struct tprog t;
	__u32 er;

	if (!tp_load(&t, NULL))
		goto out;
	/* ERSPAN II, version 2 (type III's), over IPv6 */
	frame_encap_seg(&f, &(struct encap){ .type = ENCAP_ERSPAN2,
					     .outer_v6 = true }, &g);
	er = 14 + 40 + 8;
	f.data[er] = (f.data[er] & 0x0f) | 2 << 4;
	if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED,
			F(GRE) | F(ERSPAN) | F(IPV6), "II version 2"))
		goto out;
	/* ...cut inside that header: truncated, GRE only */
	if (!tp_outcome(&t, &f, er + 7, NP_STAT_TRUNCATED, F(GRE) | F(IPV6),
			"II cut"))
		goto out;
	/* ERSPAN III, version 1 (type II's) */
	frame_encap_seg(&f, &(struct encap){ .type = ENCAP_ERSPAN3 }, &g);
	er = 14 + 20 + 8;
	f.data[er] = (f.data[er] & 0x0f) | 1 << 4;
	if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, F(GRE) | F(ERSPAN),
			"III version 1"))
		goto out;
	/* ERSPAN III of frame type 2 (IP), keyed GRE */
	mirror_outer(&f, &(struct frame_ip4){});
	frame_gre(&f, &(struct frame_gre){ .flags = FRAME_GRE_S |
						    FRAME_GRE_K });
	frame_erspan3(&f, &(struct frame_erspan3){ .ft = 2, .session = 9 });
	frame_seg_inner(&f, &g);
	frame_end(&f);
	if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, F(GRE) | F(ERSPAN),
			"III frame type 2"))
		goto out;
	/* ...cut inside its fixed 12 bytes */
	er = 14 + 20 + 12;
	if (!tp_outcome(&t, &f, er + 11, NP_STAT_TRUNCATED, F(GRE),
			"III cut"))
		goto out;
	want[NP_STAT_PACKETS] = 5;
	want[NP_STAT_UNSUPPORTED] = 3;
	want[NP_STAT_TRUNCATED] = 2;
	want[NP_STAT_GRE] = 5;
	want[NP_STAT_ERSPAN] = 3;
	want[NP_STAT_IPV6] = 2;
	if (!tp_stats(&t, want))
		goto out;
	tp_read_n(&t, 0);
out:
	tp_close(&t);
}
