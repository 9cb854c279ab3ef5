/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The report: hosts, flows and interfaces with their verdicts, built from
 * the maps (nbdpath(8), VERDICTS), printed as the human tables, as JSON
 * (nbdpath(8), JSON) or as Prometheus metrics. `run`, the query commands
 * and `replay` all print through here: np_report_build() computes, the
 * writers only format.
 */
#ifndef NBDPATH_REPORT_H
#define NBDPATH_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include "nbdpath.h"
#include "flowtab.h"
#include "fmt.h"
#include "keyidx.h"
#include "prog.h"

enum np_source { NP_SRC_QUERY, NP_SRC_RUN, NP_SRC_REPLAY };

const char *np_source_name(enum np_source s);

/* "state" of a flow (nbdpath(8), FLOWS) */
enum np_flow_state {
	NP_FS_ACTIVE,
	NP_FS_CLOSED,			/* FIN both ways */
	NP_FS_RESET,			/* RST */
	NP_FS_IDLE,			/* nothing for --idle-timeout */
};

const char *np_flow_state_name(enum np_flow_state s);

/* enum np_hs_state: np_rules.h */
const char *np_hs_state_name(enum np_hs_state s);

/*
 * A flow's state at now (NP clock): closed or reset once its end is
 * seen, idle once quiet for idle_sec (0: the default); now 0 keeps an
 * open flow active.
 */
enum np_flow_state np_flow_state_at(const struct np_flow_rec *f, __u64 now,
				    __u32 idle_sec);

/* A transition of a host's current verdict. */
struct np_change {
	__s64	time_ns;		/* unix */
	enum np_verdict verdict;
};

struct np_history;
struct np_finished;

struct np_report_opts {
	enum np_source kind;
	const char *path;		/* replay: the file; NULL otherwise */
	bool truncated;			/* replay: the capture was cut short */
	__u64 not_ethernet;		/* replay: frames of other link types */
	const char *const *ifaces;	/* run: the -i names */
	const __u32 *ifindexes;		/* ...and their ifindexes (or NULL) */
	int n_ifaces;
	__u32 sample_rate;		/* 0/1: none; else counts x N, "sampled": N */
	__u32 idle_sec;			/* flows idle this long are finished */
	__u32 closed_sec;		/* closed flows leave the table this late */
	__s64 clock_to_unix_ns;		/* NP clock + this = unix ns */
	__u64 now_ns;			/* "now" in NP clock (replay: last frame) */
	double interval;		/* > 0: rates (run; replay --interval) */
	__u64 flows_evicted;		/* from np_meta */
	/*
	 * Added to the kernel's counters (NULL: none). Replay counts here
	 * the frames BPF_PROG_TEST_RUN refuses (shorter than an Ethernet
	 * header) so that the outcomes still sum to "packets".
	 */
	const __u64 *extra_stats;	/* [NP_STAT_MAX] */
	/* for the metrics: the table's size and fill, the XDP mode */
	__u64 table_slots;
	__u64 table_used;
	double poll_interval;		/* --interval of the sensor */
	const char *xdp_mode;
	__u64 window_ns;		/* --window, for "current" */
	/* NULL: no "current" per host; updated by each build */
	struct np_history *history;
	/* a query's: "current" from a running instance's np_current */
	bool current_from_map;
	int current_fd;
	/* finished flows kept after their slots were reclaimed; NULL: none */
	struct np_finished *finished;	/* keeps each record's object */
};

struct np_report;
struct np_rflow;

/* Unix ns of an NP clock value (wraps on a forged offset, never UB). */
__s64 np_report_unix(const struct np_report_opts *o, __u64 ns);

/*
 * Build the report from a merged flow set and the other maps (stats,
 * neigh, names, retired; fds < 0 are skipped), with rates against prev
 * (NULL: counts from zero over o->interval). Totals of hosts and
 * interfaces include the retired map, so expired flows never take their
 * counts with them. NULL with errno set on failure.
 *
 * The report keeps o's strings (path, ifaces) and o->history and
 * o->finished by pointer: they must outlive it. idle_sec/closed_sec 0
 * mean the program's defaults; now_ns 0 lists every flow as active.
 */
struct np_report *np_report_build(const struct np_maps *m,
				  const struct np_flowset *flows,
				  const struct np_report_opts *o,
				  const struct np_report *prev);
void np_report_free(struct np_report *r);

/* Counter i (NP_STAT_*) as reported: frames times --sample-rate. */
__u64 np_report_stat(const struct np_report *r, int i);

/* One warning line if frames found the flow table full; true if so. */
bool np_report_warn_full(const struct np_report *r, __u32 max_flows);

/* Views, for the query commands and the human report. */
#define NP_VIEW_STATS	0x1
#define NP_VIEW_HOSTS	0x2
#define NP_VIEW_FLOWS	0x4
#define NP_VIEW_IFACES	0x8
#define NP_VIEW_ALL	0xf

/* One JSON object on one line with the chosen views (nbdpath(8), JSON). */
void np_report_json(FILE *f, const struct np_report *r, unsigned int views);

/* One flow object of "flows" on one line (the --flow-log format). */
void np_report_json_flow(FILE *f, const struct np_report *r,
			 const struct np_rflow *fl);
/* The same of a kept record (struct np_rfin). */
struct np_fin_kept;
void np_report_json_kept(FILE *f, const struct np_report *r,
			 const struct np_fin_kept *k);

/*
 * For np_report_build(): a finished record's object, made once from its
 * flow fl with w (a writer onto no FILE) into a new np_fin_kept (only
 * the object and where its rates go, the rest is the caller's); NULL
 * without memory.
 */
struct jsonw;
struct np_fin_kept *np_report_json_keep(struct jsonw *w,
					const struct np_report *r,
					const struct np_rflow *fl);

/*
 * f: rec, reclaimed in state st (not NP_FS_ACTIVE), as r would list it
 * among its kept records (the flow log's and the export's record of a
 * flow the --max-finished bound may drop from the list).
 */
void np_report_kept_flow(struct np_report *r, const struct np_flow_rec *rec,
			 enum np_flow_state st, struct np_rflow *f);

/*
 * A reclaimed slot's flow, handed to the flow log and the export as the
 * slot goes, so that the --max-finished bound never keeps it from them.
 */
struct np_reclaimed {
	struct np_flow_rec rec;
	enum np_flow_state state;	/* as the list keeps it */
};

struct np_vec;
/* Append rec, reclaimed in state st, to v (of struct np_reclaimed); -ENOMEM. */
int np_reclaimed_add(struct np_vec *v, const struct np_flow_rec *rec,
		   enum np_flow_state st);

/* The human tables. */
void np_report_text(FILE *f, const struct np_report *r, unsigned int views);

/* Prometheus text exposition of the same figures (nbdpath(8), METRICS). */
void np_report_prom(FILE *f, const struct np_report *r);

#endif /* NBDPATH_REPORT_H */
