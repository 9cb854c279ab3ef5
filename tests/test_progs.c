// SPDX-License-Identifier: GPL-2.0
/*
 * test_progs: run the datapath tests of tests/prog_tests/ against the real
 * XDP program through BPF_PROG_TEST_RUN.
 *
 *	test_progs [-v] [-l] [-t SUBSTR[/SUBSTR]]...
 *
 * -t runs the tests whose name contains SUBSTR (repeatable: any of them);
 * TEST/SUB, those of their subtests whose name contains SUB. -l lists the
 * tests, -v shows every test's output, not only a failure's. The summary
 * counts a test's subtests, not the test, unless it failed outside them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "test_progs.h"

#define DEFINE_TEST(fn) void fn(void);
#include "tests.inc"
#undef DEFINE_TEST

struct prog_test {
	const char *name;
	void (*run)(void);
};

/* names without their "test_" prefix */
#define DEFINE_TEST(fn) { #fn + 5, fn },
static const struct prog_test prog_tests[] = {
#include "tests.inc"
};
#undef DEFINE_TEST

struct test_env env;

static FILE *stdout_saved, *stderr_saved;
static char *log_buf;
static size_t log_size;
static char skip_reason[256];

/* the running subtest's log, the test's own stream while it runs */
static FILE *test_stdout;
static char *sub_log_buf;
static size_t sub_log_size;
static char sub_skip_reason[256];

static char **filters;
static int n_filters;
static int n_pass, n_fail, n_skip;

const __u8 MAC_VMK0[6] = { MAC_VMK0_BYTES };
const __u8 MAC_VMK4[6] = { MAC_VMK4_BYTES };
const __u8 MAC_RUBRIK[6] = { MAC_RUBRIK_BYTES };
const __u8 MAC_GW[6] = { MAC_GW_BYTES };
const __u8 MAC_MIRROR_SRC[6] = { MAC_MIRROR_SRC_BYTES };
const __u8 MAC_MIRROR_DST[6] = { MAC_MIRROR_DST_BYTES };

/* ---- assertions ---- */

void test__fail(void)
{
	if (env.subtest_name)
		env.subtest_failed = true;
	else
		env.test_failed = true;
}

void test__skip(const char *fmt, ...)
{
	char *reason = env.subtest_name ? sub_skip_reason : skip_reason;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(skip_reason), fmt, ap);
	va_end(ap);
	if (env.subtest_name)
		env.subtest_skipped = true;
	else
		env.test_skipped = true;
}

void test__push_at(const char *file, int line)
{
	if (!env.at_depth++) {
		env.at_file = file;
		env.at_line = line;
	}
}

void test__pop_at(void)
{
	if (!--env.at_depth)
		env.at_file = NULL;
}

static void failed_at(const char *file, int line)
{
	printf("%s:%d: ", file, line);
	test__fail();
}

static void called_from(void)
{
	if (env.at_file)
		printf("    (called from %s:%d)\n", env.at_file, env.at_line);
}

static const char *fmt_val(char *buf, size_t n, unsigned long long v,
			   bool is_signed)
{
	if (is_signed)
		snprintf(buf, n, "%lld", (long long)v);
	else if (v > 0xffff)
		snprintf(buf, n, "%llu (0x%llx)", v, v);
	else
		snprintf(buf, n, "%llu", v);
	return buf;
}

bool test__check_int(const char *file, int line, const char *name, bool eq,
		     unsigned long long act, bool act_signed,
		     unsigned long long exp, bool exp_signed)
{
	char a[48], e[48];

	if ((act == exp) == eq)
		return true;
	failed_at(file, line);
	printf("%s: actual %s %s expected %s\n", name,
	       fmt_val(a, sizeof(a), act, act_signed), eq ? "!=" : "==",
	       fmt_val(e, sizeof(e), exp, exp_signed));
	called_from();
	return false;
}

bool test__check_ok(const char *file, int line, const char *name,
		    long long res, int err)
{
	if (!res)
		return true;
	failed_at(file, line);
	printf("%s: unexpected error: %lld (errno %d: %s)\n", name, res, err,
	       strerror(err));
	called_from();
	return false;
}

bool test__check_true(const char *file, int line, const char *name, bool ok)
{
	if (ok)
		return true;
	failed_at(file, line);
	printf("%s: unexpected false\n", name);
	called_from();
	return false;
}

