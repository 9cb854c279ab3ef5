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

/*
 * An address as the reports key and print it: a flow key's 16 bytes
 * (IPv4 as ::ffff:a.b.c.d) and its family, so that an IPv4-mapped
 * address in an IPv6 header, ::ffff:a.b.c.d, is printed so and is
 * another host than the IPv4 address a.b.c.d. No padding: hosts are
 * sorted and found by memcmp() of the whole.
 */
struct np_ip {
	__u8	b[16];
	__u8	v6;		/* np_flow_key.v6; 1 for every non-mapped address */
};

_Static_assert(sizeof(struct np_ip) == 17, "compared as bytes");

/* ip from 16 key bytes and the key's family (v6 set when not mapped). */
void np_ip_set(struct np_ip *ip, const __u8 b[16], bool v6);
int np_ip_cmp(const struct np_ip *a, const struct np_ip *b);

static inline struct np_ip np_key_server(const struct np_flow_key *k)
{
	struct np_ip ip;

	np_ip_set(&ip, k->server_ip, k->v6);
	return ip;
}

static inline struct np_ip np_key_client(const struct np_flow_key *k)
{
	struct np_ip ip;

	np_ip_set(&ip, k->client_ip, k->v6);
	return ip;
}

void np_fmt_mac(char buf[18], const __u8 mac[6]);
/* IPv4 as a.b.c.d, IPv6 (::ffff:a.b.c.d included) as RFC 5952 */
void np_fmt_ip(char buf[46], const struct np_ip *ip);
bool np_ip_is_v4(const struct np_ip *ip);

#endif /* NBDPATH_FMT_H */
