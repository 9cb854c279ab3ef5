// SPDX-License-Identifier: GPL-2.0
/*
 * Segments larger than the IP length fields, as hosts with TSO or BIG TCP
 * write them before the NIC cuts them up (a capture taken on the host, a
 * virtual switch's mirror): IPv4 with total length 0, which Wireshark
 * reads as "the rest of the frame", and IPv6 jumbograms (RFC 2675), whose
 * length is in the hop-by-hop Jumbo Payload option.
 */
#include <stdlib.h>
#include <unistd.h>
#include "test_progs.h"
#include "replay.h"

/* Larger than 64 KiB, within what BPF_PROG_TEST_RUN takes (17 frags). */
#define BIG		70000

/* A data segment of the seed's reply direction, vmk4 to the data mover. */
static void tso4(struct frame *f, __u32 payload, __u32 cut)
{
	frame_init(f);
	frame_eth(f, MAC_RUBRIK, MAC_VMK4);
	frame_ipv4(f, &(struct frame_ip4){ .saddr = IP_ESX, .daddr = IP_RUBRIK,
					    .df = true, .set_tot_len = true });
	frame_tcp(f, &(struct frame_tcp){ .sport = NBD_PORT,
					  .dport = CLIENT_PORT,
					  .flags = FRAME_TH_ACK,
					  .opt_len = 12 });
	frame_payload(f, payload);
	frame_payload_cut(f, cut);
	frame_end(f);
}

/* e: inside a remote mirror's headers (NULL: none) */
static void jumbo6_in(struct frame *f, const struct encap *e, __u32 payload,
		      __u32 cut)
{
	frame_init(f);
	if (e)
		frame_encap(f, e);
	frame_eth(f, MAC_RUBRIK, MAC_VMK4);
	frame_ipv6(f, &(struct frame_ip6){ .saddr = IP6_ESX,
					   .daddr = IP6_RUBRIK });
	frame_ip6_jumbo(f);
	frame_tcp(f, &(struct frame_tcp){ .sport = NBD_PORT,
					  .dport = CLIENT_PORT,
					  .flags = FRAME_TH_ACK,
					  .opt_len = 12 });
	frame_payload(f, payload);
	frame_payload_cut(f, cut);
	frame_end(f);
}

static void jumbo6(struct frame *f, __u32 payload, __u32 cut)
{
	jumbo6_in(f, NULL, payload, cut);
}

/*
 * The whole of f on the wire, the cut part zero-filled: frames.h keeps at
 * most FRAME_MAX bytes, a BIG TCP segment is larger.
 */
static bool run_whole(struct tprog *t, const struct frame *f, int outcome,
		      __u32 mask, const char *what)
{
	__u64 want[NP_STAT_MAX] = { [NP_STAT_PACKETS] = 1 };
	__u32 len = frame_wire_len(f), ret = ~0u;
	__u8 *buf = calloc(1, len);
	bool ok = false;

	if (!ASSERT_TRUE(buf, "calloc"))
		return false;
	memcpy(buf, f->data, f->len);
	if (!ASSERT_OK(tp_run_raw(t, buf, len, &ret), what) ||
	    !ASSERT_EQ(ret, t->action, "XDP action"))
		goto out;
	for (int i = 0; i < NP_STAT_MAX; i++)
		if (mask & (1u << i))
			want[i] = 1;
	want[outcome]++;
	ok = tp_stats_delta(t, want);
out:
	free(buf);
	return ok;
}

/*
 * Total length 0: the packet is the rest of the frame, fragments of a
 * multi-buffer frame included; a mirror's cut frame gives all it has.
 */