bool test__check_str(const char *file, int line, const char *name,
		     const char *act, const char *exp)
{
	if (act && exp && !strcmp(act, exp))
		return true;
	if (!act && !exp)
		return true;
	failed_at(file, line);
	printf("%s: actual \"%s\" != expected \"%s\"\n", name,
	       act ? act : "(null)", exp ? exp : "(null)");
	called_from();
	return false;
}

static void hexdump(const char *label, const __u8 *p, size_t len, size_t from)
{
	size_t i, end = from + 32 < len ? from + 32 : len;

	printf("    %s @%zu:", label, from);
	for (i = from; i < end; i++)
		printf(" %02x", p[i]);
	printf("%s\n", end < len ? " ..." : "");
}

bool test__check_mem(const char *file, int line, const char *name,
		     const void *act, const void *exp, size_t len)
{
	const __u8 *a = act, *e = exp;
	size_t i;

	for (i = 0; i < len && a[i] == e[i]; i++)
		;
	if (i == len)
		return true;
	failed_at(file, line);
	printf("%s: memory differs at byte %zu of %zu\n", name, i, len);
	hexdump("actual  ", a, len, i & ~(size_t)15);
	hexdump("expected", e, len, i & ~(size_t)15);
	called_from();
	return false;
}

/* ---- the program under test ---- */

bool tp_pin(int cpu)
{
	cpu_set_t set;

	if (!ASSERT_TRUE(cpu >= 0 && cpu < env.nr_cpus && cpu < 2, "cpu index"))
		return false;
	CPU_ZERO(&set);
	CPU_SET(env.cpus[cpu], &set);
	return ASSERT_OK(sched_setaffinity(0, sizeof(set), &set),
			 "sched_setaffinity");
}

bool tp__load(struct tprog *t, const struct np_prog_opts *o, bool track)
{
	struct np_prog_opts def = { .max_flows = 64 };
	int err;

	memset(t, 0, sizeof(*t));
	t->tab.fd = -1;
	if (!o)
		o = &def;
	t->skel = np_prog_load(o, &err);
	if (!ASSERT_TRUE(t->skel, "np_prog_load") || !ASSERT_OK(err, "np_prog_load"))
		return false;
	np_prog_maps(t->skel, &t->maps);
	t->action = o->pass ? XDP_PASS : XDP_DROP;
	tp_set_clock(t, TP_CLOCK0);
	err = np_flowtab_init(&t->tab, t->maps.flows, t->maps.n_slots, track);
	return ASSERT_OK(err, "np_flowtab_init");
}

void tp_close(struct tprog *t)
{
	np_flowset_free(&t->flows);
	if (t->tab.batch_keys)
		np_flowtab_free(&t->tab);
	nbdpath_bpf__destroy(t->skel);
	t->skel = NULL;
}

void tp_set_clock(struct tprog *t, __u64 ns)
{
	t->skel->data->cfg.clock_ns = ns;
}

int tp_run_raw(struct tprog *t, const void *data, __u32 len, __u32 *retval)
{
	struct xdp_md ctx = {
		.data_end = len,
		.ingress_ifindex = t->ifindex,
	};
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = data,
		.data_size_in = len,
		.repeat = 1,
	);
	int err;

	/* without a context the kernel takes lo's first queue; one is
	 * passed only to name another ingress device
	 */
	if (t->ifindex) {
		opts.ctx_in = &ctx;
		opts.ctx_size_in = sizeof(ctx);
	}
	err = bpf_prog_test_run_opts(bpf_program__fd(t->skel->progs.nbdpath_xdp),
				     &opts);
	*retval = opts.retval;
	return err ? -errno : 0;
}

bool tp__run(struct tprog *t, const struct frame *f, __u32 len)
{
	__u32 ret = ~0u;
	int err;

	if (!len)
		len = f->len;
	if (!ASSERT_TRUE(len <= f->len, "run length within the frame"))
		return false;
	err = tp_run_raw(t, f->data, len, &ret);
	if (!ASSERT_OK(err, "bpf_prog_test_run_opts"))
		return false;
	return ASSERT_EQ(ret, t->action, "XDP action");
}

bool tp__run_on(struct tprog *t, const struct frame *f, __u32 len, int cpu)
{
	return tp_pin(cpu) && tp__run(t, f, len);
}

