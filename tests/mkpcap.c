// SPDX-License-Identifier: GPL-2.0
/*
 * mkpcap - write the captures that `nbdpath replay` is tested and
 * measured with, one named scenario at a time.
 *
 *	mkpcap SCENARIO OUT [--pcapng] [--snaplen N] [--frames N] [--flows N]
 *		[--start SECONDS]
 *
 * pcap files go through libpcap's dump API with nanosecond timestamps;
 * pcapng is written here (libpcap 1.10 reads it but cannot write it).
 * The frames come from tests/frames.h. What each scenario holds, and so
 * what a replay of it must report, is described at its function.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pcap/pcap.h>

#include "frames.h"
#include "seed.h"

#define T0_NS		(SEED_UNIX0 * 1000000000ull)
/* not a whole number of microseconds: the nanoseconds must survive */
#define STEP_NS		1000123ull
#define SNAPLEN		262144

#define SLL_HDR_LEN	16

/* The seed lab (tests/seed.h): requests reach vmk0, data leaves by vmk4. */
static const __u8 VMK0[6] = { MAC_VMK0_BYTES };
static const __u8 VMK4[6] = { MAC_VMK4_BYTES };
/* the router on VLAN 10, through which the appliance reaches vmk0 */
static const __u8 GW10[6] = { MAC_GW_BYTES };
/* the backup appliance on VLAN 28 */
static const __u8 CLIENT[6] = { MAC_RUBRIK_BYTES };
/* a second host, for several-flow captures */
static const __u8 H2VMK0[6] = { MAC_ESX2_VMK0_BYTES };
static const __u8 H2VMK4[6] = { MAC_ESX2_VMK4_BYTES };
/* the remote mirror's outer frame */
static const __u8 MIRROR_DST[6] = { MAC_MIRROR_DST_BYTES };
static const __u8 MIRROR_SRC[6] = { MAC_MIRROR_SRC_BYTES };

#define SESSION_TO	100		/* ERSPAN session mirroring vmk0 */
#define SESSION_FROM	101		/* ...and vmk4 */

enum encap { ENC_NONE, ENC_ERSPAN1, ENC_ERSPAN2, ENC_ERSPAN3, ENC_TEB };

/* ---- output: pcap through libpcap, pcapng by hand ---- */

struct out {
	const char *path;
	bool ng;
	int dlt;
	int dlt2;			/* pcapng: a second interface's, or 0 */
	__u32 iface;			/* pcapng: of the next frame */
	bool no_idb;			/* pcapng: a section header alone */
	pcap_t *dead;
	pcap_dumper_t *dump;
	FILE *f;			/* pcapng */
	__u32 snaplen;			/* 0: whole frames */
	__u32 last_caplen;
	__u64 frames;
};

static int ng_write(struct out *o, const void *p, size_t n)
{
	return fwrite(p, 1, n, o->f) == n ? 0 : -1;
}

/*
 * pcapng: a section header, one interface with nanosecond resolution
 * (if_tsresol = 9) (two with dlt2), then an enhanced packet block per
 * frame. Blocks are written in host byte order, which the byte-order
 * magic announces. A new section starts numbering interfaces again.
 */
static int ng_section(struct out *o)
{
	struct {
		__u32 type, len, bom;
		__u16 major, minor;
		__s64 section_len;
		__u32 len2;
	} __attribute__((packed)) shb = {
		0x0a0d0d0a, 28, 0x1a2b3c4d, 1, 0, -1, 28,
	};
	struct {
		__u32 type, len;
		__u16 linktype, reserved;
		__u32 snaplen;
		__u16 opt_code, opt_len;
		__u8 tsresol, pad[3];
		__u16 end_code, end_len;
		__u32 len2;
	} __attribute__((packed)) idb = {
		1, 32, o->dlt, 0, SNAPLEN, 9, 1, 9, { 0 }, 0, 0, 32,
	};

	if (ng_write(o, &shb, sizeof(shb)))
		return -1;
	if (o->no_idb)
		return 0;
	if (ng_write(o, &idb, sizeof(idb)))
		return -1;
	idb.linktype = o->dlt2;
	return o->dlt2 ? ng_write(o, &idb, sizeof(idb)) : 0;
}

static int ng_open(struct out *o)
{
	o->f = fopen(o->path, "wb");
	return o->f ? ng_section(o) : -1;
}

static int ng_packet(struct out *o, __u64 ts, const void *data, __u32 caplen,
		     __u32 len)
{
	static const __u8 zero[4];
	__u32 pad = (4 - caplen % 4) % 4;
	__u32 total = 32 + caplen + pad;
	__u32 head[7] = {
		6, total, o->iface, (__u32)(ts >> 32), (__u32)ts, caplen, len,
	};

	return ng_write(o, head, sizeof(head)) ||
	       ng_write(o, data, caplen) || ng_write(o, zero, pad) ||
	       ng_write(o, &total, sizeof(total));
}

static int out_open(struct out *o)
{
	if (o->ng)
		return ng_open(o);
	o->dead = pcap_open_dead_with_tstamp_precision(o->dlt, SNAPLEN,
						       PCAP_TSTAMP_PRECISION_NANO);
	if (!o->dead)
		return -1;
	o->dump = pcap_dump_open(o->dead, o->path);
	return o->dump ? 0 : -1;
}

