// SPDX-License-Identifier: GPL-2.0
/*
 * bench - the measuring half of `make bench`; scripts/bench.sh drives it.
 *
 *   bench prog   [--repeat N] [--rounds R] [--cpu C] [--base OBJ]
 *                [--step OBJ]...
 *   bench live   --dev IFACE --count N [--rate PPS] [--batch B] [--size S]
 *                [--recv bare:PEER | nbdpath:PEER | pin:DIR |
 *                 base:PEER:OBJ | none] [--key PREFIX] [--cpu C] [--spread C2]
 *   bench poll   [--flows N] [--max-flows N] [--polls R] [--finished N]
 *                [--cpu C]
 *   bench report SAMPLES JSON
 *
 * prog, live and poll print samples, one "key value" per line; bench.sh
 * collects them over rounds into one file and `report` turns that file
 * into the table (median, its 95% interval, min, max, target, met?) and
 * the JSON.
 *
 * Every per-packet figure is a difference taken inside one round: the
 * nbdpath run minus the bare program's run just before it, on the same
 * CPU. A lone absolute time says more about the machine than about us.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>
#include <glob.h>
#include <sys/wait.h>

#include "nbdpath.h"
#include "prog.h"
#include "flowtab.h"
#include "report.h"
#include "report_model.h"
#include "finished.h"
#include "history.h"
#include "frames.h"
#include "seed.h"
#include "bench_bare.skel.h"
#include "bench_tx.skel.h"
#include "bench_count.skel.h"

static const char *prog_name = "bench";

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("cannot pin to CPU %d: %s", cpu, strerror(errno));
}

static unsigned long long parse_num(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end)
		die("bad %s '%s'", what, s);
	return v;
}

/* ---- frames ---- */

/* the seed's hosts (tests/seed.h) */
static const __u8 mac_server[6] = { MAC_VMK4_BYTES };
static const __u8 mac_client[6] = { MAC_RUBRIK_BYTES };
static const __u8 mac_sensor[6] = { MAC_MIRROR_DST_BYTES };
static const __u8 mac_switch[6] = { MAC_MIRROR_SRC_BYTES };

#define SERVER_IP	IP_ESX
#define CLIENT_IP	IP_RUBRIK

/*
 * A TCP segment between the server and the client; from_server chooses
 * the direction, port the server's port (902, or another for a miss).
 * Offsets of the client's address and port are returned for bench_fresh.
 */
static void build_tcp(struct frame *f, bool from_server, __u16 port,
		      __u32 payload, __u32 *addr_off, __u32 *port_off)
{
	__u32 ip, th;

	if (from_server)
		frame_eth(f, mac_client, mac_server);
	else
		frame_eth(f, mac_server, mac_client);
	ip = frame_ipv4(f, &(struct frame_ip4){
		.saddr = from_server ? SERVER_IP : CLIENT_IP,
		.daddr = from_server ? CLIENT_IP : SERVER_IP,
		.df = true });
	th = frame_tcp(f, &(struct frame_tcp){
		.sport = from_server ? port : CLIENT_PORT,
		.dport = from_server ? CLIENT_PORT : port,
		.seq = 1000, .ack = 2000,
		.flags = FRAME_TH_ACK | (payload ? FRAME_TH_PSH : 0) });
	if (payload)
		frame_payload(f, payload);
	/* the last two bytes of the address, then the port */
	if (addr_off)
		*addr_off = ip + (from_server ? 16 : 12) + 2;
	if (port_off)
		*port_off = th + (from_server ? 2 : 0);
}

enum frame_kind {
	FR_HIT,		/* from_server data segment of an established flow */
	FR_MISS,	/* the same segment on port 443 */
	FR_ERSPAN,	/* FR_HIT inside Ethernet/IPv4/GRE/ERSPAN II */
	FR_REQUEST,	/* to_server ACK: bench_fresh rewrites its client */
	FR_REPLY,	/* from_server ACK: the reverse of FR_REQUEST */
};

/* payload: bytes of TCP data; a full 1500-byte packet by default */
static void build_frame(struct frame *f, enum frame_kind k, __u32 payload,
			__u32 *addr_off, __u32 *port_off)
{
	frame_init(f);
	switch (k) {
	case FR_HIT:
		build_tcp(f, true, NP_DEFAULT_PORT, payload, NULL, NULL);
		break;
	case FR_MISS:
		build_tcp(f, true, 443, payload, NULL, NULL);
		break;
	case FR_ERSPAN:
		frame_eth(f, mac_sensor, mac_switch);
		frame_ipv4(f, &(struct frame_ip4){ .saddr = IP_MIRROR_SRC,
						   .daddr = IP_MIRROR_DST });
		frame_gre(f, &(struct frame_gre){ .flags = FRAME_GRE_S,
						  .seq = 1 });
		frame_erspan2(f, &(struct frame_erspan2){ .vlan = 28,
							   .session = 5 });
		build_tcp(f, true, NP_DEFAULT_PORT, payload, NULL, NULL);
		break;
	case FR_REQUEST:
		build_tcp(f, false, NP_DEFAULT_PORT, payload, addr_off,
			  port_off);
		break;
	case FR_REPLY:
		build_tcp(f, true, NP_DEFAULT_PORT, payload, addr_off,
			  port_off);
		break;
	}
	frame_end(f);
}

/* ---- BPF_PROG_TEST_RUN ---- */

/*
 * Time per repetition in ns, as the kernel measures it around its loop:
 * whole nanoseconds, but without the syscall's setup. With repeat > 1
 * that setup swaps the program into the XDP dispatcher and back, which
 * takes 15 to 45 ms on a VM (RCU grace periods) and would swamp a wall
 * clock taken around the call.
 */
static double test_run(int fd, const struct frame *f, __u32 repeat,
		       __u32 want)
{
	LIBBPF_OPTS(bpf_test_run_opts, o,
		    .data_in = f->data,
		    .data_size_in = f->len,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o))
		die("BPF_PROG_TEST_RUN: %s", strerror(errno));
	if (o.retval != want)
		die("program returned %u, expected %u", o.retval, want);
	return o.duration;
}

static void stats_of(struct nbdpath_bpf *s, __u64 c[NP_STAT_MAX])
{
	int err = np_read_stats(bpf_map__fd(s->maps.np_stats), c);

	if (err)
		die("reading np_stats: %s", strerror(-err));
}

/* One frame through the program must land in the outcome named. */
static void expect_outcome(struct nbdpath_bpf *s, int fd,
			   const struct frame *f, enum np_stat want,
			   const char *what)
{
	__u64 a[NP_STAT_MAX], b[NP_STAT_MAX];

	stats_of(s, a);
	test_run(fd, f, 1, XDP_DROP);
	stats_of(s, b);
	if (b[want] != a[want] + 1 || b[NP_STAT_PACKETS] != a[NP_STAT_PACKETS] + 1)
		die("%s: the frame is not counted as %s", what,
		    np_stat_names[want]);
}

static struct nbdpath_bpf *load_nbdpath(__u32 max_flows)
{
	struct np_prog_opts po = { .max_flows = max_flows };
	struct nbdpath_bpf *s;
	int err;

	s = np_prog_load(&po, &err);
	if (!s)
		die("loading nbdpath: %s", strerror(-err));
	return s;
}

/*
 * The program of another commit (make bench builds 8ed88a0's into
 * .build/base/): loaded with libbpf alone, configured as its own loader
 * did (partitions of 1.5 slots a flow in buckets of 4, rounded up to a
 * power of two). Its np_config starts as ours does: only that prefix is
 * written.
 */
struct base {
	struct bpf_object *obj;
	int prog_fd;
	int stats_fd;
	struct np_config *cfg;
};

_Static_assert(__builtin_offsetof(struct np_config, idle_ns) == 8200,
	       "np_config's prefix is the base program's");

