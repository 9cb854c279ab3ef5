// SPDX-License-Identifier: GPL-2.0
/*
 * The seed write-up's session and its controls: one NBD connection whose
 * requests reach vmk0 through the router while the replies leave by vmk4,
 * straight onto the backup subnet.
 */
#include <time.h>
#include "test_progs.h"

struct step {
	bool to_server;
	__u8 flags;
	__u8 doff;
	__u32 payload;
};

/* Handshake with full SYN options, one request, three data segments. */
static const struct step session[] = {
	{ true,  FRAME_TH_SYN, 10, 0 },
	{ false, FRAME_TH_SYN | FRAME_TH_ACK, 10, 0 },
	{ true,  FRAME_TH_ACK, 8, 0 },
	{ true,  FRAME_TH_PSH | FRAME_TH_ACK, 8, 16 },
	{ false, FRAME_TH_ACK, 8, 1448 },
	{ false, FRAME_TH_ACK, 8, 1448 },
	{ false, FRAME_TH_PSH | FRAME_TH_ACK, 8, 100 },
	{ true,  FRAME_TH_ACK, 8, 0 },
};

#define N_STEPS (sizeof(session) / sizeof(session[0]))

/*
 * Run the session with to_server frames sent to to_mac (from the router)
 * and from_server frames sent by from_mac (to the data mover).
 */
static bool run_session(struct tprog *t, const __u8 *to_mac,
			const __u8 *from_mac)
{
	struct frame f;

	for (size_t i = 0; i < N_STEPS; i++) {
		const struct step *s = &session[i];
		struct seg g = {
			.flags = s->flags,
			.doff = s->doff,
			.payload = s->payload,
		};

		if (s->to_server) {
			g.dmac = to_mac;
			g.smac = MAC_GW;
			g.saddr = IP_RUBRIK;
			g.daddr = IP_ESX;
			g.sport = CLIENT_PORT;
			g.dport = NBD_PORT;
		} else {
			g.dmac = MAC_RUBRIK;
			g.smac = from_mac;
			g.saddr = IP_ESX;
			g.daddr = IP_RUBRIK;
			g.sport = NBD_PORT;
			g.dport = CLIENT_PORT;
		}
		frame_seg(&f, &g);
		if (!tp_run(t, &f, 0))
			return false;
	}
	return true;
}

/*
 * to_server: SYN 60 + ACK 52 + request 68 + ACK 52 bytes, 16 of payload.
 * from_server: SYN/ACK 60 + 1500 + 1500 + 152 bytes, 2996 of payload.
 */
#define TO_BYTES	232
#define TO_PAYLOAD	16
#define FROM_BYTES	3212
#define FROM_PAYLOAD	2996
#define ALL_FLAGS	(FRAME_TH_SYN | FRAME_TH_ACK | FRAME_TH_PSH)

void test_seed_asymmetric(void)
{
	const __u64 want[NP_STAT_MAX] = {
		[NP_STAT_PACKETS] = N_STEPS,
		[NP_STAT_MATCHED] = N_STEPS,
	};
	const struct np_flow_rec *r;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	if (!run_session(&t, MAC_VMK0, MAC_VMK4))
		goto out;
	if (!tp_stats(&t, want) || !tp_read(&t))
		goto out;
	if (!ASSERT_EQ(t.flows.n, 1, "flows"))
		goto out;
	r = tp_flow(&t, IP_ESX, NBD_PORT, IP_RUBRIK, CLIENT_PORT);
	if (!r)
		goto out;
	tp_dir(&r->dir[NP_DIR_TO_SERVER], &(struct want_dir){
		.packets = 4, .bytes = TO_BYTES, .payload = TO_PAYLOAD,
		.macs = { { MAC_VMK0, 4, TO_BYTES } },
		.src_mac = MAC_GW, .dst_mac = MAC_VMK0,
		.tcp_flags = ALL_FLAGS, .flags = NP_DIRF_UNTAGGED,
	}, "to_server");
	tp_dir(&r->dir[NP_DIR_FROM_SERVER], &(struct want_dir){
		.packets = 4, .bytes = FROM_BYTES, .payload = FROM_PAYLOAD,
		.macs = { { MAC_VMK4, 4, FROM_BYTES } },
		.src_mac = MAC_VMK4, .dst_mac = MAC_RUBRIK,
		.tcp_flags = ALL_FLAGS, .flags = NP_DIRF_UNTAGGED,
	}, "from_server");
	/* the verdict's input: the server-side MAC sets differ */
	ASSERT_NEQ(memcmp(r->dir[0].macs[0].mac, r->dir[1].macs[0].mac, 6), 0,
		   "server MACs of the two directions differ");
out:
	tp_close(&t);
}

