// SPDX-License-Identifier: GPL-2.0
/* VLAN tags (802.1Q, 802.1ad, 0x9100) and the per-direction sets. */
#include "test_progs.h"

static const __u16 tpids[] = {
	FRAME_ETH_P_8021Q, FRAME_ETH_P_8021AD, FRAME_ETH_P_QINQ1,
};

static struct seg to_srv(__u16 cport, __u32 payload)
{
	return seed_req(cport, FRAME_TH_ACK, payload);
}

static bool want_tagged(struct tprog *t, __u16 cport, __u32 payload,
			int n, const __u16 *vids, const char *what)
{
	const struct np_flow_rec *r;
	struct want_dir w = want_plain(NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0, 1,
				       52 + payload, payload, FRAME_TH_ACK);

	w.flags = 0;		/* every frame tagged */
	w.n_vlans = n;
	memcpy(w.vlans, vids, n * sizeof(*vids));
	r = tp_flow(t, IP_ESX, NBD_PORT, IP_RUBRIK, cport);
	return r && tp_dir(&r->dir[NP_DIR_TO_SERVER], &w, what);
}

/* One tag and two, of every TPID in every order. */
void test_vlan_tags(void)
{
	struct { __u16 port; int n; __u16 vid[2]; char what[48]; } c[12];
	int n = 0, i, j;
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	for (i = 0; i < 3; i++) {
		struct seg g = to_srv(CLIENT_PORT + n, 10 + n);

		g.n_tags = 1;
		g.tpid[0] = tpids[i];
		g.vid[0] = 28;
		c[n].port = g.sport;
		c[n].n = 1;
		c[n].vid[0] = 28;
		snprintf(c[n].what, sizeof(c[n].what), "tag 0x%04x", tpids[i]);
		frame_seg(&f, &g);
		if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, F(VLAN), c[n].what))
			goto out;
		n++;
	}
	for (i = 0; i < 3; i++) {
		for (j = 0; j < 3; j++) {
			struct seg g = to_srv(CLIENT_PORT + n, 10 + n);

			g.n_tags = 2;
			g.tpid[0] = tpids[i];
			g.vid[0] = 100 + i;
			g.tpid[1] = tpids[j];
			g.vid[1] = 4000 + j;
			c[n].port = g.sport;
			c[n].n = 2;
			c[n].vid[0] = g.vid[0];
			c[n].vid[1] = g.vid[1];
			snprintf(c[n].what, sizeof(c[n].what),
				 "tags 0x%04x 0x%04x", tpids[i], tpids[j]);
			frame_seg(&f, &g);
			if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, F(VLAN),
					c[n].what))
				goto out;
			n++;
		}
	}
	if (!tp_read_n(&t, n))
		goto out;
	for (i = 0; i < n; i++)
		want_tagged(&t, c[i].port, 10 + i, c[i].n, c[i].vid, c[i].what);
out:
	tp_close(&t);
}

/* The priority and DEI bits are not part of the VLAN ID. */
void test_vlan_pcp(void)
{
	struct seg g = to_srv(CLIENT_PORT, 0);
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	g.n_tags = 1;
	g.tpid[0] = FRAME_ETH_P_8021Q;
	g.vid[0] = 10;
	frame_seg(&f, &g);
	f.data[14] |= 0xf0;		/* PCP 7, DEI */
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, F(VLAN), "PCP 7 DEI 1"))
		goto out;
	/* VLAN 0: a priority tag, still a tag */
	g.vid[0] = 0;
	g.sport++;
	frame_seg(&f, &g);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, F(VLAN), "priority tag"))
		goto out;
	if (!tp_read(&t))
		goto out;
	want_tagged(&t, CLIENT_PORT, 0, 1, (const __u16[]){ 10 }, "PCP");
	want_tagged(&t, CLIENT_PORT + 1, 0, 1, (const __u16[]){ 0 }, "vid 0");
out:
	tp_close(&t);
}

