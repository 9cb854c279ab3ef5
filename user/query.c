// SPDX-License-Identifier: GPL-2.0
/*
 * The commands that look at a running instance from outside: the query
 * views (hosts, flows, interfaces, stats), status and detach.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cli.h"
#include "clock.h"
#include "flowtab.h"
#include "json_writer.h"
#include "log.h"
#include "nic.h"
#include "pin.h"
#include "finished.h"
#include "report.h"
#include "vec.h"

static void fmt_time(char buf[32], __u64 unix_ns)
{
	time_t t = unix_ns / 1000000000ull;
	struct tm tm;

	if (!unix_ns || !gmtime_r(&t, &tm))
		strcpy(buf, "never");
	else
		strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- hosts, flows, interfaces, stats ---- */

/* The finished flows' records the running instance keeps for queries. */
static int load_finished(struct np_finished *f, const struct np_instance *in)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int err;

	if (bpf_obj_get_info_by_fd(in->maps.finished, &info, &len))
		return -errno;
	err = np_finished_init(f, info.max_entries, 0, false);
	if (!err)
		err = np_finished_load(f, in->maps.finished, &in->meta);
	if (err)
		np_err("cannot read %s/%s: %s", in->dir, NP_PIN_FINISHED,
		       strerror(-err));
	return err;
}

int cmd_query(struct np_cli *o)
{
	const char *ifaces[NP_MAX_IFACES];
	struct np_report_opts ro = { .kind = NP_SRC_QUERY };
	struct np_flowtab tab = { .fd = -1 };
	struct np_flowset set = {};
	struct np_report *rep = NULL;
	struct np_finished fin = {};
	struct np_instance in;
	unsigned int view = o->command->view;
	int err;

	err = np_instance_open(&in, o->pin_dir, 0);
	if (err)
		return np_exit_code(err);

	err = np_flowtab_init(&tab, in.maps.flows, in.maps.n_slots, false);
	if (err) {
		np_err("cannot set up the flow table reader: %s", strerror(-err));
		goto out;
	}
	err = np_flowtab_read(&tab, &set, NULL, NULL);
	if (err) {
		np_err("cannot read %s/%s: %s", in.dir, NP_PIN_FLOWS,
		       strerror(-err));
		goto out;
	}
	for (__u32 i = 0; i < in.meta.n_ifaces && i < NP_MAX_IFACES; i++)
		ifaces[i] = in.ifnames[i];
	ro.ifaces = ifaces;
	ro.ifindexes = in.meta.ifindex;
	ro.n_ifaces = in.meta.n_ifaces < NP_MAX_IFACES ? in.meta.n_ifaces :
			NP_MAX_IFACES;
	ro.sample_rate = in.meta.sample_rate;
	ro.idle_sec = in.meta.idle_sec;
	ro.closed_sec = in.meta.closed_sec;
	ro.clock_to_unix_ns = in.meta.clock_to_unix_ns;
	ro.flows_evicted = in.meta.flows_evicted;
	ro.window_ns = (__u64)in.meta.window_sec * NP_NSEC_PER_SEC;
	ro.poll_interval = in.meta.interval_ms / 1000.0;
	ro.current_from_map = true;
	ro.current_fd = in.maps.current;
	err = load_finished(&fin, &in);
	if (err)
		goto out;
	ro.finished = &fin;
	/* "now" on the clock the program stamps flows with */
	if (in.meta.clock == NP_CLOCK_MONO_COARSE)
		ro.now_ns = np_clock_ns(CLOCK_MONOTONIC_COARSE);
	else
		ro.now_ns = np_clock_ns(CLOCK_REALTIME) - in.meta.clock_to_unix_ns;

	rep = np_report_build(&in.maps, &set, &ro, NULL);
	if (!rep) {
		err = errno ? -errno : -ENOMEM;
		np_err("cannot build the report: %s", strerror(-err));
		goto out;
	}
	if (o->json)
		np_report_json(stdout, rep, view);
	else
		np_report_text(stdout, rep, view);
	if (fflush(stdout)) {
		err = -errno;
		np_err("cannot write the report: %s", strerror(-err));
	}
out:
	if (rep)
		np_report_free(rep);
	np_finished_free(&fin);
	np_flowset_free(&set);
	if (tab.batch_keys)
		np_flowtab_free(&tab);
	np_instance_close(&in);
	return err ? NP_EXIT_FAIL : NP_EXIT_OK;
}

