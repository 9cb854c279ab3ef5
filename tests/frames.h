/* SPDX-License-Identifier: GPL-2.0 */
/*
 * frames.h - build test frames header by header, outermost first.
 *
 *	struct frame f;
 *
 *	frame_init(&f);
 *	frame_eth(&f, dst, src);
 *	frame_vlan(&f, ETH_P_8021Q, 28);
 *	frame_ipv4(&f, &(struct frame_ip4){ .saddr = "10.0.28.50",
 *					     .daddr = "10.0.0.10" });
 *	frame_tcp(&f, &(struct frame_tcp){ .sport = 50512, .dport = 902,
 *					    .flags = FRAME_TH_ACK });
 *	frame_payload(&f, 1000);
 *	frame_end(&f);
 *
 * Each header names itself in the "next protocol" field of the one before
 * it (EtherType, IP protocol, IPv6 next header or GRE protocol) unless that
 * field was given explicitly, so encapsulations nest by simply going on:
 * Ethernet, IP, GRE, ERSPAN, then the inner Ethernet frame. frame_end()
 * fills in every length left to it (IPv4 total length, IPv6 payload
 * length, UDP length) and the checksums: the IPv4 header checksum always,
 * TCP/UDP/ICMP/ICMPv6 and GRE checksums when the frame holds its whole
 * payload.
 *
 * A payload may be declared without being written (frame_payload_cut):
 * the lengths in the headers then describe the packet on the wire while
 * the frame holds only what a mirror with a "mirrored packet length" would
 * have kept. frame_wire_len() is the former, f->len the latter.
 *
 * Header-only and free of test-runner dependencies, so that tools writing
 * pcaps can use it too (frame_pcap_open/frame_pcap_write below).
 */
#ifndef NBDPATH_FRAMES_H
#define NBDPATH_FRAMES_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#define FRAME_MAX		16384	/* a 9000-byte jumbo plus outer headers */
#define FRAME_MAX_FIX		16

#define FRAME_ETH_P_IP		0x0800
#define FRAME_ETH_P_ARP		0x0806
#define FRAME_ETH_P_8021Q	0x8100
#define FRAME_ETH_P_8021AD	0x88a8
#define FRAME_ETH_P_QINQ1	0x9100
#define FRAME_ETH_P_IPV6	0x86dd
#define FRAME_ETH_P_TEB		0x6558
#define FRAME_ETH_P_ERSPAN	0x88be	/* types I and II */
#define FRAME_ETH_P_ERSPAN3	0x22eb

#define FRAME_IPPROTO_HOPOPTS	0
#define FRAME_IPPROTO_ICMP	1
#define FRAME_IPPROTO_IPIP	4
#define FRAME_IPPROTO_TCP	6
#define FRAME_IPPROTO_UDP	17
#define FRAME_IPPROTO_IPV6	41
#define FRAME_IPPROTO_ROUTING	43
#define FRAME_IPPROTO_FRAGMENT	44
#define FRAME_IPPROTO_GRE	47
#define FRAME_IPPROTO_AH	51
#define FRAME_IPPROTO_ICMPV6	58
#define FRAME_IPPROTO_NONE	59
#define FRAME_IPPROTO_DSTOPTS	60

#define FRAME_TH_FIN		0x01
#define FRAME_TH_SYN		0x02
#define FRAME_TH_RST		0x04
#define FRAME_TH_PSH		0x08
#define FRAME_TH_ACK		0x10

#define FRAME_GRE_C		0x8000
#define FRAME_GRE_R		0x4000
#define FRAME_GRE_K		0x2000
#define FRAME_GRE_S		0x1000

enum frame_next {
	FRAME_NEXT_NONE,
	FRAME_NEXT_ETHER,	/* a 16-bit EtherType (or GRE protocol) */
	FRAME_NEXT_IPPROTO,	/* an 8-bit IP protocol / next header */
};

enum frame_fix_kind {
	FRAME_FIX_IPV4,		/* total length, header checksum */
	FRAME_FIX_IPV6,		/* payload length */
	FRAME_FIX_UDP,		/* length, checksum */
	FRAME_FIX_TCP,		/* checksum */
	FRAME_FIX_ICMP,		/* checksum, no pseudo-header */
	FRAME_FIX_ICMPV6,	/* checksum */
	FRAME_FIX_GRE,		/* checksum, when the C bit is set */
	FRAME_FIX_JUMBO,	/* Jumbo Payload; IPv6 payload length 0 */
};

