// SPDX-License-Identifier: GPL-2.0
/* Privileges, NIC settings and XDP attachments. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "nic.h"

#ifndef CAP_BPF
#define CAP_BPF		39
#endif

/* ---- privileges ---- */

static int effective_caps(__u64 *eff)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	*eff = data[0].effective | (__u64)data[1].effective << 32;
	return 0;
}

static bool has_cap(__u64 eff, int cap)
{
	return eff & (1ull << cap);
}

bool np_has_sys_admin(void)
{
	__u64 eff = 0;

	return !effective_caps(&eff) && has_cap(eff, CAP_SYS_ADMIN);
}

int np_check_privileges(const char *cmd, unsigned int need)
{
	char missing[96] = "";
	__u64 eff = 0;
	int err;

	err = effective_caps(&eff);
	if (err) {
		np_err("cannot read this process's capabilities: %s", strerror(-err));
		return err;
	}
	/* before 5.8 (no CAP_BPF) CAP_SYS_ADMIN is what the kernel checks */
	if ((need & NP_PRIV_BPF) && !has_cap(eff, CAP_BPF) &&
	    !has_cap(eff, CAP_SYS_ADMIN))
		strcat(missing, ", CAP_BPF (or CAP_SYS_ADMIN)");
	if ((need & NP_PRIV_NET_ADMIN) && !has_cap(eff, CAP_NET_ADMIN))
		strcat(missing, ", CAP_NET_ADMIN");
	if ((need & NP_PRIV_SYS_ADMIN) && !has_cap(eff, CAP_SYS_ADMIN))
		strcat(missing, ", CAP_SYS_ADMIN");
	if (!missing[0])
		return 0;
	np_err("%s needs privileges this process lacks: %s; run it as root (sudo)",
	       cmd, missing + 2);
	return -EPERM;
}

/* ---- NIC settings ---- */

static int ethtool_ioctl(int sock, const char *ifname, void *data)
{
	struct ifreq ifr = {};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = data;
	return ioctl(sock, SIOCETHTOOL, &ifr) ? -errno : 0;
}

/*
 * The active features of ifname by name: ETHTOOL_GFEATURES gives bits
 * whose meaning is the kernel's string set ETH_SS_FEATURES.
 */
struct features {
	struct ethtool_gstrings *names;
	struct ethtool_gfeatures *feat;
	__u32 n;
};

static void features_free(struct features *f)
{
	free(f->names);
	free(f->feat);
	memset(f, 0, sizeof(*f));
}

static int features_read(int sock, const char *ifname, struct features *f)
{
	struct {
		struct ethtool_sset_info hdr;
		__u32 buf[1];
	} sset = { .hdr = { .cmd = ETHTOOL_GSSET_INFO,
			    .sset_mask = 1ull << ETH_SS_FEATURES } };
	__u32 blocks;
	int err;

	memset(f, 0, sizeof(*f));
	err = ethtool_ioctl(sock, ifname, &sset);
	if (err)
		return err;
	if (!sset.hdr.sset_mask)
		return -EOPNOTSUPP;
	f->n = sset.hdr.data[0];
	blocks = (f->n + 31) / 32;
	f->names = calloc(1, sizeof(*f->names) + (size_t)f->n * ETH_GSTRING_LEN);
	f->feat = calloc(1, sizeof(*f->feat) +
			 blocks * sizeof(f->feat->features[0]));
	if (!f->names || !f->feat) {
		features_free(f);
		return -ENOMEM;
	}
	f->names->cmd = ETHTOOL_GSTRINGS;
	f->names->string_set = ETH_SS_FEATURES;
	f->names->len = f->n;
	f->feat->cmd = ETHTOOL_GFEATURES;
	f->feat->size = blocks;
	err = ethtool_ioctl(sock, ifname, f->names);
	if (!err)
		err = ethtool_ioctl(sock, ifname, f->feat);
	if (err)
		features_free(f);
	return err;
}

static bool feature_on(const struct features *f, const char *name)
{
	for (__u32 i = 0; i < f->n; i++) {
		const char *s = (const char *)f->names->data + i * ETH_GSTRING_LEN;

		if (!strncmp(s, name, ETH_GSTRING_LEN))
			return f->feat->features[i / 32].active & (1u << (i % 32));
	}
	return false;
}

int np_nic_mtu(const char *ifname)
{
	struct ifreq ifr = {};
	int sock, err = 0;

	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(sock, SIOCGIFMTU, &ifr))
		err = -errno;
	close(sock);
	return err ? err : ifr.ifr_mtu;
}

/* true unless the interface is known to be down */
static bool if_up(int sock, const char *ifname)
{
	struct ifreq ifr = {};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr))
		return true;
	return ifr.ifr_flags & IFF_UP;
}

