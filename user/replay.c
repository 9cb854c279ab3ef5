// SPDX-License-Identifier: GPL-2.0
/*
 * nbdpath replay: every frame of a capture through the same XDP
 * classifier as the live path, by BPF_PROG_TEST_RUN, with the capture's
 * clock as "now": frames that fit together in the first page go through
 * nbdpath_replay several to a call, larger ones alone through nbdpath_xdp.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* sched_getcpu, CPU_SET */
#endif
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
/* pcap/bpf.h defines struct bpf_insn (classic BPF) as linux/bpf.h does */
#define PCAP_DONT_INCLUDE_PCAP_BPF_H
struct bpf_program;
#include <pcap/pcap.h>
#include <pcap/dlt.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capfile.h"
#include "cli.h"
#include "log.h"
#include "nic.h"
#include "replay.h"
#include "finished.h"
#include "export.h"
#include "flowlog.h"
#include "history.h"
#include "report.h"

#define NS_PER_SEC	1000000000ull

/*
 * The kernel splits test-run data beyond one page into page-sized frags,
 * at most MAX_SKB_FRAGS (17 or more) of them. Capped at 16 pages, every
 * frame fits, including the 64 KiB segments that a capture taken on a
 * TSO/GRO host holds; a larger one is passed as its first 16 pages,
 * which is all a snaplen-cut mirror frame would carry anyway: the
 * program reads headers only and takes sizes from the IP header, or,
 * where its total length is 0 (BIG TCP), is told how much was left out.
 */
#define MAX_FRAME_PAGES	16

#define READ_BUFFER	(1 << 20)

/* Shorter than an Ethernet header: BPF_PROG_TEST_RUN refuses it. */
#define MIN_FRAME	14

/*
 * What of a page the kernel keeps linear for test-run data: the page
 * less XDP_PACKET_HEADROOM (256) and struct skb_shared_info (320 bytes
 * on x86-64, aligned; 512 leaves room for larger builds). The program
 * checks the data came whole, and a batch it refuses goes frame by frame.
 */
#define BATCH_RESERVED	(256 + 512)

/*
 * Frames waiting for one call of nbdpath_replay: frame i ends where
 * frame i - 1 begins, frame 0 at the end of buf (see bpf/nbdpath.bpf.c).
 * Their lengths and times go straight into the program's replay_batch.
 */
struct batch {
	__u8 *buf;
	size_t cap;			/* bytes of buf */
	size_t used;			/* bytes at its end holding frames */
	bool off;			/* the kernel refused one: frame by frame */
};

struct replay {
	const char *path;
	const char *name;		/* for messages */
	pcap_t *pcap;
	struct np_capfile_info cap;	/* what pcap's stream saw */
	struct nbdpath_bpf *skel;
	struct np_maps maps;
	struct np_flowtab tab;
	bool tab_ready;
	struct batch batch;
	size_t max_frame;		/* bytes of a frame run alone, at most */
	struct np_replay_result *res;
	const struct np_replay_hooks *hooks;
	__u64 next_step;		/* capture time of the next step end */
	cpu_set_t saved_cpus;
	bool pinned;
};

/* Whether the file's first bytes are (the start of) a pcap file header. */
static bool starts_pcap(const struct np_capfile_info *ci)
{
	static const char magic[][4] = {
		"\xa1\xb2\xc3\xd4", "\xd4\xc3\xb2\xa1",	/* microseconds */
		"\xa1\xb2\x3c\x4d", "\x4d\x3c\xb2\xa1",	/* nanoseconds */
	};
	size_t n = ci->bytes < 4 ? ci->bytes : 4;

	for (size_t i = 0; n && i < sizeof(magic) / sizeof(magic[0]); i++)
		if (!memcmp(ci->head, magic[i], n))
			return true;
	return false;
}

static bool starts_pcapng(const struct np_capfile_info *ci)
{
	size_t n = ci->bytes < 4 ? ci->bytes : 4;

	return n && !memcmp(ci->head, "\x0a\x0d\x0d\x0a", n);
}