/* Where variable var of section sec sits in obj's image of it, or NULL. */
static void *base_var_opt(struct bpf_object *obj, const char *sec,
			  const char *var)
{
	struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *m = bpf_object__find_map_by_name(obj, sec);
	const struct btf_var_secinfo *vs;
	const struct btf_type *t;
	size_t size;
	char *img;
	int id;

	if (!btf || !m)
		die("base program: no %s", sec);
	id = btf__find_by_name_kind(btf, sec, BTF_KIND_DATASEC);
	img = (char *)bpf_map__initial_value(m, &size);
	if (id < 0 || !img)
		die("base program: no BTF for %s", sec);
	t = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(t);
	for (int i = 0; i < btf_vlen(t); i++) {
		const struct btf_type *v = btf__type_by_id(btf, vs[i].type);

		if (!strcmp(btf__name_by_offset(btf, v->name_off), var))
			return img + vs[i].offset;
	}
	return NULL;
}

static void *base_var(struct bpf_object *obj, const char *sec,
		      const char *var)
{
	void *v = base_var_opt(obj, sec, var);

	if (!v)
		die("base program: no %s in %s", var, sec);
	return v;
}

/* idle0: an idle timeout of zero (new flows reclaim idle slots) */
static void load_base(struct base *b, const char *path, __u32 max_flows,
		      bool idle0)
{
	int ncpu = libbpf_num_possible_cpus();
	__u32 slots = 8, want;
	struct bpf_program *prog;
	struct bpf_map *flows;

	if (!max_flows)
		max_flows = NP_DEFAULT_MAX_FLOWS;
	want = max_flows + (max_flows + 1) / 2;
	while (slots < want)
		slots <<= 1;
	b->obj = bpf_object__open_file(path, NULL);
	if (!b->obj)
		die("%s: %s", path, strerror(errno));
	flows = bpf_object__find_map_by_name(b->obj, "np_flows");
	prog = bpf_object__find_program_by_name(b->obj, "nbdpath_replay");
	if (!flows || !prog)
		die("%s: not an nbdpath program", path);
	if (base_var_opt(b->obj, ".rodata", "bucket_shift")) {
		/* 8ed88a0: buckets of 4, partitions a power of two */
		*(__u32 *)base_var(b->obj, ".rodata", "bucket_shift") =
			__builtin_ctz(slots / 4);
		*(__u32 *)base_var(b->obj, ".rodata", "bucket_mask") =
			slots / 4 - 1;
	} else {
		/* a step of this branch: buckets of 8 and a stash, tags
		 * in their own map once they came, a secret in cfg
		 */
		struct bpf_map *tags = bpf_object__find_map_by_name(b->obj,
								   "np_tags");
		__u32 buckets = slots / NP_FLOW_BUCKET < 2 ? 2 :
				slots / NP_FLOW_BUCKET;

		slots = (buckets + 1) * NP_FLOW_BUCKET;
		*(__u32 *)base_var(b->obj, ".rodata", "bucket_mask") =
			buckets - 1;
		*(__u32 *)base_var(b->obj, ".rodata", "n_slots") = slots;
		if (tags && bpf_map__set_max_entries(tags, (buckets + 1) * ncpu))
			die("%s: np_tags", path);
		if (np_hkey_random(&((struct np_config *)base_var(
				b->obj, ".data", "cfg"))->hkey))
			die("getrandom failed");
	}
	if (bpf_map__set_max_entries(flows, slots * ncpu))
		die("%s: np_flows", path);
	bpf_program__set_autoload(prog, false);
	/* before load: libbpf maps .data for writing only in skeletons */
	b->cfg = base_var(b->obj, ".data", "cfg");
	if (idle0)
		b->cfg->idle_ns = 0;
	if (bpf_object__load(b->obj))
		die("loading %s: %s", path, strerror(errno));
	b->prog_fd = bpf_program__fd(
		bpf_object__find_program_by_name(b->obj, "nbdpath_xdp"));
	b->stats_fd = bpf_map__fd(bpf_object__find_map_by_name(b->obj,
								 "np_stats"));
}

static struct bench_bare_bpf *load_bare(void)
{
	struct bench_bare_bpf *b = bench_bare_bpf__open_and_load();

	if (!b)
		die("loading bench_bare: %s", strerror(errno));
	return b;
}

static void set_next(struct bench_bare_bpf *b, int prog_fd)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(b->maps.bench_next), &zero,
				&prog_fd, BPF_ANY))
		die("bench_next: %s", strerror(errno));
}

/* Every timed new-flow frame made a flow, none was refused. */
static void check_new(const __u64 *st, __u64 want, const char *what)
{
	if (st[NP_STAT_MATCHED] != want || st[NP_STAT_TABLE_FULL])
		die("%s new flows: %llu matched, %llu refused (table full)",
		    what, (unsigned long long)st[NP_STAT_MATCHED],
		    (unsigned long long)st[NP_STAT_TABLE_FULL]);
}

