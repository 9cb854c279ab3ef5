// SPDX-License-Identifier: GPL-2.0
/*
 * The one-outcome rule on frames nobody wrote by hand: random frames of
 * every wire format the parser knows (plain, 802.1Q/QinQ tags, IPv4 with
 * options and fragments, IPv6 with extension headers, GRE, ERSPAN I, II
 * and III, TEB, ARP, neighbour advertisements), their fields random,
 * then mutated (bytes changed, lengths cut). Every run must return the
 * program's action (never XDP_ABORTED, never an error), and the outcome
 * counters must sum to the frames run.
 *
 * NP_RANDOM_FRAMES frames (default 100000, seconds in `make check`;
 * `make fuzz` runs 10M), from seed NP_RANDOM_SEED (default 1): a failure
 * prints the seed and the frame, and the same seed repeats it.
 */
#include <stdlib.h>

#include "test_progs.h"

static __u64 rng;

/* xorshift64*: fast, and the same sequence on every machine */
static __u64 rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static __u32 below(__u32 n)
{
	return rnd() % n;
}

static bool chance(__u32 one_in)
{
	return !below(one_in);
}

enum shape {
	SH_PLAIN, SH_TAGGED, SH_IP6_EXT, SH_IP4_ODD, SH_ENCAP, SH_GRE_IP,
	SH_ARP, SH_NA, SH_RANDOM, N_SHAPES,
};

static const char *const shape_names[N_SHAPES] = {
	"plain", "tagged", "IPv6 ext", "IPv4 odd", "encap", "GRE/IP",
	"ARP", "NA", "random bytes",
};

/* A few addresses, so that flows repeat, sometimes any address. */
static const char *addr4(char buf[16])
{
	static const char *const pool[] = { IP_ESX, IP_ESX_VMK4, IP_RUBRIK,
					    IP_RUBRIK2 };

	if (!chance(4))
		return pool[below(4)];
	snprintf(buf, 16, "%u.%u.%u.%u", below(256), below(256), below(256),
		 below(256));
	return buf;
}

static const char *addr6(char buf[48])
{
	static const char *const pool[] = { IP6_ESX, IP6_RUBRIK, "fe80::1" };

	if (!chance(4))
		return pool[below(3)];
	snprintf(buf, 48, "%x:%x::%x:%x", below(0x10000), below(0x10000),
		 below(0x10000), below(0x10000));
	return buf;
}

static const __u8 *mac(void)
{
	static const __u8 *const pool[] = { MAC_VMK0, MAC_VMK4, MAC_RUBRIK,
					    MAC_GW };

	return pool[below(4)];
}

static __u16 port(void)
{
	return chance(4) ? below(0x10000) : chance(2) ? NBD_PORT : CLIENT_PORT;
}

static __u16 tpid(void)
{
	static const __u16 t[] = { FRAME_ETH_P_8021Q, FRAME_ETH_P_8021AD,
				   FRAME_ETH_P_QINQ1 };

	return t[below(3)];
}

/* A random TCP segment, its addresses held in the two buffers. */
static struct seg rand_seg(char *sa, char *da)
{
	struct seg g = {
		.dmac = mac(), .smac = mac(),
		.sport = port(), .dport = port(),
		.flags = below(256),
		.doff = 5 + below(11),
		.v6 = chance(3),
		.cut = chance(4),
		.payload = chance(8) ? 0 : below(1400),
	};

	g.saddr = g.v6 ? addr6(sa) : addr4(sa);
	g.daddr = g.v6 ? addr6(da) : addr4(da);
	return g;
}

static void tcp_and_payload(struct frame *f)
{
	frame_tcp(f, &(struct frame_tcp){
		.sport = port(), .dport = port(), .flags = below(256),
		.opt_len = 4 * below(11),
	});
	if (chance(4))
		frame_payload_cut(f, below(9000));
	else
		frame_payload(f, below(1200));
}

