/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading the kernel's per-CPU tables: the one place that merges per-CPU
 * values, used by `run`, the query commands, `replay` and the tests.
 */
#ifndef NBDPATH_FLOWTAB_H
#define NBDPATH_FLOWTAB_H

#include <stdbool.h>
#include <stddef.h>
#include "nbdpath.h"

/* One flow, merged over every CPU's slot that holds its key. */
struct np_flow_rec {
	struct np_flow_key key;
	struct np_dir dir[2];
};

struct np_flowset {
	struct np_flow_rec *v;
	size_t n;
	size_t cap;
};

/*
 * Called for the last counts of a slot the program reclaimed (or that
 * was reset) since the previous read: what it counted must not vanish.
 */
typedef void (*np_retire_fn)(const struct np_flow_rec *rec, void *ctx);

/*
 * The flow table (np_flows), mapped read-only: n_slots slots for each of
 * ncpu CPUs, CPU c's from slot c * n_slots.
 */
struct np_flowtab {
	int fd;
	unsigned int n_slots;
	int ncpu;
	size_t stride;			/* slot size in the map, rounded to 8 */
	const void *map;		/* the mapping, map_len bytes */
	size_t map_len;
	void *batch_vals;		/* slots copied out of the map */
	__u32 *batch_keys;		/* ...their indexes; set once ready */
	/*
	 * Tracking: the slots in use at the last read (prev) and at this
	 * one (cur), in slot order, each copied once; swapped after a read.
	 * Room for cap (every) slots.
	 */
	struct np_flow *prev, *cur;
	__u32 *prev_slot, *cur_slot;
	size_t n_prev, cap;
	bool track;
};

/*
 * track: keep the previous read of every slot so that reclaimed slots are
 * handed to retire() exactly once (the daemon and replay do; a one-shot
 * query does not).
 *
 * Maps np_flows: fd must be readable (a BPF_F_RDONLY fd will do), and the
 * map a BPF_F_MMAPABLE array of struct np_flow with n_slots entries per
 * possible CPU; -EPROTO if it is not. np_flowtab_free() is safe on a
 * table whose init failed.
 */
int np_flowtab_init(struct np_flowtab *t, int fd, unsigned int n_slots,
		    bool track);
void np_flowtab_free(struct np_flowtab *t);

/* Read every slot, merge by key into *out (emptied first). */
int np_flowtab_read(struct np_flowtab *t, struct np_flowset *out,
		    np_retire_fn retire, void *ctx);

void np_flowset_free(struct np_flowset *s);

/* Merge one direction into another: sums, unions of the small sets. */
void np_dir_merge(struct np_dir *into, const struct np_dir *from);

/* A flow's first and last packet, either direction (NP clock). */
static inline __u64 np_flow_rec_first(const struct np_flow_rec *r)
{
	__u64 a = r->dir[0].first_ns, b = r->dir[1].first_ns;

	if (!a)
		return b;
	return !b || a < b ? a : b;
}

static inline __u64 np_flow_rec_last(const struct np_flow_rec *r)
{
	__u64 a = r->dir[0].last_ns, b = r->dir[1].last_ns;

	return a > b ? a : b;
}

/* Packets and bytes of a direction: the sum of its per-MAC buckets. */
__u64 np_dir_packets(const struct np_dir *d);
__u64 np_dir_bytes(const struct np_dir *d);
/*
 * The server-side MAC a direction's TCP health counts are kept under in
 * host and interface totals: the one that carried most of its packets
 * (index into macs[]), or -1 for the bucket past the set. The program
 * counts them per direction, not per MAC.
 */
int np_dir_main_mac(const struct np_dir *d);
/* A flow's handshake state (np_rules.h) and the direction it is counted in */
enum np_hs_state np_flow_hs_state(const struct np_flow_rec *f);
int np_flow_hs_dir(const struct np_flow_rec *f);

/* The outcome and feature counters, summed over CPUs. */
int np_read_stats(int fd, __u64 c[NP_STAT_MAX]);

/*
 * A ready-made np_retire_fn: adds a reclaimed slot's per-MAC counts to
 * the np_retired map and counts it in np_meta.flows_evicted.
 * ctx: const struct np_maps *.
 */
struct np_maps;
void np_retire_to_maps(const struct np_flow_rec *rec, void *ctx);

/* Make np_retired's overflow bucket (see nbdpath.h); at load. -errno. */
int np_retired_reserve(int fd);

/* Stable names for enum np_stat, as in the JSON "stats" object. */
extern const char *const np_stat_names[NP_STAT_MAX];

#endif /* NBDPATH_FLOWTAB_H */
