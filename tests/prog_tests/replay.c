// SPDX-License-Identifier: GPL-2.0
/*
 * Replay against the program itself: the frames of a capture run through
 * np_replay_file() and one by one through BPF_PROG_TEST_RUN must leave the
 * same flows and counters; what the program reclaims in capture time must
 * reach the retired map; odd files must fail (or warn) as documented.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>

#include "test_progs.h"
#include "replay.h"
#include "report.h"

#define T0		(SEED_UNIX0 * 1000000000ull)
#define MS		1000000ull
#define MAX_FRAMES	160

struct capture {
	struct frame f[MAX_FRAMES];
	__u32 caplen[MAX_FRAMES];	/* 0: the whole frame */
	__u64 ts[MAX_FRAMES];
	int n;
	char path[64];
};

static struct frame *cap_next(struct capture *c, __u64 ts, __u32 caplen)
{
	if (!ASSERT_TRUE(c->n < MAX_FRAMES, "room for a frame"))
		return NULL;
	c->ts[c->n] = ts;
	c->caplen[c->n] = caplen;
	frame_init(&c->f[c->n]);
	return &c->f[c->n++];
}

static bool cap_seg(struct capture *c, __u64 ts, __u32 caplen,
		    const struct seg *s)
{
	struct frame *f = cap_next(c, ts, caplen);

	if (!f)
		return false;
	frame_seg(f, s);
	return true;
}

/* A session of the seed: requests to vmk0 via the router, data by vmk4. */
static bool cap_session(struct capture *c, __u64 *ts, const char *client,
			__u16 cport, __u32 reply, bool v6)
{
	struct seg to = {
		.dmac = MAC_VMK0, .smac = MAC_GW,
		.saddr = v6 ? IP6_RUBRIK : client, .daddr = v6 ? IP6_ESX : IP_ESX,
		.sport = cport, .dport = NBD_PORT, .v6 = v6,
		.n_tags = 1, .tpid = { FRAME_ETH_P_8021Q }, .vid = { 10 },
	};
	struct seg from = {
		.dmac = MAC_RUBRIK, .smac = MAC_VMK4,
		.saddr = to.daddr, .daddr = to.saddr,
		.sport = NBD_PORT, .dport = cport, .v6 = v6,
		.n_tags = 1, .tpid = { FRAME_ETH_P_8021Q }, .vid = { 28 },
	};
	bool ok = true;

	to.flags = FRAME_TH_SYN;
	ok &= cap_seg(c, *ts += MS, 0, &to);
	from.flags = FRAME_TH_SYN | FRAME_TH_ACK;
	ok &= cap_seg(c, *ts += MS, 0, &from);
	to.flags = FRAME_TH_ACK | FRAME_TH_PSH;
	to.payload = 64;
	ok &= cap_seg(c, *ts += MS, 0, &to);
	from.flags = FRAME_TH_ACK;
	from.payload = reply;
	ok &= cap_seg(c, *ts += MS, 0, &from);
	ok &= cap_seg(c, *ts += MS, 0, &from);
	to.flags = FRAME_TH_FIN | FRAME_TH_ACK;
	to.payload = 0;
	ok &= cap_seg(c, *ts += MS, 0, &to);
	from.flags = FRAME_TH_FIN | FRAME_TH_ACK;
	from.payload = 0;
	ok &= cap_seg(c, *ts += MS, 0, &from);
	return ok;
}

