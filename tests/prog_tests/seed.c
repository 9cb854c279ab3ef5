// SPDX-License-Identifier: GPL-2.0
/*
 * The seed write-up's session and its controls: one NBD connection whose
 * requests reach vmk0 through the router while the replies leave by vmk4,
 * straight onto the backup subnet.
 */
#include <time.h>
#include <unistd.h>
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
 * Run steps[]: to_server ones as variations of to, from_server ones of
 * from (flags, data offset and payload from the step).
 */
static bool run_steps(struct tprog *t, const struct step *steps, size_t n,
		      const struct seg *to, const struct seg *from)
{
	struct frame f;

	for (size_t i = 0; i < n; i++) {
		const struct step *s = &steps[i];
		struct seg g = s->to_server ? *to : *from;

		g.flags = s->flags;
		g.doff = s->doff;
		g.payload = s->payload;
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

/*
 * The session with requests sent to vmk0 (from the router) and replies
 * sent by from_mac (to the data mover): one flow, both directions exact.
 */
static const struct np_flow_rec *seed_session(struct tprog *t,
					      const __u8 *from_mac)
{
	const __u64 want[NP_STAT_MAX] = {
		[NP_STAT_PACKETS] = N_STEPS,
		[NP_STAT_MATCHED] = N_STEPS,
	};
	struct seg to = seed_req(CLIENT_PORT, 0, 0);
	struct seg from = seed_rep(CLIENT_PORT, 0, 0);
	const struct np_flow_rec *r;

	from.smac = from_mac;
	if (!tp_load(t, NULL) || !run_steps(t, session, N_STEPS, &to, &from) ||
	    !tp_stats(t, want) || !tp_read_n(t, 1))
		return NULL;
	r = tp_flow(t, IP_ESX, NBD_PORT, IP_RUBRIK, CLIENT_PORT);
	if (!r)
		return NULL;
	tp_plain(r, NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0, 4, TO_BYTES,
		 TO_PAYLOAD, ALL_FLAGS);
	tp_plain(r, NP_DIR_FROM_SERVER, from_mac, MAC_RUBRIK, 4, FROM_BYTES,
		 FROM_PAYLOAD, ALL_FLAGS);
	return r;
}

void test_seed_asymmetric(void)
{
	const struct np_flow_rec *r;
	struct tprog t;

	r = TEST_AT(seed_session(&t, MAC_VMK4));
	/* the verdict's input: the server-side MAC sets differ */
	if (r)
		ASSERT_NEQ(memcmp(r->dir[0].macs[0].mac, r->dir[1].macs[0].mac,
				  6), 0, "server MACs of the two directions differ");
	tp_close(&t);
}

void test_seed_symmetric(void)
{
	struct tprog t;

	TEST_AT(seed_session(&t, MAC_VMK0));
	tp_close(&t);
}

/* A server that answers from two interfaces: two buckets, in order. */
void test_seed_mac_buckets(void)
{
	const struct np_flow_rec *r;
	struct frame f;
	struct tprog t;
	struct seg g = seed_rep(CLIENT_PORT, FRAME_TH_ACK, 1448);

	if (!tp_load(&t, NULL))
		goto out;
	frame_seg(&f, &g);
	if (!tp_run(&t, &f, 0) || !tp_run(&t, &f, 0))
		goto out;
	g.smac = MAC_VMK0;
	g.payload = 100;
	frame_seg(&f, &g);
	if (!tp_run(&t, &f, 0))
		goto out;
	r = tp_read_seed(&t);
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
	struct seg g = seed_req(CLIENT_PORT, FRAME_TH_SYN, 0);
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	/* vCenter's HTTPS, and the ESXi host's own client connection */
	g.dport = 443;
	frame_seg(&f, &g);
	if (!tp_run(&t, &f, 0))
		goto out;
	frame_seg(&f, &(struct seg){
		.dmac = MAC_GW, .smac = MAC_VMK0,
		.saddr = IP_ESX, .daddr = IP_RUBRIK,
		.sport = 903, .dport = 9020, .flags = FRAME_TH_SYN,
	});
	if (!tp_run(&t, &f, 0))
		goto out;
	if (tp_stats(&t, want))
		tp_read_n(&t, 0);
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

	if (tp_stats(&t, want))
		tp_read_n(&t, 0);
out:
	tp_close(&t);
}

/*
 * Run f cut to len and check the XDP action, which tp_run() takes from the
 * load options: these tests check it against their own expectation.
 */
static bool run_action(struct tprog *t, const struct frame *f, __u32 len,
		       __u32 action, const char *what)
{
	char name[64];
	__u32 ret;

	snprintf(name, sizeof(name), "test_run %s", what);
	if (!ASSERT_OK(tp_run_raw(t, f->data, len, &ret), name))
		return false;
	snprintf(name, sizeof(name), "%s: %s", what,
		 action == XDP_PASS ? "XDP_PASS" : "XDP_DROP");
	return ASSERT_EQ(ret, action, name);
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
	struct seg g = seed_req(CLIENT_PORT, FRAME_TH_SYN, 0);
	__u8 lldp[46] = {};
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, &o))
		goto out;
	frame_seg(&f, &g);
	if (!run_action(&t, &f, f.len, XDP_PASS, "matched"))
		goto out;
	g.dport = 22;
	frame_seg(&f, &g);
	if (!run_action(&t, &f, f.len, XDP_PASS, "other_port"))
		goto out;
	frame_init(&f);
	frame_eth(&f, (const __u8[6]){ 0x01, 0x80, 0xc2, 0, 0, 0x0e }, MAC_GW);
	frame_set_next(&f, 0x88cc);
	frame_raw(&f, lldp, sizeof(lldp));
	frame_end(&f);
	if (!run_action(&t, &f, f.len, XDP_PASS, "not_ip (LLDP)"))
		goto out;
	tp_stats(&t, want);
out:
	tp_close(&t);
}