static int out_packet(struct out *o, __u64 ts, const void *data, __u32 avail,
		      __u32 len)
{
	struct pcap_pkthdr h = {};
	__u32 caplen = avail;

	if (o->snaplen && caplen > o->snaplen)
		caplen = o->snaplen;
	o->last_caplen = caplen;
	o->frames++;
	if (o->ng)
		return ng_packet(o, ts, data, caplen, len);

	h.caplen = caplen;
	h.len = len;
	/* in a nanosecond-precision dump, tv_usec holds nanoseconds */
	h.ts.tv_sec = ts / 1000000000ull;
	h.ts.tv_usec = ts % 1000000000ull;
	pcap_dump((u_char *)o->dump, &h, data);
	return 0;
}

static int out_close(struct out *o)
{
	int err = 0;

	if (o->ng && o->f) {
		err = ferror(o->f) ? -1 : 0;
		if (fclose(o->f))
			err = -1;
	}
	if (o->dump) {
		if (pcap_dump_flush(o->dump) || ferror(pcap_dump_file(o->dump)))
			err = -1;
		pcap_dump_close(o->dump);
	}
	if (o->dead)
		pcap_close(o->dead);
	o->f = NULL;
	o->dump = NULL;
	o->dead = NULL;
	return err;
}

/* ---- frames of a conversation ---- */

struct gen {
	struct out out;
	__u64 t;			/* capture time of the next frame */
	enum encap encap;
	__u32 gre_seq;
	bool cooked;			/* Linux cooked capture (SLL) */
	/* pcapng: each frame also as `-i any` sees it, on interface 1 (0 with sll_first) */
	bool mixed;
	bool sll_first;
	int err;
};

/* One direction's layer 2 as the mirror sees it. */
struct side {
	const __u8 *dmac;
	const __u8 *smac;
	__u16 vlan;			/* 0: untagged */
};

struct conv {
	bool v6;
	const char *server;
	const char *client;
	__u16 server_port;
	__u16 client_port;
	struct side to;			/* to_server frames */
	struct side from;		/* from_server frames */
	__u32 seq[2];			/* next sequence number, per direction */
};

#define TO	0
#define FROM	1

/* What `tcpdump -i any` writes: no destination MAC. */
static int emit_cooked(struct gen *g, const struct frame *f)
{
	__u8 buf[SLL_HDR_LEN + FRAME_MAX];

	memset(buf, 0, SLL_HDR_LEN);
	buf[3] = 1;					/* ARPHRD_ETHER */
	buf[5] = 6;
	memcpy(buf + 6, f->data + 6, 6);
	memcpy(buf + 14, f->data + 12, 2);		/* protocol */
	memcpy(buf + SLL_HDR_LEN, f->data + 14, f->len - 14);
	return out_packet(&g->out, g->t, buf, f->len - 14 + SLL_HDR_LEN,
			  frame_wire_len(f) - 14 + SLL_HDR_LEN);
}

static void emit(struct gen *g, const struct frame *f)
{
	int err;

	if (g->mixed) {
		g->out.iface = g->sll_first;
		err = out_packet(&g->out, g->t, f->data, f->len,
				 frame_wire_len(f));
		g->out.iface = !g->sll_first;
		err = err ?: emit_cooked(g, f);
	} else if (g->cooked) {
		err = emit_cooked(g, f);
	} else {
		err = out_packet(&g->out, g->t, f->data, f->len,
				 frame_wire_len(f));
	}
	if (err)
		g->err = -1;
	g->t += STEP_NS;
}

/* The remote mirror's outer headers, then the mirrored frame's Ethernet. */
static void begin(struct gen *g, struct frame *f, const struct side *s,
		  int dir)
{
	__u16 session = dir == TO ? SESSION_TO : SESSION_FROM;

	frame_init(f);
	if (g->encap != ENC_NONE) {
		frame_eth(f, MIRROR_DST, MIRROR_SRC);
		frame_ipv4(f, &(struct frame_ip4){ .saddr = IP_MIRROR_SRC,
						   .daddr = IP_MIRROR_DST });
	}
	switch (g->encap) {
	case ENC_NONE:
		break;
	case ENC_ERSPAN1:
		/* no sequence number, no ERSPAN header */
		frame_gre(f, &(struct frame_gre){ .proto = FRAME_ETH_P_ERSPAN });
		break;
	case ENC_ERSPAN2:
		frame_gre(f, &(struct frame_gre){ .flags = FRAME_GRE_S,
						  .seq = g->gre_seq++ });
		frame_erspan2(f, &(struct frame_erspan2){ .session = session,
							  .vlan = s->vlan });
		break;
	case ENC_ERSPAN3:
		/* the from_server session carries the platform subheader */
		frame_gre(f, &(struct frame_gre){ .flags = FRAME_GRE_S,
						  .seq = g->gre_seq++ });
		frame_erspan3(f, &(struct frame_erspan3){ .session = session,
							  .vlan = s->vlan,
							  .o = dir == FROM,
							  .platf_id = 3 });
		break;
	case ENC_TEB:
		frame_gre(f, &(struct frame_gre){ .flags = FRAME_GRE_C |
								FRAME_GRE_K,
						  .key = 42 });
		break;
	}
	frame_eth(f, s->dmac, s->smac);
	if (s->vlan)
		frame_vlan(f, FRAME_ETH_P_8021Q, s->vlan);
}