/* Every kind of frame replay must pass on as the program would see it. */
static bool cap_mixed(struct capture *c)
{
	struct seg s = {
		.dmac = MAC_VMK0, .smac = MAC_GW, .saddr = IP_RUBRIK2,
		.daddr = IP_ESX, .sport = 40001, .dport = NBD_PORT,
		.flags = FRAME_TH_ACK, .payload = 1000,
	};
	__u64 ts = T0;
	struct frame *f;
	bool ok = true;

	ok &= cap_session(c, &ts, IP_RUBRIK, CLIENT_PORT, 1448, false);
	ok &= cap_session(c, &ts, IP_RUBRIK, CLIENT_PORT + 1, 1448, true);
	/* jumbo replies: more than a page, so the kernel makes frags */
	ok &= cap_session(c, &ts, IP_RUBRIK, CLIENT_PORT + 2, 8948, false);

	/* by ERSPAN II, session 7 */
	f = cap_next(c, ts += MS, 0);
	if (!f)
		return false;
	frame_eth(f, MAC_MIRROR_DST, MAC_MIRROR_SRC);
	frame_ipv4(f, &(struct frame_ip4){ .saddr = IP_MIRROR_SRC,
					   .daddr = IP_MIRROR_DST });
	frame_gre(f, &(struct frame_gre){ .flags = FRAME_GRE_S, .seq = 1 });
	frame_erspan2(f, &(struct frame_erspan2){ .session = 7 });
	frame_seg_inner(f, &s);
	frame_end(f);

	/* a mirror's 60-byte cut of a full-size segment */
	s.payload = 1448;
	ok &= cap_seg(c, ts += MS, 60, &s);
	/* cut before the ports: truncated */
	ok &= cap_seg(c, ts += MS, 36, &s);
	/* a runt the kernel refuses */
	ok &= cap_seg(c, ts += MS, 10, &s);
	/* data offset 3: malformed */
	s.doff = 3;
	s.payload = 0;
	ok &= cap_seg(c, ts += MS, 0, &s);
	/* another port */
	s.doff = 0;
	s.dport = 443;
	ok &= cap_seg(c, ts += MS, 0, &s);

	/* vmk4 announces its address */
	f = cap_next(c, ts += MS, 0);
	if (!f)
		return false;
	arp_vmk4(f);
	return ok;
}

static bool cap_write(struct capture *c)
{
	FILE *fp;
	int fd, err = 0;

	snprintf(c->path, sizeof(c->path), "/tmp/np-replay-XXXXXX");
	fd = mkstemp(c->path);
	if (!ASSERT_TRUE(fd >= 0, "mkstemp"))
		return false;
	close(fd);
	fp = frame_pcap_open(c->path);
	if (!ASSERT_TRUE(fp, "frame_pcap_open"))
		return false;
	for (int i = 0; i < c->n && !err; i++)
		err = frame_pcap_write(fp, &c->f[i], c->caplen[i], c->ts[i]);
	if (fclose(fp))
		err = -1;
	return ASSERT_OK(err, "write the capture");
}

static void cap_remove(struct capture *c)
{
	if (c->path[0])
		unlink(c->path);
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct np_flow_rec *)a)->key,
		      &((const struct np_flow_rec *)b)->key,
		      sizeof(struct np_flow_key));
}

static bool same_flows(struct np_flowset *a, struct np_flowset *b)
{
	char what[64];

	qsort(a->v, a->n, sizeof(a->v[0]), key_cmp);
	qsort(b->v, b->n, sizeof(b->v[0]), key_cmp);
	if (!ASSERT_EQ(a->n, b->n, "flows"))
		return false;
	for (size_t i = 0; i < a->n; i++) {
		snprintf(what, sizeof(what), "flow %zu key", i);
		if (!ASSERT_MEMEQ(&a->v[i].key, &b->v[i].key,
				  sizeof(a->v[i].key), what))
			return false;
		for (int d = 0; d < 2; d++) {
			snprintf(what, sizeof(what), "flow %zu dir %d packets",
				 i, d);
			if (!ASSERT_EQ(np_dir_packets(&a->v[i].dir[d]),
				       np_dir_packets(&b->v[i].dir[d]), what))
				return false;
			snprintf(what, sizeof(what), "flow %zu dir %d", i, d);
			if (!ASSERT_MEMEQ(&a->v[i].dir[d], &b->v[i].dir[d],
					  sizeof(struct np_dir), what))
				return false;
		}
	}
	return true;
}

/*
 * c through replay and frame by frame, both on CPU 0 (each slot then
 * holds a whole flow): the same flows and the same counters, the runts
 * counted by hand on the direct side as replay does. want: the counters.
 * The caller frees res and destroys *skel.
 */
static bool replay_as_test_run(struct capture *c, const struct np_prog_opts *po,
			       struct np_replay_result *res,
			       struct nbdpath_bpf **skel, __u64 *want)
{
	__u64 rs[NP_STAT_MAX];
	struct tprog t = {};
	struct np_maps m;
	bool ok = false;
	int err;

	__u64 ts_min = c->ts[0], ts_max = c->ts[0];

