/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Types shared by the XDP program and the loader: map keys and values,
 * counter indices, defaults, pin names and the layout version.
 *
 * Every struct is explicitly padded to a multiple of 8 so that both sides,
 * and per-CPU value buffers (rounded up to 8 bytes by the kernel), agree
 * on every offset. Bump NP_LAYOUT_VERSION whenever anything that reaches
 * a pinned map changes (a query decodes pins of another build by it);
 * np_config and np_replay_batch live in one process's global data only.
 */
#ifndef NBDPATH_H
#define NBDPATH_H

#include <linux/types.h>
#include "np_rules.h"

/*
 * 3: np_neigh by family, np_meta.ifname; 4: buckets of 8 and a stash;
 * 5: np_current, np_finished, np_retired's overflow bucket;
 * 6: TCP health (np_dir's counters, sequence state and handshake leg,
 * np_retired's retransmits and resets); 7: the address family in
 * np_flow_key, np_retired_key and np_current_key; 8: np_stats' value is
 * the counters followed by the program's scratch (readers take the
 * counters, the first NP_STAT_MAX words)
 */
#define NP_LAYOUT_VERSION	8
#define NP_MAGIC		0x4e424450u	/* "NBDP" */

#define NP_DEFAULT_PORT		902
/*
 * A backup sensor sees hundreds of NFC connections at a time, and every
 * flow slot costs sizeof(struct np_flow) (528 bytes) on every CPU: 16384
 * flows take 32768 slots, 17 MB per CPU.
 */
#define NP_DEFAULT_MAX_FLOWS	16384
#define NP_DEFAULT_IDLE_SEC	300
#define NP_DEFAULT_PIN_DIR	"/sys/fs/bpf/nbdpath"

/* Pin names under --pin-dir; equal to the map names in the BPF object. */
#define NP_MAX_IFACES		16	/* -i given to one run */

#define NP_PIN_FLOWS		"np_flows"
#define NP_PIN_STATS		"np_stats"
#define NP_PIN_NEIGH		"np_neigh"
#define NP_PIN_META		"np_meta"
#define NP_PIN_NAMES		"np_names"
#define NP_PIN_RETIRED		"np_retired"
#define NP_PIN_CURRENT		"np_current"
#define NP_PIN_FINISHED		"np_finished"

#define NP_PROG_NAME		"nbdpath_xdp"

/*
 * Every frame lands in exactly one outcome; their sum is NP_STAT_PACKETS,
 * which readers compute (np_read_stats()): the program counts a frame
 * once. Feature counters follow and may count a frame several times over.
 */
enum np_stat {
	NP_STAT_PACKETS,
	NP_STAT_MATCHED,
	NP_STAT_OTHER_PORT,
	NP_STAT_NOT_TCP,
	NP_STAT_NOT_IP,
	NP_STAT_FRAGMENT,
	NP_STAT_TRUNCATED,
	NP_STAT_MALFORMED,
	NP_STAT_UNSUPPORTED,
	/* features */
	NP_STAT_VLAN,
	NP_STAT_ERSPAN,
	NP_STAT_GRE,
	NP_STAT_IPV6,
	/* matched frames that found no free slot in the flow table */
	NP_STAT_TABLE_FULL,
	/* flows the program reclaimed after they went idle or closed */
	NP_STAT_RECLAIMED,
	/* ARP / ND frames that taught an owner IP for a MAC */
	NP_STAT_NEIGH,
	NP_STAT_MAX,
};

#define NP_OUTCOME_FIRST	NP_STAT_MATCHED
#define NP_OUTCOME_LAST		NP_STAT_UNSUPPORTED

/*
 * Flow key: the server side first. IPv4 addresses are stored as
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) so both families share one form;
 * v6 tells them apart from the same IPv4-mapped address in an IPv6
 * header, which is another flow (nbdpath(8), FLOWS). Ports are in
 * network byte order, as on the wire.
 */