/* libpcap could not open the file: say why in the operator's words. */
static void open_error(const struct replay *rp, const char *errbuf)
{
	const struct np_capfile_info *ci = &rp->cap;
	/* libpcap says so only in words: "truncated dump file; ..." */
	bool cut = strstr(errbuf, "truncated") != NULL;

	if (!ci->bytes)
		np_err("%s is empty; give a pcap or pcapng capture", rp->name);
	else if (starts_pcap(ci) && ci->bytes < 24)
		np_err("%s is cut short inside its 24-byte pcap file header (%llu bytes); copy the whole capture again",
		       rp->name, (unsigned long long)ci->bytes);
	else if (starts_pcapng(ci) && (cut || ci->bytes < 12))
		np_err("%s is cut short before its first frame (%llu bytes of pcapng headers); copy the whole capture again",
		       rp->name, (unsigned long long)ci->bytes);
	else if (!strcmp(errbuf, "unknown file format") || cut)
		np_err("%s is not a pcap or pcapng capture; give a file written by `tcpdump -w` or Wireshark",
		       rp->name);
	else
		np_err("cannot read %s as a capture: %s", rp->name, errbuf);
}

/* A link type by its number, and its name where libpcap knows it. */
static const char *link_type_str(char *buf, size_t n, int type)
{
	const char *name = pcap_datalink_val_to_name(type);
	const char *desc = pcap_datalink_val_to_description(type);

	if (name)
		snprintf(buf, n, "%d (%s, %s)", type, name, desc ? desc : name);
	else
		snprintf(buf, n, "%d", type);
	return buf;
}

static void link_type_error(const struct replay *rp, int type)
{
	char what[160];

	np_err("%s has link type %s, which carries no Ethernet MAC addresses to tell vmk interfaces apart; capture on the mirror NIC itself: `tcpdump -i MIRROR_NIC -w FILE`, not `-i any`",
	       rp->name, link_type_str(what, sizeof(what), type));
}

static int open_capture(struct replay *rp, struct np_replay_result *res)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	FILE *f, *cf = NULL;
	struct stat st;
	int err, dlt;

	res->input_error = true;
	f = strcmp(rp->path, "-") ? fopen(rp->path, "rb") : stdin;
	if (!f) {
		err = -errno;
		np_err("cannot open %s: %s; give the path of a pcap or pcapng capture",
		       rp->path, strerror(-err));
		return err;
	}
	if (fstat(fileno(f), &st)) {
		err = -errno;
		np_err("cannot read %s: %s", rp->name, strerror(-err));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		np_err("%s is a directory; give the path of a pcap or pcapng capture",
		       rp->path);
		goto fail;
	}
	if (f == stdin && isatty(fileno(f))) {
		err = -EINVAL;
		np_err("standard input is a terminal; pipe a capture in (nbdpath replay - < FILE) or give FILE");
		goto fail;
	}
	/* libpcap reads through stdio: a page per read(2) by default,
	 * and a syscall costs more than the classification of a frame
	 */
	cf = np_capfile_open(f, READ_BUFFER, &rp->cap);
	if (!cf) {
		err = -errno;
		np_err("cannot read %s: %s", rp->name, strerror(-err));
		goto fail;
	}
	f = NULL;			/* closing cf closes it */
	rp->pcap = pcap_fopen_offline_with_tstamp_precision(cf,
			PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!rp->pcap) {
		err = -EINVAL;
		open_error(rp, errbuf);
		goto fail;
	}
	/* from here on pcap_close() closes cf */

	/* a pcapng file's interfaces are all Ethernet to libpcap now */
	dlt = pcap_datalink(rp->pcap);
	if (dlt != DLT_EN10MB) {
		link_type_error(rp, dlt);
		return -EPROTONOSUPPORT;
	}
	res->input_error = false;
	return 0;
fail:
	if (cf)
		fclose(cf);
	else if (f && f != stdin)
		fclose(f);
	return err;
}

/*
 * A replay spread over CPUs would fill several per-CPU tables, and when
 * the table is full or a slot is reclaimed would then depend on the
 * scheduler: on one CPU a replay gives the same counts every time.
 */
static void pin_cpu(struct replay *rp)
{
	cpu_set_t one;
	int cpu = sched_getcpu();

	if (cpu < 0 || sched_getaffinity(0, sizeof(rp->saved_cpus),
					 &rp->saved_cpus)) {
		np_dbg("replay: not pinned to one CPU: %s", strerror(errno));
		return;
	}
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one)) {
		np_dbg("replay: not pinned to CPU %d: %s", cpu, strerror(errno));
		return;
	}
	rp->pinned = true;
}