	for (int i = 1; i < c->n; i++) {
		ts_min = c->ts[i] < ts_min ? c->ts[i] : ts_min;
		ts_max = c->ts[i] > ts_max ? c->ts[i] : ts_max;
	}
	if (!cap_write(c) || !tp_pin(0) || !tp_load(&t, po))
		goto out;
	memset(t.stats, 0, sizeof(t.stats));
	for (int i = 0; i < c->n; i++) {
		__u32 len = c->caplen[i] ? c->caplen[i] : c->f[i].len;
		__u32 ret;

		if (len < 14) {
			t.stats[NP_STAT_PACKETS]++;
			t.stats[NP_STAT_TRUNCATED]++;
			continue;
		}
		tp_set_clock(&t, c->ts[i]);
		if (!ASSERT_OK(tp_run_raw(&t, c->f[i].data, len, &ret),
			       "bpf_prog_test_run_opts"))
			goto out;
	}
	if (!tp_read(&t))
		goto out;
	if (!ASSERT_OK(np_read_stats(t.maps.stats, want), "np_read_stats"))
		goto out;
	for (int i = 0; i < NP_STAT_MAX; i++)
		want[i] += t.stats[i];

	err = np_replay_file(c->path, po, skel, res);
	if (!ASSERT_OK(err, "np_replay_file"))
		goto out;
	ok = ASSERT_EQ(res->frames, (__u64)c->n, "frames");
	ok &= ASSERT_EQ(res->truncated, false, "truncated");
	ok &= ASSERT_EQ(res->first_ns, ts_min, "first_ns");
	ok &= ASSERT_EQ(res->last_ns, ts_max, "last_ns");
	np_prog_maps(*skel, &m);
	if (!ASSERT_OK(np_read_stats(m.stats, rs), "np_read_stats")) {
		ok = false;
		goto out;
	}
	for (int i = 0; i < NP_STAT_MAX; i++) {
		char name[48];

		snprintf(name, sizeof(name), "stats.%s", np_stat_names[i]);
		ok &= ASSERT_EQ(rs[i] + res->extra_stats[i], want[i], name);
	}
	ok &= ASSERT_EQ(want[NP_STAT_PACKETS], (__u64)c->n,
			"every frame counted");
	ok &= same_flows(&res->flows, &t.flows);
out:
	tp_close(&t);
	return ok;
}

/* The mixed capture through replay and frame by frame. */
void test_replay_same_as_test_run(void)
{
	static struct capture c;
	struct np_prog_opts po = { .max_flows = 64 };
	struct np_replay_result res = {};
	struct nbdpath_bpf *skel = NULL;
	__u64 want[NP_STAT_MAX];

	c.n = 0;
	c.path[0] = 0;
	if (!cap_mixed(&c) ||
	    !replay_as_test_run(&c, &po, &res, &skel, want))
		goto out;
	ASSERT_EQ(want[NP_STAT_TRUNCATED], 2, "truncated frames");
	ASSERT_EQ(want[NP_STAT_MALFORMED], 1, "malformed frames");
	ASSERT_EQ(want[NP_STAT_OTHER_PORT], 1, "other_port frames");
	ASSERT_EQ(res.flows.n, 4, "flows: seed, IPv6, jumbo, ERSPAN");
out:
	np_replay_result_free(&res);
	nbdpath_bpf__destroy(skel);
	cap_remove(&c);
}

/*
 * Frames go several to a call while they fit in what the kernel keeps
 * linear of a page (4096 - 768 = 3328 bytes here) and number at most
 * NP_REPLAY_BATCH; a larger frame goes alone, after those before it.
 * 70 requests of 100 bytes (32 of them TCP header with timestamps):
 * calls of 33, 33 and 4; a 9000-byte reply
 * alone; 65 ARP replies of 42 bytes: 64 (the most a call takes), then 1.
 */
