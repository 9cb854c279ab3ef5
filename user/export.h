/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --ipfix: the report's flows as IPFIX records (nbdpath(8), IPFIX). A flow
 * is exported when it finishes and every --active-timeout while it lasts,
 * with the counts since its last export, one record per direction and
 * server-side MAC, so that a collector summing the records gets the
 * report's totals.
 */
#ifndef NBDPATH_EXPORT_H
#define NBDPATH_EXPORT_H

#include "ipfix.h"
#include "report_model.h"

struct np_export;

/*
 * Open the exporter to host_port; replay: paced to the collector rather
 * than dropping. -EINVAL for a bad HOST:PORT, another -errno otherwise,
 * after a message.
 */
int np_export_open(struct np_export **out, const char *host_port,
		   double active_timeout, __u32 domain, bool replay);

/* A reclaimed slot's flow, st as it was reclaimed: exported at the next report. */
void np_export_retired(struct np_export *e, const struct np_flow_rec *rec,
		       enum np_flow_state st);

/*
 * Export what r's flows and the flows reclaimed since the last report
 * owe; last: the final report (the end of the run or the capture), where
 * every flow still open is exported too.
 */
void np_export_report(struct np_export *e, struct np_report *r, bool last);

/* The exporter's poll timeout, ms (-1: none needed), and its sending. */
int np_export_timeout_ms(struct np_export *e);
void np_export_flush(struct np_export *e);

/* Send what is queued (within a bound) and close; safe on NULL. */
void np_export_close(struct np_export *e);

#endif /* NBDPATH_EXPORT_H */
