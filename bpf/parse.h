/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Header parsers for the nbdpath XDP program.
 *
 * Each step takes a cursor, checks bounds before every read and returns
 * either the next protocol or an outcome (enum np_stat). Fields land in
 * struct np_pkt. The policy for every odd case is stated where it is
 * decided. All multi-byte values stay in network byte order unless the
 * name says otherwise.
 */
#ifndef NBDPATH_PARSE_H
#define NBDPATH_PARSE_H

#include <stdbool.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "nbdpath.h"

#ifndef ETH_P_8021AD
#define ETH_P_8021AD	0x88A8
#endif
#define ETH_P_QINQ1	0x9100
#define GRE_P_ERSPAN	0x88BE		/* type I without, type II with GRE seq */
#define GRE_P_ERSPAN3	0x22EB
#define GRE_P_TEB	0x6558

#define NP_MAX_VLAN_TAGS	2
#define NP_IPV6_EXT_MAX		6	/* extension headers walked per packet */
#define NP_HBH_OPTS_MAX		2	/* hop-by-hop options walked for it */

#define IP_MF_BIT		0x2000	/* IPv4 "more fragments" */
#define IPV6_TLV_JUMBO_TYPE	0xc2	/* RFC 2675 Jumbo Payload option */

/* GRE flag bits of the first 16-bit word (RFC 2784/2890) */
#define GRE_F_CSUM	0x8000
#define GRE_F_ROUTING	0x4000
#define GRE_F_KEY	0x2000
#define GRE_F_SEQ	0x1000
#define GRE_VERSION	0x0007

/* Parse result of one step: >= 0 is a protocol, < 0 is -outcome. */
#define NP_OUT(stat)	(-(int)(stat))

/* Returned by parse_level() when a GRE header starts at p->off. */
#define NP_LEVEL_GRE	100
/*
 * Returned by parse_level() for an IPv6 jumbogram: the level is parsed
 * again, from p->off, with the jumbo step (see parse_ipv6()).
 */
#define NP_LEVEL_JUMBO	101
/*
 * Returned by parse_level() for a segment of ours the hit path did not
 * count: count_tcp() takes it, called from np_frame() so that the
 * deepest chain of calls (np_frame, parse_encap) does not hold its stack
 * as well. Each level code its own value: a segment taken for a
 * jumbogram would be parsed, and searched for, twice.
 */
#define NP_LEVEL_SLOW	102
/* Not the plain frame (see parse_plain()): the steps parse it. */
#define NP_LEVEL_STEPS	103

struct cursor {
	void *pos;
	void *end;		/* of the linear part: reads stop here */
};

/*
 * What a TCP segment adds to its direction's counts and TCP health. Its
 * own struct, so that the memo's hit (nbdpath.bpf.c) keeps it in
 * registers, where np_pkt's fields are stores and loads.
 */
struct np_seg {
	__u32	payload;		/* TCP payload bytes it counts */
	/* set when the header holds them (has_seq) */
	__u32	seq;			/* host order */
	__u16	window;			/* host order, unscaled */
	__u8	has_seq;
	__u8	flags;			/* TCP flags */
};

/*
 * What the parser learnt about the frame that carries the TCP segment.
 * Plain data, no packet pointers: it is handed to BPF global functions.
 * The flags come first and are cleared in one store per frame.
 */
struct np_pkt {
	/* flags: zeroed per frame */
	__u8	any_vlan;		/* a tag at any level: feature counter */
	__u8	ipv6;			/* an IPv6 header at any level */
	__u8	gre;
	__u8	encap;			/* NP_ENCAP_* */
	__u8	has_session;
	__u8	table_full;		/* set by the flow update */
	__u8	reclaimed;
	__u8	neigh;			/* ARP/ND taught an owner IP */
	/* np_frame() zeroes the eight flags above as one __u64 */

