/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Capabilities after attach: `run` keeps only what polling and its exit
 * need (see the man page, RUNNING AS A SERVICE), found by trying, and drops the rest.
 */
#ifndef NBDPATH_CAPS_H
#define NBDPATH_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/capability.h>
#include <linux/types.h>

#ifndef CAP_PERFMON
#define CAP_PERFMON	38
#endif
#ifndef CAP_BPF
#define CAP_BPF		39
#endif

#define NP_CAP(c)	(1ull << (c))

/*
 * Does try(arg) fail (-EPERM or -EACCES) once the capabilities in caps are
 * gone from the effective set? They are put back before this returns.
 */
bool np_caps_needed(__u64 caps, int (*try)(void *arg), void *arg);

/*
 * Keep only the capabilities in keep (of those held): the effective and
 * permitted sets become keep, the inheritable and ambient sets empty, and
 * with CAP_SETPCAP held, the bounding set keep too. This thread only:
 * call it before any other thread exists. -errno after a message.
 */
int np_caps_keep(__u64 keep);

/* "cap_bpf,cap_sys_admin" or "none", for messages. */
const char *np_caps_names(__u64 caps, char *buf, size_t size);

#endif /* NBDPATH_CAPS_H */
