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

/*
 * What a record keeps once the report has made its "flows" object
 * (report.c, np_report_json_keep()): the object itself, and what the
 * human report, the hosts' handshake figures and the flow log read of
 * it. A finished flow's counts are final, so its object is too; the full
 * record is freed then, which is what bounds a long list's memory.
 */
struct np_fin_kept {
	__s64	first_ns, last_ns, ended_ns;	/* unix */
	enum np_verdict verdict;
	struct np_fin_kept_dir {
		__u64	packets, bytes;		/* as reported */
		__u8	mac[6];			/* the last frame's server MAC */
		bool	seen;
		char	name[16];		/* its vmk, "" if none */
	} dir[2];				/* NP_DIR_* */
	/*
	 * The object without each direction's "pps" and "bps" (0 for a
	 * kept record): where they go, for a report with rates.
	 */
	__u32	rates[2];
	__u32	len;
	char	json[];			/* the object, len bytes */
};

struct np_fin_rec {
	struct np_flow_key key;
	__u64	ended_ns;		/* NP clock: the last packet */
	enum np_flow_state state;
	struct np_flow_rec *rec;	/* the full record, until kept */
	struct np_fin_kept *kept;	/* NULL until the report keeps it */
	/* the handshake, for its host's (unix; s, < 0: none), once kept */
	__s64	synack_ns;
	double	rtt[2];			/* server side, client side */
};

/*
 * A record in the order of the list: what a report reads of every one,
 * in one sequential walk (the ring is in the order records came).
 */
struct np_fin_ord {
	__u64	seq;			/* head number: np_finished_at() */
	__u64	ended_ns;		/* NP clock */
	__s64	synack_ns;		/* unix; 0: none */
	const struct np_fin_kept *kept;	/* NULL: never listed */
};

struct np_finished {
	struct np_fin_rec *v;		/* a ring of cap records */
	size_t	cap;
	size_t	max_cap;		/* the ring grows up to this */
	__u64	head;			/* records ever added */
	__u64	keep_ns;		/* listed this long; 0: always */
	__u64	dropped;		/* overwritten while still listed */
	int	map_fd;			/* np_finished to mirror into; -1 */
	/*
	 * The records by end, newest first (ties: the newest added first);
	 * those added since `sorted` are merged in by np_finished_order().
	 */
	struct np_fin_ord *order;
	size_t	n_order;
	__u64	sorted;
	__u64	visited;		/* records before this one are kept */
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

/*
 * The records held by end, newest first (ties: the newest added first);
 * *n of them. Records arrive about in that order: those added since the
 * last call are sorted and merged in, the rest stays. A record is kept
 * (or never will be) before it is first ordered. -ENOMEM.
 */
int np_finished_order(struct np_finished *f, const struct np_fin_ord **order,
		      size_t *n);
static inline struct np_fin_rec *np_finished_at(const struct np_finished *f,
						__u64 seq)
{
	return &f->v[seq % f->cap];
}

/* Whether a record that ended then is still listed at now (NP clock; 0: always). */
bool np_finished_listed(const struct np_finished *f, __u64 ended_ns,
			__u64 now);

__u64 np_finished_dropped(const struct np_finished *f);

#endif /* NBDPATH_FINISHED_H */
