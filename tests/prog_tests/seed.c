// SPDX-License-Identifier: GPL-2.0
/*
 * The seed write-up's session and its controls: one NBD connection whose
 * requests reach vmk0 through the router while the replies leave by vmk4,
 * straight onto the backup subnet.
 */
#include "test_progs.h"

/* Handshake with full SYN options, one request, three data segments. */
static const struct tp_step session[] = {
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
	if (!tp_load(t, NULL) || !tp_run_steps(t, session, N_STEPS, &to, &from) ||
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

static void seed_asymmetric(void)
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

static void seed_symmetric(void)
{
	struct tprog t;

	TEST_AT(seed_session(&t, MAC_VMK0));
	tp_close(&t);
}

/* A server that answers from two interfaces: two buckets, in order. */
static void seed_mac_buckets(void)
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

void test_seed(void)
{
	if (test__start_subtest("asymmetric"))
		seed_asymmetric();
	if (test__start_subtest("symmetric"))
		seed_symmetric();
	if (test__start_subtest("mac_buckets"))
		seed_mac_buckets();
}
