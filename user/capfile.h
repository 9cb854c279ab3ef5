/* SPDX-License-Identifier: GPL-2.0 */
/* Reading a capture file for libpcap: see capfile.c. */
#ifndef NBDPATH_CAPFILE_H
#define NBDPATH_CAPFILE_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

struct pcap_pkthdr;

/* What the stream has seen of the file so far, updated as it is read. */
struct np_capfile_info {
	__u64 bytes;			/* read from the file */
	__u8 head[4];			/* its first bytes (bytes of them) */
	bool pcapng;			/* it began with a section header */
	__u64 eth_ifaces;		/* pcapng: Ethernet interfaces */
	__u64 other_ifaces;		/* ...and interfaces of other link types */
	__u16 other_linktype;		/* the first of those interfaces' */
	__u64 other_frames;		/* frames on them, hidden from libpcap */
};

/*
 * A stream of f's bytes as libpcap can read them, through a buffer of
 * the given size: every pcapng interface given the same snapshot length,
 * and the frames of interfaces that are not Ethernet hidden (counted in
 * *info). Closing it closes f (unless f is stdin). NULL with errno set on
 * failure; f is then still the caller's. *info must outlive the stream.
 */
FILE *np_capfile_open(FILE *f, size_t buffer, struct np_capfile_info *info);

/*
 * A record's capture time in unix nanoseconds, as libpcap returned it
 * from the stream that filled *info (in nanosecond precision).
 */
__u64 np_capfile_ns(const struct np_capfile_info *info,
		    const struct pcap_pkthdr *h);

#endif /* NBDPATH_CAPFILE_H */
