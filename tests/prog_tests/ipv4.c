// SPDX-License-Identifier: GPL-2.0
/* IPv4 and TCP headers: options, odd lengths and fragments. */
#include "test_progs.h"

/* A to_server segment with the IPv4 header as given. */
static void seg4(struct frame *f, const struct frame_ip4 *ip,
		 const struct frame_tcp *tcp, __u32 payload)
{
	struct frame_ip4 o = *ip;

	o.saddr = IP_RUBRIK;
	o.daddr = IP_ESX;
	frame_init(f);
	frame_eth(f, MAC_VMK0, MAC_GW);
	frame_ipv4(f, &o);
	frame_tcp(f, tcp);
	frame_payload(f, payload);
	frame_end(f);
}

static const struct frame_tcp req = {
	.sport = CLIENT_PORT, .dport = NBD_PORT,
	.flags = FRAME_TH_PSH | FRAME_TH_ACK, .opt_len = 12,
};

void test_ipv4_options(void)
{
	const struct np_flow_rec *r;
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	/* 8 bytes of options (IHL 7), then the largest IHL, 15 */
	seg4(&f, &(struct frame_ip4){ .opt_len = 8 }, &req, 100);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, 0, "IHL 7"))
		goto out;
	seg4(&f, &(struct frame_ip4){ .opt_len = 40 }, &req, 200);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, 0, "IHL 15"))
		goto out;
	/* options cut by the capture: the header is not all there */
	if (!tp_outcome(&t, &f, 14 + 59, NP_STAT_TRUNCATED, 0, "IHL 15 cut"))
		goto out;
	r = tp_read_seed(&t);
	if (!r)
		goto out;
	/* 28 + 32 + 100 and 60 + 32 + 200 */
	tp_plain(r, NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0, 2, 160 + 292, 300,
		 FRAME_TH_PSH | FRAME_TH_ACK);
	tp_dir(&r->dir[NP_DIR_FROM_SERVER], &(struct want_dir){}, "from_server");
out:
	tp_close(&t);
}

/* An IHL below 5 cannot hold the fixed header: malformed, not guessed. */
void test_ipv4_ihl_short(void)
{
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	for (__u8 ihl = 0; ihl < 5; ihl++) {
		char what[32];

		snprintf(what, sizeof(what), "IHL %u", ihl);
		seg4(&f, &(struct frame_ip4){ .ihl = ihl }, &req, 10);
		/* .ihl = 0 means "from the options": write 0 by hand */
		f.data[14] = 0x40 | ihl;
		if (!tp_outcome(&t, &f, 0, NP_STAT_MALFORMED, 0, what))
			goto out;
	}
	tp_read_n(&t, 0);
out:
	tp_close(&t);
}

void test_ipv4_malformed(void)
{
	static const struct {
		const char *what;
		struct frame_ip4 ip;
		__u8 ver_ihl;		/* written over the first byte if set */
		int outcome;
	} cases[] = {
		/* total length shorter than the header */
		{ "tot_len 19", { .set_tot_len = true, .tot_len = 19 },
		  0, NP_STAT_MALFORMED },
		{ "tot_len 27, IHL 7", { .opt_len = 8, .set_tot_len = true,
					 .tot_len = 27 }, 0, NP_STAT_MALFORMED },
		/* a header alone, the TCP bytes behind it only padding */
		{ "tot_len 20", { .set_tot_len = true, .tot_len = 20 },
		  0, NP_STAT_MALFORMED },
		/* TCP header longer than what the IP packet leaves for it */
		{ "doff past tot_len", { .set_tot_len = true, .tot_len = 20 + 31 },
		  0, NP_STAT_MALFORMED },
		/* ...exactly fitting is fine */
		{ "doff fits tot_len", { .set_tot_len = true, .tot_len = 20 + 32 },
		  0, NP_STAT_MATCHED },
		/* IPv6 behind EtherType 0x0800 */
		{ "version 6", {}, 0x65, NP_STAT_MALFORMED },
	};
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		seg4(&f, &cases[i].ip, &req, 0);
		if (cases[i].ver_ihl)
			f.data[14] = cases[i].ver_ihl;
		if (!tp_outcome(&t, &f, 0, cases[i].outcome, 0, cases[i].what))
			goto out;
	}
	tp_read_n(&t, 1);
out:
	tp_close(&t);
}

/* A TCP data offset below 5 cannot hold the fixed header either. */
void test_ipv4_tcp_doff(void)
{
	const struct np_flow_rec *r;
	struct frame_tcp tcp = req;
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	tcp.opt_len = 0;
	for (__u8 doff = 0; doff < 5; doff++) {
		char what[32];

		snprintf(what, sizeof(what), "doff %u", doff);
		tcp.doff = doff;
		seg4(&f, &(struct frame_ip4){}, &tcp, 100);
		/* likewise .doff = 0 */
		f.data[14 + 20 + 12] = doff << 4;
		if (!tp_outcome(&t, &f, 0, NP_STAT_MALFORMED, 0, what))
			goto out;
	}
	/* the largest, 15: 40 bytes of options */
	tcp.doff = 0;
	tcp.opt_len = 40;
	seg4(&f, &(struct frame_ip4){}, &tcp, 100);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, 0, "doff 15"))
		goto out;
	/* doff 5, no options */
	tcp.opt_len = 0;
	seg4(&f, &(struct frame_ip4){}, &tcp, 100);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, 0, "doff 5"))
		goto out;
	r = tp_read_seed(&t);
	/* 20 + 60 + 100 and 20 + 20 + 100 */
	if (r)
		tp_plain(r, NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0, 2, 180 + 140,
			 200, FRAME_TH_PSH | FRAME_TH_ACK);