struct np_flow_key {
	__u8	server_ip[16];
	__u8	client_ip[16];
	__be16	server_port;
	__be16	client_port;
	/*
	 * 1: the frames were IPv6; 0: IPv4, so that the IPv4 key costs
	 * nothing to build. Part of every key comparison and of the hash
	 * (the high half of the key's last word, see bpf/flow.h).
	 */
	__u32	v6;
};

#define NP_DIR_TO_SERVER	0
#define NP_DIR_FROM_SERVER	1

/* Bounds of the small per-direction sets. */
#define NP_DIR_MACS		4
#define NP_DIR_VLANS		4
#define NP_DIR_SESSIONS		4

/* np_dir.flags */
#define NP_DIRF_MACS_OVERFLOW	0x01	/* more server MACs than NP_DIR_MACS */
#define NP_DIRF_VLANS_OVERFLOW	0x02
#define NP_DIRF_SESS_OVERFLOW	0x04
#define NP_DIRF_UNTAGGED	0x08	/* some frames carried no VLAN tag */
/*
 * Some frame was cut by the capture before its TCP data offset, with more
 * than 20 bytes of IP payload: its payload was counted as if the TCP
 * header were 20 bytes, so payload_bytes is an upper bound (by at most
 * 40 bytes per such frame). A new bit in an existing field: the layout
 * (NP_LAYOUT_VERSION) is unchanged, and an older reader ignores it.
 */
#define NP_DIRF_PAYLOAD_ESTIMATED 0x10

/* np_dir.encap: bit set per encapsulation seen (1 << NP_ENCAP_*) */
enum np_encap {
	NP_ENCAP_NONE,
	NP_ENCAP_ERSPAN1,
	NP_ENCAP_ERSPAN2,
	NP_ENCAP_ERSPAN3,
	NP_ENCAP_TEB,
	NP_ENCAP_MAX,
};

/*
 * Packets and bytes of one direction, split by the server-side MAC that
 * carried them: the per-MAC split is what the host and interface views
 * need, and the direction's totals are its sum (plus the overflow bucket),
 * so no counter is kept twice.
 */
struct np_mac_count {
	__u8	mac[6];
	__u16	pad;
	__u64	packets;
	__u64	bytes;
};

/*
 * The plain counters of a direction, declared once: each is a field of
 * struct np_dir that the program adds to, the loader sums over CPUs and
 * scales by --sample-rate, and every writer reports under its own name.
 * A new one is a line here, its width below, plus its update in the
 * program.
 */
#define NP_DIR_COUNTERS(X)						\
	X(payload_bytes)						\
	X(retransmits)							\
	X(retransmit_bytes)						\
	X(out_of_order)							\
	X(zero_windows)							\
	X(resets)

/*
 * Each counter's width: bytes take 64 bits; counts of segments take 32,
 * because one slot never sees 2^32 retransmitted, out-of-order,
 * zero-window or RST segments (at 10 GbE of full-size frames, 812,744
 * segments a second, that is an hour and a half of nothing else), and
 * every slot of a flow table costs its size on every CPU and in the
 * cache lines a new flow zeroes. Readers widen them (np_dir_merge() sums
 * per-CPU slots; the writers multiply by a 64-bit sample rate).
 */
#define NP_DCW_payload_bytes		64
#define NP_DCW_retransmits		32
#define NP_DCW_retransmit_bytes		64
#define NP_DCW_out_of_order		32
#define NP_DCW_zero_windows		32
#define NP_DCW_resets			32

#define NP_DC_CAT_(a, b)	a##b
#define NP_DC_CAT(a, b)		NP_DC_CAT_(a, b)
/* the counters of one width, as struct fields */
#define NP_DC_FIELD64_64(name)	__u64 name;
#define NP_DC_FIELD64_32(name)
#define NP_DC_FIELD32_64(name)
#define NP_DC_FIELD32_32(name)	__u32 name;
#define NP_DC_FIELD64(name)	NP_DC_CAT(NP_DC_FIELD64_, NP_DCW_##name)(name)
#define NP_DC_FIELD32(name)	NP_DC_CAT(NP_DC_FIELD32_, NP_DCW_##name)(name)