void test_seed_symmetric(void)
{
	const __u64 want[NP_STAT_MAX] = {
		[NP_STAT_PACKETS] = N_STEPS,
		[NP_STAT_MATCHED] = N_STEPS,
	};
	const struct np_flow_rec *r;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	if (!run_session(&t, MAC_VMK0, MAC_VMK0))
		goto out;
	if (!tp_stats(&t, want) || !tp_read(&t))
		goto out;
	if (!ASSERT_EQ(t.flows.n, 1, "flows"))
		goto out;
	r = tp_flow(&t, IP_ESX, NBD_PORT, IP_RUBRIK, CLIENT_PORT);
	if (!r)
		goto out;
	tp_dir(&r->dir[NP_DIR_TO_SERVER], &(struct want_dir){
		.packets = 4, .bytes = TO_BYTES, .payload = TO_PAYLOAD,
		.macs = { { MAC_VMK0, 4, TO_BYTES } },
		.src_mac = MAC_GW, .dst_mac = MAC_VMK0,
		.tcp_flags = ALL_FLAGS, .flags = NP_DIRF_UNTAGGED,
	}, "to_server");
	tp_dir(&r->dir[NP_DIR_FROM_SERVER], &(struct want_dir){
		.packets = 4, .bytes = FROM_BYTES, .payload = FROM_PAYLOAD,
		.macs = { { MAC_VMK0, 4, FROM_BYTES } },
		.src_mac = MAC_VMK0, .dst_mac = MAC_RUBRIK,
		.tcp_flags = ALL_FLAGS, .flags = NP_DIRF_UNTAGGED,
	}, "from_server");
out:
	tp_close(&t);
}

/* A server that answers from two interfaces: two buckets, in order. */
void test_seed_mac_buckets(void)
{
	const struct np_flow_rec *r;
	struct frame f;
	struct tprog t;
	struct seg g = {
		.dmac = MAC_RUBRIK, .smac = MAC_VMK4,
		.saddr = IP_ESX, .daddr = IP_RUBRIK,
		.sport = NBD_PORT, .dport = CLIENT_PORT,
		.flags = FRAME_TH_ACK, .payload = 1448,
	};

	if (!tp_load(&t, NULL))
		goto out;
	frame_seg(&f, &g);
	if (!tp_run(&t, &f, 0) || !tp_run(&t, &f, 0))
		goto out;
	g.smac = MAC_VMK0;
	g.payload = 100;
	frame_seg(&f, &g);
	if (!tp_run(&t, &f, 0) || !tp_read(&t))
		goto out;
	r = tp_flow(&t, IP_ESX, NBD_PORT, IP_RUBRIK, CLIENT_PORT);
	if (!r)
		goto out;
	tp_dir(&r->dir[NP_DIR_TO_SERVER], &(struct want_dir){}, "to_server");
	tp_dir(&r->dir[NP_DIR_FROM_SERVER], &(struct want_dir){
		.packets = 3, .bytes = 1500 + 1500 + 152,
		.payload = 1448 * 2 + 100,
		.macs = { { MAC_VMK4, 2, 3000 }, { MAC_VMK0, 1, 152 } },
		.src_mac = MAC_VMK0, .dst_mac = MAC_RUBRIK,
		.tcp_flags = FRAME_TH_ACK, .flags = NP_DIRF_UNTAGGED,
	}, "from_server");
out:
	tp_close(&t);
}