struct seg {
	__u8 flags;
	__u32 payload;
	__u8 ip_opt;			/* IPv4 option bytes */
	__u16 v6_ext;			/* IPv6 destination-options bytes */
	__u32 cut;			/* of the payload, bytes not captured */
};

/* Sequence numbers advance as a real sender's would: Wireshark shows a
 * clean session.
 */
static void tcp(struct gen *g, struct conv *c, int dir, const struct seg *s)
{
	static struct frame f;
	const struct side *sd = dir == TO ? &c->to : &c->from;
	const char *src = dir == TO ? c->client : c->server;
	const char *dst = dir == TO ? c->server : c->client;

	begin(g, &f, sd, dir);
	if (c->v6) {
		frame_ipv6(&f, &(struct frame_ip6){ .saddr = src, .daddr = dst });
		if (s->v6_ext)
			frame_ip6_ext(&f, FRAME_IPPROTO_DSTOPTS, s->v6_ext);
	} else {
		frame_ipv4(&f, &(struct frame_ip4){ .saddr = src, .daddr = dst,
						    .df = true,
						    .opt_len = s->ip_opt });
	}
	frame_tcp(&f, &(struct frame_tcp){
		.sport = dir == TO ? c->client_port : c->server_port,
		.dport = dir == TO ? c->server_port : c->client_port,
		.seq = c->seq[dir], .ack = s->flags & FRAME_TH_ACK ?
					   c->seq[!dir] : 0,
		.flags = s->flags });
	frame_payload(&f, s->payload - s->cut);
	if (s->cut)
		frame_payload_cut(&f, s->cut);
	frame_end(&f);
	emit(g, &f);
	c->seq[dir] += s->payload + !!(s->flags & FRAME_TH_SYN) +
		       !!(s->flags & FRAME_TH_FIN);
}

#define SYN	FRAME_TH_SYN
#define ACK	FRAME_TH_ACK
#define PSH	FRAME_TH_PSH
#define FIN	FRAME_TH_FIN

static void seg(struct gen *g, struct conv *c, int dir, __u8 flags,
		__u32 payload)
{
	tcp(g, c, dir, &(struct seg){ .flags = flags, .payload = payload });
}

/* ARP reply by which vmk4 tells the appliance it owns 10.0.28.10. */
static void arp_vmk4(struct gen *g, const struct conv *c)
{
	static struct frame f;

	begin(g, &f, &c->from, FROM);
	frame_arp(&f, 2, VMK4, IP_ESX_VMK4, CLIENT, IP_RUBRIK);
	frame_end(&f);
	emit(g, &f);
}

/* Neighbour advertisement: vmk4 owns 2001:db8:28::10. */
static void na_vmk4(struct gen *g, const struct conv *c)
{
	static struct frame f;

	begin(g, &f, &c->from, FROM);
	frame_ipv6(&f, &(struct frame_ip6){ .saddr = IP6_VMK4_LL,
					    .daddr = IP6_RUBRIK,
					    .hop_limit = 255 });
	frame_icmp6_na(&f, IP6_ESX_VMK4, VMK4);
	frame_end(&f);
	emit(g, &f);
}

static const struct conv seed_conv = {
	.server = IP_ESX, .client = IP_RUBRIK,
	.server_port = NBD_PORT, .client_port = CLIENT_PORT,
	.to = { VMK0, GW10, VLAN_MGMT },
	.from = { CLIENT, VMK4, VLAN_BACKUP },
	.seq = { 1000000, 5000000 },
};

/*
 * The NBD session of the seed write-up, after the owner of vmk4's MAC
 * announced itself:
 *   to_server (vmk0, VLAN 10): SYN, ACK, request (64), ACK, FIN, ACK
 *	6 packets, 304 bytes, payload 64
 *   from_server (vmk4, VLAN 28): SYN/ACK, 1448, 1448, 1000, FIN
 *	5 packets, 4096 bytes, payload 3896 (more with big_reply)
 * 12 frames: 11 matched, 1 not_ip (the ARP).
 */
static void nbd_session(struct gen *g, struct conv *c, __u32 big_reply)
{
	__u32 r = big_reply ? big_reply : 1448;

	if (c->v6)
		na_vmk4(g, c);
	else
		arp_vmk4(g, c);
	seg(g, c, TO, SYN, 0);
	seg(g, c, FROM, SYN | ACK, 0);
	seg(g, c, TO, ACK, 0);
	if (c->v6)
		tcp(g, c, TO, &(struct seg){ .flags = PSH | ACK, .payload = 64,
					     .v6_ext = 8 });
	else
		seg(g, c, TO, PSH | ACK, 64);
	seg(g, c, FROM, ACK, r);
	seg(g, c, FROM, ACK, r);
	seg(g, c, FROM, PSH | ACK, 1000);
	seg(g, c, TO, ACK, 0);
	seg(g, c, TO, FIN | ACK, 0);
	seg(g, c, FROM, FIN | ACK, 0);
	seg(g, c, TO, ACK, 0);
}