	__u32	off;			/* where the next level starts */
	__u32	ifindex;
	__u16	vlans[NP_MAX_VLAN_TAGS];
	__u8	n_vlans;		/* of the (inner) frame */
	__u8	to_server;		/* destination port is monitored */
	__u8	from_server;		/* source port is monitored */
	__u8	ipf;			/* NP_IPF_*: set by the IP step */
	__u16	session;		/* ERSPAN session ID */
	__u8	v6;			/* np_flow_key.v6: set with saddr */
	__u32	ip_len;			/* bytes of the IP packet, from its header */
	__u32	l4_len;			/* ip_len minus IP (and extension) headers */
	__be16	sport;
	__be16	dport;
	struct np_seg seg;		/* by parse_tcp_rest(), parse_plain_seg() */
	/* copied only for a monitored port: the common miss pays nothing */
	__u8	dmac[6];		/* MACs of the (inner) frame */
	__u8	smac[6];
	__u8	saddr[16];		/* IPv4-mapped for IPv4 */
	__u8	daddr[16];
};

_Static_assert(__builtin_offsetof(struct np_pkt, off) == 8,
	       "np_pkt's flags are its first 8 bytes: zeroed as one __u64");
/* the key's words are read from the addresses 8 bytes at a time (saddr
 * at offset 65 made a new flow 7 ns slower, make bench, same run)
 */
_Static_assert(__builtin_offsetof(struct np_pkt, saddr) % 8 == 0,
	       "np_pkt's addresses are 8-aligned");

/* np_pkt.ipf: what the IP step leaves to the TCP step and the count */
#define NP_IPF_FIRST_FRAG	0x01	/* IPv4 offset 0, more fragments */
#define NP_IPF_LEN_FROM_FRAME	0x02	/* IPv4 total length 0: frame_len() */
#define NP_IPF_ESTIMATED	0x04	/* payload without the data offset */

/* Headers of the current level, kept as packet pointers until needed. */
struct np_hdrs {
	__u8	*eth;
	__u8	*addrs;			/* source then destination address */
	bool	v6;
};

/* Deepest offset a level may start at: outer headers of an encapsulated
 * mirror (Ethernet, two tags, IPv6 with extensions, GRE, ERSPAN III with
 * subheader) stay well below it.
 */
#define NP_MAX_OFFSET	512

static __always_inline void map_ipv4(__u8 *dst, __be32 addr)
{
	__u32 *w = (__u32 *)dst;

	w[0] = 0;
	w[1] = 0;
	w[2] = bpf_htonl(0x0000ffff);
	w[3] = addr;
}

/*
 * An IPv4 header that says "total length 0" (see parse_ipv4()) leaves the
 * rest of the frame as the packet's length. The parser takes the linear
 * part (up to ctx->data_end); the fragments of a multi-buffer frame (a
 * large frame in native mode, or through BPF_PROG_TEST_RUN) are added
 * here, once the frame is known to be counted: a helper call in the
 * middle of the parser costs the verifier more than the whole of it. The
 * TCP header is in the linear part of such a frame, whose first buffer
 * holds far more than NP_MAX_OFFSET and the headers, so the payload grows
 * by as much. cut: bytes of the frame that never reached the program
 * (np_config.replay_cut).
 */
static __always_inline void frame_len(struct xdp_md *ctx, struct np_pkt *p,
				      __u32 cut)
{
	__u32 lin = ctx->data_end - ctx->data;
	__u32 more = bpf_xdp_get_buff_len(ctx);

	more = (more > lin ? more - lin : 0) + cut;
	p->ip_len += more;
	p->l4_len += more;
	p->seg.payload += more;
}

/*
 * Ethernet II plus up to two VLAN tags of any of the three TPIDs. A third
 * tag is not guessed at: the frame is unsupported.
 */
static __always_inline int parse_eth(struct cursor *c, struct np_pkt *p,
				     struct np_hdrs *h)
{
	struct ethhdr *eth = c->pos;
	__be16 proto;
	int i;