static void unpin_cpu(struct replay *rp)
{
	if (rp->pinned &&
	    sched_setaffinity(0, sizeof(rp->saved_cpus), &rp->saved_cpus))
		np_dbg("replay: CPU affinity not restored: %s", strerror(errno));
	rp->pinned = false;
}

static int write_meta(struct replay *rp, const struct np_replay_result *res,
		      bool update)
{
	const struct np_config *cfg = &rp->skel->data->cfg;
	struct np_meta meta = {};
	__u32 zero = 0;

	/* at the end, keep what np_retire_to_maps() counted */
	if (update && bpf_map_lookup_elem(rp->maps.meta, &zero, &meta))
		return -errno;
	meta.magic = NP_MAGIC;
	meta.layout = NP_LAYOUT_VERSION;
	meta.sz_key = sizeof(struct np_flow_key);
	meta.sz_flow = sizeof(struct np_flow);
	meta.sz_meta = sizeof(struct np_meta);
	meta.n_slots = rp->maps.n_slots;
	meta.pid = getpid();
	meta.clock = NP_CLOCK_REALTIME;
	meta.clock_to_unix_ns = 0;
	meta.started_ns = res->first_ns;
	meta.last_poll_ns = res->last_ns;
	meta.idle_sec = cfg->idle_ns / NS_PER_SEC;
	meta.closed_sec = cfg->closed_ns / NS_PER_SEC;
	if (bpf_map_update_elem(rp->maps.meta, &zero, &meta, BPF_ANY))
		return -errno;
	return 0;
}

static int load(struct replay *rp, const struct np_prog_opts *po,
		struct np_replay_result *res)
{
	struct np_prog_opts opts = *po;
	long page = sysconf(_SC_PAGESIZE);
	int err;

	err = np_check_privileges("replay", NP_PRIV_BPF | NP_PRIV_NET_ADMIN);
	if (err)
		return err;
	rp->max_frame = (size_t)page * MAX_FRAME_PAGES;
	rp->batch.cap = page > BATCH_RESERVED + 2 * MIN_FRAME ?
			(size_t)page - BATCH_RESERVED : 0;
	rp->batch.buf = rp->batch.cap ? malloc(rp->batch.cap) : NULL;
	if (!rp->batch.buf) {
		rp->batch.cap = 0;
		rp->batch.off = true;
	}
	opts.replay = !rp->batch.off;
	rp->skel = np_prog_load(&opts, &err);
	if (!rp->skel) {
		np_err("cannot load the XDP program: %s%s", strerror(-err),
		       np_verbose ? "" : " (-v shows libbpf's log)");
		return err;
	}
	np_prog_maps(rp->skel, &rp->maps);
	err = write_meta(rp, res, false);
	if (err) {
		np_err("cannot write the np_meta map: %s", strerror(-err));
		return err;
	}
	err = np_flowtab_init(&rp->tab, rp->maps.flows, rp->maps.n_slots,
			      true);
	if (err) {
		np_err("cannot allocate the flow table reader: %s",
		       strerror(-err));
		return err;
	}
	rp->tab_ready = true;
	return 0;
}

/*
 * Hand the counts of slots reclaimed since the last read to the retired
 * map: the program reuses a slot only once it has been idle (or closed)
 * long enough in capture time, and a read every half of the shorter of
 * the two periods is sure to have seen its final counts.
 */
static void retire(const struct np_flow_rec *rec, void *ctx)
{
	struct replay *rp = ctx;

	np_retire_to_maps(rec, &rp->maps);
	if (rp->hooks && rp->hooks->retire)
		rp->hooks->retire(rec, rp->hooks->ctx);
}

static int read_flows(struct replay *rp, struct np_replay_result *res)
{
	int err;

	err = np_flowtab_read(&rp->tab, &res->flows, retire, rp);
	if (err) {
		np_err("cannot read the flow table: %s", strerror(-err));
		return err;
	}
	res->reads++;
	return 0;
}