void test_replay_batches(void)
{
	static struct capture c;
	struct np_prog_opts po = { .max_flows = 64 };
	struct np_replay_result res = {};
	struct nbdpath_bpf *skel = NULL;
	struct seg req = seed_req(CLIENT_PORT, FRAME_TH_ACK, 34);
	struct seg rep = seed_rep(CLIENT_PORT, FRAME_TH_ACK, 8934);
	const struct np_flow_rec *r;
	__u64 want[NP_STAT_MAX], ts = T0;
	struct want_dir w;
	bool ok = true;
	struct frame *f;

	if (sysconf(_SC_PAGESIZE) != 4096) {
		test__skip("the batch sizes below are for 4 KiB pages");
		return;
	}
	c.n = 0;
	c.path[0] = 0;
	for (int i = 0; i < 70; i++)
		ok &= cap_seg(&c, ts += MS, 0, &req);
	ok &= cap_seg(&c, ts += MS, 0, &rep);
	for (int i = 0; ok && i < 65; i++) {
		f = cap_next(&c, ts += MS, 0);
		if (!f)
			goto out;
		arp_vmk4(f);
	}
	if (!ok || !ASSERT_EQ(c.f[0].len, 100, "request frame") ||
	    !ASSERT_EQ(c.f[70].len, 9000, "reply frame") ||
	    !ASSERT_EQ(c.f[71].len, 42, "ARP frame"))
		goto out;
	if (!replay_as_test_run(&c, &po, &res, &skel, want))
		goto out;
	ASSERT_EQ(res.calls, 6, "test-run calls");
	ASSERT_EQ(res.batched, 135, "frames in batches");
	ASSERT_EQ(want[NP_STAT_MATCHED], 71, "matched");
	ASSERT_EQ(want[NP_STAT_NOT_IP], 65, "not_ip");
	ASSERT_EQ(want[NP_STAT_NEIGH], 65, "neigh");
	if (!ASSERT_EQ(res.flows.n, 1, "flows"))
		goto out;
	r = &res.flows.v[0];
	w = want_plain(NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0, 70, 70 * 86,
		       70 * 34, FRAME_TH_ACK);
	w.first_ns = T0 + MS;
	w.last_ns = T0 + 70 * MS;
	tp_dir(&r->dir[NP_DIR_TO_SERVER], &w, "requests");
	w = want_plain(NP_DIR_FROM_SERVER, MAC_VMK4, MAC_RUBRIK, 1, 8986,
		       8934, FRAME_TH_ACK);
	w.first_ns = w.last_ns = T0 + 71 * MS;
	tp_dir(&r->dir[NP_DIR_FROM_SERVER], &w, "reply");
out:
	np_replay_result_free(&res);
	nbdpath_bpf__destroy(skel);
	cap_remove(&c);
}

/*
 * A capture merged from several (mergecap -a, or queues) may step back
 * in time: first and last seen are the earliest and latest frames, not
 * the first and last in the file.
 */
void test_replay_out_of_order(void)
{
	static const __u64 at[5] = { 3, 1, 4, 0, 2 };	/* ms after T0 */
	static struct capture c;
	struct np_prog_opts po = { .max_flows = 64 };
	struct np_replay_result res = {};
	struct nbdpath_bpf *skel = NULL;
	struct seg req = seed_req(CLIENT_PORT, FRAME_TH_ACK, 100);
	struct seg rep = seed_rep(CLIENT_PORT, FRAME_TH_ACK, 1000);
	const struct np_flow_rec *r;
	__u64 want[NP_STAT_MAX];
	bool ok = true;

	c.n = 0;
	c.path[0] = 0;
	for (int i = 0; i < 5; i++)
		ok &= cap_seg(&c, T0 + at[i] * MS, 0, i == 4 ? &rep : &req);
	if (!ok)
		goto out;
	if (!replay_as_test_run(&c, &po, &res, &skel, want))
		goto out;
	ASSERT_EQ(res.first_ns, T0, "earliest frame");
	ASSERT_EQ(res.last_ns, T0 + 4 * MS, "latest frame");
	if (!ASSERT_EQ(res.flows.n, 1, "flows"))
		goto out;
	r = &res.flows.v[0];
	ASSERT_EQ(r->dir[NP_DIR_TO_SERVER].first_ns, T0, "to_server first");
	ASSERT_EQ(r->dir[NP_DIR_TO_SERVER].last_ns, T0 + 4 * MS,
		  "to_server last");
	ASSERT_EQ(r->dir[NP_DIR_FROM_SERVER].first_ns, T0 + 2 * MS,
		  "from_server first");
	ASSERT_EQ(r->dir[NP_DIR_FROM_SERVER].last_ns, T0 + 2 * MS,
		  "from_server last");
	ASSERT_EQ(np_dir_packets(&r->dir[NP_DIR_TO_SERVER]), 4,
		  "to_server packets");
out:
	np_replay_result_free(&res);
	nbdpath_bpf__destroy(skel);
	cap_remove(&c);
}