	if ((void *)(eth + 1) > c->end)
		return NP_OUT(NP_STAT_TRUNCATED);
	h->eth = (__u8 *)eth;
	p->n_vlans = 0;
	proto = *(__be16 *)((__u8 *)eth + 12);
	c->pos = eth + 1;

#pragma unroll
	for (i = 0; i < NP_MAX_VLAN_TAGS + 1; i++) {
		__be16 *tag = c->pos;

		if (proto != bpf_htons(ETH_P_8021Q) &&
		    proto != bpf_htons(ETH_P_8021AD) &&
		    proto != bpf_htons(ETH_P_QINQ1))
			break;
		if (i == NP_MAX_VLAN_TAGS)
			return NP_OUT(NP_STAT_UNSUPPORTED);
		if ((void *)(tag + 2) > c->end)
			return NP_OUT(NP_STAT_TRUNCATED);
		p->vlans[i] = bpf_ntohs(tag[0]) & 0x0fff;
		p->n_vlans = i + 1;
		p->any_vlan = 1;
		proto = tag[1];
		c->pos = tag + 2;
	}
	return bpf_ntohs(proto);
}

/*
 * IPv4 with options. IHL < 5 and a total length shorter than the header
 * are malformed; a header cut by the capture is truncated. A total
 * length of 0 is what a host with TSO or BIG TCP writes into a segment
 * larger than its NIC will send (or than 64 KiB): the packet is then the
 * rest of the frame (frame_len()), as Wireshark takes it; of a frame a
 * mirror cut, that is all that is known, and a TCP header longer than
 * what is left was cut, not malformed. A non-first fragment has no L4
 * header: it is counted as a fragment. A first fragment carries at least
 * the TCP ports and is classified, counted with its own length (see
 * parse_tcp_rest()).
 */
static __always_inline int parse_ipv4(struct cursor *c, struct np_pkt *p,
				      struct np_hdrs *h)
{
	struct iphdr *iph = c->pos;
	__u32 hlen, tot;
	__u8 ipf = 0;
	__be16 frag;

	if ((void *)(iph + 1) > c->end)
		return NP_OUT(NP_STAT_TRUNCATED);
	if (iph->version != 4 || iph->ihl < 5)
		return NP_OUT(NP_STAT_MALFORMED);
	hlen = iph->ihl * 4;
	tot = bpf_ntohs(iph->tot_len);
	/* the odd cases off the common path: one test each */
	if (tot < hlen) {
		if (tot)
			return NP_OUT(NP_STAT_MALFORMED);
		if (c->pos + hlen > c->end)
			return NP_OUT(NP_STAT_TRUNCATED);
		tot = (long)c->end - (long)c->pos;
		ipf = NP_IPF_LEN_FROM_FRAME;
	}
	if (c->pos + hlen > c->end)
		return NP_OUT(NP_STAT_TRUNCATED);
	frag = iph->frag_off;
	if (frag & bpf_htons(0x1fff | IP_MF_BIT)) {
		if (frag & bpf_htons(0x1fff))
			return NP_OUT(NP_STAT_FRAGMENT);
		ipf |= NP_IPF_FIRST_FRAG;
	}

	h->addrs = (__u8 *)&iph->saddr;
	h->v6 = false;
	p->ipf = ipf;
	p->ip_len = tot;
	p->l4_len = tot - hlen;
	c->pos += hlen;
	return iph->protocol;
}

/*
 * The Jumbo Payload option (RFC 2675) of a hop-by-hop header at c->pos,
 * which a packet with payload length 0 must carry: its value is the
 * payload length (hop-by-hop header included). BIG TCP writes it first,
 * right after the two bytes of next header and length; a sender that
 * aligns it (RFC 2675: 4n + 2) in a longer header puts a PadN before it:
 * NP_HBH_OPTS_MAX - 1 options may come first (each one walked costs the
 * verifier a good part of the parser). A header without it within those
 * has no length to go by: unsupported. A length a plain header could have
 * said (below 65536: an error by the RFC) is malformed.
 */
