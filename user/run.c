// SPDX-License-Identifier: GPL-2.0
/*
 * `nbdpath run`: check everything, load, attach through bpf_links, pin,
 * then report every interval until stopped. Links die with the process,
 * so even a SIGKILL leaves nothing attached; the pins it leaves are
 * cleared by the next run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "caps.h"
#include "cli.h"
#include "clock.h"
#include "flowtab.h"
#include "log.h"
#include "metrics.h"
#include "nic.h"
#include "pin.h"
#include "prog.h"
#include "report.h"
#include "finished.h"
#include "export.h"
#include "flowlog.h"
#include "history.h"
#include "vmk.h"

struct run {
	struct np_cli *o;
	struct nbdpath_bpf *skel;
	struct np_maps maps;
	struct np_pins pins;
	int link_fd[NP_MAX_IFACES];
	__u32 mode[NP_MAX_IFACES];
	struct np_flowtab tab;
	struct np_flowset set;
	struct np_report *prev;		/* the last report printed */
	struct np_history *history;	/* the hosts' current verdicts */
	struct np_finished finished;	/* records of reclaimed flows */
	struct np_flowlog log;
	bool logging;
	struct np_export *export;	/* --ipfix */
	bool last;			/* this report is the last */
	__u64 now_np;			/* this poll's NP clock */
	struct np_metrics *metrics;
	__s64 clock_to_unix_ns;
	__u32 closed_sec;
	__u64 last_ns;			/* CLOCK_MONOTONIC of prev */
	int reports;
	bool warned_full;		/* about a full flow table, once */
	bool gone[NP_MAX_IFACES];	/* link detached under us: said so */
};

static volatile sig_atomic_t stop_signal;

static volatile sig_atomic_t hup_signal;

static void on_signal(int sig)
{
	/* SIGHUP reopens the flow log (a rotation), never stops */
	if (sig == SIGHUP)
		hup_signal = 1;
	else
		stop_signal = sig;
}

/* A reclaimed slot: its counts to the totals, its record to the list. */
static void run_retire(const struct np_flow_rec *rec, void *ctx)
{
	struct run *r = ctx;

	enum np_flow_state st = np_flow_state_at(rec, r->now_np,
						 r->o->idle_timeout);

	np_retire_to_maps(rec, &r->maps);
	np_finished_add(&r->finished, rec, st);
	if (r->logging)
		np_flowlog_retired(&r->log, rec, st);
	np_export_retired(r->export, rec, st);
}

#define CLOCK_STEP_NS	50000000ll	/* 50 ms: far more than a coarse tick */

/* What to add to the program's clock (bpf_ktime_get_coarse_ns) for Unix time. */
static __s64 unix_minus_coarse(void)
{
	return (__s64)np_clock_ns(CLOCK_REALTIME) -
	       (__s64)np_clock_ns(CLOCK_MONOTONIC_COARSE);
}

/* ---- before the kernel is touched ---- */

/* Refuse a NIC that already has an XDP program: never replace it. */
static int check_nic_free(const char *ifname, unsigned int ifindex)
{
	const char *off_cmd;
	struct np_xdp_att a;
	char owner[48] = "";
	int err, pid;

	err = np_xdp_attached(ifindex, &a);
	if (err) {
		np_err("%s: cannot query its XDP program: %s", ifname,
		       strerror(-err));
		return err;
	}
	if (!a.prog_id)
		return 0;
	off_cmd = a.mode == XDP_FLAGS_SKB_MODE ? "xdpgeneric" :
		  a.mode == XDP_FLAGS_HW_MODE ? "xdpoffload" : "xdpdrv";
	if (a.link_id) {
		pid = np_link_owner(a.link_id);
		if (pid)
			snprintf(owner, sizeof(owner), ", held by pid %d", pid);
		else
			snprintf(owner, sizeof(owner), " through bpf_link %u",
				 a.link_id);
	}
	if (!strcmp(a.name, NP_PROG_NAME)) {
		np_err("%s already has an nbdpath program attached (id %u, %s%s); stop that run, or remove one left behind with 'nbdpath detach -i %s'",
		       ifname, a.prog_id, np_xdp_mode_name(a.mode), owner,
		       ifname);
	} else if (a.link_id) {
		np_err("%s already has XDP program '%s' (id %u%s) attached; nbdpath leaves it alone: stop its owner first",
		       ifname, a.name[0] ? a.name : "?", a.prog_id, owner);
	} else {
		np_err("%s already has XDP program '%s' (id %u) attached; nbdpath leaves it alone: detach it first ('ip link set dev %s %s off')",
		       ifname, a.name[0] ? a.name : "?", a.prog_id, ifname,
		       off_cmd);
	}
	return -EBUSY;
}

