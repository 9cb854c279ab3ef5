// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the capture reader of `nbdpath replay` (the
 * user/capfile.c stream under libpcap, opened as replay opens it), fed a
 * whole file from memory through a memfd, every record read and its
 * bytes and time taken as replay takes them. The stdio buffer is
 * replay's 1 MiB for one input in two, and a few bytes for the others, so
 * that block heads are cut by reads of every size.
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Iuser \
 *		tests/fuzz/fuzz_capfile.c user/capfile.c -o fuzz_capfile -lpcap
 *
 * Seeds: tests/fuzz/corpus/capfile/ (pcap and pcapng of both byte
 * orders, several interfaces and link types, and the files that crashed).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* memfd_create */
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <pcap/pcap.h>

#include "capfile.h"

#define REPLAY_BUFFER	(1 << 20)	/* user/replay.c READ_BUFFER */

/* what was read goes somewhere: the compiler keeps the reads */
static volatile __u64 sink;

static int put(int fd, const uint8_t *data, size_t size)
{
	while (size) {
		ssize_t n = write(fd, data, size);

		if (n <= 0)
			return -1;
		data += n;
		size -= n;
	}
	return lseek(fd, 0, SEEK_SET) ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct np_capfile_info info;
	struct pcap_pkthdr *h;
	const u_char *pkt;
	__u64 frames = 0;
	FILE *f, *cf;
	pcap_t *p;
	int fd;

	fd = memfd_create("capfile", 0);
	if (fd < 0 || put(fd, data, size)) {
		perror("memfd");
		abort();
	}
	f = fdopen(fd, "rb");
	if (!f)
		abort();
	cf = np_capfile_open(f, size % 2 ? REPLAY_BUFFER : 1 + size % 29,
			     &info);
	if (!cf)
		abort();
	p = pcap_fopen_offline_with_tstamp_precision(cf,
			PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p) {
		fclose(cf);
		return 0;
	}
	while (pcap_next_ex(p, &h, &pkt) == 1) {
		frames++;
		sink += np_capfile_ns(&info, h);
		if (h->caplen)
			sink += pkt[0] + pkt[h->caplen - 1];
	}
	/* the stream's account of the file must fit the file */
	if (info.bytes > size || info.other_frames > size / 12 ||
	    info.eth_ifaces + info.other_ifaces > size / 12 ||
	    frames > size / 12)
		abort();
	pcap_close(p);
	return 0;
}
