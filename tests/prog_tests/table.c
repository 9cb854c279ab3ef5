// SPDX-License-Identifier: GPL-2.0
/*
 * The flow table: its capacity, how keys spread over it, and the slots
 * the program reclaims from idle and closed flows.
 */
#include <unistd.h>
#include <bpf/bpf.h>
#include "test_progs.h"

#define SEC_NS	1000000000ull

/*
 * --max-flows of the smallest table, two buckets and the stash: the
 * table takes at least 1.5 slots per flow, and 5 x 1.5 rounds up to two
 * buckets. Every key may use every one of its NSLOTS slots.
 */
#define MAX_FLOWS_MIN		5
#define NSLOTS			NP_FLOW_MIN_SLOTS
#define MASK(n)			((1ull << (n)) - 1)

/* Flow i: a data mover of its own, 10.0.28.(100 + i), to vmk0. */
static void flow_frame(struct frame *f, int i, bool to_server, __u8 flags)
{
	char ip[24];

	snprintf(ip, sizeof(ip), "10.0.28.%d", 100 + i);
	if (to_server)
		frame_seg(f, &(struct seg){
			.dmac = MAC_VMK0, .smac = MAC_GW,
			.saddr = ip, .daddr = IP_ESX,
			.sport = 40000 + i, .dport = NBD_PORT, .flags = flags,
		});
	else
		frame_seg(f, &(struct seg){
			.dmac = MAC_GW, .smac = MAC_VMK0,
			.saddr = IP_ESX, .daddr = ip,
			.sport = NBD_PORT, .dport = 40000 + i, .flags = flags,
		});
}

static const struct np_flow_rec *find(struct tprog *t, int i)
{
	struct np_flow_key k;
	char ip[24];

	snprintf(ip, sizeof(ip), "10.0.28.%d", 100 + i);
	tp_key(&k, IP_ESX, NBD_PORT, ip, 40000 + i);
	for (size_t j = 0; j < t->flows.n; j++)
		if (!memcmp(&t->flows.v[j].key, &k, sizeof(k)))
			return &t->flows.v[j];
	return NULL;
}

/* Which of flows 0..n-1 the last read holds, as a bit mask. */
static __u64 present(struct tprog *t, int n)
{
	__u64 m = 0;

	for (int i = 0; i < n; i++)
		if (find(t, i))
			m |= 1ull << i;
	return m;
}

/*
 * The smallest table holds NSLOTS flows per CPU. The rest are counted
 * as matched and as table_full; nothing is dropped silently, and flows
 * already in the table go on counting.
 */
void test_table_full(void)
{
	struct np_prog_opts o = { .max_flows = MAX_FLOWS_MIN };
	__u64 want[NP_STAT_MAX] = {};
	const struct np_flow_rec *r;
	struct frame f;
	struct tprog t;
	int i;

	if (!tp_load(&t, &o) || !ASSERT_EQ(t.maps.n_slots, 24, "slots"))
		goto out;
	for (i = 0; i < NSLOTS + 4; i++) {
		flow_frame(&f, i, true, FRAME_TH_SYN);
		if (!tp_run(&t, &f, 0))
			goto out;
	}
	want[NP_STAT_PACKETS] = NSLOTS + 4;
	want[NP_STAT_MATCHED] = NSLOTS + 4;
	want[NP_STAT_TABLE_FULL] = 4;
	if (!tp_stats_delta(&t, want) || !tp_read(&t))
		goto out;
	if (!ASSERT_EQ(t.flows.n, NSLOTS, "distinct flows that fit"))
		goto out;
	ASSERT_EQ(present(&t, NSLOTS + 4), MASK(NSLOTS), "the first NSLOTS");

	/* a flow in the table still counts; one outside still does not */
	flow_frame(&f, 0, false, FRAME_TH_SYN | FRAME_TH_ACK);
	if (!tp_run(&t, &f, 0))
		goto out;
	flow_frame(&f, NSLOTS + 3, false, FRAME_TH_SYN | FRAME_TH_ACK);
	if (!tp_run(&t, &f, 0))
		goto out;
	want[NP_STAT_PACKETS] = 2;
	want[NP_STAT_MATCHED] = 2;
	want[NP_STAT_TABLE_FULL] = 1;
	if (!tp_stats_delta(&t, want) || !tp_read(&t))
		goto out;
	r = find(&t, 0);
	if (!ASSERT_TRUE(r, "flow 0"))
		goto out;
	tp_dir(&r->dir[NP_DIR_FROM_SERVER], &(struct want_dir){
		.packets = 1, .bytes = 52,
		.macs = { { MAC_VMK0, 1, 52 } },
		.src_mac = MAC_VMK0, .dst_mac = MAC_GW,
		.tcp_flags = FRAME_TH_SYN | FRAME_TH_ACK,
		.flags = NP_DIRF_UNTAGGED,
	}, "flow 0 from_server");
out:
	tp_close(&t);
}