static int cmd_prog(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "repeat", required_argument, NULL, 'n' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "max-flows", required_argument, NULL, 'm' },
		{ "base", required_argument, NULL, 'B' },
		{ "step", required_argument, NULL, 'S' },
		{}
	};
	static struct frame hit, miss, erspan, req, ack, hitio;
	/* --step OBJ: more programs measured in the same rounds */
	struct base steps[8] = {}, stepsf[8] = {};
	const char *step_path[8];
	int n_steps = 0;
	__u32 repeat = 10000000, rounds = 7, aoff, poff, max_flows = 0;
	struct nbdpath_bpf *np, *npf, *npc;
	struct base bs = {}, bsf = {};
	struct bench_bare_bpf *b;
	int c, cpu = 0, bare_fd, fresh_fd, io_fd, np_fd, npf_fd, npc_fd;
	__u32 ioaddr, ioport;
	const char *base_path = NULL;
	__u64 st[NP_STAT_MAX];

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			repeat = parse_num(optarg, "--repeat");
			break;
		case 'r':
			rounds = parse_num(optarg, "--rounds");
			break;
		case 'c':
			cpu = parse_num(optarg, "--cpu");
			break;
		case 'm':
			max_flows = parse_num(optarg, "--max-flows");
			break;
		case 'B':
			base_path = optarg;
			break;
		case 'S':
			if (n_steps == 8)
				die("at most 8 --step");
			step_path[n_steps++] = optarg;
			break;
		default:
			return 2;
		}
	}
	pin_cpu(cpu);

	build_frame(&hit, FR_HIT, 1460, NULL, NULL);
	build_frame(&miss, FR_MISS, 1460, NULL, NULL);
	build_frame(&erspan, FR_ERSPAN, 1460, NULL, NULL);
	build_frame(&req, FR_REQUEST, 0, &aoff, &poff);
	/* the other direction of hit's flow: the client's bare ACK */
	build_frame(&ack, FR_REQUEST, 0, NULL, NULL);
	/* hit itself, its sequence number moved on every repetition */
	build_frame(&hitio, FR_REPLY, 1460, &ioaddr, &ioport);

	b = load_bare();
	bare_fd = bpf_program__fd(b->progs.bench_bare);
	fresh_fd = bpf_program__fd(b->progs.bench_fresh);
	b->bss->addr_off = aoff;
	b->bss->port_off = poff;
	io_fd = bpf_program__fd(b->progs.bench_inorder);
	/* FR_REPLY's port offset is its destination port's (the client's),
	 * two bytes into the TCP header; the sequence number is at four
	 */
	b->bss->seq_off = ioport + 2;
	b->bss->seq_step = 1460;

	np = load_nbdpath(0);
	np_fd = bpf_program__fd(np->progs.nbdpath_xdp);
	/*
	 * New flows get their own instance (the default table unless
	 * --max-flows) with an idle timeout of zero: once the table has
	 * filled, every new flow claims a slot by reclaiming an idle one,
	 * as on a busy sensor, instead of finding the window full and
	 * counting table_full (a cheaper path that creates nothing).
	 */
	npf = load_nbdpath(max_flows);
	npf_fd = bpf_program__fd(npf->progs.nbdpath_xdp);
	npf->data->cfg.idle_ns = 0;
	/* the same in a table that stays in cache: the cost without misses */
	npc = load_nbdpath(1024);
	npc_fd = bpf_program__fd(npc->progs.nbdpath_xdp);
	npc->data->cfg.idle_ns = 0;
	if (base_path) {
		load_base(&bs, base_path, 0, false);
		load_base(&bsf, base_path, max_flows, true);
	}
	for (int i = 0; i < n_steps; i++) {
		load_base(&steps[i], step_path[i], 0, false);
		load_base(&stepsf[i], step_path[i], max_flows, true);
		test_run(steps[i].prog_fd, &hit, 1, XDP_DROP);
		test_run(steps[i].prog_fd, &ack, 1, XDP_DROP);
	}

	/* each frame takes the path it is meant to measure */
	expect_outcome(np, np_fd, &hit, NP_STAT_MATCHED, "hit");
	expect_outcome(np, np_fd, &ack, NP_STAT_MATCHED, "ack");
	expect_outcome(np, np_fd, &miss, NP_STAT_OTHER_PORT, "non-matching");
	expect_outcome(np, np_fd, &erspan, NP_STAT_MATCHED, "erspan");
	stats_of(np, st);
	if (st[NP_STAT_ERSPAN] != 1)
		die("erspan: not counted as ERSPAN");
	if (base_path) {
		test_run(bs.prog_fd, &hit, 1, XDP_DROP);
		test_run(bs.prog_fd, &ack, 1, XDP_DROP);
	}

	printf("prog.repeat %u\n", repeat);
	for (__u32 r = 0; r < rounds; r++) {
		double bare, hitn, ackn, missn, ersn, fbare, fnp, fnc;
		double bhit = 0, back = 0, bmiss = 0, bnew = 0;
		double iobare, ionp, iobase = 0;

		/* alternate which goes first, so drift favours neither */
		bare = test_run(bare_fd, &hit, repeat, XDP_DROP);
		if (base_path && r % 2) {
			bhit = test_run(bs.prog_fd, &hit, repeat, XDP_DROP);
			back = test_run(bs.prog_fd, &ack, repeat, XDP_DROP);
			bmiss = test_run(bs.prog_fd, &miss, repeat, XDP_DROP);
		}
		hitn = test_run(np_fd, &hit, repeat, XDP_DROP);
		ackn = test_run(np_fd, &ack, repeat, XDP_DROP);
		missn = test_run(np_fd, &miss, repeat, XDP_DROP);
		if (base_path && !(r % 2)) {
			bhit = test_run(bs.prog_fd, &hit, repeat, XDP_DROP);
			back = test_run(bs.prog_fd, &ack, repeat, XDP_DROP);
			bmiss = test_run(bs.prog_fd, &miss, repeat, XDP_DROP);
		}
		ersn = test_run(np_fd, &erspan, repeat, XDP_DROP);
		set_next(b, bare_fd);
		fbare = test_run(fresh_fd, &req, repeat, XDP_DROP);
		set_next(b, npf_fd);
		fnp = test_run(fresh_fd, &req, repeat, XDP_DROP);
		if (base_path) {
			set_next(b, bsf.prog_fd);
			bnew = test_run(fresh_fd, &req, repeat, XDP_DROP);
		}
		set_next(b, npc_fd);
		fnc = test_run(fresh_fd, &req, repeat, XDP_DROP);
		set_next(b, bare_fd);
		iobare = test_run(io_fd, &hitio, repeat, XDP_DROP);
		set_next(b, np_fd);
		ionp = test_run(io_fd, &hitio, repeat, XDP_DROP);
		if (base_path) {
			set_next(b, bs.prog_fd);
			iobase = test_run(io_fd, &hitio, repeat, XDP_DROP);
		}
		for (int i = 0; i < n_steps; i++) {
			double sh = test_run(steps[i].prog_fd, &hit, repeat,
					     XDP_DROP);
			double sa = test_run(steps[i].prog_fd, &ack, repeat,
					     XDP_DROP);
			double sm = test_run(steps[i].prog_fd, &miss, repeat,
					     XDP_DROP);
			double sn, si;

			set_next(b, stepsf[i].prog_fd);
			sn = test_run(fresh_fd, &req, repeat, XDP_DROP);
			set_next(b, steps[i].prog_fd);
			si = test_run(io_fd, &hitio, repeat, XDP_DROP);
			printf("prog.step%d.inorder_ns %.0f\n", i + 1, si - iobare);
			printf("prog.step%d.hit_ns %.0f\n", i + 1, sh - bare);
			printf("prog.step%d.ack_ns %.0f\n", i + 1, sa - bare);
			printf("prog.step%d.new_ns %.0f\n", i + 1, sn - fbare);
			printf("prog.step%d.miss_ns %.0f\n", i + 1, sm - bare);
		}

		printf("prog.bare_ns %.0f\n", bare);
		printf("prog.hit_ns %.0f\n", hitn - bare);
		printf("prog.ack_ns %.0f\n", ackn - bare);
		printf("prog.miss_ns %.0f\n", missn - bare);
		printf("prog.erspan_ns %.0f\n", ersn - bare);
		printf("prog.fresh_bare_ns %.0f\n", fbare);
		printf("prog.new_ns %.0f\n", fnp - fbare);
		printf("prog.new_cached_ns %.0f\n", fnc - fbare);
		printf("prog.inorder_ns %.0f\n", ionp - iobare);
		if (base_path) {
			printf("prog.base_hit_ns %.0f\n", bhit - bare);
			printf("prog.base_ack_ns %.0f\n", back - bare);
			printf("prog.base_miss_ns %.0f\n", bmiss - bare);
			printf("prog.base_new_ns %.0f\n", bnew - fbare);
			printf("prog.hit_ratio %.4f\n", (hitn - bare) / (bhit - bare));
			printf("prog.ack_ratio %.4f\n", (ackn - bare) / (back - bare));
			printf("prog.miss_diff_ns %.0f\n", missn - bmiss);
			printf("prog.new_ratio %.4f\n", (fnp - fbare) / (bnew - fbare));
			printf("prog.base_inorder_ns %.0f\n", iobase - iobare);
			printf("prog.inorder_ratio %.4f\n",
			       (ionp - iobare) / (iobase - iobare));
		}
		fflush(stdout);
	}

	stats_of(npf, st);
	check_new(st, (__u64)repeat * rounds, "nbdpath");
	printf("prog.new_reclaimed %llu\n",
	       (unsigned long long)st[NP_STAT_RECLAIMED]);
	if (base_path) {
		int err = np_read_stats(bsf.stats_fd, st);

		if (err)
			die("reading the base np_stats: %s", strerror(-err));
		check_new(st, (__u64)repeat * rounds, "base");
		bpf_object__close(bsf.obj);
		bpf_object__close(bs.obj);
	}

	for (int i = 0; i < n_steps; i++) {
		bpf_object__close(stepsf[i].obj);
		bpf_object__close(steps[i].obj);
	}
	nbdpath_bpf__destroy(npc);
	nbdpath_bpf__destroy(npf);
	nbdpath_bpf__destroy(np);
	bench_bare_bpf__destroy(b);
	return 0;
}

/* ---- live frames ---- */

static __u64 percpu_sum(int fd)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *v, sum = 0;
	__u32 zero = 0;

	v = calloc(ncpu, sizeof(*v));
	if (!v)
		die("out of memory");
	if (bpf_map_lookup_elem(fd, &zero, v))
		die("reading a counter: %s", strerror(errno));
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	free(v);
	return sum;
}

struct receiver {
	enum { RX_NONE, RX_BARE, RX_NBDPATH, RX_PIN, RX_BASE } kind;
	struct bench_count_bpf *count;
	struct nbdpath_bpf *np;
	struct base base;
	struct bpf_link *link;
	int stats_fd;
};

