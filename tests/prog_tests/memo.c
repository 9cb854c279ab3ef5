// SPDX-License-Identifier: GPL-2.0
/*
 * The memo of the last plain frame counted into each direction (struct
 * np_memo in bpf/nbdpath.bpf.c) against the steps, which never use it:
 * every frame of the script below goes untagged into one program, where
 * a plain frame with the bytes of its direction's last one is counted
 * from the memo, and with an 802.1Q tag into another. Both must land each
 * frame in the same outcome and leave the same counts. Each step changes
 * one thing the memo depends on, or nothing (the memo's own case).
 */
#include <sys/mman.h>

#include "test_progs.h"

#define PORT_A		CLIENT_PORT
#define PORT_B		(CLIENT_PORT + 1)

static const __u8 MAC_OTHER[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x07 };
static const __u8 MAC_X[4][6] = {
	{ 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 },
	{ 0x02, 0x00, 0x00, 0x00, 0x01, 0x02 },
	{ 0x02, 0x00, 0x00, 0x00, 0x01, 0x03 },
	{ 0x02, 0x00, 0x00, 0x00, 0x01, 0x04 },
};

enum memo_do {
	DO_FRAME,
	DO_PORTS_OTHER,		/* monitor port 903 only */
	DO_PORTS_NBD,		/* monitor 902 again */
	DO_EMPTY,		/* empty the table (not the CPU's scratch) */
	DO_COMPARE,		/* the flows of both, before they are gone */
};

struct memo_step {
	const char *what;
	enum memo_do act;
	bool rep;		/* from the server */
	__u16 port;		/* the client's */
	__u8 flags;		/* 0: ACK|PSH */
	__u32 payload;		/* DO_COMPARE: the number of flows */
	__s32 seq;		/* from the direction's next sequence number */
	const __u8 *server_mac;	/* the server side's MAC, if not the seed's */
	const __u8 *client_mac;	/* the client side's */
	__u64 clock_ms;		/* 0: as before */
	bool tagged_too;	/* tagged in the memo's program as well */
	bool zero_window;
};

#define SYN	FRAME_TH_SYN
#define SYNACK	(FRAME_TH_SYN | FRAME_TH_ACK)
#define ACK	FRAME_TH_ACK
#define FINACK	(FRAME_TH_FIN | FRAME_TH_ACK)

