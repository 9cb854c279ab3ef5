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
 * A backup appliance opens many connections to one host, one per disk:
 * keys that differ only in the client port must spread over the table,
 * not queue up in one bucket of 8.
 */
void test_table_spread(void)
{
	struct np_prog_opts o = { .max_flows = 64 };
	__u64 want[NP_STAT_MAX] = {};
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
out:
	tp_close(&t);
}

struct retired {
	int n;
	struct np_flow_rec rec[4];
};

static void on_retire(const struct np_flow_rec *r, void *ctx)
{
	struct retired *x = ctx;

	if (x->n < 4)
		x->rec[x->n] = *r;
	x->n++;
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
void test_idle_reclaim(void)
{
	struct np_prog_opts o = { .max_flows = MAX_FLOWS_MIN, .idle_sec = 300 };
	__u64 want[NP_STAT_MAX] = {};
	struct retired ret = {};
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
	if (!tp_read_retire(&t, on_retire, &ret) ||
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
	if (!tp_read_retire(&t, on_retire, &ret) ||
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
	if (!tp_read_retire(&t, on_retire, &ret))
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
	if (!tp_read_retire(&t, on_retire, &ret) ||
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
void test_closed_reclaim(void)
{
	struct np_prog_opts o = { .max_flows = MAX_FLOWS_MIN, .idle_sec = 300,
				  .closed_sec = 5 };
	__u64 want[NP_STAT_MAX] = {};
	struct retired ret = {};
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
	if (!tp_read_retire(&t, on_retire, &ret))
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
	if (!tp_read_retire(&t, on_retire, &ret) ||
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

struct retire_log {
	int n;
	struct np_flow_rec rec[8];
};

static void log_retire(const struct np_flow_rec *r, void *ctx)
{
	struct retire_log *l = ctx;

	if (l->n < 8)
		l->rec[l->n] = *r;
	l->n++;
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
	struct retire_log la = {}, lb = {};
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
		if (!tp_read_retire(&t, log_retire, &la) ||
		    !ASSERT_OK(np_flowtab_read(&tab, &set, log_retire, &lb),
			       "np_flowtab_read (read-only)"))
			goto out;
		if (!ASSERT_EQ(set.n, t.flows.n, "flows") ||
		    !ASSERT_TRUE(!memcmp(set.v, t.flows.v,
					 set.n * sizeof(set.v[0])),
				 "the same flows, in the same order") ||
		    !ASSERT_EQ(lb.n, la.n, "retired") ||
		    !ASSERT_TRUE(!memcmp(lb.rec, la.rec,
					 (la.n < 8 ? la.n : 8) * sizeof(la.rec[0])),
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
