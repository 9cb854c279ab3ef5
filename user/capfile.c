// SPDX-License-Identifier: GPL-2.0
/*
 * A capture file as libpcap should read it. libpcap refuses a pcapng file
 * whose interfaces have different snapshot lengths ("an interface has a
 * snapshot length ... different from the snapshot length of the first
 * interface"), and that is what mergecap makes of the captures of two
 * links taken with different -s. Every Interface Description Block's
 * snapshot length is rewritten to one value on the way in, as large as
 * libpcap takes: each record still carries its own captured length, so
 * nothing else changes. pcap files pass through untouched.
 *
 * The rewrite happens in place in the buffer libpcap reads into: one
 * read(2) per buffer, no copy. A block's first 16 bytes are followed
 * byte by byte across buffer boundaries; the rest is skipped whole.
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

#include "capfile.h"

#define SHB_TYPE	0x0a0d0d0au	/* the same in either byte order */
#define IDB_TYPE	1u
#define SNAPLEN		262144u		/* libpcap's largest */
#define HEAD		16		/* type, length, 8 bytes of body */

struct capfile {
	FILE *f;			/* what the bytes come from */
	bool on;			/* still walking pcapng blocks */
	bool pcapng;			/* a section header was seen */
	bool big;			/* this section is big-endian */
	__u64 off;			/* in the current block */
	__u64 len;			/* of the current block; 0: not known */
	__u8 h[HEAD];			/* the block's first bytes */
	char *buf;			/* the stream's (glibc ignores a size alone) */
};

static __u32 rd32(const struct capfile *c, const __u8 *p)
{
	return c->big ? (__u32)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3] :
			(__u32)p[3] << 24 | p[2] << 16 | p[1] << 8 | p[0];
}

static __u8 snaplen_byte(const struct capfile *c, int i)
{
	return SNAPLEN >> (c->big ? 8 * (3 - i) : 8 * i);
}

/* One byte at c->off < HEAD of a block: look, and rewrite if it is due. */
static void head_byte(struct capfile *c, __u8 *b)
{
	__u64 o = c->off;
	__u32 type;

	c->h[o] = *b;
	if (o == 3) {
		type = rd32(c, c->h);
		if (type == SHB_TYPE)
			c->pcapng = true;
		else if (!c->pcapng)
			c->on = false;	/* a pcap file, or not a capture */
	} else if (o == 11 && rd32(c, c->h) == SHB_TYPE) {
		/* the byte-order magic decides how the length reads */
		if (!memcmp(c->h + 8, "\x4d\x3c\x2b\x1a", 4))
			c->big = false;
		else if (!memcmp(c->h + 8, "\x1a\x2b\x3c\x4d", 4))
			c->big = true;
		else
			c->on = false;
		c->len = rd32(c, c->h + 4);
	} else if (o == 7 && rd32(c, c->h) != SHB_TYPE) {
		c->len = rd32(c, c->h + 4);
	} else if (o >= 12 && c->len >= 20 && rd32(c, c->h) == IDB_TYPE) {
		*b = snaplen_byte(c, (int)(o - 12));
	}
	/* a length libpcap will refuse anyway: leave the rest alone */
	if (c->len && (c->len < 12 || c->len % 4))
		c->on = false;
}

static void walk(struct capfile *c, __u8 *p, size_t n)
{
	size_t i = 0;

	while (i < n && c->on) {
		if (c->len && c->off >= HEAD) {
			__u64 skip = c->len - c->off;

			if (skip > n - i)
				skip = n - i;
			c->off += skip;
			i += skip;
		} else {
			head_byte(c, &p[i]);
			c->off++;
			i++;
		}
		if (c->len && c->off >= c->len) {
			c->off = 0;
			c->len = 0;
		}
	}
}

static ssize_t cap_read(void *cookie, char *buf, size_t size)
{
	struct capfile *c = cookie;
	ssize_t n;

	do
		n = read(fileno(c->f), buf, size);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		walk(c, (__u8 *)buf, (size_t)n);
	return n;
}

static int cap_close(void *cookie)
{
	struct capfile *c = cookie;
	int err = c->f == stdin ? 0 : fclose(c->f);

	free(c->buf);
	free(c);
	return err;
}

FILE *np_capfile_open(FILE *f, size_t buffer)
{
	cookie_io_functions_t io = { .read = cap_read, .close = cap_close };
	struct capfile *c = calloc(1, sizeof(*c));
	FILE *out;

	if (!c)
		return NULL;
	c->f = f;
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