bool tp__stats(struct tprog *t, const __u64 want[NP_STAT_MAX], bool delta)
{
	__u64 c[NP_STAT_MAX];
	bool ok = true;
	char name[64];
	int i, err;

	err = np_read_stats(t->maps.stats, c);
	if (!ASSERT_OK(err, "np_read_stats"))
		return false;
	for (i = 0; i < NP_STAT_MAX; i++) {
		__u64 v = delta ? c[i] - t->stats[i] : c[i];

		snprintf(name, sizeof(name), "stats.%s%s", np_stat_names[i],
			 delta ? " (delta)" : "");
		ok &= ASSERT_EQ(v, want[i], name);
	}
	memcpy(t->stats, c, sizeof(c));
	return ok;
}

bool tp__outcome(struct tprog *t, const struct frame *f, __u32 len,
		 int outcome, __u32 mask, const char *what)
{
	__u64 want[NP_STAT_MAX] = { [NP_STAT_PACKETS] = 1 };
	bool ok;

	for (int i = 0; i < NP_STAT_MAX; i++)
		if (mask & (1u << i))
			want[i] = 1;
	want[outcome]++;
	ok = tp__run(t, f, len) && tp__stats(t, want, true);
	if (!ok)
		printf("    (case: %s, %u bytes)\n", what, len ? len : f->len);
	return ok;
}

bool tp__read(struct tprog *t, np_retire_fn retire, void *ctx)
{
	return ASSERT_OK(np_flowtab_read(&t->tab, &t->flows, retire, ctx),
			 "np_flowtab_read");
}

void tp_addr(__u8 out[16], const char *text)
{
	memset(out, 0, 16);
	if (strchr(text, ':')) {
		if (inet_pton(AF_INET6, text, out) != 1)
			ASSERT_STREQ(text, "an IPv6 address", "address");
		return;
	}
	out[10] = 0xff;
	out[11] = 0xff;
	if (inet_pton(AF_INET, text, out + 12) != 1)
		ASSERT_STREQ(text, "an IPv4 address", "address");
}

void tp_key(struct np_flow_key *k, const char *server, __u16 sport,
	    const char *client, __u16 cport)
{
	memset(k, 0, sizeof(*k));
	tp_addr(k->server_ip, server);
	tp_addr(k->client_ip, client);
	k->server_port = htons(sport);
	k->client_port = htons(cport);
	/* written as IPv6 (::ffff:a.b.c.d too): an IPv6 flow's key */
	k->v6 = !!strchr(server, ':');
}

static const char *fmt_ip(char *buf, size_t n, const __u8 ip[16], bool v6)
{
	if (!v6)
		return inet_ntop(AF_INET, ip + 12, buf, n);
	return inet_ntop(AF_INET6, ip, buf, n);
}

static void dump_dir(const char *what, const struct np_dir *d)
{
	int i;

	printf("      %s: %llu pkts %llu bytes %llu payload, flags 0x%x "
	       "tcp 0x%x encap 0x%x ifindex %u t %llu..%llu\n", what,
	       (unsigned long long)np_dir_packets(d),
	       (unsigned long long)np_dir_bytes(d),
	       (unsigned long long)d->payload_bytes, d->flags, d->tcp_flags,
	       d->encap, d->ifindex, (unsigned long long)d->first_ns,
	       (unsigned long long)d->last_ns);
	for (i = 0; i < d->n_macs && i < NP_DIR_MACS; i++) {
		const __u8 *m = d->macs[i].mac;

		printf("        mac %02x:%02x:%02x:%02x:%02x:%02x %llu pkts %llu bytes\n",
		       m[0], m[1], m[2], m[3], m[4], m[5],
		       (unsigned long long)d->macs[i].packets,
		       (unsigned long long)d->macs[i].bytes);
	}
	for (i = 0; i < d->n_vlans && i < NP_DIR_VLANS; i++)
		printf("        vlan %u\n", d->vlans[i]);
	for (i = 0; i < d->n_sessions && i < NP_DIR_SESSIONS; i++)
		printf("        session %u\n", d->sessions[i]);
}

