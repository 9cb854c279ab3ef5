/* SPDX-License-Identifier: GPL-2.0 */
/* Opening, configuring and loading the XDP program: shared by run, replay, tests. */
#ifndef NBDPATH_PROG_H
#define NBDPATH_PROG_H

#include <stdbool.h>
#include "nbdpath.h"
#include "nbdpath.skel.h"

struct np_prog_opts {
	const __u16 *ports;		/* NULL: the default port */
	int n_ports;
	__u32 max_flows;		/* 0: NP_DEFAULT_MAX_FLOWS */
	bool pass;			/* XDP_PASS instead of XDP_DROP */
	__u32 idle_sec;			/* 0: NP_DEFAULT_IDLE_SEC */
	__u32 closed_sec;		/* 0: 5 */
	bool replay;			/* also load nbdpath_replay */
	__u32 max_finished;		/* np_finished records; 0: 1 */
	const struct np_hkey *hkey;	/* NULL: a random one (tests set it) */
};

/* Map fds of a loaded program or of a running instance's pins. */
struct np_maps {
	int flows;
	int stats;
	int neigh;
	int meta;
	int names;
	int retired;
	int current;
	int finished;
	__u32 n_slots;			/* flow slots per CPU */
};

/*
 * Flow table slots per CPU for --max-flows N: the smallest power of two
 * of buckets holding at least 1.5 N slots (and at least two buckets),
 * plus the stash, so that N flows fit.
 */
__u32 np_slots_for(__u32 max_flows);

/* A flow hash secret from getrandom(); 0 or negative errno. */
int np_hkey_random(struct np_hkey *k);
/* ...or from 12 given words (tests): the same derivation. */
void np_hkey_set(struct np_hkey *k, const __u64 r[12]);

/* open + configure + load; NULL with errno set (negative in *err) on failure */
struct nbdpath_bpf *np_prog_load(const struct np_prog_opts *o, int *err);

/* Rewrite the monitored port set of a loaded program (takes effect at once). */
void np_prog_set_ports(struct nbdpath_bpf *skel, const __u16 *ports, int n);

void np_prog_maps(struct nbdpath_bpf *skel, struct np_maps *m);

#endif /* NBDPATH_PROG_H */