static const struct memo_step script[] = {
	{ "SYN", .port = PORT_A, .flags = SYN, .clock_ms = 1000 },
	{ "SYN-ACK", .rep = true, .port = PORT_A, .flags = SYNACK },
	{ "first ACK", .port = PORT_A, .flags = ACK },
	{ "request", .port = PORT_A, .payload = 100 },
	{ "request again in order", .port = PORT_A, .payload = 100 },
	{ "table emptied early", .act = DO_EMPTY },
	{ "the request after", .port = PORT_A, .payload = 100 },
	{ "and again", .port = PORT_A, .payload = 100 },
	{ "data", .rep = true, .port = PORT_A, .payload = 1448 },
	{ "data in order", .rep = true, .port = PORT_A, .payload = 1448 },
	{ "request between data", .port = PORT_A, .payload = 100 },
	{ "data after the request", .rep = true, .port = PORT_A,
	  .payload = 1448 },
	{ "data in the next tick", .rep = true, .port = PORT_A,
	  .payload = 1448, .clock_ms = 1001 },
	{ "data sent again", .rep = true, .port = PORT_A, .payload = 1448,
	  .seq = -1448 },
	{ "data past a gap", .rep = true, .port = PORT_A, .payload = 1448,
	  .seq = 1448 },
	{ "the gap's data", .rep = true, .port = PORT_A, .payload = 1448,
	  .seq = -2 * 1448 },
	{ "data after the filling", .rep = true, .port = PORT_A,
	  .payload = 1448, .seq = 1448 },
	{ "zero window", .rep = true, .port = PORT_A, .payload = 10,
	  .zero_window = true },
	{ "data from another server MAC", .rep = true, .port = PORT_A,
	  .payload = 1448, .server_mac = MAC_OTHER },
	{ "data from the first MAC again", .rep = true, .port = PORT_A,
	  .payload = 1448 },
	{ "and again", .rep = true, .port = PORT_A, .payload = 1448 },
	{ "a request with another client MAC", .port = PORT_A,
	  .payload = 100, .client_mac = MAC_OTHER },
	{ "the request's first MACs again", .port = PORT_A, .payload = 100 },
	{ "and again", .port = PORT_A, .payload = 100 },
	{ "a second flow's SYN", .port = PORT_B, .flags = SYN },
	{ "data of the first after the new flow", .rep = true,
	  .port = PORT_A, .payload = 1448 },
	{ "and again", .rep = true, .port = PORT_A, .payload = 1448 },
	{ "second flow SYN-ACK", .rep = true, .port = PORT_B, .flags = SYNACK },
	{ "second flow ACK", .port = PORT_B, .flags = ACK },
	{ "second flow request", .port = PORT_B, .payload = 64 },
	{ "first flow data", .rep = true, .port = PORT_A, .payload = 1448 },
	{ "second flow request again", .port = PORT_B, .payload = 64 },
	{ "first flow data again", .rep = true, .port = PORT_A,
	  .payload = 1448 },
	{ "ports changed", .act = DO_PORTS_OTHER },
	{ "data of a port no longer monitored", .rep = true,
	  .port = PORT_A, .payload = 1448 },
	{ "ports back", .act = DO_PORTS_NBD },
	{ "data under the ports again", .rep = true, .port = PORT_A,
	  .payload = 1448 },
	{ "and again", .rep = true, .port = PORT_A, .payload = 1448 },
	{ "the first flow's request", .port = PORT_A, .payload = 100 },
	{ "and again", .port = PORT_A, .payload = 100 },
	{ "a tagged request with another client MAC", .port = PORT_A,
	  .payload = 100, .client_mac = MAC_OTHER, .tagged_too = true },
	{ "the untagged request again", .port = PORT_A, .payload = 100 },
	{ "and again", .port = PORT_A, .payload = 100 },
	{ "data from a second server MAC", .rep = true, .port = PORT_A,
	  .payload = 1448, .server_mac = MAC_X[0] },
	{ "a third", .rep = true, .port = PORT_A, .payload = 1448,
	  .server_mac = MAC_X[1] },
	{ "past the MAC set", .rep = true, .port = PORT_A, .payload = 1448,
	  .server_mac = MAC_X[2] },
	{ "past it again", .rep = true, .port = PORT_A, .payload = 1448,
	  .server_mac = MAC_X[2] },
	{ "and again", .rep = true, .port = PORT_A, .payload = 1448,
	  .server_mac = MAC_X[2] },
	{ "the last in the set", .rep = true, .port = PORT_A,
	  .payload = 1448, .server_mac = MAC_X[1] },
	{ "and again", .rep = true, .port = PORT_A, .payload = 1448,
	  .server_mac = MAC_X[1] },
	{ "before the idle timeout", .act = DO_COMPARE, .payload = 2 },
	{ "data after the idle timeout", .rep = true, .port = PORT_A,
	  .payload = 1448, .clock_ms = 1001 + 301 * 1000 },
	{ "and again", .rep = true, .port = PORT_A, .payload = 1448 },
	{ "FIN", .port = PORT_A, .flags = FINACK },
	{ "data after the FIN", .rep = true, .port = PORT_A, .payload = 1448 },
	{ "FIN back", .rep = true, .port = PORT_A, .flags = FINACK },
	{ "the last ACK", .port = PORT_A, .flags = ACK },
	{ "and again", .port = PORT_A, .flags = ACK },
	{ "before the close timeout", .act = DO_COMPARE, .payload = 2 },
	{ "a frame after the close timeout", .port = PORT_A, .payload = 100,
	  .clock_ms = 1001 + 301 * 1000 + 61 * 1000 },
	{ "and again", .port = PORT_A, .payload = 100 },
	{ "before the table is emptied", .act = DO_COMPARE, .payload = 2 },
	{ "table emptied", .act = DO_EMPTY },
	{ "the frame again", .port = PORT_A, .payload = 100 },
	{ "and again", .port = PORT_A, .payload = 100 },
	{ "the new table's data", .rep = true, .port = PORT_A,
	  .payload = 1448 },
	{ "and again", .rep = true, .port = PORT_A, .payload = 1448 },
	{ "at the end", .act = DO_COMPARE, .payload = 1 },
};

#define N_STEPS (sizeof(script) / sizeof(script[0]))

/* The next sequence number of each direction of each client port. */
struct memo_seqs {
	__u32 next[2][2];
};

static struct seg memo_seg(const struct memo_step *s, struct memo_seqs *q,
			   bool tagged)
{
	__u32 *next = &q->next[s->port - PORT_A][s->rep];
	struct seg g = s->rep ? seed_rep(s->port, 0, s->payload) :
				seed_req(s->port, 0, s->payload);
	__u32 len = s->payload + !!(s->flags & (FRAME_TH_SYN | FRAME_TH_FIN));

	g.flags = s->flags ? s->flags : FRAME_TH_ACK | FRAME_TH_PSH;
	if (s->flags & FRAME_TH_SYN)
		*next = s->rep ? 5000000 : 1000;
	g.seq = *next + s->seq;
	/* the highest end seen: a segment sent again moves nothing on */
	if ((__s32)(g.seq + len - *next) > 0)
		*next = g.seq + len;
	g.zero_window = s->zero_window;
	if (s->server_mac)
		*(s->rep ? &g.smac : &g.dmac) = s->server_mac;
	if (s->client_mac)
		*(s->rep ? &g.dmac : &g.smac) = s->client_mac;
	if (tagged) {
		g.n_tags = 1;
		g.tpid[0] = FRAME_ETH_P_8021Q;
		g.vid[0] = 28;
	}
	return g;
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

/* Zero t's flow table and tags as an outside writer would (mmap). */
static bool memo_empty(struct tprog *t)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t flows_len = (size_t)t->maps.n_slots * ncpu * sizeof(struct np_flow);
	size_t tags_len = (size_t)(t->maps.n_slots / NP_FLOW_BUCKET) * ncpu * 8;
	void *flows, *tags;
	bool ok;

	flows = mmap(NULL, flows_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		     t->maps.flows, 0);
	tags = mmap(NULL, tags_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		    bpf_map__fd(t->skel->maps.np_tags), 0);
	ok = ASSERT_TRUE(flows != MAP_FAILED && tags != MAP_FAILED,
			 "mmap the table");
	if (ok) {
		memset(flows, 0, flows_len);
		memset(tags, 0, tags_len);
	}
	if (flows != MAP_FAILED)
		munmap(flows, flows_len);
	if (tags != MAP_FAILED)
		munmap(tags, tags_len);
	return ok;
}

