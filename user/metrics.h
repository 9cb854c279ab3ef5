/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --metrics: the Prometheus endpoint, served by libmicrohttpd from a
 * thread of its own. `run` renders the exposition after each poll and
 * publishes it; every scrape until the next publish gets that copy.
 */
#ifndef NBDPATH_METRICS_H
#define NBDPATH_METRICS_H

#include <stddef.h>
#include <sys/socket.h>
#include "cli.h"

/*
 * Limits that keep the endpoint up (see the man page, RUNNING AS A SERVICE):
 * connections in all and from one address, memory a connection may use,
 * and how long one may stay silent.
 */
#define NP_METRICS_MAX_CONNS	2048
#define NP_METRICS_MAX_PER_IP	1024
#define NP_METRICS_CONN_MEM	(16 * 1024)
#define NP_METRICS_TIMEOUT_SEC	5
#define NP_METRICS_BACKLOG	1024

struct np_metrics;

/*
 * Listen on a (spec: the ADDR:PORT given; ":PORT" or "*:PORT" listen on
 * every IPv4 and IPv6 address). Connections wait in the kernel's backlog
 * until the first np_metrics_publish() starts the server thread, so that
 * thread is made after `run` has dropped its capabilities and never holds
 * them. -errno after a message naming spec.
 */
int np_metrics_start(struct np_metrics **out, const char *spec,
		     const struct np_sockaddr *a);

/* Serve buf[0..len) (copied) from now on; starts the server the first time. */
int np_metrics_publish(struct np_metrics *m, const char *buf, size_t len);

/*
 * Serve fd, a connected stream socket (peer sa), as if the listening
 * socket had accepted it: how tests/fuzz/fuzz_http.c reaches the request
 * handling without a TCP connection per input. The server must be
 * running (a publish); fd is closed by it, or here, in any case. -errno.
 */
int np_metrics_add_conn(struct np_metrics *m, int fd,
			const struct sockaddr *sa, socklen_t len);

/* Safe on NULL. */
void np_metrics_stop(struct np_metrics *m);

#endif /* NBDPATH_METRICS_H */
