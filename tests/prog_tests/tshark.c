// SPDX-License-Identifier: GPL-2.0
/*
 * A second opinion: the encapsulated frames the program decoded are
 * written to a pcap and decoded again by tshark. Both must find the same
 * inner TCP ports, and tshark must find frames.h's checksums good. So
 * must the lengths the IP header does not give (TSO, jumbograms, cut
 * frames, fragments) and the frames refused after their kind is known.
 */
#include <stdlib.h>
#include <unistd.h>
#include "test_progs.h"

#define N_FRAMES	48
#define BASE_PORT	50000

struct tshark_row {
	unsigned int sport;
	unsigned int dport;
	char ip_csum[32];	/* ip.checksum.status, one per IPv4 header */
	char tcp_csum[8];
	char gre_csum[8];
	bool malformed;
	int spanid;		/* -1: no ERSPAN header */
};

/* Frame i: its encapsulation, direction and inner tags. */
static void build(struct frame *f, int i, struct encap *e, bool *to_server)
{
	static const enum encap_type types[] = {
		ENCAP_ERSPAN1, ENCAP_ERSPAN2, ENCAP_ERSPAN3, ENCAP_ERSPAN3_SUB,
		ENCAP_TEB,
	};
	static const __u16 flags[] = {
		0, FRAME_GRE_C, FRAME_GRE_K, FRAME_GRE_C | FRAME_GRE_K,
	};
	struct seg g;

	*e = (struct encap){
		.type = types[i % 5],
		.gre_flags = flags[i / 5 % 4],
		.outer_v6 = i / 20 % 2,
		.n_tags = i % 3 == 2,
		.vid = { 999 },
		.session = i,
	};
	*to_server = i % 2;
	if (*to_server)
		g = (struct seg){
			.dmac = MAC_VMK0, .smac = MAC_GW,
			.saddr = IP_RUBRIK, .daddr = IP_ESX,
			.sport = BASE_PORT + i, .dport = NBD_PORT,
			.flags = FRAME_TH_PSH | FRAME_TH_ACK, .payload = 16,
		};
	else
		g = (struct seg){
			.dmac = MAC_RUBRIK, .smac = MAC_VMK4,
			.saddr = IP_ESX, .daddr = IP_RUBRIK,
			.sport = NBD_PORT, .dport = BASE_PORT + i,
			.flags = FRAME_TH_ACK, .payload = 1448,
		};
	if (i % 4 == 3) {
		g.n_tags = 1;
		g.tpid[0] = FRAME_ETH_P_8021Q;
		g.vid[0] = 28;
	}
	frame_init(f);
	frame_encap(f, e);
	frame_seg_inner(f, &g);
	frame_end(f);
}

static int read_rows(const char *pcap, struct tshark_row *rows, int max,
		     const char *errlog)
{
	char cmd[512], line[512];
	FILE *p;
	int n = 0;

	/* type I has no header of its own: Wireshark knows it by the
	 * missing GRE sequence number, as the program does
	 */
	snprintf(cmd, sizeof(cmd),
		 "tshark -n -r %s -o ip.check_checksum:TRUE "
		 "-o tcp.check_checksum:TRUE "
		 "-T fields -E separator=/t -E occurrence=a -E aggregator=, "
		 "-e tcp.srcport -e tcp.dstport -e ip.checksum.status "
		 "-e tcp.checksum.status -e gre.checksum.status "
		 "-e _ws.malformed -e erspan.spanid 2>%s", pcap, errlog);
	p = popen(cmd, "r");
	if (!ASSERT_TRUE(p, "popen tshark"))
		return -1;
	while (fgets(line, sizeof(line), p)) {
		char *f[7] = {}, *s = line;
		int k;

		line[strcspn(line, "\n")] = 0;
		printf("tshark: %s\n", line);
		for (k = 0; k < 7; k++) {
			char *tab = strchr(s, '\t');

			f[k] = s;
			if (!tab)
				break;
			*tab = 0;
			s = tab + 1;
		}
		if (n < max) {
			rows[n].sport = f[0] ? strtoul(f[0], NULL, 10) : 0;
			rows[n].dport = f[1] ? strtoul(f[1], NULL, 10) : 0;
			snprintf(rows[n].ip_csum, sizeof(rows[n].ip_csum), "%s",
				 f[2] ? f[2] : "");
			snprintf(rows[n].tcp_csum, sizeof(rows[n].tcp_csum),
				 "%s", f[3] ? f[3] : "");
			snprintf(rows[n].gre_csum, sizeof(rows[n].gre_csum),
				 "%s", f[4] ? f[4] : "");
			rows[n].malformed = f[5] && *f[5];
			rows[n].spanid = f[6] && *f[6] ? atoi(f[6]) : -1;
		}
		n++;
	}
	ASSERT_EQ(pclose(p), 0, "tshark exit status");
	return n;
}