static void build(struct frame *f, enum shape sh)
{
	static const __u8 ext[] = { FRAME_IPPROTO_HOPOPTS, FRAME_IPPROTO_DSTOPTS,
				    FRAME_IPPROTO_ROUTING, FRAME_IPPROTO_AH,
				    FRAME_IPPROTO_FRAGMENT, 135 /* mobility */ };
	char sa[48], da[48], ia[16], ib[16];
	struct seg g = rand_seg(sa, da);
	int n;

	frame_init(f);
	switch (sh) {
	case SH_PLAIN:
		g.n_tags = 0;
		frame_seg_inner(f, &g);
		break;
	case SH_TAGGED:
		g.n_tags = 1 + below(3);
		for (int i = 0; i < g.n_tags; i++) {
			g.tpid[i] = i ? FRAME_ETH_P_8021Q : tpid();
			g.vid[i] = below(4096);
		}
		frame_seg_inner(f, &g);
		break;
	case SH_IP6_EXT:
		frame_eth(f, g.dmac, g.smac);
		if (chance(3))
			frame_vlan(f, tpid(), below(4096));
		frame_ipv6(f, &(struct frame_ip6){ .saddr = addr6(sa),
						   .daddr = addr6(da) });
		for (n = below(6); n > 0; n--) {
			__u8 type = ext[below(sizeof(ext))];

			if (type == FRAME_IPPROTO_FRAGMENT)
				frame_ip6_frag(f, chance(2) ? 0 : below(8192),
					       chance(2), rnd());
			else
				frame_ip6_ext(f, type, 8 * (1 + below(4)));
		}
		tcp_and_payload(f);
		break;
	case SH_IP4_ODD:
		frame_eth(f, g.dmac, g.smac);
		frame_ipv4(f, &(struct frame_ip4){
			.saddr = addr4(ia), .daddr = addr4(ib),
			.opt_len = 4 * below(11),
			.ihl = chance(4) ? below(16) : 0,
			.mf = chance(4),
			.frag_off = chance(4) ? below(8192) : 0,
			.proto = chance(4) ? (chance(2) ? FRAME_IPPROTO_UDP :
					      FRAME_IPPROTO_ICMP) : 0,
		});
		tcp_and_payload(f);
		break;
	case SH_ENCAP: {
		struct encap e = {
			.type = ENCAP_ERSPAN1 + below(5),
			.gre_flags = below(8) << 12 & (FRAME_GRE_C | FRAME_GRE_K |
						       FRAME_GRE_S),
			.exact_flags = chance(4),
			.outer_v6 = chance(3),
			.n_tags = below(3),
			.vid = { below(4096), below(4096) },
			.session = below(1024),
		};

		g.n_tags = below(3);
		for (int i = 0; i < g.n_tags; i++) {
			g.tpid[i] = tpid();
			g.vid[i] = below(4096);
		}
		frame_encap(f, &e);
		frame_seg_inner(f, &g);
		break;
	}
	case SH_GRE_IP:
		/* GRE carrying IP itself, not a mirrored Ethernet frame */
		frame_eth(f, MAC_MIRROR_DST, MAC_MIRROR_SRC);
		frame_ipv4(f, &(struct frame_ip4){ .saddr = IP_MIRROR_SRC,
						   .daddr = IP_MIRROR_DST });
		frame_gre(f, &(struct frame_gre){
			.flags = below(16) << 12,
			.version = chance(4) ? below(8) : 0,
			.proto = chance(2) ? FRAME_ETH_P_IP : below(0x10000),
		});
		frame_ipv4(f, &(struct frame_ip4){ .saddr = addr4(ia),
						   .daddr = addr4(ib),
						   .proto = FRAME_IPPROTO_TCP });
		tcp_and_payload(f);
		break;
	case SH_ARP:
		frame_eth(f, g.dmac, g.smac);
		if (chance(3))
			frame_vlan(f, FRAME_ETH_P_8021Q, below(4096));
		frame_arp(f, 1 + below(2), mac(), addr4(ia), mac(), addr4(ib));
		break;
	case SH_NA:
		frame_eth(f, g.dmac, g.smac);
		frame_ipv6(f, &(struct frame_ip6){ .saddr = addr6(sa),
						   .daddr = "ff02::1" });
		frame_icmp6_na(f, addr6(da), chance(4) ? NULL : mac());
		break;
	case SH_RANDOM: {
		__u8 junk[256];

		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = rnd();
		frame_raw(f, junk, 14 + below(sizeof(junk) - 14));
		break;
	}
	case N_SHAPES:
		break;
	}
	frame_end(f);
}

