/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The datapath test runner: tests are `void test_NAME(void)` functions in
 * tests/prog_tests/ (one file per subject), found by name at build time
 * (.build/tests.inc).
 *
 * ASSERT_*() print "file:line: name: actual X != expected Y" on failure,
 * mark the test failed and return false, so that a test reads
 *
 *	if (!ASSERT_EQ(c[NP_STAT_MATCHED], 1, "matched"))
 *		goto out;
 *
 * Everything a test prints (and libbpf's messages) is kept and shown only
 * when the test fails, or with -v.
 *
 * A file that tests cases of one thing runs them as subtests, each passed,
 * failed or skipped on its own (and counted so in the summary):
 *
 *	void test_truncate(void)
 *	{
 *		if (test__start_subtest("ipv6"))
 *			truncate_ipv6();
 *	}
 *
 * shown as "#N/M truncate/ipv6:OK"; `test_progs -t truncate/ipv6` runs
 * that one. A test is named after its file: test_FILE or test_FILE_WHAT.
 *
 * The tp_*() helpers wrap the real program: load it with np_prog_load(),
 * run frames through BPF_PROG_TEST_RUN on a chosen CPU, read the counters
 * and the merged flow table with the loader's own readers, and compare
 * them with what a test expects, field by field.
 */
#ifndef NBDPATH_TEST_PROGS_H
#define NBDPATH_TEST_PROGS_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>

#include "nbdpath.h"
#include "prog.h"
#include "flowtab.h"
#include "frames.h"
#include "seed.h"

struct test_env {
	const char *test_name;
	int test_num;
	bool test_failed;
	bool test_skipped;
	const char *subtest_name;	/* the subtest running, or NULL */
	int subtest_num;
	bool subtest_failed;
	bool subtest_skipped;
	int nr_cpus;			/* CPUs this process may run on */
	int cpus[2];			/* the first two of them */
	bool verbose;
	const char *at_file;		/* caller of the helper running now */
	int at_line;
	int at_depth;
};

extern struct test_env env;

void test__fail(void);
/*
 * Ends the subtest before, if any; true when the subtest name is to run
 * (-t TEST/SUBTEST). Subtests start, as tests do, on the first CPU.
 */
bool test__start_subtest(const char *name);
void test__skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool test__check_int(const char *file, int line, const char *name, bool eq,
		     unsigned long long act, bool act_signed,
		     unsigned long long exp, bool exp_signed);
bool test__check_ok(const char *file, int line, const char *name,
		    long long res, int err);
bool test__check_true(const char *file, int line, const char *name, bool ok);
bool test__check_str(const char *file, int line, const char *name,
		     const char *act, const char *exp);
bool test__check_mem(const char *file, int line, const char *name,
		     const void *act, const void *exp, size_t len);

#define test__signed(x) _Generic((x),					\
	char: 1, signed char: 1, short: 1, int: 1, long: 1, long long: 1, \
	default: 0)

#define ASSERT_EQ(actual, expected, name) ({				\
	typeof(actual) ___act = (actual);				\
	typeof(expected) ___exp = (expected);				\
	test__check_int(__FILE__, __LINE__, (name), true,		\
			(unsigned long long)___act, test__signed(___act), \
			(unsigned long long)___exp, test__signed(___exp)); \
})

#define ASSERT_NEQ(actual, expected, name) ({				\
	typeof(actual) ___act = (actual);				\
	typeof(expected) ___exp = (expected);				\
	test__check_int(__FILE__, __LINE__, (name), false,		\
			(unsigned long long)___act, test__signed(___act), \
			(unsigned long long)___exp, test__signed(___exp)); \
})

/* res == 0; errno is shown beside a failure */
#define ASSERT_OK(res, name) ({						\
	long long ___res = (res);					\
	test__check_ok(__FILE__, __LINE__, (name), ___res, errno);	\
})

#define ASSERT_TRUE(cond, name)						\
	test__check_true(__FILE__, __LINE__, (name), !!(cond))

#define ASSERT_STREQ(actual, expected, name)				\
	test__check_str(__FILE__, __LINE__, (name), (actual), (expected))

