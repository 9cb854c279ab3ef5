// SPDX-License-Identifier: GPL-2.0
/*
 * TCP health per direction (nbdpath(8), TCP HEALTH): retransmissions,
 * out-of-order segments, zero windows, resets and the handshake, each
 * rule with exact counts; and a 4-tuple reused after its flow is over,
 * which must open a new flow rather than count into the finished one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test_progs.h"
#include "json_parse.h"
#include "report.h"
#include "vmk.h"

/* the segment tables below leave zw and cpu out where they are zero */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define N_OF(a)		(sizeof(a) / sizeof((a)[0]))

#define MS_NS		1000000ull
#define SEC_NS		1000000000ull

#define SYN		FRAME_TH_SYN
#define ACK		FRAME_TH_ACK
#define PSH		FRAME_TH_PSH
#define FIN		FRAME_TH_FIN
#define RST		FRAME_TH_RST

/* One segment: direction, flags, sequence, payload, time in ms. */
struct hseg {
	bool to;		/* to the server (else from it) */
	__u8 flags;
	__u32 seq;
	__u32 payload;
	__u32 ms;		/* after TP_CLOCK0 */
	bool zw;		/* window 0 */
	int cpu;		/* 1 + an index into env.cpus; 0: this one */
};

#define CS		IP_ESX, NBD_PORT, IP_RUBRIK, CLIENT_PORT

static bool run_segs(struct tprog *t, const struct hseg *s, size_t n)
{
	struct frame f;

	for (size_t i = 0; i < n; i++) {
		struct seg g = s[i].to ?
			seed_req(CLIENT_PORT, s[i].flags, s[i].payload) :
			seed_rep(CLIENT_PORT, s[i].flags, s[i].payload);

		g.seq = s[i].seq;
		g.zero_window = s[i].zw;
		tp_set_clock(t, TP_CLOCK0 + s[i].ms * MS_NS);
		frame_seg(&f, &g);
		if (s[i].cpu ? !tp_run_on(t, &f, 0, s[i].cpu - 1) :
				   !tp_run(t, &f, 0))
			return false;
	}
	return true;
}

/* The direction's five health counters, exactly. */
static bool health_eq(const struct np_flow_rec *r, int dir, __u64 rt,
		      __u64 rt_bytes, __u64 ooo, __u64 zw, __u64 rst)
{
	const struct np_dir *d = &r->dir[dir];
	const char *w = dir == NP_DIR_TO_SERVER ? "to_server" : "from_server";
	char n[64];
	bool ok = true;

#define N(x) (snprintf(n, sizeof(n), "%s %s", w, x), n)
	ok &= ASSERT_EQ(d->retransmits, rt, N("retransmits"));
	ok &= ASSERT_EQ(d->retransmit_bytes, rt_bytes, N("retransmit_bytes"));
	ok &= ASSERT_EQ(d->out_of_order, ooo, N("out_of_order"));
	ok &= ASSERT_EQ(d->zero_windows, zw, N("zero_windows"));
	ok &= ASSERT_EQ(d->resets, rst, N("resets"));
#undef N
	return ok;
}

/* Load, run the segments on this CPU's partition, read the one flow. */
static const struct np_flow_rec *run_flow(struct tprog *t,
					  const struct hseg *s, size_t n)
{
	if (!tp_load(t, NULL) || !run_segs(t, s, n))
		return NULL;
	return tp_read_flow(t, CS);
}

#define HANDSHAKE(ms)							\
	{ true, SYN, 1000, 0, (ms) },					\
	{ false, SYN | ACK, 5000, 0, (ms) + 2 },			\
	{ true, ACK, 1001, 0, (ms) + 3 }