static __always_inline int parse_jumbo_opt(struct cursor *c, __u32 *plen)
{
	__u8 *hbh = c->pos, *o = NULL;
	__u32 off = 2, len, v;
	int i;

	if ((void *)(hbh + 8) > c->end)
		return NP_OUT(NP_STAT_TRUNCATED);
	len = (hbh[1] + 1) * 8;
	/* no break: clang 14 cannot unroll this loop with one */
#pragma unroll
	for (i = 0; i < NP_HBH_OPTS_MAX; i++) {
		__u8 *t;

		if (o || off + 2 > len)
			continue;
		/* bounded for the verifier: off < len <= 2048 */
		t = hbh + (off & 0x7ff);
		if ((void *)(t + 2) > c->end)
			return NP_OUT(NP_STAT_TRUNCATED);
		if (t[0] == IPV6_TLV_JUMBO_TYPE)
			o = t;
		else	/* Pad1 is a lone type byte; any other option a TLV */
			off += t[0] ? 2 + t[1] : 1;
	}
	if (!o)
		return NP_OUT(NP_STAT_UNSUPPORTED);
	if (o[1] != 4 || off + 6 > len)
		return NP_OUT(NP_STAT_MALFORMED);
	if ((void *)(o + 6) > c->end)
		return NP_OUT(NP_STAT_TRUNCATED);
	v = (__u32)o[2] << 24 | o[3] << 16 | o[4] << 8 | o[5];
	/* and room for the 40-byte header in p->ip_len */
	if (v <= 0xffff || v > 0xffffffffu - sizeof(struct ipv6hdr))
		return NP_OUT(NP_STAT_MALFORMED);
	*plen = v;
	return 0;
}

/*
 * IPv6 and its extension headers: hop-by-hop, routing, destination
 * options and fragment, at most NP_IPV6_EXT_MAX of them. A longer chain
 * is unsupported rather than guessed; so is AH (its payload may well be
 * TCP but we do not walk it). A jumbogram (payload length 0 and a
 * hop-by-hop header) takes its length from the Jumbo Payload option,
 * which a cut frame still holds. Payload length 0 without a hop-by-hop
 * header is an empty packet.
 *
 * The EtherType (or outer header) that led here counts the frame as
 * IPv6 even when the capture cut its header, unless the version nibble
 * made it in and says otherwise.
 */
static __always_inline int parse_ipv6(struct cursor *c, struct np_pkt *p,
				      struct np_hdrs *h, const bool jumbo)
{
	struct ipv6hdr *ip6 = c->pos;
	__u32 plen, ext = 0;
	__u8 nexthdr;
	int i;

	if ((void *)(ip6 + 1) > c->end) {
		if ((void *)((__u8 *)ip6 + 1) > c->end || ip6->version == 6)
			p->ipv6 = 1;
		return NP_OUT(NP_STAT_TRUNCATED);
	}
	if (ip6->version != 6)
		return NP_OUT(NP_STAT_MALFORMED);
	p->ipv6 = 1;
	p->ipf = 0;
	plen = bpf_ntohs(ip6->payload_len);
	h->addrs = (__u8 *)&ip6->saddr;
	h->v6 = true;
	nexthdr = ip6->nexthdr;
	c->pos = ip6 + 1;
	if (!plen && nexthdr == IPPROTO_HOPOPTS) {
		int err;

		/* Rare, and its code inline in every level would slow the
		 * common frame's parse (the compiler allocates registers
		 * for it): the caller runs the level again with jumbo set.
		 */
		if (!jumbo)
			return NP_OUT(NP_LEVEL_JUMBO);
		err = parse_jumbo_opt(c, &plen);
		if (err)
			return err;
	}

#pragma unroll
	for (i = 0; i < NP_IPV6_EXT_MAX + 1; i++) {
		__u8 *h = c->pos;
		__u32 len;

		if (nexthdr != IPPROTO_HOPOPTS && nexthdr != IPPROTO_ROUTING &&
		    nexthdr != IPPROTO_DSTOPTS && nexthdr != IPPROTO_FRAGMENT)
			break;
		if (i == NP_IPV6_EXT_MAX)
			return NP_OUT(NP_STAT_UNSUPPORTED);
		if ((void *)(h + 8) > c->end)
			return NP_OUT(NP_STAT_TRUNCATED);
		if (nexthdr == IPPROTO_FRAGMENT) {
			/* offset is the upper 13 bits of bytes 2-3 */
			if ((h[2] << 8 | h[3]) & 0xfff8)
				return NP_OUT(NP_STAT_FRAGMENT);
			len = 8;
		} else {
			len = (h[1] + 1) * 8;
		}
		/* hop-by-hop is only legal first, but where it sits does
		 * not change where TCP starts: walk it anyway.
		 */
		ext += len;
		if (ext > plen)
			return NP_OUT(NP_STAT_MALFORMED);
		nexthdr = h[0];
		c->pos = h + len;
	}
	if (nexthdr == IPPROTO_AH)
		return NP_OUT(NP_STAT_UNSUPPORTED);