static bool have_tshark(void)
{
	return !system("command -v tshark >/dev/null 2>&1");
}

void test_tshark_crosscheck(void)
{
	static struct tshark_row rows[N_FRAMES];
	char pcap[] = "/tmp/np-tshark-XXXXXX";
	char errlog[] = "/tmp/np-tshark-err-XXXXXX";
	static struct frame f;
	bool keep = false, to_server;
	struct encap e;
	struct tprog t;
	FILE *fp = NULL;
	int fd, i, n;

	if (!have_tshark()) {
		test__skip("tshark not installed (scripts/deps.sh installs it)");
		return;
	}
	memset(&t, 0, sizeof(t));
	fd = mkstemp(pcap);
	if (!ASSERT_TRUE(fd >= 0, "mkstemp pcap"))
		return;
	close(fd);
	fd = mkstemp(errlog);
	if (!ASSERT_TRUE(fd >= 0, "mkstemp log")) {
		unlink(pcap);
		return;
	}
	close(fd);
	fp = frame_pcap_open(pcap);
	if (!ASSERT_TRUE(fp, "frame_pcap_open") || !tp_load(&t, NULL))
		goto out;
	for (i = 0; i < N_FRAMES; i++) {
		build(&f, i, &e, &to_server);
		if (!ASSERT_OK(frame_pcap_write(fp, &f, 0, TP_CLOCK0 + i * 1000),
			       "frame_pcap_write"))
			goto out;
		if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED,
				F(GRE) | (e.type != ENCAP_TEB ? F(ERSPAN) : 0) |
				(e.outer_v6 ? F(IPV6) : 0) |
				(e.n_tags || i % 4 == 3 ? F(VLAN) : 0),
				"frame for tshark"))
			goto out;
	}
	if (!ASSERT_OK(fclose(fp), "fclose pcap"))
		goto out_nofp;
	fp = NULL;
	if (!tp_read_n(&t, N_FRAMES))
		goto out;

	n = read_rows(pcap, rows, N_FRAMES, errlog);
	if (!ASSERT_EQ(n, N_FRAMES, "frames tshark decoded")) {
		keep = true;
		goto out;
	}
	for (i = 0; i < N_FRAMES; i++) {
		const struct np_flow_rec *r = NULL;
		unsigned int sport, dport;
		char name[64];

		for (size_t j = 0; j < t.flows.n; j++)
			if (ntohs(t.flows.v[j].key.client_port) == BASE_PORT + i)
				r = &t.flows.v[j];
		snprintf(name, sizeof(name), "frame %d: flow", i + 1);
		if (!ASSERT_TRUE(r, name)) {
			keep = true;
			continue;
		}
		/* the program's view of the ports, from key and direction */
		if (np_dir_packets(&r->dir[NP_DIR_TO_SERVER])) {
			sport = ntohs(r->key.client_port);
			dport = ntohs(r->key.server_port);
		} else {
			sport = ntohs(r->key.server_port);
			dport = ntohs(r->key.client_port);
		}
		build(&f, i, &e, &to_server);
		snprintf(name, sizeof(name), "frame %d: tcp.srcport", i + 1);
		keep |= !ASSERT_EQ(rows[i].sport, sport, name);
		snprintf(name, sizeof(name), "frame %d: tcp.dstport", i + 1);
		keep |= !ASSERT_EQ(rows[i].dport, dport, name);
		snprintf(name, sizeof(name), "frame %d: direction", i + 1);
		keep |= !ASSERT_EQ(np_dir_packets(&r->dir[NP_DIR_TO_SERVER]),
				   (__u64)to_server, name);
		/* frames.h: every IPv4 header checksum good (1) */
		snprintf(name, sizeof(name), "frame %d: ip.checksum.status",
			 i + 1);
		keep |= !ASSERT_STREQ(rows[i].ip_csum,
				      e.outer_v6 ? "1" : "1,1", name);
		snprintf(name, sizeof(name), "frame %d: tcp.checksum.status",
			 i + 1);
		keep |= !ASSERT_STREQ(rows[i].tcp_csum, "1", name);
		snprintf(name, sizeof(name), "frame %d: gre.checksum.status",
			 i + 1);
		keep |= !ASSERT_STREQ(rows[i].gre_csum,
				      e.gre_flags & FRAME_GRE_C ? "1" : "",
				      name);
		/* the session: tshark's span ID, the program's record */
		snprintf(name, sizeof(name), "frame %d: erspan.spanid", i + 1);
		if (e.type == ENCAP_ERSPAN1 || e.type == ENCAP_TEB) {
			keep |= !ASSERT_EQ(rows[i].spanid, -1, name);
			keep |= !ASSERT_EQ(r->dir[!to_server].n_sessions, 0,
					   name);
		} else {
			keep |= !ASSERT_EQ(rows[i].spanid, i, name);
			keep |= !ASSERT_EQ(r->dir[!to_server].sessions[0],
					   rows[i].spanid, name);
		}
		snprintf(name, sizeof(name), "frame %d: malformed", i + 1);
		keep |= !ASSERT_TRUE(!rows[i].malformed, name);
	}