/* ---- load, attach, publish ---- */

static int load(struct run *r)
{
	struct np_cli *o = r->o;
	struct np_prog_opts po = {
		.ports = o->ports,
		.n_ports = o->n_ports,
		.max_flows = o->max_flows,
		.pass = o->pass,
		.idle_sec = o->idle_timeout,
		.closed_sec = r->closed_sec,
		.max_finished = o->max_finished,
	};
	int err, ncpu;

	r->skel = np_prog_load(&po, &err);
	if (r->skel) {
		np_prog_maps(r->skel, &r->maps);
		return 0;
	}
	ncpu = libbpf_num_possible_cpus();
	/* privileges were checked up front: EACCES here is the verifier */
	if (err == -EACCES)
		np_err("the kernel's verifier rejected the XDP program (%s); 'nbdpath -vv run ...' shows why",
		       strerror(-err));
	else if (err == -EPERM)
		np_err("cannot load the XDP program: %s; it needs CAP_BPF and CAP_NET_ADMIN (run as root)",
		       strerror(-err));
	else if (err == -ENOMEM || err == -E2BIG)
		np_err("cannot load the XDP program: %s: its flow table takes %u slots x %d CPUs x %zu bytes; lower --max-flows",
		       strerror(-err), np_slots_for(o->max_flows), ncpu,
		       sizeof(struct np_flow));
	else
		np_err("cannot load the XDP program: %s; 'nbdpath -vv run ...' shows the kernel's log",
		       strerror(-err));
	return err;
}

static int attach_one(struct run *r, int i)
{
	const char *ifname = r->o->ifaces[i];
	unsigned int ifindex = r->o->ifindex[i];
	int prog_fd = bpf_program__fd(r->skel->progs.nbdpath_xdp);
	__u32 modes[2];
	int n = 0, err = 0, mtu;

	if (r->o->mode != NP_MODE_GENERIC)
		modes[n++] = XDP_FLAGS_DRV_MODE;
	if (r->o->mode != NP_MODE_NATIVE)
		modes[n++] = XDP_FLAGS_SKB_MODE;
	mtu = np_nic_mtu(ifname);
	for (int k = 0; k < n; k++) {
		LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = modes[k]);
		int fd;

		fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lo);
		if (fd >= 0) {
			r->link_fd[i] = fd;
			r->mode[i] = modes[k];
			if (k > 0 && mtu > NP_XDP_SINGLE_BUF_MTU &&
			    (err == -ERANGE || err == -EINVAL))
				np_warn("%s: MTU %d is too large for native XDP on this driver, so generic mode is used (slower); lower it with 'ip link set dev %s mtu %d' for native mode",
					ifname, mtu, ifname,
					NP_XDP_SINGLE_BUF_MTU);
			else if (k > 0)
				np_warn("%s: no native XDP (%s), so generic mode is used (slower)",
					ifname, strerror(-err));
			np_dbg("%s: attached in %s mode", ifname,
			       np_xdp_mode_name(modes[k]));
			return 0;
		}
		err = -errno;
		np_dbg("%s: %s attach failed: %s", ifname,
		       np_xdp_mode_name(modes[k]), strerror(-err));
		/* someone attached meanwhile: falling back would not help */
		if (err == -EBUSY || err == -EEXIST || err == -EPERM)
			break;
	}
	if (err == -EBUSY || err == -EEXIST)
		np_err("%s: another XDP program was attached meanwhile; 'nbdpath status' shows it",
		       ifname);
	else if (err == -EPERM || err == -EACCES)
		np_err("%s: cannot attach XDP: %s; it needs CAP_BPF and CAP_NET_ADMIN (run as root)",
		       ifname, strerror(-err));
	else if (r->o->mode == NP_MODE_NATIVE && mtu > NP_XDP_SINGLE_BUF_MTU &&
		 (err == -ERANGE || err == -EINVAL))
		np_err("%s: MTU %d is too large for native XDP on this driver; lower it ('ip link set dev %s mtu %d') or use --mode generic",
		       ifname, mtu, ifname, NP_XDP_SINGLE_BUF_MTU);
	else if (r->o->mode == NP_MODE_NATIVE)
		np_err("%s: cannot attach XDP in native mode: %s; use --mode generic (or auto)",
		       ifname, strerror(-err));
	else
		np_err("%s: cannot attach XDP: %s", ifname, strerror(-err));
	return err;
}