/* Data sent again after more data: one retransmission, its bytes. */
static void health_retransmit(void)
{
	const struct hseg s[] = {
		HANDSHAKE(0),
		{ true, PSH | ACK, 1001, 100, 10 },
		{ false, ACK, 5001, 0, 11 },
		{ true, PSH | ACK, 1101, 100, 12 },
		{ true, PSH | ACK, 1001, 100, 13 },	/* again */
		{ false, ACK, 5001, 0, 14 },		/* pure ACKs: never */
		{ false, ACK, 5001, 0, 15 },
		{ false, PSH | ACK, 5001, 1448, 16 },
		{ true, ACK, 1201, 0, 17 },
	};
	const struct np_flow_rec *r;
	struct tprog t;

	r = run_flow(&t, s, N_OF(s));
	if (r) {
		health_eq(r, NP_DIR_TO_SERVER, 1, 100, 0, 0, 0);
		health_eq(r, NP_DIR_FROM_SERVER, 0, 0, 0, 0, 0);
	}
	tp_close(&t);
}

/*
 * A SYN and a SYN-ACK each sent twice: retries of the handshake, and
 * retransmissions too (each takes one sequence number). The handshake
 * keeps the first of each, with the MAC that carried it: the SYN came
 * in on vmk0, the SYN-ACK left by vmk4 (the seed's case).
 */
static void health_handshake(void)
{
	const struct hseg s[] = {
		{ true, SYN, 1000, 0, 0 },
		{ true, SYN, 1000, 0, 1000 },
		{ false, SYN | ACK, 5000, 0, 1002 },
		{ false, SYN | ACK, 5000, 0, 2002 },
		{ true, ACK, 1001, 0, 2005 },
		{ true, PSH | ACK, 1001, 64, 2006 },
	};
	const struct np_flow_rec *r;
	const struct np_dir *a, *b;
	struct tprog t;

	r = run_flow(&t, s, N_OF(s));
	if (!r)
		goto out;
	health_eq(r, NP_DIR_TO_SERVER, 1, 0, 0, 0, 0);
	health_eq(r, NP_DIR_FROM_SERVER, 1, 0, 0, 0, 0);
	a = &r->dir[NP_DIR_TO_SERVER];
	b = &r->dir[NP_DIR_FROM_SERVER];
	ASSERT_EQ(a->syn_ns, TP_CLOCK0, "syn time");
	ASSERT_EQ(a->syn_retries, 1, "syn retries");
	ASSERT_MEMEQ(a->syn_mac, MAC_VMK0, 6, "syn mac: vmk0");
	ASSERT_EQ(a->ack_ns, TP_CLOCK0 + 2005 * MS_NS, "ack time");
	ASSERT_EQ(b->syn_ns, TP_CLOCK0 + 1002 * MS_NS, "synack time");
	ASSERT_EQ(b->syn_retries, 1, "synack retries");
	ASSERT_MEMEQ(b->syn_mac, MAC_VMK4, 6, "synack mac: vmk4");
	ASSERT_EQ(b->ack_ns, 0, "no ack time from the server");
out:
	tp_close(&t);
}

/*
 * A segment after a gap (out of order), then the gap's filling in two
 * parts (no retransmission), then one of them again (a retransmission).
 */
static void health_gap(void)
{
	const struct hseg s[] = {
		HANDSHAKE(0),
		{ true, PSH | ACK, 1001, 100, 10 },
		{ true, PSH | ACK, 1301, 100, 11 },	/* gap 1101..1301 */
		{ true, PSH | ACK, 1101, 100, 12 },	/* fills */
		{ true, PSH | ACK, 1201, 100, 13 },	/* fills */
		{ true, PSH | ACK, 1401, 100, 14 },	/* in order */
		{ true, PSH | ACK, 1201, 100, 15 },	/* seen: again */
	};
	const struct np_flow_rec *r;
	struct tprog t;

	r = run_flow(&t, s, N_OF(s));
	if (r) {
		health_eq(r, NP_DIR_TO_SERVER, 1, 100, 1, 0, 0);
		health_eq(r, NP_DIR_FROM_SERVER, 0, 0, 0, 0, 0);
	}
	tp_close(&t);
}

/* Sequence numbers wrapping at 2^32: in order across it, then a
 * segment from below the wrap sent again after it.
 */
