// SPDX-License-Identifier: GPL-2.0
/*
 * The report: frames of the seed scenario and its controls run through
 * the real program, then the JSON checked key by key, exactly, and the
 * human and Prometheus forms checked for what an operator must see.
 */
#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>

#include "test_progs.h"
#include "json_parse.h"
#include "report_model.h"
#include "vmk.h"

#define MS		1000000ull
#define UNIX0		(SEED_UNIX0 * 1ull)	/* what TP_CLOCK0 is in unix time */

/* ---- frames ---- */

struct scen {
	struct tprog t;
	__u64 now;
	__u64 bytes[2];			/* what the program must count */
	__u64 packets[2];
	__u64 payload[2];
};

/* g's sequence number moves on past the segment, as a sender's does */
static bool put_seg(struct scen *s, struct seg *g, int dir)
{
	struct frame f;

	s->now += MS;
	tp_set_clock(&s->t, s->now);
	frame_seg(&f, g);
	if (!tp_run(&s->t, &f, 0))
		return false;
	g->seq += g->payload + !!(g->flags & FRAME_TH_SYN) +
		  !!(g->flags & FRAME_TH_FIN);
	if (dir >= 0) {
		s->packets[dir]++;
		s->bytes[dir] += seg_hdrs(g) + g->payload;
		s->payload[dir] += g->payload;
	}
	return true;
}

/* Requests reach server on MAC to_mac (tag to_vid); replies leave by
 * from_mac (tag from_vid); 0 frames in a direction leaves it unseen.
 */
struct conv {
	const char *server;
	const char *client;
	__u16 cport;
	const __u8 *to_mac;		/* server-side MAC of requests */
	const __u8 *to_src;
	const __u8 *from_mac;		/* server-side MAC of replies */
	const __u8 *from_dst;
	__u16 to_vid, from_vid;
	int n_to, n_from;		/* data frames after the handshake */
	__u32 to_payload, from_payload;
	bool no_handshake;
	bool v6;			/* server and client are IPv6 */
	__u8 close;			/* FIN both ways, or RST */
};

static bool converse(struct scen *s, const struct conv *c)
{
	struct seg to = {
		.dmac = c->to_mac, .smac = c->to_src,
		.saddr = c->client, .daddr = c->server,
		.sport = c->cport, .dport = NBD_PORT, .v6 = c->v6,
		.n_tags = c->to_vid ? 1 : 0,
		.tpid = { FRAME_ETH_P_8021Q }, .vid = { c->to_vid },
	};
	struct seg from = {
		.dmac = c->from_dst, .smac = c->from_mac,
		.saddr = c->server, .daddr = c->client,
		.sport = NBD_PORT, .dport = c->cport, .v6 = c->v6,
		.n_tags = c->from_vid ? 1 : 0,
		.tpid = { FRAME_ETH_P_8021Q }, .vid = { c->from_vid },
	};
	bool to_on = c->to_mac, from_on = c->from_mac;

	if (!c->no_handshake) {
		to.flags = FRAME_TH_SYN;
		if (to_on && !put_seg(s, &to, NP_DIR_TO_SERVER))
			return false;
		from.flags = FRAME_TH_SYN | FRAME_TH_ACK;
		if (from_on && !put_seg(s, &from, NP_DIR_FROM_SERVER))
			return false;
		to.flags = FRAME_TH_ACK;
		if (to_on && !put_seg(s, &to, NP_DIR_TO_SERVER))
			return false;
	}
	to.flags = FRAME_TH_PSH | FRAME_TH_ACK;
	to.payload = c->to_payload;
	for (int i = 0; to_on && i < c->n_to; i++)
		if (!put_seg(s, &to, NP_DIR_TO_SERVER))
			return false;
	from.flags = FRAME_TH_PSH | FRAME_TH_ACK;
	from.payload = c->from_payload;
	for (int i = 0; from_on && i < c->n_from; i++)
		if (!put_seg(s, &from, NP_DIR_FROM_SERVER))
			return false;
	if (c->close) {
		to.payload = from.payload = 0;
		to.flags = from.flags = c->close | FRAME_TH_ACK;
		if (to_on && !put_seg(s, &to, NP_DIR_TO_SERVER))
			return false;
		if (c->close == FRAME_TH_FIN && from_on &&
		    !put_seg(s, &from, NP_DIR_FROM_SERVER))
			return false;
	}
	return true;
}

/* Run a frame of ARP/ND, or any frame that no direction counts. */
static bool put(struct scen *s, const struct frame *f)
{
	return tp_run(&s->t, f, 0);
}

/* An ARP frame from sha (op 1: to everyone, op 2: to dmac). */
static bool put_arp(struct scen *s, __u16 op, const __u8 *sha,
		    const char *spa, const __u8 *dmac, const char *tpa)
{
	struct frame f;

	return put(s, arp_frame(&f, op, sha, spa, dmac, tpa));
}

/* --vmk NAME=MAC, in a buffer of its own until the next call */
static const char *vmk_arg(const char *name, const __u8 *m)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "%s=%02x:%02x:%02x:%02x:%02x:%02x", name,
		 m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

static bool scen_load(struct scen *s, bool names)
{
	struct np_vmk_list l = {};

	memset(s, 0, sizeof(*s));
	if (!tp_load(&s->t, NULL))
		return false;
	s->now = TP_CLOCK0;
	if (!names)
		return true;
	return ASSERT_OK(np_vmk_parse_arg(&l, vmk_arg(VMK0_NAME, MAC_VMK0)), "vmk0") &&
	       ASSERT_OK(np_vmk_parse_arg(&l, vmk_arg(VMK4_NAME, MAC_VMK4)), "vmk4") &&
	       ASSERT_OK(np_vmk_store(&l, s->t.maps.names), "np_vmk_store");
}

static void scen_opts(struct scen *s, struct np_report_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->kind = NP_SRC_REPLAY;
	o->path = "seed.pcap";
	o->now_ns = s->now;
	o->clock_to_unix_ns = (__s64)(UNIX0 * 1000000000ull) - (__s64)TP_CLOCK0;
}

