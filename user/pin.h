/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pin directory of a running instance: bpffs, the single-instance
 * lock, the np_meta record, and opening the maps again from a query.
 *
 * Errors are negative errnos with these meanings, after one message:
 *   -EBUSY    another live run holds the directory	(exit 1)
 *   -EPROTO   pins of an incompatible layout		(exit 3)
 *   -ENOENT   nothing is running there			(exit 4)
 *   -ESTALE   only the pins of a run that stopped	(exit 4)
 *   others    a runtime failure (EACCES, EPERM, ...)	(exit 1)
 */
#ifndef NBDPATH_PIN_H
#define NBDPATH_PIN_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include "nbdpath.h"
#include "prog.h"

#define NP_N_PINS	8

/* A pin directory claimed by `run`. */
struct np_pins {
	char dir[PATH_MAX];
	int dir_fd;			/* holds flock(LOCK_EX) while we live */
	int claim_fd;			/* the claim lock, while claiming or releasing */
	bool own_dir;			/* ours to remove on the way out */
	bool mounted;			/* a bpffs of ours on dir itself */
	char made[PATH_MAX];		/* the topmost directory we created */
	unsigned int mode;		/* of each pin */
	bool pinned[NP_N_PINS];
};

/*
 * Make dir a directory on bpffs (mounting one where it is missing, as
 * under `ip netns exec`), lock it, and clear the stale pins of a stopped
 * run of ours. Refuses (never decodes) pins of another layout.
 */
int np_pins_claim(struct np_pins *p, const char *dir, unsigned int mode);

/* Pin every map, np_meta first, each chmod'ed to the claim's mode. */
int np_pins_add(struct np_pins *p, const struct np_maps *m);

/* Unpin what np_pins_add pinned, drop the lock. Safe on a zeroed struct. */
void np_pins_release(struct np_pins *p);

/* A running (or stopped) instance, opened read-only by a query. */
struct np_instance {
	char dir[PATH_MAX];
	struct np_maps maps;		/* fds, -1 when not open */
	struct np_meta meta;
	bool live;			/* its run still holds the lock */
	/* meta.ifindex as names in the run's network namespace */
	char ifnames[NP_MAX_IFACES][IF_NAMESIZE + 16];
};

#define NP_INST_STALE_OK	0x1	/* open the pins of a stopped run too */
#define NP_INST_QUIET_NONE	0x2	/* no message when nothing is there */

/*
 * Open dir's pins read-only after checking np_meta: its layout first
 * (-EPROTO), then whether its run lives (-ESTALE).
 */
int np_instance_open(struct np_instance *in, const char *dir,
		     unsigned int flags);
void np_instance_close(struct np_instance *in);

/*
 * Read and check np_meta through fd: 0, -EPROTO (another layout; the
 * layout number found, or 0, in *layout_seen), or -errno.
 */
int np_meta_read(int fd, struct np_meta *meta, __u32 *layout_seen);

/* Unix time now, in ns. */
__u64 np_unix_ns(void);

#endif /* NBDPATH_PIN_H */