/* One frame by itself through nbdpath_xdp; the kernel caps its size. */
static int run_one(struct replay *rp, const void *data, size_t len, __u64 now,
		   __u64 nr)
{
	LIBBPF_OPTS(bpf_test_run_opts, topts, .repeat = 1);
	int err;

	/* zero would mean "use the kernel clock" to the program */
	rp->skel->data->cfg.clock_ns = now ? now : 1;
	topts.data_in = data;
	topts.data_size_in = len < rp->max_frame ? len : rp->max_frame;
	/* a frame whose IPv4 total length is 0 is counted to its end */
	rp->skel->data->cfg.replay_cut = len - topts.data_size_in;
	err = bpf_prog_test_run_opts(bpf_program__fd(rp->skel->progs.nbdpath_xdp),
				     &topts);
	rp->skel->data->cfg.replay_cut = 0;
	rp->res->calls++;
	if (err)
		np_err("frame %llu of %s: BPF_PROG_TEST_RUN failed: %s",
		       (unsigned long long)nr, rp->name, strerror(-err));
	return err;
}

/*
 * Classify the frames waiting in the batch: one call of nbdpath_replay,
 * then frame by frame whatever it did not take. nr: the number of the
 * last frame read, for messages.
 */
static int flush(struct replay *rp, __u64 nr)
{
	LIBBPF_OPTS(bpf_test_run_opts, topts, .repeat = 1);
	struct np_replay_batch *rb = &rp->skel->bss->replay_batch;
	struct batch *b = &rp->batch;
	__u32 n = rb->n, done = 0;
	size_t end = b->cap;
	int err;

	if (!n)
		return 0;
	rb->size = b->used;
	topts.data_in = b->buf + b->cap - b->used;
	topts.data_size_in = b->used;
	err = bpf_prog_test_run_opts(bpf_program__fd(rp->skel->progs.nbdpath_replay),
				     &topts);
	rp->res->calls++;
	if (!err)
		done = rb->done < n ? rb->done : n;
	rp->res->batched += done;
	if (done < n) {
		/* the kernel did not give the program the batch whole */
		np_dbg("replay: %u of %u frames in one call (%s); one by one from now on",
		       done, n, err ? strerror(-err) : "refused");
		b->off = true;
	}
	for (__u32 i = 0; i < n; i++) {
		end -= rb->len[i];
		if (i < done)
			continue;
		err = run_one(rp, b->buf + end, rb->len[i], rb->ts[i],
			      nr - (n - 1 - i));
		if (err)
			return err;
	}
	rb->n = 0;
	b->used = 0;
	return 0;
}

/* Queue a frame for the next call of nbdpath_replay, or run it now. */
static int feed(struct replay *rp, const void *data, size_t len, __u64 now,
		__u64 nr)
{
	struct np_replay_batch *rb;
	struct batch *b = &rp->batch;
	int err;

	if (b->off || len > b->cap)
		return flush(rp, nr - 1) ?: run_one(rp, data, len, now, nr);
	rb = &rp->skel->bss->replay_batch;
	if (b->used + len > b->cap || rb->n == NP_REPLAY_BATCH) {
		err = flush(rp, nr - 1);
		if (err)
			return err;
	}
	b->used += len;
	memcpy(b->buf + b->cap - b->used, data, len);
	rb->len[rb->n] = len;
	rb->ts[rb->n] = now;
	rb->n++;
	return 0;
}

/*
 * When to read the flow table. The program reclaims a slot idle (or
 * closed) for `reclaim` of capture time, judged by the time of the frame
 * that wants it, and replay must have read the slot's final counts by
 * then. In time order, a read every half `reclaim` of the latest capture
 * time is enough. But a capture's clock may step back (sections merged
 * in the wrong order, an NTP step) and the latest time then stands still
 * while frames of the past fill and reclaim slots. A slot written since
 * the last read holds a frame no older than `oldest`, the oldest fed
 * since: a frame less than `reclaim` later than that cannot reclaim it,
 * and a later one has the table read first.
 */