/* Read the table, build the report, write it as JSON into *json. */
static struct np_report *report(struct scen *s, const struct np_report_opts *o,
				const struct np_report *prev, char **json)
{
	struct np_report *r;
	size_t len;
	FILE *f;

	*json = NULL;
	if (!tp_read(&s->t))
		return NULL;
	r = np_report_build(&s->t.maps, &s->t.flows, o, prev);
	if (!ASSERT_TRUE(r, "np_report_build"))
		return NULL;
	f = open_memstream(json, &len);
	if (!ASSERT_TRUE(f, "open_memstream")) {
		np_report_free(r);
		return NULL;
	}
	np_report_json(f, r, NP_VIEW_ALL);
	fclose(f);
	printf("%s", *json);
	if (!ASSERT_TRUE(json_valid(*json), "valid JSON") ||
	    !ASSERT_TRUE(!strchr(*json, '\n') || strchr(*json, '\n')[1] == 0,
			 "one line")) {
		np_report_free(r);
		return NULL;
	}
	return r;
}

enum form {
	FORM_TEXT,		/* against prev, every view */
	FORM_PROM,
	FORM_HOSTS,		/* JSON, the hosts view alone */
};

/* r written in form, as a string to free. */
static char *form_of(const struct np_report *r,
		     enum form form)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (!ASSERT_TRUE(f, "open_memstream"))
		return NULL;
	switch (form) {
	case FORM_TEXT:
		np_report_text(f, r, NP_VIEW_ALL);
		break;
	case FORM_PROM:
		np_report_prom(f, r);
		break;
	case FORM_HOSTS:
		np_report_json(f, r, NP_VIEW_HOSTS);
		break;
	}
	fclose(f);
	printf("%s", buf);
	return buf;
}

/* A report test's state; rt_done() frees whatever it got to. */
struct rtest {
	struct scen s;
	struct np_report_opts o;
	struct np_report *r;
	char *json;
	char *out;		/* the report in another form */
};

/* Load (names: with vmk0 and vmk4 named), run c if any, default options. */
static bool rt_start(struct rtest *rt, bool names, const struct conv *c)
{
	rt->r = NULL;
	rt->json = rt->out = NULL;
	if (!scen_load(&rt->s, names) || (c && !converse(&rt->s, c)))
		return false;
	scen_opts(&rt->s, &rt->o);
	return true;
}

/* The report with rt->o, in place of an earlier one. */
static bool rt_report(struct rtest *rt)
{
	np_report_free(rt->r);
	free(rt->json);
	rt->r = report(&rt->s, &rt->o, NULL, &rt->json);
	return rt->r;
}

/* rt->out: the report in form. */
static bool rt_form(struct rtest *rt, enum form form)
{
	free(rt->out);
	rt->out = form_of(rt->r, form);
	return rt->out;
}

static void rt_done(struct rtest *rt)
{
	free(rt->out);
	free(rt->json);
	np_report_free(rt->r);
	tp_close(&rt->s.t);
}

static const char *u64s(__u64 v)
{
	static char ring[4][24];
	static int next;
	char *b = ring[next++ & 3];

	snprintf(b, sizeof(ring[0]), "%llu", (unsigned long long)v);
	return b;
}

#define JEQ(json, path, want)	ASSERT_STREQ(jget((json), (path)), (want), (path))

/* The seed write-up: requests reach vmk0 through the router, the data
 * leaves by vmk4 straight onto the backup subnet.
 */
static const struct conv seed = {
	.server = IP_ESX, .client = IP_RUBRIK, .cport = CLIENT_PORT,
	.to_mac = MAC_VMK0, .to_src = MAC_GW, .to_vid = 10,
	.from_mac = MAC_VMK4, .from_dst = MAC_RUBRIK, .from_vid = 28,
	.n_to = 2, .to_payload = 100, .n_from = 3, .from_payload = 1400,
};