struct frame_fix {
	__u32	off;
	__u32	ip_off;		/* the IP header an L4 checksum covers */
	__u8	kind;
	__u8	keep_len;	/* the length was given: leave it */
	__u8	ip_v6;
	__u8	pad;
};

struct frame {
	__u8	data[FRAME_MAX];
	__u32	len;		/* bytes present */
	__u32	cut;		/* payload bytes declared but not present */
	__u32	next_off;	/* the previous header's next-protocol field */
	__u8	next_kind;	/* enum frame_next */
	__u8	n_fix;
	__u8	ip_v6;		/* the innermost IP header so far */
	__u32	ip_off;
	struct frame_fix fix[FRAME_MAX_FIX];
};

static inline __attribute__((noreturn)) void frame__die(const char *what)
{
	fprintf(stderr, "frames.h: %s\n", what);
	abort();
}

static inline void frame_init(struct frame *f)
{
	f->len = 0;
	f->cut = 0;
	f->next_kind = FRAME_NEXT_NONE;
	f->n_fix = 0;
	f->ip_v6 = 0;
	f->ip_off = 0;
}

/* Bytes on the wire: what the IP and UDP length fields count to. */
static inline __u32 frame_wire_len(const struct frame *f)
{
	return f->len + f->cut;
}

static inline void frame_put16(struct frame *f, __u32 off, __u16 v)
{
	f->data[off] = v >> 8;
	f->data[off + 1] = v;
}

static inline void frame_put32(struct frame *f, __u32 off, __u32 v)
{
	frame_put16(f, off, v >> 16);
	frame_put16(f, off + 2, v);
}

static inline __u16 frame_get16(const struct frame *f, __u32 off)
{
	return f->data[off] << 8 | f->data[off + 1];
}

/* Room for n more bytes, zeroed; returns where they start. */
static inline __u32 frame__grow(struct frame *f, __u32 n)
{
	__u32 off = f->len;

	if (f->cut)
		frame__die("a header after a cut payload");
	if (n > FRAME_MAX - f->len)
		frame__die("frame larger than FRAME_MAX");
	memset(f->data + off, 0, n);
	f->len += n;
	return off;
}

static inline void frame__fix(struct frame *f, __u8 kind, __u32 off,
			      bool keep_len)
{
	struct frame_fix *x;

	if (f->n_fix == FRAME_MAX_FIX)
		frame__die("too many headers");
	x = &f->fix[f->n_fix++];
	x->off = off;
	x->kind = kind;
	x->keep_len = keep_len;
	x->ip_off = f->ip_off;
	x->ip_v6 = f->ip_v6;
}

/*
 * Name the header about to be written in the previous header's
 * next-protocol field, unless that field was set explicitly.
 */
static inline void frame__link(struct frame *f, __u16 ethertype, __u8 proto)
{
	switch (f->next_kind) {
	case FRAME_NEXT_ETHER:
		frame_put16(f, f->next_off, ethertype);
		break;
	case FRAME_NEXT_IPPROTO:
		f->data[f->next_off] = proto;
		break;
	}
	f->next_kind = FRAME_NEXT_NONE;
}

static inline void frame__next(struct frame *f, __u8 kind, __u32 off)
{
	f->next_kind = kind;
	f->next_off = off;
}

/* Set the pending next-protocol field by hand (e.g. before frame_raw). */
static inline void frame_set_next(struct frame *f, __u16 value)
{
	frame__link(f, value, value);
}

/* Raw bytes, e.g. an unknown header. */
static inline __u32 frame_raw(struct frame *f, const void *p, __u32 n)
{
	__u32 off = frame__grow(f, n);

	memcpy(f->data + off, p, n);
	f->next_kind = FRAME_NEXT_NONE;
	return off;
}

static inline void frame__addr(const char *text, int af, void *out)
{
	if (!text || inet_pton(af, text, out) != 1)
		frame__die(text ? text : "an address is missing");
}

static inline __u32 frame_eth(struct frame *f, const __u8 dst[6],
			      const __u8 src[6])
{
	__u32 off;

	frame__link(f, FRAME_ETH_P_TEB, 0);
	off = frame__grow(f, 14);
	memcpy(f->data + off, dst, 6);
	memcpy(f->data + off + 6, src, 6);
	frame__next(f, FRAME_NEXT_ETHER, off + 12);
	return off;
}