/* A third tag is not guessed at, whatever the TPIDs. */
void test_vlan_three_tags(void)
{
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	for (int i = 0; i < 3; i++) {
		struct seg g = to_srv(CLIENT_PORT, 0);

		g.n_tags = 3;
		g.tpid[0] = tpids[i];
		g.tpid[1] = tpids[(i + 1) % 3];
		g.tpid[2] = tpids[(i + 2) % 3];
		g.vid[0] = 1;
		g.vid[1] = 2;
		g.vid[2] = 3;
		frame_seg(&f, &g);
		if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, F(VLAN),
				"three tags"))
			goto out;
	}
	/* cut inside the second tag */
	{
		struct seg g = to_srv(CLIENT_PORT, 0);

		g.n_tags = 2;
		g.tpid[0] = g.tpid[1] = FRAME_ETH_P_8021Q;
		frame_seg(&f, &g);
		if (!tp_outcome(&t, &f, 14 + 4 + 3, NP_STAT_TRUNCATED, F(VLAN),
				"cut in the second tag"))
			goto out;
		/* in the first: no tag was read, none counted */
		if (!tp_outcome(&t, &f, 14 + 3, NP_STAT_TRUNCATED, 0,
				"cut in the first tag"))
			goto out;
	}
	tp_read_n(&t, 0);
out:
	tp_close(&t);
}

/*
 * The sets are per direction: tagged requests, untagged replies, a
 * direction that saw both, and more values than a set holds.
 */
void test_vlan_dir_sets(void)
{
	const __u8 macs[6][6] = {
		{ 0x00, 0x50, 0x56, 0x00, 0x00, 0x01 },
		{ 0x00, 0x50, 0x56, 0x00, 0x00, 0x02 },
		{ 0x00, 0x50, 0x56, 0x00, 0x00, 0x03 },
		{ 0x00, 0x50, 0x56, 0x00, 0x00, 0x04 },
		{ 0x00, 0x50, 0x56, 0x00, 0x00, 0x05 },
		{ 0x00, 0x50, 0x56, 0x00, 0x00, 0x06 },
	};
	const struct np_flow_rec *r;
	struct seg g = to_srv(CLIENT_PORT, 0);
	struct want_dir w;
	struct frame f;
	struct tprog t;
	int i;

	if (!tp_load(&t, NULL))
		goto out;
	/* to_server: untagged, then VLANs 10..15 (one per frame) */
	frame_seg(&f, &g);
	if (!tp_run(&t, &f, 0))
		goto out;
	g.n_tags = 1;
	g.tpid[0] = FRAME_ETH_P_8021Q;
	for (i = 0; i < 6; i++) {
		g.vid[0] = 10 + i;
		frame_seg(&f, &g);
		if (!tp_run(&t, &f, 0))
			goto out;
	}
	/* from_server: six MACs, the last twice, no tags */
	for (i = 0; i < 7; i++) {
		frame_seg(&f, &(struct seg){
			.dmac = MAC_RUBRIK, .smac = macs[i < 6 ? i : 5],
			.saddr = IP_ESX, .daddr = IP_RUBRIK,
			.sport = NBD_PORT, .dport = CLIENT_PORT,
			.flags = FRAME_TH_ACK, .payload = 100 * (i + 1),
		});
		if (!tp_run(&t, &f, 0))
			goto out;
	}
	r = tp_read_seed(&t);
	if (!r)
		goto out;
	w = want_plain(NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0, 7, 7 * 52, 0,
		       FRAME_TH_ACK);
	w.n_vlans = 4;
	memcpy(w.vlans, (const __u16[]){ 10, 11, 12, 13 }, 4 * sizeof(__u16));
	w.flags |= NP_DIRF_VLANS_OVERFLOW;
	tp_dir(&r->dir[NP_DIR_TO_SERVER], &w, "to_server");
	/* bytes 152, 252, ... 752: the last three past the set */
	tp_dir(&r->dir[NP_DIR_FROM_SERVER], &(struct want_dir){
		.packets = 7, .bytes = 7 * 52 + 2800, .payload = 2800,
		.macs = { { macs[0], 1, 152 }, { macs[1], 1, 252 },
			  { macs[2], 1, 352 }, { macs[3], 1, 452 } },
		.other_packets = 3, .other_bytes = 552 + 652 + 752,
		.src_mac = macs[5], .dst_mac = MAC_RUBRIK,
		.tcp_flags = FRAME_TH_ACK,
		.flags = NP_DIRF_UNTAGGED | NP_DIRF_MACS_OVERFLOW,
	}, "from_server");
out:
	tp_close(&t);
}
