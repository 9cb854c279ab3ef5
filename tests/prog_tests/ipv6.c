// SPDX-License-Identifier: GPL-2.0
/* IPv6 and its extension headers. */
#include "test_progs.h"

#define EXT_FRAG	0xff	/* a fragment header, offset 0, more to come */

struct ext {
	__u8 type;
	__u16 len;
};

/* Ethernet and IPv6 of a to_server packet; nexthdr 0: what follows. */
static void start6(struct frame *f, __u8 nexthdr)
{
	frame_init(f);
	frame_eth(f, MAC_VMK0, MAC_GW);
	frame_ipv6(f, &(struct frame_ip6){ .saddr = IP6_RUBRIK,
					   .daddr = IP6_ESX,
					   .nexthdr = nexthdr });
}

/*
 * to_server over IPv6 with the extension headers of chain (type 0 ends
 * it; a type's len 0 means 8), a TCP header of doff 8 and payload bytes.
 * Returns the extension bytes written.
 */
static __u32 seg6(struct frame *f, __u16 cport, const struct ext *chain,
		  __u32 payload)
{
	__u32 ext = 0;

	start6(f, 0);
	for (; chain && chain->len; chain++) {
		if (chain->type == EXT_FRAG)
			frame_ip6_frag(f, 0, true, 0x1234);
		else
			frame_ip6_ext(f, chain->type, chain->len);
		ext += chain->len;
	}
	frame_tcp(f, &(struct frame_tcp){ .sport = cport, .dport = NBD_PORT,
					  .flags = FRAME_TH_ACK,
					  .opt_len = 12 });
	frame_payload(f, payload);
	frame_end(f);
	return ext;
}

static bool want_flow6(struct tprog *t, __u16 cport, __u32 ext,
		       __u32 payload, const char *what)
{
	const struct np_flow_rec *r = tp_flow(t, IP6_ESX, NBD_PORT, IP6_RUBRIK,
					      cport);
	struct want_dir w = want_plain(NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0, 1,
				       40 + ext + 32 + payload, payload,
				       FRAME_TH_ACK);

	if (!r)
		return false;
	return tp_dir(&r->dir[NP_DIR_TO_SERVER], &w, what) &&
	       tp_dir(&r->dir[NP_DIR_FROM_SERVER], &(struct want_dir){}, what);
}

void test_ipv6_ext_headers(void)
{
	static const struct {
		const char *what;
		struct ext chain[5];
	} cases[] = {
		{ "none", { { 0, 0 } } },
		{ "hop-by-hop", { { FRAME_IPPROTO_HOPOPTS, 8 } } },
		{ "routing", { { FRAME_IPPROTO_ROUTING, 24 } } },
		{ "dstopts", { { FRAME_IPPROTO_DSTOPTS, 16 } } },
		{ "fragment, offset 0", { { EXT_FRAG, 8 } } },
		{ "all four", { { FRAME_IPPROTO_HOPOPTS, 8 },
				{ FRAME_IPPROTO_DSTOPTS, 8 },
				{ FRAME_IPPROTO_ROUTING, 24 },
				{ EXT_FRAG, 8 } } },
		/* the largest a header can be: (255 + 1) * 8 */
		{ "dstopts 2048", { { FRAME_IPPROTO_DSTOPTS, 2048 } } },
	};
	__u32 ext[sizeof(cases) / sizeof(cases[0])];
	struct frame f;
	struct tprog t;
	size_t i;

	if (!tp_load(&t, NULL))
		goto out;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ext[i] = seg6(&f, CLIENT_PORT + i, cases[i].chain, 100 + i);
		if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, F(IPV6),
				cases[i].what))
			goto out;
	}
	if (!tp_read_n(&t, sizeof(cases) / sizeof(cases[0])))
		goto out;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		want_flow6(&t, CLIENT_PORT + i, ext[i], 100 + i, cases[i].what);
out:
	tp_close(&t);
}

/* NP_IPV6_EXT_MAX (6) headers are walked; a seventh is not guessed at. */
void test_ipv6_ext_chain_long(void)
{
	struct ext chain[9] = {};
	struct frame f;
	struct tprog t;
	__u32 ext;
	int n;

	if (!tp_load(&t, NULL))
		goto out;
	for (n = 0; n < 8; n++)
		chain[n] = (struct ext){ FRAME_IPPROTO_DSTOPTS, 8 };
	chain[6].len = 0;
	ext = seg6(&f, CLIENT_PORT, chain, 10);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, F(IPV6), "6 headers"))
		goto out;
	chain[6].len = 8;
	seg6(&f, CLIENT_PORT + 1, chain, 10);
	if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, F(IPV6), "7 headers"))
		goto out;
	seg6(&f, CLIENT_PORT + 2, chain, 10);
	if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, F(IPV6), "8 headers"))
		goto out;
	if (!tp_read_n(&t, 1))
		goto out;
	want_flow6(&t, CLIENT_PORT, ext, 10, "6 headers");
out:
	tp_close(&t);
}

void test_ipv6_fragments(void)
{
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	for (__u16 off = 1; off < 0x2000; off <<= 1) {
		char what[32];

		start6(&f, 0);
		frame_ip6_frag(&f, off, off & 1, 0x1234);
		frame_set_next(&f, FRAME_IPPROTO_TCP);
		frame_payload(&f, 64);
		frame_end(&f);
		snprintf(what, sizeof(what), "offset %u", off * 8);
		if (!tp_outcome(&t, &f, 0, NP_STAT_FRAGMENT, F(IPV6), what))
			goto out;
	}
	/* behind another extension header too */
	start6(&f, 0);
	frame_ip6_ext(&f, FRAME_IPPROTO_HOPOPTS, 8);
	frame_ip6_frag(&f, 185, false, 0x1234);
	frame_set_next(&f, FRAME_IPPROTO_TCP);
	frame_payload(&f, 64);
	frame_end(&f);
	if (!tp_outcome(&t, &f, 0, NP_STAT_FRAGMENT, F(IPV6), "after HBH"))
		goto out;
	tp_read_n(&t, 0);
out:
	tp_close(&t);
}