static unsigned int ifindex_of(const char *name)
{
	unsigned int i = if_nametoindex(name);

	if (!i)
		die("no interface '%s'", name);
	return i;
}

static void rx_open(struct receiver *rx, const char *spec)
{
	const char *arg = strchr(spec, ':');
	char path[512];

	memset(rx, 0, sizeof(*rx));
	rx->stats_fd = -1;
	if (!strcmp(spec, "none"))
		return;
	if (!arg)
		die("bad --recv '%s'", spec);
	arg++;
	if (!strncmp(spec, "bare:", 5)) {
		rx->kind = RX_BARE;
		rx->count = bench_count_bpf__open_and_load();
		if (!rx->count)
			die("loading bench_count: %s", strerror(errno));
		/* a link attach without mode flags is native on veth */
		rx->link = bpf_program__attach_xdp(rx->count->progs.bench_count,
						   ifindex_of(arg));
		rx->stats_fd = bpf_map__fd(rx->count->maps.rx_count);
	} else if (!strncmp(spec, "nbdpath:", 8)) {
		/* the datapath of `nbdpath run`, without the daemon */
		rx->kind = RX_NBDPATH;
		rx->np = load_nbdpath(0);
		rx->link = bpf_program__attach_xdp(rx->np->progs.nbdpath_xdp,
						   ifindex_of(arg));
		rx->stats_fd = bpf_map__fd(rx->np->maps.np_stats);
	} else if (!strncmp(spec, "base:", 5)) {
		/* base:PEER:OBJ, the program of another commit */
		char dev[64];
		const char *obj = strchr(arg, ':');

		if (!obj || obj - arg >= (long)sizeof(dev))
			die("bad --recv '%s'", spec);
		snprintf(dev, sizeof(dev), "%.*s", (int)(obj - arg), arg);
		rx->kind = RX_BASE;
		load_base(&rx->base, obj + 1, 0, false);
		rx->link = bpf_program__attach_xdp(
			bpf_object__find_program_by_name(rx->base.obj,
							 "nbdpath_xdp"),
			ifindex_of(dev));
		rx->stats_fd = rx->base.stats_fd;
		arg = dev;
		if (!rx->link)
			die("attaching the receiver to %s: %s", arg,
			    strerror(errno));
		return;
	} else if (!strncmp(spec, "pin:", 4)) {
		/* a running `nbdpath run`: its pinned counters */
		rx->kind = RX_PIN;
		snprintf(path, sizeof(path), "%s/%s", arg, NP_PIN_STATS);
		rx->stats_fd = bpf_obj_get(path);
		if (rx->stats_fd < 0)
			die("%s: %s", path, strerror(errno));
		return;
	} else {
		die("bad --recv '%s'", spec);
	}
	if (!rx->link)
		die("attaching the receiver to %s: %s", arg, strerror(errno));
}

/* A counter of the receiver: nbdpath's np_stats[stat], or the bare count. */
static __u64 rx_stat(const struct receiver *rx, enum np_stat stat)
{
	__u64 c[NP_STAT_MAX];
	int err;

	switch (rx->kind) {
	case RX_NONE:
		return 0;
	case RX_BARE:
		return percpu_sum(rx->stats_fd);
	default:
		err = np_read_stats(rx->stats_fd, c);
		if (err)
			die("reading np_stats: %s", strerror(-err));
		/*
		 * Frames are the sum of the outcomes: the base program (and
		 * other older ones, as --recv base:) counted NP_STAT_PACKETS
		 * itself too, which np_read_stats() adds the outcomes to
		 */
		if (stat == NP_STAT_PACKETS) {
			__u64 n = 0;

			for (int i = NP_OUTCOME_FIRST; i <= NP_OUTCOME_LAST; i++)
				n += c[i];
			return n;
		}
		return c[stat];
	}
}

static __u64 rx_count(const struct receiver *rx)
{
	return rx_stat(rx, NP_STAT_PACKETS);
}

static void rx_close(struct receiver *rx)
{
	bpf_link__destroy(rx->link);
	bench_count_bpf__destroy(rx->count);
	nbdpath_bpf__destroy(rx->np);
	if (rx->kind == RX_BASE)
		bpf_object__close(rx->base.obj);
	if (rx->kind == RX_PIN && rx->stats_fd >= 0)
		close(rx->stats_fd);
}

/* Wait until the receiver has taken what is still queued for it. */
static __u64 rx_settle(const struct receiver *rx)
{
	__u64 last = rx_count(rx), cur;
	struct timespec ms = { 0, 2000000 };

	for (int i = 0; i < 500; i++) {
		nanosleep(&ms, NULL);
		cur = rx_count(rx);
		if (cur == last)
			break;
		last = cur;
	}
	return last;
}

/*
 * Nanoseconds one iteration of bench_tx's spin loop costs, measured
 * without live frames (XDP_TX is then only a return code).
 */
static double spin_cost(struct bench_tx_bpf *tx, const struct frame *f)
{
	int fd = bpf_program__fd(tx->progs.bench_tx);
	double a, b;

	tx->bss->spin = 0;
	a = test_run(fd, f, 20000, XDP_TX);
	tx->bss->spin = 1000;
	b = test_run(fd, f, 20000, XDP_TX);
	tx->bss->spin = 0;
	if (b <= a)
		die("cannot calibrate the generator's pacing");
	return (b - a) / 1000;
}

/* One live-frames call: n frames out of ctx->ingress_ifindex. */
static void live_run(int fd, const struct frame *f, struct xdp_md *ctx,
		     __u64 n, __u32 batch)
{
	LIBBPF_OPTS(bpf_test_run_opts, o,
		    .data_in = f->data,
		    .data_size_in = f->len,
		    .ctx_in = ctx,
		    .ctx_size_in = sizeof(*ctx),
		    .repeat = n,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		    .batch_size = batch);

	if (bpf_prog_test_run_opts(fd, &o))
		die("live frames: %s", strerror(errno));
}