/*
 * Flows per bucket in the partition of the CPU the tests run on (the
 * mapped table: CPU c's slots from c * n_slots); false if unmapped.
 */
static bool bucket_loads(struct tprog *t, int *load, unsigned int n_buckets)
{
	const char *part;

	if (!ASSERT_TRUE(t->tab.map, "the table is mapped"))
		return false;
	part = (const char *)t->tab.map +
	       (size_t)env.cpus[0] * t->tab.n_slots * t->tab.stride;
	memset(load, 0, n_buckets * sizeof(*load));
	for (unsigned int i = 0; i < n_buckets * NP_FLOW_BUCKET; i++) {
		const struct np_flow *s = (const void *)(part + i * t->tab.stride);

		load[i / NP_FLOW_BUCKET] += !!s->in_use;
	}
	return true;
}

/*
 * A backup appliance opens many connections to one host, one per disk:
 * keys that differ only in the client port must spread over the table,
 * not queue up in one bucket of 8. Spread means: 16 flows in a table of
 * 128 slots (16 buckets of 8, and the stash) fill no bucket beyond half
 * and leave the stash empty, and use at least half as many buckets as
 * there are flows; a hash that ignored the client port would put them
 * all in one bucket pair.
 */
void test_table_spread(void)
{
	struct np_prog_opts o = { .max_flows = 64 };
	__u64 want[NP_STAT_MAX] = {};
	int load[128 / NP_FLOW_BUCKET];
	int used = 0, most = 0, sum = 0;
	struct frame f;
	struct tprog t;
	int i;

	if (!tp_load(&t, &o))
		goto out;
	for (i = 0; i < 16; i++) {
		frame_seg(&f, &(struct seg){
			.dmac = MAC_VMK0, .smac = MAC_GW,
			.saddr = IP_RUBRIK, .daddr = IP_ESX,
			.sport = CLIENT_PORT + i, .dport = NBD_PORT,
			.flags = FRAME_TH_SYN,
		});
		if (!tp_run(&t, &f, 0))
			goto out;
	}
	want[NP_STAT_PACKETS] = 16;
	want[NP_STAT_MATCHED] = 16;
	if (!tp_stats_delta(&t, want) || !tp_read(&t))
		goto out;
	ASSERT_EQ(t.flows.n, 16, "flows");
	if (!ASSERT_EQ(t.maps.n_slots, 128 + NP_FLOW_BUCKET, "slots") ||
	    !bucket_loads(&t, load, 128 / NP_FLOW_BUCKET))
		goto out;
	for (i = 0; i < 128 / NP_FLOW_BUCKET; i++) {
		sum += load[i];
		used += load[i] > 0;
		most = load[i] > most ? load[i] : most;
	}
	for (i = 0; i < 128 / NP_FLOW_BUCKET; i++)
		printf("%d%s", load[i], i % 16 == 15 ? "\n" : " ");
	ASSERT_EQ(sum, 16, "flows in the partition");
	ASSERT_TRUE(most <= NP_FLOW_BUCKET / 2, "no bucket more than half full");
	ASSERT_TRUE(used >= 16 / 2, "at least 8 buckets used");
out:
	tp_close(&t);
}

/* Index of the flow a retired record is, or -1. */
static int which(const struct np_flow_rec *r, int n)
{
	for (int i = 0; i < n; i++) {
		struct np_flow_key k;
		char ip[24];

		snprintf(ip, sizeof(ip), "10.0.28.%d", 100 + i);
		tp_key(&k, IP_ESX, NBD_PORT, ip, 40000 + i);
		if (!memcmp(&r->key, &k, sizeof(k)))
			return i;
	}
	return -1;
}

