// SPDX-License-Identifier: GPL-2.0
/*
 * nbdpath: classify every frame on a port-mirror NIC, count monitored TCP
 * flows per direction by server-side MAC, then drop (or pass) the frame.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "nbdpath.h"
#include "parse.h"
#include "flow.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * Buckets per CPU: bucket_mask + 1, a power of two, then the stash;
 * n_slots: slots per CPU, stash included. Set by the loader.
 */
const volatile __u32 bucket_mask = NP_FLOW_MIN_BUCKETS - 1;
const volatile __u32 n_slots = NP_FLOW_MIN_SLOTS;

/* Runtime configuration, rewritten in place by the loader (mmap). */
struct np_config cfg = {
	.port_bits[NP_DEFAULT_PORT / 64] = 1ull << (NP_DEFAULT_PORT % 64),
	.idle_ns = NP_DEFAULT_IDLE_SEC * NP_NSEC_PER_SEC,
	.closed_ns = NP_DEFAULT_CLOSED_SEC * NP_NSEC_PER_SEC,
	.action = XDP_DROP,
};

/*
 * The flow table: one partition of n_slots slots per possible CPU, CPU
 * c's at c * n_slots. Not a per-CPU array, so that the loader can mmap
 * it and read only the slots in use (see bpf/flow.h).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, NP_FLOW_MIN_SLOTS);	/* resized by the loader */
	__type(key, __u32);
	__type(value, struct np_flow);
} np_flows SEC(".maps");

/*
 * One 64-bit word per bucket of np_flows (stash included), in the same
 * per-CPU partitions, bucket_mask + 2 words each: byte i is 0 while slot
 * i is free, else 0x80 | 7 bits of its key's hash. The hit path compares
 * a bucket's eight tags at once and reads only the slots whose tag is
 * the key's: a new flow costs two loads, not sixteen slot compares.
 * Only the program uses it, and only this CPU writes its partition,
 * always together with the slot.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);	/* tests empty it */
	__uint(max_entries, NP_FLOW_MIN_BUCKETS + 1);	/* resized */
	__type(key, __u32);
	__type(value, __u64);
} np_tags SEC(".maps");

#define BYTES_01	0x0101010101010101ull
#define BYTES_80	0x8080808080808080ull

static __always_inline __u64 flow_tag(__u64 h)
{
	return 0x80 | ((h >> 16) & 0x7f);
}

/*
 * The high bit of each byte of x that is zero; exact for the lowest
 * such byte, perhaps also set above it (a borrow): callers check.
 */
static __always_inline __u64 zero_bytes(__u64 x)
{
	return (x - BYTES_01) & ~x & BYTES_80;
}

/*
 * The byte of the lowest bit of m (bits 8i + 7 only): 1 << 8i times
 * bytes 7..0 puts 7 - i in the top byte. BPF has no count-trailing-zeros.
 */
static __always_inline __u32 byte_index(__u64 m)
{
	return 7 - (__u32)((((m & -m) >> 7) * 0x0706050403020100ull) >> 56);
}

/* Slots in use in a bucket of these tags (they fill in order). */
static __always_inline __u32 tags_used(__u64 tags)
{
	__u64 z = zero_bytes(tags);

	return z ? byte_index(z) : NP_FLOW_BUCKET;
}

/*
 * The last plain frame (parse_plain()) that the hit path counted into a
 * direction, by the bytes its count depends on: both MACs, both
 * addresses, both ports. A frame equal to it in all of them, on the same
 * interface and under the same monitored ports, is of the same flow and
 * direction, finds its server-side MAC in the same bucket, and would
 * write the MACs, interface, encapsulation and VLAN set that the last
 * frame left: it needs no port test, key compare or MAC search, and
 * writes only what changes frame by frame (memo_hit()).
 * Each counted frame the memo does not describe replaces or clears its
 * direction's (memo_note()); the slow path clears both, since it may
 * give any slot to another flow; and the slot's in_use guards against a
 * table emptied from outside.
 */
struct np_memo {
	__u64 eth;		/* destination MAC, source MAC's first 2 bytes */
	__u32 eth2;		/* the source MAC's last 4 */
	__u32 ports;		/* as in the frame */
	__u64 addrs;		/* IPv4 source then destination, as in the frame */
	__u32 slot;		/* plus one; 0: empty */
	__u32 ifindex;
	__u32 port_gen;		/* np_config.port_gen when it was made */
	__u32 mac;		/* index of the server-side MAC's bucket */
};

/*
 * A CPU's outcome counters and its scratch, in one per-CPU value: one
 * lookup a frame, not two (the second cost 0.8 ns a frame live, make
 * bench, same run). The loader reads the counters, the value's first
 * NP_STAT_MAX words, and nothing else. The scratch is here because the
 * stack has no room for it beside the hit path's registers and
 * count_tcp()'s frame.
 */
struct np_cpu {
	__u64 c[NP_STAT_MAX];	/* by enum np_stat */
	struct np_pkt p;	/* the frame in hand */
	__u64 hash;		/* for count_tcp(): see flow_hit() */
	__u32 used;
	/*
	 * The slot of this CPU's last hit, plus one (0: none yet): a
	 * mirror delivers a flow's segments in bursts, and the slot's own
	 * key tells whether it still holds the frame's flow, so this is a
	 * guess that is checked, never trusted. Only this CPU writes its
	 * scratch, always with a slot of its own partition.
	 */
	__u32 last;
	struct np_memo memo[2];	/* by direction (NP_DIR_*) */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct np_cpu);
} np_stats SEC(".maps");

/* Written only when ARP/ND shows a MAC with a new IP: rare, so shared. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct np_neigh_key);
	__type(value, struct np_neigh);
} np_neigh SEC(".maps");

/*
 * Which end is the server, for connections with both ports monitored.
 * Keyed by the connection in canonical order (struct np_flow_key's layout
 * with the lower end in the server fields).
 */
struct np_orient {
	__u8	server_is_lo;
	__u8	pad[7];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct np_flow_key);
	__type(value, struct np_orient);
} np_orient SEC(".maps");

/* Maps only the loader writes; declared here so one object defines them. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct np_meta);
} np_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct np_neigh_key);
	__type(value, struct np_name);
} np_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct np_retired_key);
	__type(value, struct np_retired);
} np_retired SEC(".maps");

/* Written by the loader only, for the queries (see nbdpath.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct np_current_key);
	__type(value, struct np_current);
} np_current SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);		/* set by the loader */
	__type(key, __u32);
	__type(value, struct np_finished_rec);
} np_finished SEC(".maps");

static __always_inline bool port_watched(__be16 port)
{
	__u16 p = bpf_ntohs(port);

	return cfg.port_bits[p >> 6] & (1ull << (p & 63));
}