	p->ip_len = plen + sizeof(*ip6);
	p->l4_len = plen - ext;
	return nexthdr;
}

/*
 * TCP, in two steps so that a frame of a port nobody watches costs only
 * the ports. The ports are all a flow needs: a mirror that cut the frame
 * after them still counts it (bytes come from the IP header), with the
 * flags and the header length taken only when they made it into the
 * capture. On a monitored port, a data offset below 5 or past the IP
 * payload is malformed; on any other port the frame is simply not ours.
 */
static __always_inline int parse_tcp(struct cursor *c, struct np_pkt *p)
{
	__u8 *th = c->pos;

	if ((void *)(th + 4) > c->end)
		return NP_OUT(NP_STAT_TRUNCATED);
	if (p->l4_len < 4)
		return NP_OUT(NP_STAT_MALFORMED);
	p->sport = *(__be16 *)th;
	p->dport = *(__be16 *)(th + 2);
	return 0;
}

/*
 * The flags and the payload the frame counts: the IP payload less the
 * TCP header. Two cases have no data offset to go by:
 *
 * - A first IPv4 fragment may end inside the TCP header (RFC 791 lets a
 *   sender cut after any 8 bytes; an IPv6 one must hold the whole header
 *   chain, RFC 7112, and stays malformed). It names the flow by its ports;
 *   the offset and flags are taken only when they lie inside it, never
 *   from the frame's padding, and its payload is what follows the header
 *   in it, 0 when the header does not fit. So for a frame whose IPv4
 *   total length was 0 (the frame is the packet) and that ends inside
 *   the TCP header: a mirror cut it.
 * - A frame the capture cut before the data offset (byte 12): its payload
 *   is counted as if the header were the smallest, 20 bytes, which makes
 *   the direction's payload_bytes an upper bound; NP_DIRF_PAYLOAD_ESTIMATED
 *   marks it. A frame whose IP payload holds no more than 20 bytes has no
 *   payload either way and marks nothing.
 */
static __always_inline int parse_tcp_rest(struct cursor *c, struct np_pkt *p)
{
	__u8 *th = c->pos;
	__u32 hlen, l4 = p->l4_len;

	p->seg.flags = 0;
	p->seg.payload = 0;
	p->seg.has_seq = 0;
	if ((p->ipf & NP_IPF_FIRST_FRAG) && l4 < 14)
		return 0;
	if ((void *)(th + 13) > c->end) {
		if (l4 > sizeof(struct tcphdr)) {
			p->seg.payload = l4 - sizeof(struct tcphdr);
			p->ipf |= NP_IPF_ESTIMATED;
		}
		return 0;
	}
	hlen = (th[12] >> 4) * 4;
	if (hlen < sizeof(struct tcphdr) ||
	    (hlen > l4 &&
	     !(p->ipf & (NP_IPF_FIRST_FRAG | NP_IPF_LEN_FROM_FRAME))))
		return NP_OUT(NP_STAT_MALFORMED);
	if ((void *)(th + 14) <= c->end)
		p->seg.flags = th[13];
	if (l4 > hlen)
		p->seg.payload = l4 - hlen;
	/* sequence and window for the TCP health counters: from a header
	 * that holds them, never from a fragment's cut one or padding
	 */
	if ((void *)(th + 16) <= c->end && l4 >= 16) {
		p->seg.seq = bpf_ntohl(*(__be32 *)(th + 4));
		p->seg.window = bpf_ntohs(*(__be16 *)(th + 14));
		p->seg.has_seq = 1;
	}
	return 0;
}