static void sc_seed(struct gen *g)
{
	struct conv c = seed_conv;

	nbd_session(g, &c, 0);
}

/* Replies leave by vmk0 too: verdict symmetric, same counts as seed. */
static void sc_symmetric(struct gen *g)
{
	struct conv c = seed_conv;

	c.from = (struct side){ GW10, VMK0, VLAN_MGMT };
	nbd_session(g, &c, 0);
}

/*
 * The seed over IPv6; the vmk4 owner comes from a neighbour advertisement
 * (not_tcp) and the request carries an 8-byte destination-options header.
 *   to_server 6 packets, 432 bytes, payload 64
 *   from_server 5 packets, 4196 bytes, payload 3896
 */
static void sc_ipv6(struct gen *g)
{
	struct conv c = seed_conv;

	c.v6 = true;
	c.server = IP6_ESX;
	c.client = IP6_RUBRIK;
	nbd_session(g, &c, 0);
}

/*
 * The seed over IPv4, then the same session over IPv6 between the
 * IPv4-mapped forms of its addresses (::ffff:10.0.28.50 to
 * ::ffff:10.0.0.10, the same ports), its replies leaving by vmk0: two
 * flows and two hosts, not one.
 *   10.0.0.10: as seed, asymmetric
 *   ::ffff:10.0.0.10: as ipv6, symmetric through vmk0 (VLAN 10)
 * 24 frames: 22 matched, 1 not_ip (the ARP), 1 not_tcp (the NA), 12 IPv6.
 */
static void sc_mapped(struct gen *g)
{
	struct conv c = seed_conv;

	nbd_session(g, &c, 0);
	c = seed_conv;
	c.v6 = true;
	c.server = "::ffff:" IP_ESX;
	c.client = "::ffff:" IP_RUBRIK;
	c.from = (struct side){ GW10, VMK0, VLAN_MGMT };
	nbd_session(g, &c, 0);
}

/*
 * The seed with a 9000-byte MTU: two full jumbo replies.
 *   from_server 5 packets, 19120 bytes, payload 18920
 */
static void sc_jumbo(struct gen *g)
{
	struct conv c = seed_conv;

	nbd_session(g, &c, 8960);
}

/*
 * The seed as a mirror with a 60-byte "mirrored packet length" keeps it,
 * plus two requests with IPv4 options (16 and 40 bytes): the first still
 * shows its ports in 60 bytes and counts, the second does not (truncated).
 *   to_server 7 packets, 460 bytes, payload 164
 *   stats: packets 14, matched 12, not_ip 1, truncated 1
 */
static void sc_snaplen(struct gen *g)
{
	struct conv c = seed_conv;

	g->out.snaplen = 60;
	nbd_session(g, &c, 0);
	tcp(g, &c, TO, &(struct seg){ .flags = ACK, .payload = 100,
				      .ip_opt = 16 });
	tcp(g, &c, TO, &(struct seg){ .flags = ACK, .payload = 100,
				      .ip_opt = 40 });
}

/* A frame of n bytes of nothing in particular. */
static void raw(struct gen *g, __u32 caplen, __u32 len)
{
	static const __u8 junk[64] = { 0x00, 0x25, 0xb5, 0x00, 0x00, 0x0a };
	int err = out_packet(&g->out, g->t, junk, caplen, len);

	if (err)
		g->err = -1;
	g->t += STEP_NS;
}

/*
 * One frame for every way a frame can fail, then one good segment:
 *   truncated 3: a 10-byte runt, an empty record, Ethernet alone
 *   malformed 6: IHL 4, total length < header, TCP doff 3, IP version 5,
 *	IPv6 payload length 0 without a jumbo payload option, an IPv6
 *	jumbogram of a length below 65536 (an error by RFC 2675)
 *   not_tcp 1 (UDP to 902), other_port 1 (TCP to 80), fragment 1,
 *   unsupported 2: GRE version 1, three VLAN tags
 *   not_ip 1 (LLDP), matched 1
 * 16 frames; vlan 1, gre 1, ipv6 2.
 */
