/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --flow-log FILE: one JSON line per finished flow, the object of the
 * report's "flows" list, appended and flushed at the report that first
 * lists the flow as finished (nbdpath(8), FLOW LOG). The file is opened
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
	bool warned;
};

/* Open path for appending; -errno after a message. */
int np_flowlog_open(struct np_flowlog *l, const char *path);
/* Reopen the same path (after a rotation); -errno after a message. */
int np_flowlog_reopen(struct np_flowlog *l);
void np_flowlog_close(struct np_flowlog *l);

/*
 * Log the flows r lists as finished that were not logged yet; those that
 * closed or reset less than settle_ns before r wait for the next report
 * (0 at the last one).
 */
void np_flowlog_write(struct np_flowlog *l, const struct np_report *r,
		      __s64 settle_ns);

#endif /* NBDPATH_FLOWLOG_H */