#define ASSERT_MEMEQ(actual, expected, len, name)			\
	test__check_mem(__FILE__, __LINE__, (name), (actual), (expected), (len))

/*
 * Helpers assert on their caller's behalf: a failure inside one also
 * names the test line that called it.
 */
void test__push_at(const char *file, int line);
void test__pop_at(void);

#define TEST_AT(call) ({						\
	test__push_at(__FILE__, __LINE__);				\
	__auto_type ___r = (call);					\
	test__pop_at();							\
	___r;								\
})

/* ---- the program under test ---- */

/* The NP clock every test starts at: times in flows are then exact. */
#define TP_CLOCK0	1000000000000ull	/* 1000 s */
#define TP_IFINDEX_LO	1			/* BPF_PROG_TEST_RUN's default */

struct tprog {
	struct nbdpath_bpf *skel;
	struct np_maps maps;
	struct np_flowtab tab;
	struct np_flowset flows;
	__u32 action;			/* what every run must return */
	__u32 ifindex;			/* ctx ingress_ifindex; 0: lo */
	__u64 stats[NP_STAT_MAX];	/* at the last tp_stats() */
};

/* o NULL: the defaults, with a 64-slot table */
bool tp__load(struct tprog *t, const struct np_prog_opts *o, bool track);
void tp_close(struct tprog *t);

/* Run f cut to len bytes (0: all of it) once, on this process's CPU. */
bool tp__run(struct tprog *t, const struct frame *f, __u32 len);
/* ...on a given CPU (an index into env.cpus) */
bool tp__run_on(struct tprog *t, const struct frame *f, __u32 len, int cpu);
/* ...returning the XDP action and the test_run error, asserting nothing */
int tp_run_raw(struct tprog *t, const void *data, __u32 len, __u32 *retval);

void tp_set_clock(struct tprog *t, __u64 ns);
bool tp_pin(int cpu);

/*
 * Compare every counter with want[] (all NP_STAT_MAX of them, absent ones
 * zero): since the previous tp_stats() when delta, else in total.
 */
bool tp__stats(struct tprog *t, const __u64 want[NP_STAT_MAX], bool delta);

/*
 * Run f (cut to len) once and check that it landed in outcome, with the
 * feature counters of mask (1 << NP_STAT_*) and nothing else counted.
 */
bool tp__outcome(struct tprog *t, const struct frame *f, __u32 len,
		 int outcome, __u32 mask, const char *what);
#define F(stat)	(1u << NP_STAT_##stat)

/* Read and merge the flow table (retire: see np_flowtab_read). */
bool tp__read(struct tprog *t, np_retire_fn retire, void *ctx);

void tp_key(struct np_flow_key *k, const char *server, __u16 sport,
	    const char *client, __u16 cport);
/* The flow in the last read; asserts it is there. */
const struct np_flow_rec *tp__flow(struct tprog *t, const char *server,
				   __u16 sport, const char *client,
				   __u16 cport);
void tp_dump_flows(const struct tprog *t);

struct want_mac {
	const __u8 *mac;
	__u64 packets;
	__u64 bytes;
};

/*
 * What one direction of a flow must hold, exactly. packets == 0 means
 * "never seen": every field zero. Otherwise the per-MAC buckets are
 * macs[] up to the first NULL mac, in the order first seen; the sets
 * likewise; encap 0 stands for plain frames (1 << NP_ENCAP_NONE),
 * ifindex 0 for lo, first_ns/last_ns 0 for TP_CLOCK0.
 */
struct want_dir {
	__u64 packets;
	__u64 bytes;
	__u64 payload;
	struct want_mac macs[NP_DIR_MACS];
	__u64 other_packets;
	__u64 other_bytes;
	const __u8 *src_mac;
	const __u8 *dst_mac;
	int n_vlans;
	__u16 vlans[NP_DIR_VLANS];
	int n_sessions;
	__u16 sessions[NP_DIR_SESSIONS];
	__u8 tcp_flags;
	__u8 flags;
	__u8 encap;
	__u32 ifindex;
	__u64 first_ns;
	__u64 last_ns;
	bool macs_any_order;	/* merged from CPUs: compare as a set */
};