static int cmd_live(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ "batch", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 's' },
		{ "recv", required_argument, NULL, 'R' },
		{ "key", required_argument, NULL, 'k' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "spread", required_argument, NULL, 'S' },
		{}
	};
	const char *dev = NULL, *recv = "none", *key = "live";
	static struct frame back;
	int spread = -1;
	pid_t child = 0;
	__u64 count = 0, rate = 0, sent = 0, rx0, rx1, tx0, tx1, m0;
	__u32 batch = 64, size = 1514;
	struct xdp_md ctx = {};
	struct bench_tx_bpf *tx;
	struct receiver rx;
	static struct frame f;
	double t0, t1, per_spin = 0, spin = 0;
	int c, cpu = 0, fd;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			dev = optarg;
			break;
		case 'n':
			count = parse_num(optarg, "--count");
			break;
		case 'r':
			rate = parse_num(optarg, "--rate");
			break;
		case 'b':
			batch = parse_num(optarg, "--batch");
			break;
		case 's':
			size = parse_num(optarg, "--size");
			break;
		case 'R':
			recv = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'c':
			cpu = parse_num(optarg, "--cpu");
			break;
		case 'S':
			spread = parse_num(optarg, "--spread");
			break;
		default:
			return 2;
		}
	}
	if (!dev || !count)
		die("live needs --dev and --count");
	if (spread >= 0 && rate)
		die("--spread sends as fast as it can: no --rate");
	if (size < 54 + 14 || size > 1514)
		die("--size must be 68..1514");
	/*
	 * The generator and the veth peer's NAPI poll share this CPU: a
	 * batch is redirected, then the peer's softirq receives it as the
	 * generator re-enables bottom halves. Nothing queues up or drops
	 * between them, and the rate is what generator and receiver
	 * sustain together: the same generator for both receivers.
	 */
	pin_cpu(cpu);
	build_frame(&f, FR_HIT, size - 54, NULL, NULL);

	tx = bench_tx_bpf__open_and_load();
	if (!tx)
		die("loading bench_tx: %s", strerror(errno));
	fd = bpf_program__fd(tx->progs.bench_tx);
	/* FR_HIT and FR_REQUEST: Ethernet, IPv4 without options, TCP */
	tx->bss->seq_off = 14 + 20 + 4;
	tx->bss->seq_step = size - 54;
	if (rate) {
		per_spin = spin_cost(tx, &f);
		/* start slow (as if frames cost nothing else), then close in */
		spin = 1e9 / rate / per_spin;
	}
	rx_open(&rx, recv);

	/* live frames: the context names the device XDP_TX leaves by */
	ctx.data_end = f.len;
	ctx.ingress_ifindex = ifindex_of(dev);

	rx0 = rx_count(&rx);
	m0 = rx_stat(&rx, NP_STAT_MATCHED);
	tx0 = percpu_sum(bpf_map__fd(tx->maps.tx_count));
	t0 = now_s();
	if (spread >= 0) {
		/*
		 * A second generator on CPU spread sends the client's
		 * side of the same flow: the veth peer receives each on
		 * the queue (and the CPU) it was sent from, as a
		 * multi-queue NIC spreads a flow's two directions.
		 */
		build_frame(&back, FR_REQUEST, size - 54, NULL, NULL);
		child = fork();
		if (child < 0)
			die("fork: %s", strerror(errno));
		if (!child) {
			pin_cpu(spread);
			live_run(fd, &back, &ctx, count, batch);
			_exit(0);
		}
	}
	if (!rate) {
		live_run(fd, &f, &ctx, count, batch);
		sent = count;
	}
	if (child > 0) {
		int st;

		if (waitpid(child, &st, 0) != child || !WIFEXITED(st) ||
		    WEXITSTATUS(st))
			die("the second generator failed");
	}
	/*
	 * Paced: quarter-second chunks, each one's spin set so that the
	 * frames sent so far catch up with the schedule by its end. The
	 * receiver's cost is part of every frame's time here, so the loop
	 * holds the offered rate whatever the receiver.
	 */
	while (sent < count) {
		__u64 chunk = rate / 4 ? rate / 4 : 1;
		double t, elapsed, frame_ns;

		if (chunk > count - sent)
			chunk = count - sent;
		tx->bss->spin = spin > 0 ? (__u32)spin : 0;
		t = now_s();
		live_run(fd, &f, &ctx, chunk, batch);
		elapsed = now_s() - t;
		sent += chunk;
		frame_ns = elapsed * 1e9 / chunk;
		if (sent < count) {
			/* the time per frame that puts us back on schedule */
			double due = (double)(sent + chunk) / rate;
			double want = (due - (now_s() - t0)) * 1e9 / chunk;

			spin += (want - frame_ns) / per_spin;
			if (spin < 0)
				spin = 0;
		}
	}
	t1 = now_s();
	rx1 = rx_settle(&rx);
	tx1 = percpu_sum(bpf_map__fd(tx->maps.tx_count));

	printf("%s.sent %llu\n", key, (unsigned long long)(tx1 - tx0));
	printf("%s.seconds %.6f\n", key, t1 - t0);
	printf("%s.sent_pps %.0f\n", key, (tx1 - tx0) / (t1 - t0));
	if (rx.kind != RX_NONE) {
		printf("%s.received %llu\n", key, (unsigned long long)(rx1 - rx0));
		printf("%s.pps %.0f\n", key, (rx1 - rx0) / (t1 - t0));
		/* frames the generator sent that the receiver never counted */
		printf("%s.lost %lld\n", key, (long long)(tx1 - tx0) -
					      (long long)(rx1 - rx0));
	}
	if (rx.kind == RX_NBDPATH || rx.kind == RX_PIN || rx.kind == RX_BASE)
		printf("%s.matched %llu\n", key, (unsigned long long)
		       (rx_stat(&rx, NP_STAT_MATCHED) - m0));
	rx_close(&rx);
	bench_tx_bpf__destroy(tx);
	return 0;
}

/* ---- one poll of a full table ---- */

static void fill(struct bench_bare_bpf *b, int fresh_fd, enum frame_kind k,
		 __u32 n)
{
	static struct frame f;
	__u32 aoff, poff;

	build_frame(&f, k, 0, &aoff, &poff);
	b->bss->addr_off = aoff;
	b->bss->port_off = poff;
	b->bss->seq = 0;
	test_run(fresh_fd, &f, n, XDP_DROP);
}

#define MAX_POLLS	64

/*
 * The same polls as `run` makes them today: the table's flows, plus n
 * finished flows' records (keep 3600 s, as --keep-finished's default, so
 * all listed) and the per-host history of the current verdict. The
 * records are the table's flows under other client ports, ended now,
 * closed, reset and idle in turn. Printed beside the plain polls of the
 * same run: per poll, this one's time over the plain one's.
 */