static void sc_malformed(struct gen *g)
{
	static struct frame f;
	const struct conv *c = &seed_conv;
	struct frame_ip4 ip = { .saddr = c->client, .daddr = c->server };
	struct frame_tcp th = { .sport = CLIENT_PORT, .dport = NBD_PORT, .flags = ACK };
	__u32 off;

	raw(g, 10, 60);
	raw(g, 0, 60);

	frame_init(&f);
	frame_eth(&f, VMK0, GW10);
	frame_set_next(&f, FRAME_ETH_P_IP);
	frame_end(&f);
	emit(g, &f);

	/* IHL 4 */
	frame_init(&f);
	frame_eth(&f, VMK0, GW10);
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = c->client,
					    .daddr = c->server, .ihl = 4 });
	frame_tcp(&f, &th);
	frame_end(&f);
	emit(g, &f);

	/* total length shorter than the header */
	frame_init(&f);
	frame_eth(&f, VMK0, GW10);
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = c->client,
					    .daddr = c->server,
					    .set_tot_len = true,
					    .tot_len = 10 });
	frame_tcp(&f, &th);
	frame_end(&f);
	emit(g, &f);

	/* TCP data offset 3 */
	frame_init(&f);
	frame_eth(&f, VMK0, GW10);
	frame_ipv4(&f, &ip);
	frame_tcp(&f, &(struct frame_tcp){ .sport = CLIENT_PORT, .dport = NBD_PORT,
					   .flags = ACK, .doff = 3 });
	frame_end(&f);
	emit(g, &f);

	/* EtherType IPv4, version 5 */
	frame_init(&f);
	frame_eth(&f, VMK0, GW10);
	frame_ipv4(&f, &ip);
	frame_tcp(&f, &th);
	frame_end(&f);
	f.data[14] = 0x55;
	emit(g, &f);

	/* UDP to 902 */
	frame_init(&f);
	frame_eth(&f, VMK0, GW10);
	frame_ipv4(&f, &ip);
	frame_udp(&f, CLIENT_PORT, NBD_PORT);
	frame_payload(&f, 20);
	frame_end(&f);
	emit(g, &f);

	/* TCP to another port */
	frame_init(&f);
	frame_eth(&f, VMK0, GW10);
	frame_ipv4(&f, &ip);
	frame_tcp(&f, &(struct frame_tcp){ .sport = CLIENT_PORT, .dport = 80,
					   .flags = SYN });
	frame_end(&f);
	emit(g, &f);

	/* a non-first fragment */
	frame_init(&f);
	frame_eth(&f, VMK0, GW10);
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = c->client,
					    .daddr = c->server,
					    .proto = FRAME_IPPROTO_TCP,
					    .frag_off = 185 });
	frame_payload(&f, 100);
	frame_end(&f);
	emit(g, &f);

	/* GRE version 1 (PPTP) */
	frame_init(&f);
	frame_eth(&f, MIRROR_DST, MIRROR_SRC);
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = IP_MIRROR_SRC,
					    .daddr = IP_MIRROR_DST });
	frame_gre(&f, &(struct frame_gre){ .version = 1, .proto = 0x880b });
	frame_payload(&f, 40);
	frame_end(&f);
	emit(g, &f);

	/* three VLAN tags */
	frame_init(&f);
	frame_eth(&f, VMK0, GW10);
	frame_vlan(&f, FRAME_ETH_P_8021AD, 100);
	frame_vlan(&f, FRAME_ETH_P_8021Q, 10);
	frame_vlan(&f, FRAME_ETH_P_8021Q, 11);
	frame_ipv4(&f, &ip);
	frame_tcp(&f, &th);
	frame_end(&f);
	emit(g, &f);

	/* IPv6 payload length 0 and a jumbo payload option (RFC 2675)
	 * saying 28 bytes, which the 16-bit field could have said
	 */
	frame_init(&f);
	frame_eth(&f, VMK0, GW10);
	frame_ipv6(&f, &(struct frame_ip6){ .saddr = IP6_RUBRIK,
					    .daddr = IP6_ESX,
					    .set_payload_len = true });
	off = frame_ip6_ext(&f, FRAME_IPPROTO_HOPOPTS, 8);
	frame_tcp(&f, &th);
	frame_end(&f);
	f.data[off + 2] = 0xc2;
	f.data[off + 3] = 4;
	frame_put32(&f, off + 4, f.len - off);
	emit(g, &f);

	/* IPv6 payload length 0 with no such option */
	frame_init(&f);
	frame_eth(&f, VMK0, GW10);
	frame_ipv6(&f, &(struct frame_ip6){ .saddr = IP6_RUBRIK,
					    .daddr = IP6_ESX,
					    .set_payload_len = true });
	frame_tcp(&f, &th);
	frame_end(&f);
	emit(g, &f);

	/* LLDP */
	frame_init(&f);
	frame_eth(&f, (const __u8[6]){ 0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e },
		  VMK0);
	frame_set_next(&f, 0x88cc);
	frame_payload(&f, 30);
	frame_end(&f);
	emit(g, &f);

	/* and one that counts */
	frame_init(&f);
	frame_eth(&f, VMK0, GW10);
	frame_ipv4(&f, &ip);
	frame_tcp(&f, &th);
	frame_payload(&f, 10);
	frame_end(&f);
	emit(g, &f);
}

/*
 * Two batches of 24 flows (SYN, SYN/ACK, one 1448-byte reply; never
 * closed), as many as the smallest flow table holds, the second batch
 * 400 s after the first: longer than the default 300 s idle timeout.
 * Host 10.0.0.10 in total: rx vmk0 48 packets 1920 bytes; tx vmk4 96
 * packets 73344 bytes.
 */
static void sc_idle(struct gen *g)
{
	char client[32];

	for (int batch = 0; batch < 2; batch++) {
		for (int i = 0; i < 24; i++) {
			struct conv c = seed_conv;

			snprintf(client, sizeof(client), "10.0.%d.%d",
				 28 + batch, 50 + i);
			c.client = client;
			c.client_port = 40000 + 257 * i;
			seg(g, &c, TO, SYN, 0);
			seg(g, &c, FROM, SYN | ACK, 0);
			seg(g, &c, FROM, ACK, 1448);
		}
		g->t += 400 * 1000000000ull;
	}
}