static bool memo_same_flows(struct tprog *a, struct tprog *b, size_t n);

/* One step into both programs: the same outcome in each. */
static bool memo_run(struct tprog *a, struct tprog *b,
		     const struct memo_step *s, struct memo_seqs *q)
{
	static const __u16 other = NBD_PORT + 1, nbd = NBD_PORT;
	__u64 a0[NP_STAT_MAX], a1[NP_STAT_MAX], b0[NP_STAT_MAX],
	      b1[NP_STAT_MAX];
	struct memo_seqs qb = *q;
	struct frame f;
	struct seg g;

	switch (s->act) {
	case DO_PORTS_OTHER:
	case DO_PORTS_NBD:
		np_prog_set_ports(a->skel, s->act == DO_PORTS_OTHER ? &other :
					   &nbd, 1);
		np_prog_set_ports(b->skel, s->act == DO_PORTS_OTHER ? &other :
					   &nbd, 1);
		return true;
	case DO_EMPTY:
		return memo_empty(a) && memo_empty(b);
	case DO_COMPARE:
		return memo_same_flows(a, b, s->payload);
	case DO_FRAME:
		break;
	}
	if (s->clock_ms) {
		tp_set_clock(a, s->clock_ms * 1000000);
		tp_set_clock(b, s->clock_ms * 1000000);
	}
	if (!ASSERT_OK(np_read_stats(a->maps.stats, a0), "stats") ||
	    !ASSERT_OK(np_read_stats(b->maps.stats, b0), "stats"))
		return false;
	g = memo_seg(s, q, s->tagged_too);
	frame_seg(&f, &g);
	if (!tp_run(a, &f, 0))
		return false;
	g = memo_seg(s, &qb, true);
	frame_seg(&f, &g);
	if (!tp_run(b, &f, 0))
		return false;
	if (!ASSERT_OK(np_read_stats(a->maps.stats, a1), "stats") ||
	    !ASSERT_OK(np_read_stats(b->maps.stats, b1), "stats"))
		return false;
	for (int j = 0; j < NP_STAT_MAX; j++)
		if (j != NP_STAT_VLAN &&
		    !ASSERT_EQ(a1[j] - a0[j], b1[j] - b0[j], s->what))
			return false;
	return true;
}

/* Every flow of a is in b, with the same counts in both directions. */
static bool memo_same_flows(struct tprog *a, struct tprog *b, size_t n)
{
	if (!tp_read(a) || !tp_read(b))
		return false;
	if (!ASSERT_EQ(a->flows.n, n, "flows") ||
	    !ASSERT_EQ(b->flows.n, n, "flows"))
		return false;
	for (size_t i = 0; i < a->flows.n; i++) {
		const struct np_flow_rec *ra = &a->flows.v[i], *rb = NULL;

		for (size_t j = 0; j < b->flows.n; j++)
			if (!memcmp(&b->flows.v[j].key, &ra->key,
				    sizeof(ra->key)))
				rb = &b->flows.v[j];
		if (!ASSERT_TRUE(rb, "the same flow with a tag"))
			return false;
		for (int d = 0; d < 2; d++) {
			struct np_dir da = untag(&ra->dir[d]);
			struct np_dir db = untag(&rb->dir[d]);

			if (!ASSERT_MEMEQ(&da, &db, sizeof(da),
					  "the direction's counts"))
				return false;
		}
	}
	return true;
}

void test_memo_frame_as_steps(void)
{
	struct memo_seqs q = {};
	struct tprog a, b;

	/* one CPU: one scratch, so each frame meets the memo of the last */
	if (!tp_pin(0) || !tp_load(&a, NULL) || !tp_load(&b, NULL))
		goto out;
	for (size_t i = 0; i < N_STEPS; i++)
		if (!memo_run(&a, &b, &script[i], &q))
			goto out;
out:
	tp_close(&b);
	tp_close(&a);
}