/* A tag: its TPID goes where the EtherType was, the TCI and a new
 * EtherType follow. Any TPID may be given, stacked as deep as wanted.
 */
static inline __u32 frame_vlan(struct frame *f, __u16 tpid, __u16 vid)
{
	__u32 off;

	frame__link(f, tpid, 0);
	off = frame__grow(f, 4);
	frame_put16(f, off, vid & 0x0fff);
	frame__next(f, FRAME_NEXT_ETHER, off + 2);
	return off;
}

struct frame_ip4 {
	const char *saddr;
	const char *daddr;
	__u8	proto;		/* 0: whatever header follows */
	__u8	ttl;		/* 0: 64 */
	__u8	tos;
	__u8	ihl;		/* 0: from opt_len; else written as given */
	__u8	opt_len;	/* bytes of options (NOPs then EOL), 4-aligned */
	bool	df;
	bool	mf;
	bool	set_tot_len;	/* write tot_len as given instead */
	__u16	tot_len;
	__u16	id;
	__u16	frag_off;	/* in 8-byte units */
};

static inline __u32 frame_ipv4(struct frame *f, const struct frame_ip4 *o)
{
	__u32 hlen = 20 + o->opt_len, off, a;
	__u16 frag = (o->frag_off & 0x1fff) | (o->df ? 0x4000 : 0) |
		     (o->mf ? 0x2000 : 0);

	if (o->opt_len & 3)
		frame__die("IPv4 options must be 4-byte aligned");
	frame__link(f, FRAME_ETH_P_IP, FRAME_IPPROTO_IPIP);
	off = frame__grow(f, hlen);
	f->data[off] = 0x40 | (o->ihl ? o->ihl & 0xf : hlen / 4);
	f->data[off + 1] = o->tos;
	frame_put16(f, off + 2, o->tot_len);
	frame_put16(f, off + 4, o->id);
	frame_put16(f, off + 6, frag);
	f->data[off + 8] = o->ttl ? o->ttl : 64;
	f->data[off + 9] = o->proto;
	frame__addr(o->saddr, AF_INET, &a);
	memcpy(f->data + off + 12, &a, 4);
	frame__addr(o->daddr, AF_INET, &a);
	memcpy(f->data + off + 16, &a, 4);
	if (o->opt_len) {
		/* NOPs, then End of Options in the last byte */
		memset(f->data + off + 20, 1, o->opt_len);
		f->data[off + hlen - 1] = 0;
	}
	f->ip_off = off;
	f->ip_v6 = 0;
	frame__fix(f, FRAME_FIX_IPV4, off, o->set_tot_len);
	if (!o->proto)
		frame__next(f, FRAME_NEXT_IPPROTO, off + 9);
	return off;
}

struct frame_ip6 {
	const char *saddr;
	const char *daddr;
	__u8	nexthdr;	/* 0: whatever header follows */
	__u8	hop_limit;	/* 0: 64 */
	__u8	version;	/* 0: 6 */
	bool	set_payload_len;
	__u16	payload_len;
	__u32	flow_label;
};

static inline __u32 frame_ipv6(struct frame *f, const struct frame_ip6 *o)
{
	__u32 off;

	frame__link(f, FRAME_ETH_P_IPV6, FRAME_IPPROTO_IPV6);
	off = frame__grow(f, 40);
	frame_put32(f, off, (o->version ? o->version : 6) << 28 |
			    (o->flow_label & 0xfffff));
	frame_put16(f, off + 4, o->payload_len);
	f->data[off + 6] = o->nexthdr;
	f->data[off + 7] = o->hop_limit ? o->hop_limit : 64;
	frame__addr(o->saddr, AF_INET6, f->data + off + 8);
	frame__addr(o->daddr, AF_INET6, f->data + off + 24);
	f->ip_off = off;
	f->ip_v6 = 1;
	frame__fix(f, FRAME_FIX_IPV6, off, o->set_payload_len);
	if (!o->nexthdr)
		frame__next(f, FRAME_NEXT_IPPROTO, off + 6);
	return off;
}