/*
 * The live clock. A helper call costs more than the rest of a hit does
 * under retpolines, so the hit path reads no clock: a BPF timer writes
 * bpf_ktime_get_coarse_ns() (the clock the NP clock has always been)
 * into cfg.clock_ns every NP_TICK_NS, and frames read that. The first
 * frame that creates a flow (or teaches a neighbour) with the clock still
 * zero starts the timer; a hit always follows a flow's creation, so the
 * hit path does not even test for it.
 * Replay and the tests write cfg.clock_ns themselves and never let it be
 * zero, so the timer never starts there.
 */
struct np_tick {
	struct bpf_timer t;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct np_tick);
} np_tick SEC(".maps");

#define CLOCK_MONOTONIC	1

static int tick(void *map, __u32 *key, struct np_tick *v)
{
	(void)map;
	(void)key;
	cfg.clock_ns = bpf_ktime_get_coarse_ns();
	bpf_timer_start(&v->t, NP_TICK_NS, 0);
	return 0;
}

/* A global function: once per load, off every hot path. */
__noinline int np_clock_start(void)
{
	struct np_tick *v;
	__u32 zero = 0;

	cfg.clock_ns = bpf_ktime_get_coarse_ns();
	v = bpf_map_lookup_elem(&np_tick, &zero);
	if (!v)
		return 0;
	/* -EBUSY: another CPU started it first */
	if (bpf_timer_init(&v->t, &np_tick, CLOCK_MONOTONIC))
		return 0;
	bpf_timer_set_callback(&v->t, tick);
	bpf_timer_start(&v->t, NP_TICK_NS, 0);
	return 0;
}

/* The time, on a path that may start the clock (not the hit path). */
static __always_inline __u64 np_now(void)
{
	if (!cfg.clock_ns)
		np_clock_start();
	return cfg.clock_ns;
}