void test_report_seed(void)
{
	struct rtest rt;
	struct scen *s = &rt.s;
	const char *json, *text;
	struct frame f;

	/* vmk4 answers ARP for its own IP: the sensor learns the owner */
	if (!rt_start(&rt, true, NULL) || !put(s, arp_vmk4(&f)) ||
	    !converse(s, &seed))
		goto out;
	/* the options' time after the conversation */
	scen_opts(s, &rt.o);
	if (!rt_report(&rt))
		goto out;
	json = rt.json;

	JEQ(json, "version", "1");
	JEQ(json, "source", "{\"kind\": \"replay\", \"path\": \"seed.pcap\"}");
	JEQ(json, "time", "1763900000.008000000");
	JEQ(json, "sampled", "<missing>");
	JEQ(json, "interval", "<missing>");
	JEQ(json, "stats.packets", "9");
	JEQ(json, "stats.matched", "8");
	JEQ(json, "stats.not_ip", "1");
	JEQ(json, "stats.vlan", "8");
	JEQ(json, "stats.neigh", "1");
	JEQ(json, "stats.flows", "1");
	JEQ(json, "stats.flows_evicted", "0");

	JEQ(json, "hosts.0.ip", "\"10.0.0.10\"");
	JEQ(json, "hosts.0.verdict", "\"asymmetric\"");
	JEQ(json, "hosts.0.rx.0.mac", "\"00:25:b5:00:00:0a\"");
	JEQ(json, "hosts.0.rx.0.interface", "\"vmk0\"");
	JEQ(json, "hosts.0.rx.0.owner_ip", "null");
	JEQ(json, "hosts.0.rx.0.packets", u64s(s->packets[0]));
	JEQ(json, "hosts.0.rx.0.bytes", u64s(s->bytes[0]));
	JEQ(json, "hosts.0.rx.1", "<missing>");
	JEQ(json, "hosts.0.tx.0.mac", "\"00:50:56:6b:28:04\"");
	JEQ(json, "hosts.0.tx.0.interface", "\"vmk4\"");
	JEQ(json, "hosts.0.tx.0.owner_ip", "\"10.0.28.10\"");
	JEQ(json, "hosts.0.tx.0.packets", u64s(s->packets[1]));
	JEQ(json, "hosts.0.tx.0.bytes", u64s(s->bytes[1]));
	JEQ(json, "hosts.0.tx.1", "<missing>");
	JEQ(json, "hosts.1", "<missing>");

	JEQ(json, "flows.0.server", "\"10.0.0.10\"");
	JEQ(json, "flows.0.server_port", "902");
	JEQ(json, "flows.0.client", "\"10.0.28.50\"");
	JEQ(json, "flows.0.client_port", "50512");
	JEQ(json, "flows.0.verdict", "\"asymmetric\"");
	JEQ(json, "flows.0.first_seen", "1763900000.001000000");
	JEQ(json, "flows.0.last_seen", "1763900000.008000000");
	JEQ(json, "flows.0.to_server.packets", "4");
	JEQ(json, "flows.0.to_server.bytes", u64s(s->bytes[0]));
	JEQ(json, "flows.0.to_server.payload_bytes", "200");
	JEQ(json, "flows.0.to_server.src_mac", "\"00:00:5e:00:01:01\"");
	JEQ(json, "flows.0.to_server.dst_mac", "\"00:25:b5:00:00:0a\"");
	JEQ(json, "flows.0.to_server.server_macs", "[\"00:25:b5:00:00:0a\"]");
	JEQ(json, "flows.0.to_server.interface", "\"vmk0\"");
	JEQ(json, "flows.0.to_server.vlans", "[10]");
	JEQ(json, "flows.0.to_server.erspan_sessions", "[]");
	JEQ(json, "flows.0.to_server.tcp_flags", "[\"SYN\", \"PSH\", \"ACK\"]");
	JEQ(json, "flows.0.to_server.mirror", "null");
	JEQ(json, "flows.0.from_server.packets", "4");
	JEQ(json, "flows.0.from_server.bytes", u64s(s->bytes[1]));
	JEQ(json, "flows.0.from_server.payload_bytes", "4200");
	JEQ(json, "flows.0.from_server.src_mac", "\"00:50:56:6b:28:04\"");
	JEQ(json, "flows.0.from_server.dst_mac", "\"00:0c:29:28:00:50\"");
	JEQ(json, "flows.0.from_server.server_macs", "[\"00:50:56:6b:28:04\"]");
	JEQ(json, "flows.0.from_server.interface", "\"vmk4\"");
	JEQ(json, "flows.0.from_server.vlans", "[28]");
	JEQ(json, "flows.0.from_server.tcp_flags", "[\"SYN\", \"PSH\", \"ACK\"]");
	JEQ(json, "flows.1", "<missing>");

	/* by MAC: 00:25:b5 (vmk0) before 00:50:56 (vmk4) */
	JEQ(json, "interfaces.0.mac", "\"00:25:b5:00:00:0a\"");
	JEQ(json, "interfaces.0.interface", "\"vmk0\"");
	JEQ(json, "interfaces.0.owner_ip", "null");
	JEQ(json, "interfaces.0.rx_packets", "4");
	JEQ(json, "interfaces.0.rx_bytes", u64s(s->bytes[0]));
	JEQ(json, "interfaces.0.tx_packets", "0");
	JEQ(json, "interfaces.0.tx_bytes", "0");
	JEQ(json, "interfaces.0.server_ips", "[\"10.0.0.10\"]");
	JEQ(json, "interfaces.1.mac", "\"00:50:56:6b:28:04\"");
	JEQ(json, "interfaces.1.interface", "\"vmk4\"");
	JEQ(json, "interfaces.1.owner_ip", "\"10.0.28.10\"");
	JEQ(json, "interfaces.1.rx_packets", "0");
	JEQ(json, "interfaces.1.tx_packets", "4");
	JEQ(json, "interfaces.1.tx_bytes", u64s(s->bytes[1]));
	JEQ(json, "interfaces.1.server_ips", "[\"10.0.0.10\"]");
	JEQ(json, "interfaces.2", "<missing>");

	if (!rt_form(&rt, FORM_TEXT))
		goto out;
	text = rt.out;
	ASSERT_TRUE(strstr(text, "10.0.0.10  ASYMMETRIC  receives on vmk0 (00:25:b5:00:00:0a)  transmits on vmk4 (00:50:56:6b:28:04)"),
		    "the host line");
	ASSERT_TRUE(strstr(text, "esxcli network ip interface tag add -i vmk4 -t vSphereBackupNFC"),
		    "the vSphere 7+ fix");
	ASSERT_TRUE(strstr(text, "point the backup appliance at 10.0.28.10 (vmk4's IP)"),
		    "where to connect");
	ASSERT_TRUE(strstr(text, "esxcli network ip route ipv4 list"),
		    "the routing table");
	ASSERT_TRUE(strstr(text, "PKTRX  %RTXRX  MbRX  PKTTX  %RTXTX  MbTX"),
		    "totals headings");
out:
	rt_done(&rt);
}

/* Without names: MACs stand alone, JSON says null. */
void test_report_unnamed(void)
{
	struct rtest rt;
	const char *json, *text;

	if (!rt_start(&rt, false, &seed) || !rt_report(&rt))
		goto out;
	json = rt.json;
	JEQ(json, "hosts.0.verdict", "\"asymmetric\"");
	JEQ(json, "hosts.0.rx.0.interface", "null");
	JEQ(json, "hosts.0.tx.0.interface", "null");
	JEQ(json, "hosts.0.tx.0.owner_ip", "null");
	JEQ(json, "flows.0.to_server.interface", "null");
	JEQ(json, "interfaces.1.interface", "null");
	if (!rt_form(&rt, FORM_TEXT))
		goto out;
	text = rt.out;
	ASSERT_TRUE(strstr(text, "receives on 00:25:b5:00:00:0a  transmits on 00:50:56:6b:28:04"),
		    "the host line");
	ASSERT_TRUE(strstr(text, "-i vmkN -t vSphereBackupNFC"), "a placeholder");
	ASSERT_TRUE(strstr(text, "--vmk-file"), "how to name them");
out:
	rt_done(&rt);
}