void test_ipv6_malformed(void)
{
	const struct ext hbh[] = { { FRAME_IPPROTO_HOPOPTS, 16 }, { 0, 0 } };
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	/* version 4 behind EtherType 0x86dd */
	seg6(&f, CLIENT_PORT, NULL, 0);
	f.data[14] = 0x40;
	if (!tp_outcome(&t, &f, 0, NP_STAT_MALFORMED, 0, "version 4"))
		goto out;
	/* an extension header reaching past the payload length */
	seg6(&f, CLIENT_PORT, hbh, 0);
	frame_put16(&f, 14 + 4, 15);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MALFORMED, F(IPV6), "ext past plen"))
		goto out;
	/* the TCP header past it */
	seg6(&f, CLIENT_PORT, hbh, 0);
	frame_put16(&f, 14 + 4, 16 + 31);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MALFORMED, F(IPV6), "tcp past plen"))
		goto out;
	/* payload length 0 and a hop-by-hop header without the Jumbo
	 * Payload option that must then say the length (jumbo.c: with it)
	 */
	seg6(&f, CLIENT_PORT, hbh, 0);
	frame_put16(&f, 14 + 4, 0);
	if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, F(IPV6),
			"jumbogram without the option"))
		goto out;
	/* AH: its payload may be TCP, but it is not walked */
	seg6(&f, CLIENT_PORT, (const struct ext[]){ { FRAME_IPPROTO_AH, 16 },
						    { 0, 0 } }, 0);
	if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, F(IPV6), "AH"))
		goto out;
	/* no next header */
	start6(&f, FRAME_IPPROTO_NONE);
	frame_payload(&f, 8);
	frame_end(&f);
	if (!tp_outcome(&t, &f, 0, NP_STAT_NOT_TCP, F(IPV6), "no next header"))
		goto out;
	/* cut inside the extension header */
	seg6(&f, CLIENT_PORT, hbh, 0);
	if (!tp_outcome(&t, &f, 14 + 40 + 7, NP_STAT_TRUNCATED, F(IPV6),
			"cut in HBH"))
		goto out;
	tp_read_n(&t, 0);
out:
	tp_close(&t);
}

/*
 * Payload length 0 means a jumbogram only with a hop-by-hop header
 * carrying the Jumbo Payload option (RFC 2675); any other packet with
 * it is simply empty.
 */
void test_ipv6_empty(void)
{
	const struct ext hbh[] = { { FRAME_IPPROTO_HOPOPTS, 8 }, { 0, 0 } };
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	/* the hop-by-hop header holds only padding: no length anywhere */
	seg6(&f, CLIENT_PORT, hbh, 0);
	frame_put16(&f, 14 + 4, 0);
	if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, F(IPV6),
			"jumbogram without the option"))
		goto out;
	start6(&f, FRAME_IPPROTO_NONE);
	frame_end(&f);
	if (!tp_outcome(&t, &f, 0, NP_STAT_NOT_TCP, F(IPV6), "empty, no next"))
		goto out;
	/* a TCP header cannot fit in no payload, whatever follows */
	seg6(&f, CLIENT_PORT, NULL, 0);
	frame_put16(&f, 14 + 4, 0);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MALFORMED, F(IPV6), "empty, TCP"))
		goto out;
	tp_read_n(&t, 0);
out:
	tp_close(&t);
}

/*
 * Cut inside the fixed header: truncated, and counted in ipv6 — the
 * EtherType said so — unless the version nibble made it in and says
 * otherwise. The same for an IPv6 outer header of a remote mirror.
 */
void test_ipv6_cut_header(void)
{
	struct encap e = { .type = ENCAP_ERSPAN2, .outer_v6 = true };
	struct seg g = seed_req(CLIENT_PORT, FRAME_TH_ACK, 10);
	__u64 want[NP_STAT_MAX] = {};
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	seg6(&f, CLIENT_PORT, NULL, 0);
	for (__u32 len = 14; len < 14 + 40; len++) {
		char what[32];

		snprintf(what, sizeof(what), "cut at %u", len);
		if (!tp_outcome(&t, &f, len, NP_STAT_TRUNCATED, F(IPV6), what))
			goto out;
	}
	/* version 4 behind 0x86dd, cut: truncated, not IPv6 */
	f.data[14] = 0x45;
	if (!tp_outcome(&t, &f, 15, NP_STAT_TRUNCATED, 0, "version 4 cut") ||
	    !tp_outcome(&t, &f, 14 + 39, NP_STAT_TRUNCATED, 0,
			"version 4 cut at 53"))
		goto out;
	/* the outer header of an ERSPAN II session over IPv6 */
	frame_encap_seg(&f, &e, &g);
	if (!tp_outcome(&t, &f, 14 + 20, NP_STAT_TRUNCATED, F(IPV6),
			"outer cut"))
		goto out;
	/* whole-state: 40 + 2 + 1 frames, all truncated, 41 of them IPv6 */
	want[NP_STAT_PACKETS] = 43;
	want[NP_STAT_TRUNCATED] = 43;
	want[NP_STAT_IPV6] = 41;
	if (!tp_stats(&t, want))
		goto out;
	tp_read_n(&t, 0);
out:
	tp_close(&t);
}