/*
 * A flow idle for idle_ns gives up its slot to a new flow whose window
 * it sits in; the reader hands its last counts to retire() exactly once.
 */
static void table_reclaim_idle(void)
{
	struct np_prog_opts o = { .max_flows = MAX_FLOWS_MIN, .idle_sec = 300 };
	__u64 want[NP_STAT_MAX] = {};
	struct tp_retired ret = {};
	struct frame f;
	struct tprog t;
	int i, w;

	if (!tp_load_track(&t, &o))
		goto out;
	for (i = 0; i < NSLOTS; i++) {
		flow_frame(&f, i, true, FRAME_TH_SYN);
		if (!tp_run(&t, &f, 0))
			goto out;
	}
	/* flows 1..NSLOTS - 1 go on, flow 0 falls silent */
	tp_set_clock(&t, TP_CLOCK0 + 200 * SEC_NS);
	for (i = 1; i < NSLOTS; i++) {
		flow_frame(&f, i, false, FRAME_TH_SYN | FRAME_TH_ACK);
		if (!tp_run(&t, &f, 0))
			goto out;
	}
	if (!tp_read_retire(&t, tp_retire_keep, &ret) ||
	    !ASSERT_EQ(ret.n, 0, "nothing retired yet"))
		goto out;

	/* 299.999 s after flow 0's last frame: not yet */
	tp_set_clock(&t, TP_CLOCK0 + 300 * SEC_NS - 1);
	flow_frame(&f, NSLOTS, true, FRAME_TH_SYN);
	if (!tp_run(&t, &f, 0))
		goto out;
	want[NP_STAT_PACKETS] = 2 * NSLOTS;
	want[NP_STAT_MATCHED] = 2 * NSLOTS;
	want[NP_STAT_TABLE_FULL] = 1;
	if (!tp_stats_delta(&t, want))
		goto out;

	/* 300 s: flow 0 is idle, flow NSLOTS takes its slot */
	tp_set_clock(&t, TP_CLOCK0 + 300 * SEC_NS);
	if (!tp_run(&t, &f, 0))
		goto out;
	memset(want, 0, sizeof(want));
	want[NP_STAT_PACKETS] = 1;
	want[NP_STAT_MATCHED] = 1;
	want[NP_STAT_RECLAIMED] = 1;
	if (!tp_stats_delta(&t, want))
		goto out;
	if (!tp_read_retire(&t, tp_retire_keep, &ret) ||
	    !ASSERT_EQ(ret.n, 1, "retired once"))
		goto out;
	ASSERT_EQ(which(&ret.rec[0], NSLOTS + 1), 0, "retired flow");
	tp_dir(&ret.rec[0].dir[NP_DIR_TO_SERVER], &(struct want_dir){
		.packets = 1, .bytes = 52,
		.macs = { { MAC_VMK0, 1, 52 } },
		.src_mac = MAC_GW, .dst_mac = MAC_VMK0,
		.tcp_flags = FRAME_TH_SYN, .flags = NP_DIRF_UNTAGGED,
	}, "retired to_server");
	tp_dir(&ret.rec[0].dir[NP_DIR_FROM_SERVER], &(struct want_dir){},
	       "retired from_server");
	ASSERT_EQ(present(&t, NSLOTS + 1), MASK(NSLOTS + 1) & ~1ull,
		  "flows 1..NSLOTS in the table");
	/* flow NSLOTS starts afresh in the reclaimed slot */
	if (find(&t, NSLOTS))
		tp_dir(&find(&t, NSLOTS)->dir[NP_DIR_TO_SERVER], &(struct want_dir){
			.packets = 1, .bytes = 52,
			.macs = { { MAC_VMK0, 1, 52 } },
			.src_mac = MAC_GW, .dst_mac = MAC_VMK0,
			.tcp_flags = FRAME_TH_SYN, .flags = NP_DIRF_UNTAGGED,
			.first_ns = TP_CLOCK0 + 300 * SEC_NS,
			.last_ns = TP_CLOCK0 + 300 * SEC_NS,
		}, "flow NSLOTS to_server");

	/* read again: nothing more to retire */
	if (!tp_read_retire(&t, tp_retire_keep, &ret))
		goto out;
	ASSERT_EQ(ret.n, 1, "retired exactly once");

	/* flow 0 comes back: no slot is idle now */
	flow_frame(&f, 0, true, FRAME_TH_ACK);
	if (!tp_run(&t, &f, 0))
		goto out;
	want[NP_STAT_RECLAIMED] = 0;
	want[NP_STAT_TABLE_FULL] = 1;
	if (!tp_stats_delta(&t, want))
		goto out;

	/* 500 s: flows 1..NSLOTS - 1 idle 300 s; flow 0 takes one of their slots */
	tp_set_clock(&t, TP_CLOCK0 + 500 * SEC_NS);
	if (!tp_run(&t, &f, 0))
		goto out;
	want[NP_STAT_RECLAIMED] = 1;
	want[NP_STAT_TABLE_FULL] = 0;
	if (!tp_stats_delta(&t, want))
		goto out;
	if (!tp_read_retire(&t, tp_retire_keep, &ret) ||
	    !ASSERT_EQ(ret.n, 2, "retired twice in all"))
		goto out;
	w = which(&ret.rec[1], NSLOTS);
	if (!ASSERT_TRUE(w >= 1 && w < NSLOTS,
			 "second retired is one of 1..NSLOTS - 1"))
		goto out;
	ASSERT_EQ(present(&t, NSLOTS + 1), MASK(NSLOTS + 1) & ~(1ull << w),
		  "flows after");
	tp_dir(&ret.rec[1].dir[NP_DIR_FROM_SERVER], &(struct want_dir){
		.packets = 1, .bytes = 52,
		.macs = { { MAC_VMK0, 1, 52 } },
		.src_mac = MAC_VMK0, .dst_mac = MAC_GW,
		.tcp_flags = FRAME_TH_SYN | FRAME_TH_ACK,
		.flags = NP_DIRF_UNTAGGED,
		.first_ns = TP_CLOCK0 + 200 * SEC_NS,
		.last_ns = TP_CLOCK0 + 200 * SEC_NS,
	}, "second retired from_server");
out:
	tp_close(&t);
}