void test_tso_ipv4(void)
{
	static struct frame f;
	const struct np_flow_rec *r;
	struct want_dir w;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	/* four MSS of data in one segment: 14 + 5844 bytes, past a page */
	tso4(&f, 4 * 1448, 0);
	if (!ASSERT_EQ(frame_get16(&f, 14 + 2), 0, "total length") ||
	    !ASSERT_EQ(f.len, 14 + 20 + 32 + 5792, "frame length"))
		goto out;
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, 0, "TSO segment"))
		goto out;
	/* BIG TCP: more than any total length could say */
	tso4(&f, 1000, BIG - 14 - 20 - 32 - 1000);
	if (!ASSERT_EQ(frame_wire_len(&f), BIG, "BIG TCP frame") ||
	    !run_whole(&t, &f, NP_STAT_MATCHED, 0, "BIG TCP segment"))
		goto out;
	/* a mirror that keeps 200 bytes: the frame is the only length */
	tso4(&f, 4 * 1448, 0);
	if (!tp_outcome(&t, &f, 200, NP_STAT_MATCHED, 0, "TSO cut at 200"))
		goto out;
	/* ...cut after the ports: 24 bytes, a TCP header's first 4, no
	 * payload (nothing says more was sent)
	 */
	if (!tp_outcome(&t, &f, 14 + 20 + 4, NP_STAT_MATCHED, 0,
			"TSO cut at 38"))
		goto out;
	/* ...cut inside the TCP options: the frame is the packet, and a
	 * header longer than it was cut, not malformed
	 */
	if (!tp_outcome(&t, &f, 14 + 20 + 13, NP_STAT_MATCHED, 0,
			"TSO cut at 47") ||
	    !tp_outcome(&t, &f, 14 + 20 + 26, NP_STAT_MATCHED, 0,
			"TSO cut at 60"))
		goto out;
	/* ...cut before the ports, or inside the header */
	if (!tp_outcome(&t, &f, 14 + 20 + 3, NP_STAT_TRUNCATED, 0,
			"TSO cut at 37") ||
	    !tp_outcome(&t, &f, 14 + 20, NP_STAT_TRUNCATED, 0,
			"TSO cut at 34") ||
	    !tp_outcome(&t, &f, 14 + 19, NP_STAT_TRUNCATED, 0,
			"TSO cut at 33"))
		goto out;
	r = tp_read_seed(&t);
	if (!r)
		goto out;
	w = want_plain(NP_DIR_FROM_SERVER, MAC_VMK4, MAC_RUBRIK, 6,
		       5844 + (BIG - 14) + 186 + 24 + 33 + 46,
		       5792 + (BIG - 66) + 134 + 0 + 0 + 0, FRAME_TH_ACK);
	tp_dir(&r->dir[NP_DIR_FROM_SERVER], &w, "from_server");
	tp_dir(&r->dir[NP_DIR_TO_SERVER], &(struct want_dir){}, "to_server");
out:
	tp_close(&t);
}

/* Total length 0 with options, and inside a remote mirror. */
void test_tso_ipv4_options_encap(void)
{
	static struct frame f;
	struct encap e = { .type = ENCAP_ERSPAN3, .session = 5 };
	const struct np_flow_rec *r;
	struct want_dir w;
	struct tprog t;
	__u32 in;

	if (!tp_load(&t, NULL))
		goto out;
	/* IHL 15 and total length 0: the options cut are truncated */
	frame_init(&f);
	frame_eth(&f, MAC_RUBRIK, MAC_VMK4);
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = IP_ESX,
					     .daddr = IP_RUBRIK,
					     .opt_len = 40,
					     .set_tot_len = true });
	frame_tcp(&f, &(struct frame_tcp){ .sport = NBD_PORT,
					   .dport = CLIENT_PORT,
					   .flags = FRAME_TH_ACK });
	frame_payload(&f, 3000);
	frame_end(&f);
	if (!tp_outcome(&t, &f, 14 + 59, NP_STAT_TRUNCATED, 0, "options cut") ||
	    !tp_outcome(&t, &f, 0, NP_STAT_MATCHED, 0, "IHL 15"))
		goto out;
	/* the same segment as ERSPAN III carries it: the inner packet is
	 * the rest of the outer frame
	 */
	frame_init(&f);
	frame_encap(&f, &e);
	in = f.len;
	frame_eth(&f, MAC_RUBRIK, MAC_VMK4);
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = IP_ESX,
					     .daddr = IP_RUBRIK,
					     .set_tot_len = true });
	frame_tcp(&f, &(struct frame_tcp){ .sport = NBD_PORT,
					   .dport = CLIENT_PORT,
					   .flags = FRAME_TH_ACK });
	frame_payload(&f, 3000);
	frame_end(&f);
	if (!ASSERT_EQ(f.len - in, 14 + 20 + 20 + 3000, "inner frame") ||
	    !tp_outcome(&t, &f, 0, NP_STAT_MATCHED, F(GRE) | F(ERSPAN),
			"in ERSPAN III"))
		goto out;
	r = tp_read_seed(&t);
	if (!r)
		goto out;
	w = want_plain(NP_DIR_FROM_SERVER, MAC_VMK4, MAC_RUBRIK, 2,
		       60 + 20 + 3000 + 20 + 20 + 3000, 2 * 3000, FRAME_TH_ACK);
	w.n_sessions = 1;
	w.sessions[0] = 5;
	w.encap = 1 << NP_ENCAP_NONE | 1 << NP_ENCAP_ERSPAN3;
	tp_dir(&r->dir[NP_DIR_FROM_SERVER], &w, "from_server");