static int write_meta(struct run *r)
{
	struct np_cli *o = r->o;
	struct np_meta meta = {
		.magic = NP_MAGIC,
		.layout = NP_LAYOUT_VERSION,
		.sz_key = sizeof(struct np_flow_key),
		.sz_flow = sizeof(struct np_flow),
		.sz_meta = sizeof(struct np_meta),
		.n_slots = r->maps.n_slots,
		.pid = getpid(),
		.clock = NP_CLOCK_MONO_COARSE,
		.clock_to_unix_ns = r->clock_to_unix_ns,
		.started_ns = np_unix_ns(),
		.sample_rate = o->sample_rate,
		.interval_ms = lround(o->interval * 1000),
		.idle_sec = o->idle_timeout,
		.closed_sec = r->closed_sec,
		.n_ifaces = o->n_ifaces,
		.window_sec = lround(o->window),
		.keep_finished_ns = o->keep_finished * NP_NSEC_PER_SEC,
	};
	__u32 zero = 0;

	meta.last_poll_ns = meta.started_ns;
	for (int i = 0; i < o->n_ifaces; i++) {
		meta.ifindex[i] = o->ifindex[i];
		meta.xdp_mode[i] = r->mode[i];
		snprintf(meta.ifname[i], sizeof(meta.ifname[i]), "%s",
			 o->ifaces[i]);
	}
	if (bpf_map_update_elem(r->maps.meta, &zero, &meta, BPF_ANY)) {
		int err = -errno;

		np_err("cannot write %s: %s", NP_PIN_META, strerror(-err));
		return err;
	}
	return 0;
}

/* ---- after attach: only what polling needs ---- */

static int try_bpf(void *arg)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(*(const int *)arg, &info, &len) ?
	       -errno : 0;
}

static int try_dir(const char *dir, bool parent)
{
	char path[PATH_MAX], *slash;

	snprintf(path, sizeof(path), "%s", dir);
	slash = strrchr(path, '/');
	if (parent && slash)
		slash[slash == path] = 0;	/* "/x" -> "/" */
	return faccessat(AT_FDCWD, path, W_OK | X_OK, AT_EACCESS) ? -errno : 0;
}

/* Can the exit remove the pins, and the directories run made? */
static int try_unpin(void *arg)
{
	const struct np_pins *p = arg;
	int err = try_dir(p->dir, false);

	if (!err && p->own_dir)
		err = try_dir(p->made[0] ? p->made : p->dir, true);
	return err;
}

/*
 * Polling reads and writes maps through the descriptors held, and reads
 * the flow table mapped already; the exit unpins, and unmounts a bpffs
 * of its own. Which of these needs a capability depends on the kernel
 * (bpf(2) on a held map wants CAP_BPF where unprivileged BPF is disabled,
 * before Linux 6.5) and on the pin directory, so each is tried without.
 */
static int drop_caps(struct run *r)
{
	const __u64 bpf = NP_CAP(CAP_BPF), sys = NP_CAP(CAP_SYS_ADMIN);
	__u64 keep = 0;
	char names[96];
	int err;

	if (np_caps_needed(bpf | sys, try_bpf, &r->maps.meta))
		keep |= np_caps_needed(sys, try_bpf, &r->maps.meta) ? sys : bpf;
	if (r->pins.mounted)
		keep |= sys;			/* umount2() */
	if (np_caps_needed(NP_CAP(CAP_DAC_OVERRIDE), try_unpin, &r->pins))
		keep |= NP_CAP(CAP_DAC_OVERRIDE);
	err = np_caps_keep(keep);
	if (!err)
		np_dbg("capabilities kept after attach: %s",
		       np_caps_names(keep, names, sizeof(names)));
	return err;
}

