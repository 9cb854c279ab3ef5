// SPDX-License-Identifier: GPL-2.0
/*
 * A second opinion: the encapsulated frames the program decoded are
 * written to a pcap and decoded again by tshark. Both must find the same
 * inner TCP ports, and tshark must find frames.h's checksums good.
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