/*
 * A capture whose clock steps back, as an NTP step or two captures merged
 * in the wrong order make it (with --pcapng: two sections, the later
 * first). Three groups of twelve flows as sc_idle's, each flow SYN,
 * SYN/ACK and a 1448-byte reply: F (clients 10.0.30.50-61) at T0 + 2000 s,
 * then A (10.0.28.50-61) at T0, then B (10.0.29.50-61) at T0 + 400 s. In
 * the smallest table (24 slots: two buckets and the stash) F and A fill
 * it; B's flows reclaim A's slots, idle by then in their own time (F's are
 * not): A's counts must have been read first. 108 frames; host 10.0.0.10:
 * rx vmk0 36 packets 1440 bytes, tx vmk4 72 packets 55008 bytes.
 */
#define STEPBACK_FLOWS	12
static void sc_stepback(struct gen *g)
{
	static const struct { int net; __u64 at; } grp[3] = {
		{ 30, 2000 }, { 28, 0 }, { 29, 400 },
	};
	char client[32];

	for (int k = 0; k < 3; k++) {
		g->t = T0_NS + grp[k].at * 1000000000ull;
		if (k == 1 && g->out.ng && ng_section(&g->out))
			g->err = -1;
		for (int i = 0; i < STEPBACK_FLOWS; i++) {
			struct conv c = seed_conv;

			snprintf(client, sizeof(client), "10.0.%d.%d",
				 grp[k].net, 50 + i);
			c.client = client;
			c.client_port = 40000 + 257 * i;
			seg(g, &c, TO, SYN, 0);
			seg(g, &c, FROM, SYN | ACK, 0);
			seg(g, &c, FROM, ACK, 1448);
		}
	}
}

/*
 * pcapng only: the seed session on an Ethernet interface, each frame
 * followed by the same as a Linux cooked capture (`-i any`) records it on
 * a second interface (mixlink_sll: the cooked interface is the first).
 * What replay classifies is the seed's; 12 frames are not Ethernet.
 */
static void sc_mixlink(struct gen *g)
{
	sc_seed(g);
}

/*
 * pcapng only, crafted: a block whose length field is 0, then bytes of
 * 0xff (zerolen: right after the section header; zerolen_late: after the
 * seed session's 12 frames). libpcap refuses such a block; it must be
 * the first to read it.
 */
static void sc_zerolen(struct gen *g)
{
	static const __u8 fill[600] = { [0 ... 599] = 0xff };
	const __u32 head[2] = { 6, 0 };

	if (ng_write(&g->out, head, sizeof(head)) ||
	    ng_write(&g->out, fill, sizeof(fill)))
		g->err = -1;
}

static void sc_zerolen_late(struct gen *g)
{
	sc_seed(g);
	sc_zerolen(g);
}

/*
 * Six flows, their frames interleaved, for the cross-check with tshark:
 * flow i (client 10.0.28.50+i, port 50000 + 1000 i) sends i+1 requests
 * of 100 (i+1) bytes, each answered by i+1 replies of 1000 + 37 i bytes.
 * Flows 0-3 to host 10.0.0.10, 4-5 to 10.0.0.11 (its own vmk0/vmk4);
 * flows 2 and 5 are answered by vmk0 (symmetric).
 */
static void sc_multi(struct gen *g)
{
	struct conv c[6];
	char clients[6][32];
	int step, i, r;

	for (i = 0; i < 6; i++) {
		bool h2 = i >= 4, sym = i == 2 || i == 5;

		c[i] = seed_conv;
		snprintf(clients[i], sizeof(clients[i]), "10.0.28.%d", 50 + i);
		c[i].client = clients[i];
		c[i].client_port = 50000 + 1000 * i;
		c[i].server = h2 ? IP_ESX2 : IP_ESX;
		c[i].to.dmac = h2 ? H2VMK0 : VMK0;
		if (sym)
			c[i].from = (struct side){ GW10, h2 ? H2VMK0 : VMK0, VLAN_MGMT };
		else
			c[i].from.smac = h2 ? H2VMK4 : VMK4;
	}
	/* step s of every flow in turn: handshake, requests, FINs */
	for (step = 0; step < 3; step++) {
		for (i = 0; i < 6; i++) {
			switch (step) {
			case 0:
				seg(g, &c[i], TO, SYN, 0);
				seg(g, &c[i], FROM, SYN | ACK, 0);
				seg(g, &c[i], TO, ACK, 0);
				break;
			case 1:
				for (r = 0; r <= i; r++) {
					seg(g, &c[i], TO, PSH | ACK, 100 * (i + 1));
					for (int k = 0; k <= i; k++)
						seg(g, &c[i], FROM, ACK,
						    1000 + 37 * i);
				}
				break;
			case 2:
				seg(g, &c[i], TO, FIN | ACK, 0);
				seg(g, &c[i], FROM, FIN | ACK, 0);
				seg(g, &c[i], TO, ACK, 0);
				break;
			}
		}
	}
}

