// SPDX-License-Identifier: GPL-2.0
/*
 * The common frame's one-step parse (parse_plain() in bpf/parse.h)
 * against the steps that parse every other frame: each frame below, at
 * or just past an edge of what the one step takes, must land in the same
 * outcome and leave the same counts as the same frame with one 802.1Q
 * tag, which only the steps take. Both go into programs of their own;
 * every frame has its own client port, so its own flow.
 */
#include "test_progs.h"

struct plain_case {
	const char *what;
	struct frame_ip4 ip;		/* addresses filled in */
	struct frame_tcp tcp;		/* ports filled in */
	__u8 proto;			/* 0: TCP */
	__u32 payload;
	__u32 cut;			/* payload declared, not captured */
	__u32 len;			/* of the untagged frame; 0: whole */
	bool zero_window;
	bool from_server;
	__u16 sport;			/* 0: the NBD port's end */
};

static const struct plain_case cases[] = {
	{ .what = "data", .payload = 1000 },
	{ .what = "reply data", .payload = 1460, .from_server = true },
	{ .what = "pure ACK", .tcp.opt_len = 12 },
	{ .what = "largest data offset", .tcp.opt_len = 40, .payload = 1 },
	{ .what = "total length 40, no payload" },
	{ .what = "SYN", .tcp.flags = FRAME_TH_SYN, .tcp.opt_len = 20 },
	{ .what = "FIN", .tcp.flags = FRAME_TH_FIN | FRAME_TH_ACK, .payload = 7 },
	{ .what = "RST", .tcp.flags = FRAME_TH_RST },
	{ .what = "zero window", .payload = 10, .zero_window = true },
	{ .what = "don't fragment", .ip.df = true, .payload = 100 },
	{ .what = "IP options", .ip.opt_len = 4, .payload = 100 },
	{ .what = "first fragment", .ip.mf = true, .payload = 100 },
	{ .what = "later fragment", .ip.frag_off = 8, .payload = 100 },
	{ .what = "data offset 4", .tcp.doff = 4, .payload = 100 },
	{ .what = "data offset 4, other port", .tcp.doff = 4, .payload = 100,
	  .sport = 40000 },
	{ .what = "data offset past the payload", .tcp.doff = 15,
	  .ip.set_tot_len = true, .ip.tot_len = 40 + 20 },
	{ .what = "total length below the headers", .ip.set_tot_len = true,
	  .ip.tot_len = 39 },
	{ .what = "total length below the IP header", .ip.set_tot_len = true,
	  .ip.tot_len = 10 },
	{ .what = "total length 0 (TSO)", .ip.set_tot_len = true, .payload = 300 },
	{ .what = "total length past the frame", .payload = 500, .cut = 400 },
	{ .what = "cut one byte short of the TCP header", .payload = 50, .len = 53 },
	{ .what = "cut at the TCP header's end", .payload = 50, .len = 54 },
	{ .what = "UDP", .proto = FRAME_IPPROTO_UDP, .payload = 8 },
	{ .what = "other port", .payload = 100, .sport = 40000 },
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static void plain_frame(struct frame *f, const struct plain_case *c, int i,
			bool tagged)
{
	struct frame_ip4 ip = c->ip;
	struct frame_tcp tcp = c->tcp;
	__u16 cport = CLIENT_PORT + i, sport = c->sport ? c->sport : NBD_PORT;

	frame_init(f);
	if (c->from_server) {
		frame_eth(f, MAC_GW, MAC_VMK0);
		ip.saddr = IP_ESX;
		ip.daddr = IP_RUBRIK;
		tcp.sport = sport;
		tcp.dport = cport;
	} else {
		frame_eth(f, MAC_VMK0, MAC_GW);
		ip.saddr = IP_RUBRIK;
		ip.daddr = IP_ESX;
		tcp.sport = cport;
		tcp.dport = sport;
	}
	if (tagged)
		frame_vlan(f, FRAME_ETH_P_8021Q, 28);
	if (!tcp.flags)
		tcp.flags = FRAME_TH_ACK | FRAME_TH_PSH;
	tcp.seq = 1000 * i;
	if (c->proto)
		ip.proto = c->proto;
	frame_ipv4(f, &ip);
	if (c->proto == FRAME_IPPROTO_UDP)
		frame_udp(f, cport, sport);
	else
		frame_tcp(f, &tcp);
	frame_payload(f, c->payload);
	frame_payload_cut(f, c->cut);
	frame_end(f);
	if (c->zero_window) {
		__u32 th = 14 + (tagged ? 4 : 0) + 20 + c->ip.opt_len;

		frame_put16(f, th + 14, 0);
	}
}

/* d with what a VLAN tag adds taken out */
static struct np_dir untag(const struct np_dir *d)
{
	struct np_dir u = *d;

	u.n_vlans = 0;
	memset(u.vlans, 0, sizeof(u.vlans));
	u.flags &= ~NP_DIRF_UNTAGGED;
	return u;
}

void test_plain_frame_as_steps(void)
{
	__u64 a0[NP_STAT_MAX], a1[NP_STAT_MAX], b0[NP_STAT_MAX],
	      b1[NP_STAT_MAX];
	struct tprog a, b;
	struct frame f;
	size_t i, j;

	if (!tp_load(&a, NULL) || !tp_load(&b, NULL))
		goto out;
	for (i = 0; i < N_CASES; i++) {
		const struct plain_case *c = &cases[i];
		__u32 len = c->len;

		if (!ASSERT_OK(np_read_stats(a.maps.stats, a0), "stats") ||
		    !ASSERT_OK(np_read_stats(b.maps.stats, b0), "stats"))
			goto out;
		plain_frame(&f, c, i, false);
		if (!tp_run(&a, &f, len))
			goto out;
		plain_frame(&f, c, i, true);
		if (!tp_run(&b, &f, len ? len + 4 : 0))
			goto out;
		if (!ASSERT_OK(np_read_stats(a.maps.stats, a1), "stats") ||
		    !ASSERT_OK(np_read_stats(b.maps.stats, b1), "stats"))
			goto out;
		for (j = 0; j < NP_STAT_MAX; j++) {
			if (j == NP_STAT_VLAN)
				continue;
			if (!ASSERT_EQ(a1[j] - a0[j], b1[j] - b0[j],
				       c->what) ||
			    !ASSERT_EQ(b1[NP_STAT_VLAN] - b0[NP_STAT_VLAN], 1,
				       c->what))
				goto out;
		}
	}
	if (!tp_read(&a) || !tp_read(&b))
		goto out;
	if (!ASSERT_EQ(a.flows.n, b.flows.n, "flows") ||
	    !ASSERT_TRUE(a.flows.n >= 10, "most cases are flows"))
		goto out;
	for (i = 0; i < a.flows.n; i++) {
		const struct np_flow_rec *ra = &a.flows.v[i], *rb = NULL;

		for (j = 0; j < b.flows.n; j++)
			if (!memcmp(&b.flows.v[j].key, &ra->key,
				    sizeof(ra->key)))
				rb = &b.flows.v[j];
		if (!ASSERT_TRUE(rb, "the same flow with a tag"))
			goto out;
		for (j = 0; j < 2; j++) {
			struct np_dir da = untag(&ra->dir[j]);
			struct np_dir db = untag(&rb->dir[j]);

			if (!ASSERT_MEMEQ(&da, &db, sizeof(da),
					  "the direction's counts"))
				goto out;
		}
	}
out:
	tp_close(&b);
	tp_close(&a);
}