static void poll_finished(const struct np_maps *maps, struct np_flowtab *tab,
			  struct np_flowset *set, __u32 n, __u32 polls,
			  const double *plain_ms, double plain_rss, FILE *null)
{
	static const enum np_flow_state states[] = {
		NP_FS_CLOSED, NP_FS_RESET, NP_FS_IDLE,
	};
	struct np_report *prev = NULL;
	struct np_history *h;
	struct np_finished fin;
	struct rusage ru;
	struct timespec ts;
	int err;

	if (!set->n)
		die("no flows to make records of");
	err = np_finished_init(&fin, n, 3600 * 1000000000ull, false);
	if (!err)
		err = np_history_new(&h, 60 * 1000000000ull);
	if (err)
		die("finished flows: %s", strerror(-err));
	for (__u32 i = 0; i < n; i++) {
		struct np_flow_rec rec = set->v[i % set->n];

		rec.key.client_port ^= htons(0x8000 | (i / set->n));
		np_finished_add(&fin, &rec, states[i % 3]);
	}
	for (__u32 i = 0; i < polls; i++) {
		struct np_report_opts ro = {
			.kind = NP_SRC_RUN,
			.interval = prev ? 1.0 : 0,
			.idle_sec = NP_DEFAULT_IDLE_SEC,
			.closed_sec = NP_DEFAULT_CLOSED_SEC,
			.window_ns = 60 * 1000000000ull,
			.history = h,
			.finished = &fin,
		};
		struct np_report *r;
		double t0, t1, t2, t3;

		/* the program's clock, as run's polls give it */
		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
		ro.now_ns = ts.tv_sec * 1000000000ull + ts.tv_nsec;
		t0 = now_s();
		err = np_flowtab_read(tab, set, np_retire_to_maps,
				      (void *)maps);
		if (err)
			die("reading the flow table: %s", strerror(-err));
		t1 = now_s();
		r = np_report_build(maps, set, &ro, prev);
		if (!r)
			die("building the report failed");
		t2 = now_s();
		np_report_json(null, r, NP_VIEW_ALL);
		fflush(null);
		np_report_free(prev);
		prev = r;
		t3 = now_s();
		printf("poll.fin.ms %.2f\n", (t3 - t0) * 1e3);
		printf("poll.fin.read_ms %.2f\n", (t1 - t0) * 1e3);
		printf("poll.fin.build_ms %.2f\n", (t2 - t1) * 1e3);
		printf("poll.fin.json_ms %.2f\n", (t3 - t2) * 1e3);
		printf("poll.fin.flows %zu\n", r->n_listed);
		printf("poll.fin.ratio %.3f\n", (t3 - t0) * 1e3 / plain_ms[i]);
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("poll.fin.rss_mb %.1f\n", ru.ru_maxrss / 1024.0);
	printf("poll.fin.rss_ratio %.3f\n", ru.ru_maxrss / 1024.0 / plain_rss);
	np_report_free(prev);
	np_history_free(h);
	np_finished_free(&fin);
}

static int cmd_poll(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "flows", required_argument, NULL, 'n' },
		{ "max-flows", required_argument, NULL, 'm' },
		{ "polls", required_argument, NULL, 'p' },
		{ "finished", required_argument, NULL, 'f' },
		{ "cpu", required_argument, NULL, 'c' },
		{}
	};
	__u32 flows = 100000, max_flows = 0, polls = 7, finished = 100000;
	double plain_ms[MAX_POLLS];
	struct np_report *prev = NULL;
	struct nbdpath_bpf *np;
	struct bench_bare_bpf *b;
	struct np_flowtab tab;
	struct np_flowset set = {};
	struct np_maps maps;
	struct rusage ru;
	__u64 st[NP_STAT_MAX];
	int c, cpu = 0, err;
	FILE *null;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			flows = parse_num(optarg, "--flows");
			break;
		case 'm':
			max_flows = parse_num(optarg, "--max-flows");
			break;
		case 'p':
			polls = parse_num(optarg, "--polls");
			if (!polls || polls > MAX_POLLS)
				die("--polls 1..%d", MAX_POLLS);
			break;
		case 'f':
			finished = parse_num(optarg, "--finished");
			break;
		case 'c':
			cpu = parse_num(optarg, "--cpu");
			break;
		default:
			return 2;
		}
	}
	if (!max_flows)
		max_flows = flows;
	pin_cpu(cpu);

	np = load_nbdpath(max_flows);
	np_prog_maps(np, &maps);
	b = load_bare();
	set_next(b, bpf_program__fd(np->progs.nbdpath_xdp));
	/* both directions of every flow, so verdicts and hosts are real */
	fill(b, bpf_program__fd(b->progs.bench_fresh), FR_REQUEST, flows);
	fill(b, bpf_program__fd(b->progs.bench_fresh), FR_REPLY, flows);
	stats_of(np, st);

	null = fopen("/dev/null", "w");
	if (!null)
		die("/dev/null: %s", strerror(errno));
	/* as `run` polls: tracking reclaimed slots, rates against prev */
	err = np_flowtab_init(&tab, maps.flows, maps.n_slots, true);
	if (err)
		die("flow table: %s", strerror(-err));

	printf("poll.slots %u\n", maps.n_slots);
	printf("poll.table_full %llu\n",
	       (unsigned long long)st[NP_STAT_TABLE_FULL]);
	for (__u32 i = 0; i < polls; i++) {
		struct np_report_opts ro = {
			.kind = NP_SRC_RUN,
			.interval = prev ? 1.0 : 0,
			.idle_sec = NP_DEFAULT_IDLE_SEC,
			.closed_sec = NP_DEFAULT_CLOSED_SEC,
		};
		struct np_report *r;
		double t0, t1, t2, t3;
		struct timespec ts;

		/* the program's clock, as run's polls give it: without it
		 * the report has no "now", and no rates against prev
		 */
		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
		ro.now_ns = ts.tv_sec * 1000000000ull + ts.tv_nsec;
		t0 = now_s();
		err = np_flowtab_read(&tab, &set, np_retire_to_maps, &maps);
		if (err)
			die("reading the flow table: %s", strerror(-err));
		t1 = now_s();
		r = np_report_build(&maps, &set, &ro, prev);
		if (!r)
			die("building the report failed");
		t2 = now_s();
		np_report_json(null, r, NP_VIEW_ALL);
		fflush(null);
		np_report_free(prev);
		prev = r;
		t3 = now_s();
		printf("poll.ms %.2f\n", (t3 - t0) * 1e3);
		plain_ms[i] = (t3 - t0) * 1e3;
		/* where the time goes, for whoever has to make it shorter */
		printf("poll.read_ms %.2f\n", (t1 - t0) * 1e3);
		printf("poll.build_ms %.2f\n", (t2 - t1) * 1e3);
		printf("poll.json_ms %.2f\n", (t3 - t2) * 1e3);
		printf("poll.flows %zu\n", set.n);
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("poll.rss_mb %.1f\n", ru.ru_maxrss / 1024.0);
	/* how much one interval's JSON line weighs at this size */
	{
		FILE *t = tmpfile();

		if (!t)
			die("tmpfile: %s", strerror(errno));
		np_report_json(t, prev, NP_VIEW_ALL);
		fflush(t);
		printf("poll.json_mb %.1f\n", ftell(t) / 1048576.0);
		fclose(t);
	}
	np_report_free(prev);
	prev = NULL;
	if (finished)
		poll_finished(&maps, &tab, &set, finished, polls, plain_ms,
			      ru.ru_maxrss / 1024.0, null);

	np_flowset_free(&set);
	np_flowtab_free(&tab);
	fclose(null);
	bench_bare_bpf__destroy(b);
	nbdpath_bpf__destroy(np);
	return 0;
}

/* ---- the report ---- */

enum cmp { NONE, LE, GE, EQ };

struct figure {
	const char *key;
	const char *label;
	const char *unit;
	enum cmp cmp;
	double target;
	int prec;
};

/*
 * What the table shows, in order. Keys are the samples' keys; a figure
 * without samples is shown as not measured. Every target is a ratio
 * within the run or an exact count: an absolute time measured on one
 * machine says nothing of another, so times and rates are shown for
 * reading the ratios, with no target of their own.
 */