/* The default drops every frame, whatever its outcome. */
void test_drop_mode(void)
{
	struct seg g = seed_req(CLIENT_PORT, FRAME_TH_SYN, 0);
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	frame_seg(&f, &g);
	if (!run_action(&t, &f, f.len, XDP_DROP, "matched"))
		goto out;
	run_action(&t, &f, 20, XDP_DROP, "truncated");
out:
	tp_close(&t);
}

/* np_prog_set_ports() on a loaded program: the next frame obeys it. */
void test_ports_runtime(void)
{
	static const __u16 only_903[] = { 903 };
	static const __u16 both[] = { 902, 903 };
	static const struct {
		const char *what;
		bool set;		/* call np_prog_set_ports() first */
		const __u16 *ports;
		int n_ports;
		__u64 matched;		/* of the two frames */
	} steps[] = {
		{ "default", false, NULL, 0, 1 },
		{ "903 only", true, only_903, 1, 1 },
		{ "902 and 903", true, both, 2, 2 },
		/* NULL: back to the default, 902 alone */
		{ "NULL", true, NULL, 0, 1 },
	};
	struct seg g = seed_req(CLIENT_PORT, FRAME_TH_SYN, 0);
	const struct np_flow_rec *r;
	struct frame f902, f903;
	struct tprog t;
	__u64 want[NP_STAT_MAX] = { [NP_STAT_PACKETS] = 2 };

	if (!tp_load(&t, NULL))
		goto out;
	frame_seg(&f902, &g);
	g.sport = CLIENT_PORT + 1;
	g.dport = 903;
	frame_seg(&f903, &g);

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (steps[i].set)
			np_prog_set_ports(t.skel, steps[i].ports,
					  steps[i].n_ports);
		if (!tp_run(&t, &f902, 0) || !tp_run(&t, &f903, 0))
			goto out;
		want[NP_STAT_MATCHED] = steps[i].matched;
		want[NP_STAT_OTHER_PORT] = 2 - steps[i].matched;
		if (!tp_stats_delta(&t, want)) {
			printf("    (ports: %s)\n", steps[i].what);
			goto out;
		}
	}
	if (!tp_read_n(&t, 2))
		goto out;
	/* 902 matched in runs 1, 3, 4; 903 in runs 2 and 3 */
	r = tp_flow(&t, IP_ESX, 902, IP_RUBRIK, CLIENT_PORT);
	if (r)
		tp_plain(r, NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0, 3, 3 * 52, 0,
			 FRAME_TH_SYN);
	r = tp_flow(&t, IP_ESX, 903, IP_RUBRIK, CLIENT_PORT + 1);
	if (r)
		tp_plain(r, NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0, 2, 2 * 52, 0,
			 FRAME_TH_SYN);
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
	static const struct step steps[] = {
		{ true,  FRAME_TH_SYN, 0, 0 },
		{ false, FRAME_TH_SYN | FRAME_TH_ACK, 0, 0 },
		{ true,  FRAME_TH_ACK, 0, 0 },
		{ false, FRAME_TH_ACK, 0, 1000 },
	};
	const __u16 ports[] = { 902, 903 };
	struct np_prog_opts o = { .ports = ports, .n_ports = 2, .max_flows = 64 };
	const __u64 want[NP_STAT_MAX] = {
		[NP_STAT_PACKETS] = 4,
		[NP_STAT_MATCHED] = 4,
	};
	struct seg req = seed_req(903, 0, 0), rep = seed_rep(903, 0, 0);
	const struct np_flow_rec *r;
	struct tprog t;

	if (!tp_load(&t, &o))
		goto out;
	req.dport = 902;
	rep.sport = 902;
	if (!run_steps(&t, steps, sizeof(steps) / sizeof(steps[0]), &req, &rep))
		goto out;
	if (!tp_stats(&t, want) || !tp_read_n(&t, 1))
		goto out;
	r = tp_flow(&t, IP_ESX, 902, IP_RUBRIK, 903);
	if (!r)
		goto out;
	tp_plain(r, NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0, 2, 104, 0,
		 FRAME_TH_SYN | FRAME_TH_ACK);
	tp_plain(r, NP_DIR_FROM_SERVER, MAC_VMK4, MAC_RUBRIK, 2, 52 + 1052,
		 1000, FRAME_TH_SYN | FRAME_TH_ACK);