out:
	tp_close(&t);
}

/*
 * A non-first fragment has no TCP header: "fragment". A first fragment
 * (offset 0, more fragments) carries it and counts with its own length.
 */
void test_ipv4_fragments(void)
{
	const struct np_flow_rec *r;
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	seg4(&f, &(struct frame_ip4){ .mf = true, .id = 7 }, &req, 1448);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, 0, "first fragment"))
		goto out;
	/* what follows starts with payload bytes, not ports */
	frame_init(&f);
	frame_eth(&f, MAC_VMK0, MAC_GW);
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = IP_RUBRIK, .daddr = IP_ESX,
					     .proto = FRAME_IPPROTO_TCP,
					     .mf = true, .id = 7,
					     .frag_off = 1500 / 8 });
	frame_payload(&f, 800);
	frame_end(&f);
	if (!tp_outcome(&t, &f, 0, NP_STAT_FRAGMENT, 0, "middle fragment"))
		goto out;
	f.data[14 + 6] &= ~0x20;	/* MF off: the last one */
	if (!tp_outcome(&t, &f, 0, NP_STAT_FRAGMENT, 0, "last fragment"))
		goto out;
	/* offset 1 (8 bytes): the smallest non-first */
	f.data[14 + 6] = 0;
	f.data[14 + 7] = 1;
	if (!tp_outcome(&t, &f, 0, NP_STAT_FRAGMENT, 0, "offset 8"))
		goto out;
	/* only the reserved bit and DF set: not a fragment */
	seg4(&f, &(struct frame_ip4){ .df = true }, &req, 0);
	f.data[14 + 6] |= 0x80;
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, 0, "DF + reserved bit"))
		goto out;
	if (!tp_read_n(&t, 1))
		goto out;
	r = tp_flow(&t, IP_ESX, NBD_PORT, IP_RUBRIK, CLIENT_PORT);
	if (r)
		tp_plain(r, NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0, 2, 1500 + 52,
			 1448, FRAME_TH_PSH | FRAME_TH_ACK);
out:
	tp_close(&t);
}

/*
 * A first fragment that ends inside the TCP header (a sender may cut
 * after any 8 bytes): classified by its ports, with no payload, its
 * flags and data offset taken only from inside it, never from the
 * frame's padding. Whole packets as short stay malformed.
 */
void test_ipv4_first_fragment_split(void)
{
	const struct np_flow_rec *r;
	struct frame_tcp syn = req;
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	syn.flags = FRAME_TH_SYN;
	/* 16 bytes of a 32-byte header: ports, seq, ack, offset, flags */
	seg4(&f, &(struct frame_ip4){ .mf = true, .id = 9, .set_tot_len = true,
				      .tot_len = 20 + 16 }, &syn, 0);
	if (!tp_outcome(&t, &f, 14 + 20 + 16, NP_STAT_MATCHED, 0, "16 bytes"))
		goto out;
	/* 8 bytes, padded to Ethernet's 60 with what looks like an offset
	 * of 15 and every flag
	 */
	seg4(&f, &(struct frame_ip4){ .mf = true, .id = 10, .set_tot_len = true,
				      .tot_len = 20 + 8 }, &syn, 0);
	memset(f.data + 14 + 20 + 8, 0xff, 60 - (14 + 20 + 8));
	if (!tp_outcome(&t, &f, 60, NP_STAT_MATCHED, 0, "8 bytes, padded"))
		goto out;
	/* 4 bytes: ports only, no legal fragment but still the ports */
	seg4(&f, &(struct frame_ip4){ .mf = true, .id = 11, .set_tot_len = true,
				      .tot_len = 20 + 4 }, &syn, 0);
	if (!tp_outcome(&t, &f, 60, NP_STAT_MATCHED, 0, "4 bytes"))
		goto out;
	/* fewer than the ports */
	seg4(&f, &(struct frame_ip4){ .mf = true, .id = 12, .set_tot_len = true,
				      .tot_len = 20 + 3 }, &syn, 0);
	if (!tp_outcome(&t, &f, 60, NP_STAT_MALFORMED, 0, "3 bytes"))
		goto out;
	/* not a fragment: a TCP header longer than the packet */
	seg4(&f, &(struct frame_ip4){ .set_tot_len = true, .tot_len = 20 + 16 },
	     &syn, 0);
	if (!tp_outcome(&t, &f, 14 + 20 + 16, NP_STAT_MALFORMED, 0,
			"16 bytes, whole"))
		goto out;
	r = tp_read_seed(&t);
	if (r)
		tp_plain(r, NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0, 3,
			 36 + 28 + 24, 0, FRAME_TH_SYN);
out:
	tp_close(&t);
}