/*
 * An IPv6 extension header of the generic TLV layout (hop-by-hop,
 * destination options, routing, or any other type given): len bytes in
 * all, a multiple of 8. Options are a single PadN filling the header;
 * a routing header is type 0 with no segments left, so no router on the
 * way would act on it.
 */
static inline __u32 frame_ip6_ext(struct frame *f, __u8 type, __u32 len)
{
	__u32 off;

	if (len < 8 || len % 8 || len > 2048)
		frame__die("IPv6 extension header length");
	frame__link(f, 0, type);
	off = frame__grow(f, len);
	f->data[off + 1] = len / 8 - 1;
	if (type == FRAME_IPPROTO_HOPOPTS || type == FRAME_IPPROTO_DSTOPTS) {
		f->data[off + 2] = 1;		/* PadN */
		f->data[off + 3] = len - 4;
	}
	frame__next(f, FRAME_NEXT_IPPROTO, off);
	return off;
}

/*
 * A jumbogram's hop-by-hop header (RFC 2675): 8 bytes holding only the
 * Jumbo Payload option, as Linux BIG TCP writes it. frame_end() puts the
 * packet's payload length (this header included) in the option and 0 in
 * the IPv6 header's payload length.
 */
static inline __u32 frame_ip6_jumbo(struct frame *f)
{
	__u32 off;

	frame__link(f, 0, FRAME_IPPROTO_HOPOPTS);
	off = frame__grow(f, 8);
	f->data[off + 2] = 0xc2;
	f->data[off + 3] = 4;
	frame__fix(f, FRAME_FIX_JUMBO, off, false);
	frame__next(f, FRAME_NEXT_IPPROTO, off);
	return off;
}

/* Fragment header: offset in 8-byte units. */
static inline __u32 frame_ip6_frag(struct frame *f, __u16 frag_off, bool mf,
				   __u32 id)
{
	__u32 off;

	frame__link(f, 0, FRAME_IPPROTO_FRAGMENT);
	off = frame__grow(f, 8);
	frame_put16(f, off + 2, (frag_off << 3) | (mf ? 1 : 0));
	frame_put32(f, off + 4, id);
	frame__next(f, FRAME_NEXT_IPPROTO, off);
	return off;
}

struct frame_tcp {
	__u16	sport;
	__u16	dport;
	__u32	seq;
	__u32	ack;
	__u8	flags;		/* FRAME_TH_* */
	__u8	doff;		/* 0: from opt_len; else written as given */
	__u8	opt_len;	/* bytes of options (NOPs), 4-aligned */
	__u16	window;		/* 0: 65535 */
};

static inline __u32 frame_tcp(struct frame *f, const struct frame_tcp *o)
{
	__u32 hlen = 20 + o->opt_len, off;

	if (o->opt_len & 3)
		frame__die("TCP options must be 4-byte aligned");
	frame__link(f, 0, FRAME_IPPROTO_TCP);
	off = frame__grow(f, hlen);
	frame_put16(f, off, o->sport);
	frame_put16(f, off + 2, o->dport);
	frame_put32(f, off + 4, o->seq);
	frame_put32(f, off + 8, o->ack);
	f->data[off + 12] = (o->doff ? o->doff : hlen / 4) << 4;
	f->data[off + 13] = o->flags;
	frame_put16(f, off + 14, o->window ? o->window : 65535);
	memset(f->data + off + 20, 1, o->opt_len);	/* NOP */
	frame__fix(f, FRAME_FIX_TCP, off, false);
	return off;
}

static inline __u32 frame_udp(struct frame *f, __u16 sport, __u16 dport)
{
	__u32 off;

	frame__link(f, 0, FRAME_IPPROTO_UDP);
	off = frame__grow(f, 8);
	frame_put16(f, off, sport);
	frame_put16(f, off + 2, dport);
	frame__fix(f, FRAME_FIX_UDP, off, false);
	return off;
}

/* ICMP (v4) with an echo-style identifier and sequence. */
static inline __u32 frame_icmp(struct frame *f, __u8 type, __u8 code,
			       __u16 id, __u16 seq)
{
	__u32 off;

	frame__link(f, 0, FRAME_IPPROTO_ICMP);
	off = frame__grow(f, 8);
	f->data[off] = type;
	f->data[off + 1] = code;
	frame_put16(f, off + 4, id);
	frame_put16(f, off + 6, seq);
	frame__fix(f, FRAME_FIX_ICMP, off, false);
	return off;
}