static void health_wrap(void)
{
	const struct hseg s[] = {
		{ false, PSH | ACK, 0xffffff00u, 0x80, 0 },	/* mid-flow */
		{ false, PSH | ACK, 0xffffff80u, 0x100, 1 },	/* wraps */
		{ false, PSH | ACK, 0x80, 100, 2 },
		{ false, PSH | ACK, 0xffffffc0u, 0x40, 3 },	/* again */
		{ false, PSH | ACK, 0xe4 + 50, 10, 4 },		/* gap */
	};
	const struct np_flow_rec *r;
	struct tprog t;

	r = run_flow(&t, s, N_OF(s));
	if (r) {
		health_eq(r, NP_DIR_FROM_SERVER, 1, 0x40, 1, 0, 0);
		health_eq(r, NP_DIR_TO_SERVER, 0, 0, 0, 0, 0);
	}
	tp_close(&t);
}

/* Zero windows: two from the client; an RST with window 0 is a reset. */
static void health_zero_window(void)
{
	const struct hseg s[] = {
		HANDSHAKE(0),
		{ false, PSH | ACK, 5001, 1448, 10 },
		{ true, ACK, 1001, 0, 11, true },
		{ true, ACK, 1001, 0, 12, true },
		{ true, ACK, 1001, 0, 13 },
		{ true, RST, 1001, 0, 14, true },
	};
	const struct np_flow_rec *r;
	struct tprog t;

	r = run_flow(&t, s, N_OF(s));
	if (r) {
		health_eq(r, NP_DIR_TO_SERVER, 0, 0, 0, 2, 1);
		health_eq(r, NP_DIR_FROM_SERVER, 0, 0, 0, 0, 0);
	}
	tp_close(&t);
}

/*
 * Keep-alives (Linux: no data, one below the next sequence number;
 * others: one byte there) and window probes of no data: never counted.
 */
static void health_keepalive(void)
{
	const struct hseg s[] = {
		HANDSHAKE(0),
		{ true, PSH | ACK, 1001, 100, 10 },
		{ true, ACK, 1100, 0, 20000 },
		{ true, ACK, 1100, 1, 40000 },
		{ true, ACK, 1100, 1, 60000 },
		{ false, ACK, 5000, 0, 61000 },
		{ false, ACK, 5000, 1, 62000 },
		{ true, PSH | ACK, 1101, 100, 63000 },
	};
	const struct np_flow_rec *r;
	struct tprog t;

	r = run_flow(&t, s, N_OF(s));
	if (r) {
		health_eq(r, NP_DIR_TO_SERVER, 0, 0, 0, 0, 0);
		health_eq(r, NP_DIR_FROM_SERVER, 0, 0, 0, 0, 0);
	}
	tp_close(&t);
}

/* An RST from the client on one flow, from the server on another. */
static void health_resets(void)
{
	const struct hseg s[] = {
		HANDSHAKE(0),
		{ true, PSH | ACK, 1001, 100, 10 },
		{ true, RST | ACK, 1101, 0, 11 },
	};
	const struct np_flow_rec *r;
	struct tprog t;
	struct frame f;
	struct seg g;

	r = run_flow(&t, s, N_OF(s));
	if (!r)
		goto out;
	health_eq(r, NP_DIR_TO_SERVER, 0, 0, 0, 0, 1);
	health_eq(r, NP_DIR_FROM_SERVER, 0, 0, 0, 0, 0);
	g = seed_rep(CLIENT_PORT + 1, RST, 0);
	g.seq = 77;
	frame_seg(&f, &g);
	if (!tp_run(&t, &f, 0))
		goto out;
	r = tp_read_flow(&t, IP_ESX, NBD_PORT, IP_RUBRIK, CLIENT_PORT + 1);
	if (r) {
		health_eq(r, NP_DIR_TO_SERVER, 0, 0, 0, 0, 0);
		health_eq(r, NP_DIR_FROM_SERVER, 0, 0, 0, 0, 1);
	}
out:
	tp_close(&t);
}

/*
 * A flow first seen mid-transfer: its first segment in each direction
 * only starts the state (no gap, no retransmission), and there is no
 * handshake.
 */