/* ---- status ---- */

struct attached {
	char ifname[IF_NAMESIZE];
	__u32 ifindex;
	struct np_xdp_att a;
	int pid;			/* holding the link, 0 if unknown */
};

/* Every nbdpath program attached in this network namespace. */
static int find_attached(struct attached **out, int *n_out)
{
	struct np_vec v = { .sz = sizeof(struct attached) };
	struct if_nameindex *ifs, *i;
	int err = 0;

	*out = NULL;
	*n_out = 0;
	ifs = if_nameindex();
	if (!ifs) {
		err = -errno;
		np_err("cannot list the network interfaces: %s", strerror(-err));
		return err;
	}
	for (i = ifs; i->if_index; i++) {
		struct np_xdp_att a;
		struct attached *x;

		if (np_xdp_attached(i->if_index, &a) || !a.prog_id ||
		    strcmp(a.name, NP_PROG_NAME))
			continue;
		x = np_vec_add(&v);
		if (!x) {
			err = -ENOMEM;
			break;
		}
		snprintf(x->ifname, sizeof(x->ifname), "%s", i->if_name);
		x->ifindex = i->if_index;
		x->a = a;
		x->pid = a.link_id ? np_link_owner(a.link_id) : 0;
	}
	if_freenameindex(ifs);
	if (err) {
		np_vec_free(&v);
		np_err("cannot list XDP programs: %s", strerror(-err));
		return err;
	}
	*out = v.v;
	*n_out = v.n;
	return 0;
}

/* Every name goes through the writer's escaping: interface names,
 * program names and paths may hold quotes, backslashes, control bytes.
 */