/* Change a few bytes: bits, boundary values, anything. */
static void mutate(struct frame *f)
{
	static const __u8 edge[] = { 0x00, 0x01, 0x05, 0x0f, 0x40, 0x45,
				     0x60, 0x7f, 0x80, 0xff };

	for (int n = 1 + below(8); n > 0; n--) {
		__u32 at = below(f->len);

		switch (below(3)) {
		case 0:
			f->data[at] ^= 1 << below(8);
			break;
		case 1:
			f->data[at] = edge[below(sizeof(edge))];
			break;
		default:
			f->data[at] = rnd();
			break;
		}
	}
}

struct tally {
	__u64 frames;
	__u64 bad;		/* a run that did not return the action */
	__u64 by_shape[N_SHAPES];
};

/* Run data once; a first failure is described in full. */
static bool run_one(struct tprog *t, struct tally *y, const __u8 *data,
		    __u32 len, enum shape sh, __u64 seed)
{
	__u32 ret = ~0u;
	int err;

	/* BPF_PROG_TEST_RUN takes no XDP frame shorter than Ethernet's */
	if (len < 14)
		return true;
	err = tp_run_raw(t, data, len, &ret);
	y->frames++;
	y->by_shape[sh]++;
	if (!err && ret == t->action)
		return true;
	if (!y->bad++) {
		printf("frame %llu (%s, %u bytes, seed %llu): err %d, action %u, want %u:\n",
		       (unsigned long long)y->frames, shape_names[sh], len,
		       (unsigned long long)seed, err, ret, t->action);
		for (__u32 i = 0; i < len; i++)
			printf("%02x%s", data[i], i % 32 == 31 ? "\n" : "");
		printf("\n");
	}
	return false;
}

static __u64 env_u64(const char *name, __u64 def)
{
	const char *s = getenv(name);
	char *end;
	__u64 v;

	if (!s || !*s)
		return def;
	v = strtoull(s, &end, 10);
	return *end ? def : v;
}

void test_random_frames(void)
{
	__u64 n = env_u64("NP_RANDOM_FRAMES", 100000);
	__u64 seed = env_u64("NP_RANDOM_SEED", 1);
	__u64 sum = 0, clock = TP_CLOCK0;
	static struct frame f;
	struct tally y = {};
	struct tprog t;

	rng = seed ? seed : 1;
	if (!tp_load(&t, NULL))
		goto out;
	/* one of each shape, cut at every length */
	for (int sh = 0; sh < N_SHAPES; sh++) {
		build(&f, sh);
		for (__u32 len = 14; len <= f.len; len++)
			run_one(&t, &y, f.data, len, sh, seed);
	}
	for (__u64 i = 0; i < n; i++) {
		enum shape sh = below(N_SHAPES);
		__u32 len;

		build(&f, sh);
		if (chance(2))
			mutate(&f);
		len = chance(4) ? 14 + below(f.len - 13) : f.len;
		/* time goes on, now and then past --idle-timeout */
		clock += below(2000000);
		if (chance(20000))
			clock += 400000000000ull;
		tp_set_clock(&t, clock);
		run_one(&t, &y, f.data, len, sh, seed);
	}
	if (!ASSERT_EQ(y.bad, 0, "runs not returning the action"))
		goto out;
	if (!ASSERT_OK(np_read_stats(t.maps.stats, t.stats), "np_read_stats"))
		goto out;
	for (int i = NP_OUTCOME_FIRST; i <= NP_OUTCOME_LAST; i++)
		sum += t.stats[i];
	ASSERT_EQ(t.stats[NP_STAT_PACKETS], y.frames, "packets counted");
	ASSERT_EQ(sum, y.frames, "outcomes summed");
	if (env.verbose) {
		printf("%llu frames, seed %llu:", (unsigned long long)y.frames,
		       (unsigned long long)seed);
		for (int i = 0; i < NP_STAT_MAX; i++)
			printf(" %s %llu", np_stat_names[i],
			       (unsigned long long)t.stats[i]);
		printf("\n");
	}
out:
	tp_close(&t);
}
