/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The NIC side of `run`, `status` and `detach`: privileges, settings that
 * hide traffic from XDP, and what XDP program is attached where.
 */
#ifndef NBDPATH_NIC_H
#define NBDPATH_NIC_H

#include <stdbool.h>
#include <linux/types.h>

/* Privileges a command needs, from the effective capability set. */
#define NP_PRIV_BPF		0x1	/* CAP_BPF or CAP_SYS_ADMIN */
#define NP_PRIV_NET_ADMIN	0x2
#define NP_PRIV_SYS_ADMIN	0x4

/*
 * 0 when every privilege in `need` is held; otherwise -EPERM after one
 * line naming exactly the missing ones and what `cmd` needs them for.
 */
int np_check_privileges(const char *cmd, unsigned int need);
bool np_has_sys_admin(void);

/* One warning line per setting of ifname that hides traffic from XDP. */
void np_nic_warn(const char *ifname);

/* The MTU of ifname, or -errno. */
int np_nic_mtu(const char *ifname);

/* Largest MTU a driver without multi-buffer XDP takes in native mode. */
#define NP_XDP_SINGLE_BUF_MTU	3498

/* The XDP program attached to an interface. */
struct np_xdp_att {
	__u32 prog_id;			/* 0: none */
	__u32 mode;			/* XDP_FLAGS_{DRV,SKB,HW}_MODE */
	char name[16];			/* "" when it cannot be read */
	__u32 link_id;			/* the bpf_link attaching it, or 0 */
};

/* 0 with a->prog_id == 0 when nothing is attached; -errno on failure. */
int np_xdp_attached(int ifindex, struct np_xdp_att *a);

const char *np_xdp_mode_name(__u32 mode);	/* native, generic, offload */

/* The pid holding link_id open (scanning /proc), or 0 if not found. */
int np_link_owner(__u32 link_id);

#endif /* NBDPATH_NIC_H */