void tp_dump_flows(const struct tprog *t)
{
	char s[INET6_ADDRSTRLEN], c[INET6_ADDRSTRLEN];

	printf("    %zu flows:\n", t->flows.n);
	for (size_t i = 0; i < t->flows.n; i++) {
		const struct np_flow_rec *r = &t->flows.v[i];

		printf("    %s:%u <- %s:%u\n",
		       fmt_ip(s, sizeof(s), r->key.server_ip, r->key.v6),
		       ntohs(r->key.server_port),
		       fmt_ip(c, sizeof(c), r->key.client_ip, r->key.v6),
		       ntohs(r->key.client_port));
		dump_dir("to_server", &r->dir[0]);
		dump_dir("from_server", &r->dir[1]);
	}
}

const struct np_flow_rec *tp__flow(struct tprog *t, const char *server,
				   __u16 sport, const char *client,
				   __u16 cport)
{
	struct np_flow_key k;
	char name[160];

	tp_key(&k, server, sport, client, cport);
	for (size_t i = 0; i < t->flows.n; i++)
		if (!memcmp(&t->flows.v[i].key, &k, sizeof(k)))
			return &t->flows.v[i];
	snprintf(name, sizeof(name), "flow %s:%u <- %s:%u present", server,
		 sport, client, cport);
	ASSERT_TRUE(false, name);
	tp_dump_flows(t);
	return NULL;
}

bool tp__dir(const struct np_dir *d, const struct want_dir *w,
	     const char *what)
{
	static const struct np_dir zero;
	char name[96];
	bool ok = true;
	int n, i;

#define N(field) (snprintf(name, sizeof(name), "%s %s", what, field), name)
	if (!d)
		return ASSERT_TRUE(false, N("direction present"));
	if (!w->packets) {
		ok = ASSERT_MEMEQ(d, &zero, sizeof(zero), N("never seen: all zero"));
		goto out;
	}
	ok &= ASSERT_EQ(np_dir_packets(d), w->packets, N("packets"));
	ok &= ASSERT_EQ(np_dir_bytes(d), w->bytes, N("bytes"));
	ok &= ASSERT_EQ(d->payload_bytes, w->payload, N("payload_bytes"));
	for (n = 0; n < NP_DIR_MACS && w->macs[n].mac; n++)
		;
	ok &= ASSERT_EQ(d->n_macs, n, N("n_macs"));
	for (i = 0; i < n && i < d->n_macs; i++) {
		const struct np_mac_count *m = &d->macs[i];

		if (w->macs_any_order) {
			for (int j = 0; j < d->n_macs; j++)
				if (!memcmp(d->macs[j].mac, w->macs[i].mac, 6))
					m = &d->macs[j];
		}
		snprintf(name, sizeof(name), "%s mac[%d]", what, i);
		ok &= ASSERT_MEMEQ(m->mac, w->macs[i].mac, 6, name);
		snprintf(name, sizeof(name), "%s mac[%d] packets", what, i);
		ok &= ASSERT_EQ(m->packets, w->macs[i].packets, name);
		snprintf(name, sizeof(name), "%s mac[%d] bytes", what, i);
		ok &= ASSERT_EQ(m->bytes, w->macs[i].bytes, name);
	}
	ok &= ASSERT_EQ(d->other_packets, w->other_packets, N("other_packets"));
	ok &= ASSERT_EQ(d->other_bytes, w->other_bytes, N("other_bytes"));
	if (w->src_mac)
		ok &= ASSERT_MEMEQ(d->src_mac, w->src_mac, 6, N("src_mac"));
	else
		ok &= ASSERT_TRUE(false, N("want.src_mac given"));
	if (w->dst_mac)
		ok &= ASSERT_MEMEQ(d->dst_mac, w->dst_mac, 6, N("dst_mac"));
	else
		ok &= ASSERT_TRUE(false, N("want.dst_mac given"));
	ok &= ASSERT_EQ(d->n_vlans, w->n_vlans, N("n_vlans"));
	for (i = 0; i < w->n_vlans && i < d->n_vlans; i++) {
		snprintf(name, sizeof(name), "%s vlans[%d]", what, i);
		ok &= ASSERT_EQ(d->vlans[i], w->vlans[i], name);
	}
	ok &= ASSERT_EQ(d->n_sessions, w->n_sessions, N("n_sessions"));
	for (i = 0; i < w->n_sessions && i < d->n_sessions; i++) {
		snprintf(name, sizeof(name), "%s sessions[%d]", what, i);
		ok &= ASSERT_EQ(d->sessions[i], w->sessions[i], name);
	}
	ok &= ASSERT_EQ(d->tcp_flags, w->tcp_flags, N("tcp_flags"));
	ok &= ASSERT_EQ(d->flags, w->flags, N("flags"));
	ok &= ASSERT_EQ(d->encap, w->encap ? w->encap : 1 << NP_ENCAP_NONE,
			N("encap"));
	ok &= ASSERT_EQ(d->ifindex, w->ifindex ? w->ifindex : TP_IFINDEX_LO,
			N("ifindex"));
	ok &= ASSERT_EQ(d->first_ns, w->first_ns ? w->first_ns : TP_CLOCK0,
			N("first_ns"));
	ok &= ASSERT_EQ(d->last_ns, w->last_ns ? w->last_ns : TP_CLOCK0,
			N("last_ns"));
#undef N
out:
	if (!ok)
		dump_dir(what, d);
	return ok;
}

