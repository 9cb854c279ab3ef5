// SPDX-License-Identifier: GPL-2.0
/*
 * A capture file as libpcap should read it. libpcap 1.10 refuses two
 * things in a pcapng file that mergecap makes of the captures of several
 * links:
 *  - interfaces of different snapshot lengths ("an interface has a
 *    snapshot length ... different from the snapshot length of the first
 *    interface"): every Interface Description Block's snapshot length is
 *    rewritten to one value, as large as libpcap takes; each record still
 *    carries its own captured length.
 *  - interfaces of different link types ("an interface has a type ...
 *    different from the type of the first interface"), as when a mirror
 *    NIC's capture is merged with one taken with `-i any`: an interface
 *    that is not Ethernet is described to libpcap as Ethernet, and its
 *    packet blocks get a block type for local use, which libpcap skips.
 *    They are counted for the caller to report.
 * pcap files pass through untouched.
 *
 * The rewrite happens in place in the buffer libpcap reads into: one
 * read(2) per buffer, no copy. Only a block's first HEAD bytes are looked
 * at or written, and only once its length is known to be one libpcap
 * takes; the rest of the block is skipped whole. A head cut by the end of
 * a read is held back until the next read completes it. A length libpcap
 * refuses ends the walk, and libpcap then reports the file damaged there.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* fopencookie */
#endif
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>
#include <pcap/pcap.h>

#include "capfile.h"

#define SHB_TYPE	0x0a0d0d0au	/* the same in either byte order */
#define IDB_TYPE	1u
#define PB_TYPE		2u		/* the obsolete Packet Block */
#define SPB_TYPE	3u
#define EPB_TYPE	6u
/* bit 31 set: a block type for local use, which readers skip */
#define HIDDEN_TYPE	0x8e424450u
#define LINKTYPE_ETHERNET 1u
#define SNAPLEN		262144u		/* libpcap's largest */
#define HEAD		16		/* type, length, 8 bytes of body */
#define SHB_HEAD	12		/* type, length, byte-order magic */
#define MIN_BLOCK	12		/* type, length, trailing length */
/* interfaces of one section kept track of (2 MiB); more end the walk */
#define MAX_IFACES	(1u << 24)

#define NS_PER_SEC	1000000000ull

struct capfile {
	FILE *f;			/* what the bytes come from */
	struct np_capfile_info *info;
	bool on;			/* still walking pcapng blocks */
	bool big;			/* this section is big-endian */
	__u64 skip;			/* of the current block, still to pass */
	__u8 h[HEAD];			/* a block head cut by a read's end */
	size_t hn;			/* bytes in h */
	size_t ready;			/* of them walked, to hand on */
	size_t out;			/* of those, handed on */
	__u8 *eth;			/* a bit per interface: Ethernet */
	size_t eth_size;		/* bytes of eth */
	__u32 n_ifaces;			/* of this section */
	char *buf;			/* the stream's (glibc ignores a size alone) */
};

static __u32 rd32(const struct capfile *c, const __u8 *p)
{
	return c->big ?
	       (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3] :
	       (__u32)p[3] << 24 | (__u32)p[2] << 16 | (__u32)p[1] << 8 | p[0];
}

static __u16 rd16(const struct capfile *c, const __u8 *p)
{
	return c->big ? (__u16)(p[0] << 8 | p[1]) : (__u16)(p[1] << 8 | p[0]);
}

static void wr32(const struct capfile *c, __u8 *p, __u32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (c->big ? 8 * (3 - i) : 8 * i);
}

static void wr16(const struct capfile *c, __u8 *p, __u16 v)
{
	p[c->big ? 0 : 1] = v >> 8;
	p[c->big ? 1 : 0] = v;
}

static bool add_iface(struct capfile *c, bool eth)
{
	__u32 i = c->n_ifaces;
	size_t n;
	__u8 *p;

	if (i >= MAX_IFACES)
		return false;
	if (i / 8 >= c->eth_size) {
		n = c->eth_size ? 2 * c->eth_size : 8;
		p = realloc(c->eth, n);
		if (!p)
			return false;
		memset(p + c->eth_size, 0, n - c->eth_size);
		c->eth = p;
		c->eth_size = n;
	}
	if (eth)
		c->eth[i / 8] |= 1u << i % 8;
	else
		c->eth[i / 8] &= ~(1u << i % 8);
	c->n_ifaces++;
	return true;
}

/* An Interface Description Block's first 16 bytes: false ends the walk. */
static bool iface(struct capfile *c, __u8 *p)
{
	struct np_capfile_info *ci = c->info;
	__u16 type = rd16(c, p + 8);
	bool eth = type == LINKTYPE_ETHERNET;

	if (!add_iface(c, eth))
		return false;
	if (eth) {
		ci->eth_ifaces++;
	} else {
		if (!ci->other_ifaces)
			ci->other_linktype = type;
		ci->other_ifaces++;
		wr16(c, p + 8, LINKTYPE_ETHERNET);
	}
	wr32(c, p + 12, SNAPLEN);
	return true;
}

/* A packet block's first 16 bytes; id: its interface. */
static void frame(struct capfile *c, __u8 *p, __u32 id)
{
	/* an interface not described is libpcap's to refuse */
	if (id >= c->n_ifaces || c->eth[id / 8] & 1u << id % 8)
		return;
	wr32(c, p, HIDDEN_TYPE);
	c->info->other_frames++;
}

/*
 * The block starting at p, of which avail bytes are at hand (all there
 * will be if eof): look at its head and rewrite what is due. Returns the
 * bytes walked, 0 if the head needs more first.
 */