/* ARP for IPv4 over Ethernet; op 1 request, 2 reply. */
static inline __u32 frame_arp(struct frame *f, __u16 op, const __u8 sha[6],
			      const char *spa, const __u8 tha[6],
			      const char *tpa)
{
	__u32 off, a;

	frame__link(f, FRAME_ETH_P_ARP, 0);
	off = frame__grow(f, 28);
	frame_put16(f, off, 1);			/* Ethernet */
	frame_put16(f, off + 2, FRAME_ETH_P_IP);
	f->data[off + 4] = 6;
	f->data[off + 5] = 4;
	frame_put16(f, off + 6, op);
	memcpy(f->data + off + 8, sha, 6);
	frame__addr(spa, AF_INET, &a);
	memcpy(f->data + off + 14, &a, 4);
	memcpy(f->data + off + 18, tha, 6);
	frame__addr(tpa, AF_INET, &a);
	memcpy(f->data + off + 24, &a, 4);
	return off;
}

/*
 * ICMPv6 neighbour advertisement for target, with the target link-layer
 * address option when tll is given. Flags: solicited and override.
 */
static inline __u32 frame_icmp6_na(struct frame *f, const char *target,
				   const __u8 *tll)
{
	__u32 off;

	frame__link(f, 0, FRAME_IPPROTO_ICMPV6);
	off = frame__grow(f, tll ? 32 : 24);
	f->data[off] = 136;
	f->data[off + 4] = 0x60;		/* S, O */
	frame__addr(target, AF_INET6, f->data + off + 8);
	if (tll) {
		f->data[off + 24] = 2;		/* target link-layer address */
		f->data[off + 25] = 1;		/* in units of 8 bytes */
		memcpy(f->data + off + 26, tll, 6);
	}
	frame__fix(f, FRAME_FIX_ICMPV6, off, false);
	return off;
}

struct frame_gre {
	__u16	flags;		/* FRAME_GRE_C/R/K/S */
	__u8	version;	/* the low 3 bits of the first word */
	__u16	proto;		/* 0: whatever header follows */
	__u32	key;
	__u32	seq;
};

/*
 * GRE (RFC 2784/2890): the optional words follow in the order checksum,
 * key, sequence. The routing bit only sets the bit: RFC 1701 routing
 * entries are not written (a parser must refuse it anyway).
 */
static inline __u32 frame_gre(struct frame *f, const struct frame_gre *o)
{
	__u32 hlen = 4, off, p;

	hlen += o->flags & FRAME_GRE_C ? 4 : 0;
	hlen += o->flags & FRAME_GRE_K ? 4 : 0;
	hlen += o->flags & FRAME_GRE_S ? 4 : 0;
	frame__link(f, 0, FRAME_IPPROTO_GRE);
	off = frame__grow(f, hlen);
	frame_put16(f, off, (o->flags & 0xf000) | (o->version & 7));
	frame_put16(f, off + 2, o->proto);
	p = off + 4;
	if (o->flags & FRAME_GRE_C) {
		frame__fix(f, FRAME_FIX_GRE, off, false);
		p += 4;
	}
	if (o->flags & FRAME_GRE_K) {
		frame_put32(f, p, o->key);
		p += 4;
	}
	if (o->flags & FRAME_GRE_S)
		frame_put32(f, p, o->seq);
	if (!o->proto)
		frame__next(f, FRAME_NEXT_ETHER, off + 2);
	return off;
}

struct frame_erspan2 {
	__u8	version;	/* 0: 1, the version of type II */
	__u16	vlan;
	__u8	cos;
	__u8	en;		/* trunk encapsulation of the original frame */
	bool	t;		/* truncated */
	__u16	session;
	__u32	index;
};

/*
 * ERSPAN type II, 8 bytes after a GRE header of protocol 0x88be (which a
 * sender marks with the GRE sequence bit): ver(4) vlan(12) cos(3) en(2)
 * t(1) session(10), reserved(12) index(20). The mirrored frame follows.
 */
static inline __u32 frame_erspan2(struct frame *f, const struct frame_erspan2 *o)
{
	__u32 off;

	frame__link(f, FRAME_ETH_P_ERSPAN, 0);
	off = frame__grow(f, 8);
	frame_put16(f, off, (o->version ? o->version : 1) << 12 |
			    (o->vlan & 0xfff));
	frame_put16(f, off + 2, (o->cos & 7) << 13 | (o->en & 3) << 11 |
				(o->t ? 1 << 10 : 0) | (o->session & 0x3ff));
	frame_put32(f, off + 4, o->index & 0xfffff);
	return off;
}