/* Controls: symmetric on vmk4, and one direction only each way. */
void test_report_verdicts(void)
{
	static const struct conv sym = {
		.server = IP_ESX_VMK4, .client = IP_RUBRIK2, .cport = 40000,
		.to_mac = MAC_VMK4, .to_src = MAC_RUBRIK,
		.from_mac = MAC_VMK4, .from_dst = MAC_RUBRIK,
		.n_to = 1, .to_payload = 10, .n_from = 1, .from_payload = 10,
	};
	static const struct conv to_only = {
		.server = IP_ESX2, .client = IP_RUBRIK, .cport = 40001,
		.to_mac = MAC_VMK0, .to_src = MAC_GW,
		.n_to = 5, .to_payload = 100,
	};
	static const struct conv from_only = {
		.server = IP_ESX, .client = IP_RUBRIK2, .cport = 40002,
		.from_mac = MAC_VMK4, .from_dst = MAC_RUBRIK,
		.n_from = 50, .from_payload = 1400,
	};
	struct rtest rt;
	const char *json, *text;

	if (!rt_start(&rt, true, &sym) || !converse(&rt.s, &to_only) ||
	    !converse(&rt.s, &from_only))
		goto out;
	scen_opts(&rt.s, &rt.o);
	if (!rt_report(&rt))
		goto out;
	json = rt.json;
	/* hosts by IP */
	JEQ(json, "hosts.0.ip", "\"10.0.0.10\"");
	JEQ(json, "hosts.0.verdict", "\"from_server_only\"");
	JEQ(json, "hosts.0.rx", "[]");
	JEQ(json, "hosts.1.ip", "\"10.0.0.20\"");
	JEQ(json, "hosts.1.verdict", "\"to_server_only\"");
	JEQ(json, "hosts.1.tx", "[]");
	JEQ(json, "hosts.2.ip", "\"10.0.28.10\"");
	JEQ(json, "hosts.2.verdict", "\"symmetric\"");
	JEQ(json, "hosts.2.rx.0.mac", "\"00:50:56:6b:28:04\"");
	JEQ(json, "hosts.2.tx.0.mac", "\"00:50:56:6b:28:04\"");
	/* flows by bytes, the biggest first */
	JEQ(json, "flows.0.verdict", "\"from_server_only\"");
	JEQ(json, "flows.0.to_server",
	    "{\"packets\": 0, \"bytes\": 0, \"payload_bytes\": 0, \"retransmits\": 0, \"retransmit_bytes\": 0, \"out_of_order\": 0, \"zero_windows\": 0, \"resets\": 0, \"src_mac\": null, \"dst_mac\": null, \"server_macs\": [], \"interface\": null, \"vlans\": [], \"untagged\": false, \"payload_estimated\": false, \"erspan_sessions\": [], \"encap\": [], \"tcp_flags\": [], \"mirror\": null}");
	JEQ(json, "flows.1.verdict", "\"to_server_only\"");
	JEQ(json, "flows.1.from_server.packets", "0");
	JEQ(json, "flows.1.from_server.src_mac", "null");
	JEQ(json, "flows.2.verdict", "\"symmetric\"");
	JEQ(json, "flows.2.to_server.untagged", "true");
	JEQ(json, "flows.2.to_server.encap", "[\"none\"]");
	JEQ(json, "stats.flows", "3");
	/* vmk4 carries the two hosts' replies and 10.0.28.10's requests */
	JEQ(json, "interfaces.1.server_ips", "[\"10.0.0.10\", \"10.0.28.10\"]");
	JEQ(json, "interfaces.0.server_ips", "[\"10.0.0.20\"]");
	if (!rt_form(&rt, FORM_TEXT))
		goto out;
	text = rt.out;
	ASSERT_TRUE(strstr(text, "FROM_SERVER_ONLY"), "from_server_only");
	ASSERT_TRUE(strstr(text, "only requests seen"), "a to_server_only hint");
	ASSERT_TRUE(strstr(text, "10.0.28.10  SYMMETRIC"), "symmetric");
out:
	rt_done(&rt);
}

/* One packet in N mirrored: every count x N, and said so. */
void test_report_sampled(void)
{
	struct rtest rt;
	struct scen *s = &rt.s;
	const char *json;

	if (!rt_start(&rt, true, &seed))
		goto out;
	rt.o.sample_rate = 8;
	if (!rt_report(&rt))
		goto out;
	json = rt.json;
	JEQ(json, "sampled", "8");
	JEQ(json, "stats.matched", "64");	/* 8 frames seen, 1 in 8 */
	JEQ(json, "stats.packets", "64");
	JEQ(json, "stats.sampled", "8");
	JEQ(json, "hosts.0.rx.0.packets", "32");
	JEQ(json, "hosts.0.rx.0.bytes", u64s(8 * s->bytes[0]));
	JEQ(json, "hosts.0.rx.0.sampled", "8");
	JEQ(json, "flows.0.from_server.packets", "32");
	JEQ(json, "flows.0.from_server.bytes", u64s(8 * s->bytes[1]));
	JEQ(json, "flows.0.from_server.payload_bytes", u64s(8 * s->payload[1]));
	JEQ(json, "flows.0.from_server.sampled", "8");
	JEQ(json, "flows.0.to_server.sampled", "8");
	JEQ(json, "interfaces.1.tx_packets", "32");
	JEQ(json, "interfaces.1.tx_bytes", u64s(8 * s->bytes[1]));
	JEQ(json, "interfaces.1.sampled", "8");
out:
	rt_done(&rt);
}

/* run --json: rates against the previous report, over the measured time. */
void test_report_rates(void)
{
	struct np_report_opts o;
	struct np_report *r1 = NULL, *r2 = NULL;
	char *j1 = NULL, *j2 = NULL, *text = NULL, bps[32];
	__u64 b1;
	struct scen s;

	if (!scen_load(&s, true) || !converse(&s, &seed))
		goto out;
	scen_opts(&s, &o);
	o.kind = NP_SRC_RUN;
	o.path = NULL;
	o.interval = 1;
	r1 = report(&s, &o, NULL, &j1);
	if (!r1)
		goto out;
	b1 = s.bytes[1];
	/* 2 s later (the measured time wins over the nominal 1 s), four
	 * more data frames from the server
	 */
	s.now = o.now_ns + 2000 * MS - 4 * MS;
	if (!converse(&s, &(struct conv){
			.server = IP_ESX, .client = IP_RUBRIK,
			.cport = CLIENT_PORT, .no_handshake = true,
			.from_mac = MAC_VMK4, .from_dst = MAC_RUBRIK,
			.from_vid = 28, .n_from = 4, .from_payload = 1400 }))
		goto out;
	o.now_ns = s.now;
	r2 = report(&s, &o, r1, &j2);
	if (!r2)
		goto out;
	JEQ(j2, "interval", "2.000");
	JEQ(j2, "flows.0.from_server.pps", "2.000");
	snprintf(bps, sizeof(bps), "%llu.000",
		 (unsigned long long)(s.bytes[1] - b1) * 8 / 2);
	JEQ(j2, "flows.0.from_server.bps", bps);
	JEQ(j2, "flows.0.to_server.pps", "0.000");
	JEQ(j2, "interfaces.1.tx_pps", "2.000");
	JEQ(j2, "interfaces.1.rx_pps", "0.000");
	JEQ(j2, "hosts.0.tx.0.pps", "2.000");
	/* the first report: counts since the start, over 1 s */
	JEQ(j1, "interval", "1.000");
	JEQ(j1, "flows.0.from_server.pps", "4.000");
	text = form_of(r2, FORM_TEXT);
	if (!text)
		goto out;
	ASSERT_TRUE(strstr(text, "PKTRX/s  %RTXRX  MbRX/s  PKTTX/s  %RTXTX  MbTX/s"),
		    "esxtop's headings");
out:
	free(text);
	free(j1);
	free(j2);
	np_report_free(r1);
	np_report_free(r2);
	tp_close(&s.t);
}

