/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Each host's current verdict: what it exchanged over the last --window
 * seconds, from the totals of the reports of that window, and the
 * transitions of that verdict (nbdpath(8), TIME). Fed one report at a
 * time, in time order: run's polls, replay's steps of capture time.
 */
#ifndef NBDPATH_HISTORY_H
#define NBDPATH_HISTORY_H

#include "report_model.h"

/* At least this many transitions are kept per host. */
#define NP_HISTORY_CHANGES	32

struct np_history;

/* -ENOMEM; window_ns > 0. */
int np_history_new(struct np_history **out, __u64 window_ns);
void np_history_free(struct np_history *h);

/*
 * Take r's per-host totals as of r->time_ns, and set every host's
 * "current" in r (r->hosts[].cur) from them and the window's start.
 * Called by np_report_build() when the options carry a history.
 */
int np_history_current(struct np_history *h, struct np_report *r);

/*
 * Reports that come about an interval apart, give or take a little: a
 * snapshot a window old less slack_ns counts as a window old, or a poll
 * a millisecond early would start the window a whole interval back
 * (run: half an interval; replay's steps are exact).
 */
void np_history_set_slack(struct np_history *h, __u64 slack_ns);

/* Also write each host's current into a running instance's np_current. */
void np_history_publish(struct np_history *h, int map_fd);

/* A query's: every host's current as the running instance published it. */
int np_history_from_map(struct np_report *r, int map_fd);

/* What np_history_current() allocated in r. */
void np_history_free_current(struct np_report *r);

#endif /* NBDPATH_HISTORY_H */