out:
	if (fp)
		fclose(fp);
out_nofp:
	tp_close(&t);
	if (keep || env.test_failed) {
		printf("kept %s (tshark's stderr in %s)\n", pcap, errlog);
	} else {
		unlink(pcap);
		unlink(errlog);
	}
}

/*
 * frames.h on its own, for the tools that write pcaps with it: tshark
 * must read back the fields it was asked to write, checksums good.
 */
void test_tshark_frames(void)
{
	static const char *const fields[] = {
		"ieee8021ad.id", "vlan.id", "vlan.etype", "eth.type",
		"ip.hdr_len", "ip.len", "ip.checksum.status", "ip.frag_offset",
		"ip.flags.mf", "ipv6.plen", "ipv6.nxt", "ipv6.fraghdr.offset",
		"tcp.srcport", "tcp.hdr_len", "tcp.len", "tcp.flags",
		"tcp.checksum.status", "udp.length", "udp.checksum.status",
		"icmp.type", "icmp.checksum.status", "icmpv6.type",
		"icmpv6.checksum.status", "icmpv6.nd.na.target_address",
		"icmpv6.opt.linkaddr", "arp.opcode", "arp.src.hw_mac",
		"arp.src.proto_ipv4", "_ws.malformed",
	};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))
	/* per frame, the fields that must have a value (1: good checksum) */
	static const struct { const char *field, *value; } want[][12] = {
		{	/* ARP reply from vmk4 */
			{ "eth.type", "0x0806" }, { "arp.opcode", "2" },
			{ "arp.src.hw_mac", "00:50:56:6b:28:04" },
			{ "arp.src.proto_ipv4", "10.0.28.10" },
		}, {	/* NA for fd00:28::10, target link-layer option */
			{ "eth.type", "0x86dd" }, { "ipv6.plen", "32" },
			{ "ipv6.nxt", "58" }, { "icmpv6.type", "136" },
			{ "icmpv6.checksum.status", "1" },
			{ "icmpv6.nd.na.target_address", "fd00:28::10" },
			{ "icmpv6.opt.linkaddr", "00:50:56:6b:28:04" },
		}, {	/* three tags, IPv4 with options, UDP, 12 bytes */
			{ "eth.type", "0x88a8" }, { "ieee8021ad.id", "10" },
			{ "vlan.id", "20,30" }, { "vlan.etype", "0x9100,0x0800" },
			{ "ip.hdr_len", "28" }, { "ip.len", "48" },
			{ "ip.checksum.status", "1" }, { "ip.frag_offset", "0" },
			{ "ip.flags.mf", "0" }, { "udp.length", "20" },
			{ "udp.checksum.status", "1" },
		}, {	/* ICMP echo request, 56 bytes */
			{ "eth.type", "0x0800" }, { "ip.hdr_len", "20" },
			{ "ip.len", "84" }, { "ip.checksum.status", "1" },
			{ "ip.frag_offset", "0" }, { "ip.flags.mf", "0" },
			{ "icmp.type", "8" }, { "icmp.checksum.status", "1" },
		}, {	/* IPv6: HBH 8, routing 24, dstopts 16, fragment 8 */
			{ "eth.type", "0x86dd" }, { "ipv6.plen", "188" },
			{ "ipv6.nxt", "0" }, { "ipv6.fraghdr.offset", "0" },
			{ "tcp.srcport", "50512" }, { "tcp.hdr_len", "32" },
			{ "tcp.len", "100" }, { "tcp.flags", "0x0018" },
			{ "tcp.checksum.status", "1" },
		}, {	/* IPv4 fragment at 185 * 8, more to come */
			{ "eth.type", "0x0800" }, { "ip.hdr_len", "20" },
			{ "ip.len", "220" }, { "ip.checksum.status", "1" },
			{ "ip.frag_offset", "185" }, { "ip.flags.mf", "1" },
		},
	};
	char pcap[] = "/tmp/np-frames-XXXXXX";
	char cmd[1024], line[1024];
	static struct frame f;
	size_t n = 0, i;
	FILE *fp, *p;
	int fd, pos;

	if (!have_tshark()) {
		test__skip("tshark not installed (scripts/deps.sh installs it)");
		return;
	}
	fd = mkstemp(pcap);
	if (!ASSERT_TRUE(fd >= 0, "mkstemp"))
		return;
	close(fd);
	fp = frame_pcap_open(pcap);
	if (!ASSERT_TRUE(fp, "frame_pcap_open"))
		goto out;

	frame_pcap_write(fp, arp_vmk4(&f), 0, 1);
	frame_pcap_write(fp, na_frame(&f, MAC_VMK4, "fe80::1", IP6_ESX_VMK4,
				      MAC_VMK4), 0, 2);

	frame_init(&f);
	frame_eth(&f, MAC_VMK0, MAC_GW);
	frame_vlan(&f, FRAME_ETH_P_8021AD, 10);
	frame_vlan(&f, FRAME_ETH_P_8021Q, 20);
	frame_vlan(&f, FRAME_ETH_P_QINQ1, 30);
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = IP_RUBRIK,
					     .daddr = IP_ESX, .opt_len = 8 });
	frame_udp(&f, 50000, 9);	/* discard: no dissector guesses */
	frame_payload(&f, 12);
	frame_end(&f);
	frame_pcap_write(fp, &f, 0, 3);

	frame_init(&f);
	frame_eth(&f, MAC_VMK0, MAC_GW);
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = IP_RUBRIK,
					     .daddr = IP_ESX });
	frame_icmp(&f, 8, 0, 0x1234, 1);
	frame_payload(&f, 56);
	frame_end(&f);
	frame_pcap_write(fp, &f, 0, 4);

	frame_init(&f);
	frame_eth(&f, MAC_VMK0, MAC_GW);
	frame_ipv6(&f, &(struct frame_ip6){ .saddr = IP6_RUBRIK,
					    .daddr = IP6_ESX });
	frame_ip6_ext(&f, FRAME_IPPROTO_HOPOPTS, 8);
	frame_ip6_ext(&f, FRAME_IPPROTO_ROUTING, 24);
	frame_ip6_ext(&f, FRAME_IPPROTO_DSTOPTS, 16);
	frame_ip6_frag(&f, 0, false, 77);
	frame_tcp(&f, &(struct frame_tcp){ .sport = CLIENT_PORT,
					   .dport = NBD_PORT,
					   .flags = FRAME_TH_PSH | FRAME_TH_ACK,
					   .opt_len = 12 });
	frame_payload(&f, 100);
	frame_end(&f);
	frame_pcap_write(fp, &f, 0, 5);

	frame_init(&f);
	frame_eth(&f, MAC_VMK0, MAC_GW);
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = IP_RUBRIK,
					     .daddr = IP_ESX,
					     .proto = FRAME_IPPROTO_TCP,
					     .mf = true, .frag_off = 185 });
	frame_payload(&f, 200);
	frame_end(&f);
	frame_pcap_write(fp, &f, 0, 6);
	if (!ASSERT_OK(fclose(fp), "fclose"))
		goto out;

	pos = snprintf(cmd, sizeof(cmd),
		       "tshark -n -r %s -o ip.check_checksum:TRUE "
		       "-o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE "
		       "-T fields -E separator=/t -E occurrence=a "
		       "-E aggregator=,", pcap);
	for (i = 0; i < N_FIELDS; i++)
		pos += snprintf(cmd + pos, sizeof(cmd) - pos, " -e %s",
				fields[i]);
	snprintf(cmd + pos, sizeof(cmd) - pos, " 2>/dev/null");
	p = popen(cmd, "r");
	if (!ASSERT_TRUE(p, "popen tshark"))
		goto out;
	while (fgets(line, sizeof(line), p)) {
		char *val = line, name[64];

		line[strcspn(line, "\n")] = 0;
		printf("tshark: %s\n", line);
		for (i = 0; n < sizeof(want) / sizeof(want[0]) &&
			    i < N_FIELDS; i++) {
			char *tab = val ? strchr(val, '\t') : NULL;
			const char *exp = "";

			if (tab)
				*tab = 0;
			for (int k = 0; k < 12 && want[n][k].field; k++)
				if (!strcmp(want[n][k].field, fields[i]))
					exp = want[n][k].value;
			snprintf(name, sizeof(name), "frame %zu %s", n + 1,
				 fields[i]);
			ASSERT_STREQ(val ? val : "", exp, name);
			val = tab ? tab + 1 : NULL;
		}
		n++;
	}
	ASSERT_EQ(pclose(p), 0, "tshark exit status");
	ASSERT_EQ(n, sizeof(want) / sizeof(want[0]), "frames");