bool tp__dir(const struct np_dir *d, const struct want_dir *w,
	     const char *what);

/*
 * A direction of plain, untagged frames, every one sent from src to dst:
 * one MAC bucket, the server's side (dst to the server, src from it),
 * holding all of them. Set what else the direction holds (tags, sessions,
 * encap, times) in the result before passing it to tp_dir().
 */
struct want_dir want_plain(int dir, const __u8 *src, const __u8 *dst,
			   __u64 packets, __u64 bytes, __u64 payload,
			   __u8 tcp_flags);
/*
 * tp_dir() of r's direction dir against want_plain(): a failure names the
 * flow and the direction.
 */
bool tp__plain(const struct np_flow_rec *r, int dir, const __u8 *src,
	       const __u8 *dst, __u64 packets, __u64 bytes, __u64 payload,
	       __u8 tcp_flags);
/*
 * A retire callback for tp_read_retire() that keeps what it is handed:
 * n counts every record, rec[] holds the first TP_RETIRED_MAX.
 */
#define TP_RETIRED_MAX	8
struct tp_retired {
	int n;
	struct np_flow_rec rec[TP_RETIRED_MAX];
};
void tp_retire_keep(const struct np_flow_rec *r, void *ctx);

/* Read the table; assert it holds n flows. */
bool tp__read_n(struct tprog *t, size_t n);
/* The flow after reading the table; asserts both. */
const struct np_flow_rec *tp__read_flow(struct tprog *t, const char *server,
					__u16 sport, const char *client,
					__u16 cport);

/*
 * The owner IP np_neigh holds for mac in family (NP_NEIGH_IPV4/6; 0:
 * either); false if none.
 */
bool tp_neigh(struct tprog *t, const __u8 mac[6], int family,
	      struct np_neigh *out);

/* An address in the flow key's form (IPv4-mapped for IPv4). */
void tp_addr(__u8 out[16], const char *text);

/* Compound literals hold commas: the wrappers pass arguments through. */
#define tp_load(...)		TEST_AT(tp__load(__VA_ARGS__, false))
#define tp_load_track(...)	TEST_AT(tp__load(__VA_ARGS__, true))
#define tp_run(...)		TEST_AT(tp__run(__VA_ARGS__))
#define tp_run_on(...)		TEST_AT(tp__run_on(__VA_ARGS__))
#define tp_stats(...)		TEST_AT(tp__stats(__VA_ARGS__, false))
#define tp_stats_delta(...)	TEST_AT(tp__stats(__VA_ARGS__, true))
#define tp_outcome(...)		TEST_AT(tp__outcome(__VA_ARGS__))
#define tp_read(t)		TEST_AT(tp__read((t), NULL, NULL))
#define tp_read_retire(...)	TEST_AT(tp__read(__VA_ARGS__))
#define tp_flow(...)		TEST_AT(tp__flow(__VA_ARGS__))
#define tp_dir(...)		TEST_AT(tp__dir(__VA_ARGS__))
#define tp_plain(...)		TEST_AT(tp__plain(__VA_ARGS__))
#define tp_read_n(...)		TEST_AT(tp__read_n(__VA_ARGS__))
#define tp_read_flow(...)	TEST_AT(tp__read_flow(__VA_ARGS__))
/* the seed write-up's connection, IP_ESX:NBD_PORT <- IP_RUBRIK:CLIENT_PORT */
#define tp_read_seed(t)							\
	tp_read_flow((t), IP_ESX, NBD_PORT, IP_RUBRIK, CLIENT_PORT)

/* ---- the hosts of the seed write-up (tests/seed.h) ---- */

extern const __u8 MAC_VMK0[6];		/* 00:25:b5:00:00:0a */
extern const __u8 MAC_VMK4[6];		/* 00:50:56:6b:28:04 */
extern const __u8 MAC_RUBRIK[6];
extern const __u8 MAC_GW[6];		/* the router in front of vmk0 */
extern const __u8 MAC_MIRROR_SRC[6];
extern const __u8 MAC_MIRROR_DST[6];