out:
	tp_close(&t);
}

/*
 * A minimum-size frame is padded to 60 bytes on the wire: the padding is
 * neither IP nor payload. Bytes come from the IP header.
 */
void test_eth_padding(void)
{
	struct seg g = seed_req(CLIENT_PORT, FRAME_TH_ACK, 0);
	const struct np_flow_rec *r;
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	g.doff = 5;
	frame_seg(&f, &g);
	if (!ASSERT_EQ(f.len, 54, "unpadded frame"))
		goto out;
	memset(f.data + f.len, 0, 6);
	f.len = 60;
	if (!tp_run(&t, &f, 0))
		goto out;
	r = tp_read_seed(&t);
	if (r)
		tp_plain(r, NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0, 1, 40, 0,
			 FRAME_TH_ACK);
out:
	tp_close(&t);
}

/*
 * Without a replay clock the program stamps flows with the coarse
 * monotonic clock: bracket it. The first frame starts a timer that
 * keeps the clock moving; a hit then takes that time without reading
 * the clock itself.
 */
void test_live_clock(void)
{
	struct seg g = seed_req(CLIENT_PORT, FRAME_TH_SYN, 0);
	const struct np_flow_rec *r;
	struct timespec ts;
	struct frame f;
	struct tprog t;
	__u64 before, after, now;

	if (!tp_load(&t, NULL))
		goto out;
	tp_set_clock(&t, 0);
	frame_seg(&f, &g);
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	before = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	if (!tp_run(&t, &f, 0))
		goto out;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	after = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	r = tp_read_seed(&t);
	if (!r)
		goto out;
	ASSERT_TRUE(r->dir[0].first_ns >= before && r->dir[0].first_ns <= after,
		    "first_ns within the coarse clock's bracket");
	ASSERT_EQ(r->dir[0].last_ns, r->dir[0].first_ns, "last_ns");

	/* the hit path reads no clock: a timer moves the program's on */
	for (int i = 0; i < 2000; i++) {
		if (t.skel->data->cfg.clock_ns != r->dir[0].first_ns)
			break;
		usleep(1000);
	}
	now = t.skel->data->cfg.clock_ns;
	if (!ASSERT_NEQ(now, r->dir[0].first_ns, "the timer moved the clock"))
		goto out;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	after = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	ASSERT_TRUE(now > r->dir[0].first_ns && now <= after,
		    "the timer's clock is the coarse clock");
	g.flags = FRAME_TH_ACK;
	frame_seg(&f, &g);
	if (!tp_run(&t, &f, 0))
		goto out;
	r = tp_read_seed(&t);
	if (r)
		ASSERT_TRUE(r->dir[0].last_ns >= now &&
			    r->dir[0].last_ns <= t.skel->data->cfg.clock_ns,
			    "a hit takes the timer's time");
out:
	tp_close(&t);
}
