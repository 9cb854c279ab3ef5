// SPDX-License-Identifier: GPL-2.0
/* Ethernet framing of the frames the program counts. */
#include "test_progs.h"

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