struct retired_sum {
	__u64 packets[2];
	__u64 bytes[2];
};

static bool sum_retired(int fd, struct retired_sum *s)
{
	struct np_retired_key k, next;
	struct np_retired v;
	void *prev = NULL;

	memset(s, 0, sizeof(*s));
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (!ASSERT_OK(bpf_map_lookup_elem(fd, &next, &v), "retired"))
			return false;
		if (next.dir < 2) {
			s->packets[next.dir] += v.packets;
			s->bytes[next.dir] += v.bytes;
		}
		k = next;
		prev = &k;
	}
	return true;
}

/*
 * N flows, then N others 400 s later in capture time (past the 300 s
 * idle timeout) in the smallest table, N slots: the program reclaims
 * every slot of the first batch, and replay must have read their counts
 * first, so that table plus retired map still hold every packet.
 */
void test_replay_idle_expiry(void)
{
	static struct capture c;
	/* 5 flows x 1.5 slots: the minimum table, two buckets and the stash */
	struct np_prog_opts po = { .max_flows = 5 };
	const int n = NP_FLOW_MIN_SLOTS;
	struct np_replay_result res = {};
	struct nbdpath_bpf *skel = NULL;
	struct retired_sum rt;
	struct np_meta meta;
	__u64 st[NP_STAT_MAX], live[2] = {};
	__u32 zero = 0;
	__u64 ts = T0;
	struct np_maps m;
	char client[32];
	__u32 hdrs = 0;
	int err;

	c.n = 0;
	c.path[0] = 0;
	for (int batch = 0; batch < 2; batch++) {
		for (int i = 0; i < n; i++) {
			struct seg s = {
				.dmac = MAC_VMK0, .smac = MAC_GW,
				.daddr = IP_ESX, .sport = 40000 + i,
				.dport = NBD_PORT, .flags = FRAME_TH_SYN,
			};

			snprintf(client, sizeof(client), "10.0.%d.%d",
				 28 + batch, 50 + i);
			s.saddr = client;
			hdrs = seg_hdrs(&s);
			if (!cap_seg(&c, ts += MS, 0, &s))
				goto out;
			s.flags = FRAME_TH_ACK;
			s.payload = 100;
			if (!cap_seg(&c, ts += MS, 0, &s))
				goto out;
		}
		ts += 400 * 1000000000ull;
	}
	if (!cap_write(&c))
		goto out;

	err = np_replay_file(c.path, &po, &skel, &res);
	if (!ASSERT_OK(err, "np_replay_file"))
		goto out;
	np_prog_maps(skel, &m);
	if (!ASSERT_OK(np_read_stats(m.stats, st), "np_read_stats"))
		goto out;
	ASSERT_EQ(st[NP_STAT_MATCHED], 4 * n, "matched");
	ASSERT_EQ(st[NP_STAT_RECLAIMED], n, "reclaimed");
	ASSERT_EQ(st[NP_STAT_TABLE_FULL], 0, "table_full");
	ASSERT_TRUE(res.reads >= 2, "a read before the second batch");
	ASSERT_EQ(res.flows.n, n, "flows left in the table");
	for (size_t i = 0; i < res.flows.n; i++)
		for (int d = 0; d < 2; d++)
			live[d] += np_dir_packets(&res.flows.v[i].dir[d]);
	if (!sum_retired(m.retired, &rt))
		goto out;
	ASSERT_EQ(rt.packets[NP_DIR_TO_SERVER], 2 * n,
		  "retired to_server packets");
	/* per flow: a bare SYN and a segment of 100 bytes */
	ASSERT_EQ(rt.bytes[NP_DIR_TO_SERVER], n * (2 * hdrs + 100),
		  "retired to_server bytes");
	ASSERT_EQ(live[NP_DIR_TO_SERVER] + rt.packets[NP_DIR_TO_SERVER], 4 * n,
		  "every packet in table or retired");
	if (!ASSERT_OK(bpf_map_lookup_elem(m.meta, &zero, &meta), "np_meta"))
		goto out;
	ASSERT_EQ(meta.flows_evicted, n, "flows_evicted");
	ASSERT_EQ(meta.clock, NP_CLOCK_REALTIME, "meta clock");
out:
	np_replay_result_free(&res);
	nbdpath_bpf__destroy(skel);
	cap_remove(&c);
}