out:
	if (env.test_failed)
		printf("kept %s\n", pcap);
	else
		unlink(pcap);
#undef N_FIELDS
}

/*
 * The cases of the lengths the IP header does not give, and of frames
 * refused after their kind is known, decoded by tshark too: per frame the
 * same ports, IP bytes, payload, TCP flags, and the same answer to "is it
 * IPv6 / ERSPAN" as the feature counters give. Where the two differ by
 * definition, the case says so.
 */
enum {
	L_TSO,		/* IPv4 total length 0, whole */
	L_TSO_CUT,	/* ...cut at 200 */
	L_JUMBO,	/* IPv6 jumbogram, cut after 100 bytes of data */
	L_FRAG16,	/* first fragment, 16 of 32 TCP header bytes */
	L_CUT38,	/* cut after the ports */
	L_ER2_V2,	/* ERSPAN II header of version 2 */
	L_ER3_FT2,	/* ERSPAN III of frame type 2 (IP) */
	L_ER3_V1,	/* ERSPAN III header of version 1 */
	L_V6_CUT,	/* IPv6 cut inside its header */
	L_N,
};

static const struct {
	int outcome;
	__u32 mask;
} lcase[L_N] = {
	[L_TSO] = { NP_STAT_MATCHED, 0 },
	[L_TSO_CUT] = { NP_STAT_MATCHED, 0 },
	[L_JUMBO] = { NP_STAT_MATCHED, F(IPV6) },
	[L_FRAG16] = { NP_STAT_MATCHED, 0 },
	[L_CUT38] = { NP_STAT_MATCHED, 0 },
	[L_ER2_V2] = { NP_STAT_UNSUPPORTED, F(GRE) | F(ERSPAN) },
	[L_ER3_FT2] = { NP_STAT_UNSUPPORTED, F(GRE) | F(ERSPAN) },
	[L_ER3_V1] = { NP_STAT_UNSUPPORTED, F(GRE) | F(ERSPAN) },
	[L_V6_CUT] = { NP_STAT_TRUNCATED, F(IPV6) },
};