enum np_dir_counter {
#define NP_X(name) NP_DC_##name,
	NP_DIR_COUNTERS(NP_X)
#undef NP_X
	NP_DC_MAX,
};

/*
 * One direction of a flow, 240 bytes. What tells whether a flow is over
 * (last_ns, tcp_flags: flow_reclaimable() in bpf/flow.h) comes first, so
 * that the claim of a slot reads three cold cache lines of it (in_use
 * and each direction's head) rather than five; then 64-bit fields, then
 * 32, 16 and 8, so that nothing is padding but the last two bytes.
 */
struct np_dir {
	__u64	last_ns;		/* NP clock, see np_meta.clock */
	__u8	tcp_flags;		/* OR of all frames */
	__u8	flags;			/* NP_DIRF_* */
	__u8	encap;			/* 1 << NP_ENCAP_* */
	__u8	n_macs;
	__u8	n_vlans;
	__u8	n_sessions;
	__u8	seq_valid;		/* see next_seq */
	__u8	pad;
	__u64	first_ns;
	struct np_mac_count macs[NP_DIR_MACS];
	__u64	other_packets;		/* frames from MACs past the set */
	__u64	other_bytes;
	NP_DIR_COUNTERS(NP_DC_FIELD64)
	/*
	 * TCP health (nbdpath(8), TCP HEALTH). The handshake leg this
	 * direction opens: to_server its first SYN, from_server its first
	 * SYN-ACK, with the server-side MAC that carried it (syn_mac) and
	 * how many more came (syn_retries); ack_ns (to_server) the first
	 * ACK without SYN or RST.
	 */
	__u64	syn_ns;			/* NP clock; 0: not seen */
	__u64	ack_ns;
	/* of the last frame, in the frame's order: one 12-byte copy */
	__u8	dst_mac[6];
	__u8	src_mac[6];
	__u32	ifindex;		/* mirror NIC of the last frame */
	NP_DIR_COUNTERS(NP_DC_FIELD32)
	__u32	syn_retries;
	/*
	 * Sequence state of this CPU's view (never merged): the highest
	 * sequence end seen, and the one gap it tracks, [hole_lo, hole_hi)
	 * (hole_lo == hole_hi: none), whose filling is no retransmission;
	 * seq_valid: the state has started.
	 */
	__u32	next_seq;
	__u32	hole_lo;
	__u32	hole_hi;
	__u16	vlans[NP_DIR_VLANS];	/* VLAN IDs of the (inner) frame */
	__u16	sessions[NP_DIR_SESSIONS];	/* ERSPAN session IDs */
	__u8	syn_mac[6];
	__u8	pad2[2];
};

/*
 * One slot of the flow table. The table (np_flows) is a BPF_F_MMAPABLE
 * array of n_slots slots per possible CPU, CPU c's at c * n_slots,
 * probed by a keyed hash of the key (see bpf/flow.h): the same flow may
 * sit in a different slot on each CPU, and readers merge slots by key. A
 * slot is free when in_use is zero.
 */
struct np_flow {
	struct np_flow_key key;
	__u8	in_use;
	__u8	pad[7];
	struct np_dir dir[2];
};

/*
 * A flow may sit in either of two buckets of NP_FLOW_BUCKET slots, or in
 * the stash, one more bucket at the end of each CPU's partition that
 * every key may use when both of its buckets are full. A partition is a
 * power of two of buckets (at least two), then the stash.
 */
#define NP_FLOW_BUCKET		8
#define NP_FLOW_MIN_BUCKETS	2
#define NP_FLOW_MIN_SLOTS	((NP_FLOW_MIN_BUCKETS + 1) * NP_FLOW_BUCKET)

