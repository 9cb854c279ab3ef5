/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Replay: run every frame of a pcap or pcapng capture through the loaded
 * XDP classifier with BPF_PROG_TEST_RUN, in capture time, several frames
 * to a call where they fit in a page. `nbdpath replay`
 * prints a report from the result; the tests compare its maps with those
 * of frames run directly.
 */
#ifndef NBDPATH_REPLAY_H
#define NBDPATH_REPLAY_H

#include <stdbool.h>
#include "nbdpath.h"
#include "flowtab.h"
#include "prog.h"

struct np_replay_result {
	__u64 frames;			/* records read from the capture */
	__u64 first_ns;			/* capture time of the first, unix ns */
	__u64 last_ns;			/* latest capture time, unix ns */
	__u64 reads;			/* flow table reads for idle expiry */
	__u64 calls;			/* BPF_PROG_TEST_RUN calls */
	__u64 batched;			/* frames classified several to a call */
	/* frames the kernel refuses to run (shorter than Ethernet) */
	__u64 extra_stats[NP_STAT_MAX];
	/* pcapng frames of interfaces that are not Ethernet: not classified */
	__u64 not_ethernet;
	bool truncated;			/* the capture ends mid-record */
	bool input_error;		/* the failure is the file's (usage) */
	struct np_flowset flows;	/* the final merged read */
};

/*
 * Open the capture (path "-" is standard input), load the program with
 * *po, run every frame, and read the flow table one last time (reclaimed
 * slots go to the np_retired map). On success *skel_out holds the loaded
 * program with its maps for the caller to read and destroy, and *res the
 * outcome. On failure a one-line message has been printed, nothing is
 * left loaded, and the return is a negative errno; res->input_error says
 * whether the file or the command line was at fault rather than the
 * system. Always call np_replay_result_free(res).
 */
int np_replay_file(const char *path, const struct np_prog_opts *po,
		   struct nbdpath_bpf **skel_out, struct np_replay_result *res);

void np_replay_result_free(struct np_replay_result *res);

/*
 * What a report of the capture needs while it runs: every step_ns of
 * capture time (from the first frame) the table is read and step()
 * called with the step's end (unix ns) and the program's maps; retire()
 * gets the counts of every reclaimed slot (NULL: np_retire_to_maps).
 */
struct np_replay_hooks {
	__u64 step_ns;			/* 0: no steps */
	int (*step)(void *ctx, __u64 end_ns, const struct np_maps *maps,
		    struct np_replay_result *res);
	np_retire_fn retire;
	void *ctx;
};

int np_replay_file_hooks(const char *path, const struct np_prog_opts *po,
			 const struct np_replay_hooks *hooks,
			 struct nbdpath_bpf **skel_out,
			 struct np_replay_result *res);

#endif /* NBDPATH_REPLAY_H */