/* Case i's frame, from client port BASE_PORT + i; *caplen 0: whole. */
static void build_len(struct frame *f, int i, __u32 *caplen)
{
	struct frame_tcp tcp = {
		.sport = BASE_PORT + i, .dport = NBD_PORT,
		.flags = FRAME_TH_PSH | FRAME_TH_ACK, .opt_len = 12,
	};
	struct frame_ip4 ip = { .saddr = IP_RUBRIK, .daddr = IP_ESX };
	__u32 payload = 100;

	*caplen = 0;
	frame_init(f);
	switch (i) {
	case L_ER2_V2:
	case L_ER3_FT2:
	case L_ER3_V1:
		frame_eth(f, MAC_MIRROR_DST, MAC_MIRROR_SRC);
		frame_ipv4(f, &(struct frame_ip4){ .saddr = IP_MIRROR_SRC,
						    .daddr = IP_MIRROR_DST });
		frame_gre(f, &(struct frame_gre){ .flags = FRAME_GRE_S });
		if (i == L_ER2_V2)
			frame_erspan2(f, &(struct frame_erspan2){
				.version = 2, .session = i });
		else
			frame_erspan3(f, &(struct frame_erspan3){
				.version = i == L_ER3_V1 ? 1 : 0,
				.ft = i == L_ER3_FT2 ? 2 : 0, .session = i });
		break;
	}
	frame_eth(f, MAC_VMK0, MAC_GW);
	switch (i) {
	case L_TSO_CUT:
		*caplen = 200;
		/* fall through */
	case L_TSO:
		ip.set_tot_len = true;
		payload = 3000;
		break;
	case L_FRAG16:
		ip.mf = true;
		ip.set_tot_len = true;
		ip.tot_len = 20 + 16;
		tcp.flags = FRAME_TH_SYN;
		payload = 0;
		break;
	case L_CUT38:
		*caplen = 14 + 20 + 4;
		break;
	}
	if (i == L_JUMBO || i == L_V6_CUT) {
		frame_ipv6(f, &(struct frame_ip6){ .saddr = IP6_RUBRIK,
						   .daddr = IP6_ESX });
		if (i == L_JUMBO)
			frame_ip6_jumbo(f);
		else
			*caplen = 14 + 20;
	} else {
		frame_ipv4(f, &ip);
	}
	frame_tcp(f, &tcp);
	frame_payload(f, payload);
	if (i == L_JUMBO)
		frame_payload_cut(f, 70000 - payload);
	frame_end(f);
}