/* Idle and closed flows leave "flows"; their counts stay in the totals. */
void test_report_expiry(void)
{
	static const struct conv closed = {
		.server = IP_ESX2, .client = IP_RUBRIK, .cport = 40010,
		.to_mac = MAC_VMK0, .to_src = MAC_GW,
		.from_mac = MAC_VMK0, .from_dst = MAC_GW,
		.n_to = 1, .to_payload = 10, .close = FRAME_TH_FIN,
	};
	struct rtest rt;
	struct np_report_opts *o = &rt.o;
	struct scen *s = &rt.s;
	const char *json;

	if (!rt_start(&rt, true, &closed))
		goto out;
	o->closed_sec = 5;
	o->idle_sec = 60;
	/* closed 4 s ago: listed as closed, ended at its last packet */
	o->now_ns = s->now + 4000 * MS;
	if (!rt_report(&rt))
		goto out;
	json = rt.json;
	JEQ(json, "stats.flows", "1");
	JEQ(json, "stats.flows_active", "0");
	JEQ(json, "flows.0.state", "\"closed\"");
	JEQ(json, "flows.0.ended", "1763900000.006000000");
	JEQ(json, "flows.0.to_server.tcp_flags", "[\"FIN\", \"SYN\", \"PSH\", \"ACK\"]");
	/* 5 s: still listed, finished; in the host and the interface */
	o->now_ns = s->now + 5000 * MS;
	if (!rt_report(&rt))
		goto out;
	json = rt.json;
	JEQ(json, "stats.flows", "1");
	JEQ(json, "flows.0.state", "\"closed\"");
	JEQ(json, "flows.0.to_server.packets", u64s(s->packets[0]));
	JEQ(json, "hosts.0.verdict", "\"symmetric\"");
	JEQ(json, "hosts.0.rx.0.packets", u64s(s->packets[0]));
	JEQ(json, "interfaces.0.rx_packets", u64s(s->packets[0]));
	/* an open flow idle for idle_sec is finished too: listed after
	 * the active ones (none), the most recent first
	 */
	if (!converse(s, &seed))
		goto out;
	o->now_ns = s->now + 60000 * MS;
	if (!rt_report(&rt))
		goto out;
	json = rt.json;
	JEQ(json, "stats.flows", "2");
	JEQ(json, "stats.flows_active", "0");
	JEQ(json, "flows.0.state", "\"idle\"");
	JEQ(json, "flows.0.client_port", "50512");
	JEQ(json, "flows.1.state", "\"closed\"");
	JEQ(json, "hosts.0.ip", "\"10.0.0.10\"");
	JEQ(json, "hosts.0.verdict", "\"asymmetric\"");
out:
	rt_done(&rt);
}

/* Retired counts reach the host and interface totals, once each. */
void test_report_retired(void)
{
	struct np_flow_rec rec = {};
	struct np_meta meta;
	__u32 zero = 0;
	struct rtest rt;
	struct scen *s = &rt.s;
	const char *json;

	if (!rt_start(&rt, true, &seed))
		goto out;
	/* a flow of 10.0.0.10 that already left the table, on vmk0 and
	 * with one frame past its MAC set
	 */
	tp_key(&rec.key, IP_ESX, NBD_PORT, IP_RUBRIK, 40100);
	memcpy(rec.dir[0].macs[0].mac, MAC_VMK0, 6);
	rec.dir[0].macs[0].packets = 7;
	rec.dir[0].macs[0].bytes = 700;
	rec.dir[0].n_macs = 1;
	rec.dir[0].other_packets = 1;
	rec.dir[0].other_bytes = 60;
	np_retire_to_maps(&rec, &s->t.maps);
	np_retire_to_maps(&rec, &s->t.maps);
	if (!ASSERT_OK(bpf_map_lookup_elem(s->t.maps.meta, &zero, &meta), "meta") ||
	    !ASSERT_EQ(meta.flows_evicted, 2, "flows_evicted"))
		goto out;
	rt.o.flows_evicted = meta.flows_evicted;
	if (!rt_report(&rt))
		goto out;
	json = rt.json;
	JEQ(json, "stats.flows", "1");
	JEQ(json, "stats.flows_evicted", "2");
	JEQ(json, "hosts.0.rx.0.mac", "\"00:25:b5:00:00:0a\"");
	JEQ(json, "hosts.0.rx.0.packets", u64s(s->packets[0] + 14));
	JEQ(json, "hosts.0.rx.0.bytes", u64s(s->bytes[0] + 1400));
	JEQ(json, "hosts.0.rx.1.mac", "null");
	JEQ(json, "hosts.0.rx.1.other", "true");
	JEQ(json, "hosts.0.rx.1.packets", "2");
	JEQ(json, "interfaces.0.rx_packets", u64s(s->packets[0] + 14));
	JEQ(json, "interfaces.2", "<missing>");
out:
	rt_done(&rt);
}

/*
 * More hosts than np_retired holds (spoofed SYNs to many IPs reach it):
 * the counts past its size go to the overflow bucket, reported as host
 * "::", so matched frames still equal the sum of the host totals.
 */