/* ---- the loop ---- */

/*
 * Wait until CLOCK_MONOTONIC deadline; signals end it. The IPFIX export
 * paces its messages: it is woken as often as it asks.
 */
static int wait_until(struct run *r, __u64 deadline, const sigset_t *open)
{
	while (!stop_signal) {
		__u64 now = np_clock_ns(CLOCK_MONOTONIC), left;
		int ms = np_export_timeout_ms(r->export);
		struct timespec ts;
		int rc;

		if (now >= deadline)
			return 0;
		left = deadline - now;
		if (ms >= 0 && left > ms * 1000000ull)
			left = ms * 1000000ull;
		ts.tv_sec = left / 1000000000ull;
		ts.tv_nsec = left % 1000000000ull;
		rc = ppoll(NULL, 0, &ts, open);
		if (rc < 0 && errno != EINTR) {
			int err = -errno;

			np_err("cannot wait for the next interval: %s",
			       strerror(-err));
			return err;
		}
		np_export_flush(r->export);
	}
	return 0;
}

/* The report in the Prometheus exposition, to every scrape from now on. */
static int publish(struct run *r, const struct np_report *cur)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	if (!r->metrics)
		return 0;
	f = open_memstream(&buf, &len);
	if (f) {
		np_report_prom(f, cur);
		err = fclose(f) ? -errno : 0;
	} else {
		err = -errno;
	}
	if (err) {
		free(buf);
		np_err("cannot render the metrics: %s", strerror(-err));
		return err;
	}
	err = np_metrics_publish(r->metrics, buf, len);
	free(buf);
	if (err == -ENOMEM)
		np_err("cannot publish the metrics: %s", strerror(-err));
	return err;
}

/* Read the maps, build a report; print it unless this is the baseline. */
static int report(struct run *r, bool print)
{
	struct np_cli *o = r->o;
	struct np_report_opts ro = {
		.kind = NP_SRC_RUN,
		.ifaces = o->ifaces,
		.ifindexes = o->ifindex,
		.n_ifaces = o->n_ifaces,
		.sample_rate = o->sample_rate,
		.idle_sec = o->idle_timeout,
		.closed_sec = r->closed_sec,
	};
	struct np_report *cur;
	struct np_meta meta;
	__u64 now = np_clock_ns(CLOCK_MONOTONIC);
	__u32 zero = 0;
	__s64 offset;
	int err;

	r->now_np = np_clock_ns(CLOCK_MONOTONIC_COARSE);
	err = np_flowtab_read(&r->tab, &r->set, run_retire, r);
	if (err) {
		np_err("cannot read the flow table: %s", strerror(-err));
		return err;
	}
	/* np_retire_to_maps counts evictions in np_meta: read it back */
	if (bpf_map_lookup_elem(r->maps.meta, &zero, &meta)) {
		err = -errno;
		np_err("cannot read %s: %s", NP_PIN_META, strerror(-err));
		return err;
	}
	/* A stepped wall clock (NTP, a resumed VM) would shift every
	 * timestamp: follow a step, but not the jitter of one coarse tick
	 * in measuring it, or the same flow's times would wobble.
	 */
	offset = unix_minus_coarse();
	if (llabs(offset - r->clock_to_unix_ns) > CLOCK_STEP_NS)
		r->clock_to_unix_ns = offset;
	meta.clock_to_unix_ns = r->clock_to_unix_ns;
	meta.last_poll_ns = np_unix_ns();
	meta.finished_head = r->finished.head;
	meta.flows_dropped = r->finished.dropped;
	if (bpf_map_update_elem(r->maps.meta, &zero, &meta, BPF_ANY)) {
		err = -errno;
		np_err("cannot write %s: %s", NP_PIN_META, strerror(-err));
		return err;
	}
	ro.flows_evicted = meta.flows_evicted;
	ro.clock_to_unix_ns = r->clock_to_unix_ns;
	ro.now_ns = np_clock_ns(CLOCK_MONOTONIC_COARSE);
	ro.interval = r->last_ns ? (now - r->last_ns) / 1e9 : o->interval;
	ro.history = r->history;
	ro.finished = &r->finished;
	ro.window_ns = o->window * NP_NSEC_PER_SEC;
	ro.table_slots = (__u64)r->tab.n_slots * r->tab.ncpu;
	ro.table_used = r->tab.n_prev;
	ro.poll_interval = o->interval;
	ro.xdp_mode = np_xdp_mode_name(r->mode[0]);
	cur = np_report_build(&r->maps, &r->set, &ro, r->prev);
	if (!cur) {
		err = errno ? -errno : -ENOMEM;
		np_err("cannot build the report: %s", strerror(-err));
		return err;
	}
	if (!r->warned_full)
		r->warned_full = np_report_warn_full(cur, o->max_flows);
	if (r->logging) {
		if (hup_signal) {
			hup_signal = 0;
			np_flowlog_reopen(&r->log);
		}
		np_flowlog_write(&r->log, cur, r->last ? 0 :
				 o->interval * NP_NSEC_PER_SEC / 2);
	}
	if (r->export)
		np_export_report(r->export, cur, r->last);
	err = publish(r, cur);
	if (err) {
		np_report_free(cur);
		return err;
	}
	/* --quiet: the report is kept for the metrics and the next rates */
	if (print && !o->quiet) {
		if (o->json) {
			np_report_json(stdout, cur, NP_VIEW_ALL);
		} else {
			if (r->reports)
				fputs("\n", stdout);
			np_report_text(stdout, cur, NP_VIEW_ALL);
		}
		r->reports++;
		/* a reader that went away (| head) is a reason to stop */
		if (fflush(stdout) || ferror(stdout))
			stop_signal = SIGPIPE;
	}
	if (r->prev)
		np_report_free(r->prev);
	r->prev = cur;
	r->last_ns = now;
	return 0;
}

