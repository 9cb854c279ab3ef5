// SPDX-License-Identifier: GPL-2.0
/*
 * The mirror NIC of a direction: with two mirror ports (one per vmk, or
 * one per switch), each direction records the NIC its last frame came in
 * on. A veth device in a private network namespace stands in for the
 * second NIC; BPF_PROG_TEST_RUN takes it as the ingress device.
 * (A veth: the lab needs it anyway; not every kernel has dummy.)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>
#include "test_progs.h"

void test_ifindex(void)
{
	const struct np_flow_rec *r;
	struct frame to, from;
	struct tprog t = {};
	struct want_dir w;
	struct seg g;
	unsigned int veth;
	int ns;

	ns = open("/proc/self/ns/net", O_RDONLY);
	if (!ASSERT_TRUE(ns >= 0, "open own netns"))
		return;
	if (unshare(CLONE_NEWNET)) {
		test__skip("cannot unshare a network namespace: %s",
			   strerror(errno));
		close(ns);
		return;
	}
	if (system("ip link add np-mirror1 type veth peer name np-mirror2"
		   " 2>/dev/null")) {
		test__skip("cannot add a veth pair (iproute2, veth module)");
		goto out;
	}
	veth = if_nametoindex("np-mirror1");
	if (!ASSERT_NEQ(veth, 0, "veth ifindex") ||
	    !ASSERT_NEQ(veth, TP_IFINDEX_LO, "veth is not lo"))
		goto out;
	if (!tp_load(&t, NULL))
		goto out;
	g = seed_req(CLIENT_PORT, FRAME_TH_ACK, 0);
	frame_seg(&to, &g);
	g = seed_rep(CLIENT_PORT, FRAME_TH_ACK, 0);
	frame_seg(&from, &g);
	/* requests on the veth; replies on lo, then the veth, then lo */
	t.ifindex = veth;
	if (!tp_run(&t, &to, 0))
		goto out;
	t.ifindex = TP_IFINDEX_LO;
	if (!tp_run(&t, &from, 0))
		goto out;
	t.ifindex = veth;
	if (!tp_run(&t, &from, 0))
		goto out;
	t.ifindex = TP_IFINDEX_LO;
	if (!tp_run(&t, &from, 0))
		goto out;
	/* the same reply twice on lo, then on the veth: its bytes are the
	 * last one's, its NIC is not (the hit path's memo, bpf/nbdpath.bpf.c)
	 */
	if (!tp_run(&t, &from, 0))
		goto out;
	t.ifindex = veth;
	if (!tp_run(&t, &from, 0))
		goto out;
	r = tp_read_seed(&t);
	if (!r)
		goto out;
	w = want_plain(NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0, 1, 52, 0,
		       FRAME_TH_ACK);
	w.ifindex = veth;
	tp_dir(&r->dir[NP_DIR_TO_SERVER], &w, "to_server");
	w = want_plain(NP_DIR_FROM_SERVER, MAC_VMK4, MAC_RUBRIK, 5, 5 * 52, 0,
		       FRAME_TH_ACK);
	w.ifindex = veth;
	tp_dir(&r->dir[NP_DIR_FROM_SERVER], &w, "from_server");
out:
	tp_close(&t);
	/* back home: the private namespace and its veth go away */
	ASSERT_OK(setns(ns, CLONE_NEWNET), "setns back");
	close(ns);
}