/*
 * The common frame in one step: untagged Ethernet, IPv4 without options
 * and unfragmented, carrying TCP whose 20-byte header is in the linear
 * part and whose data offset fits the IP payload. For it, parse_plain(),
 * parse_plain_pkt() and parse_plain_seg() fill h, p and p->seg exactly
 * as parse_eth(), parse_ipv4(), parse_tcp() and parse_tcp_rest() do, from
 * one bounds test instead of eight (a hit has little else to pay for).
 * Any other frame: false, and the steps above take it from its first
 * byte, so every odd case keeps its one rule there. The data offset is
 * tested before the ports, as the steps test it after them; a frame that
 * fails it goes to the steps, which decide what it is.
 */
#define NP_PLAIN_LEN	(ETH_HLEN + sizeof(struct iphdr) + sizeof(struct tcphdr))

/* The IP packet's length, from the header of a frame parse_plain() took */
static __always_inline __u32 plain_ip_len(const __u8 *eth)
{
	return bpf_ntohs(*(const __be16 *)(eth + ETH_HLEN + 2));
}

static __always_inline bool parse_plain(struct cursor *c, struct np_hdrs *h)
{
	__u8 *eth = c->pos, *ip = eth + ETH_HLEN;
	__u8 *th = ip + sizeof(struct iphdr);
	__u32 tot, hlen;

	if ((void *)(eth + NP_PLAIN_LEN) > c->end)
		return false;
	/* EtherType IPv4; version 4, IHL 5; no offset, no more fragments */
	if (*(__be16 *)(eth + 12) != bpf_htons(ETH_P_IP) || ip[0] != 0x45 ||
	    ip[9] != IPPROTO_TCP ||
	    (*(__be16 *)(ip + 6) & bpf_htons(0x1fff | IP_MF_BIT)))
		return false;
	tot = plain_ip_len(eth);
	hlen = (th[12] >> 4) * 4;
	if (hlen < sizeof(struct tcphdr) || tot < sizeof(struct iphdr) + hlen)
		return false;
	h->eth = eth;
	h->addrs = ip + 12;
	h->v6 = false;
	c->pos = th;
	return true;
}

/*
 * What the steps up to parse_tcp() put in p, for a frame parse_plain()
 * took (it writes nothing there: the memo's hit needs none of it).
 */
static __always_inline void parse_plain_pkt(const struct cursor *c,
					    const struct np_hdrs *h,
					    struct np_pkt *p)
{
	const __u8 *th = c->pos;
	__u32 tot = plain_ip_len(h->eth);

	p->n_vlans = 0;
	p->ipf = 0;
	p->ip_len = tot;
	p->l4_len = tot - sizeof(struct iphdr);
	p->sport = *(const __be16 *)th;
	p->dport = *(const __be16 *)(th + 2);
}

/*
 * parse_tcp_rest()'s segment of a frame parse_plain() took (its 20 bytes
 * are there), l4_len bytes of TCP.
 */
static __always_inline void parse_plain_seg(const struct cursor *c,
					    __u32 l4_len, struct np_seg *s)
{
	const __u8 *th = c->pos;

	s->flags = th[13];
	s->payload = l4_len - (th[12] >> 4) * 4;
	s->seq = bpf_ntohl(*(const __be32 *)(th + 4));
	s->window = bpf_ntohs(*(const __be16 *)(th + 14));
	s->has_seq = 1;
}