/*
 * A link is detached under a live run when its NIC is deleted or moved
 * away, or by 'nbdpath detach': say so once per NIC, and stop (after a
 * last report) when no NIC is left, since nothing is counted any more.
 */
static int check_links(struct run *r)
{
	int left = 0;

	for (int i = 0; i < r->o->n_ifaces; i++) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);

		if (!r->gone[i] && r->link_fd[i] >= 0 &&
		    !bpf_obj_get_info_by_fd(r->link_fd[i], &info, &len) &&
		    !info.xdp.ifindex) {
			r->gone[i] = true;
			np_warn("%s: the XDP program is no longer attached (the NIC was removed or moved, or 'nbdpath detach' ran); its frames are not counted from now on",
				r->o->ifaces[i]);
		}
		left += !r->gone[i];
	}
	if (left)
		return 0;
	np_err("no interface left attached; start 'nbdpath run' again once the mirror NIC is back");
	return -ENODEV;
}

static int loop(struct run *r, const sigset_t *open)
{
	__u64 start = np_clock_ns(CLOCK_MONOTONIC);
	__u64 step = llround(r->o->interval * 1e9), end = 0, next;
	int err;

	if (r->o->duration > 0)
		end = start + llround(r->o->duration * 1e9);
	for (next = start + step; ; next += step) {
		__u64 until = end && end < next ? end : next;

		err = wait_until(r, until, open);
		if (err)
			return err;
		/* a signal, or the end of --duration: one last report */
		r->last = stop_signal || (end && until == end);
		err = report(r, stop_signal != SIGPIPE);
		if (err || stop_signal || (end && until == end))
			return err;
		err = check_links(r);
		if (err)
			return err;
		/* stopped (SIGSTOP) or starved: resume from now, no burst */
		if (np_clock_ns(CLOCK_MONOTONIC) > next + step)
			next = np_clock_ns(CLOCK_MONOTONIC);
	}
}

/* ---- the command ---- */

