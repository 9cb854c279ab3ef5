/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The built report, shared by its writers (report.c, report_json.c,
 * report_text.c) and by nothing else: the rest of userspace goes through
 * report.h.
 */
#ifndef NBDPATH_REPORT_PRIV_H
#define NBDPATH_REPORT_PRIV_H

#include "report.h"

/* Packets and bytes of one server-side MAC in one direction of a host. */
struct np_rmac {
	__u8	mac[6];
	bool	other;			/* MACs past a flow's set: not one MAC */
	__u64	packets;
	__u64	bytes;
};

struct np_rhost {
	__u8	ip[16];
	enum np_verdict verdict;
	struct np_rmac *dir[2];		/* NP_DIR_*, sorted by MAC */
	size_t	n[2];
};

struct np_rflow {
	struct np_flow_rec rec;
	enum np_verdict verdict;
	__u64	bytes;			/* both directions */
	bool	listed;			/* neither idle nor closed long ago */
};

/* A server-side MAC: rx counts to_server frames, tx from_server frames. */
struct np_riface {
	__u8	mac[6];
	__u64	packets[2];		/* NP_DIR_TO_SERVER = rx */
	__u64	bytes[2];
	__u8	(*ips)[16];		/* server IPs it carried, sorted */
	size_t	n_ips;
};

/* An entry of the report's hash index of flows. */
struct np_rkey {
	__u32	idx;			/* in flows, + 1; 0: empty */
	__u32	tag;			/* the key's hash, high half */
};

struct np_mac_name {
	__u8	mac[6];
	char	name[16];
};

struct np_mac_owner {
	__u8	mac[6];
	__u8	family;			/* NP_NEIGH_IPV4 or NP_NEIGH_IPV6 */
	__u8	ip[16];
};

struct np_report {
	struct np_report_opts o;	/* strings borrowed from the caller */
	__u64	sample;			/* multiplier of every count: >= 1 */
	__u64	stats[NP_STAT_MAX];
	struct np_rflow *flows;		/* by bytes, descending */
	size_t	n_flows;
	size_t	n_listed;
	/*
	 * Flows out of the list: retired from the kernel's table
	 * (o.flows_evicted) or expired there and not yet reclaimed
	 */
	__u64	n_evicted;
	struct np_rkey *by_key;		/* hash index of flows */
	size_t	key_mask;		/* by_key's size - 1 */
	struct np_rhost *hosts;		/* by IP */
	size_t	n_hosts;
	struct np_rmac *rmacs;		/* storage of every host's lists */
	struct np_riface *ifaces;	/* by MAC */
	size_t	n_ifaces;
	__u8	(*ips)[16];		/* storage of every interface's list */
	struct np_mac_name *names;	/* by MAC */
	size_t	n_names;
	struct np_mac_owner *owners;	/* by MAC */
	size_t	n_owners;
};

const char *np_report_name(const struct np_report *r, const __u8 mac[6]);
/*
 * The IP that ARP/ND showed owning mac, in the address family of near (a
 * server IP; NULL: IPv4); NULL if none: an address of the other family is
 * none an appliance of this host could be pointed at.
 */
const __u8 *np_report_owner(const struct np_report *r, const __u8 mac[6],
			    const __u8 *near);
const struct np_rflow *np_report_find_flow(const struct np_report *r,
					   const struct np_flow_key *k);
/*
 * out[i]: the flow of prev with the key of r->flows[i], or NULL; what
 * np_report_find_flow() would find, for every flow at once and much
 * faster (prev's records are fetched ahead of the comparisons).
 */
void np_report_match_flows(const struct np_report *r,
			   const struct np_report *prev,
			   const struct np_rflow **out);
const struct np_rhost *np_report_find_host(const struct np_report *r,
					   const __u8 ip[16]);
const struct np_rmac *np_rhost_find_mac(const struct np_rhost *h, int dir,
					const struct np_rmac *m);
const struct np_riface *np_report_find_iface(const struct np_report *r,
					     const __u8 mac[6]);

/* The server-side MAC of a direction's last frame. */
const __u8 *np_dir_last_mac(const struct np_dir *d, int dir);

/* Seconds between prev and r for rates; <= 0: no rates. */
double np_report_elapsed(const struct np_report *r,
			 const struct np_report *prev);

/* A counter's increase since the previous report, per second, x sample. */
double np_rate(const struct np_report *r, __u64 cur, __u64 prev, double el);

/* Unix ns of an NP clock value. */
__s64 np_report_unix_ns(const struct np_report *r, __u64 ns);

extern const char *const np_tcp_flag_names[8];

#endif /* NBDPATH_REPORT_PRIV_H */