/*
 * The flow hash's secret (bpf/flow.h), drawn from getrandom() at load so
 * that nobody can precompute keys that share buckets. add[]: ten 32-bit
 * addends; v4: the part of the hash that is the same for every IPv4 key,
 * add[6] * add[7] + add[8] * add[9]; mul: odd, the final multiplier.
 */
struct np_hkey {
	__u64	add[10];
	__u64	v4;
	__u64	mul;
};

/*
 * Neighbour map: (MAC, address family) -> owner IP learnt from ARP
 * (NP_NEIGH_IPV4) or neighbour advertisements (NP_NEIGH_IPV6), so that
 * a dual-stack vmk keeps one owner of each. np_names uses the same key
 * with family 0.
 */
#define NP_NEIGH_IPV4		4
#define NP_NEIGH_IPV6		6

struct np_neigh_key {
	__u8	mac[6];
	__u8	family;
	__u8	pad;
};

struct np_neigh {
	__u8	ip[16];			/* IPv4-mapped for ARP */
	__u64	seen_ns;
	/*
	 * Learnt from an ordinary ARP request, the weakest evidence: a
	 * host sending from one interface's address out of another asks
	 * "tell" that address. A reply's (or an announcement's) binding
	 * is never replaced by a request's.
	 */
	__u8	from_request;
	__u8	pad[7];
};

/*
 * Runtime configuration in the program's global data (.bss), mmapped
 * by the loader: changing ports or the action needs no reload.
 */
struct np_config {
	__u64	port_bits[65536 / 64];	/* monitored TCP ports, host order */
	/*
	 * The NP clock. Live, a BPF timer writes the coarse monotonic
	 * clock into it every NP_TICK_NS, from the first frame that
	 * needs a time; replay and tests write each frame's time.
	 */
	__u64	clock_ns;
	__u64	idle_ns;		/* slot reclaimable after this idle */
	__u64	closed_ns;		/* ...or this long after FIN+FIN/RST */
	__u32	action;			/* XDP_DROP or XDP_PASS */
	/*
	 * Replay: bytes of the frame it could not pass to the kernel (a
	 * BIG TCP frame beyond what BPF_PROG_TEST_RUN takes), which a
	 * total length of 0 leaves the program to count (frame_len()).
	 */
	__u32	replay_cut;
	struct np_hkey hkey;		/* set by the loader before load */
	/*
	 * Bumped after each change of port_bits: what the program learnt
	 * from a frame under other ports is not used (see np_prog_set_ports).
	 */
	__u32	port_gen;
};

/* How often the timer refreshes np_config.clock_ns, live. */
#define NP_TICK_NS		1000000ull

/*
 * One call of the replay program (bpf/nbdpath.bpf.c, nbdpath_replay):
 * n frames laid out last to first in size bytes of test-run data, in
 * the program's global data (.bss, mmapped by replay, never pinned).
 */
#define NP_REPLAY_BATCH		64

struct np_replay_batch {
	__u32	n;			/* frames in this call */
	__u32	size;			/* bytes of test-run data */
	__u32	done;			/* frames classified, set by the program */
	__u32	pad;
	__u32	len[NP_REPLAY_BATCH];	/* frame i's length */
	__u64	ts[NP_REPLAY_BATCH];	/* frame i's capture time, ns */
};

/*
 * Written by `nbdpath run`/`replay` into the pinned np_meta array so that
 * a query can tell a live, compatible instance from a stale or foreign
 * one before it decodes any other map.
 */
#define NP_CLOCK_MONO_COARSE	0	/* bpf_ktime_get_coarse_ns(), as a
					 * timer refreshes it every ms
					 */
#define NP_CLOCK_REALTIME	1	/* capture timestamps (replay) */