void test_report_retired_overflow(void)
{
	enum { EXTRA = 300 };
	struct np_flow_rec rec = {};
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), n;
	struct rtest rt;
	struct scen *s = &rt.s;
	__u64 total = 0, hosts_packets = 0;
	const char *json;
	char ip[32];

	if (!rt_start(&rt, true, &seed) ||
	    !ASSERT_OK(bpf_obj_get_info_by_fd(s->t.maps.retired, &info, &len),
		       "np_retired info"))
		goto out;
	/* one entry a flow (to_server, one MAC); the bucket's two are made
	 * at load: the map fills after max_entries - 2 hosts
	 */
	n = info.max_entries - 2 + EXTRA;
	memcpy(rec.dir[0].macs[0].mac, MAC_VMK0, 6);
	rec.dir[0].n_macs = 1;
	for (__u32 i = 0; i < n; i++) {
		snprintf(ip, sizeof(ip), "10.%u.%u.%u", 100 + (i >> 16),
			 (i >> 8) & 0xff, i & 0xff);
		tp_key(&rec.key, ip, NBD_PORT, IP_RUBRIK, 40000);
		rec.dir[0].macs[0].packets = 1 + i % 3;
		rec.dir[0].macs[0].bytes = 100 * (1 + i % 3);
		total += rec.dir[0].macs[0].packets;
		np_retire_to_maps(&rec, &s->t.maps);
	}
	if (!rt_report(&rt))
		goto out;
	json = rt.json;
	/* hosts are listed by IP: :: first */
	JEQ(json, "hosts.0.ip", "\"::\"");
	JEQ(json, "hosts.0.overflow", "true");
	JEQ(json, "hosts.0.verdict", "\"none\"");
	JEQ(json, "hosts.0.rx.0.other", "true");
	for (__u32 i = 0; i < EXTRA; i++)
		hosts_packets += 1 + (n - EXTRA + i) % 3;
	JEQ(json, "hosts.0.rx.0.packets", u64s(hosts_packets));
	/* every retired packet is in some host, the seed's in its own:
	 * summed from the model (a JSON look-up per host would parse the
	 * 65,000 hosts' line once per host)
	 */
	hosts_packets = 0;
	for (size_t i = 0; i < rt.r->n_hosts; i++)
		for (size_t j = 0; j < rt.r->hosts[i].n[0]; j++)
			hosts_packets += rt.r->hosts[i].dir[0][j].packets;
	ASSERT_EQ(hosts_packets, total + s->packets[0],
		  "rx packets of all hosts = retired + the seed's");
out:
	rt_done(&rt);
}

/* IPv6, and text that must be escaped. */
void test_report_v6_escaping(void)
{
	static const struct conv v6 = {
		.server = IP6_ESX, .client = IP6_RUBRIK, .cport = 40200,
		.to_mac = MAC_VMK0, .to_src = MAC_GW,
		.from_mac = MAC_VMK0, .from_dst = MAC_GW,
		.n_to = 1, .to_payload = 10,
	};
	struct np_vmk_list l = {};
	const char *json;
	struct rtest rt;
	struct seg g;
	struct frame f;

	if (!rt_start(&rt, false, NULL))
		goto out;
	if (!ASSERT_OK(np_vmk_parse_arg(&l, "v\"k\\0=00:25:b5:00:00:0a"), "name") ||
	    !ASSERT_OK(np_vmk_store(&l, rt.s.t.maps.names), "np_vmk_store"))
		goto out;
	g = (struct seg){ .dmac = v6.to_mac, .smac = v6.to_src, .v6 = true,
			  .saddr = v6.client, .daddr = v6.server,
			  .sport = v6.cport, .dport = NBD_PORT,
			  .flags = FRAME_TH_SYN };
	frame_seg(&f, &g);
	if (!tp_run(&rt.s.t, &f, 0))
		goto out;
	rt.o.path = "a \"b\"\\\x01\xff.pcap";
	if (!rt_report(&rt))
		goto out;
	json = rt.json;
	JEQ(json, "source.path", "\"a \\\"b\\\"\\\\\\u0001\\ufffd.pcap\"");
	JEQ(json, "hosts.0.ip", "\"fd00::10\"");
	JEQ(json, "flows.0.client", "\"fd00:28::50\"");
	JEQ(json, "hosts.0.rx.0.interface", "\"v\\\"k\\\\0\"");
	JEQ(json, "stats.ipv6", "1");
out:
	rt_done(&rt);
}

void test_report_prom(void)
{
	struct rtest rt;
	const char *prom;
	char tx[160], tx_host[200];

	if (!rt_start(&rt, true, &seed) || !rt_report(&rt) ||
	    !rt_form(&rt, FORM_PROM))
		goto out;
	prom = rt.out;
	/* the from_server bytes the frames carried, exactly */
	snprintf(tx, sizeof(tx), "\nnbdpath_interface_bytes_total{mac=\"00:50:56:6b:28:04\",vmk=\"vmk4\",direction=\"from_server\"} %llu\n",
		 (unsigned long long)rt.s.bytes[NP_DIR_FROM_SERVER]);
	snprintf(tx_host, sizeof(tx_host), "\nnbdpath_server_bytes_total{server_ip=\"10.0.0.10\",mac=\"00:50:56:6b:28:04\",vmk=\"vmk4\",direction=\"from_server\"} %llu\n",
		 (unsigned long long)rt.s.bytes[NP_DIR_FROM_SERVER]);
	ASSERT_TRUE(strstr(prom, "# TYPE nbdpath_frames_total counter\n"), "TYPE");
	ASSERT_TRUE(strstr(prom, "\nnbdpath_frames_total{outcome=\"matched\"} 8\n"),
		    "matched");
	ASSERT_TRUE(strstr(prom, "\nnbdpath_host_verdict{server_ip=\"10.0.0.10\",verdict=\"asymmetric\"} 1\n"),
		    "asymmetric host");
	ASSERT_TRUE(strstr(prom, "\nnbdpath_server_packets_total{server_ip=\"10.0.0.10\",mac=\"00:25:b5:00:00:0a\",vmk=\"vmk0\",direction=\"to_server\"} 4\n"),
		    "esx1 vmk0 to_server");
	ASSERT_TRUE(strstr(prom, tx_host),
		    "esx1 vmk4 from_server bytes");
	ASSERT_TRUE(strstr(prom, "\nnbdpath_interface_packets_total{mac=\"00:25:b5:00:00:0a\",vmk=\"vmk0\",direction=\"to_server\"} 4\n"),
		    "vmk0 rx");
	if (!ASSERT_TRUE(strstr(prom, tx), "vmk4 tx bytes"))
		printf("    (want the line%s", tx + 1);
	ASSERT_TRUE(!strstr(prom, "host=\""), "no label named host");
out:
	rt_done(&rt);
}