/*
 * GRE (RFC 2784/2890) as a remote mirror sends it, and the ERSPAN header
 * that may follow. Returns the EtherType of what follows (always an inner
 * Ethernet frame when it succeeds). Version 1 GRE (PPTP), the routing bit
 * and any ERSPAN version other than the one its GRE protocol implies are
 * unsupported: their layout is not what the bits would suggest. A frame
 * whose fixed ERSPAN header made it into the capture counts as ERSPAN
 * (p->encap) even when refused for its version or frame type.
 */
static __always_inline int parse_gre(struct cursor *c, struct np_pkt *p)
{
	__be16 *gre = c->pos;
	__u16 flags, proto;
	__u32 hlen = 4;
	__u8 *e;

	if ((void *)(gre + 2) > c->end)
		return NP_OUT(NP_STAT_TRUNCATED);
	p->gre = 1;
	flags = bpf_ntohs(gre[0]);
	proto = bpf_ntohs(gre[1]);
	if ((flags & GRE_VERSION) || (flags & GRE_F_ROUTING))
		return NP_OUT(NP_STAT_UNSUPPORTED);
	if (flags & GRE_F_CSUM)
		hlen += 4;		/* checksum + reserved1 */
	if (flags & GRE_F_KEY)
		hlen += 4;
	if (flags & GRE_F_SEQ)
		hlen += 4;
	if (c->pos + hlen > c->end)
		return NP_OUT(NP_STAT_TRUNCATED);
	c->pos += hlen;
	e = c->pos;

	switch (proto) {
	case GRE_P_TEB:
		p->encap = NP_ENCAP_TEB;
		return GRE_P_TEB;
	case GRE_P_ERSPAN:
		if (!(flags & GRE_F_SEQ)) {
			/* type I: the mirrored frame follows GRE directly */
			p->encap = NP_ENCAP_ERSPAN1;
			return GRE_P_TEB;
		}
		/* type II: ver(4) vlan(12) cos(3) en(2) t(1) session(10),
		 * reserved(12) index(20)
		 */
		if ((void *)(e + 8) > c->end)
			return NP_OUT(NP_STAT_TRUNCATED);
		/* an ERSPAN frame from here on, whatever it holds */
		p->encap = NP_ENCAP_ERSPAN2;
		if ((e[0] >> 4) != 1)
			return NP_OUT(NP_STAT_UNSUPPORTED);
		p->session = (e[2] << 8 | e[3]) & 0x3ff;
		p->has_session = 1;
		c->pos = e + 8;
		return GRE_P_TEB;
	case GRE_P_ERSPAN3:
		/* ver(4) vlan(12) cos(3) bso(2) t(1) session(10),
		 * timestamp(32), sgt(16) p(1) ft(5) hw_id(6) d(1) gra(2) o(1),
		 * then an 8-byte platform subheader when o is set
		 */
		if ((void *)(e + 12) > c->end)
			return NP_OUT(NP_STAT_TRUNCATED);
		p->encap = NP_ENCAP_ERSPAN3;
		if ((e[0] >> 4) != 2)
			return NP_OUT(NP_STAT_UNSUPPORTED);
		/* frame type 0 is Ethernet; 2 (bare IP) has no MACs */
		if ((e[10] >> 2) & 0x1f)
			return NP_OUT(NP_STAT_UNSUPPORTED);
		p->session = (e[2] << 8 | e[3]) & 0x3ff;
		p->has_session = 1;
		c->pos = e + ((e[11] & 1) ? 20 : 12);
		return GRE_P_TEB;
	}
	/* plain GRE over IP carries no MACs: nothing to attribute */
	return NP_OUT(NP_STAT_UNSUPPORTED);
}

#endif /* NBDPATH_PARSE_H */
