// SPDX-License-Identifier: GPL-2.0
/*
 * Jumbo frames (MTU 9000, common on backup networks). A frame longer than
 * a page does not fit BPF_PROG_TEST_RUN's linear buffer: an xdp.frags
 * program gets the headers linear and the rest as fragments, as a
 * multi-buffer driver would hand them over.
 */
#include "test_progs.h"

#define JUMBO_IP	9000

static const struct seg data = {
	.dmac = MAC_RUBRIK, .smac = MAC_VMK4,
	.saddr = IP_ESX, .daddr = IP_RUBRIK,
	.sport = NBD_PORT, .dport = CLIENT_PORT,
	.flags = FRAME_TH_ACK, .payload = JUMBO_IP - 20 - 32,
};

static void jumbo_9000(void)
{
	static struct frame f;	/* 16 KiB: not on the stack */
	const struct np_flow_rec *r;
	struct encap e = { .type = ENCAP_ERSPAN2, .session = 3 };
	struct seg cut = data;
	struct want_dir w;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	frame_seg(&f, &data);
	if (!ASSERT_EQ(f.len, 14 + JUMBO_IP, "frame length"))
		goto out;
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, 0, "jumbo"))
		goto out;
	/* the same inside ERSPAN: 9064 bytes */
	frame_encap_seg(&f, &e, &data);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, F(GRE) | F(ERSPAN),
			"jumbo in ERSPAN"))
		goto out;
	/* and cut to 128 bytes by the mirror: counted the same */
	cut.cut = true;
	frame_seg(&f, &cut);
	if (!ASSERT_EQ(f.len, 14 + 20 + 32, "cut frame length") ||
	    !ASSERT_EQ(frame_wire_len(&f), 14 + JUMBO_IP, "cut wire length"))
		goto out;
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, 0, "jumbo cut"))
		goto out;
	r = tp_read_seed(&t);
	if (!r)
		goto out;
	w = want_plain(NP_DIR_FROM_SERVER, MAC_VMK4, MAC_RUBRIK, 3,
		       3 * JUMBO_IP, 3 * (JUMBO_IP - 52), FRAME_TH_ACK);
	w.n_sessions = 1;
	w.sessions[0] = 3;
	w.encap = 1 << NP_ENCAP_NONE | 1 << NP_ENCAP_ERSPAN2;
	tp_dir(&r->dir[NP_DIR_FROM_SERVER], &w, "from_server");
	tp_dir(&r->dir[NP_DIR_TO_SERVER], &(struct want_dir){}, "to_server");
out:
	tp_close(&t);
}

/* The largest IPv4 packet: 64 KiB, as GRO/LRO would build (see --help). */
static void jumbo_64k(void)
{
	static struct frame f;
	const struct np_flow_rec *r;
	struct seg big = data;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	/* 65535 bytes are more than FRAME_MAX: the tail is cut */
	big.payload = 65535 - 52;
	big.cut = true;
	frame_seg(&f, &big);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, 0, "64k"))
		goto out;
	r = tp_read_seed(&t);
	if (r)
		tp_plain(r, NP_DIR_FROM_SERVER, MAC_VMK4, MAC_RUBRIK, 1, 65535,
			 65535 - 52, FRAME_TH_ACK);
out:
	tp_close(&t);
}

void test_jumbo(void)
{
	if (test__start_subtest("9000"))
		jumbo_9000();
	if (test__start_subtest("64k"))
		jumbo_64k();
}