struct frame_erspan3 {
	__u8	version;	/* 0: 2, the version of type III */
	__u16	vlan;
	__u8	cos;
	__u8	bso;
	bool	t;
	__u16	session;
	__u32	timestamp;
	__u16	sgt;
	bool	p;
	__u8	ft;		/* frame type: 0 Ethernet, 2 IP */
	__u8	hw_id;
	bool	d;
	__u8	gra;		/* timestamp granularity */
	bool	o;		/* an 8-byte platform subheader follows */
	__u8	platf_id;
	__u64	platf_info;	/* low 58 bits */
};

/*
 * ERSPAN type III, after GRE protocol 0x22eb: ver(4) vlan(12) cos(3)
 * bso(2) t(1) session(10), timestamp(32), sgt(16) p(1) ft(5) hw_id(6)
 * d(1) gra(2) o(1), then when o is set platf_id(6) and 58 bits of
 * platform-specific information.
 */
static inline __u32 frame_erspan3(struct frame *f, const struct frame_erspan3 *o)
{
	__u32 off;

	frame__link(f, FRAME_ETH_P_ERSPAN3, 0);
	off = frame__grow(f, o->o ? 20 : 12);
	frame_put16(f, off, (o->version ? o->version : 2) << 12 |
			    (o->vlan & 0xfff));
	frame_put16(f, off + 2, (o->cos & 7) << 13 | (o->bso & 3) << 11 |
				(o->t ? 1 << 10 : 0) | (o->session & 0x3ff));
	frame_put32(f, off + 4, o->timestamp);
	frame_put16(f, off + 8, o->sgt);
	frame_put16(f, off + 10, (o->p ? 0x8000 : 0) | (o->ft & 0x1f) << 10 |
				 (o->hw_id & 0x3f) << 4 | (o->d ? 8 : 0) |
				 (o->gra & 3) << 1 | (o->o ? 1 : 0));
	if (o->o) {
		__u64 v = (__u64)(o->platf_id & 0x3f) << 58 |
			  (o->platf_info & ((1ull << 58) - 1));

		frame_put32(f, off + 12, v >> 32);
		frame_put32(f, off + 16, v);
	}
	return off;
}

/* n payload bytes, written (a recognisable pattern). */
static inline __u32 frame_payload(struct frame *f, __u32 n)
{
	__u32 off = frame__grow(f, n);

	for (__u32 i = 0; i < n; i++)
		f->data[off + i] = 'a' + i % 26;
	f->next_kind = FRAME_NEXT_NONE;
	return off;
}

/*
 * n payload bytes that were on the wire but are not in the frame: the
 * capture cut them. Nothing may follow.
 */
static inline void frame_payload_cut(struct frame *f, __u32 n)
{
	f->cut += n;
	f->next_kind = FRAME_NEXT_NONE;
}

static inline __u32 frame__sum(const __u8 *p, __u32 n, __u32 sum)
{
	for (__u32 i = 0; i + 1 < n; i += 2)
		sum += p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += p[n - 1] << 8;
	return sum;
}

static inline __u16 frame__fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* The pseudo-header of an L4 checksum, from the IP header it sits in. */
static inline __u32 frame__pseudo(const struct frame *f,
				  const struct frame_fix *x, __u8 proto,
				  __u32 len)
{
	const __u8 *ip = f->data + x->ip_off;

	if (x->ip_v6)
		return frame__sum(ip + 8, 32, 0) + proto + (len >> 16) +
		       (len & 0xffff);
	return frame__sum(ip + 12, 8, 0) + proto + len;
}

/*
 * Fill in lengths, then checksums innermost first, so that an outer
 * checksum (GRE) covers inner ones already final.
 */