int cmd_run(struct np_cli *o)
{
	struct run r = { .o = o };
	bool usage = false;
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, open;
	int err;

	for (int i = 0; i < NP_MAX_IFACES; i++)
		r.link_fd[i] = -1;
	r.pins.dir_fd = -1;
	/* a slot closed this long ago may be reused: 3 polls at least */
	r.closed_sec = ceil(3 * o->interval);
	if (r.closed_sec < NP_DEFAULT_CLOSED_SEC)
		r.closed_sec = NP_DEFAULT_CLOSED_SEC;

	err = np_check_privileges("run", NP_PRIV_BPF | NP_PRIV_NET_ADMIN);
	if (err)
		goto out;

	/* Signals are held until the loop waits for them in ppoll(), so
	 * that one arriving during setup still ends in a clean stop.
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	/* SIGHUP reopens the flow log (a rotation): a hangup never stops run */
	sigaddset(&block, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &block, &open) ||
	    sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
	    sigaction(SIGHUP, &sa, NULL) ||
	    signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		err = -errno;
		np_err("cannot set up signal handling: %s", strerror(-err));
		goto out;
	}
	sigdelset(&open, SIGINT);
	sigdelset(&open, SIGTERM);
	sigdelset(&open, SIGHUP);

	if (np_finished_init(&r.finished, o->max_finished,
			     o->keep_finished * NP_NSEC_PER_SEC, false) ||
	    np_history_new(&r.history, o->window * NP_NSEC_PER_SEC)) {
		err = -ENOMEM;
		np_err("out of memory");
		goto out;
	}
	if (o->flow_log) {
		err = np_flowlog_open(&r.log, o->flow_log);
		if (err)
			goto out;
		r.logging = true;
	}
	if (o->ipfix) {
		err = np_export_open(&r.export, o->ipfix, o->active_timeout,
				     o->ifindex[0], false);
		/* a collector's name that does not resolve: the user's */
		usage = err == -EINVAL;
		if (err)
			goto out;
	}
	err = np_pins_claim(&r.pins, o->pin_dir, o->pin_mode);
	if (err)
		goto out;
	for (int i = 0; i < o->n_ifaces && !err; i++)
		err = check_nic_free(o->ifaces[i], o->ifindex[i]);
	if (err)
		goto out;
	if (o->metrics) {
		err = np_metrics_start(&r.metrics, o->metrics, &o->metrics_addr);
		if (err)
			goto out;
	}
	for (int i = 0; i < o->n_ifaces; i++)
		np_nic_warn(o->ifaces[i]);

	err = load(&r);
	if (err)
		goto out;
	for (int i = 0; i < o->n_ifaces && !err; i++)
		err = attach_one(&r, i);
	if (err)
		goto out;
	r.clock_to_unix_ns = unix_minus_coarse();
	err = write_meta(&r);
	if (!err && o->vmks.n) {
		err = np_vmk_store(&o->vmks, r.maps.names);
		if (err)
			np_err("cannot store the vmk names: %s", strerror(-err));
	}
	if (!err)
		err = np_pins_add(&r.pins, &r.maps);
	/* what the queries read of the finished flows and current verdicts */
	r.finished.map_fd = r.maps.finished;
	np_history_publish(r.history, r.maps.current);
	np_history_set_slack(r.history, o->interval * NP_NSEC_PER_SEC / 2);
	if (!err) {
		err = np_flowtab_init(&r.tab, r.maps.flows, r.maps.n_slots, true);
		if (err)
			np_err("cannot set up the flow table reader: %s",
			       strerror(-err));
	}
	if (!err)
		err = drop_caps(&r);
	if (err)
		goto out;
	for (int i = 0; i < o->n_ifaces; i++)
		np_dbg("%s: nbdpath attached (%s), pins in %s", o->ifaces[i],
		       np_xdp_mode_name(r.mode[i]), r.pins.dir);

	err = report(&r, false);	/* the baseline for the first rates */
	if (!err)
		err = loop(&r, &open);
out:
	/* detach first, then unpin: a query never sees pins of a run
	 * that is no longer attached, only ones that are going away
	 */
	for (int i = 0; i < NP_MAX_IFACES; i++)
		if (r.link_fd[i] >= 0)
			close(r.link_fd[i]);
	np_pins_release(&r.pins);
	np_metrics_stop(r.metrics);
	if (r.tab.batch_keys)
		np_flowtab_free(&r.tab);
	np_flowset_free(&r.set);
	if (r.prev)
		np_report_free(r.prev);
	if (r.logging)
		np_flowlog_close(&r.log);
	np_history_free(r.history);
	np_finished_free(&r.finished);
	np_export_close(r.export);
	nbdpath_bpf__destroy(r.skel);
	return usage ? NP_EXIT_USAGE : np_exit_code(err);
}