static void health_mid_flow(void)
{
	const struct hseg s[] = {
		{ false, PSH | ACK, 9000000, 1448, 0 },
		{ true, ACK, 777, 0, 1 },
		{ false, PSH | ACK, 9001448, 1448, 2 },
		{ true, PSH | ACK, 777, 64, 3 },
		{ false, PSH | ACK, 9000000, 1448, 4 },	/* again */
	};
	const struct np_flow_rec *r;
	struct tprog t;

	r = run_flow(&t, s, N_OF(s));
	if (!r)
		goto out;
	health_eq(r, NP_DIR_TO_SERVER, 0, 0, 0, 0, 0);
	health_eq(r, NP_DIR_FROM_SERVER, 1, 1448, 0, 0, 0);
	ASSERT_EQ(r->dir[0].syn_ns, 0, "no SYN");
	ASSERT_EQ(r->dir[1].syn_ns, 0, "no SYN-ACK");
	ASSERT_EQ(r->dir[0].ack_ns, TP_CLOCK0 + 1 * MS_NS,
		  "first client ACK (the report calls it unseen)");
out:
	tp_close(&t);
}

/*
 * The handshake's segments on two CPUs: SYN on the first, its retry and
 * the SYN-ACK on the second, the ACK on the first. The merge keeps the
 * earliest of each leg with its MAC, and counts the later first SYN as
 * a retry; retransmissions are each CPU's view (the retried SYN is the
 * second CPU's first segment of the direction: none).
 */
static void health_cpus(void)
{
	const struct hseg s[] = {
		{ true, SYN, 1000, 0, 0, false, 1 },
		{ true, SYN, 1000, 0, 1000, false, 2 },
		{ false, SYN | ACK, 5000, 0, 1003, false, 2 },
		{ true, ACK, 1001, 0, 1007, false, 1 },
		{ true, PSH | ACK, 1001, 64, 1008, false, 1 },
	};
	const struct np_flow_rec *r;
	struct tprog t;

	if (env.nr_cpus < 2) {
		test__skip("needs 2 CPUs, this process may use %d",
			   env.nr_cpus);
		return;
	}
	if (!tp_load(&t, NULL) || !run_segs(&t, s, N_OF(s)))
		goto out;
	r = tp_read_flow(&t, CS);
	if (!r)
		goto out;
	health_eq(r, NP_DIR_TO_SERVER, 0, 0, 0, 0, 0);
	health_eq(r, NP_DIR_FROM_SERVER, 0, 0, 0, 0, 0);
	ASSERT_EQ(r->dir[0].syn_ns, TP_CLOCK0, "syn: the first CPU's");
	ASSERT_EQ(r->dir[0].syn_retries, 1, "syn retries over CPUs");
	ASSERT_MEMEQ(r->dir[0].syn_mac, MAC_VMK0, 6, "syn mac");
	ASSERT_EQ(r->dir[1].syn_ns, TP_CLOCK0 + 1003 * MS_NS, "synack");
	ASSERT_EQ(r->dir[1].syn_retries, 0, "synack retries");
	ASSERT_MEMEQ(r->dir[1].syn_mac, MAC_VMK4, 6, "synack mac");
	ASSERT_EQ(r->dir[0].ack_ns, TP_CLOCK0 + 1007 * MS_NS, "ack");
out:
	tp_close(&t);
}

/*
 * The same 4-tuple again a minute after its connection closed (FIN both
 * ways): a new flow, not more of the finished one. Its slot is reclaimed
 * (counted), the loader retires the old counts whole, and each flow has
 * exactly its own, though the new one counts as many packets as the old.
 */