/*
 * A closed flow (FIN both ways, or RST) gives up its slot after
 * closed_ns, long before idle_ns; a half-closed one does not.
 */
static void table_reclaim_closed(void)
{
	struct np_prog_opts o = { .max_flows = MAX_FLOWS_MIN, .idle_sec = 300,
				  .closed_sec = 5 };
	__u64 want[NP_STAT_MAX] = {};
	struct tp_retired ret = {};
	struct frame f;
	struct tprog t;
	int i, a, b;

	if (!tp_load_track(&t, &o))
		goto out;
	for (i = 0; i < NSLOTS; i++) {
		flow_frame(&f, i, true, FRAME_TH_SYN);
		if (!tp_run(&t, &f, 0))
			goto out;
	}
	/* 0: FIN both ways; 1: RST; 2: FIN from the client only */
	flow_frame(&f, 0, true, FRAME_TH_FIN | FRAME_TH_ACK);
	if (!tp_run(&t, &f, 0))
		goto out;
	flow_frame(&f, 0, false, FRAME_TH_FIN | FRAME_TH_ACK);
	if (!tp_run(&t, &f, 0))
		goto out;
	flow_frame(&f, 1, false, FRAME_TH_RST);
	if (!tp_run(&t, &f, 0))
		goto out;
	flow_frame(&f, 2, true, FRAME_TH_FIN | FRAME_TH_ACK);
	if (!tp_run(&t, &f, 0))
		goto out;
	if (!tp_read_retire(&t, tp_retire_keep, &ret))
		goto out;

	tp_set_clock(&t, TP_CLOCK0 + 5 * SEC_NS - 1);
	flow_frame(&f, NSLOTS, true, FRAME_TH_SYN);
	if (!tp_run(&t, &f, 0))
		goto out;
	want[NP_STAT_PACKETS] = NSLOTS + 5;
	want[NP_STAT_MATCHED] = NSLOTS + 5;
	want[NP_STAT_TABLE_FULL] = 1;
	if (!tp_stats_delta(&t, want))
		goto out;

	tp_set_clock(&t, TP_CLOCK0 + 5 * SEC_NS);
	for (i = NSLOTS; i < NSLOTS + 3; i++) {
		flow_frame(&f, i, true, FRAME_TH_SYN);
		if (!tp_run(&t, &f, 0))
			goto out;
	}
	memset(want, 0, sizeof(want));
	want[NP_STAT_PACKETS] = 3;
	want[NP_STAT_MATCHED] = 3;
	want[NP_STAT_RECLAIMED] = 2;
	want[NP_STAT_TABLE_FULL] = 1;
	if (!tp_stats_delta(&t, want))
		goto out;
	if (!tp_read_retire(&t, tp_retire_keep, &ret) ||
	    !ASSERT_EQ(ret.n, 2, "retired"))
		goto out;
	a = which(&ret.rec[0], 3);
	b = which(&ret.rec[1], 3);
	ASSERT_EQ((1 << a) | (1 << b), 0x3, "retired flows 0 and 1");
	ASSERT_EQ(present(&t, NSLOTS + 3), MASK(NSLOTS + 2) & ~3ull,
		  "flows 2..NSLOTS + 1 in the table");
out:
	tp_close(&t);
}