void test_tshark_lengths(void)
{
	static const char *const fields[] = {
		"frame.protocols", "tcp.srcport", "tcp.dstport", "ip.len",
		"ipv6.plen", "ipv6.opt.jumbo", "tcp.len", "tcp.flags",
	};
#define N_LFIELDS (sizeof(fields) / sizeof(fields[0]))
	char pcap[] = "/tmp/np-tshark-len-XXXXXX";
	char cmd[1024], line[1024], what[64];
	static struct frame f;
	bool keep = false;
	struct tprog t;
	FILE *fp = NULL, *p;
	__u32 caplen;
	int fd, pos, n = 0, i;

	if (!have_tshark()) {
		test__skip("tshark not installed (scripts/deps.sh installs it)");
		return;
	}
	memset(&t, 0, sizeof(t));
	fd = mkstemp(pcap);
	if (!ASSERT_TRUE(fd >= 0, "mkstemp"))
		return;
	close(fd);
	fp = frame_pcap_open(pcap);
	if (!ASSERT_TRUE(fp, "frame_pcap_open") || !tp_load(&t, NULL))
		goto out;
	for (i = 0; i < L_N; i++) {
		build_len(&f, i, &caplen);
		snprintf(what, sizeof(what), "case %d", i);
		if (!ASSERT_OK(frame_pcap_write(fp, &f, caplen,
						TP_CLOCK0 + i * 1000),
			       "frame_pcap_write") ||
		    !tp_outcome(&t, &f, caplen, lcase[i].outcome,
				lcase[i].mask, what))
			goto out;
	}
	if (!ASSERT_OK(fclose(fp), "fclose pcap"))
		goto out_nofp;
	fp = NULL;
	if (!tp_read_n(&t, 5))
		goto out;

	/* the fragment is decoded as it stands, not held for reassembly,
	 * as the program takes it
	 */
	pos = snprintf(cmd, sizeof(cmd),
		       "tshark -n -r %s -o ip.defragment:FALSE -T fields "
		       "-E separator=/t -E occurrence=l", pcap);
	for (size_t k = 0; k < N_LFIELDS; k++)
		pos += snprintf(cmd + pos, sizeof(cmd) - pos, " -e %s",
				fields[k]);
	snprintf(cmd + pos, sizeof(cmd) - pos, " 2>/dev/null");
	p = popen(cmd, "r");
	if (!ASSERT_TRUE(p, "popen tshark"))
		goto out;
	while (fgets(line, sizeof(line), p)) {
		char *v[N_LFIELDS] = {}, *s = line;
		const struct np_flow_rec *r = NULL;
		unsigned long bytes, payload;
		const struct np_dir *d;

		line[strcspn(line, "\n")] = 0;
		printf("tshark: %s\n", line);
		for (size_t k = 0; k < N_LFIELDS && s; k++) {
			char *tab = strchr(s, '\t');

			v[k] = s;
			if (tab)
				*tab = 0;
			s = tab ? tab + 1 : NULL;
		}
		i = n++;
		if (i >= L_N || !v[N_LFIELDS - 1]) {
			keep |= !ASSERT_TRUE(false, "a row per frame");
			continue;
		}
		/* the feature counters: what tshark found in the frame */
		snprintf(what, sizeof(what), "case %d: IPv6", i);
		keep |= !ASSERT_EQ(!!strstr(v[0], ":ipv6"),
				   !!(lcase[i].mask & F(IPV6)), what);
		snprintf(what, sizeof(what), "case %d: ERSPAN", i);
		keep |= !ASSERT_EQ(!!strstr(v[0], ":erspan"),
				   !!(lcase[i].mask & F(ERSPAN)), what);
		if (lcase[i].outcome != NP_STAT_MATCHED)
			continue;
		for (size_t j = 0; j < t.flows.n; j++) {
			const struct np_flow_rec *x = &t.flows.v[j];

			if (ntohs(x->key.client_port) == BASE_PORT + i)
				r = x;
		}
		snprintf(what, sizeof(what), "case %d: flow", i);
		if (!ASSERT_TRUE(r, what)) {
			keep = true;
			continue;
		}
		d = &r->dir[NP_DIR_TO_SERVER];
		snprintf(what, sizeof(what), "case %d: ports", i);
		keep |= !ASSERT_EQ(strtoul(v[1], NULL, 10) << 16 |
				   strtoul(v[2], NULL, 10),
				   (unsigned long)(BASE_PORT + i) << 16 |
				   NBD_PORT, what);
		/* IPv4 total length, or 40 and IPv6's (jumbo) payload */
		if (*v[3])
			bytes = strtoul(v[3], NULL, 10);
		else
			bytes = 40 + strtoul(*v[4] && strcmp(v[4], "0") ?
					     v[4] : v[5], NULL, 10);
		payload = strtoul(v[6], NULL, 10);
		snprintf(what, sizeof(what), "case %d: bytes", i);
		if (i == L_TSO_CUT) {
			/*
			 * Total length 0 in a cut frame: tshark takes the
			 * packet's length from the pcap record's original
			 * length; the program sees only the frame, as a
			 * mirror's cut frame on the wire carries nothing
			 * else: 200 - 14 bytes, 186 - 52 of payload.
			 */
			keep |= !ASSERT_EQ(bytes, 20 + 32 + 3000, what);
			keep |= !ASSERT_EQ(np_dir_bytes(d), 186, what);
			snprintf(what, sizeof(what), "case %d: payload", i);
			keep |= !ASSERT_EQ(d->payload_bytes, 134, what);
		} else {
			keep |= !ASSERT_EQ(np_dir_bytes(d), bytes, what);
		}
		snprintf(what, sizeof(what), "case %d: payload", i);
		if (i == L_CUT38) {
			/*
			 * Cut before the data offset: tshark gives no
			 * tcp.len; the program counts the IP payload less
			 * 20 bytes (the smallest TCP header) and marks it.
			 */
			keep |= !ASSERT_STREQ(v[6], "", what);
			keep |= !ASSERT_EQ(d->payload_bytes, 32 + 100 - 20,
					   what);
			keep |= !ASSERT_EQ(d->flags & NP_DIRF_PAYLOAD_ESTIMATED,
					   NP_DIRF_PAYLOAD_ESTIMATED, what);
		} else if (i != L_TSO_CUT) {
			keep |= !ASSERT_EQ(d->payload_bytes, payload, what);
			keep |= !ASSERT_EQ(d->flags & NP_DIRF_PAYLOAD_ESTIMATED,
					   0, what);
		}
		/* the flags, when the frame holds them */
		snprintf(what, sizeof(what), "case %d: tcp.flags", i);
		if (*v[7])
			keep |= !ASSERT_EQ(strtoul(v[7], NULL, 16),
					   (unsigned long)d->tcp_flags, what);
		else
			keep |= !ASSERT_EQ(d->tcp_flags, 0, what);
	}
	ASSERT_EQ(pclose(p), 0, "tshark exit status");
	keep |= !ASSERT_EQ(n, L_N, "frames tshark decoded");
out:
	if (fp)
		fclose(fp);
out_nofp:
	tp_close(&t);
	if (keep || env.test_failed) {
		printf("kept %s\n", pcap);
	} else {
		unlink(pcap);
	}
#undef N_LFIELDS
}