static void health_reused_tuple(void)
{
	const struct hseg old[] = {
		HANDSHAKE(0),
		{ true, PSH | ACK, 1001, 100, 10 },
		{ false, PSH | ACK, 5001, 1000, 11 },
		{ true, FIN | ACK, 1101, 0, 12 },
		{ false, FIN | ACK, 6001, 0, 13 },
		{ true, ACK, 1102, 0, 14 },
	};
	const struct hseg neu[] = {
		{ true, SYN, 70000, 0, 60014 },
		{ false, SYN | ACK, 90000, 0, 60016 },
		{ true, ACK, 70001, 0, 60017 },
		{ true, PSH | ACK, 70001, 200, 60020 },
		{ false, PSH | ACK, 90001, 2000, 60021 },
		{ true, PSH | ACK, 70201, 200, 60022 },
		{ false, PSH | ACK, 92001, 2000, 60023 },
		{ false, PSH | ACK, 94001, 2000, 60024 },
		{ true, ACK, 70401, 0, 60025 },
		{ true, ACK, 70401, 0, 60026 },
	};
	/* the new flow counts more packets each way than the old */
	struct np_prog_opts o = { .max_flows = 64, .idle_sec = 300,
				  .closed_sec = 5 };
	__u64 want[NP_STAT_MAX] = {};
	struct tp_retired ret = {};
	const struct np_flow_rec *r;
	__u32 h = 20 + 32;		/* IPv4 and TCP with timestamps */
	struct tprog t;

	if (!tp_load_track(&t, &o) || !run_segs(&t, old, N_OF(old)) ||
	    !tp_read_retire(&t, tp_retire_keep, &ret) ||
	    !ASSERT_EQ(ret.n, 0, "nothing retired yet"))
		goto out;
	if (!run_segs(&t, neu, N_OF(neu)))
		goto out;
	want[NP_STAT_PACKETS] = 18;
	want[NP_STAT_MATCHED] = 18;
	want[NP_STAT_RECLAIMED] = 1;
	if (!tp_stats(&t, want) ||
	    !tp_read_retire(&t, tp_retire_keep, &ret) ||
	    !ASSERT_EQ(ret.n, 1, "the finished flow retired"))
		goto out;
	/* the finished flow: its own counts only */
	r = &ret.rec[0];
	ASSERT_EQ(np_dir_packets(&r->dir[0]), 5, "old to_server packets");
	ASSERT_EQ(np_dir_bytes(&r->dir[0]), 5 * h + 100, "old to_server bytes");
	ASSERT_EQ(np_dir_packets(&r->dir[1]), 3, "old from_server packets");
	ASSERT_EQ(np_dir_bytes(&r->dir[1]), 3 * h + 1000,
		  "old from_server bytes");
	ASSERT_EQ(r->dir[0].last_ns, TP_CLOCK0 + 14 * MS_NS, "old last");
	ASSERT_EQ(np_flow_end(r->dir[0].tcp_flags, r->dir[1].tcp_flags),
		  NP_END_CLOSED, "old closed");
	/* the new one, active */
	r = tp_read_flow(&t, CS);
	if (!r)
		goto out;
	ASSERT_EQ(np_dir_packets(&r->dir[0]), 6, "new to_server packets");
	ASSERT_EQ(np_dir_bytes(&r->dir[0]), 6 * h + 400, "new to_server bytes");
	ASSERT_EQ(np_dir_packets(&r->dir[1]), 4, "new from_server packets");
	ASSERT_EQ(np_dir_bytes(&r->dir[1]), 4 * h + 6000,
		  "new from_server bytes");
	ASSERT_EQ(r->dir[0].first_ns, TP_CLOCK0 + 60014 * MS_NS, "new first");
	ASSERT_EQ(r->dir[0].syn_ns, TP_CLOCK0 + 60014 * MS_NS, "new syn");
	ASSERT_EQ(r->dir[0].tcp_flags, SYN | ACK | PSH, "new flags: no FIN");
	ASSERT_EQ(np_flow_end(r->dir[0].tcp_flags, r->dir[1].tcp_flags),
		  NP_END_NONE, "new open");
	health_eq(r, NP_DIR_TO_SERVER, 0, 0, 0, 0, 0);
	health_eq(r, NP_DIR_FROM_SERVER, 0, 0, 0, 0, 0);
out:
	tp_close(&t);
}

#define JEQ(json, path, want)	ASSERT_STREQ(jget((json), (path)), (want), (path))

/* Write the report in one form into a new string. */
static char *form(const struct np_report *r, int which)
{
	size_t len;
	char *out = NULL;
	FILE *f = open_memstream(&out, &len);

	if (!ASSERT_TRUE(f, "open_memstream"))
		return NULL;
	if (which == 0)
		np_report_json(f, r, NP_VIEW_ALL);
	else if (which == 1)
		np_report_text(f, r, NP_VIEW_ALL);
	else
		np_report_prom(f, r);
	fclose(f);
	printf("%s", out);
	return out;
}