out:
	tp_close(&t);
}

/*
 * Jumbograms: payload length 0, the length in the Jumbo Payload option,
 * which a cut frame still carries: bytes and payload are exact.
 */
void test_tso_ipv6_jumbo(void)
{
	static struct frame f;
	const struct np_flow_rec *r;
	struct want_dir w;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	/* 100 bytes of BIG's data in the frame, the rest cut */
	jumbo6(&f, 100, BIG - 100);
	if (!ASSERT_EQ(frame_get16(&f, 14 + 4), 0, "payload length") ||
	    !ASSERT_EQ(frame_get16(&f, 14 + 40 + 4) << 16 |
		       frame_get16(&f, 14 + 40 + 6), 8 + 32 + BIG,
		       "jumbo payload length"))
		goto out;
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, F(IPV6), "jumbogram cut"))
		goto out;
	/* the whole of it, past 64 KiB */
	jumbo6(&f, 100, BIG - 14 - 40 - 8 - 32 - 100);
	if (!run_whole(&t, &f, NP_STAT_MATCHED, F(IPV6), "jumbogram"))
		goto out;
	/* cut inside the option: truncated, still IPv6 */
	if (!tp_outcome(&t, &f, 14 + 40 + 5, NP_STAT_TRUNCATED, F(IPV6),
			"cut in the option"))
		goto out;
	/* inside ERSPAN II over IPv6, cut after 100 bytes of data */
	jumbo6_in(&f, &(struct encap){ .type = ENCAP_ERSPAN2, .session = 4,
				       .outer_v6 = true }, 100, BIG - 100);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED,
			F(IPV6) | F(GRE) | F(ERSPAN), "jumbogram in ERSPAN"))
		goto out;
	r = tp_read_flow(&t, IP6_ESX, NBD_PORT, IP6_RUBRIK, CLIENT_PORT);
	if (!r)
		goto out;
	w = want_plain(NP_DIR_FROM_SERVER, MAC_VMK4, MAC_RUBRIK, 3,
		       2 * (40 + 8 + 32 + BIG) + BIG - 14,
		       2 * BIG + BIG - 14 - 40 - 8 - 32, FRAME_TH_ACK);
	w.n_sessions = 1;
	w.sessions[0] = 4;
	w.encap = 1 << NP_ENCAP_NONE | 1 << NP_ENCAP_ERSPAN2;
	tp_dir(&r->dir[NP_DIR_FROM_SERVER], &w, "from_server");
out:
	tp_close(&t);
}