void np_nic_warn(const char *ifname)
{
	struct features f;
	bool lro, grohw, ctag, stag;
	int sock, err;

	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		np_dbg("%s: no socket to read NIC settings: %s", ifname,
		       strerror(errno));
		return;
	}
	if (!if_up(sock, ifname))
		np_warn("%s is down, so it receives nothing; bring it up with 'ip link set %s up'",
			ifname, ifname);
	err = features_read(sock, ifname, &f);
	close(sock);
	if (err) {
		/* not every device speaks ethtool; nothing to warn about */
		np_dbg("%s: cannot read NIC features: %s", ifname, strerror(-err));
		return;
	}
	/* a stripped tag lives in the descriptor, not the frame XDP reads */
	ctag = feature_on(&f, "rx-vlan-hw-parse");
	stag = feature_on(&f, "rx-vlan-stag-hw-parse");
	if (ctag || stag)
		np_warn("%s: rx VLAN offload is on, so XDP may not see VLAN tags; turn it off with 'ethtool -K %s%s%s'",
			ifname, ifname, ctag ? " rxvlan off" : "",
			stag ? " rx-vlan-stag-hw-parse off" : "");
	/* merged segments are counted as one packet */
	lro = feature_on(&f, "rx-lro");
	grohw = feature_on(&f, "rx-gro-hw");
	if (lro || grohw)
		np_warn("%s: %s is on, so packets are merged before XDP counts them; turn it off with 'ethtool -K %s lro off gro-hw off'",
			ifname, lro && grohw ? "LRO and GRO-HW" :
			lro ? "LRO" : "GRO-HW", ifname);
	features_free(&f);
}

/* ---- XDP attachments ---- */

const char *np_xdp_mode_name(__u32 mode)
{
	switch (mode) {
	case XDP_FLAGS_DRV_MODE:
		return "native";
	case XDP_FLAGS_SKB_MODE:
		return "generic";
	case XDP_FLAGS_HW_MODE:
		return "offload";
	}
	return "unknown";
}

/* Reading a program or link by id takes CAP_SYS_ADMIN: best effort. */
static void prog_name(__u32 id, char name[16])
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd;

	name[0] = 0;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0) {
		np_dbg("cannot open program id %u: %s", id, strerror(errno));
		return;
	}
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		snprintf(name, 16, "%s", info.name);
	close(fd);
}

static __u32 xdp_link_of(int ifindex, __u32 prog_id)
{
	__u32 id = 0;

	while (!bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue;	/* gone meanwhile, or no privilege */
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    info.type == BPF_LINK_TYPE_XDP &&
		    info.xdp.ifindex == (__u32)ifindex &&
		    info.prog_id == prog_id) {
			close(fd);
			return id;
		}
		close(fd);
	}
	return 0;
}

int np_xdp_attached(int ifindex, struct np_xdp_att *a)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err;

	memset(a, 0, sizeof(*a));
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err < 0 ? err : -err;
	if (q.drv_prog_id) {
		a->prog_id = q.drv_prog_id;
		a->mode = XDP_FLAGS_DRV_MODE;
	} else if (q.skb_prog_id) {
		a->prog_id = q.skb_prog_id;
		a->mode = XDP_FLAGS_SKB_MODE;
	} else if (q.hw_prog_id) {
		a->prog_id = q.hw_prog_id;
		a->mode = XDP_FLAGS_HW_MODE;
	} else {
		return 0;
	}
	prog_name(a->prog_id, a->name);
	a->link_id = xdp_link_of(ifindex, a->prog_id);
	return 0;
}

/* Does /proc/PID/fdinfo/FD describe link_id? */
static bool fdinfo_has_link(const char *pid, const char *fd, __u32 link_id)
{
	char path[600], line[128];
	bool hit = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/fdinfo/%s", pid, fd);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!hit && fgets(line, sizeof(line), f)) {
		unsigned int id;

		if (sscanf(line, "link_id: %u", &id) == 1 && id == link_id)
			hit = true;
	}
	fclose(f);
	return hit;
}

int np_link_owner(__u32 link_id)
{
	struct dirent *p, *d;
	DIR *proc, *fds;
	int owner = 0;

	proc = opendir("/proc");
	if (!proc)
		return 0;
	while (!owner && (p = readdir(proc))) {
		char path[300];

		if (!isdigit((unsigned char)p->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
		fds = opendir(path);
		if (!fds)
			continue;	/* gone, or not ours to read */
		while (!owner && (d = readdir(fds))) {
			char lpath[600], target[64];
			ssize_t n;

			if (d->d_name[0] == '.')
				continue;
			snprintf(lpath, sizeof(lpath), "/proc/%s/fd/%s",
				 p->d_name, d->d_name);
			n = readlink(lpath, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = 0;
			if (strcmp(target, "anon_inode:bpf_link"))
				continue;
			if (fdinfo_has_link(p->d_name, d->d_name, link_id))
				owner = atoi(p->d_name);
		}
		closedir(fds);
	}
	closedir(proc);
	return owner;
}