/*
 * Three hours of backup jobs (T0 = SEED_UNIX0, times below in seconds
 * from it): in every 600 s interval i = 0..17 but i = 15, a job to host
 * 10.0.0.10 starts at 600 i and one to 10.0.0.20 at 600 i + 330: 34
 * jobs, numbered n = 0..33 in time order, client 10.0.28.50 port
 * 40000 + n. Interval 15 (9000-9600 s) has no frame at all. Each job:
 *   S:		SYN, SYN/ACK, ACK, then at S + 1 the 64-byte request
 *   S + 60:	reply 1448;  S + 120: reply 1448, ACK;  S + 150: reply 1000
 *   S + 200:	n % 3 == 0: FIN, FIN, ACK (closed); n % 3 == 1: RST (reset);
 *		n % 3 == 2, and job 33: nothing more (left open)
 * frames of one phase 1000123 ns apart. Counts, to_server / from_server
 * (bytes: IP lengths):
 *   closed 6 pkts 304 bytes payload 64 / 5 pkts 4096 bytes payload 3896
 *   reset  5 pkts 264 bytes payload 64 / 4 pkts 4056 bytes payload 3896
 *   open   4 pkts 224 bytes payload 64 / 4 pkts 4056 bytes payload 3896
 * Requests reach each host's vmk0 (VLAN 10); replies leave by the same
 * vmk0, but those of 10.0.0.10 sent from 3600 s to 7200 s (jobs 12, 14,
 * ..., 22) leave by vmk4 onto VLAN 28: asymmetric for that hour only.
 * At the end (10680 s, job 33's last reply) job 33 is active, job 32
 * idle for 330 s, the other open jobs longer.
 */
#define LONG_JOBS	34
#define LONG_ASYM_FROM	3600
#define LONG_ASYM_TO	7200

static void long_from_side(struct conv *c, bool h2, __u64 s)
{
	if (!h2 && s >= LONG_ASYM_FROM && s < LONG_ASYM_TO)
		c->from = (struct side){ CLIENT, VMK4, VLAN_BACKUP };
	else
		c->from = (struct side){ GW10, h2 ? H2VMK0 : VMK0, VLAN_MGMT };
}

static void long_at(struct gen *g, struct conv *c, bool h2, __u64 s,
		    __u64 off)
{
	g->t = T0_NS + (s + off) * 1000000000ull;
	long_from_side(c, h2, s + off);
}

static void sc_long(struct gen *g)
{
	for (int n = 0; n < LONG_JOBS; n++) {
		int i = n / 2 + (n / 2 >= 15);
		bool h2 = n % 2;
		__u64 s = 600 * i + (h2 ? 330 : 0);
		struct conv c = seed_conv;

		c.server = h2 ? IP_ESX2 : IP_ESX;
		c.to.dmac = h2 ? H2VMK0 : VMK0;
		c.client_port = 40000 + n;
		long_at(g, &c, h2, s, 0);
		seg(g, &c, TO, SYN, 0);
		seg(g, &c, FROM, SYN | ACK, 0);
		seg(g, &c, TO, ACK, 0);
		long_at(g, &c, h2, s, 1);
		seg(g, &c, TO, PSH | ACK, 64);
		long_at(g, &c, h2, s, 60);
		seg(g, &c, FROM, ACK, 1448);
		long_at(g, &c, h2, s, 120);
		seg(g, &c, FROM, ACK, 1448);
		seg(g, &c, TO, ACK, 0);
		long_at(g, &c, h2, s, 150);
		seg(g, &c, FROM, PSH | ACK, 1000);
		if (n % 3 == 2 || n == LONG_JOBS - 1)
			continue;
		long_at(g, &c, h2, s, 200);
		if (n % 3 == 1) {
			seg(g, &c, TO, FRAME_TH_RST | ACK, 0);
			continue;
		}
		seg(g, &c, TO, FIN | ACK, 0);
		seg(g, &c, FROM, FIN | ACK, 0);
		seg(g, &c, TO, ACK, 0);
	}
}

/* The seed as `tcpdump -i any` writes it: no MACs to attribute. */
static void sc_cooked(struct gen *g)
{
	struct conv c = seed_conv;

	c.to.vlan = 0;
	c.from.vlan = 0;
	nbd_session(g, &c, 0);
}

/*
 * Frames of many flows for measuring: each flow sends a 64-byte request
 * and gets a 1448-byte reply, flows taking turns, 1 us apart. Client
 * addresses count up and their ports jump about, as unrelated as the
 * ephemeral ports of many appliances' connections are.
 */
static void sc_bench(struct gen *g, unsigned long frames, unsigned int flows)
{
	struct conv c = seed_conv;
	char client[32];

	for (unsigned long n = 0; n < frames && !g->err; n++) {
		unsigned int i = (n / 2) % flows;

		snprintf(client, sizeof(client), "10.%u.%u.%u",
			 28 + (i >> 16), (i >> 8) & 255, i & 255);
		c.client = client;
		c.client_port = 1024 + (i * 7919u) % 64000;
		g->t = T0_NS + n * 1000;
		if (n % 2)
			seg(g, &c, FROM, ACK, 1448);
		else
			seg(g, &c, TO, PSH | ACK, 64);
	}
}

