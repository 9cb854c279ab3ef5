/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How nbdpath writes what it reports, whatever the writer: MACs, IPs,
 * verdicts and TCP flags by name, as nbdpath(8) defines them.
 */
#ifndef NBDPATH_FMT_H
#define NBDPATH_FMT_H

#include <stdbool.h>
#include "nbdpath.h"

/* nbdpath(8), VERDICTS */
enum np_verdict {
	NP_V_NONE,			/* no packets at all */
	NP_V_ASYMMETRIC,
	NP_V_SYMMETRIC,
	NP_V_TO_SERVER_ONLY,
	NP_V_FROM_SERVER_ONLY,
	NP_V_IDLE,			/* current verdict: nothing in the window */
	NP_V_MAX,
};

const char *np_verdict_name(enum np_verdict v);

/* bit i of np_dir.tcp_flags (NP_TCPF_*), as in the TCP header */
extern const char *const np_tcp_flag_names[8];

void np_fmt_mac(char buf[18], const __u8 mac[6]);
void np_fmt_ip(char buf[46], const __u8 ip[16]);	/* v4-mapped -> a.b.c.d */
bool np_ip_is_v4(const __u8 ip[16]);			/* ::ffff:a.b.c.d */

#endif /* NBDPATH_FMT_H */