static __always_inline bool ip_eq(const __u8 *a, const __u8 *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

/*
 * family: NP_NEIGH_IPV4 or NP_NEIGH_IPV6, one owner of each per MAC.
 * request: from an ordinary ARP request (see struct np_neigh).
 */
static __always_inline void learn_neigh(const __u8 *mac, const __u8 *ip,
					__u8 family, __u8 request)
{
	struct np_neigh_key k = {};
	struct np_neigh *old, n = {};

	__builtin_memcpy(k.mac, mac, 6);
	k.family = family;
	old = bpf_map_lookup_elem(&np_neigh, &k);
	if (old && ((request && !old->from_request) ||
		    (ip_eq(old->ip, ip) && old->from_request == request)))
		return;
	__builtin_memcpy(n.ip, ip, 16);
	n.seen_ns = np_now();
	n.from_request = request;
	bpf_map_update_elem(&np_neigh, &k, &n, BPF_ANY);
}

/*
 * ARP for IPv4 over Ethernet: the sender owns its sender address. A
 * reply or an announcement (a request for the sender's own address)
 * says so firmly; an ordinary request only until one of those comes.
 */
static __always_inline bool parse_arp(struct cursor *c)
{
	__u8 *a = c->pos, ip[16], request = 0;

	/* htype(2) ptype(2) hlen plen op(2) sha(6) spa(4) tha(6) tpa(4) */
	if ((void *)(a + 18) > c->end)
		return false;
	if (a[0] != 0 || a[1] != 1 || a[2] != 0x08 || a[3] != 0x00 ||
	    a[4] != 6 || a[5] != 4 || a[6] != 0)
		return false;
	if (a[7] == 1) {
		/* which kind of request it is lies in the target address */
		if ((void *)(a + 28) > c->end)
			return false;
		request = *(__u32 *)(a + 14) != *(__u32 *)(a + 24);
	} else if (a[7] != 2) {
		return false;
	}
	if (!(a[14] | a[15] | a[16] | a[17]))
		return false;		/* probe: 0.0.0.0 owns nothing */
	map_ipv4(ip, *(__be32 *)(a + 14));
	learn_neigh(a + 8, ip, NP_NEIGH_IPV4, request);
	return true;
}

/*
 * Neighbour advertisement: the target address belongs to the MAC in the
 * target link-layer option, or (without the option, on a solicited
 * answer) to the frame's source.
 */
static __always_inline bool parse_nd(struct cursor *c, const struct np_hdrs *h)
{
	__u8 *icmp = c->pos;
	const __u8 *mac = h->eth + 6;

	/* type code csum(2) flags(4) target(16) [opt type len mac(6)] */
	if ((void *)(icmp + 24) > c->end || icmp[0] != 136 || icmp[1] != 0)
		return false;
	/* a link-local target (fe80::/10) is no address to point a backup
	 * appliance at, and would replace the global one a vmk announced
	 */
	if (icmp[8] == 0xfe && (icmp[9] & 0xc0) == 0x80)
		return false;
	if ((void *)(icmp + 32) <= c->end && icmp[24] == 2 && icmp[25] == 1)
		mac = icmp + 26;
	learn_neigh(mac, icmp + 8, NP_NEIGH_IPV6, 0);
	return true;
}

static __always_inline void add_vlans(struct np_dir *d, const struct np_pkt *p)
{
	int i, j;

	if (!p->n_vlans) {
		d->flags |= NP_DIRF_UNTAGGED;
		return;
	}
#pragma unroll
	for (i = 0; i < NP_MAX_VLAN_TAGS; i++) {
		bool seen = false;

		if (i >= p->n_vlans)
			break;
#pragma unroll
		for (j = 0; j < NP_DIR_VLANS; j++)
			if (j < d->n_vlans && d->vlans[j] == p->vlans[i])
				seen = true;
		if (seen)
			continue;
		if (d->n_vlans < NP_DIR_VLANS)
			d->vlans[d->n_vlans++ & (NP_DIR_VLANS - 1)] = p->vlans[i];
		else
			d->flags |= NP_DIRF_VLANS_OVERFLOW;
	}
}

static __always_inline void add_session(struct np_dir *d, __u16 s)
{
	int j;

#pragma unroll
	for (j = 0; j < NP_DIR_SESSIONS; j++)
		if (j < d->n_sessions && d->sessions[j] == s)
			return;
	if (d->n_sessions < NP_DIR_SESSIONS)
		d->sessions[d->n_sessions++ & (NP_DIR_SESSIONS - 1)] = s;
	else
		d->flags |= NP_DIRF_SESS_OVERFLOW;
}

/*
 * Both MACs are followed by two more readable bytes (a bucket's pad; the
 * next MAC or the EtherType of the frame; np_pkt's next field): one
 * 8-byte load each, the two bytes past the MAC shifted out (little-endian).
 */
static __always_inline bool mac_eq(const __u8 *a, const __u8 *b)
{
	return !((*(const __u64 *)a ^ *(const __u64 *)b) << 16);
}

static __always_inline void mac_add(struct np_mac_count *m, __u32 bytes)
{
	m->packets++;
	m->bytes += bytes;
}

/*
 * The per-MAC bucket of this frame's server-side MAC, added if new.
 * Returns its index, NP_DIR_MACS when the set is full without it.
 */
static __always_inline __u32 count_mac(struct np_dir *d, const __u8 *mac,
				       __u32 bytes)
{
	struct np_mac_count *m;
	int i;

#pragma unroll
	for (i = 0; i < NP_DIR_MACS; i++) {
		m = &d->macs[i];
		if (i == d->n_macs) {
			__builtin_memcpy(m->mac, mac, 6);
			d->n_macs = i + 1;
			goto hit;
		}
		if (mac_eq(m->mac, mac))
			goto hit;
	}
	d->flags |= NP_DIRF_MACS_OVERFLOW;
	d->other_packets++;
	d->other_bytes += bytes;
	return NP_DIR_MACS;
hit:
	mac_add(m, bytes);
	return i;
}

/*
 * TCP health of one segment (nbdpath(8), TCP HEALTH). Sequence numbers
 * compare by their signed 32-bit difference, so wrap-around at 2^32 is
 * just another step; SYN and FIN take one sequence number each. A
 * segment that starts below the highest end seen carries sequence space
 * already seen: a retransmission, unless it lies in the gap that the
 * last out-of-order segment left (its filling), or is a keep-alive (one
 * byte just below the highest end, as tshark takes it). Segments that
 * take no sequence space (pure ACKs, window updates, zero-length
 * keep-alives) never count. The first segment seen, mid-flow or not,
 * only starts the state. One gap is tracked: from the first unfilled
 * byte to the start of the latest out-of-order segment, so data seen
 * between two gaps and sent again is not counted either.
 */
static __always_inline void count_health(struct np_dir *d,
					 const struct np_seg *s,
					 const __u8 *smac, int dir, __u64 now)
{
	__u8 fl = s->flags;
	__u32 seq = s->seq, len, end;

	/* the common segment, first and alone: the next in order (or a
	 * pure ACK at the highest end), window open, no SYN, RST or FIN,
	 * state started. Only the client's first ACK may remain to note.
	 * Everything below gives it the same outcome.
	 */
	if (__builtin_expect(s->has_seq && seq == d->next_seq &&
			     !(fl & (NP_TCPF_SYN | NP_TCPF_RST | NP_TCPF_FIN)) &&
			     s->window && d->seq_valid, 1)) {
		d->next_seq = seq + s->payload;
		if (dir == NP_DIR_TO_SERVER && (fl & NP_TCPF_ACK) &&
		    !d->ack_ns)
			d->ack_ns = now;
		return;
	}
	if (fl & NP_TCPF_RST) {
		d->resets++;
		return;
	}
	if (fl & NP_TCPF_SYN) {
		/* the leg this direction opens: SYN in, SYN-ACK out */
		if ((dir == NP_DIR_TO_SERVER) == !(fl & NP_TCPF_ACK)) {
			if (!d->syn_ns) {
				d->syn_ns = now;
				__builtin_memcpy(d->syn_mac, smac, 6);
			} else {
				d->syn_retries++;
			}
		}
	} else if (dir == NP_DIR_TO_SERVER && (fl & NP_TCPF_ACK) &&
		   !d->ack_ns) {
		d->ack_ns = now;
	}
	if (!s->has_seq)
		return;
	if (!s->window)
		d->zero_windows++;
	len = s->payload + !!(fl & NP_TCPF_SYN) + !!(fl & NP_TCPF_FIN);
	end = seq + len;
	if (!d->seq_valid) {
		d->next_seq = end;
		d->hole_lo = end;
		d->hole_hi = end;
		d->seq_valid = 1;
		return;
	}
	if (!len)
		return;
	if ((__s32)(seq - d->next_seq) >= 0) {
		if (seq != d->next_seq) {
			d->out_of_order++;
			if (d->hole_lo == d->hole_hi)
				d->hole_lo = d->next_seq;
			d->hole_hi = seq;
		}
		d->next_seq = end;
		return;
	}
	if (d->hole_lo != d->hole_hi && (__s32)(seq - d->hole_lo) >= 0 &&
	    (__s32)(end - d->hole_hi) <= 0) {
		/* the gap's filling, from either of its ends or within */
		if (seq == d->hole_lo)
			d->hole_lo = end;
		else if (end == d->hole_hi)
			d->hole_hi = seq;
		if ((__s32)(d->hole_hi - d->hole_lo) <= 0)
			d->hole_lo = d->hole_hi;
		return;
	}
	if (len == 1 && s->payload == 1 && end == d->next_seq &&
	    !(fl & (NP_TCPF_SYN | NP_TCPF_FIN)))
		return;			/* keep-alive with one byte */
	d->retransmits++;
	d->retransmit_bytes += s->payload;
	if ((__s32)(end - d->next_seq) > 0)
		d->next_seq = end;
}

/*
 * What every counted frame adds to its direction, whatever it found
 * there: its payload, flags, time and TCP health. smac: its server-side
 * MAC, in the packet.
 */
static __always_inline void count_seg(struct np_dir *d, const struct np_seg *s,
				      const __u8 *smac, int dir, __u64 now)
{
	__u64 last = d->last_ns;

	d->payload_bytes += s->payload;
	d->tcp_flags |= s->flags;
	/*
	 * first_ns and last_ns are the min and max of the frames' times
	 * (a capture merged from several may step back); both are 0 until
	 * the direction's first frame, and the clock is never 0. Most
	 * frames come in the tick of the one before: nothing to write.
	 */
	if (now != last) {
		if (now > last) {
			d->last_ns = now;
			if (!last)
				d->first_ns = now;
		} else if (now < d->first_ns) {
			d->first_ns = now;
		}
	}
	count_health(d, s, smac, dir, now);
}

/*
 * Count the frame into its direction. eth: the frame's destination then
 * source MAC, in the packet (the hit path) or in p->dmac and p->smac,
 * which follow each other likewise. Returns the index of its server-side
 * MAC's bucket, NP_DIR_MACS if none.
 */
static __always_inline __u32 count_dir(struct np_dir *d, const struct np_pkt *p,
				       const __u8 *eth, int dir, __u64 now)
{
	const __u8 *smac = dir == NP_DIR_TO_SERVER ? eth : eth + 6;
	__u32 mac = count_mac(d, smac, p->ip_len);

	if (p->ipf & NP_IPF_ESTIMATED)
		d->flags |= NP_DIRF_PAYLOAD_ESTIMATED;
	/* both MACs at once (dst_mac is 8-aligned, src_mac follows it):
	 * memcpy() of a __u8 array would go byte by byte
	 */
	*(__u64 *)d->dst_mac = *(const __u64 *)eth;
	*(__u32 *)(d->dst_mac + 8) = *(const __u32 *)(eth + 8);
	d->ifindex = p->ifindex;
	d->encap |= 1 << p->encap;
	/* sets are written only when they change: compare first */
	if (p->n_vlans || !(d->flags & NP_DIRF_UNTAGGED))
		add_vlans(d, p);
	if (p->has_session)
		add_session(d, p->session);
	count_seg(d, &p->seg, smac, dir, now);
	return mac;
}

/* Slot i of bucket (NP_FLOW_BUCKET slots each) of the partition at base. */
static __always_inline struct np_flow *slot_at(__u32 base, __u32 bucket,
					       __u32 i)
{
	__u32 idx = base + bucket * NP_FLOW_BUCKET + i;

	return bpf_map_lookup_elem(&np_flows, &idx);
}

/* This CPU's partition; the verifier inlines the helper into a load. */
static __always_inline __u32 cpu_base(void)
{
	return bpf_get_smp_processor_id() * n_slots;
}

/* ...and its partition of np_tags */
static __always_inline __u32 tags_base(void)
{
	return bpf_get_smp_processor_id() * (bucket_mask + 2);
}

/* Slot i of bucket now holds a key of tag (nonzero), or is free (0). */
static __always_inline void set_tag(__u32 bucket, __u32 i, __u64 tag)
{
	__u32 ti = tags_base() + bucket;
	__u64 *t = bpf_map_lookup_elem(&np_tags, &ti);

	if (t)
		*t = (*t & ~(0xffull << (8 * i))) | tag << (8 * i);
}

/* What a search of one bucket found besides the key: indexes in it. */
struct probe {
	__u32 used;			/* slots in use before the free one */
	__u32 old;			/* a reclaimable slot, or NP_FLOW_BUCKET */
};

static __always_inline struct np_flow *claim(struct np_flow *f,
					     const struct np_flow_key *k,
					     struct np_pkt *p)
{
	if (f->in_use)
		p->reclaimed = 1;
	__builtin_memset(f, 0, sizeof(*f));
	f->key = *k;
	f->in_use = 1;
	return f;
}

static __always_inline struct np_flow *
probe_bucket(__u32 base, __u32 bucket, const struct np_flow_key *k,
	     __u64 now, struct probe *pr, struct np_pkt *p)
{
	struct np_flow *f;
	__u32 i;

	pr->used = NP_FLOW_BUCKET;
	pr->old = NP_FLOW_BUCKET;
	for (i = 0; i < NP_FLOW_BUCKET; i++) {
		f = slot_at(base, bucket, i);
		if (!f)
			break;
		if (!f->in_use) {
			/* used slots come first: the key is not further on */
			pr->used = i;
			break;
		}
		if (key_eq(&f->key, k)) {
			/* the same 4-tuple again after its flow is over
			 * (reused by a new connection): a new flow in the
			 * same slot, never counted into the finished one
			 */
			if (flow_reclaimable(f, now, cfg.idle_ns,
					     cfg.closed_ns))
				return claim(f, k, p);
			return f;
		}
		if (pr->old == NP_FLOW_BUCKET &&
		    flow_reclaimable(f, now, cfg.idle_ns, cfg.closed_ns))
			pr->old = i;
	}
	return NULL;
}

/* What the hit path learnt of a key it did not find (see flow_hit()). */
#define NP_SEARCHED	0x10000		/* it searched both buckets... */
#define USED_A(u)	((u) & 0xff)	/* ...a's first free slot (or 8) */
#define USED_B(u)	(((u) >> 8) & 0xff)

/* The index of a reclaimable slot of bucket, or NP_FLOW_BUCKET. */
static __always_inline __u32 reclaimable_in(__u32 base, __u32 bucket,
					    __u64 now)
{
	struct np_flow *f;
	__u32 i;

	for (i = 0; i < NP_FLOW_BUCKET; i++) {
		f = slot_at(base, bucket, i);
		if (!f || !f->in_use)
			break;
		if (flow_reclaimable(f, now, cfg.idle_ns, cfg.closed_ns))
			return i;
	}
	return NP_FLOW_BUCKET;
}

/* Claim slot i of bucket for k: its tag too. */
static __always_inline struct np_flow *claim_at(__u32 base, __u32 bucket,
						__u32 i,
						const struct np_flow_key *k,
						__u64 h, struct np_pkt *p)
{
	struct np_flow *f = slot_at(base, bucket, i);

	if (!f)
		return NULL;
	set_tag(bucket, i, flow_tag(h));
	return claim(f, k, p);
}

/*
 * Find the flow's slot on this CPU, or claim one: a free slot of the
 * emptier of its two buckets; else (both full) a reclaimable slot of
 * either, then a free one of the stash, then a reclaimable one of the
 * stash. NULL when all three are full of live flows. The stash is
 * searched only when both buckets are full: a key goes there only then,
 * and slots are never emptied. used: what the hit path found (then the
 * buckets are not searched again), or 0.
 */
#define NP_CREATE	0x20000		/* flow_get(): claim a slot if absent */
/* count_tcp(): the hit path was not tried, no hash computed (see
 * parse_level())
 */
#define NP_NOHASH	0x40000

static __always_inline struct np_flow *flow_get(const struct np_flow_key *k,
					   __u64 h, struct np_pkt *p,
					   __u32 used)
{
	__u32 mask = bucket_mask, a = flow_bucket_a(h, mask);
	bool create = used & NP_CREATE;
	__u32 base = cpu_base();
	__u64 now = cfg.clock_ns;
	__u32 b = flow_bucket_b(h, a, mask), ua, ub, i;
	struct probe pa = {}, ps = {};
	struct np_flow *f;

	if (used & NP_SEARCHED) {
		ua = USED_A(used);
		ub = USED_B(used);
	} else {
		f = probe_bucket(base, a, k, now, &pa, p);
		if (f)
			return f;
		ua = pa.used;
		f = probe_bucket(base, b, k, now, &pa, p);
		if (f)
			return f;
		ub = pa.used;
	}
	if (ua < NP_FLOW_BUCKET || ub < NP_FLOW_BUCKET) {
		if (!create)
			return NULL;
		if (ub < ua)
			return claim_at(base, b, ub, k, h, p);
		return claim_at(base, a, ua, k, h, p);
	}
	f = probe_bucket(base, mask + 1, k, now, &ps, p);
	if (f || !create)
		return f;
	i = reclaimable_in(base, a, now);
	if (i < NP_FLOW_BUCKET)
		return claim_at(base, a, i, k, h, p);
	i = reclaimable_in(base, b, now);
	if (i < NP_FLOW_BUCKET)
		return claim_at(base, b, i, k, h, p);
	if (ps.used < NP_FLOW_BUCKET)
		return claim_at(base, mask + 1, ps.used, k, h, p);
	if (ps.old < NP_FLOW_BUCKET)
		return claim_at(base, mask + 1, ps.old, k, h, p);
	p->table_full = 1;
	return NULL;
}

static __always_inline void make_key(struct np_flow_key *k,
				     const struct np_pkt *p, bool to_server)
{
	if (to_server) {
		__builtin_memcpy(k->server_ip, p->daddr, 16);
		__builtin_memcpy(k->client_ip, p->saddr, 16);
		k->server_port = p->dport;
		k->client_port = p->sport;
	} else {
		__builtin_memcpy(k->server_ip, p->saddr, 16);
		__builtin_memcpy(k->client_ip, p->daddr, 16);
		k->server_port = p->sport;
		k->client_port = p->dport;
	}
	k->v6 = p->v6;
}

/*
 * A connection whose two ports are both monitored, new to this CPU: which
 * end is the server? Each CPU keeps its own table, and the CPU that sees
 * the reply first must not decide on its own, so the first packet of the
 * connection on any CPU records the answer here (BPF_NOEXIST: one writer
 * wins) and the others follow it. Only this rare case touches the map.
 */
static __always_inline int addr_cmp(const __u8 *a, const __u8 *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	if (x[1] != y[1])
		return x[1] < y[1] ? -1 : 1;
	return 0;
}

static __always_inline bool dst_is_server(const struct np_pkt *p,
					  struct np_flow_key *c)
{
	struct np_orient v = {}, *o;
	int lo;

	/* canonical order: the lower (address, port) end first; any
	 * order will do as long as every CPU computes the same one
	 */
	lo = addr_cmp(p->saddr, p->daddr);
	if (!lo)
		lo = bpf_ntohs(p->sport) < bpf_ntohs(p->dport) ? -1 : 1;
	/* c is the caller's key, used as scratch: it rebuilds it */
	make_key(c, p, lo > 0);
	v.server_is_lo = lo > 0;	/* this packet's destination */
	if (!bpf_map_update_elem(&np_orient, c, &v, BPF_NOEXIST))
		return true;
	o = bpf_map_lookup_elem(&np_orient, c);
	if (!o)
		return true;		/* evicted meanwhile: ours then */
	return o->server_is_lo == (lo > 0);
}

/*
 * The frame is ours and the hit path did not find its flow: a new flow,
 * one in the stash, or the reply of a connection with both ports
 * monitored. h: the hash the hit path computed of the key in p's
 * to_server orientation (the destination the server when both ports are
 * monitored). A global function: the verifier checks it once, not once
 * per path through the parser.
 */
__noinline int count_tcp(struct np_cpu *pc)
{
	struct np_pkt *p = &pc->p;
	bool to_srv, from_srv;
	struct np_flow_key k;
	struct np_flow *f;
	__u32 used;
	__u64 now, h;
	int dir;

	if (!pc)
		return NP_STAT_MALFORMED;
	/* any slot may change hands below, and the frame is no memo's */
	pc->memo[NP_DIR_TO_SERVER].slot = 0;
	pc->memo[NP_DIR_FROM_SERVER].slot = 0;
	h = pc->hash;
	used = pc->used;
	to_srv = p->to_server;
	from_srv = p->from_server;
	/* the clock starts with the first flow: a hit only follows one */
	now = np_now();
	make_key(&k, p, to_srv);
	if (used & NP_NOHASH) {
		h = flow_hash(&k, &cfg.hkey);
		used = 0;
	}
	dir = to_srv ? NP_DIR_TO_SERVER : NP_DIR_FROM_SERVER;
	if (to_srv && from_srv) {
		/* Both ports monitored: the destination of the first
		 * packet seen is the server. Try this packet as a reply
		 * before creating a flow in its direction. One key on the
		 * stack, rebuilt as needed: the stack has no room for two.
		 */
		f = flow_get(&k, h, p, used);
		if (!f) {
			__u64 hr;

			make_key(&k, p, false);
			hr = flow_hash(&k, &cfg.hkey);
			f = flow_get(&k, hr, p, 0);
			if (f) {
				dir = NP_DIR_FROM_SERVER;
			} else if (dst_is_server(p, &k)) {
				make_key(&k, p, true);
			} else {
				make_key(&k, p, false);
				h = hr;
				used = 0;
				dir = NP_DIR_FROM_SERVER;
			}
		}
		if (!f)
			f = flow_get(&k, h, p, used | NP_CREATE);
	} else {
		f = flow_get(&k, h, p, used | NP_CREATE);
	}
	if (f)
		count_dir(&f->dir[dir], p, p->dmac, dir, now);
	return NP_STAT_MATCHED;
}

/* The frame is ours: copy what the flow update needs out of the packet. */
static __always_inline void copy_addrs(struct np_pkt *p, const struct np_hdrs *h)
{
	__builtin_memcpy(p->dmac, h->eth, 6);
	__builtin_memcpy(p->smac, h->eth + 6, 6);
	p->v6 = h->v6;
	if (h->v6) {
		__builtin_memcpy(p->saddr, h->addrs, 16);
		__builtin_memcpy(p->daddr, h->addrs + 16, 16);
	} else {
		map_ipv4(p->saddr, *(__be32 *)h->addrs);
		map_ipv4(p->daddr, *(__be32 *)(h->addrs + 4));
	}
}

/*
 * The flow a frame hit is over by the reclaim rule: it is not the frame's,
 * and the slow path reclaims it. The age of the direction's last frame is
 * held against the two limits first (a direction never seen has 0, and
 * takes the full test).
 */
static __always_inline bool hit_over(const struct np_flow *f,
				     const struct np_dir *d, __u64 now)
{
	__u64 age = now - d->last_ns;

	return (age >= cfg.closed_ns || age >= cfg.idle_ns) &&
	       flow_reclaimable(f, now, cfg.idle_ns, cfg.closed_ns);
}

/*
 * Count the frame into direction d of the flow it hit, unless that is
 * over (-1). Returns count_dir()'s MAC bucket.
 */
static __always_inline int hit_dir(const struct np_flow *f, struct np_dir *d,
				   const struct np_pkt *p, const __u8 *eth,
				   const int dir, __u64 now)
{
	if (hit_over(f, d, now))
		return -1;
	return count_dir(d, p, eth, dir, now);
}

/* The slot holds the key of these words (ports and client first). */
static __always_inline bool flow_is(const struct np_flow *f, __u64 q0,
				    __u64 q1, __u64 q2, __u64 q3, __u64 q4)
{
	const __u64 *w = (const __u64 *)&f->key;

	return w[4] == q4 && w[3] == q3 && w[1] == q1 && w[2] == q2 &&
	       w[0] == q0;
}

/*
 * The hit path, inline: no helper call (the time comes from the timer,
 * the CPU from an inlined load) and no BPF-to-BPF call. The key is
 * hashed from the packet's own words in the to_server orientation,
 * without building it, and compared word by word with the slots of the
 * key's two buckets. Returns the hit's MAC bucket (see count_dir()),
 * or -1: not counted, pc->hash set for count_tcp(). th: the TCP header,
 * whose first word is the ports.
 */
static __always_inline int flow_hit(struct np_cpu *pc, const struct np_hdrs *h,
				     const __u8 *th)
{
	struct np_pkt *p = &pc->p;
	__u32 raw = *(const __u32 *)th, ports, mask = bucket_mask, base;
	__u32 a, b, i, idx, srv = 0, cli = 0, cpu, ti;
	__u32 used = 0;
	__u64 tag, now;
	__u64 q0, q1, q2, q3, q4, x;
	bool to_srv = p->to_server;
	struct np_flow *f = NULL;
	int mac;

	/* the last hit's slot first: no hash, and no partition either
	 * (a free slot's key is zero, which no frame's is). Looked up
	 * before the key's words are made, so that none of them lives
	 * across the lookup, which the compiler takes for a call.
	 */
	idx = pc->last - 1;
	if (pc->last)
		f = bpf_map_lookup_elem(&np_flows, &idx);
	/* the key's word 8: server port, then client port */
	ports = to_srv ? (raw >> 16 | raw << 16) : raw;
	q4 = ports;
	if (!h->v6) {
		__u32 s = *(const __u32 *)h->addrs;
		__u32 d = *(const __u32 *)(h->addrs + 4);

		srv = to_srv ? d : s;
		cli = to_srv ? s : d;
		q0 = 0;
		q1 = NP_V4_MAPPED_W2 | (__u64)srv << 32;
		q2 = 0;
		q3 = NP_V4_MAPPED_W2 | (__u64)cli << 32;
	} else {
		const __u64 *sa = (const __u64 *)(h->addrs + (to_srv ? 16 : 0));
		const __u64 *ca = (const __u64 *)(h->addrs + (to_srv ? 0 : 16));

		q0 = sa[0];
		q1 = sa[1];
		q2 = ca[0];
		q3 = ca[1];
		/* the family: ::ffff:a.b.c.d here is not a.b.c.d's flow */
		q4 |= NP_KEY_V6_W4;
	}
	if (f && flow_is(f, q0, q1, q2, q3, q4))
		goto hit;
	cpu = bpf_get_smp_processor_id();
	base = cpu * n_slots;
	if (!h->v6)
		x = flow_hash_v4(srv, cli, ports, &cfg.hkey);
	else
		x = flow_hash_words(q0, q1, q2, q3, q4, &cfg.hkey);
	pc->hash = x;
	a = flow_bucket_a(x, mask);
	b = flow_bucket_b(x, a, mask);
	ti = cpu * (mask + 2) + a;
	tag = flow_tag(x) * BYTES_01;
	/* the slots of bucket a, then b, whose tag is the key's */
	for (i = 0; i < 2; i++) {
		__u32 bucket = i ? b : a, j, k;
		__u64 *tp, tags, m;

		ti = cpu * (mask + 2) + bucket;
		tp = bpf_map_lookup_elem(&np_tags, &ti);
		if (!tp) {
			pc->used = 0;	/* cannot happen: search again */
			return -1;
		}
		tags = *tp;
		m = zero_bytes(tags ^ tag);
		for (k = 0; k < NP_FLOW_BUCKET && m; k++) {
			j = byte_index(m);
			m &= m - 1;
			idx = base + bucket * NP_FLOW_BUCKET + j;
			f = bpf_map_lookup_elem(&np_flows, &idx);
			if (f && flow_is(f, q0, q1, q2, q3, q4))
				goto found;
		}
		used |= tags_used(tags) << (8 * i);
	}
	/* not in its buckets: new, or in the stash when both are full */
	pc->used = NP_SEARCHED | used;
	return -1;
found:
	pc->last = idx + 1;
hit:
	now = cfg.clock_ns;
	/* the direction a constant: its counters at fixed offsets from f */
	mac = to_srv ? hit_dir(f, &f->dir[NP_DIR_TO_SERVER], p, h->eth,
			       NP_DIR_TO_SERVER, now) :
		       hit_dir(f, &f->dir[NP_DIR_FROM_SERVER], p, h->eth,
			       NP_DIR_FROM_SERVER, now);
	if (mac >= 0)
		return mac;
	/* over: the slow path reclaims it; the last hit's slot was taken
	 * without the hash
	 */
	if (!h->v6)
		pc->hash = flow_hash_v4(srv, cli, ports, &cfg.hkey);
	else
		pc->hash = flow_hash_words(q0, q1, q2, q3, q4, &cfg.hkey);
	pc->used = 0;
	return -1;
}

static __always_inline int cursor_at(struct xdp_md *ctx, struct np_pkt *p,
				     struct cursor *c)
{
	__u32 off = p->off;

	/* bound the offset so the verifier can track pos as packet + var */
	if (off > NP_MAX_OFFSET)
		return -1;
	c->pos = (void *)(long)ctx->data + off;
	c->end = (void *)(long)ctx->data_end;
	return 0;
}

/* The frame's length past its linear part (see frame_len()). */
__noinline int add_frame_len(struct xdp_md *ctx, struct np_pkt *p)
{
	if (!ctx || !p)
		return 0;
	frame_len(ctx, p, cfg.replay_cut);
	return 0;
}

/*
 * The memo's bytes of a plain frame (see struct np_memo) are these. The
 * ports first: they alone tell most other frames apart (another flow,
 * the other direction, a port nobody watches), for one compare.
 */
static __always_inline bool memo_is(const struct np_memo *m, const __u8 *eth)
{
	return *(const __u32 *)(eth + 34) == m->ports &&
	       !((*(const __u64 *)eth ^ m->eth) |
		 (*(const __u32 *)(eth + 8) ^ m->eth2) |
		 (*(const __u64 *)(eth + 26) ^ m->addrs)) &&
	       m->slot && m->port_gen == cfg.port_gen;
}

/*
 * The plain frame at eth, whose TCP header c->pos holds and whose bytes
 * are those of direction dir's memo, counted from it; false: its flow is
 * over, or it came in on another interface, and the hit path takes it.
 * dir a constant, so that nothing of the memo or the direction lives in
 * a register across the count. The segment is a local, held in registers:
 * through pc->p, its fields were stores and loads (0.8 to 1.6 ns a
 * frame live, same runs).
 */
static __always_inline bool memo_count(struct xdp_md *ctx, struct np_cpu *pc,
				       struct cursor *c, const __u8 *eth,
				       const int dir)
{
	struct np_memo *m = &pc->memo[dir];
	__u32 idx = m->slot - 1, ip_len;
	struct np_flow *f;
	struct np_dir *d;
	struct np_seg s;
	__u64 now;

	if (ctx->ingress_ifindex != m->ifindex)
		return false;
	f = bpf_map_lookup_elem(&np_flows, &idx);
	if (!f || !f->in_use)
		return false;
	d = &f->dir[dir];
	now = cfg.clock_ns;
	if (hit_over(f, d, now))
		return false;
	ip_len = plain_ip_len(eth);
	parse_plain_seg(c, ip_len - sizeof(struct iphdr), &s);
	mac_add(&d->macs[m->mac & (NP_DIR_MACS - 1)], ip_len);
	count_seg(d, &s, dir == NP_DIR_TO_SERVER ? eth : eth + 6, dir, now);
	return true;
}

/* The plain frame at h->eth counted from a memo (see memo_count()). */
static __always_inline bool memo_hit(struct xdp_md *ctx, struct np_cpu *pc,
				     struct cursor *c, const struct np_hdrs *h)
{
	if (memo_is(&pc->memo[NP_DIR_FROM_SERVER], h->eth))
		return memo_count(ctx, pc, c, h->eth, NP_DIR_FROM_SERVER);
	if (memo_is(&pc->memo[NP_DIR_TO_SERVER], h->eth))
		return memo_count(ctx, pc, c, h->eth, NP_DIR_TO_SERVER);
	return false;
}

/*
 * The plain frame at eth, just counted by the hit path into direction dir
 * of slot pc->last - 1 with its server-side MAC in bucket mac (see
 * count_dir()), is its direction's memo now; port_gen: read before its
 * ports were tested.
 */
static __always_inline void memo_note(struct np_cpu *pc, const __u8 *eth,
				      int dir, int mac, __u32 port_gen)
{
	struct np_memo *m = &pc->memo[dir & 1];

	if (mac >= NP_DIR_MACS) {
		m->slot = 0;	/* counted past the MAC set: no bucket */
		return;
	}
	m->eth = *(const __u64 *)eth;
	m->eth2 = *(const __u32 *)(eth + 8);
	m->addrs = *(const __u64 *)(eth + 26);
	m->ports = *(const __u32 *)(eth + 34);
	m->slot = pc->last;
	m->ifindex = pc->p.ifindex;
	m->port_gen = port_gen;
	m->mac = mac;
}

/*
 * A TCP segment at c->pos, its ports in p: not ours, counted by the hit
 * path, or left for count_tcp() (NP_LEVEL_SLOW) with pc->hash set. plain:
 * parse_plain() took the frame.
 */
static __always_inline int tcp_segment(struct xdp_md *ctx, struct np_cpu *pc,
				       struct cursor *c,
				       const struct np_hdrs *h,
				       const bool plain)
{
	struct np_pkt *p = &pc->p;
	__u32 port_gen = cfg.port_gen;
	int proto, mac, dir;

	p->to_server = port_watched(p->dport);
	p->from_server = port_watched(p->sport);
	if (!p->to_server && !p->from_server)
		return NP_STAT_OTHER_PORT;
	if (plain) {
		parse_plain_seg(c, p->l4_len, &p->seg);
	} else {
		proto = parse_tcp_rest(c, p);
		if (proto < 0)
			return -proto;
	}
	p->ifindex = ctx->ingress_ifindex;
	/*
	 * A TSO frame's length is the frame's, which takes a helper call:
	 * such frames go to the slow path, which classify() calls after
	 * add_frame_len(). No call on the way to the hit: a call, even one
	 * rarely made, has the compiler keep what lives across it on the
	 * stack.
	 */
	if (p->ipf & NP_IPF_LEN_FROM_FRAME) {
		pc->used = NP_NOHASH;
	} else {
		mac = flow_hit(pc, h, c->pos);
		if (mac >= 0) {
			dir = p->to_server ? NP_DIR_TO_SERVER :
					     NP_DIR_FROM_SERVER;
			if (plain)
				memo_note(pc, h->eth, dir, mac, port_gen);
			else
				pc->memo[dir].slot = 0;
			return NP_STAT_MATCHED;
		}
	}
	copy_addrs(p, h);
	return NP_LEVEL_SLOW;
}

/*
 * The common frame (parse_plain()) as its TCP segment's outcome, or
 * NP_LEVEL_STEPS: any other frame, for classify() to take.
 */
static __always_inline int parse_plain_level(struct xdp_md *ctx,
					     struct np_cpu *pc)
{
	struct np_hdrs h;
	struct cursor c;

	c.pos = (void *)(long)ctx->data;
	c.end = (void *)(long)ctx->data_end;
	if (!parse_plain(&c, &h))
		return NP_LEVEL_STEPS;
	if (memo_hit(ctx, pc, &c, &h))
		return NP_STAT_MATCHED;
	parse_plain_pkt(&c, &h, &pc->p);
	return tcp_segment(ctx, pc, &c, &h, true);
}

/*
 * One level of the frame: Ethernet, IP, then TCP (see tcp_segment()) or
 * GRE (left for parse_encap()). jumbo: with the IPv6 jumbogram step,
 * else NP_LEVEL_JUMBO sends the level to parse_jumbo().
 */
static __always_inline int parse_level(struct xdp_md *ctx, struct np_cpu *pc,
				       const bool jumbo)
{
	struct np_pkt *p = &pc->p;
	struct np_hdrs h;
	struct cursor c;
	int proto;

	if (!p || cursor_at(ctx, p, &c))
		return NP_STAT_UNSUPPORTED;	/* deeper than NP_MAX_OFFSET */
	proto = parse_eth(&c, p, &h);
	if (proto < 0)
		return -proto;
	if (proto == ETH_P_IP) {
		proto = parse_ipv4(&c, p, &h);
	} else if (proto == ETH_P_IPV6) {
		proto = parse_ipv6(&c, p, &h, jumbo);
	} else {
		if (proto == ETH_P_ARP && parse_arp(&c))
			p->neigh = 1;
		return NP_STAT_NOT_IP;
	}
	if (proto < 0)
		return -proto;
	if (proto == IPPROTO_TCP) {
		proto = parse_tcp(&c, p);
		if (proto < 0)
			return -proto;
		return tcp_segment(ctx, pc, &c, &h, false);
	}
	if (proto == IPPROTO_ICMPV6 && parse_nd(&c, &h))
		p->neigh = 1;
	if (proto != IPPROTO_GRE)
		return NP_STAT_NOT_TCP;
	p->off = c.pos - (void *)(long)ctx->data;
	return NP_LEVEL_GRE;
}

/* A level holding an IPv6 jumbogram, again from p->off. */
__noinline int parse_jumbo(struct xdp_md *ctx, struct np_cpu *pc)
{
	if (!ctx || !pc)
		return NP_STAT_UNSUPPORTED;
	return parse_level(ctx, pc, true);
}

/*
 * The encapsulated frame: GRE and ERSPAN headers, then the inner frame by
 * the same steps as the outer one. A global function, so the verifier
 * checks it once rather than once per path through the outer frame; the
 * outer level stays inline because a call costs as much as the parse.
 */
__noinline int parse_encap(struct xdp_md *ctx, struct np_cpu *pc)
{
	struct np_pkt *p = &pc->p;
	struct cursor c;
	int proto;

	if (!pc || cursor_at(ctx, p, &c))
		return NP_STAT_UNSUPPORTED;	/* deeper than NP_MAX_OFFSET */
	proto = parse_gre(&c, p);
	if (proto < 0)
		return -proto;
	p->off = c.pos - (void *)(long)ctx->data;
	proto = parse_level(ctx, pc, false);
	/* one level of encapsulation; GRE inside GRE is not ours */
	return proto == NP_LEVEL_GRE ? NP_STAT_UNSUPPORTED : proto;
}

/* Returns the outcome of the frame. */
static __always_inline int classify(struct xdp_md *ctx, struct np_cpu *pc)
{
	int out = parse_level(ctx, pc, false);

	/* parse_jumbo() is called from here, not from parse_encap(): the
	 * verifier bounds the stack of a chain of calls
	 */
	if (out == NP_LEVEL_JUMBO)
		out = parse_jumbo(ctx, pc);
	if (out == NP_LEVEL_GRE) {
		out = parse_encap(ctx, pc);
		if (out == NP_LEVEL_JUMBO)
			out = parse_jumbo(ctx, pc);
		if (out == NP_LEVEL_GRE)
			out = NP_STAT_UNSUPPORTED;
	}
	if (out != NP_LEVEL_SLOW)
		return out;
	if (pc->p.ipf & NP_IPF_LEN_FROM_FRAME)
		add_frame_len(ctx, &pc->p);
	return count_tcp(pc);
}

/* the outcome indexes the counters masked with 0xf: every one fits */
_Static_assert(NP_STAT_MAX == 16, "outcomes masked with 0xf");

/* Classify one frame and count its outcome; returns the XDP action. */
static __always_inline int np_frame(struct xdp_md *ctx)
{
	struct np_pkt *pp;
	struct np_cpu *pc;
	__u32 zero = 0;
	int out;

	pc = bpf_map_lookup_elem(&np_stats, &zero);
	if (!pc)
		return cfg.action;	/* cannot happen: a 1-entry array */
	pp = &pc->p;
	*(__u64 *)pp = 0;	/* the flags */
	pp->off = 0;
	/*
	 * The common frame first, on its own path to the exit: inside
	 * classify(), behind the tests of the other levels' results, its
	 * hit took 3 ns more (make bench, same run)
	 */
	out = parse_plain_level(ctx, pc);
	if (out == NP_LEVEL_STEPS)
		out = classify(ctx, pc);
	else if (out == NP_LEVEL_SLOW)
		out = count_tcp(pc);
#define p (*pp)

	/* the one exit: every frame lands in exactly one outcome (the
	 * reader adds them up into NP_STAT_PACKETS: no counter kept twice)
	 */
	pc->c[out & 0xf]++;		/* NP_STAT_MAX is 16: asserted above */
	if (!*(__u64 *)&p)
		return cfg.action;	/* no feature flag: the common frame */
	if (p.any_vlan)
		pc->c[NP_STAT_VLAN]++;
	if (p.gre)
		pc->c[NP_STAT_GRE]++;
	if (p.encap >= NP_ENCAP_ERSPAN1 && p.encap <= NP_ENCAP_ERSPAN3)
		pc->c[NP_STAT_ERSPAN]++;
	if (p.ipv6)
		pc->c[NP_STAT_IPV6]++;
	if (p.table_full)
		pc->c[NP_STAT_TABLE_FULL]++;
	if (p.reclaimed)
		pc->c[NP_STAT_RECLAIMED]++;
	if (p.neigh)
		pc->c[NP_STAT_NEIGH]++;
#undef p
	return cfg.action;
}

SEC("xdp.frags")
int nbdpath_xdp(struct xdp_md *ctx)
{
	return np_frame(ctx);
}

/*
 * Replay: several frames of a capture in one BPF_PROG_TEST_RUN, each
 * classified by np_frame() exactly as nbdpath_xdp classifies a frame on
 * the wire. On a virtual machine the syscall costs ten times what the
 * classification does, so a frame per call would bound replay by the
 * syscall.
 *
 * The test-run data holds the frames last to first (frame 0 at the
 * end), so that each is reached by moving the data start back
 * (bpf_xdp_adjust_head) and cutting the previous frame off the end
 * (bpf_xdp_adjust_tail): a tail can only grow zero-filled, a head moves
 * over the bytes already there. replay_batch gives each frame's length
 * and capture time; done says how many were classified.
 */
struct np_replay_batch replay_batch;

/* a global function: verified once, not once per frame of the loop */
__noinline int np_replay_frame(struct xdp_md *ctx)
{
	if (!ctx)
		return XDP_DROP;
	return np_frame(ctx);
}

SEC("xdp.frags")
int nbdpath_replay(struct xdp_md *ctx)
{
	__u32 n = replay_batch.n, i, len, prev = 0;
	long size = (long)ctx->data_end - (long)ctx->data;

	replay_batch.done = 0;
	/* all of it in the linear part: adjust_tail would cut frags first */
	if (n > NP_REPLAY_BATCH || size != replay_batch.size)
		return XDP_DROP;
	for (i = 0; i < NP_REPLAY_BATCH; i++) {
		if (i >= n)
			break;
		len = replay_batch.len[i];
		if (!i) {
			if (bpf_xdp_adjust_head(ctx, size - len))
				break;
		} else if (bpf_xdp_adjust_head(ctx, -(int)len) ||
			   bpf_xdp_adjust_tail(ctx, -(int)prev)) {
			break;
		}
		if ((long)ctx->data_end - (long)ctx->data != len)
			break;
		/* zero would mean "use the kernel clock" */
		cfg.clock_ns = replay_batch.ts[i] ? replay_batch.ts[i] : 1;
		np_replay_frame(ctx);
		replay_batch.done = i + 1;
		prev = len;
	}
	return XDP_DROP;
}