static int status_json(const struct np_cli *o, const struct np_instance *in,
		       bool have, const struct attached *v, int n)
{
	struct jsonw *w = jsonw_new(stdout);

	if (!w) {
		np_err("out of memory");
		return -ENOMEM;
	}
	jsonw_start_object(w);
	jsonw_u64_field(w, "version", 1);
	jsonw_string_field(w, "pin_dir", in->dir[0] ? in->dir : o->pin_dir);
	jsonw_name(w, "instance");
	if (!have) {
		jsonw_null(w);
	} else {
		const struct np_meta *m = &in->meta;

		jsonw_start_object(w);
		jsonw_u64_field(w, "pid", m->pid);
		jsonw_bool_field(w, "running", in->live);
		jsonw_double_field(w, "started", m->started_ns / 1e9, 3);
		jsonw_double_field(w, "last_poll", m->last_poll_ns / 1e9, 3);
		jsonw_double_field(w, "interval", m->interval_ms / 1e3, 3);
		jsonw_u64_field(w, "idle_timeout", m->idle_sec);
		jsonw_u64_field(w, "sample_rate", m->sample_rate);
		jsonw_u64_field(w, "flow_slots", m->n_slots);
		jsonw_name(w, "interfaces");
		jsonw_start_array(w);
		for (__u32 i = 0; i < m->n_ifaces && i < NP_MAX_IFACES; i++) {
			jsonw_start_object(w);
			jsonw_string_field(w, "interface", in->ifnames[i]);
			jsonw_u64_field(w, "ifindex", m->ifindex[i]);
			jsonw_string_field(w, "mode",
					   np_xdp_mode_name(m->xdp_mode[i]));
			jsonw_end_object(w);
		}
		jsonw_end_array(w);
		jsonw_end_object(w);
	}
	jsonw_name(w, "attached");
	if (n < 0) {
		jsonw_null(w);		/* cannot tell */
	} else {
		jsonw_start_array(w);
		for (int i = 0; i < n; i++) {
			jsonw_start_object(w);
			jsonw_string_field(w, "interface", v[i].ifname);
			jsonw_u64_field(w, "ifindex", v[i].ifindex);
			jsonw_string_field(w, "mode",
					   np_xdp_mode_name(v[i].a.mode));
			jsonw_u64_field(w, "prog_id", v[i].a.prog_id);
			jsonw_string_field(w, "prog_name", v[i].a.name);
			jsonw_name(w, "link_id");
			if (v[i].a.link_id)
				jsonw_u64(w, v[i].a.link_id);
			else
				jsonw_null(w);
			jsonw_name(w, "pid");
			if (v[i].pid)
				jsonw_u64(w, v[i].pid);
			else
				jsonw_null(w);
			jsonw_end_object(w);
		}
		jsonw_end_array(w);
	}
	jsonw_end_object(w);
	jsonw_newline(w);
	if (jsonw_destroy(w) || fflush(stdout)) {
		np_err("cannot write the status: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

static void status_text(const struct np_instance *in, bool have,
			const struct attached *v, int n)
{
	char t1[32], t2[32];

	if (have) {
		const struct np_meta *m = &in->meta;

		fmt_time(t1, m->started_ns);
		fmt_time(t2, m->last_poll_ns);
		printf("%s: nbdpath run pid %u (%s), started %s, last poll %s\n",
		       in->dir, m->pid, in->live ? "running" :
		       "stopped: stale pins", t1, t2);
		printf("  interval %g s, idle timeout %u s, sample rate %u, %u flow slots per CPU\n",
		       m->interval_ms / 1e3, m->idle_sec, m->sample_rate,
		       m->n_slots);
		for (__u32 i = 0; i < m->n_ifaces && i < NP_MAX_IFACES; i++)
			printf("  %s (%s)\n", in->ifnames[i],
			       np_xdp_mode_name(m->xdp_mode[i]));
	}
	if (n < 0) {
		printf("which XDP programs are nbdpath's: reading program names needs CAP_SYS_ADMIN\n");
		return;
	}
	if (!n) {
		printf("no %s program is attached in this network namespace\n",
		       NP_PROG_NAME);
		return;
	}
	printf("%-16s %-8s %8s %8s %8s\n", "INTERFACE", "MODE", "PROG_ID",
	       "LINK_ID", "PID");
	for (int i = 0; i < n; i++) {
		char link[16] = "-", pid[16] = "-";

		if (v[i].a.link_id)
			snprintf(link, sizeof(link), "%u", v[i].a.link_id);
		if (v[i].pid)
			snprintf(pid, sizeof(pid), "%d", v[i].pid);
		printf("%-16s %-8s %8u %8s %8s\n", v[i].ifname,
		       np_xdp_mode_name(v[i].a.mode), v[i].a.prog_id, link, pid);
	}
}

int cmd_status(struct np_cli *o)
{
	struct attached *v = NULL;
	struct np_instance in;
	int n, err = 0, ierr;
	bool have;

	ierr = np_instance_open(&in, o->pin_dir,
				NP_INST_STALE_OK | NP_INST_QUIET_NONE);
	have = !ierr;
	/* an unreadable or foreign pin dir has been reported: stop there */
	if (ierr && ierr != -ENOENT)
		return np_exit_code(ierr);
	/* program names by id are for CAP_SYS_ADMIN only: n < 0, unknown */
	n = -1;
	if (np_has_sys_admin()) {
		err = find_attached(&v, &n);
		if (err)
			goto out;
	}
	/* with nothing at all to show, the one error line says it all */
	if (o->json) {
		err = status_json(o, &in, have, v, n);
		if (err)
			goto out;
	} else if (have || n > 0)
		status_text(&in, have, v, n);
	if (n <= 0 && !(have && in.live)) {
		if (have)
			np_err("nothing is running under %s: its pins are left from nbdpath run pid %u; a new 'nbdpath run' clears them",
			       in.dir, in.meta.pid);
		else if (n < 0)
			np_err("nothing is running under %s (whether an nbdpath program is attached elsewhere takes CAP_SYS_ADMIN to tell); start 'nbdpath run -i IFACE'",
			       o->pin_dir);
		else
			np_err("nothing is running under %s and no %s program is attached here; start 'nbdpath run -i IFACE'",
			       o->pin_dir, NP_PROG_NAME);
		err = -ENOENT;
	}
out:
	free(v);
	np_instance_close(&in);
	return np_exit_code(err);
}

/* ---- detach ---- */

static int detach_one(const char *ifname, unsigned int ifindex)
{
	struct np_xdp_att a;
	int err, fd, pid = 0;

	err = np_xdp_attached(ifindex, &a);
	if (err) {
		np_err("%s: cannot query its XDP program: %s", ifname,
		       strerror(-err));
		return err;
	}
	if (!a.prog_id) {
		np_err("nothing is attached to %s; 'nbdpath status' lists what is",
		       ifname);
		return -ENOENT;
	}
	if (strcmp(a.name, NP_PROG_NAME)) {
		np_err("%s has XDP program '%s' (id %u), not nbdpath's; nbdpath leaves it alone",
		       ifname, a.name[0] ? a.name : "?", a.prog_id);
		return -EBUSY;
	}
	if (a.link_id) {
		/* a live process holds this link; detaching leaves it
		 * running but blind, which is what was asked for
		 */
		pid = np_link_owner(a.link_id);
		fd = bpf_link_get_fd_by_id(a.link_id);
		if (fd < 0 || bpf_link_detach(fd)) {
			err = -errno;
			np_err("%s: cannot detach bpf_link %u: %s", ifname,
			       a.link_id, strerror(-err));
			if (fd >= 0)
				close(fd);
			return err;
		}
		close(fd);
	} else {
		LIBBPF_OPTS(bpf_xdp_attach_opts, xo);

		/* replace-guarded: never remove a program swapped in since */
		fd = bpf_prog_get_fd_by_id(a.prog_id);
		if (fd < 0) {
			err = -errno;
			np_err("%s: cannot open program id %u: %s", ifname,
			       a.prog_id, strerror(-err));
			return err;
		}
		xo.old_prog_fd = fd;
		err = bpf_xdp_detach(ifindex, a.mode | XDP_FLAGS_REPLACE, &xo);
		close(fd);
		if (err) {
			np_err("%s: cannot detach program id %u: %s", ifname,
			       a.prog_id, strerror(-err));
			return err;
		}
	}
	printf("%s: detached %s (id %u, %s mode", ifname, NP_PROG_NAME,
	       a.prog_id, np_xdp_mode_name(a.mode));
	if (a.link_id && pid)
		printf(", bpf_link %u of pid %d, which keeps running", a.link_id,
		       pid);
	else if (a.link_id)
		printf(", bpf_link %u", a.link_id);
	printf(")\n");
	return 0;
}

int cmd_detach(struct np_cli *o)
{
	int err, worst = 0;

	/* reading whose program is attached takes CAP_SYS_ADMIN */
	err = np_check_privileges("detach",
				  NP_PRIV_NET_ADMIN | NP_PRIV_SYS_ADMIN);
	if (err)
		return NP_EXIT_FAIL;
	for (int i = 0; i < o->n_ifaces; i++) {
		err = np_exit_code(detach_one(o->ifaces[i], o->ifindex[i]));
		/* a failure outranks "nothing there" */
		if (err == NP_EXIT_FAIL || !worst)
			worst = err;
	}
	return worst;
}