void test_other_port(void)
{
	const __u64 want[NP_STAT_MAX] = {
		[NP_STAT_PACKETS] = 2,
		[NP_STAT_OTHER_PORT] = 2,
	};
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	/* vCenter's HTTPS, and the ESXi host's own client connection */
	frame_seg(&f, &(struct seg){
		.dmac = MAC_VMK0, .smac = MAC_GW,
		.saddr = IP_RUBRIK, .daddr = IP_ESX,
		.sport = CLIENT_PORT, .dport = 443, .flags = FRAME_TH_SYN,
	});
	if (!tp_run(&t, &f, 0))
		goto out;
	frame_seg(&f, &(struct seg){
		.dmac = MAC_GW, .smac = MAC_VMK0,
		.saddr = IP_ESX, .daddr = IP_RUBRIK,
		.sport = 903, .dport = 9020, .flags = FRAME_TH_SYN,
	});
	if (!tp_run(&t, &f, 0))
		goto out;
	if (!tp_stats(&t, want) || !tp_read(&t))
		goto out;
	ASSERT_EQ(t.flows.n, 0, "flows");
out:
	tp_close(&t);
}

/* UDP and ICMP to and from the monitored port's host: not TCP. */
void test_not_tcp(void)
{
	const __u64 want[NP_STAT_MAX] = {
		[NP_STAT_PACKETS] = 4,
		[NP_STAT_NOT_TCP] = 4,
		[NP_STAT_IPV6] = 1,
	};
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;

	frame_init(&f);
	frame_eth(&f, MAC_VMK0, MAC_GW);
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = IP_RUBRIK, .daddr = IP_ESX });
	frame_udp(&f, CLIENT_PORT, NBD_PORT);	/* NFC heartbeats use UDP 902 */
	frame_payload(&f, 32);
	frame_end(&f);
	if (!tp_run(&t, &f, 0))
		goto out;

	frame_init(&f);
	frame_eth(&f, MAC_VMK0, MAC_GW);
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = IP_RUBRIK, .daddr = IP_ESX });
	frame_icmp(&f, 8, 0, 1, 1);
	frame_payload(&f, 56);
	frame_end(&f);
	if (!tp_run(&t, &f, 0))
		goto out;

	/* ICMP's payload quotes a TCP header to port 902: still ICMP */
	frame_init(&f);
	frame_eth(&f, MAC_GW, MAC_VMK0);
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = IP_ESX, .daddr = IP_RUBRIK });
	frame_icmp(&f, 3, 3, 0, 0);
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = IP_RUBRIK, .daddr = IP_ESX,
					     .proto = FRAME_IPPROTO_TCP });
	frame_tcp(&f, &(struct frame_tcp){ .sport = CLIENT_PORT,
					   .dport = NBD_PORT });
	frame_end(&f);
	if (!tp_run(&t, &f, 0))
		goto out;

	frame_init(&f);
	frame_eth(&f, MAC_VMK0, MAC_GW);
	frame_ipv6(&f, &(struct frame_ip6){ .saddr = IP6_RUBRIK,
					    .daddr = IP6_ESX });
	frame_udp(&f, CLIENT_PORT, NBD_PORT);
	frame_end(&f);
	if (!tp_run(&t, &f, 0))
		goto out;

	if (!tp_stats(&t, want) || !tp_read(&t))
		goto out;
	ASSERT_EQ(t.flows.n, 0, "flows");
out:
	tp_close(&t);
}