struct want_dir want_plain(int dir, const __u8 *src, const __u8 *dst,
			   __u64 packets, __u64 bytes, __u64 payload,
			   __u8 tcp_flags)
{
	return (struct want_dir){
		.packets = packets, .bytes = bytes, .payload = payload,
		.macs = { { dir == NP_DIR_TO_SERVER ? dst : src,
			    packets, bytes } },
		.src_mac = src, .dst_mac = dst,
		.tcp_flags = tcp_flags, .flags = NP_DIRF_UNTAGGED,
	};
}

bool tp__plain(const struct np_flow_rec *r, int dir, const __u8 *src,
	       const __u8 *dst, __u64 packets, __u64 bytes, __u64 payload,
	       __u8 tcp_flags)
{
	char s[INET6_ADDRSTRLEN], c[INET6_ADDRSTRLEN], what[128];
	struct want_dir w = want_plain(dir, src, dst, packets, bytes, payload,
				       tcp_flags);

	if (!ASSERT_TRUE(r, "flow present"))
		return false;
	snprintf(what, sizeof(what), "%s:%u <- %s:%u %s",
		 fmt_ip(s, sizeof(s), r->key.server_ip, r->key.v6),
		 ntohs(r->key.server_port),
		 fmt_ip(c, sizeof(c), r->key.client_ip, r->key.v6),
		 ntohs(r->key.client_port),
		 dir == NP_DIR_TO_SERVER ? "to_server" : "from_server");
	return tp__dir(&r->dir[dir], &w, what);
}

void tp_retire_keep(const struct np_flow_rec *r, void *ctx)
{
	struct tp_retired *x = ctx;

	if (x->n < TP_RETIRED_MAX)
		x->rec[x->n] = *r;
	x->n++;
}

bool tp__read_n(struct tprog *t, size_t n)
{
	return tp__read(t, NULL, NULL) && ASSERT_EQ(t->flows.n, n, "flows");
}

const struct np_flow_rec *tp__read_flow(struct tprog *t, const char *server,
					__u16 sport, const char *client,
					__u16 cport)
{
	if (!tp__read(t, NULL, NULL))
		return NULL;
	return tp__flow(t, server, sport, client, cport);
}

bool tp_neigh(struct tprog *t, const __u8 mac[6], int family,
	      struct np_neigh *out)
{
	struct np_neigh_key k = {};

	memcpy(k.mac, mac, 6);
	for (int f = NP_NEIGH_IPV4; f <= NP_NEIGH_IPV6; f += 2) {
		k.family = family ? family : f;
		if (!bpf_map_lookup_elem(t->maps.neigh, &k, out))
			return true;
	}
	return false;
}

/* ---- frames ---- */

struct seg seed_req(__u16 cport, __u8 flags, __u32 payload)
{
	return (struct seg){
		.dmac = MAC_VMK0, .smac = MAC_GW,
		.saddr = IP_RUBRIK, .daddr = IP_ESX,
		.sport = cport, .dport = NBD_PORT,
		.flags = flags, .payload = payload,
	};
}

struct seg seed_rep(__u16 cport, __u8 flags, __u32 payload)
{
	return (struct seg){
		.dmac = MAC_RUBRIK, .smac = MAC_VMK4,
		.saddr = IP_ESX, .daddr = IP_RUBRIK,
		.sport = NBD_PORT, .dport = cport,
		.flags = flags, .payload = payload,
	};
}