/*
 * The seed through a remote mirror: outer Ethernet/IPv4/GRE, and for
 * ERSPAN II and III sessions 100 (the vmk0 side) and 101 (vmk4). Counts
 * as the seed's, plus gre (and erspan) on every frame.
 */
static void sc_erspan1(struct gen *g)
{
	g->encap = ENC_ERSPAN1;
	sc_seed(g);
}

static void sc_erspan2(struct gen *g)
{
	g->encap = ENC_ERSPAN2;
	sc_seed(g);
}

static void sc_erspan3(struct gen *g)
{
	g->encap = ENC_ERSPAN3;
	sc_seed(g);
}

static void sc_teb(struct gen *g)
{
	g->encap = ENC_TEB;
	sc_seed(g);
}

static const struct scenario {
	const char *name;
	void (*fn)(struct gen *g);
} scenarios[] = {
	{ "seed",	sc_seed },
	{ "symmetric",	sc_symmetric },
	{ "erspan1",	sc_erspan1 },
	{ "erspan2",	sc_erspan2 },
	{ "erspan3",	sc_erspan3 },
	{ "teb",	sc_teb },
	{ "snaplen",	sc_snaplen },
	{ "ipv6",	sc_ipv6 },
	{ "mapped",	sc_mapped },
	{ "malformed",	sc_malformed },
	{ "jumbo",	sc_jumbo },
	{ "idle",	sc_idle },
	{ "multi",	sc_multi },
	{ "long",	sc_long },
	{ "cooked",	sc_cooked },
	{ "cutshort",	sc_seed },	/* then cut in its last record */
	{ "stepback",	sc_stepback },
	{ "mixlink",	sc_mixlink },	/* pcapng only, as the zerolens */
	{ "mixlink_sll", sc_mixlink },
	{ "zerolen",	sc_zerolen },
	{ "zerolen_late", sc_zerolen_late },
	{ "bench",	NULL },		/* takes --frames and --flows */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mkpcap SCENARIO OUT [--pcapng] [--snaplen N] [--frames N] [--flows N] [--start SECONDS]\n"
		"scenarios:");
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		fprintf(f, " %s", scenarios[i].name);
	fprintf(f, "\n--frames/--flows: bench only (default 1000000 frames over 1000 flows)\n"
		"--start: unix time of the first frame (default %llu)\n",
		T0_NS / 1000000000ull);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pcapng", no_argument, NULL, 'n' },
		{ "snaplen", required_argument, NULL, 's' },
		{ "frames", required_argument, NULL, 'f' },
		{ "flows", required_argument, NULL, 'F' },
		{ "start", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct gen g;
	const struct scenario *sc = NULL;
	unsigned long frames = 1000000, flows = 1000;
	struct stat st;
	int c, ret = 1;

	g.out.dlt = DLT_EN10MB;
	g.t = T0_NS;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			g.out.ng = true;
			break;
		case 's':
			g.out.snaplen = strtoul(optarg, NULL, 0);
			break;
		case 'f':
			frames = strtoul(optarg, NULL, 0);
			break;
		case 'F':
			flows = strtoul(optarg, NULL, 0);
			if (!flows || flows > 1u << 24) {
				fprintf(stderr, "mkpcap: --flows 1..16777216\n");
				return 2;
			}
			break;
		case 'S':
			g.t = strtoull(optarg, NULL, 0) * 1000000000ull;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	for (size_t i = 0; argc - optind == 2 &&
			   i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (!strcmp(argv[optind], scenarios[i].name))
			sc = &scenarios[i];
	if (!sc) {
		usage(stderr);
		return 2;
	}
	g.out.path = argv[optind + 1];
	if (sc->fn == sc_cooked) {
		g.cooked = true;
		g.out.dlt = DLT_LINUX_SLL;
	}
	if (sc->fn == sc_mixlink) {
		g.mixed = true;
		g.sll_first = !strcmp(sc->name, "mixlink_sll");
		g.out.dlt = g.sll_first ? DLT_LINUX_SLL : DLT_EN10MB;
		g.out.dlt2 = g.sll_first ? DLT_EN10MB : DLT_LINUX_SLL;
	}
	g.out.no_idb = sc->fn == sc_zerolen;
	if (sc->fn == sc_mixlink || sc->fn == sc_zerolen ||
	    sc->fn == sc_zerolen_late)
		g.out.ng = true;

	if (out_open(&g.out))
		goto out;
	if (sc->fn)
		sc->fn(&g);
	else
		sc_bench(&g, frames, flows);
	if (out_close(&g.out) || g.err)
		goto out;
	/* cut the last record in the middle of its data */
	if (!strcmp(sc->name, "cutshort") &&
	    (stat(g.out.path, &st) ||
	     truncate(g.out.path, st.st_size - g.out.last_caplen / 2)))
		goto out;
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "mkpcap: cannot write %s: %s\n", g.out.path,
			errno ? strerror(errno) : "write error");
	out_close(&g.out);
	return ret;
}