/*
 * The capture's clock steps back (two captures merged in the wrong order,
 * an NTP step): GROUP flows at T0 + 2000 s, GROUP at T0, GROUP at
 * T0 + 400 s, each a SYN and a 100-byte segment, in the smallest table
 * (2 * GROUP slots: two buckets and the stash). The last group reclaims
 * the slots of the one at T0, idle by then in their own time, before the
 * latest capture time moves: replay must have read them first, so table
 * plus retired map still hold every packet, and each flow its own times.
 */
#define GROUP	(NP_FLOW_MIN_SLOTS / 2)

void test_replay_clock_steps_back(void)
{
	static const __u64 at[3] = { 2000, 0, 400 };	/* s after T0 */
	static struct capture c;
	struct np_prog_opts po = { .max_flows = 5 };
	struct np_replay_result res = {};
	struct nbdpath_bpf *skel = NULL;
	struct retired_sum rt;
	__u64 st[NP_STAT_MAX], live = 0;
	struct np_maps m;
	char client[32];
	int err;

	c.n = 0;
	c.path[0] = 0;
	for (int g = 0; g < 3; g++) {
		__u64 ts = T0 + at[g] * 1000000000ull;

		for (int i = 0; i < GROUP; i++) {
			struct seg s = {
				.dmac = MAC_VMK0, .smac = MAC_GW,
				.daddr = IP_ESX, .sport = 40000 + i,
				.dport = NBD_PORT, .flags = FRAME_TH_SYN,
			};

			snprintf(client, sizeof(client), "10.0.%d.%d",
				 30 + g, 50 + i);
			s.saddr = client;
			if (!cap_seg(&c, ts += MS, 0, &s))
				goto out;
			s.flags = FRAME_TH_ACK;
			s.payload = 100;
			if (!cap_seg(&c, ts += MS, 0, &s))
				goto out;
		}
	}
	if (!cap_write(&c))
		goto out;

	err = np_replay_file(c.path, &po, &skel, &res);
	if (!ASSERT_OK(err, "np_replay_file"))
		goto out;
	ASSERT_EQ(res.first_ns, T0 + MS, "earliest frame");
	ASSERT_EQ(res.last_ns, T0 + 2000000000000ull + 2 * GROUP * MS,
		  "latest frame");
	np_prog_maps(skel, &m);
	if (!ASSERT_OK(np_read_stats(m.stats, st), "np_read_stats"))
		goto out;
	ASSERT_EQ(st[NP_STAT_MATCHED], 6 * GROUP, "matched");
	ASSERT_EQ(st[NP_STAT_RECLAIMED], GROUP, "reclaimed");
	ASSERT_EQ(st[NP_STAT_TABLE_FULL], 0, "table_full");
	ASSERT_EQ(res.flows.n, 2 * GROUP, "flows left in the table");
	for (size_t i = 0; i < res.flows.n; i++) {
		const struct np_dir *d = &res.flows.v[i].dir[NP_DIR_TO_SERVER];
		/* client 10.0.3x.5y: group x, flow y */
		int g = res.flows.v[i].key.client_ip[14] - 30;
		int k = res.flows.v[i].key.client_ip[15] - 50;
		__u64 t = T0 + at[g] * 1000000000ull + (2 * k + 1) * MS;

		live += np_dir_packets(d);
		ASSERT_TRUE(g == 0 || g == 2, "left in the table: the later groups");
		ASSERT_EQ(d->first_ns, t, "a flow's first seen");
		ASSERT_EQ(d->last_ns, t + MS, "a flow's last seen");
	}
	if (!sum_retired(m.retired, &rt))
		goto out;
	ASSERT_EQ(rt.packets[NP_DIR_TO_SERVER], 2 * GROUP,
		  "retired: the T0 group");
	ASSERT_EQ(live + rt.packets[NP_DIR_TO_SERVER], 6 * GROUP,
		  "every packet in table or retired");
out:
	np_replay_result_free(&res);
	nbdpath_bpf__destroy(skel);
	cap_remove(&c);
}