bool tp__run_steps(struct tprog *t, const struct tp_step *steps, size_t n,
		   const struct seg *to, const struct seg *from)
{
	struct frame f;

	for (size_t i = 0; i < n; i++) {
		const struct tp_step *s = &steps[i];
		struct seg g = s->to_server ? *to : *from;

		g.flags = s->flags;
		g.doff = s->doff;
		g.payload = s->payload;
		frame_seg(&f, &g);
		if (!tp__run(t, &f, 0))
			return false;
	}
	return true;
}

struct frame *arp_frame(struct frame *f, __u16 op, const __u8 *sha,
			const char *spa, const __u8 *dmac, const char *tpa)
{
	static const __u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const __u8 zero[6];

	frame_init(f);
	frame_eth(f, op == 1 ? bcast : dmac, sha);
	frame_arp(f, op, sha, spa, op == 1 ? zero : dmac, tpa);
	frame_end(f);
	return f;
}

struct frame *na_frame(struct frame *f, const __u8 *smac, const char *src,
		       const char *target, const __u8 *tll)
{
	frame_init(f);
	frame_eth(f, MAC_RUBRIK, smac);
	frame_ipv6(f, &(struct frame_ip6){ .saddr = src, .daddr = IP6_RUBRIK,
					   .hop_limit = 255 });
	frame_icmp6_na(f, target, tll);
	frame_end(f);
	return f;
}

struct frame *arp_vmk4(struct frame *f)
{
	return arp_frame(f, 2, MAC_VMK4, IP_ESX_VMK4, MAC_RUBRIK, IP_RUBRIK);
}

struct frame *na_vmk4(struct frame *f)
{
	return na_frame(f, MAC_VMK4, IP6_VMK4_LL, IP6_ESX_VMK4, MAC_VMK4);
}

void frame_seg_inner(struct frame *f, const struct seg *s)
{
	__u32 off;

	frame_eth(f, s->dmac, s->smac);
	for (int i = 0; i < s->n_tags && i < 3; i++)
		frame_vlan(f, s->tpid[i], s->vid[i]);
	if (s->v6)
		frame_ipv6(f, &(struct frame_ip6){ .saddr = s->saddr,
						   .daddr = s->daddr });
	else
		frame_ipv4(f, &(struct frame_ip4){ .saddr = s->saddr,
						   .daddr = s->daddr,
						   .df = true });
	off = frame_tcp(f, &(struct frame_tcp){
		.sport = s->sport,
		.dport = s->dport,
		.flags = s->flags,
		.seq = s->seq,
		.opt_len = (s->doff ? s->doff : 8) * 4 - 20,
		.window = s->window,
	});
	if (s->zero_window)
		frame_put16(f, off + 14, 0);
	if (s->cut)
		frame_payload_cut(f, s->payload);
	else
		frame_payload(f, s->payload);
}

void frame_seg(struct frame *f, const struct seg *s)
{
	frame_init(f);
	frame_seg_inner(f, s);
	frame_end(f);
}

__u32 seg_hdrs(const struct seg *s)
{
	return (s->v6 ? 40 : 20) + (s->doff ? s->doff : 8) * 4;
}

__u32 encap_len(const struct encap *e)
{
	__u16 flags = e->gre_flags;
	__u32 n = 14 + 4 * e->n_tags + (e->outer_v6 ? 40 : 20) + 4;

	if (!e->exact_flags &&
	    (e->type == ENCAP_ERSPAN2 || e->type >= ENCAP_ERSPAN3))
		flags |= FRAME_GRE_S;
	n += flags & FRAME_GRE_C ? 4 : 0;
	n += flags & FRAME_GRE_K ? 4 : 0;
	n += flags & FRAME_GRE_S ? 4 : 0;
	switch (e->type) {
	case ENCAP_ERSPAN2:
		return n + 8;
	case ENCAP_ERSPAN3:
		return n + 12;
	case ENCAP_ERSPAN3_SUB:
		return n + 20;
	default:
		return n;
	}
}

__u8 encap_bit(const struct encap *e)
{
	switch (e->type) {
	case ENCAP_ERSPAN1:
		return 1 << NP_ENCAP_ERSPAN1;
	case ENCAP_ERSPAN2:
		return 1 << NP_ENCAP_ERSPAN2;
	case ENCAP_ERSPAN3:
	case ENCAP_ERSPAN3_SUB:
		return 1 << NP_ENCAP_ERSPAN3;
	case ENCAP_TEB:
		return 1 << NP_ENCAP_TEB;
	}
	return 1 << NP_ENCAP_NONE;
}