static const struct figure figures[] = {
	{ "prog.bare_ns", "test run: bare XDP_DROP (harness)", "ns", NONE, 0, 1 },
	{ "prog.hit_ns", "test run: hit, same segment again, over bare", "ns", NONE, 0, 1 },
	{ "prog.base_hit_ns", "test run: the same, base program", "ns", NONE, 0, 1 },
	{ "prog.hit_ratio", "test run: same-segment hit, nbdpath / base", "ratio", LE, 0.5, 3 },
	{ "prog.inorder_ns", "test run: hit, next segment in order", "ns", NONE, 0, 1 },
	{ "prog.base_inorder_ns", "test run: the same, base program", "ns", NONE, 0, 1 },
	{ "prog.inorder_ratio", "test run: in-order hit, nbdpath / base", "ratio", LE, 0.5, 3 },
	{ "prog.ack_ns", "test run: hit, client's ACK, over bare", "ns", NONE, 0, 1 },
	{ "prog.base_ack_ns", "test run: the same, base program", "ns", NONE, 0, 1 },
	{ "prog.ack_ratio", "test run: ACK hit, nbdpath / base", "ratio", LE, 0.5, 3 },
	{ "prog.miss_ns", "test run: non-matching port, over bare", "ns", NONE, 0, 1 },
	{ "prog.base_miss_ns", "test run: the same, base program", "ns", NONE, 0, 1 },
	{ "prog.miss_diff_ns", "test run: non-matching, nbdpath - base", "ns", LE, 0, 1 },
	{ "prog.erspan_ns", "test run: ERSPAN II hit, over bare", "ns", NONE, 0, 1 },
	{ "prog.new_ns", "test run: new flow each packet, over bare", "ns", NONE, 0, 1 },
	{ "prog.base_new_ns", "test run: the same, base program", "ns", NONE, 0, 1 },
	{ "prog.new_ratio", "test run: new flow, nbdpath / base", "ratio", LE, 1.0, 3 },
	{ "prog.new_cached_ns", "test run: new flow, 1024-flow table", "ns", NONE, 0, 1 },
	{ "table.trials", "table: trials of N flows in --max-flows N", "trials", NONE, 0, 0 },
	{ "table.lost", "table: trials that lost a flow", "trials", EQ, 0, 0 },
	{ "live.bare.pps", "live: bare count-and-drop", "pps", NONE, 0, 0 },
	{ "live.np.pps", "live: nbdpath run", "pps", NONE, 0, 0 },
	{ "live.ratio", "live: nbdpath / bare", "ratio", GE, 0.85, 3 },
	{ "live.base_ratio", "live: base program / bare", "ratio", NONE, 0, 3 },
	{ "live.extra_ns", "live: nbdpath's extra time per frame", "ns", NONE, 0, 1 },
	{ "live.np.lost", "live: frames sent, not counted", "frames", EQ, 0, 0 },
	{ "spread.bare.pps", "live, 2 CPUs: bare count-and-drop", "pps", NONE, 0, 0 },
	{ "spread.np.pps", "live, 2 CPUs: nbdpath run", "pps", NONE, 0, 0 },
	{ "spread.ratio", "live, 2 CPUs: nbdpath / bare", "ratio", GE, 0.85, 3 },
	{ "spread.base_ratio", "live, 2 CPUs: base program / bare", "ratio", NONE, 0, 3 },
	{ "spread.np.lost", "live, 2 CPUs: frames sent, not counted", "frames", EQ, 0, 0 },
	{ "cap.offered_pps", "capture: offered rate", "pps", NONE, 0, 0 },
	{ "cap.np.fraction", "capture: nbdpath counted / sent", "ratio", EQ, 1, 4 },
	{ "cap.td.fraction", "capture: tcpdump captured / sent", "ratio", NONE, 0, 4 },
	{ "replay.np_fps", "replay: nbdpath replay", "frames/s", NONE, 0, 0 },
	{ "replay.tshark_fps", "replay: tshark -q -z conv,tcp", "frames/s", NONE, 0, 0 },
	{ "replay.speedup", "replay: tshark time / nbdpath time", "ratio", GE, 10, 1 },
	{ "replay.flows_equal", "replay: per-flow counts equal (1=yes)", "bool", EQ, 1, 0 },
	{ "poll.flows", "poll: flows held of 100000 offered", "flows", EQ, 100000, 0 },
	{ "poll.ms", "poll: read + build + JSON", "ms", NONE, 0, 1 },
	{ "poll.read_ms", "poll: of which np_flowtab_read", "ms", NONE, 0, 1 },
	{ "poll.build_ms", "poll: of which np_report_build", "ms", NONE, 0, 1 },
	{ "poll.json_ms", "poll: of which np_report_json", "ms", NONE, 0, 1 },
	{ "poll.json_mb", "poll: size of one JSON report", "MiB", NONE, 0, 1 },
	{ "poll.rss_mb", "poll: peak RSS", "MiB", NONE, 0, 1 },
	{ "poll.fin.flows", "poll+fin: flows listed, 100000 + 100000", "flows", EQ, 200000, 0 },
	{ "poll.fin.ms", "poll+fin: read + build + JSON", "ms", NONE, 0, 1 },
	{ "poll.fin.build_ms", "poll+fin: of which np_report_build", "ms", NONE, 0, 1 },
	{ "poll.fin.json_ms", "poll+fin: of which np_report_json", "ms", NONE, 0, 1 },
	{ "poll.fin.ratio", "poll+fin: time / the plain poll's", "ratio", LE, 1.25, 3 },
	{ "poll.fin.rss_mb", "poll+fin: peak RSS", "MiB", NONE, 0, 1 },
	{ "poll.fin.rss_ratio", "poll+fin: peak RSS / the plain poll's", "ratio", LE, 1.25, 3 },
};

#define N_FIG	(sizeof(figures) / sizeof(figures[0]))
#define MAX_SAMPLES	256

struct series {
	double v[MAX_SAMPLES];
	int n;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(struct series *s)
{
	qsort(s->v, s->n, sizeof(s->v[0]), cmp_double);
	if (s->n % 2)
		return s->v[s->n / 2];
	return (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
}

/*
 * The 95% confidence interval of the median of the sorted series s,
 * distribution-free: from the k-th smallest to the k-th largest sample,
 * k the largest for which P(Binomial(n, 1/2) < k) <= 2.5%. Rounds shift
 * with the machine's other work, so min and max spread wider with more
 * rounds; this interval narrows. Below 6 samples there is none: min and
 * max are given.
 */
static void median_ci(const struct series *s, double *lo, double *hi)
{
	double term = 1, cdf = 0;
	int k = 0;

	for (int i = 0; i < s->n; i++)
		term /= 2;		/* P(B = 0) = 2^-n */
	for (int i = 0; i < s->n / 2; i++) {
		cdf += term;		/* P(B <= i) */
		if (cdf > 0.025)
			break;
		k = i + 1;
		term = term * (s->n - i) / (i + 1);
	}
	if (!k)
		k = 1;
	*lo = s->v[k - 1];
	*hi = s->v[s->n - k];
}

static bool met(const struct figure *f, double v)
{
	switch (f->cmp) {
	case LE:
		return v <= f->target;
	case GE:
		return v >= f->target;
	case EQ:
		return v == f->target;
	default:
		return true;
	}
}

static const char *cmp_text[] = { "", "<=", ">=", "=" };

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (c && !strncmp(line, "model name", 10)) {
			c++;
			c += strspn(c, " \t");
			c[strcspn(c, "\n")] = 0;
			snprintf(buf, len, "%s", c);
			break;
		}
	}
	fclose(f);
}

/*
 * The CPU vulnerability mitigations in force, "name: state; ...": they
 * set what a call or a return costs, which is most of what moves the
 * per-packet figures from one machine to another.
 */
static void mitigations(char *buf, size_t len)
{
	glob_t g;
	size_t n = 0;

	snprintf(buf, len, "unknown");
	if (glob("/sys/devices/system/cpu/vulnerabilities/*", 0, NULL, &g))
		return;
	buf[0] = 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char line[256] = "";
		FILE *f = fopen(g.gl_pathv[i], "r");

		if (!f)
			continue;
		if (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = 0;
			/* the ones that do nothing say nothing */
			if (strcmp(line, "Not affected"))
				n += snprintf(buf + n, n < len ? len - n : 0,
					      "%s%s: %s", n ? "; " : "",
					      strrchr(g.gl_pathv[i], '/') + 1,
					      line);
		}
		fclose(f);
	}
	globfree(&g);
}

/*
 * The per-packet cases, as bench prog names them: the programs of --step
 * (NP_BENCH_STEPS) are shown in a table of their own, beside the base
 * program and this one, so that what each change bought is read off one
 * run.
 */
static const char *const step_cases[] = {
	"hit_ns", "inorder_ns", "ack_ns", "miss_ns", "new_ns",
	/* from here on ratios, nbdpath / bare, live: see step_sample() */
	"live", "spread",
};
#define FIRST_LIVE_CASE	5
#define N_CASES		(sizeof(step_cases) / sizeof(step_cases[0]))
#define MAX_STEPS	8

/* Row 0 the base program, 1..MAX_STEPS the steps, MAX_STEPS + 1 this. */
static struct series step_ser[MAX_STEPS + 2][N_CASES];

static void step_sample(const char *key, double v)
{
	const char *c = NULL, *part;
	int row = -1, n = 0;

	/* live: "live.ratio", "live.base_ratio", "live.stepN_ratio" */
	part = !strncmp(key, "live.", 5) ? "live" :
	       !strncmp(key, "spread.", 7) ? "spread" : NULL;
	if (part) {
		const char *k = key + strlen(part) + 1;

		if (!strcmp(k, "ratio"))
			row = MAX_STEPS + 1;
		else if (!strcmp(k, "base_ratio"))
			row = 0;
		else if (sscanf(k, "step%d_ratio%n", &row, &n) != 1 ||
			 k[n] || row < 1 || row > MAX_STEPS)
			return;
		c = part;	/* the case's name */
	} else if (sscanf(key, "prog.step%d.%n", &row, &n) == 1 && n &&
	    row >= 1 && row <= MAX_STEPS) {
		c = key + n;
	} else if (!strncmp(key, "prog.base_", 10)) {
		row = 0;
		c = key + 10;
	} else if (!strncmp(key, "prog.", 5)) {
		row = MAX_STEPS + 1;
		c = key + 5;
	}
	for (size_t i = 0; c && i < N_CASES; i++) {
		struct series *s = &step_ser[row][i];

		if (!strcmp(c, step_cases[i]) && s->n < MAX_SAMPLES)
			s->v[s->n++] = v;
	}
}