static int run_frames(struct replay *rp, struct np_replay_result *res)
{
	struct np_config *cfg = &rp->skel->data->cfg;
	__u64 period, last_read = 0;
	__u64 reclaim, oldest = 0;
	bool dirty = false;
	char what[160];
	int rc, err;

	period = (cfg->idle_ns < cfg->closed_ns ? cfg->idle_ns :
		  cfg->closed_ns) / 2;
	if (!period)
		period = 1;
	reclaim = cfg->idle_ns < cfg->closed_ns ? cfg->idle_ns : cfg->closed_ns;

	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *data;
		__u64 now;

		rc = pcap_next_ex(rp->pcap, &h, &data);
		if (rc != 1)
			break;
		now = np_capfile_ns(&rp->cap, h);
		if (!res->frames) {
			res->first_ns = now;
			last_read = now;
		} else if (now < res->first_ns) {
			res->first_ns = now;
		}
		res->frames++;
		/* the steps a report wants: every frame before a step's
		 * end is in the table when the step is taken
		 */
		if (rp->hooks && rp->hooks->step_ns) {
			if (!rp->next_step)
				rp->next_step = now + rp->hooks->step_ns;
			while (now >= rp->next_step) {
				err = flush(rp, res->frames - 1);
				if (!err)
					err = read_flows(rp, res);
				if (!err)
					err = rp->hooks->step(rp->hooks->ctx,
							      rp->next_step,
							      &rp->maps, res);
				if (err)
					return err;
				dirty = false;
				last_read = now;
				rp->next_step += rp->hooks->step_ns;
			}
		}
		/* a capture from several queues may step back a little:
		 * the program gets each frame's own time, the reads go
		 * by the latest
		 */
		if (now > res->last_ns) {
			if (now - last_read >= period) {
				/* nothing ran since the last read: the
				 * table is as that read saw it
				 */
				if (dirty) {
					err = flush(rp, res->frames - 1);
					if (!err)
						err = read_flows(rp, res);
					if (err)
						return err;
					dirty = false;
				}
				last_read = now;
			}
			res->last_ns = now;
		}
		/* ...or a lot, and come forward again (see above) */
		if (dirty && now > oldest && now - oldest >= reclaim) {
			err = flush(rp, res->frames - 1);
			if (!err)
				err = read_flows(rp, res);
			if (err)
				return err;
			dirty = false;
		}
		if (h->caplen < MIN_FRAME) {
			res->extra_stats[NP_STAT_PACKETS]++;
			res->extra_stats[NP_STAT_TRUNCATED]++;
			continue;
		}
		err = feed(rp, data, h->caplen, now, res->frames);
		if (err)
			return err;
		if (!dirty || now < oldest)
			oldest = now;
		dirty = true;
	}
	err = flush(rp, res->frames);
	if (err)
		return err;
	res->not_ethernet = rp->cap.other_frames;
	if (rp->cap.pcapng && !rp->cap.eth_ifaces && rp->cap.other_ifaces) {
		/* every interface was hidden from libpcap */
		res->input_error = true;
		link_type_error(rp, rp->cap.other_linktype);
		return -EPROTONOSUPPORT;
	}
	if (res->not_ethernet)
		np_warn("%s holds %llu frames of interfaces of link type %s, which carry no Ethernet MAC addresses: they are left out, only the Ethernet interfaces' frames are classified",
			rp->name, (unsigned long long)res->not_ethernet,
			link_type_str(what, sizeof(what),
				      rp->cap.other_linktype));
	if (rc == PCAP_ERROR_BREAK) {
		/* the end of the file */
		if (!res->frames && !res->not_ethernet)
			np_warn("%s holds no frames", rp->name);
		return 0;
	}

	/* a read error: what came before it still counts */
	res->truncated = true;
	if (strstr(pcap_geterr(rp->pcap), "truncated"))
		np_warn("%s is cut short after %llu frames; reporting what it holds",
			rp->name, (unsigned long long)res->frames);
	else
		np_warn("%s is damaged after %llu frames (%s); reporting what it holds",
			rp->name, (unsigned long long)res->frames,
			pcap_geterr(rp->pcap));
	return 0;
}

static void replay_close(struct replay *rp)
{
	unpin_cpu(rp);
	if (rp->tab_ready)
		np_flowtab_free(&rp->tab);
	rp->tab_ready = false;
	if (rp->pcap)
		pcap_close(rp->pcap);
	rp->pcap = NULL;
	free(rp->batch.buf);
	rp->batch.buf = NULL;
}

