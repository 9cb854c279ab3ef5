/* SPDX-License-Identifier: GPL-2.0 */
/* The one logging layer: errors are one line on stderr starting with "nbdpath: ". */
#ifndef NBDPATH_LOG_H
#define NBDPATH_LOG_H

#include <stdbool.h>

extern int np_verbose;

void np_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void np_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void np_dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Route libbpf's messages through np_dbg (only shown with -v). */
void np_log_init(int verbose);

#endif /* NBDPATH_LOG_H */