static size_t block(struct capfile *c, __u8 *p, size_t avail, bool eof)
{
	struct np_capfile_info *ci = c->info;
	size_t want = 8;
	__u32 type, len;

	if (avail >= 4 && !memcmp(p, "\x0a\x0d\x0d\x0a", 4))
		want = SHB_HEAD;
	if (avail < want)
		goto short_head;
	if (want == SHB_HEAD) {
		/* the byte-order magic decides how everything reads */
		if (!memcmp(p + 8, "\x4d\x3c\x2b\x1a", 4))
			c->big = false;
		else if (!memcmp(p + 8, "\x1a\x2b\x3c\x4d", 4))
			c->big = true;
		else
			goto stop;
		ci->pcapng = true;
		c->n_ifaces = 0;	/* each section numbers its own */
	} else if (!ci->pcapng) {
		goto stop;		/* a pcap file, or not a capture */
	}
	type = rd32(c, p);
	len = rd32(c, p + 4);
	if (len < MIN_BLOCK || len % 4)
		goto stop;
	want = len < HEAD ? len : HEAD;
	if (avail < want)
		goto short_head;
	/* libpcap refuses the blocks too short for what is read here */
	switch (type) {
	case IDB_TYPE:
		if (len >= 20 && !iface(c, p))
			goto stop;
		break;
	case EPB_TYPE:
		if (len >= HEAD)
			frame(c, p, rd32(c, p + 8));
		break;
	case PB_TYPE:
		if (len >= HEAD)
			frame(c, p, rd16(c, p + 8));
		break;
	case SPB_TYPE:
		/* a Simple Packet Block is the first interface's */
		if (len >= HEAD)
			frame(c, p, 0);
		break;
	}
	c->skip = len - want;
	return want;
short_head:
	if (!eof)
		return 0;
stop:
	c->on = false;
	return avail;
}

/* Walk n bytes at p; returns how many are walked, the rest a cut head. */
static size_t walk(struct capfile *c, __u8 *p, size_t n, bool eof)
{
	size_t i = 0, r;

	while (i < n && c->on) {
		if (c->skip) {
			r = c->skip < n - i ? c->skip : n - i;
			c->skip -= r;
		} else {
			r = block(c, p + i, n - i, eof);
			if (!r)
				return i;
		}
		i += r;
	}
	return n;
}

static ssize_t xread(struct capfile *c, __u8 *buf, size_t size)
{
	struct np_capfile_info *ci = c->info;
	ssize_t n;

	do
		n = read(fileno(c->f), buf, size);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n;
	for (size_t i = 0; i < (size_t)n && ci->bytes + i < sizeof(ci->head); i++)
		ci->head[ci->bytes + i] = buf[i];
	ci->bytes += n;
	return n;
}

static ssize_t cap_read(void *cookie, char *buf, size_t size)
{
	struct capfile *c = cookie;
	ssize_t n;
	size_t m;

	for (;;) {
		if (c->out < c->ready) {
			m = c->ready - c->out < size ? c->ready - c->out : size;
			memcpy(buf, c->h + c->out, m);
			c->out += m;
			if (c->out == c->ready) {
				c->hn -= c->ready;
				memmove(c->h, c->h + c->ready, c->hn);
				c->out = c->ready = 0;
			}
			return m;
		}
		if (c->hn) {
			/* complete the head the last read cut */
			n = xread(c, c->h + c->hn, sizeof(c->h) - c->hn);
			if (n < 0)
				return -1;
			c->hn += n;
			c->ready = walk(c, c->h, c->hn, !n);
			continue;
		}
		n = xread(c, (__u8 *)buf, size);
		if (n <= 0)
			return n;
		m = walk(c, (__u8 *)buf, n, false);
		if ((size_t)n - m > sizeof(c->h)) {
			/* cannot happen: a cut head is shorter than HEAD */
			c->on = false;
			m = n;
		}
		c->hn = n - m;
		memcpy(c->h, buf + m, c->hn);
		if (m)
			return m;
	}
}

static int cap_close(void *cookie)
{
	struct capfile *c = cookie;
	int err = c->f == stdin ? 0 : fclose(c->f);

	free(c->eth);
	free(c->buf);
	free(c);
	return err;
}

FILE *np_capfile_open(FILE *f, size_t buffer, struct np_capfile_info *info)
{
	cookie_io_functions_t io = { .read = cap_read, .close = cap_close };
	struct capfile *c = calloc(1, sizeof(*c));
	FILE *out;

	if (!c)
		return NULL;
	memset(info, 0, sizeof(*info));
	c->f = f;
	c->info = info;
	c->on = true;
	c->buf = malloc(buffer);
	out = c->buf ? fopencookie(c, "rb", io) : NULL;
	if (!out) {
		free(c->buf);
		free(c);
		return NULL;
	}
	setvbuf(out, c->buf, _IOFBF, buffer);
	return out;
}

__u64 np_capfile_ns(const struct np_capfile_info *info,
		    const struct pcap_pkthdr *h)
{
	__u64 sec, frac;

	/*
	 * A pcap record's seconds are an unsigned 32-bit field (good until
	 * 2106), which libpcap 1.10 reads as signed: from 2038 on they come
	 * back negative. pcapng times are 64-bit; before 1970 (a negative
	 * if_tsoffset) is taken as 1970.
	 */
	if (info->pcapng)
		sec = h->ts.tv_sec < 0 ? 0 : (__u64)h->ts.tv_sec;
	else
		sec = (__u32)h->ts.tv_sec;
	frac = h->ts.tv_usec < 0 ? 0 : (__u64)h->ts.tv_usec;
	return sec * NS_PER_SEC + frac;
}
