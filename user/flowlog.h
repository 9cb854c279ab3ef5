/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --flow-log FILE: one JSON line per finished flow, the object of the
 * report's "flows" list, appended and flushed at the first report after
 * the flow finished (nbdpath(8), FLOW LOG): a flow still in the table
 * when that report lists it finished, a reclaimed one from the records
 * handed over as its slot is reclaimed, so that the --max-finished bound
 * on the list never keeps a flow out of the log. The file is opened
 * for appending, so logrotate's copytruncate works; reopened on SIGHUP
 * for a rename-and-create rotation.
 */
#ifndef NBDPATH_FLOWLOG_H
#define NBDPATH_FLOWLOG_H

#include <stdio.h>
#include "report_model.h"
#include "vec.h"

struct np_flowlog {
	const char *path;
	FILE *f;
	/*
	 * Flows already logged while their slots still hold them, by key
	 * and first packet: when a slot is reclaimed and the flow becomes a
	 * kept record, or is listed again, it is not logged twice.
	 */
	struct np_vec done;		/* struct np_logged */
	struct np_keyidx idx;
	/* reclaimed flows not yet logged: the list's bound cannot drop them */
	struct np_vec pending;		/* struct np_reclaimed */
	bool warned, warned_mem;
};

/* Open path for appending; -errno after a message. */
int np_flowlog_open(struct np_flowlog *l, const char *path);
/* Reopen the same path (after a rotation); -errno after a message. */
int np_flowlog_reopen(struct np_flowlog *l);
void np_flowlog_close(struct np_flowlog *l);

/* A reclaimed slot's flow, st as it was reclaimed: logged at the next write. */
void np_flowlog_retired(struct np_flowlog *l, const struct np_flow_rec *rec,
			enum np_flow_state st);

/*
 * Log the finished flows not logged yet: those r lists in the table and
 * those reclaimed since the last write; those that closed or reset less
 * than settle_ns before r wait for the next report (0 at the last one).
 */
void np_flowlog_write(struct np_flowlog *l, struct np_report *r,
		      __s64 settle_ns);

#endif /* NBDPATH_FLOWLOG_H */