/*
 * A query holds only a read-only fd of the table, which cannot be
 * mmapped: its reader copies the table with batch look-ups instead, and
 * must find exactly what the mapped reader finds, retired slots included.
 */
void test_table_read_only(void)
{
	LIBBPF_OPTS(bpf_get_fd_by_id_opts, ro, .open_flags = BPF_F_RDONLY);
	struct np_prog_opts o = { .max_flows = MAX_FLOWS_MIN,
				  .idle_sec = 300 };
	struct tp_retired la = {}, lb = {};
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct np_flowset set = {};
	struct np_flowtab tab;
	struct frame f;
	struct tprog t;
	int fd = -1, i;

	memset(&tab, 0, sizeof(tab));
	if (!tp_load_track(&t, &o))
		goto out;
	if (!ASSERT_TRUE(t.tab.map, "the loader's fd is mapped") ||
	    !ASSERT_OK(bpf_obj_get_info_by_fd(t.maps.flows, &info, &len),
		       "map info"))
		goto out;
	fd = bpf_map_get_fd_by_id_opts(info.id, &ro);
	if (!ASSERT_TRUE(fd >= 0, "read-only fd") ||
	    !ASSERT_OK(np_flowtab_init(&tab, fd, t.maps.n_slots, true),
		       "np_flowtab_init (read-only)") ||
	    !ASSERT_TRUE(!tab.map, "a read-only fd is not mapped"))
		goto out;
	/* NSLOTS flows fill CPU 0's slots, four of them seen on CPU 1 too;
	 * then a new flow reclaims one of CPU 0's
	 */
	for (i = 0; i < NSLOTS; i++) {
		flow_frame(&f, i, true, FRAME_TH_SYN);
		if (!tp_run_on(&t, &f, 0, 0))
			goto out;
		flow_frame(&f, i, false, FRAME_TH_SYN | FRAME_TH_ACK);
		if (i < 4 && !tp_run_on(&t, &f, 0, 1))
			goto out;
	}
	for (int pass = 0; pass < 2; pass++) {
		if (!tp_read_retire(&t, tp_retire_keep, &la) ||
		    !ASSERT_OK(np_flowtab_read(&tab, &set, tp_retire_keep, &lb),
			       "np_flowtab_read (read-only)"))
			goto out;
		if (!ASSERT_EQ(set.n, t.flows.n, "flows") ||
		    !ASSERT_TRUE(!memcmp(set.v, t.flows.v,
					 set.n * sizeof(set.v[0])),
				 "the same flows, in the same order") ||
		    !ASSERT_EQ(lb.n, la.n, "retired") ||
		    !ASSERT_TRUE(!memcmp(lb.rec, la.rec,
					 (la.n < TP_RETIRED_MAX ? la.n : TP_RETIRED_MAX) *
					 sizeof(la.rec[0])),
				 "the same retired counts"))
			goto out;
		tp_set_clock(&t, TP_CLOCK0 + 300 * SEC_NS);
		flow_frame(&f, NSLOTS, true, FRAME_TH_SYN);
		if (!tp_run_on(&t, &f, 0, 0))
			goto out;
	}
	ASSERT_EQ(la.n, 1, "one slot reclaimed and retired");
out:
	np_flowset_free(&set);
	if (tab.batch_keys)
		np_flowtab_free(&tab);
	if (fd >= 0)
		close(fd);
	tp_close(&t);
}