/* Views: only the chosen keys, version/source/time always. */
void test_report_views(void)
{
	struct rtest rt;
	const char *buf;

	if (!rt_start(&rt, true, &seed) || !rt_report(&rt) ||
	    !rt_form(&rt, FORM_HOSTS))
		goto out;
	buf = rt.out;
	ASSERT_TRUE(json_valid(buf), "valid JSON");
	JEQ(buf, "version", "1");
	JEQ(buf, "time", "1763900000.008000000");
	JEQ(buf, "hosts.0.verdict", "\"asymmetric\"");
	JEQ(buf, "stats", "<missing>");
	JEQ(buf, "flows", "<missing>");
	JEQ(buf, "interfaces", "<missing>");
out:
	rt_done(&rt);
}

/*
 * Owner IPs come from ARP replies and neighbour advertisements only, one
 * per address family: the seed's host asking for the data mover from
 * vmk4's MAC "tell 10.0.0.10" does not make vmk0's address vmk4's, and a
 * dual-stack vmk4 shows each host the owner IP of that host's family.
 */
void test_report_owner_family(void)
{
	static const struct conv seed6 = {
		.server = IP6_ESX, .client = IP6_RUBRIK, .cport = CLIENT_PORT,
		.to_mac = MAC_VMK0, .to_src = MAC_GW,
		.from_mac = MAC_VMK4, .from_dst = MAC_RUBRIK,
		.n_to = 1, .to_payload = 100, .n_from = 2, .from_payload = 1400,
		.v6 = true,
	};
	const char *json, *text, *h4, *h6;
	struct rtest rt;
	struct frame f;

	if (!rt_start(&rt, true, &seed) || !converse(&rt.s, &seed6))
		goto out;
	/* the request after the reply: it must not overwrite it */
	if (!put(&rt.s, arp_vmk4(&f)) ||
	    !put_arp(&rt.s, 1, MAC_VMK4, IP_ESX, NULL, IP_RUBRIK) ||
	    !put(&rt.s, na_vmk4(&f)) || !rt_report(&rt))
		goto out;
	json = rt.json;
	if (!ASSERT_STREQ(jget(json, "hosts.0.ip"), "\"10.0.0.10\"", "host 0") ||
	    !ASSERT_STREQ(jget(json, "hosts.1.ip"), "\"fd00::10\"", "host 1"))
		goto out;
	JEQ(json, "hosts.0.verdict", "\"asymmetric\"");
	JEQ(json, "hosts.0.rx.0.owner_ip", "null");
	JEQ(json, "hosts.0.tx.0.owner_ip", "\"10.0.28.10\"");
	JEQ(json, "hosts.1.verdict", "\"asymmetric\"");
	JEQ(json, "hosts.1.rx.0.owner_ip", "null");
	JEQ(json, "hosts.1.tx.0.owner_ip", "\"fd00:28::10\"");
	JEQ(json, "interfaces.0.mac", "\"00:25:b5:00:00:0a\"");
	JEQ(json, "interfaces.0.owner_ip", "null");
	JEQ(json, "interfaces.1.mac", "\"00:50:56:6b:28:04\"");
	JEQ(json, "interfaces.1.owner_ip", "\"10.0.28.10\"");
	if (!rt_form(&rt, FORM_TEXT))
		goto out;
	text = rt.out;
	h4 = strstr(text, "\n  10.0.0.10 ");
	h6 = strstr(text, "\n  fd00::10 ");
	if (!ASSERT_TRUE(h4 && h6 && h4 < h6, "both hosts, IPv4 first"))
		goto out;
	ASSERT_TRUE(strstr(h4, "appliance at 10.0.28.10 (vmk4's IP)") &&
		    strstr(h4, "appliance at 10.0.28.10 (vmk4's IP)") < h6,
		    "IPv4 host: vmk4's IPv4 address");
	ASSERT_TRUE(strstr(h4, "route ipv4 list") &&
		    strstr(h4, "route ipv4 list") < h6, "IPv4 routes");
	ASSERT_TRUE(strstr(h6, "appliance at fd00:28::10 (vmk4's IP)"),
		    "IPv6 host: vmk4's IPv6 address");
	ASSERT_TRUE(strstr(h6, "route ipv6 list"), "IPv6 routes");
out:
	rt_done(&rt);
}

/*
 * A claim to a host's address by a MAC the host never receives on is
 * not believed: vmk4 asking "tell 10.0.0.10" is the seed's host sending
 * from vmk0's address out of vmk4, and a Linux host with arp_ignore=0
 * even answers for 10.0.0.10 from vmk4; vmk0 asking the same is vmk0
 * owning it. An IPv6 address vmk4 announces is none for an IPv4 host.
 */
void test_report_owner_request(void)
{
	const __u8 *from[2] = { MAC_VMK4, MAC_VMK0 };
	struct rtest rt;
	struct frame f;

	if (!rt_start(&rt, true, &seed))
		goto out;
	for (int i = 0; i < 2; i++)
		if (!put_arp(&rt.s, 1, from[i], IP_ESX, NULL, IP_RUBRIK))
			goto out;
	if (!put_arp(&rt.s, 2, MAC_VMK4, IP_ESX, MAC_RUBRIK, IP_RUBRIK) ||
	    !put(&rt.s, na_vmk4(&f)) || !rt_report(&rt))
		goto out;
	JEQ(rt.json, "hosts.0.rx.0.owner_ip", "\"10.0.0.10\"");
	JEQ(rt.json, "hosts.0.tx.0.owner_ip", "null");
	JEQ(rt.json, "interfaces.0.owner_ip", "\"10.0.0.10\"");
	JEQ(rt.json, "interfaces.1.owner_ip", "null");
	JEQ(rt.json, "stats.neigh", "4");
out:
	rt_done(&rt);
}

/*
 * An IPv6 connection between the IPv4-mapped forms of the seed's
 * addresses (::ffff:10.0.0.10, ::ffff:10.0.28.50), symmetric through
 * vmk0, beside the seed's asymmetric IPv4 one: two flows, two hosts
 * with their own verdicts, owners and retired counts; the mapped
 * addresses written as IPv6 in every form.
 */