void frame_encap(struct frame *f, const struct encap *e)
{
	struct frame_gre gre = {
		.flags = e->gre_flags,
		.key = 0x1000 + e->session,
		.seq = 4242,
	};

	if (!e->exact_flags &&
	    (e->type == ENCAP_ERSPAN2 || e->type >= ENCAP_ERSPAN3))
		gre.flags |= FRAME_GRE_S;
	frame_eth(f, MAC_MIRROR_DST, MAC_MIRROR_SRC);
	for (int i = 0; i < e->n_tags && i < 2; i++)
		frame_vlan(f, FRAME_ETH_P_8021Q, e->vid[i]);
	if (e->outer_v6)
		frame_ipv6(f, &(struct frame_ip6){ .saddr = IP6_MIRROR_SRC,
						   .daddr = IP6_MIRROR_DST });
	else
		frame_ipv4(f, &(struct frame_ip4){ .saddr = IP_MIRROR_SRC,
						   .daddr = IP_MIRROR_DST,
						   .ttl = 255 });
	switch (e->type) {
	case ENCAP_ERSPAN1:
		/* type I: no ERSPAN header, only the protocol says so */
		gre.proto = FRAME_ETH_P_ERSPAN;
		frame_gre(f, &gre);
		break;
	case ENCAP_ERSPAN2:
		frame_gre(f, &gre);
		frame_erspan2(f, &(struct frame_erspan2){
			.session = e->session, .index = 77,
		});
		break;
	case ENCAP_ERSPAN3:
	case ENCAP_ERSPAN3_SUB:
		frame_gre(f, &gre);
		frame_erspan3(f, &(struct frame_erspan3){
			.session = e->session,
			.timestamp = 0x12345678,
			.hw_id = 5,
			.gra = 3,
			.o = e->type == ENCAP_ERSPAN3_SUB,
			.platf_id = 3,
			.platf_info = 0xabcdef,
		});
		break;
	case ENCAP_TEB:
		frame_gre(f, &gre);
		break;
	}
}

void frame_encap_seg(struct frame *f, const struct encap *e,
		     const struct seg *g)
{
	frame_init(f);
	frame_encap(f, e);
	frame_seg_inner(f, g);
	frame_end(f);
}

/* ---- the runner ---- */

static int libbpf_print_fn(enum libbpf_print_level level, const char *fmt,
			   va_list args)
{
	if (level == LIBBPF_DEBUG && !env.verbose)
		return 0;
	return vfprintf(stdout, fmt, args);
}

static void stdio_hijack(void)
{
	fflush(stdout);
	fflush(stderr);
	stdout_saved = stdout;
	stderr_saved = stderr;
	stdout = open_memstream(&log_buf, &log_size);
	if (!stdout) {
		stdout = stdout_saved;
		return;
	}
	stderr = stdout;
}

static void stdio_restore(void)
{
	if (stdout == stdout_saved)
		return;
	fclose(stdout);
	stdout = stdout_saved;
	stderr = stderr_saved;
}

static void print_log(FILE *out, char *buf, size_t size)
{
	char *line, *save = NULL;

	if (!buf || !size)
		return;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		fprintf(out, "    %s\n", line);
}

/* the result of a test or subtest, on the real stdout, counted */
static void report(const char *name, const char *sub, int sub_num,
		   bool failed, bool skipped, const char *reason,
		   char *buf, size_t size)
{
	FILE *out = stdout_saved;
	char num[32];

	if (sub)
		snprintf(num, sizeof(num), "#%d/%d", env.test_num, sub_num);
	else
		snprintf(num, sizeof(num), "#%d", env.test_num);
	if (failed) {
		fprintf(out, "%s %s%s%s:FAIL\n", num, name, sub ? "/" : "",
			sub ? sub : "");
		n_fail++;
	} else if (skipped) {
		fprintf(out, "%s %s%s%s:SKIP %s\n", num, name, sub ? "/" : "",
			sub ? sub : "", reason);
		n_skip++;
	} else {
		fprintf(out, "%s %s%s%s:OK\n", num, name, sub ? "/" : "",
			sub ? sub : "");
		n_pass++;
	}
	if (failed || env.verbose)
		print_log(out, buf, size);
	fflush(out);
}