/*
 * The seed's host (requests on vmk0, replies by vmk4), losing on vmk4:
 * flow A established (SYN-ACK 2 ms after the SYN, the ACK 1 ms later)
 * with 10 data segments from the server, 2 of them sent again; flow B's
 * SYN-ACK (by vmk4) sent twice and never acknowledged; flow C's SYN
 * never answered. The report says it per flow, per host, per interface,
 * in JSON, text and Prometheus.
 */
static void health_report(void)
{
	const struct hseg a[] = {
		{ true, SYN, 1000, 0, 0 },
		{ false, SYN | ACK, 5000, 0, 2 },
		{ true, ACK, 1001, 0, 3 },
		{ true, PSH | ACK, 1001, 100, 4 },
		{ false, PSH | ACK, 5001, 1000, 5 },
		{ false, PSH | ACK, 6001, 1000, 6 },
		{ false, PSH | ACK, 7001, 1000, 7 },
		{ false, PSH | ACK, 5001, 1000, 8 },	/* again */
		{ false, PSH | ACK, 8001, 1000, 9 },
		{ false, PSH | ACK, 9001, 1000, 10 },
		{ false, PSH | ACK, 6001, 1000, 11 },	/* again */
		{ false, PSH | ACK, 10001, 1000, 12 },
		{ false, PSH | ACK, 11001, 1000, 13 },
		{ false, PSH | ACK, 12001, 1000, 14 },
		{ true, ACK, 1101, 0, 15 },
	};
	struct np_vmk_list l = {};
	struct np_report_opts o = {};
	struct np_report *r = NULL;
	char *json = NULL, *text = NULL, *prom = NULL;
	struct tprog t;
	struct frame f;
	struct seg g;

	if (!tp_load(&t, NULL) ||
	    !ASSERT_OK(np_vmk_parse_arg(&l, "vmk0=00:25:b5:00:00:0a"), "vmk0") ||
	    !ASSERT_OK(np_vmk_parse_arg(&l, "vmk4=00:50:56:6b:28:04"), "vmk4") ||
	    !ASSERT_OK(np_vmk_store(&l, t.maps.names), "np_vmk_store") ||
	    !run_segs(&t, a, N_OF(a)))
		goto out;
	/* B: SYN, SYN-ACK twice, no ACK; C: SYN only */
	g = seed_req(CLIENT_PORT + 1, SYN, 0);
	g.seq = 300;
	tp_set_clock(&t, TP_CLOCK0 + 20 * MS_NS);
	frame_seg(&f, &g);
	if (!tp_run(&t, &f, 0))
		goto out;
	g = seed_rep(CLIENT_PORT + 1, SYN | ACK, 0);
	g.seq = 700;
	frame_seg(&f, &g);
	for (int i = 0; i < 2; i++) {
		tp_set_clock(&t, TP_CLOCK0 + (21 + 1000 * i) * MS_NS);
		if (!tp_run(&t, &f, 0))
			goto out;
	}
	g = seed_req(CLIENT_PORT + 2, SYN, 0);
	tp_set_clock(&t, TP_CLOCK0 + 30 * MS_NS);
	frame_seg(&f, &g);
	if (!tp_run(&t, &f, 0) || !tp_read(&t))
		goto out;
	o.kind = NP_SRC_REPLAY;
	o.path = "health.pcap";
	o.now_ns = TP_CLOCK0 + 2 * SEC_NS;
	o.clock_to_unix_ns = 1763900000ll * 1000000000ll - (__s64)TP_CLOCK0;
	r = np_report_build(&t.maps, &t.flows, &o, NULL);
	if (!ASSERT_TRUE(r, "np_report_build"))
		goto out;
	json = form(r, 0);
	text = form(r, 1);
	prom = form(r, 2);
	if (!json || !text || !prom || !ASSERT_TRUE(json_valid(json), "JSON"))
		goto out;
	/* flows by bytes: A, then B (two SYN-ACKs), then C */
	JEQ(json, "flows.0.client_port", "50512");
	JEQ(json, "flows.0.from_server.retransmits", "2");
	JEQ(json, "flows.0.from_server.retransmit_bytes", "2000");
	JEQ(json, "flows.0.to_server.retransmits", "0");
	JEQ(json, "flows.0.handshake.syn", "1763900000.000000000");
	JEQ(json, "flows.0.handshake.syn_mac", "\"00:25:b5:00:00:0a\"");
	JEQ(json, "flows.0.handshake.syn_retries", "0");
	JEQ(json, "flows.0.handshake.synack", "1763900000.002000000");
	JEQ(json, "flows.0.handshake.synack_mac", "\"00:50:56:6b:28:04\"");
	JEQ(json, "flows.0.handshake.ack", "1763900000.003000000");
	JEQ(json, "flows.0.handshake.rtt_server", "0.002000");
	JEQ(json, "flows.0.handshake.rtt_client", "0.001000");
	JEQ(json, "flows.0.handshake.state", "\"established\"");
	JEQ(json, "flows.1.client_port", "50513");
	JEQ(json, "flows.1.handshake.state", "\"no_ack\"");
	JEQ(json, "flows.1.handshake.synack_retries", "1");
	JEQ(json, "flows.1.handshake.ack", "null");
	JEQ(json, "flows.1.handshake.rtt_client", "null");
	JEQ(json, "flows.1.handshake.rtt_server", "0.001000");
	JEQ(json, "flows.2.handshake.state", "\"no_synack\"");
	JEQ(json, "flows.2.handshake.synack", "null");
	JEQ(json, "flows.2.handshake.synack_mac", "null");
	JEQ(json, "flows.2.handshake.synack_retries", "null");
	/* the host: vmk4 loses, vmk0 not */
	JEQ(json, "hosts.0.tx.0.interface", "\"vmk4\"");
	/* A's two data segments and B's second SYN-ACK */
	JEQ(json, "hosts.0.tx.0.retransmits", "3");
	JEQ(json, "hosts.0.tx.0.retransmit_bytes", "2000");
	JEQ(json, "hosts.0.rx.0.retransmits", "0");
	JEQ(json, "hosts.0.tcp_health.from_server.retransmits", "3");
	JEQ(json, "hosts.0.tcp_health.to_server.retransmits", "0");
	JEQ(json, "hosts.0.tcp_health.handshakes.established", "1");
	JEQ(json, "hosts.0.tcp_health.handshakes.no_ack", "1");
	JEQ(json, "hosts.0.tcp_health.handshakes.no_synack", "1");
	JEQ(json, "hosts.0.tcp_health.handshakes.unseen", "0");
	JEQ(json, "hosts.0.tcp_health.unanswered_synacks.0.interface",
	    "\"vmk4\"");
	JEQ(json, "hosts.0.tcp_health.unanswered_synacks.0.count", "1");
	JEQ(json, "hosts.0.tcp_health.handshake_rtt.server.min", "0.001000");
	JEQ(json, "hosts.0.tcp_health.handshake_rtt.server.median", "0.001500");
	JEQ(json, "hosts.0.tcp_health.handshake_rtt.server.max", "0.002000");
	JEQ(json, "hosts.0.tcp_health.handshake_rtt.client.median", "0.001000");
	JEQ(json, "interfaces.1.interface", "\"vmk4\"");
	JEQ(json, "interfaces.1.tx_retransmits", "3");
	JEQ(json, "interfaces.0.rx_retransmits", "0");
	/* 13 segments by vmk4 (A: 11, B: 2), 3 of them again; 6 by vmk0 */
	ASSERT_TRUE(strstr(text, "failed handshakes: 1 no_ack (1 SYN-ACK unanswered via vmk4), 1 no_synack"),
		    "failed handshakes line");
	ASSERT_TRUE(strstr(text, "asymmetric and losing: replies via vmk4 retransmit 23.08% of segments (requests via vmk0: 0.00%); 1 SYN-ACK via vmk4 never acknowledged (1 SYN unanswered)"),
		    "asymmetric and losing line");
	ASSERT_TRUE(strstr(prom, "nbdpath_server_retransmits_total{server_ip=\"10.0.0.10\",mac=\"00:50:56:6b:28:04\",vmk=\"vmk4\",direction=\"from_server\"} 3\n"),
		    "prom retransmits");
	ASSERT_TRUE(strstr(prom, "nbdpath_server_retransmit_bytes_total{server_ip=\"10.0.0.10\",mac=\"00:50:56:6b:28:04\",vmk=\"vmk4\",direction=\"from_server\"} 2000\n"),
		    "prom retransmit bytes");
	ASSERT_TRUE(strstr(prom, "nbdpath_host_handshakes_total{server_ip=\"10.0.0.10\",state=\"no_ack\"} 1\n"),
		    "prom handshakes");
	ASSERT_TRUE(strstr(prom, "nbdpath_host_handshake_rtt_seconds{server_ip=\"10.0.0.10\",side=\"server\",quantile=\"0.5\"} 0.001500\n"),
		    "prom rtt");
out:
	free(json);
	free(text);
	free(prom);
	np_report_free(r);
	tp_close(&t);
}

