/* SPDX-License-Identifier: GPL-2.0 */
/* VMkernel interface names of server-side MACs: --vmk and --vmk-file. */
#ifndef NBDPATH_VMK_H
#define NBDPATH_VMK_H

#include <stddef.h>
#include "nbdpath.h"

#define NP_MAX_VMKS	256

struct np_vmk {
	__u8 mac[6];
	char name[16];
};

struct np_vmk_list {
	struct np_vmk v[NP_MAX_VMKS];
	int n;
};

/*
 * "vmk0=00:50:56:aa:bb:cc"; 0 or -EINVAL (message already printed).
 * A MAC given twice keeps the later name; a name may have many MACs
 * (every host has its own vmk0).
 */
int np_vmk_parse_arg(struct np_vmk_list *l, const char *arg);

/*
 * The output of `esxcfg-vmknic -l` or of `esxcli network ip interface
 * list`, detected automatically. 0, or -errno / -EINVAL with a one-line
 * message printed (unreadable file, no vmk found, unknown format).
 */
int np_vmk_parse_file(struct np_vmk_list *l, const char *path);

/* Bigger than any real output (a few KB): refused, not read further. */
#define NP_VMK_FILE_MAX	(4 << 20)

/* The same for text already read, of len bytes; path names it in messages. */
int np_vmk_parse_text(struct np_vmk_list *l, const char *path,
		      const char *text, size_t len);

/* Parse "aa:bb:cc:dd:ee:ff" (also '-' separated, any case); 0 or -EINVAL. */
int np_parse_mac(const char *s, __u8 mac[6]);

/* Store the names into the np_names map so queries see them too; 0 or -errno. */
int np_vmk_store(const struct np_vmk_list *l, int names_fd);

#endif /* NBDPATH_VMK_H */