/* --pass: the frame goes on to the stack, counted all the same. */
void test_pass_mode(void)
{
	const __u64 want[NP_STAT_MAX] = {
		[NP_STAT_PACKETS] = 3,
		[NP_STAT_MATCHED] = 1,
		[NP_STAT_OTHER_PORT] = 1,
		[NP_STAT_NOT_IP] = 1,
	};
	struct np_prog_opts o = { .max_flows = 64, .pass = true };
	__u8 lldp[46] = {};
	struct frame f;
	struct tprog t;
	__u32 ret;

	if (!tp_load(&t, &o))
		goto out;
	frame_seg(&f, &(struct seg){
		.dmac = MAC_VMK0, .smac = MAC_GW,
		.saddr = IP_RUBRIK, .daddr = IP_ESX,
		.sport = CLIENT_PORT, .dport = NBD_PORT, .flags = FRAME_TH_SYN,
	});
	if (!ASSERT_OK(tp_run_raw(&t, f.data, f.len, &ret), "test_run matched"))
		goto out;
	ASSERT_EQ(ret, XDP_PASS, "matched: XDP_PASS");
	frame_seg(&f, &(struct seg){
		.dmac = MAC_VMK0, .smac = MAC_GW,
		.saddr = IP_RUBRIK, .daddr = IP_ESX,
		.sport = CLIENT_PORT, .dport = 22, .flags = FRAME_TH_SYN,
	});
	if (!ASSERT_OK(tp_run_raw(&t, f.data, f.len, &ret), "test_run other"))
		goto out;
	ASSERT_EQ(ret, XDP_PASS, "other_port: XDP_PASS");
	frame_init(&f);
	frame_eth(&f, (const __u8[6]){ 0x01, 0x80, 0xc2, 0, 0, 0x0e }, MAC_GW);
	frame_set_next(&f, 0x88cc);
	frame_raw(&f, lldp, sizeof(lldp));
	frame_end(&f);
	if (!ASSERT_OK(tp_run_raw(&t, f.data, f.len, &ret), "test_run lldp"))
		goto out;
	ASSERT_EQ(ret, XDP_PASS, "not_ip: XDP_PASS");
	tp_stats(&t, want);
out:
	tp_close(&t);
}

/* The default drops every frame, whatever its outcome. */
void test_drop_mode(void)
{
	struct frame f;
	struct tprog t;
	__u32 ret;

	if (!tp_load(&t, NULL))
		goto out;
	frame_seg(&f, &(struct seg){
		.dmac = MAC_VMK0, .smac = MAC_GW,
		.saddr = IP_RUBRIK, .daddr = IP_ESX,
		.sport = CLIENT_PORT, .dport = NBD_PORT, .flags = FRAME_TH_SYN,
	});
	if (!ASSERT_OK(tp_run_raw(&t, f.data, f.len, &ret), "test_run matched"))
		goto out;
	ASSERT_EQ(ret, XDP_DROP, "matched: XDP_DROP");
	if (!ASSERT_OK(tp_run_raw(&t, f.data, 20, &ret), "test_run truncated"))
		goto out;
	ASSERT_EQ(ret, XDP_DROP, "truncated: XDP_DROP");
out:
	tp_close(&t);
}