/* A filter names a test (its part before any '/') or a subtest of it. */
static bool selected(const char *name, const char *sub)
{
	if (!n_filters)
		return true;
	for (int i = 0; i < n_filters; i++) {
		const char *f = filters[i], *slash = strchr(f, '/');
		size_t n = slash ? (size_t)(slash - f) : strlen(f);
		char test[128];

		snprintf(test, sizeof(test), "%.*s", (int)n, f);
		if (!strstr(name, test))
			continue;
		if (!sub || !slash || strstr(sub, slash + 1))
			return true;
	}
	return false;
}

static void end_subtest(void)
{
	if (!env.subtest_name)
		return;
	fclose(stdout);
	stdout = stderr = test_stdout;
	report(env.test_name, env.subtest_name, env.subtest_num,
	       env.subtest_failed, env.subtest_skipped, sub_skip_reason,
	       sub_log_buf, sub_log_size);
	free(sub_log_buf);
	sub_log_buf = NULL;
	sub_log_size = 0;
	env.subtest_name = NULL;
	env.at_depth = 0;
	env.at_file = NULL;
}

bool test__start_subtest(const char *name)
{
	FILE *f;

	end_subtest();
	env.subtest_num++;
	if (!selected(env.test_name, name))
		return false;
	fflush(stdout);
	f = open_memstream(&sub_log_buf, &sub_log_size);
	if (!f)
		return false;
	test_stdout = stdout;
	stdout = stderr = f;
	env.subtest_name = name;
	env.subtest_failed = false;
	env.subtest_skipped = false;
	sub_skip_reason[0] = 0;
	tp_pin(0);
	return true;
}

static void init_cpus(void)
{
	cpu_set_t set;
	int i;

	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set)) {
		env.nr_cpus = 1;
		env.cpus[0] = sched_getcpu();
		return;
	}
	for (i = 0; i < CPU_SETSIZE; i++) {
		if (!CPU_ISSET(i, &set))
			continue;
		if (env.nr_cpus < 2)
			env.cpus[env.nr_cpus] = i;
		env.nr_cpus++;
	}
}

static void usage(FILE *fp)
{
	fprintf(fp, "usage: test_progs [-v] [-l] [-t SUBSTR[/SUBSTR]]...\n");
}

int main(int argc, char **argv)
{
	int n = sizeof(prog_tests) / sizeof(prog_tests[0]);
	bool list = false;
	int opt, subs;

	filters = calloc(argc, sizeof(*filters));
	while ((opt = getopt(argc, argv, "t:vlh")) != -1) {
		switch (opt) {
		case 't':
			filters[n_filters++] = optarg;
			break;
		case 'v':
			env.verbose = true;
			break;
		case 'l':
			list = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	libbpf_set_print(libbpf_print_fn);
	init_cpus();

	for (int i = 0; i < n; i++) {
		const struct prog_test *t = &prog_tests[i];

		if (!selected(t->name, NULL))
			continue;
		if (list) {
			printf("%s\n", t->name);
			continue;
		}
		env.test_name = t->name;
		env.test_num = i + 1;
		env.test_failed = false;
		env.test_skipped = false;
		env.subtest_name = NULL;
		env.subtest_num = 0;
		env.at_depth = 0;
		env.at_file = NULL;
		skip_reason[0] = 0;
		log_buf = NULL;
		log_size = 0;

		stdio_hijack();
		/* every test starts on the first CPU; tp_run_on moves it */
		tp_pin(0);
		t->run();
		end_subtest();
		subs = env.subtest_num;
		stdio_restore();

		/* a test of subtests counts as them, unless it failed itself */
		if (!subs || env.test_failed || env.test_skipped)
			report(t->name, NULL, 0, env.test_failed,
			       env.test_skipped, skip_reason, log_buf,
			       log_size);
		else if (env.verbose)
			print_log(stdout, log_buf, log_size);
		free(log_buf);
		log_buf = NULL;
	}
	free(filters);
	if (!list)
		printf("%d passed, %d failed, %d skipped\n", n_pass, n_fail,
		       n_skip);
	return n_fail ? 1 : 0;
}
