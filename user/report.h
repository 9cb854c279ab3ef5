/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The report: hosts, flows and interfaces with their verdicts, built from
 * the maps (SPEC §4), printed as the human tables or as JSON (SPEC §6).
 * `run`, the query commands and `replay` all print through here.
 */
#ifndef NBDPATH_REPORT_H
#define NBDPATH_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include "nbdpath.h"
#include "flowtab.h"
#include "prog.h"

enum np_verdict {
	NP_V_NONE,			/* no packets at all */
	NP_V_ASYMMETRIC,
	NP_V_SYMMETRIC,
	NP_V_TO_SERVER_ONLY,
	NP_V_FROM_SERVER_ONLY,
};

const char *np_verdict_name(enum np_verdict v);

struct np_report_opts {
	const char *kind;		/* "run", "replay" or "query" */
	const char *path;		/* replay: the file; NULL otherwise */
	bool truncated;			/* replay: the capture was cut short */
	const char *const *ifaces;	/* run: the -i names */
	const __u32 *ifindexes;		/* ...and their ifindexes (or NULL) */
	int n_ifaces;
	__u32 sample_rate;		/* 0/1: none; else counts x N, "sampled": N */
	__u32 idle_sec;			/* flows idle this long leave "flows" */
	__u32 closed_sec;		/* closed flows, this long after closing */
	__s64 clock_to_unix_ns;		/* NP clock + this = unix ns */
	__u64 now_ns;			/* "now" in NP clock (replay: last frame) */
	double interval;		/* > 0: run, rates against prev */
	__u64 flows_evicted;		/* from np_meta */
	/*
	 * Added to the kernel's counters (NULL: none). Replay counts here
	 * the frames BPF_PROG_TEST_RUN refuses (shorter than an Ethernet
	 * header) so that the outcomes still sum to "packets".
	 */
	const __u64 *extra_stats;	/* [NP_STAT_MAX] */
};

struct np_report;

/*
 * Build the report from a merged flow set and the other maps (stats,
 * neigh, names, retired; fds < 0 are skipped). Totals of hosts and
 * interfaces include the retired map, so expired flows never take their
 * counts with them. NULL with errno set on failure.
 *
 * The report keeps o's strings (kind, path, ifaces) by pointer: they
 * must outlive it. idle_sec/closed_sec 0 mean the program's defaults
 * (NP_DEFAULT_IDLE_SEC, 5 s); now_ns 0 lists every flow. Flows idle or
 * closed that long leave "flows" (and "stats.flows") but stay in the
 * host and interface totals.
 */
struct np_report *np_report_build(const struct np_maps *m,
				  const struct np_flowset *flows,
				  const struct np_report_opts *o);
void np_report_free(struct np_report *r);

/* Counter i (NP_STAT_*) as reported: frames times --sample-rate (SPEC 3). */
__u64 np_report_scaled_stat(const struct np_report *r, int i);

/* One warning line if frames found the flow table full; true if so. */
bool np_report_warn_full(const struct np_report *r, __u32 max_flows);

/* Views, for the query commands and the human report. */
#define NP_VIEW_STATS	0x1
#define NP_VIEW_HOSTS	0x2
#define NP_VIEW_FLOWS	0x4
#define NP_VIEW_IFACES	0x8
#define NP_VIEW_ALL	0xf

/*
 * One JSON object on one line (SPEC §6) with the chosen views' keys plus
 * version, source and time. prev (may be NULL): the previous interval's
 * report, for "interval", "pps" and "bps" when o->interval > 0.
 *
 * Rates are over the measured time between the two reports' now_ns
 * (o->interval when there is no prev), emitted as "interval"; entries
 * absent from prev count from zero. Interfaces carry rx_pps, rx_bps,
 * tx_pps, tx_bps; host rx/tx entries pps and bps. With sample_rate N > 1
 * every packets/bytes/payload_bytes (and rate) is x N and "sampled": N
 * appears at the top level and in every entry that has counts; "stats"
 * stays unscaled (what the sensor saw: the outcomes sum to "packets").
 * A direction's "interface" is the vmk name of the server-side MAC of
 * its last frame (with one server MAC: that MAC's name), or null.
 */
void np_report_json(FILE *f, const struct np_report *r,
		    const struct np_report *prev, unsigned int views);

/* The human tables; rates when prev is given. */
void np_report_text(FILE *f, const struct np_report *r,
		    const struct np_report *prev, unsigned int views);

/* Prometheus text exposition of the same figures. */
void np_report_prom(FILE *f, const struct np_report *r);

/*
 * A ready-made np_retire_fn: adds a reclaimed slot's per-MAC counts to
 * the np_retired map and counts it in np_meta.flows_evicted.
 * ctx: const struct np_maps *.
 */
void np_retire_to_maps(const struct np_flow_rec *rec, void *ctx);

/* Formatting helpers shared with the rest of userspace. */
void np_fmt_mac(char buf[18], const __u8 mac[6]);
void np_fmt_ip(char buf[46], const __u8 ip[16]);	/* v4-mapped -> a.b.c.d */
bool np_ip_is_v4(const __u8 ip[16]);		/* ::ffff:a.b.c.d */

#endif /* NBDPATH_REPORT_H */