int np_replay_file(const char *path, const struct np_prog_opts *po,
		   struct nbdpath_bpf **skel_out, struct np_replay_result *res)
{
	return np_replay_file_hooks(path, po, NULL, skel_out, res);
}

int np_replay_file_hooks(const char *path, const struct np_prog_opts *po,
			 const struct np_replay_hooks *hooks,
			 struct nbdpath_bpf **skel_out,
			 struct np_replay_result *res)
{
	struct replay rp = {
		.path = path,
		.name = strcmp(path, "-") ? path : "standard input",
		.res = res,
		.hooks = hooks,
	};
	int err;

	memset(res, 0, sizeof(*res));
	*skel_out = NULL;

	err = open_capture(&rp, res);
	if (err)
		goto out;
	err = load(&rp, po, res);
	if (err)
		goto out;
	pin_cpu(&rp);
	err = run_frames(&rp, res);
	if (err)
		goto out;
	err = read_flows(&rp, res);
	if (err)
		goto out;
	err = write_meta(&rp, res, true);
	if (err) {
		np_err("cannot write the np_meta map: %s", strerror(-err));
		goto out;
	}
	*skel_out = rp.skel;
	rp.skel = NULL;
out:
	replay_close(&rp);
	nbdpath_bpf__destroy(rp.skel);
	return err;
}

void np_replay_result_free(struct np_replay_result *res)
{
	np_flowset_free(&res->flows);
}

/* Finished flows a replay lists without --max-finished: every one. */
#define REPLAY_MAX_FINISHED	(1u << 24)

/* What the reports of one replay share: their history and records. */
struct replay_report {
	struct np_cli *o;
	struct np_report_opts ro;
	struct np_history *history;
	struct np_finished finished;
	struct np_flowlog log;
	bool logging;
	struct np_export *export;	/* --ipfix */
	bool last;			/* the step is the end of the capture */
	__s64 settle_ns;		/* see np_flowlog_write() */
	struct np_report *prev;
	__u64 last_end;			/* unix ns of the previous step */
	__u64 frames;			/* frames read by the previous step */
	bool names_stored;		/* --vmk names in np_names */
};

static void replay_retire(const struct np_flow_rec *rec, void *ctx)
{
	struct replay_report *rr = ctx;

	enum np_flow_state st = np_flow_state_at(rec, rr->ro.now_ns,
						 rr->ro.idle_sec);

	np_finished_add(&rr->finished, rec, st);
	if (rr->logging)
		np_flowlog_retired(&rr->log, rec, st);
	np_export_retired(rr->export, rec, st);
}

/* One report as of end_ns (capture time); printed with --interval. */
static int replay_step(void *ctx, __u64 end_ns, const struct np_maps *maps,
		       struct np_replay_result *res)
{
	struct replay_report *rr = ctx;
	struct np_cli *o = rr->o;
	struct np_report *r;

	/* every report names the vmks, the first step's as the last's */
	if (o->vmks.n && !rr->names_stored) {
		int err = np_vmk_store(&o->vmks, maps->names);

		if (err) {
			np_err("cannot store the vmk names in np_names: %s",
			       strerror(-err));
			return err;
		}
		rr->names_stored = true;
	}
	rr->ro.now_ns = end_ns;
	rr->ro.extra_stats = res->extra_stats;
	r = np_report_build(maps, &res->flows, &rr->ro, rr->prev);
	if (!r) {
		np_err("cannot build the report: %s", strerror(errno));
		return -EIO;
	}
	if (rr->logging)
		np_flowlog_write(&rr->log, r, rr->last ? 0 : rr->settle_ns);
	if (rr->export)
		np_export_report(rr->export, r, rr->last);
	if (o->interval_given) {
		if (o->json) {
			np_report_json(stdout, r, NP_VIEW_ALL);
		} else {
			if (rr->prev)
				fputs("\n", stdout);
			np_report_text(stdout, r, NP_VIEW_ALL);
		}
	}
	np_report_free(rr->prev);
	rr->prev = r;
	rr->last_end = end_ns;
	return 0;
}