/* Where the option may sit, and what it may say. */
void test_tso_ipv6_jumbo_option(void)
{
	static struct frame f;
	const struct np_flow_rec *r;
	struct tprog t;
	__u32 hbh;

	if (!tp_load(&t, NULL))
		goto out;
	/* 16-byte header: PadN (4 bytes), the option at 6, PadN */
	frame_init(&f);
	frame_eth(&f, MAC_RUBRIK, MAC_VMK4);
	frame_ipv6(&f, &(struct frame_ip6){ .saddr = IP6_ESX,
					    .daddr = IP6_RUBRIK,
					    .set_payload_len = true });
	hbh = frame_ip6_ext(&f, FRAME_IPPROTO_HOPOPTS, 16);
	frame_tcp(&f, &(struct frame_tcp){ .sport = NBD_PORT,
					   .dport = CLIENT_PORT,
					   .flags = FRAME_TH_ACK });
	frame_payload(&f, 100);
	frame_payload_cut(&f, 70000);
	frame_end(&f);
	memcpy(f.data + hbh + 2, "\x01\x02\x00\x00\xc2\x04", 6);
	frame_put32(&f, hbh + 8, 16 + 20 + 70100);
	memcpy(f.data + hbh + 12, "\x01\x02\x00\x00", 4);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MATCHED, F(IPV6), "after PadN"))
		goto out;
	/* four Pad1 instead of the PadN: more options than are walked */
	memset(f.data + hbh + 2, 0, 4);
	if (!tp_outcome(&t, &f, 0, NP_STAT_UNSUPPORTED, F(IPV6),
			"after four Pad1"))
		goto out;
	/* a length a plain header could have said is an error (RFC 2675) */
	memcpy(f.data + hbh + 2, "\x01\x02\x00\x00", 4);
	frame_put32(&f, hbh + 8, 65535);
	if (!tp_outcome(&t, &f, 0, NP_STAT_MALFORMED, F(IPV6), "jumbo 65535"))
		goto out;
	/* an option length other than 4 */
	frame_put32(&f, hbh + 8, 16 + 20 + 70100);
	f.data[hbh + 7] = 2;
	if (!tp_outcome(&t, &f, 0, NP_STAT_MALFORMED, F(IPV6),
			"option length 2"))
		goto out;
	r = tp_read_flow(&t, IP6_ESX, NBD_PORT, IP6_RUBRIK, CLIENT_PORT);
	if (r)
		tp_plain(r, NP_DIR_FROM_SERVER, MAC_VMK4, MAC_RUBRIK, 1,
			 40 + 16 + 20 + 70100, 70100, FRAME_TH_ACK);
out:
	tp_close(&t);
}

/* Larger than BPF_PROG_TEST_RUN takes: the size of bigtcp-ipv4.pcap's. */
#define HUGE		80000

/* f's record as on the wire, the part frames.h did not hold zeroed. */
static int pcap_write_whole(FILE *fp, const struct frame *f, __u64 ts_ns)
{
	__u32 rec[4], len = frame_wire_len(f);

	rec[0] = ts_ns / 1000000000ull;
	rec[1] = ts_ns % 1000000000ull / 1000;
	rec[2] = len;
	rec[3] = len;
	if (fwrite(rec, sizeof(rec), 1, fp) != 1 ||
	    fwrite(f->data, 1, f->len, fp) != f->len)
		return -1;
	for (__u32 i = f->len; i < len; i++)
		if (fputc(0, fp) == EOF)
			return -1;
	return 0;
}

static const struct np_flow_rec *find(const struct np_flowset *s,
				      const char *server, const char *client,
				      __u16 cport)
{
	struct np_flow_key k;

	tp_key(&k, server, NBD_PORT, client, cport);
	for (size_t i = 0; i < s->n; i++)
		if (!memcmp(&s->v[i].key, &k, sizeof(k)))
			return &s->v[i];
	ASSERT_TRUE(false, "flow in the replay");
	return NULL;
}

/*
 * The same through replay, whose small frames go several to a call of
 * nbdpath_replay: each frame's length there is what the program's
 * bpf_xdp_adjust_head/_tail left of the batch.
 */