void test_report_mapped(void)
{
	static const struct conv mapped = {
		.server = "::ffff:" IP_ESX, .client = "::ffff:" IP_RUBRIK,
		.cport = CLIENT_PORT, .v6 = true,
		.to_mac = MAC_VMK0, .to_src = MAC_GW,
		.from_mac = MAC_VMK0, .from_dst = MAC_GW,
		.n_to = 1, .to_payload = 50, .n_from = 2, .from_payload = 700,
	};
	struct np_flow_rec rec = {};
	struct rtest rt;
	struct scen *s = &rt.s;
	const char *json, *out;
	struct frame f;

	/* vmk0 says it owns 10.0.0.10 by ARP and ::ffff:10.0.0.10 by ND */
	if (!rt_start(&rt, true, &seed) ||
	    !put_arp(s, 2, MAC_VMK0, IP_ESX, MAC_RUBRIK, IP_RUBRIK) ||
	    !put(s, na_frame(&f, MAC_VMK0, IP6_ESX, "::ffff:" IP_ESX,
			     MAC_VMK0)) ||
	    !converse(s, &mapped))
		goto out;
	/* SYN, ACK, 1 x 50 and SYN-ACK, 2 x 700 over IPv6 (40 + 32) */
	if (!ASSERT_EQ(s->packets[0], 4 + 3, "to_server frames") ||
	    !ASSERT_EQ(s->bytes[0], 4 * 52 + 200 + 3 * 72 + 50, "to_server") ||
	    !ASSERT_EQ(s->bytes[1], 4 * 52 + 4200 + 3 * 72 + 1400,
		       "from_server"))
		goto out;
	/* a flow of the mapped host that already left the table */
	tp_key(&rec.key, "::ffff:" IP_ESX, NBD_PORT, "::ffff:" IP_RUBRIK,
	       40100);
	memcpy(rec.dir[0].macs[0].mac, MAC_VMK0, 6);
	rec.dir[0].macs[0].packets = 7;
	rec.dir[0].macs[0].bytes = 700;
	rec.dir[0].n_macs = 1;
	np_retire_to_maps(&rec, &s->t.maps);
	scen_opts(s, &rt.o);
	if (!rt_report(&rt))
		goto out;
	json = rt.json;
	JEQ(json, "stats.matched", "14");
	JEQ(json, "stats.ipv6", "7");
	JEQ(json, "stats.flows", "2");
	JEQ(json, "flows.0.server", "\"10.0.0.10\"");
	JEQ(json, "flows.0.client", "\"10.0.28.50\"");
	JEQ(json, "flows.0.to_server.packets", "4");
	JEQ(json, "flows.0.from_server.bytes", "4408");
	JEQ(json, "flows.1.server", "\"::ffff:10.0.0.10\"");
	JEQ(json, "flows.1.client", "\"::ffff:10.0.28.50\"");
	JEQ(json, "flows.1.to_server.packets", "3");
	JEQ(json, "flows.1.to_server.bytes", "266");
	JEQ(json, "flows.1.from_server.packets", "3");
	JEQ(json, "flows.1.from_server.bytes", "1616");
	JEQ(json, "flows.1.verdict", "\"symmetric\"");
	JEQ(json, "flows.2", "<missing>");

	JEQ(json, "hosts.0.ip", "\"10.0.0.10\"");
	JEQ(json, "hosts.0.verdict", "\"asymmetric\"");
	JEQ(json, "hosts.0.rx.0.packets", "4");
	JEQ(json, "hosts.0.rx.0.owner_ip", "\"10.0.0.10\"");
	JEQ(json, "hosts.0.tx.0.packets", "4");
	JEQ(json, "hosts.1.ip", "\"::ffff:10.0.0.10\"");
	JEQ(json, "hosts.1.verdict", "\"symmetric\"");
	JEQ(json, "hosts.1.rx.0.mac", "\"00:25:b5:00:00:0a\"");
	JEQ(json, "hosts.1.rx.0.packets", "10");
	JEQ(json, "hosts.1.rx.0.bytes", "966");
	JEQ(json, "hosts.1.rx.0.owner_ip", "\"::ffff:10.0.0.10\"");
	JEQ(json, "hosts.1.rx.1", "<missing>");
	JEQ(json, "hosts.1.tx.0.packets", "3");
	JEQ(json, "hosts.1.tx.0.bytes", "1616");
	JEQ(json, "hosts.2", "<missing>");
	JEQ(json, "interfaces.0.mac", "\"00:25:b5:00:00:0a\"");
	JEQ(json, "interfaces.0.owner_ip", "\"10.0.0.10\"");
	JEQ(json, "interfaces.0.rx_packets", "14");
	JEQ(json, "interfaces.0.server_ips",
	    "[\"10.0.0.10\", \"::ffff:10.0.0.10\"]");

	if (!rt_form(&rt, FORM_TEXT))
		goto out;
	out = rt.out;
	ASSERT_TRUE(strstr(out, "\n  ::ffff:10.0.0.10  SYMMETRIC "),
		    "the mapped host's line");
	ASSERT_TRUE(strstr(out, "[::ffff:10.0.0.10]:902"), "the mapped flow");
	ASSERT_TRUE(strstr(out, "10.0.0.10:902"), "the IPv4 flow");
	ASSERT_TRUE(strstr(out, "network ip route ipv4 list"),
		    "the IPv4 host's routes");
	if (!rt_form(&rt, FORM_PROM))
		goto out;
	out = rt.out;
	ASSERT_TRUE(strstr(out, "\nnbdpath_host_verdict{server_ip=\"::ffff:10.0.0.10\",verdict=\"symmetric\"} 1\n"),
		    "the mapped host's verdict");
	ASSERT_TRUE(strstr(out, "\nnbdpath_host_verdict{server_ip=\"10.0.0.10\",verdict=\"asymmetric\"} 1\n"),
		    "the IPv4 host's verdict");
	ASSERT_TRUE(strstr(out, "\nnbdpath_server_packets_total{server_ip=\"::ffff:10.0.0.10\",mac=\"00:25:b5:00:00:0a\",vmk=\"vmk0\",direction=\"to_server\"} 10\n"),
		    "the mapped host's packets");
out:
	rt_done(&rt);
}
