/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --metrics: a small HTTP listener serving the latest report in the
 * Prometheus text exposition on GET /metrics. It never blocks: `run`
 * polls its sockets together with its own interval timer.
 */
#ifndef NBDPATH_METRICS_H
#define NBDPATH_METRICS_H

#include <poll.h>
#include "cli.h"
#include "report.h"

#define NP_METRICS_MAX_CONNS	16
#define NP_METRICS_MAX_FDS	(NP_METRICS_MAX_CONNS + 1)

struct np_metrics;

/* Listen on a; -errno after a message naming spec (the ADDR:PORT given). */
int np_metrics_start(struct np_metrics **out, const char *spec,
		     const struct np_sockaddr *a);

/* The sockets to poll, in pfd[0..return). */
int np_metrics_pollfds(struct np_metrics *m, struct pollfd *pfd, int max);

/* Accept, read and answer what poll() found ready; r: the latest report. */
void np_metrics_serve(struct np_metrics *m, const struct pollfd *pfd, int n,
		      const struct np_report *r);

/* Safe on NULL. */
void np_metrics_stop(struct np_metrics *m);

#endif /* NBDPATH_METRICS_H */
