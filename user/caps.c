// SPDX-License-Identifier: GPL-2.0
/* Dropping capabilities with capset(2) and prctl(2), no libcap. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "caps.h"
#include "log.h"

struct capsets {
	__u64 eff, prm, inh;
};

static int caps_get(struct capsets *s)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};

	if (syscall(SYS_capget, &hdr, d))
		return -errno;
	s->eff = d[0].effective | (__u64)d[1].effective << 32;
	s->prm = d[0].permitted | (__u64)d[1].permitted << 32;
	s->inh = d[0].inheritable | (__u64)d[1].inheritable << 32;
	return 0;
}

static int caps_set(const struct capsets *s)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {
		{ (__u32)s->eff, (__u32)s->prm, (__u32)s->inh },
		{ s->eff >> 32, s->prm >> 32, s->inh >> 32 },
	};

	return syscall(SYS_capset, &hdr, d) ? -errno : 0;
}

static int cap_last(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = CAP_LAST_CAP;

	if (f) {
		if (fscanf(f, "%d", &last) != 1 || last < 0 || last > 63)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	return last;
}

bool np_caps_needed(__u64 caps, int (*try)(void *arg), void *arg)
{
	struct capsets s, without;
	int err;

	if (caps_get(&s))
		return true;
	without = s;
	without.eff &= ~caps;
	if (caps_set(&without))
		return true;
	err = try(arg);
	if (caps_set(&s))
		np_warn("cannot restore the effective capabilities: %s",
			strerror(errno));
	return err == -EPERM || err == -EACCES;
}

int np_caps_keep(__u64 keep)
{
	struct capsets s;
	int last = cap_last(), err;

	err = caps_get(&s);
	if (err)
		goto fail;
	if (s.eff & NP_CAP(CAP_SETPCAP)) {
		for (int c = 0; c <= last; c++) {
			if ((keep & NP_CAP(c)) || prctl(PR_CAPBSET_READ, c) != 1)
				continue;
			if (prctl(PR_CAPBSET_DROP, c)) {
				err = -errno;
				goto fail;
			}
		}
	}
	/* ambient capabilities arrived with Linux 4.3: nothing to clear before */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) &&
	    errno != EINVAL) {
		err = -errno;
		goto fail;
	}
	/* nothing run executes may gain privileges either */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		err = -errno;
		goto fail;
	}
	s.prm &= keep;
	s.eff = s.prm;
	s.inh = 0;
	err = caps_set(&s);
	if (err)
		goto fail;
	return 0;
fail:
	np_err("cannot drop capabilities: %s", strerror(-err));
	return err;
}

static const char *const cap_name[64] = {
	[CAP_DAC_OVERRIDE] = "cap_dac_override",
	[CAP_NET_ADMIN] = "cap_net_admin",
	[CAP_SYS_ADMIN] = "cap_sys_admin",
	[CAP_PERFMON] = "cap_perfmon",
	[CAP_BPF] = "cap_bpf",
};

const char *np_caps_names(__u64 caps, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = 0;
	for (int c = 0; c < 64 && n < size; c++) {
		if (!(caps & NP_CAP(c)))
			continue;
		if (cap_name[c])
			n += snprintf(buf + n, size - n, "%s%s", n ? "," : "",
				      cap_name[c]);
		else
			n += snprintf(buf + n, size - n, "%scap_%d",
				      n ? "," : "", c);
	}
	if (!buf[0])
		snprintf(buf, size, "none");
	return buf;
}