/*
 * --max-flows N holds N flows: the table takes at least 1.5 slots a
 * flow, and a new flow goes to the emptier of its two buckets. Keys as a
 * backup job makes them: a few appliances, runs of client ports.
 */
void test_table_capacity(void)
{
	struct np_prog_opts o = { .max_flows = 1000 };
	__u64 want[NP_STAT_MAX] = {};
	struct frame f;
	struct tprog t;
	char ip[24];
	int i;

	if (!tp_load(&t, &o) || !ASSERT_EQ(t.maps.n_slots, 2056, "slots"))
		goto out;
	for (i = 0; i < 1000; i++) {
		snprintf(ip, sizeof(ip), "10.0.28.%d", 50 + i % 4);
		frame_seg(&f, &(struct seg){
			.dmac = MAC_VMK0, .smac = MAC_GW,
			.saddr = ip, .daddr = IP_ESX,
			.sport = 40000 + i / 4, .dport = NBD_PORT,
			.flags = FRAME_TH_SYN,
		});
		if (!tp_run(&t, &f, 0))
			goto out;
	}
	want[NP_STAT_PACKETS] = 1000;
	want[NP_STAT_MATCHED] = 1000;
	if (!tp_stats_delta(&t, want) || !tp_read(&t))
		goto out;
	ASSERT_EQ(t.flows.n, 1000, "every flow in the table");
out:
	tp_close(&t);
}

/* A slot given up to a new flow: by an idle flow, by a closed one. */
void test_table_reclaim(void)
{
	if (test__start_subtest("idle"))
		table_reclaim_idle();
	if (test__start_subtest("closed"))
		table_reclaim_closed();
}

/* ---- the keyed hash and the promise of --max-flows ---- */

#include <stdlib.h>
#include <sys/mman.h>
#include <sys/random.h>
#include "../bpf/flow.h"
#include "bench_bare.skel.h"

/* Where flow_frame()-like segments keep the client's address and port. */
#define ETH_IP_TCP	(14 + 20)

/* The key of a data mover 10.0.28.50:port to IP_ESX:902, as stored. */
static void mover_key(struct np_flow_key *k, __u16 port)
{
	tp_key(k, IP_ESX, NBD_PORT, IP_RUBRIK, port);
}

static void mover_frame(struct frame *f, __u16 port)
{
	frame_seg(f, &(struct seg){
		.dmac = MAC_VMK0, .smac = MAC_GW,
		.saddr = IP_RUBRIK, .daddr = IP_ESX,
		.sport = port, .dport = NBD_PORT, .flags = FRAME_TH_SYN,
	});
}

/* Both buckets of k in a table of mask + 1 buckets, under hk. */
static void buckets_of(const struct np_flow_key *k, const struct np_hkey *hk,
		       __u32 mask, __u32 *a, __u32 *b)
{
	__u64 h = flow_hash(k, hk);

	*a = flow_bucket_a(h, mask);
	*b = flow_bucket_b(h, *a, mask);
}

/*
 * A sender who knows the hash can pick client ports whose two buckets
 * are the same pair, and fill them and the stash: the next flow of that
 * pair is refused. With the secret of another load, the same flows
 * spread and every one fits; and no two loads draw the same secret.
 */