/* np_prog_set_ports() on a loaded program: the next frame obeys it. */
void test_ports_runtime(void)
{
	const __u16 only_903[] = { 903 };
	const __u16 both[] = { 902, 903 };
	const struct np_flow_rec *r;
	struct frame f902, f903;
	struct tprog t;
	__u64 want[NP_STAT_MAX] = {};

	if (!tp_load(&t, NULL))
		goto out;
	frame_seg(&f902, &(struct seg){
		.dmac = MAC_VMK0, .smac = MAC_GW,
		.saddr = IP_RUBRIK, .daddr = IP_ESX,
		.sport = CLIENT_PORT, .dport = 902, .flags = FRAME_TH_SYN,
	});
	frame_seg(&f903, &(struct seg){
		.dmac = MAC_VMK0, .smac = MAC_GW,
		.saddr = IP_RUBRIK, .daddr = IP_ESX,
		.sport = CLIENT_PORT + 1, .dport = 903, .flags = FRAME_TH_SYN,
	});

	if (!tp_run(&t, &f902, 0) || !tp_run(&t, &f903, 0))
		goto out;
	want[NP_STAT_PACKETS] = 2;
	want[NP_STAT_MATCHED] = 1;
	want[NP_STAT_OTHER_PORT] = 1;
	if (!tp_stats_delta(&t, want))
		goto out;

	np_prog_set_ports(t.skel, only_903, 1);
	if (!tp_run(&t, &f902, 0) || !tp_run(&t, &f903, 0))
		goto out;
	if (!tp_stats_delta(&t, want))
		goto out;

	np_prog_set_ports(t.skel, both, 2);
	if (!tp_run(&t, &f902, 0) || !tp_run(&t, &f903, 0))
		goto out;
	want[NP_STAT_MATCHED] = 2;
	want[NP_STAT_OTHER_PORT] = 0;
	if (!tp_stats_delta(&t, want))
		goto out;

	/* NULL: back to the default, 902 alone */
	np_prog_set_ports(t.skel, NULL, 0);
	if (!tp_run(&t, &f902, 0) || !tp_run(&t, &f903, 0))
		goto out;
	want[NP_STAT_MATCHED] = 1;
	want[NP_STAT_OTHER_PORT] = 1;
	if (!tp_stats_delta(&t, want) || !tp_read(&t))
		goto out;

	if (!ASSERT_EQ(t.flows.n, 2, "flows"))
		goto out;
	/* 902 matched in runs 1, 3, 4; 903 in runs 2 and 3 */
	r = tp_flow(&t, IP_ESX, 902, IP_RUBRIK, CLIENT_PORT);
	if (r)
		tp_dir(&r->dir[0], &(struct want_dir){
			.packets = 3, .bytes = 3 * 52,
			.macs = { { MAC_VMK0, 3, 3 * 52 } },
			.src_mac = MAC_GW, .dst_mac = MAC_VMK0,
			.tcp_flags = FRAME_TH_SYN, .flags = NP_DIRF_UNTAGGED,
		}, "902 to_server");
	r = tp_flow(&t, IP_ESX, 903, IP_RUBRIK, CLIENT_PORT + 1);
	if (r)
		tp_dir(&r->dir[0], &(struct want_dir){
			.packets = 2, .bytes = 2 * 52,
			.macs = { { MAC_VMK0, 2, 2 * 52 } },
			.src_mac = MAC_GW, .dst_mac = MAC_VMK0,
			.tcp_flags = FRAME_TH_SYN, .flags = NP_DIRF_UNTAGGED,
		}, "903 to_server");
out:
	tp_close(&t);
}

/*
 * Both ports monitored: a connection from port 903 to port 902. The
 * destination of the first packet is the server; its replies, also
 * "to" a monitored port, land in from_server of the same flow.
 */
void test_both_ports(void)
{
	const __u16 ports[] = { 902, 903 };
	struct np_prog_opts o = { .ports = ports, .n_ports = 2, .max_flows = 64 };
	const __u64 want[NP_STAT_MAX] = {
		[NP_STAT_PACKETS] = 4,
		[NP_STAT_MATCHED] = 4,
	};
	const struct np_flow_rec *r;
	struct seg req = {
		.dmac = MAC_VMK0, .smac = MAC_GW,
		.saddr = IP_RUBRIK, .daddr = IP_ESX,
		.sport = 903, .dport = 902,
	}, rep = {
		.dmac = MAC_RUBRIK, .smac = MAC_VMK4,
		.saddr = IP_ESX, .daddr = IP_RUBRIK,
		.sport = 902, .dport = 903,
	};
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, &o))
		goto out;
	req.flags = FRAME_TH_SYN;
	frame_seg(&f, &req);
	if (!tp_run(&t, &f, 0))
		goto out;
	rep.flags = FRAME_TH_SYN | FRAME_TH_ACK;
	frame_seg(&f, &rep);
	if (!tp_run(&t, &f, 0))
		goto out;
	req.flags = FRAME_TH_ACK;
	frame_seg(&f, &req);
	if (!tp_run(&t, &f, 0))
		goto out;
	rep.flags = FRAME_TH_ACK;
	rep.payload = 1000;
	frame_seg(&f, &rep);
	if (!tp_run(&t, &f, 0))
		goto out;
	if (!tp_stats(&t, want) || !tp_read(&t))
		goto out;
	if (!ASSERT_EQ(t.flows.n, 1, "flows"))
		goto out;
	r = tp_flow(&t, IP_ESX, 902, IP_RUBRIK, 903);
	if (!r)
		goto out;
	tp_dir(&r->dir[NP_DIR_TO_SERVER], &(struct want_dir){
		.packets = 2, .bytes = 104,
		.macs = { { MAC_VMK0, 2, 104 } },
		.src_mac = MAC_GW, .dst_mac = MAC_VMK0,
		.tcp_flags = FRAME_TH_SYN | FRAME_TH_ACK,
		.flags = NP_DIRF_UNTAGGED,
	}, "to_server");
	tp_dir(&r->dir[NP_DIR_FROM_SERVER], &(struct want_dir){
		.packets = 2, .bytes = 52 + 1052, .payload = 1000,
		.macs = { { MAC_VMK4, 2, 1104 } },
		.src_mac = MAC_VMK4, .dst_mac = MAC_RUBRIK,
		.tcp_flags = FRAME_TH_SYN | FRAME_TH_ACK,
		.flags = NP_DIRF_UNTAGGED,
	}, "from_server");
