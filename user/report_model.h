/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The built report: everything a writer prints, computed once by
 * np_report_build() (report.c). Counts are as reported: multiplied by
 * --sample-rate; rates are per second over r->elapsed; names of vmks,
 * owner IPs and mirror NICs are resolved. The writers (report_json.c,
 * report_text.c, report_prom.c) only format it.
 */
#ifndef NBDPATH_REPORT_MODEL_H
#define NBDPATH_REPORT_MODEL_H

#include "report.h"
#include "finished.h"

/* Packets and bytes of one server-side MAC in one direction of a host. */
struct np_rmac {
	__u8	mac[6];
	bool	other;			/* MACs past a flow's set: not one MAC */
	__u64	packets;
	__u64	bytes;
	/* TCP health: a flow direction's under its main MAC */
	__u64	retransmits, retransmit_bytes, resets;
	double	pps, bps;		/* when r->elapsed > 0 */
	const char *name;		/* vmk name, or NULL */
	const struct np_ip *owner;	/* owner IP in the host's family, or NULL */
};

/* A host's view over the last --window seconds (nbdpath(8), TIME). */
struct np_rcurrent {
	enum np_verdict verdict;	/* NP_V_IDLE: nothing in the window */
	__s64	since_ns;		/* unix; when this verdict began */
	struct np_rmac *dir[2];
	size_t	n[2];
	/* the last transitions, oldest first */
	const struct np_change *changes;
	size_t	n_changes;
	__s64	asym_until_ns;		/* last asymmetric at, if not now; 0 */
};

#define NP_RFAILED_MAX	4

struct np_rhost {
	struct np_ip ip;
	enum np_verdict verdict;	/* over everything since the start */
	struct np_rmac *dir[2];		/* NP_DIR_*, sorted by MAC */
	size_t	n[2];
	bool	has_current;
	struct np_rcurrent cur;
	/* ip ::, the counts of hosts past np_retired's size (nbdpath(8), JSON) */
	bool	overflow;
	/* TCP health (nbdpath(8), TCP HEALTH) of the listed flows */
	__u64	hs[NP_HS_MAX];		/* handshakes by state */
	/* SYN-ACKs never acknowledged, by the server MAC that sent them */
	struct np_rfailed {
		__u8	mac[6];
		const char *name;
		__u64	count;
	} failed[NP_RFAILED_MAX];
	size_t	n_failed;
	bool	failed_more;		/* MACs past failed[] */
	/* handshake RTT, [0] server side, [1] client side: min, median,
	 * max over the flows whose SYN-ACK is in the window (all listed
	 * flows without one); n_rtt[side] 0: none
	 */
	double	rtt[2][3];
	size_t	n_rtt[2];
};

/* A direction of a flow as reported. */
struct np_rdir {
	bool	seen;
	__u64	packets;
	__u64	bytes;
	__u64	counters[NP_DC_MAX];	/* NP_DIR_COUNTERS, by NP_DC_* */
	double	pps, bps;
	__u8	macs[NP_DIR_MACS][6];	/* server-side MACs, sorted */
	int	n_macs;
	__u16	vlans[NP_DIR_VLANS];	/* sorted */
	int	n_vlans;
	__u16	sessions[NP_DIR_SESSIONS];	/* sorted */
	int	n_sessions;
	const char *interface;		/* vmk of the last frame's server MAC */
	const char *mirror;		/* mirror NIC of the last frame */
};

/* A flow's handshake: times unix (0: not seen), RTTs in s (< 0: none). */
struct np_rhandshake {
	__s64	syn_ns, synack_ns, ack_ns;
	/* server-side MACs, by value: flows move while the report is built */
	__u8	syn_mac[6];
	__u8	synack_mac[6];
	__u64	syn_retries, synack_retries;
	double	rtt_server;		/* SYN to SYN-ACK */
	double	rtt_client;		/* SYN-ACK to the client's ACK */
	enum np_hs_state state;
};

