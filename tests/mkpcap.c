// SPDX-License-Identifier: GPL-2.0
/*
 * mkpcap - write the captures that `nbdpath replay` is tested and
 * measured with, one named scenario at a time.
 *
 *	mkpcap SCENARIO OUT [--pcapng] [--snaplen N] [--frames N] [--flows N]
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

#define T0_NS		1763900000000000000ull
/* not a whole number of microseconds: the nanoseconds must survive */
#define STEP_NS		1000123ull
#define SNAPLEN		262144

#define SLL_HDR_LEN	16

/* The seed lab (SPEC §1): requests reach vmk0, data leaves by vmk4. */
static const __u8 VMK0[6] = { 0x00, 0x25, 0xb5, 0x00, 0x00, 0x0a };
static const __u8 VMK4[6] = { 0x00, 0x50, 0x56, 0x6b, 0x28, 0x04 };
/* the router on VLAN 10, through which the appliance reaches vmk0 */
static const __u8 GW10[6] = { 0x00, 0x00, 0x5e, 0x00, 0x01, 0x0a };
/* the backup appliance on VLAN 28 */
static const __u8 CLIENT[6] = { 0x00, 0x50, 0x56, 0xa1, 0x28, 0x32 };
/* a second host, for several-flow captures */
static const __u8 H2VMK0[6] = { 0x00, 0x25, 0xb5, 0x00, 0x00, 0x0b };
static const __u8 H2VMK4[6] = { 0x00, 0x50, 0x56, 0x6b, 0x28, 0x05 };
/* the remote mirror's outer frame */
static const __u8 MIRROR_DST[6] = { 0x02, 0x00, 0x00, 0x00, 0x99, 0x01 };
static const __u8 MIRROR_SRC[6] = { 0x02, 0x00, 0x00, 0x00, 0x99, 0x02 };

#define SESSION_TO	100		/* ERSPAN session mirroring vmk0 */
#define SESSION_FROM	101		/* ...and vmk4 */

enum encap { ENC_NONE, ENC_ERSPAN1, ENC_ERSPAN2, ENC_ERSPAN3, ENC_TEB };

/* ---- output: pcap through libpcap, pcapng by hand ---- */

struct out {
	const char *path;
	bool ng;
	int dlt;
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
 * (if_tsresol = 9), then an enhanced packet block per frame. Blocks are
 * written in host byte order, which the byte-order magic announces.
 */
static int ng_open(struct out *o)
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

	o->f = fopen(o->path, "wb");
	if (!o->f)
		return -1;
	return ng_write(o, &shb, sizeof(shb)) || ng_write(o, &idb, sizeof(idb));
}