static inline void frame_end(struct frame *f)
{
	__u32 wire = frame_wire_len(f);
	int i;

	for (i = 0; i < f->n_fix; i++) {
		struct frame_fix *x = &f->fix[i];

		if (x->keep_len)
			continue;
		switch (x->kind) {
		case FRAME_FIX_IPV4:
		case FRAME_FIX_UDP:
			frame_put16(f, x->off + (x->kind == FRAME_FIX_UDP ? 4 : 2),
				    wire - x->off);
			break;
		case FRAME_FIX_IPV6:
			frame_put16(f, x->off + 4, wire - x->off - 40);
			break;
		case FRAME_FIX_JUMBO:
			/* after the IPv6 header's own fix, which came first */
			frame_put16(f, x->ip_off + 4, 0);
			frame_put32(f, x->off + 4, wire - x->ip_off - 40);
			break;
		}
	}
	for (i = f->n_fix - 1; i >= 0; i--) {
		struct frame_fix *x = &f->fix[i];
		__u32 n = f->len - x->off, sum;
		__u8 *p = f->data + x->off;

		if (x->kind == FRAME_FIX_IPV4) {
			__u32 hlen = (p[0] & 0xf) * 4;

			/* an IHL below 5 still has the 20 bytes written */
			if (hlen < 20)
				hlen = 20;
			frame_put16(f, x->off + 10, 0);
			frame_put16(f, x->off + 10,
				    frame__fold(frame__sum(p, hlen, 0)));
			continue;
		}
		if (x->kind == FRAME_FIX_IPV6 || x->kind == FRAME_FIX_JUMBO ||
		    f->cut)
			continue;	/* no checksum over bytes not here */
		switch (x->kind) {
		case FRAME_FIX_TCP:
			frame_put16(f, x->off + 16, 0);
			sum = frame__pseudo(f, x, FRAME_IPPROTO_TCP, n);
			frame_put16(f, x->off + 16,
				    frame__fold(frame__sum(p, n, sum)));
			break;
		case FRAME_FIX_UDP: {
			__u16 c;

			frame_put16(f, x->off + 6, 0);
			sum = frame__pseudo(f, x, FRAME_IPPROTO_UDP, n);
			c = frame__fold(frame__sum(p, n, sum));
			/* zero means "no checksum" in UDP */
			frame_put16(f, x->off + 6, c ? c : 0xffff);
			break;
		}
		case FRAME_FIX_ICMP:
			frame_put16(f, x->off + 2, 0);
			frame_put16(f, x->off + 2,
				    frame__fold(frame__sum(p, n, 0)));
			break;
		case FRAME_FIX_ICMPV6:
			frame_put16(f, x->off + 2, 0);
			sum = frame__pseudo(f, x, FRAME_IPPROTO_ICMPV6, n);
			frame_put16(f, x->off + 2,
				    frame__fold(frame__sum(p, n, sum)));
			break;
		case FRAME_FIX_GRE:
			frame_put16(f, x->off + 4, 0);
			frame_put16(f, x->off + 4,
				    frame__fold(frame__sum(p, n, 0)));
			break;
		}
	}
}

/*
 * Classic pcap (microsecond timestamps, DLT_EN10MB), written by hand so
 * that a tool needs nothing but stdio. The record's original length is
 * the wire length, its captured length what the frame holds (or less).
 */
static inline FILE *frame_pcap_open(const char *path)
{
	struct {
		__u32	magic;		/* in host order: readers swap */
		__u16	major;
		__u16	minor;
		__s32	thiszone;
		__u32	sigfigs;
		__u32	snaplen;
		__u32	linktype;
	} hdr = { 0xa1b2c3d4, 2, 4, 0, 0, FRAME_MAX, 1 /* Ethernet */ };
	FILE *fp = fopen(path, "wb");

	if (fp && fwrite(&hdr, sizeof(hdr), 1, fp) != 1) {
		fclose(fp);
		fp = NULL;
	}
	return fp;
}

/* caplen 0: all the frame holds. */
static inline int frame_pcap_write(FILE *fp, const struct frame *f,
				   __u32 caplen, __u64 ts_ns)
{
	__u32 rec[4];

	if (!caplen || caplen > f->len)
		caplen = f->len;
	rec[0] = ts_ns / 1000000000ull;
	rec[1] = ts_ns % 1000000000ull / 1000;
	rec[2] = caplen;
	rec[3] = frame_wire_len(f);
	if (fwrite(rec, sizeof(rec), 1, fp) != 1 ||
	    fwrite(f->data, 1, caplen, fp) != caplen)
		return -1;
	return 0;
}

#endif /* NBDPATH_FRAMES_H */