struct np_rflow {
	struct np_flow_rec rec;
	struct np_rhandshake hs;
	enum np_verdict verdict;
	enum np_flow_state state;
	__u64	bytes;			/* both directions, unscaled: the order */
	bool	listed;			/* in "flows" */
	__s64	first_ns, last_ns;	/* unix */
	__s64	ended_ns;		/* unix, 0 while active */
	struct np_rdir dir[2];		/* of listed flows */
};

/*
 * A finished flow as listed: built by this report (flow), or a record
 * kept with its object from an earlier one (ord; finished.h). ord is in
 * o.finished's order: valid until its next np_finished_order().
 */
struct np_rfin {
	const struct np_rflow *flow;
	const struct np_fin_ord *ord;
};

/* A listed record of o.finished (ord not NULL). */
static inline const struct np_fin_rec *np_rfin_rec(const struct np_report *r,
						   const struct np_rfin *e);

/* A server-side MAC: rx counts to_server frames, tx from_server frames. */
struct np_riface {
	__u8	mac[6];
	__u64	packets[2];		/* NP_DIR_TO_SERVER = rx */
	__u64	bytes[2];
	__u64	retransmits[2], retransmit_bytes[2], resets[2];
	double	pps[2], bps[2];		/* when r->elapsed > 0 */
	double	pps_all, bps_all;	/* both directions */
	const char *name;
	const struct np_ip *owner;
	struct np_ip *ips;		/* server IPs it carried, sorted */
	size_t	n_ips;
};

struct np_mac_name {
	__u8	mac[6];
	char	name[16];
};

struct np_mac_owner {
	__u8	mac[6];
	__u8	family;			/* NP_NEIGH_IPV4 or NP_NEIGH_IPV6 */
	struct np_ip ip;
};

struct np_report {
	struct np_report_opts o;	/* strings borrowed from the caller */
	enum np_source kind;
	__u64	sample;			/* multiplier of every count: >= 1 */
	__s64	time_ns;		/* unix time of the report */
	/* > 0: seconds the rates are over (run, replay --interval) */
	double	elapsed;
	bool	rates_from_prev;	/* rates against an earlier report */
	__u64	stats[NP_STAT_MAX];	/* as reported (x sample) */
	/*
	 * The flows built by this report: the n_active active ones first,
	 * by bytes; then the table's finished ones
	 */
	struct np_rflow *flows;
	size_t	n_flows;
	size_t	n_listed;		/* n_active + n_fin */
	size_t	n_active;
	size_t	n_table;		/* the first n_table: the table's */
	struct np_rfin *fin;		/* the finished flows, in list order */
	size_t	n_fin;
	__u64	n_evicted;		/* flows gone from the list */
	__u64	n_dropped;		/* finished records dropped by the bound */
	struct np_keyidx by_key;	/* flows by key */
	struct np_rhost *hosts;		/* by IP */
	size_t	n_hosts;
	struct np_rmac *rmacs;		/* storage of every host's lists */
	struct np_riface *ifaces;	/* by MAC */
	size_t	n_ifaces;
	struct np_ip *ips;		/* storage of every interface's list */
	struct np_mac_name *names;	/* by MAC */
	size_t	n_names;
	struct np_mac_owner *owners;	/* by MAC */
	size_t	n_owners;
	/* mirror NIC names by ifindex, resolved once */
	struct { __u32 ifindex; char name[16]; bool ok; } nics[16];
	int	n_nics;
	void	*history_store;		/* owned by history.c */
};

static inline const struct np_fin_rec *np_rfin_rec(const struct np_report *r,
						   const struct np_rfin *e)
{
	return np_finished_at(r->o.finished, e->ord->seq);
}

const struct np_rhost *np_report_find_host(const struct np_report *r,
					   const struct np_ip *ip);

/*
 * The verdict rule (nbdpath(8), VERDICTS) over a host's per-MAC lists,
 * each sorted by MAC; NP_V_NONE when neither has packets.
 */
enum np_verdict np_lists_verdict(struct np_rmac *const dir[2],
				 const size_t n[2]);

/* The vmk name of a server-side MAC, or NULL. */
const char *np_report_mac_name(const struct np_report *r, const __u8 mac[6]);

#endif /* NBDPATH_REPORT_MODEL_H */