/* A TCP segment over Ethernet: the frame most tests start from. */
struct seg {
	const __u8 *dmac;
	const __u8 *smac;
	const char *saddr;	/* IPv4, or IPv6 when v6 */
	const char *daddr;
	__u16 sport;
	__u16 dport;
	__u8 flags;
	__u8 doff;		/* 0: 8 (timestamps, as Linux and ESXi send) */
	bool v6;
	bool cut;		/* payload declared, not in the frame */
	__u32 payload;
	int n_tags;
	__u16 tpid[3];
	__u16 vid[3];
	__u32 seq;
	__u16 window;		/* 0: 65535 */
	bool zero_window;	/* advertise a window of 0 */
};

/*
 * The seed connection's segments over IPv4: a request from the data mover
 * through the router to vmk0, a reply from vmk4 straight back to it.
 * Change what a test needs otherwise in the result.
 */
struct seg seed_req(__u16 cport, __u8 flags, __u32 payload);
struct seg seed_rep(__u16 cport, __u8 flags, __u32 payload);

/* One segment of a conversation: its direction, flags, data offset, payload. */
struct tp_step {
	bool to_server;
	__u8 flags;
	__u8 doff;
	__u32 payload;
};

/*
 * Run steps[]: to_server ones as variations of to, from_server ones of
 * from (flags, data offset and payload from the step).
 */
bool tp__run_steps(struct tprog *t, const struct tp_step *steps, size_t n,
		   const struct seg *to, const struct seg *from);
#define tp_run_steps(...)	TEST_AT(tp__run_steps(__VA_ARGS__))

/*
 * ARP over Ethernet from sha: a request (op 1) to everyone, its target
 * hardware address zero; a reply (op 2) to dmac. Returns f.
 */
struct frame *arp_frame(struct frame *f, __u16 op, const __u8 *sha,
			const char *spa, const __u8 *dmac, const char *tpa);
/*
 * An ICMPv6 neighbour advertisement for target from smac and src to the
 * data mover, with tll as its target link-layer option (NULL: none).
 */
struct frame *na_frame(struct frame *f, const __u8 *smac, const char *src,
		       const char *target, const __u8 *tll);
/* vmk4 tells the data mover its addresses: an ARP reply, an NA. */
struct frame *arp_vmk4(struct frame *f);
struct frame *na_vmk4(struct frame *f);

/* Ethernet, tags, IP, TCP and payload, appended to f (no frame_end). */
void frame_seg_inner(struct frame *f, const struct seg *s);
/* The plain frame: frame_init, frame_seg_inner, frame_end. */
void frame_seg(struct frame *f, const struct seg *s);
/* IP header and TCP header bytes of s, for byte counts. */
__u32 seg_hdrs(const struct seg *s);

/* The outer headers of a remote mirror session (ERSPAN or GRE/TEB). */
enum encap_type {
	ENCAP_ERSPAN1 = 1,
	ENCAP_ERSPAN2,
	ENCAP_ERSPAN3,
	ENCAP_ERSPAN3_SUB,	/* type III with the platform subheader */
	ENCAP_TEB,
};

struct encap {
	enum encap_type type;
	/*
	 * GRE C/K/S bits. Types II and III get S added, as every sender
	 * sets it, unless exact_flags.
	 */
	__u16 gre_flags;
	bool exact_flags;
	bool outer_v6;
	int n_tags;		/* outer VLAN tags (802.1Q) */
	__u16 vid[2];
	__u16 session;
};

/* Outer Ethernet, tags, IP, GRE and ERSPAN: the inner frame goes next. */
void frame_encap(struct frame *f, const struct encap *e);
/* The whole frame: e's outer headers, then the segment g. */
void frame_encap_seg(struct frame *f, const struct encap *e,
		     const struct seg *g);
/* Bytes frame_encap() writes before the inner frame. */
__u32 encap_len(const struct encap *e);
/* The NP_ENCAP_* bit a flow direction records for it. */
__u8 encap_bit(const struct encap *e);

#endif /* NBDPATH_TEST_PROGS_H */