void test_table_keyed_hash(void)
{
	static const __u64 r0[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	static const __u64 r1[12] = { 0x9e3779b9, 0x7f4a7c15, 0x85ebca6b,
				      0xc2b2ae35, 0x27d4eb2f, 0x165667b1,
				      0xd3a2646c, 0xfd7046c5, 0xb55a4f09,
				      0x14d049bb, 0x94d049bb133111ebull, 3 };
	struct np_prog_opts o = { .max_flows = 64 };
	__u32 mask, a, b, n = 0, ports[NSLOTS + 1];
	struct np_hkey k0, k1;
	struct np_flow_key k;
	struct tprog t = {}, u = {};
	__u64 want[NP_STAT_MAX] = {};
	struct frame f;

	np_hkey_set(&k0, r0);
	np_hkey_set(&k1, r1);
	o.hkey = &k0;
	if (!tp_load(&t, &o))
		goto out;
	mask = t.skel->rodata->bucket_mask;
	if (!ASSERT_EQ(mask, 15, "16 buckets for --max-flows 64"))
		goto out;
	/* 25 client ports whose buckets are 0 and 1 under k0 */
	for (__u32 port = 1024; port < 65535 && n <= NSLOTS; port++) {
		mover_key(&k, port);
		buckets_of(&k, &k0, mask, &a, &b);
		if ((a | b) == 1)
			ports[n++] = port;
	}
	if (!ASSERT_EQ(n, NSLOTS + 1, "crafted flows"))
		goto out;
	for (__u32 i = 0; i <= NSLOTS; i++) {
		mover_frame(&f, ports[i]);
		if (!tp_run(&t, &f, 0))
			goto out;
	}
	want[NP_STAT_PACKETS] = NSLOTS + 1;
	want[NP_STAT_MATCHED] = NSLOTS + 1;
	want[NP_STAT_TABLE_FULL] = 1;
	if (!tp_stats(&t, want) || !tp_read_n(&t, NSLOTS))
		goto out;

	o.hkey = &k1;
	if (!tp_load(&u, &o))
		goto out;
	for (__u32 i = 0; i <= NSLOTS; i++) {
		mover_frame(&f, ports[i]);
		if (!tp_run(&u, &f, 0))
			goto out;
	}
	want[NP_STAT_TABLE_FULL] = 0;
	if (!tp_stats(&u, want) || !tp_read_n(&u, NSLOTS + 1))
		goto out;
	tp_close(&u);

	/* the loader's own secret: drawn anew at every load */
	o.hkey = NULL;
	tp_close(&t);
	if (!tp_load(&t, &o) || !tp_load(&u, &o))
		goto out;
	ASSERT_TRUE(memcmp(&t.skel->data->cfg.hkey, &u.skel->data->cfg.hkey,
			   sizeof(k0)), "two loads, two secrets");
	ASSERT_EQ(t.skel->data->cfg.hkey.mul & 1, 1, "the multiplier is odd");
out:
	tp_close(&u);
	tp_close(&t);
}

/*
 * Empty the flow table, tags and last-hit slots (the scratch, which
 * np_stats holds after the counters: they are zeroed too), between trials.
 */
static bool table_empty(struct tprog *t, void *flows, size_t flows_len,
			void *tags, size_t tags_len)
{
	struct bpf_map *m = t->skel->maps.np_stats;
	int ncpu = libbpf_num_possible_cpus();
	size_t vsz = (bpf_map__value_size(m) + 7) & ~7u;
	void *scratch = calloc(ncpu, vsz);
	__u32 zero = 0;
	bool ok;

	memset(flows, 0, flows_len);
	memset(tags, 0, tags_len);
	ok = ASSERT_TRUE(scratch, "calloc") &&
	     ASSERT_OK(bpf_map_update_elem(bpf_map__fd(m), &zero, scratch,
					   BPF_ANY), "np_stats");
	free(scratch);
	memset(t->stats, 0, sizeof(t->stats));	/* tp_stats_delta()'s base */
	return ok;
}

static void *map_rw(int fd, size_t len)
{
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return m == MAP_FAILED ? NULL : m;
}

/*
 * --max-flows N holds N flows, whatever the secret: trials of N new
 * flows (random client addresses and ports, a random secret each) into
 * an empty table of --max-flows N through BPF_PROG_TEST_RUN, none
 * refused, every one in a slot. The sizes put the table at its fullest,
 * two thirds of the buckets' slots (1.5 N rounded up to a power of two
 * of buckets is 1.5 N, give or take a slot). A test run with repeat
 * costs an RCU grace period or two, so make check runs 157 trials;
 * NP_TABLE_TRIALS multiplies them
 * (make bench runs 20 times as many).
 */
void test_table_holds(void)
{
	static const struct { __u32 n, trials; } sizes[] = {
		{ 10, 50 }, { 85, 50 }, { 341, 30 }, { 2730, 20 },
		{ 10922, 5 }, { 43690, 2 },
	};
	const char *env_trials = getenv("NP_TABLE_TRIALS");
	__u32 mult = env_trials ? strtoul(env_trials, NULL, 10) : 1;
	struct bench_bare_bpf *bb = NULL;
	struct tprog t = {};
	struct frame f;
	__u64 total = 0;

	if (!mult)
		mult = 1;
	bb = bench_bare_bpf__open_and_load();
	if (!ASSERT_TRUE(bb, "bench_bare") || !tp_pin(0))
		goto out;
	/* bench_fresh rewrites the client's last two address bytes and
	 * port every repetition, then tail-calls the program under test
	 */
	mover_frame(&f, 1024);
	bb->bss->addr_off = ETH_IP_TCP - 20 + 12 + 2;
	bb->bss->port_off = ETH_IP_TCP;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct np_prog_opts o = { .max_flows = sizes[s].n };
		size_t flows_len, tags_len;
		void *flows = NULL, *tags = NULL;
		__u32 zero = 0, fd;
		int ncpu = libbpf_num_possible_cpus();

		if (!tp_load(&t, &o))
			goto out;
		if (!ASSERT_EQ((t.maps.n_slots - NP_FLOW_BUCKET) * 2 / 3,
			       sizes[s].n, "two thirds full at N flows"))
			goto out;
		flows_len = (size_t)t.maps.n_slots * ncpu * sizeof(struct np_flow);
		tags_len = (size_t)(t.maps.n_slots / NP_FLOW_BUCKET) * ncpu * 8;
		flows = map_rw(t.maps.flows, flows_len);
		tags = map_rw(bpf_map__fd(t.skel->maps.np_tags), tags_len);
		fd = bpf_program__fd(t.skel->progs.nbdpath_xdp);
		if (!ASSERT_TRUE(flows && tags, "mmap the table") ||
		    !ASSERT_OK(bpf_map_update_elem(
				bpf_map__fd(bb->maps.bench_next), &zero, &fd,
				BPF_ANY), "bench_next"))
			goto next;
		for (__u32 i = 0; i < sizes[s].trials * mult; i++) {
			LIBBPF_OPTS(bpf_test_run_opts, ro,
				    .data_in = f.data, .data_size_in = f.len,
				    .repeat = sizes[s].n);
			__u64 want[NP_STAT_MAX] = {};
			__u32 seq, held = 0;

			if (!table_empty(&t, flows, flows_len, tags, tags_len) ||
			    !ASSERT_OK(np_hkey_random(&t.skel->data->cfg.hkey),
				       "secret") ||
			    !ASSERT_TRUE(getrandom(&seq, sizeof(seq), 0) ==
					 sizeof(seq), "getrandom"))
				break;
			/* distinct keys: at most 4e9 of them from any start */
			bb->bss->seq = seq % 1000000000u;
			if (!tp_stats_delta(&t, want) ||
			    !ASSERT_OK(bpf_prog_test_run_opts(bpf_program__fd(
				bb->progs.bench_fresh), &ro), "test run") ||
			    !ASSERT_EQ(ro.retval, XDP_DROP, "action"))
				break;
			want[NP_STAT_PACKETS] = sizes[s].n;
			want[NP_STAT_MATCHED] = sizes[s].n;
			if (!tp_stats_delta(&t, want))
				break;
			for (size_t j = 0; j < (size_t)t.maps.n_slots * ncpu; j++)
				held += ((struct np_flow *)flows)[j].in_use;
			if (!ASSERT_EQ(held, sizes[s].n, "flows in slots"))
				break;
			total++;
		}
next:
		if (flows)
			munmap(flows, flows_len);
		if (tags)
			munmap(tags, tags_len);
		tp_close(&t);
	}
	printf("%llu trials, none lost a flow\n", (unsigned long long)total);
out:
	tp_close(&t);
	bench_bare_bpf__destroy(bb);
}