/* A capture whose last record ends early: what it holds, and a flag. */
void test_replay_cut_short(void)
{
	static struct capture c;
	struct np_prog_opts po = { .max_flows = 64 };
	struct np_replay_result res = {};
	struct nbdpath_bpf *skel = NULL;
	__u64 ts = T0;
	struct stat st;
	int err;

	c.n = 0;
	c.path[0] = 0;
	if (!cap_session(&c, &ts, IP_RUBRIK, CLIENT_PORT, 1448, false) ||
	    !cap_write(&c))
		goto out;
	/* the last frame is a 70-byte FIN: cut it in the middle */
	if (!ASSERT_OK(stat(c.path, &st), "stat") ||
	    !ASSERT_OK(truncate(c.path, st.st_size - 29), "truncate"))
		goto out;
	err = np_replay_file(c.path, &po, &skel, &res);
	if (!ASSERT_OK(err, "np_replay_file"))
		goto out;
	ASSERT_EQ(res.truncated, true, "truncated");
	ASSERT_EQ(res.frames, (__u64)c.n - 1, "frames before the cut");
	if (ASSERT_EQ(res.flows.n, 1, "flows")) {
		ASSERT_EQ(np_dir_packets(&res.flows.v[0].dir[0]), 3, "to_server");
		ASSERT_EQ(np_dir_packets(&res.flows.v[0].dir[1]), 3,
			  "from_server without the FIN");
	}
out:
	np_replay_result_free(&res);
	nbdpath_bpf__destroy(skel);
	cap_remove(&c);
}

static bool write_file(char *path, size_t n, const void *data, size_t len)
{
	FILE *fp;
	int fd;

	snprintf(path, n, "/tmp/np-replay-XXXXXX");
	fd = mkstemp(path);
	if (!ASSERT_TRUE(fd >= 0, "mkstemp"))
		return false;
	fp = fdopen(fd, "wb");
	if (!ASSERT_TRUE(fp, "fdopen")) {
		close(fd);
		return false;
	}
	if (len && fwrite(data, len, 1, fp) != 1) {
		fclose(fp);
		return ASSERT_TRUE(false, "write");
	}
	return ASSERT_OK(fclose(fp), "fclose");
}

/* Input the engine refuses before loading anything: the file's fault. */
void test_replay_bad_input(void)
{
	/* a pcap header of link type 113, Linux cooked (SLL) */
	static const __u32 sll[6] = { 0xa1b2c3d4, 2 | 4 << 16, 0, 0, 65535, 113 };
	static const char text[] = "this is not a capture\n";
	struct np_prog_opts po = { .max_flows = 64 };
	struct np_replay_result res;
	struct nbdpath_bpf *skel = NULL;
	char path[64] = "";
	int err;

	if (!write_file(path, sizeof(path), sll, sizeof(sll)))
		goto out;
	err = np_replay_file(path, &po, &skel, &res);
	ASSERT_TRUE(err < 0, "cooked capture refused");
	ASSERT_TRUE(res.input_error, "cooked capture: the file's fault");
	ASSERT_TRUE(!skel, "nothing loaded");
	np_replay_result_free(&res);
	unlink(path);

	if (!write_file(path, sizeof(path), text, sizeof(text) - 1))
		goto out;
	err = np_replay_file(path, &po, &skel, &res);
	ASSERT_TRUE(err < 0, "text refused");
	ASSERT_TRUE(res.input_error, "text: the file's fault");
	np_replay_result_free(&res);
	unlink(path);

	if (!write_file(path, sizeof(path), NULL, 0))
		goto out;
	err = np_replay_file(path, &po, &skel, &res);
	ASSERT_TRUE(err < 0, "empty file refused");
	ASSERT_TRUE(res.input_error, "empty file: the file's fault");
	np_replay_result_free(&res);
	unlink(path);

	err = np_replay_file(path, &po, &skel, &res);
	ASSERT_EQ(err, -ENOENT, "missing file");
	ASSERT_TRUE(res.input_error, "missing file: the file's fault");
	np_replay_result_free(&res);
	path[0] = 0;
out:
	nbdpath_bpf__destroy(skel);
	if (path[0])
		unlink(path);
}