void test_tso_replay(void)
{
	static struct frame f;
	char path[] = "/tmp/np-tso-XXXXXX";
	struct np_prog_opts po = { .max_flows = 64 };
	struct np_replay_result res = {};
	struct nbdpath_bpf *skel = NULL;
	const struct np_flow_rec *r;
	struct np_maps m;
	__u64 c[NP_STAT_MAX];
	struct want_dir w;
	struct seg s;
	FILE *fp = NULL;
	int fd, err = 0;

	fd = mkstemp(path);
	if (!ASSERT_TRUE(fd >= 0, "mkstemp"))
		return;
	close(fd);
	fp = frame_pcap_open(path);
	if (!ASSERT_TRUE(fp, "frame_pcap_open"))
		goto out;
	/* tcpdump's snapshot length, not FRAME_MAX: libpcap would cut
	 * the BIG TCP frame to that
	 */
	err |= fseek(fp, 16, SEEK_SET);
	err |= fwrite(&(__u32){ 262144 }, 4, 1, fp) != 1;
	err |= fseek(fp, 0, SEEK_END);
	tso4(&f, 3000, 0);
	err |= frame_pcap_write(fp, &f, 0, TP_CLOCK0);
	err |= frame_pcap_write(fp, &f, 200, TP_CLOCK0);
	jumbo6(&f, 100, BIG - 100);
	err |= frame_pcap_write(fp, &f, 0, TP_CLOCK0);
	/* a request cut after the ports */
	s = seed_req(CLIENT_PORT, FRAME_TH_PSH | FRAME_TH_ACK, 100);
	frame_seg(&f, &s);
	err |= frame_pcap_write(fp, &f, 14 + 20 + 4, TP_CLOCK0);
	/* BIG TCP past what BPF_PROG_TEST_RUN takes: replay passes 16
	 * pages and says how much it left out
	 */
	tso4(&f, 1000, HUGE - 14 - 20 - 32 - 1000);
	err |= pcap_write_whole(fp, &f, TP_CLOCK0);
	err |= fclose(fp);
	fp = NULL;
	if (!ASSERT_OK(err, "write the capture") ||
	    !ASSERT_OK(np_replay_file(path, &po, &skel, &res),
		       "np_replay_file"))
		goto out;
	if (!ASSERT_EQ(res.batched, 4, "frames batched"))
		goto out;
	np_prog_maps(skel, &m);
	if (!ASSERT_OK(np_read_stats(m.stats, c), "np_read_stats") ||
	    !ASSERT_EQ(c[NP_STAT_PACKETS], 5, "packets") ||
	    !ASSERT_EQ(c[NP_STAT_MATCHED], 5, "matched") ||
	    !ASSERT_EQ(c[NP_STAT_IPV6], 1, "ipv6") ||
	    !ASSERT_EQ(res.flows.n, 2, "flows"))
		goto out;
	r = find(&res.flows, IP_ESX, IP_RUBRIK, CLIENT_PORT);
	if (!r)
		goto out;
	tp_plain(r, NP_DIR_FROM_SERVER, MAC_VMK4, MAC_RUBRIK, 3,
		 3052 + 186 + HUGE - 14, 3000 + 134 + HUGE - 66, FRAME_TH_ACK);
	w = want_plain(NP_DIR_TO_SERVER, MAC_GW, MAC_VMK0, 1, 152, 112, 0);
	w.flags |= NP_DIRF_PAYLOAD_ESTIMATED;
	tp_dir(&r->dir[NP_DIR_TO_SERVER], &w, "to_server");
	r = find(&res.flows, IP6_ESX, IP6_RUBRIK, CLIENT_PORT);
	if (r)
		tp_plain(r, NP_DIR_FROM_SERVER, MAC_VMK4, MAC_RUBRIK, 1,
			 40 + 8 + 32 + BIG, BIG, FRAME_TH_ACK);
out:
	if (fp)
		fclose(fp);
	np_replay_result_free(&res);
	nbdpath_bpf__destroy(skel);
	if (env.test_failed)
		printf("kept %s\n", path);
	else
		unlink(path);
}