static int ng_packet(struct out *o, __u64 ts, const void *data, __u32 caplen,
		     __u32 len)
{
	static const __u8 zero[4];
	__u32 pad = (4 - caplen % 4) % 4;
	__u32 total = 32 + caplen + pad;
	__u32 head[7] = {
		6, total, 0, (__u32)(ts >> 32), (__u32)ts, caplen, len,
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

static void emit(struct gen *g, const struct frame *f)
{
	__u8 buf[SLL_HDR_LEN + FRAME_MAX];
	int err;

	if (g->cooked) {
		/* what `tcpdump -i any` writes: no destination MAC */
		memset(buf, 0, SLL_HDR_LEN);
		buf[3] = 1;					/* ARPHRD_ETHER */
		buf[5] = 6;
		memcpy(buf + 6, f->data + 6, 6);
		memcpy(buf + 14, f->data + 12, 2);		/* protocol */
		memcpy(buf + SLL_HDR_LEN, f->data + 14, f->len - 14);
		err = out_packet(&g->out, g->t, buf, f->len - 14 + SLL_HDR_LEN,
				 frame_wire_len(f) - 14 + SLL_HDR_LEN);
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
		frame_ipv4(f, &(struct frame_ip4){ .saddr = "192.168.99.2",
						   .daddr = "192.168.99.1" });
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
	frame_arp(&f, 2, VMK4, "10.0.28.10", CLIENT, "10.0.28.50");
	frame_end(&f);
	emit(g, &f);
}

/* Neighbour advertisement: vmk4 owns 2001:db8:28::10. */
static void na_vmk4(struct gen *g, const struct conv *c)
{
	static struct frame f;

	begin(g, &f, &c->from, FROM);
	frame_ipv6(&f, &(struct frame_ip6){ .saddr = "fe80::250:56ff:fe6b:2804",
					    .daddr = "2001:db8:28::50",
					    .hop_limit = 255 });
	frame_icmp6_na(&f, "2001:db8:28::10", VMK4);
	frame_end(&f);
	emit(g, &f);
}

static const struct conv seed_conv = {
	.server = "10.0.0.10", .client = "10.0.28.50",
	.server_port = 902, .client_port = 50512,
	.to = { VMK0, GW10, 10 },
	.from = { CLIENT, VMK4, 28 },
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

	c.from = (struct side){ GW10, VMK0, 10 };
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
	c.server = "2001:db8:10::10";
	c.client = "2001:db8:28::50";
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
 *   malformed 5: IHL 4, total length < header, TCP doff 3, IP version 5,
 *	IPv6 payload length 0 without a jumbo payload option
 *   not_tcp 1 (UDP to 902), other_port 1 (TCP to 80), fragment 1,
 *   unsupported 3: GRE version 1, three VLAN tags, IPv6 jumbogram
 *   not_ip 1 (LLDP), matched 1
 * 16 frames; vlan 1, gre 1, ipv6 2.
 */
static void sc_malformed(struct gen *g)
{
	static struct frame f;
	const struct conv *c = &seed_conv;
	struct frame_ip4 ip = { .saddr = c->client, .daddr = c->server };
	struct frame_tcp th = { .sport = 50512, .dport = 902, .flags = ACK };
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
	frame_tcp(&f, &(struct frame_tcp){ .sport = 50512, .dport = 902,
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
	frame_udp(&f, 50512, 902);
	frame_payload(&f, 20);
	frame_end(&f);
	emit(g, &f);

	/* TCP to another port */
	frame_init(&f);
	frame_eth(&f, VMK0, GW10);
	frame_ipv4(&f, &ip);
	frame_tcp(&f, &(struct frame_tcp){ .sport = 50512, .dport = 80,
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
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = "192.168.99.2",
					    .daddr = "192.168.99.1" });
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

	/* IPv6 payload length 0 and a jumbo payload option (RFC 2675) */
	frame_init(&f);
	frame_eth(&f, VMK0, GW10);
	frame_ipv6(&f, &(struct frame_ip6){ .saddr = "2001:db8:28::50",
					    .daddr = "2001:db8:10::10",
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
	frame_ipv6(&f, &(struct frame_ip6){ .saddr = "2001:db8:28::50",
					    .daddr = "2001:db8:10::10",
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
		c[i].server = h2 ? "10.0.0.11" : "10.0.0.10";
		c[i].to.dmac = h2 ? H2VMK0 : VMK0;
		if (sym)
			c[i].from = (struct side){ GW10, h2 ? H2VMK0 : VMK0, 10 };
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
	{ "malformed",	sc_malformed },
	{ "jumbo",	sc_jumbo },
	{ "idle",	sc_idle },
	{ "multi",	sc_multi },
	{ "cooked",	sc_cooked },
	{ "cutshort",	sc_seed },	/* then cut in its last record */
	{ "bench",	NULL },		/* takes --frames and --flows */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mkpcap SCENARIO OUT [--pcapng] [--snaplen N] [--frames N] [--flows N]\n"
		"scenarios:");
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		fprintf(f, " %s", scenarios[i].name);
	fprintf(f, "\n--frames/--flows: bench only (default 1000000 frames over 1000 flows)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pcapng", no_argument, NULL, 'n' },
		{ "snaplen", required_argument, NULL, 's' },
		{ "frames", required_argument, NULL, 'f' },
		{ "flows", required_argument, NULL, 'F' },
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