/*
 * The same, with another flow's frame in between: the reused 4-tuple's
 * frame finds its old slot as this CPU's last hit, whose check computes
 * no hash, and the slow path must still search the key's own buckets
 * (not those of the flow hashed last): one slot per key, the old counts
 * retired whole.
 */
static void health_reused_last_hit(void)
{
	const struct hseg a[] = {
		HANDSHAKE(0),
		{ true, FIN | ACK, 1001, 0, 10 },
		{ false, FIN | ACK, 5001, 0, 11 },
		{ true, ACK, 1002, 0, 12 },
	};
	struct np_prog_opts o = { .max_flows = 4096, .idle_sec = 300,
				  .closed_sec = 5 };
	struct tp_retired ret = {};
	const struct np_flow_rec *r;
	struct tprog t;
	struct frame f;
	struct seg g;

	if (!tp_load_track(&t, &o) || !run_segs(&t, a, N_OF(a)) ||
	    !tp_read_retire(&t, tp_retire_keep, &ret))
		goto out;
	/* flows hashed since: each a new flow on the slow path */
	for (int i = 1; i <= 8; i++) {
		g = seed_req(CLIENT_PORT + i, SYN, 0);
		tp_set_clock(&t, TP_CLOCK0 + (20 + i) * MS_NS);
		frame_seg(&f, &g);
		if (!tp_run(&t, &f, 0))
			goto out;
	}
	g = seed_req(CLIENT_PORT, SYN, 0);
	g.seq = 77000;
	tp_set_clock(&t, TP_CLOCK0 + 60 * SEC_NS);
	frame_seg(&f, &g);
	if (!tp_run(&t, &f, 0) ||
	    !tp_read_retire(&t, tp_retire_keep, &ret) ||
	    !ASSERT_EQ(ret.n, 1, "the finished flow retired"))
		goto out;
	ASSERT_EQ(np_dir_packets(&ret.rec[0].dir[0]), 4, "old to_server");
	ASSERT_EQ(np_dir_packets(&ret.rec[0].dir[1]), 2, "old from_server");
	r = tp_read_flow(&t, CS);
	if (!r)
		goto out;
	ASSERT_EQ(np_dir_packets(&r->dir[0]), 1, "new to_server: the SYN");
	ASSERT_EQ(np_dir_packets(&r->dir[1]), 0, "new from_server");
	ASSERT_EQ(r->dir[0].syn_ns, TP_CLOCK0 + 60 * SEC_NS, "new syn");
	ASSERT_EQ(t.flows.n, 9, "one record per key");
out:
	tp_close(&t);
}

void test_health(void)
{
	if (test__start_subtest("retransmit"))
		health_retransmit();
	if (test__start_subtest("handshake"))
		health_handshake();
	if (test__start_subtest("gap"))
		health_gap();
	if (test__start_subtest("wrap"))
		health_wrap();
	if (test__start_subtest("zero_window"))
		health_zero_window();
	if (test__start_subtest("keepalive"))
		health_keepalive();
	if (test__start_subtest("resets"))
		health_resets();
	if (test__start_subtest("mid_flow"))
		health_mid_flow();
	if (test__start_subtest("cpus"))
		health_cpus();
	if (test__start_subtest("reused_tuple"))
		health_reused_tuple();
	if (test__start_subtest("reused_last_hit"))
		health_reused_last_hit();
	if (test__start_subtest("report"))
		health_report();
}