/* Has row r of the step table any samples? */
static bool step_row(int r)
{
	for (size_t i = 0; i < N_CASES; i++)
		if (step_ser[r][i].n)
			return true;
	return false;
}

static void step_table(FILE *out)
{
	bool any = false;
	int rows = 0;

	for (int r = 1; r <= MAX_STEPS; r++)
		any |= step_row(r);
	if (!any)
		return;
	printf("\nthe programs of NP_BENCH_STEPS in the same rounds (medians):"
	       " test run, ns over bare; live, nbdpath / bare\n");
	printf("%-14s %12s %12s %12s %12s %12s %12s %12s\n", "program",
	       "same seg", "in order", "ACK", "non-matching", "new flow",
	       "live", "live 2 CPUs");
	fprintf(out, ", \"steps\": [");
	for (int r = 0; r <= MAX_STEPS + 1; r++) {
		char name[16];

		if (!step_row(r))
			continue;
		if (!r)
			snprintf(name, sizeof(name), "base");
		else if (r > MAX_STEPS)
			snprintf(name, sizeof(name), "this");
		else
			snprintf(name, sizeof(name), "step%d", r);
		printf("%-14s", name);
		fprintf(out, "%s\n  {\"program\": \"%s\"", rows++ ? "," : "",
			name);
		for (size_t i = 0; i < N_CASES; i++) {
			struct series *s = &step_ser[r][i];
			int prec = i < FIRST_LIVE_CASE ? 1 : 3;
			double med;

			if (!s->n) {
				printf(" %12s", "-");
				continue;
			}
			med = median(s);
			printf(" %12.*f", prec, med);
			fprintf(out, ", \"%s\": %.*f", step_cases[i], prec + 2,
				med);
		}
		printf("\n");
		fputc('}', out);
	}
	fprintf(out, "\n]");
}

static int cmd_report(int argc, char **argv)
{
	static struct series ser[N_FIG];
	char line[4096], cpu[256], notes[16384] = "", mit[4096];
	struct utsname u;
	FILE *in, *out;
	int missed = 0, unsure = 0, shown = 0;

	if (argc != 3)
		die("report needs SAMPLES and JSON");
	in = fopen(argv[1], "r");
	if (!in)
		die("%s: %s", argv[1], strerror(errno));
	while (fgets(line, sizeof(line), in)) {
		char key[128];
		double v;

		if (!strncmp(line, "note ", 5)) {
			/* free text for the JSON: what a figure stands on */
			line[strcspn(line, "\n")] = 0;
			if (strlen(notes) + strlen(line) + 2 < sizeof(notes)) {
				strcat(notes, line + 5);
				strcat(notes, "\n");
			}
			continue;
		}
		if (sscanf(line, "%127s %lf", key, &v) != 2)
			continue;
		step_sample(key, v);
		for (size_t i = 0; i < N_FIG; i++) {
			if (strcmp(key, figures[i].key) || ser[i].n >= MAX_SAMPLES)
				continue;
			ser[i].v[ser[i].n++] = v;
		}
	}
	fclose(in);
	cpu_model(cpu, sizeof(cpu));
	mitigations(mit, sizeof(mit));
	uname(&u);

	out = fopen(argv[2], "w");
	if (!out)
		die("%s: %s", argv[2], strerror(errno));
	fprintf(out, "{\"cpu\": ");
	json_str(out, cpu);
	fprintf(out, ", \"kernel\": ");
	json_str(out, u.release);
	fprintf(out, ", \"mitigations\": ");
	json_str(out, mit);
	fprintf(out, ", \"ncpu\": %d, \"figures\": {", libbpf_num_possible_cpus());

	printf("nbdpath bench  cpu: %s (%d)  kernel: %s %s\n", cpu,
	       libbpf_num_possible_cpus(), u.release, u.version);
	printf("mitigations: %s\n", mit);
	printf("%-42s %12s %12s %12s %12s %12s %-9s %-10s %s\n", "figure",
	       "median", "ci95 lo", "ci95 hi", "min", "max", "unit", "target",
	       "met?");
	for (size_t i = 0; i < N_FIG; i++) {
		const struct figure *f = &figures[i];
		struct series *s = &ser[i];
		char tgt[32] = "";
		double med, lo, hi, ci_lo, ci_hi;
		bool ok, sure;

		if (f->cmp != NONE)
			snprintf(tgt, sizeof(tgt), "%s %g", cmp_text[f->cmp],
				 f->target);
		if (!s->n) {
			printf("%-42s %12s %12s %12s %12s %12s %-9s %-10s %s\n",
			       f->label, "-", "-", "-", "-", "-", f->unit, tgt,
			       f->cmp != NONE ? "not run" : "");
			continue;
		}
		med = median(s);
		lo = s->v[0];
		hi = s->v[s->n - 1];
		median_ci(s, &ci_lo, &ci_hi);
		ok = met(f, med);
		if (f->cmp == EQ)	/* exact figures: every run must meet it */
			ok = met(f, lo) && met(f, hi);
		/* met with the whole interval (exact figures: by every run) */
		sure = ok && (f->cmp == EQ ||
			      (met(f, ci_lo) && met(f, ci_hi)));
		if (!ok)
			missed++;
		else if (!sure)
			unsure++;
		printf("%-42s %12.*f %12.*f %12.*f %12.*f %12.*f %-9s %-10s %s\n",
		       f->label, f->prec, med, f->prec, ci_lo, f->prec, ci_hi,
		       f->prec, lo, f->prec, hi, f->unit, tgt,
		       f->cmp == NONE ? "" : !ok ? "NO" : sure ? "yes" :
		       "median");
		fprintf(out, "%s\n  \"%s\": {\"label\": ", shown++ ? "," : "",
			f->key);
		json_str(out, f->label);
		fprintf(out, ", \"unit\": \"%s\", \"median\": %.*f, "
			"\"ci95_lo\": %.*f, \"ci95_hi\": %.*f, "
			"\"min\": %.*f, \"max\": %.*f, \"runs\": %d",
			f->unit, f->prec + 2, med, f->prec + 2, ci_lo,
			f->prec + 2, ci_hi, f->prec + 2, lo, f->prec + 2, hi,
			s->n);
		if (f->cmp != NONE)
			fprintf(out, ", \"target\": \"%s\", \"met\": %s, "
				"\"ci95_met\": %s", tgt, ok ? "true" : "false",
				sure ? "true" : "false");
		fputc('}', out);
	}
	fprintf(out, "\n}");
	printf("%d target%s missed; %d met by the median only (its 95%% "
	       "interval crosses the target)\n", missed,
	       missed == 1 ? "" : "s", unsure);
	step_table(out);
	fprintf(out, ", \"notes\": ");
	json_str(out, notes);
	fprintf(out, "}\n");
	fclose(out);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s prog [--repeat N] [--rounds R] [--cpu C] [--base OBJ]\n"
		"                 [--step OBJ]...\n"
		"       %s live --dev IFACE --count N [--rate PPS] [--batch B]\n"
		"                 [--size BYTES] [--recv bare:PEER|nbdpath:PEER|pin:DIR|\n"
		"                 base:PEER:OBJ|none] [--key PREFIX] [--cpu C] [--spread C2]\n"
		"       %s poll [--flows N] [--max-flows N] [--polls R] [--finished N] [--cpu C]\n"
		"       %s report SAMPLES JSON\n",
		prog_name, prog_name, prog_name, prog_name);
}

static int quiet(enum libbpf_print_level l, const char *fmt, va_list ap)
{
	/* the verifier log only when something goes wrong */
	return l == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	libbpf_set_print(quiet);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "prog"))
		return cmd_prog(argc - 1, argv + 1);
	if (!strcmp(cmd, "live"))
		return cmd_live(argc - 1, argv + 1);
	if (!strcmp(cmd, "poll"))
		return cmd_poll(argc - 1, argv + 1);
	if (!strcmp(cmd, "report"))
		return cmd_report(argc - 1, argv + 1);
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