out:
	tp_close(&t);
}

/*
 * A minimum-size frame is padded to 60 bytes on the wire: the padding is
 * neither IP nor payload. Bytes come from the IP header.
 */
void test_eth_padding(void)
{
	const struct np_flow_rec *r;
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	frame_seg(&f, &(struct seg){
		.dmac = MAC_VMK0, .smac = MAC_GW,
		.saddr = IP_RUBRIK, .daddr = IP_ESX,
		.sport = CLIENT_PORT, .dport = NBD_PORT,
		.flags = FRAME_TH_ACK, .doff = 5,
	});
	if (!ASSERT_EQ(f.len, 54, "unpadded frame"))
		goto out;
	memset(f.data + f.len, 0, 6);
	f.len = 60;
	if (!tp_run(&t, &f, 0) || !tp_read(&t))
		goto out;
	r = tp_flow(&t, IP_ESX, NBD_PORT, IP_RUBRIK, CLIENT_PORT);
	if (!r)
		goto out;
	tp_dir(&r->dir[NP_DIR_TO_SERVER], &(struct want_dir){
		.packets = 1, .bytes = 40,
		.macs = { { MAC_VMK0, 1, 40 } },
		.src_mac = MAC_GW, .dst_mac = MAC_VMK0,
		.tcp_flags = FRAME_TH_ACK, .flags = NP_DIRF_UNTAGGED,
	}, "to_server");
out:
	tp_close(&t);
}

/*
 * Without a replay clock the program stamps flows with the coarse
 * monotonic clock: bracket it.
 */
void test_live_clock(void)
{
	const struct np_flow_rec *r;
	struct timespec ts;
	struct frame f;
	struct tprog t;
	__u64 before, after;

	if (!tp_load(&t, NULL))
		goto out;
	tp_set_clock(&t, 0);
	frame_seg(&f, &(struct seg){
		.dmac = MAC_VMK0, .smac = MAC_GW,
		.saddr = IP_RUBRIK, .daddr = IP_ESX,
		.sport = CLIENT_PORT, .dport = NBD_PORT, .flags = FRAME_TH_SYN,
	});
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	before = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	if (!tp_run(&t, &f, 0))
		goto out;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	after = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	if (!tp_read(&t))
		goto out;
	r = tp_flow(&t, IP_ESX, NBD_PORT, IP_RUBRIK, CLIENT_PORT);
	if (!r)
		goto out;
	ASSERT_TRUE(r->dir[0].first_ns >= before && r->dir[0].first_ns <= after,
		    "first_ns within the coarse clock's bracket");
	ASSERT_EQ(r->dir[0].last_ns, r->dir[0].first_ns, "last_ns");
out:
	tp_close(&t);
}