int cmd_replay(struct np_cli *o)
{
	struct np_prog_opts po = {
		.ports = o->ports,
		.n_ports = o->n_ports,
		.max_flows = o->max_flows,
		.idle_sec = o->idle_timeout,
		/*
		 * A capture's closed connections stay in the table until
		 * they go idle: the table is read every idle/2 of capture
		 * time, not every couple of seconds, which is what keeps
		 * long captures fast.
		 */
		.closed_sec = o->idle_timeout ? o->idle_timeout :
						NP_DEFAULT_IDLE_SEC,
	};
	struct replay_report rr = {
		.o = o,
		.ro = {
			.kind = NP_SRC_REPLAY,
			.path = o->file,
			.sample_rate = o->sample_rate,
			.idle_sec = o->idle_timeout,
			.closed_sec = po.closed_sec,
			.interval = o->interval_given ? o->interval : 0,
			.window_ns = o->window * NP_NSEC_PER_SEC,
		},
	};
	struct np_replay_hooks hooks = {
		.step = replay_step,
		.retire = replay_retire,
		.ctx = &rr,
	};
	struct np_replay_result res = {};
	struct nbdpath_bpf *skel = NULL;
	struct np_maps maps;
	struct np_meta meta;
	__u32 zero = 0;
	int err, ret = NP_EXIT_FAIL;

	/* every flow of the capture is listed: no age limit on records */
	if (np_finished_init(&rr.finished, o->max_finished_given ?
			     o->max_finished : REPLAY_MAX_FINISHED, 0, true) ||
	    np_history_new(&rr.history, rr.ro.window_ns)) {
		np_err("out of memory");
		goto out;
	}
	rr.ro.finished = &rr.finished;
	rr.ro.history = rr.history;
	if (o->flow_log) {
		if (np_flowlog_open(&rr.log, o->flow_log)) {
			ret = NP_EXIT_USAGE;
			goto out;
		}
		rr.logging = true;
	}
	if (o->ipfix) {
		err = np_export_open(&rr.export, o->ipfix, o->active_timeout, 0,
				     true);
		if (err) {
			ret = err == -EINVAL ? NP_EXIT_USAGE : NP_EXIT_FAIL;
			goto out;
		}
	}
	/*
	 * With --interval, a report at the end of every interval; without,
	 * steps of a tenth of the window, so that the one report's
	 * "current" covers the capture's last window
	 */
	hooks.step_ns = o->interval_given ? o->interval * NP_NSEC_PER_SEC :
					    rr.ro.window_ns / 10;
	if (!hooks.step_ns)
		hooks.step_ns = 1;
	rr.settle_ns = hooks.step_ns / 2;
	err = np_replay_file_hooks(o->file, &po, &hooks, &skel, &res);
	if (err) {
		ret = res.input_error ? NP_EXIT_USAGE : NP_EXIT_FAIL;
		goto out;
	}
	np_prog_maps(skel, &maps);
	if (bpf_map_lookup_elem(maps.meta, &zero, &meta)) {
		np_err("cannot read the np_meta map: %s", strerror(errno));
		goto out;
	}
	rr.ro.truncated = res.truncated;
	rr.ro.not_ethernet = res.not_ethernet;
	rr.ro.flows_evicted = meta.flows_evicted;
	/* the last report ends at the last frame; without --interval it
	 * is the only one printed, over the whole capture
	 */
	if (!o->interval_given) {
		np_report_free(rr.prev);
		rr.prev = NULL;
	}
	{
		bool print = o->interval_given;

		o->interval_given = true;
		rr.last = true;
		err = replay_step(&rr, res.last_ns, &maps, &res);
		o->interval_given = print;
		if (err)
			goto out;
	}
	np_report_warn_full(rr.prev, o->max_flows);
	if (fflush(stdout) || ferror(stdout)) {
		np_err("cannot write the report: %s", strerror(errno));
		goto out;
	}
	ret = NP_EXIT_OK;
out:
	np_report_free(rr.prev);
	if (rr.logging)
		np_flowlog_close(&rr.log);
	np_history_free(rr.history);
	np_finished_free(&rr.finished);
	np_export_close(rr.export);
	np_replay_result_free(&res);
	nbdpath_bpf__destroy(skel);
	return ret;
}
