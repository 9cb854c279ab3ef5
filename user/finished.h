/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Finished flows: the record of every flow whose slot the program
 * reclaimed, with its final counts, kept for the report's "flows" list
 * (nbdpath(8), FLOWS) for --keep-finished seconds, at most a fixed
 * number of them: the oldest give way, counted as dropped.
 */
#ifndef NBDPATH_FINISHED_H
#define NBDPATH_FINISHED_H

#include <stdbool.h>
#include <stddef.h>
#include "flowtab.h"
#include "report.h"

struct np_fin_rec {
	struct np_flow_rec rec;
	__u64	ended_ns;		/* NP clock: the last packet */
	enum np_flow_state state;
};

struct np_finished {
	struct np_fin_rec *v;		/* a ring of cap records */
	size_t	cap;
	size_t	max_cap;		/* the ring grows up to this */
	__u64	head;			/* records ever added */
	__u64	keep_ns;		/* listed this long; 0: always */
	__u64	dropped;		/* overwritten while still listed */
	int	map_fd;			/* np_finished to mirror into; -1 */
};


/*
 * -ENOMEM; cap > 0. grow: the ring starts small and grows to cap as
 * records come (it must not when mirrored into a map, slot for slot).
 */
int np_finished_init(struct np_finished *f, size_t cap, __u64 keep_ns,
		     bool grow);
void np_finished_free(struct np_finished *f);

/*
 * The records a running instance mirrors into its np_finished map (fd,
 * as np_meta says: head written, dropped, keep_ns), for a query; into
 * an initialised f. -errno.
 */
int np_finished_load(struct np_finished *f, int fd, const struct np_meta *m);

/* Keep rec, finished by now (NP clock) in state st. */
void np_finished_add(struct np_finished *f, const struct np_flow_rec *rec,
		     enum np_flow_state st);

/* Records held; i = 0 is the newest. */
size_t np_finished_count(const struct np_finished *f);
const struct np_fin_rec *np_finished_get(const struct np_finished *f,
					 size_t i);

/* Whether x is still in the list at now (NP clock; 0: always). */
bool np_finished_listed(const struct np_finished *f,
			const struct np_fin_rec *x, __u64 now);

/* Records gone from the list by now: aged out or dropped. */
__u64 np_finished_gone(const struct np_finished *f, __u64 now);
__u64 np_finished_dropped(const struct np_finished *f);

#endif /* NBDPATH_FINISHED_H */
