// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <linux/bpf.h>
#include <bpf/libbpf.h>

#include "flowtab.h"
#include "prog.h"

/* Buckets (not counting the stash) per CPU for --max-flows N. */
static __u32 buckets_for(__u32 max_flows)
{
	__u64 want;
	__u32 n = NP_FLOW_MIN_BUCKETS;

	if (!max_flows)
		max_flows = NP_DEFAULT_MAX_FLOWS;
	/*
	 * A new flow takes a free slot of the emptier of its two buckets
	 * of 8 (bpf/flow.h), else one of the stash. At two thirds full,
	 * the fullest bucket of 65,536 slots reaches 8 in most tables, and
	 * the stash takes the rare flow that then finds both of its
	 * buckets full: 1.5 slots per flow, rounded up to a power of two
	 * of buckets (so 1.5 to 3), hold the flows --max-flows promises
	 * (tests/prog_tests/table.c counts the trials).
	 */
	want = (__u64)max_flows + (max_flows + 1) / 2;
	while ((__u64)n * NP_FLOW_BUCKET < want && n < (1u << 26))
		n <<= 1;
	return n;
}

__u32 np_slots_for(__u32 max_flows)
{
	return (buckets_for(max_flows) + 1) * NP_FLOW_BUCKET;
}

int np_hkey_random(struct np_hkey *k)
{
	__u64 r[12];
	size_t got = 0;

	while (got < sizeof(r)) {
		ssize_t n = getrandom((char *)r + got, sizeof(r) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += n;
	}
	np_hkey_set(k, r);
	return 0;
}

void np_hkey_set(struct np_hkey *k, const __u64 r[12])
{
	for (int i = 0; i < 10; i++)
		k->add[i] = (__u32)r[i];
	k->v4 = k->add[6] * k->add[7] + k->add[8] * k->add[9];
	/* odd, with both halves full of bits */
	k->mul = r[10] | 1 | 1ull << 63;
}

void np_prog_set_ports(struct nbdpath_bpf *skel, const __u16 *ports, int n)
{
	__u64 bits[65536 / 64] = {};
	struct np_config *cfg = &skel->data->cfg;
	static const __u16 def = NP_DEFAULT_PORT;

	if (!ports || !n) {
		ports = &def;
		n = 1;
	}
	for (int i = 0; i < n; i++)
		bits[ports[i] >> 6] |= 1ull << (ports[i] & 63);
	/* word by word: the program reads this live, and every word is
	 * either the old or the new value
	 */
	for (size_t i = 0; i < 65536 / 64; i++)
		cfg->port_bits[i] = bits[i];
	/* after the bits: a frame that read the old count read old bits */
	__atomic_fetch_add(&cfg->port_gen, 1, __ATOMIC_RELEASE);
}

struct nbdpath_bpf *np_prog_load(const struct np_prog_opts *o, int *err)
{
	struct nbdpath_bpf *skel;
	__u32 slots = np_slots_for(o->max_flows);
	__u32 idle = o->idle_sec ? o->idle_sec : NP_DEFAULT_IDLE_SEC;
	__u32 closed = o->closed_sec ? o->closed_sec : NP_DEFAULT_CLOSED_SEC;
	__u32 buckets = buckets_for(o->max_flows);
	int ncpu = libbpf_num_possible_cpus();
	int e;

	if (ncpu <= 0) {
		*err = ncpu ? ncpu : -EINVAL;
		errno = -*err;
		return NULL;
	}
	/* a partition of np_flows per CPU, indexed in 32 bits */
	if ((__u64)slots * ncpu > UINT32_MAX) {
		*err = -E2BIG;
		errno = E2BIG;
		return NULL;
	}
	skel = nbdpath_bpf__open();
	if (!skel) {
		*err = -errno;
		return NULL;
	}
	skel->rodata->bucket_mask = buckets - 1;
	skel->rodata->n_slots = slots;
	if (o->hkey)
		skel->data->cfg.hkey = *o->hkey;
	else if ((e = np_hkey_random(&skel->data->cfg.hkey)))
		goto fail;
	e = bpf_map__set_max_entries(skel->maps.np_flows, slots * ncpu);
	if (!e)
		e = bpf_map__set_max_entries(skel->maps.np_tags,
					     (buckets + 1) * ncpu);
	if (e)
		goto fail;
	e = bpf_map__set_max_entries(skel->maps.np_finished,
				     o->max_finished ? o->max_finished : 1);
	if (e)
		goto fail;
	np_prog_set_ports(skel, o->ports, o->n_ports);
	skel->data->cfg.action = o->pass ? XDP_PASS : XDP_DROP;
	skel->data->cfg.idle_ns = idle * NP_NSEC_PER_SEC;
	skel->data->cfg.closed_ns = closed * NP_NSEC_PER_SEC;
	/* a second copy of the classifier for the verifier: only if used */
	bpf_program__set_autoload(skel->progs.nbdpath_replay, o->replay);
	e = nbdpath_bpf__load(skel);
	if (e)
		goto fail;
	e = np_retired_reserve(bpf_map__fd(skel->maps.np_retired));
	if (e)
		goto fail;
	*err = 0;
	return skel;
fail:
	nbdpath_bpf__destroy(skel);
	*err = e < 0 ? e : -e;
	errno = -*err;
	return NULL;
}

void np_prog_maps(struct nbdpath_bpf *skel, struct np_maps *m)
{
	m->flows = bpf_map__fd(skel->maps.np_flows);
	m->stats = bpf_map__fd(skel->maps.np_stats);
	m->neigh = bpf_map__fd(skel->maps.np_neigh);
	m->meta = bpf_map__fd(skel->maps.np_meta);
	m->names = bpf_map__fd(skel->maps.np_names);
	m->retired = bpf_map__fd(skel->maps.np_retired);
	m->current = bpf_map__fd(skel->maps.np_current);
	m->finished = bpf_map__fd(skel->maps.np_finished);
	m->n_slots = skel->rodata->n_slots;
}