struct np_meta {
	__u32	magic;
	__u32	layout;
	__u32	sz_key;
	__u32	sz_flow;
	__u32	sz_meta;
	__u32	n_slots;		/* flow table slots per CPU; np_flows
					 * holds n_slots x possible CPUs
					 */
	__u32	pid;
	__u32	clock;			/* NP_CLOCK_* */
	__s64	clock_to_unix_ns;	/* add to an NP clock value */
	__u64	started_ns;		/* unix time */
	__u64	last_poll_ns;		/* unix time */
	__u64	flows_evicted;		/* flows retired by the loader */
	__u32	sample_rate;
	__u32	interval_ms;
	__u32	idle_sec;		/* flows idle this long leave reports */
	__u32	closed_sec;		/* ...closed flows this long after */
	__u32	n_ifaces;
	__u32	window_sec;		/* --window of np_current */
	__u64	finished_head;		/* records ever written to np_finished */
	__u64	flows_dropped;		/* ...overwritten while still listed */
	__u64	keep_finished_ns;	/* --keep-finished */
	__u32	ifindex[NP_MAX_IFACES];
	__u32	xdp_mode[NP_MAX_IFACES];	/* XDP_FLAGS_*_MODE */
	/*
	 * The -i names: a query from another network namespace, or after
	 * the NIC is gone, cannot turn the ifindexes back into them.
	 */
	char	ifname[NP_MAX_IFACES][16];
};

/* Loader-written: vmk names of server-side MACs. */
struct np_name {
	char	name[16];
};

/*
 * Loader-written: counts of flows removed from the flow table, kept per
 * (server IP, server MAC, direction) so host and interface totals never
 * lose what was counted.
 */
struct np_retired_key {
	__u8	server_ip[16];
	__u8	mac[6];
	__u8	dir;
	/*
	 * 1: the bucket (server IP and MAC zero) that keeps the counts the
	 * full map has no entry left for, one per direction, made when the
	 * map is: totals stay exact however many hosts come and go.
	 */
	__u8	overflow;
	__u8	v6;		/* np_flow_key.v6 of the server IP */
	__u8	pad[7];
};

struct np_retired {
	__u64	packets;
	__u64	bytes;
	__u64	retransmits;
	__u64	retransmit_bytes;
	__u64	resets;
	/*
	 * Handshakes by enum np_hs_state, each flow's under the main MAC
	 * (np_dir_main_mac()) of its from_server direction, or of its
	 * to_server one when no reply was seen.
	 */
	__u64	handshakes[4];
};

/*
 * Loader-written, for the queries: each host's current verdict (np_current,
 * by server IP) and the finished flows' records (np_finished, a ring of
 * max_entries records, np_meta.finished_head written so far). verdict
 * and state hold the loader's enum np_verdict and enum np_flow_state.
 */
#define NP_CURRENT_CHANGES	16
#define NP_CURRENT_MACS		8

struct np_current_key {
	__u8	server_ip[16];
	__u8	v6;		/* np_flow_key.v6 of the server IP */
	__u8	pad[7];
};

struct np_current {
	__u32	verdict;
	__u32	n_changes;		/* in changes[], oldest first */
	__u32	n_macs;
	__u32	pad;
	__s64	since_ns;		/* unix */
	__s64	asym_until_ns;		/* unix; 0: none */
	struct {
		__s64	time_ns;
		__u32	verdict;
		__u32	pad;
	} changes[NP_CURRENT_CHANGES];
	struct {
		__u8	mac[6];
		__u8	dir;
		__u8	other;
		__u32	pad;
		__u64	packets;
		__u64	bytes;
	} macs[NP_CURRENT_MACS];	/* the window's, as reported */
};

struct np_finished_rec {
	struct np_flow_key key;
	struct np_dir dir[2];
	__u64	ended_ns;		/* NP clock */
	__u32	state;
	__u32	pad;
};

#endif /* NBDPATH_H */
