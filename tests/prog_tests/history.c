// SPDX-License-Identifier: GPL-2.0
/*
 * Time in the report (nbdpath(8), TIME, FLOWS): the current verdict over
 * the window, its changes, hosts idle in the window, and the finished
 * flows' records with their states, age limit and bound. Frames run
 * through the real program at chosen times of its clock; each report is
 * built at a chosen "now" and checked in its JSON, exactly.
 */
#include <stdlib.h>
#include <time.h>

#include "test_progs.h"
#include "json_parse.h"
#include "finished.h"
#include "history.h"
#include "report.h"
#include "vmk.h"

#define SEC		1000000000ull
/* TP_CLOCK0 in unix time: the report's times are SEED_UNIX0 + seconds */
#define TO_UNIX		((__s64)(SEED_UNIX0 * SEC) - (__s64)TP_CLOCK0)
#define WINDOW		60

struct htest {
	struct tprog t;
	struct np_report_opts o;
	struct np_history *h;
	struct np_finished fin;
	bool fin_ready;
	bool with_prev;			/* rates against the previous report */
	struct np_report *r;
	char *json;
	char *text;
};

/* "1763900010.000000000": the JSON of unix time SEED_UNIX0 + sec */
static const char *at(unsigned int sec)
{
	static char ring[4][32];
	static int next;
	char *b = ring[next++ & 3];

	snprintf(b, sizeof(ring[0]), "%llu.000000000",
		 (unsigned long long)SEED_UNIX0 + sec);
	return b;
}

/* "HH:MM:SS" of SEED_UNIX0 + sec, as the human report writes it (UTC) */
static const char *clock_of(unsigned int sec)
{
	static char ring[4][16];
	static int next;
	char *b = ring[next++ & 3];
	time_t t = SEED_UNIX0 + sec;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(b, sizeof(ring[0]), "%H:%M:%S", &tm);
	return b;
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

static bool ht_start(struct htest *ht)
{
	struct np_vmk_list l = {};

	memset(ht, 0, sizeof(*ht));
	if (!tp_load(&ht->t, NULL) ||
	    !ASSERT_OK(np_vmk_parse_arg(&l, "vmk0=00:25:b5:00:00:0a"), "vmk0") ||
	    !ASSERT_OK(np_vmk_parse_arg(&l, "vmk4=00:50:56:6b:28:04"), "vmk4") ||
	    !ASSERT_OK(np_vmk_store(&l, ht->t.maps.names), "np_vmk_store") ||
	    !ASSERT_OK(np_history_new(&ht->h, WINDOW * SEC), "np_history_new"))
		return false;
	ht->o.kind = NP_SRC_REPLAY;
	ht->o.path = "history.pcap";
	ht->o.clock_to_unix_ns = TO_UNIX;
	ht->o.window_ns = WINDOW * SEC;
	ht->o.history = ht->h;
	/* no open flow of these tests goes idle */
	ht->o.idle_sec = 3600;
	return true;
}

/* ht_start() with a ring of max finished records kept keep_ns */
static bool ht_start_fin(struct htest *ht, size_t max, __u64 keep_ns)
{
	if (!ht_start(ht) ||
	    !ASSERT_OK(np_finished_init(&ht->fin, max, keep_ns, false),
		       "np_finished_init"))
		return false;
	ht->fin_ready = true;
	ht->o.finished = &ht->fin;
	return true;
}

static void ht_done(struct htest *ht)
{
	free(ht->json);
	free(ht->text);
	np_report_free(ht->r);
	np_history_free(ht->h);
	if (ht->fin_ready)
		np_finished_free(&ht->fin);
	tp_close(&ht->t);
}

/* One segment g at sec seconds of the program's clock; counts it in *pk, *by. */
static bool put_at(struct htest *ht, unsigned int sec, const struct seg *g,
		   __u64 *pk, __u64 *by)
{
	struct frame f;

	tp_set_clock(&ht->t, TP_CLOCK0 + sec * SEC);
	frame_seg(&f, g);
	if (!tp_run(&ht->t, &f, 0))
		return false;
	if (pk)
		(*pk)++;
	if (by)
		*by += seg_hdrs(g) + g->payload;
	return true;
}

/* The report at sec (its "now", and the window's end), JSON and text. */
static bool report_at(struct htest *ht, unsigned int sec)
{
	size_t len;
	FILE *f;

	struct np_report *prev = ht->with_prev ? ht->r : NULL;

	if (!prev)
		np_report_free(ht->r);
	free(ht->json);
	free(ht->text);
	ht->r = NULL;
	ht->json = ht->text = NULL;
	if (!tp_read(&ht->t)) {
		np_report_free(prev);
		return false;
	}
	ht->o.now_ns = TP_CLOCK0 + sec * SEC;
	ht->r = np_report_build(&ht->t.maps, &ht->t.flows, &ht->o, prev);
	np_report_free(prev);
	if (!ASSERT_TRUE(ht->r, "np_report_build"))
		return false;
	f = open_memstream(&ht->json, &len);
	if (!ASSERT_TRUE(f, "open_memstream"))
		return false;
	np_report_json(f, ht->r, NP_VIEW_ALL);
	fclose(f);
	f = open_memstream(&ht->text, &len);
	if (!ASSERT_TRUE(f, "open_memstream"))
		return false;
	np_report_text(f, ht->r, NP_VIEW_ALL);
	fclose(f);
	printf("at %u s: %s%s", sec, ht->json, ht->text);
	return ASSERT_TRUE(json_valid(ht->json), "valid JSON");
}

/*
 * 10.0.0.10 asymmetric (replies by vmk4) at 1 s, symmetric (by vmk0) at
 * 20 s, then nothing. Window 60 s, reports at 10, 30, 75 and 150 s: the
 * window of a report starts at the newest earlier report at least 60 s
 * old (none: the start), so at 30 s it still holds the vmk4 reply, at
 * 75 s only the 20 s frames, at 150 s nothing.
 */
static void history_current(void)
{
	struct seg rep4 = seed_rep(CLIENT_PORT, FRAME_TH_ACK, 1448);
	struct seg rep0 = rep4;
	struct seg req = seed_req(CLIENT_PORT, FRAME_TH_PSH | FRAME_TH_ACK, 64);
	__u64 rx_p = 0, rx_b = 0, tx4_p = 0, tx4_b = 0, tx0_p = 0, tx0_b = 0;
	__u64 rx20_p = 0, rx20_b = 0;
	struct htest ht;
	const char *j;
	char line[256];

	rep0.smac = MAC_VMK0;
	rep0.dmac = MAC_GW;
	if (!ht_start(&ht) ||
	    !put_at(&ht, 1, &req, &rx_p, &rx_b) ||
	    !put_at(&ht, 1, &rep4, &tx4_p, &tx4_b) ||
	    !report_at(&ht, 10))
		goto out;
	j = ht.json;
	JEQ(j, "hosts.0.verdict", "\"asymmetric\"");
	JEQ(j, "hosts.0.current.verdict", "\"asymmetric\"");
	JEQ(j, "hosts.0.current.since", at(10));
	JEQ(j, "hosts.0.current.window", "60");
	JEQ(j, "hosts.0.current.rx.0.interface", "\"vmk0\"");
	JEQ(j, "hosts.0.current.rx.0.packets", u64s(rx_p));
	JEQ(j, "hosts.0.current.rx.0.bytes", u64s(rx_b));
	JEQ(j, "hosts.0.current.tx.0.interface", "\"vmk4\"");
	JEQ(j, "hosts.0.current.tx.0.packets", u64s(tx4_p));
	JEQ(j, "hosts.0.current.tx.0.bytes", u64s(tx4_b));
	JEQ(j, "hosts.0.current.tx.1", "<missing>");
	JEQ(j, "hosts.0.current.asymmetric_until", "null");
	JEQ(j, "hosts.0.changes.0.time", at(10));
	JEQ(j, "hosts.0.changes.0.verdict", "\"asymmetric\"");
	JEQ(j, "hosts.0.changes.1", "<missing>");
	snprintf(line, sizeof(line), "ASYMMETRIC now (since %s)", clock_of(10));
	ASSERT_TRUE(strstr(ht.text, line), line);
	ASSERT_TRUE(strstr(ht.text, "vSphereBackupNFC"), "the fix, asymmetric now");

	/* the route fixed: replies by vmk0 */
	if (!put_at(&ht, 20, &req, &rx20_p, &rx20_b) ||
	    !put_at(&ht, 20, &rep0, &tx0_p, &tx0_b) ||
	    !report_at(&ht, 30))
		goto out;
	j = ht.json;
	/* 30 s: no report 60 s old yet, the window reaches back to 1 s */
	JEQ(j, "hosts.0.current.verdict", "\"asymmetric\"");
	JEQ(j, "hosts.0.current.since", at(10));
	JEQ(j, "hosts.0.current.rx.0.packets", u64s(rx_p + rx20_p));
	JEQ(j, "hosts.0.current.tx.0.interface", "\"vmk0\"");
	JEQ(j, "hosts.0.current.tx.1.interface", "\"vmk4\"");
	JEQ(j, "hosts.0.changes.1", "<missing>");

	if (!report_at(&ht, 75))
		goto out;
	j = ht.json;
	/* 75 s: from the 10 s report on, the 20 s frames alone */
	JEQ(j, "hosts.0.verdict", "\"asymmetric\"");
	JEQ(j, "hosts.0.current.verdict", "\"symmetric\"");
	JEQ(j, "hosts.0.current.since", at(75));
	JEQ(j, "hosts.0.current.asymmetric_until", at(75));
	JEQ(j, "hosts.0.current.rx.0.packets", u64s(rx20_p));
	JEQ(j, "hosts.0.current.rx.0.bytes", u64s(rx20_b));
	JEQ(j, "hosts.0.current.tx.0.interface", "\"vmk0\"");
	JEQ(j, "hosts.0.current.tx.0.packets", u64s(tx0_p));
	JEQ(j, "hosts.0.current.tx.0.bytes", u64s(tx0_b));
	JEQ(j, "hosts.0.current.tx.1", "<missing>");
	/* the totals since the start keep both */
	JEQ(j, "hosts.0.tx.0.packets", u64s(tx0_p));
	JEQ(j, "hosts.0.tx.1.packets", u64s(tx4_p));
	JEQ(j, "hosts.0.changes.0.verdict", "\"asymmetric\"");
	JEQ(j, "hosts.0.changes.1.time", at(75));
	JEQ(j, "hosts.0.changes.1.verdict", "\"symmetric\"");
	JEQ(j, "hosts.0.changes.2", "<missing>");
	snprintf(line, sizeof(line),
		 "SYMMETRIC now (since %s), asymmetric until %s",
		 clock_of(75), clock_of(75));
	ASSERT_TRUE(strstr(ht.text, line), line);
	ASSERT_TRUE(!strstr(ht.text, "vSphereBackupNFC"),
		    "no fix advice once symmetric");

	if (!report_at(&ht, 150))
		goto out;
	j = ht.json;
	/* 150 s: nothing since the 75 s report */
	JEQ(j, "hosts.0.verdict", "\"asymmetric\"");
	JEQ(j, "hosts.0.current.verdict", "\"idle\"");
	JEQ(j, "hosts.0.current.since", at(150));
	JEQ(j, "hosts.0.current.asymmetric_until", at(75));
	JEQ(j, "hosts.0.current.rx", "[]");
	JEQ(j, "hosts.0.current.tx", "[]");
	JEQ(j, "hosts.0.changes.0.time", at(10));
	JEQ(j, "hosts.0.changes.1.time", at(75));
	JEQ(j, "hosts.0.changes.2.time", at(150));
	JEQ(j, "hosts.0.changes.2.verdict", "\"idle\"");
	JEQ(j, "hosts.0.changes.3", "<missing>");
	JEQ(j, "hosts.0.rx.0.packets", u64s(rx_p + rx20_p));
	snprintf(line, sizeof(line),
		 "IDLE now (since %s), asymmetric until %s", clock_of(150),
		 clock_of(75));
	ASSERT_TRUE(strstr(ht.text, line), line);
out:
	ht_done(&ht);
}

/*
 * Two hosts: 10.0.0.10 busy at 1 s only, 10.0.0.20 at 1 s and 100 s. At
 * 120 s (window from the 30 s report) the first is idle, with no current
 * rx or tx, while the second is symmetric.
 */
static void history_idle_host(void)
{
	struct seg req = seed_req(CLIENT_PORT, FRAME_TH_PSH | FRAME_TH_ACK, 64);
	struct seg rep = seed_rep(CLIENT_PORT, FRAME_TH_ACK, 1448);
	struct seg req2 = req, rep2 = rep;
	static const __u8 esx2_vmk0[6] = { MAC_ESX2_VMK0_BYTES };
	__u64 p2 = 0, b2 = 0, q2 = 0, c2 = 0;
	struct htest ht;
	const char *j;

	req2.daddr = IP_ESX2;
	req2.dmac = esx2_vmk0;
	rep2.saddr = IP_ESX2;
	rep2.smac = esx2_vmk0;
	rep2.dmac = MAC_GW;
	if (!ht_start(&ht) ||
	    !put_at(&ht, 1, &req, NULL, NULL) ||
	    !put_at(&ht, 1, &rep, NULL, NULL) ||
	    !put_at(&ht, 1, &req2, NULL, NULL) ||
	    !put_at(&ht, 1, &rep2, NULL, NULL) ||
	    !report_at(&ht, 30) ||
	    !put_at(&ht, 100, &req2, &p2, &b2) ||
	    !put_at(&ht, 100, &rep2, &q2, &c2) ||
	    !report_at(&ht, 120))
		goto out;
	j = ht.json;
	JEQ(j, "hosts.0.ip", "\"10.0.0.10\"");
	JEQ(j, "hosts.0.verdict", "\"asymmetric\"");
	JEQ(j, "hosts.0.current.verdict", "\"idle\"");
	JEQ(j, "hosts.0.current.since", at(120));
	JEQ(j, "hosts.0.current.rx", "[]");
	JEQ(j, "hosts.0.current.tx", "[]");
	JEQ(j, "hosts.0.rx.0.packets", "1");
	JEQ(j, "hosts.0.changes.0.verdict", "\"asymmetric\"");
	JEQ(j, "hosts.0.changes.0.time", at(30));
	JEQ(j, "hosts.0.changes.1.verdict", "\"idle\"");
	JEQ(j, "hosts.0.changes.1.time", at(120));
	JEQ(j, "hosts.1.ip", "\"10.0.0.20\"");
	JEQ(j, "hosts.1.verdict", "\"symmetric\"");
	JEQ(j, "hosts.1.current.verdict", "\"symmetric\"");
	JEQ(j, "hosts.1.current.since", at(30));
	JEQ(j, "hosts.1.current.rx.0.mac", "\"00:25:b5:00:00:0b\"");
	JEQ(j, "hosts.1.current.rx.0.packets", u64s(p2));
	JEQ(j, "hosts.1.current.rx.0.bytes", u64s(b2));
	JEQ(j, "hosts.1.current.tx.0.packets", u64s(q2));
	JEQ(j, "hosts.1.current.tx.0.bytes", u64s(c2));
	JEQ(j, "hosts.1.rx.0.packets", "2");
	JEQ(j, "hosts.1.changes.1", "<missing>");
out:
	ht_done(&ht);
}

/* A record of a flow gone from the table: client port cport, ended at sec. */
static void fin_rec(struct np_flow_rec *rec, __u16 cport, unsigned int first,
		    unsigned int sec, __u8 to_flags)
{
	memset(rec, 0, sizeof(*rec));
	tp_key(&rec->key, IP_ESX, NBD_PORT, IP_RUBRIK, cport);
	memcpy(rec->dir[0].macs[0].mac, MAC_VMK0, 6);
	rec->dir[0].macs[0].packets = 3;
	rec->dir[0].macs[0].bytes = 300;
	rec->dir[0].n_macs = 1;
	rec->dir[0].payload_bytes = 100;
	rec->dir[0].tcp_flags = to_flags;
	rec->dir[0].first_ns = TP_CLOCK0 + first * SEC;
	rec->dir[0].last_ns = TP_CLOCK0 + sec * SEC;
	memcpy(rec->dir[0].dst_mac, MAC_VMK0, 6);
	memcpy(rec->dir[0].src_mac, MAC_GW, 6);
	memcpy(rec->dir[1].macs[0].mac, MAC_VMK4, 6);
	rec->dir[1].macs[0].packets = 2;
	rec->dir[1].macs[0].bytes = 3000;
	rec->dir[1].n_macs = 1;
	rec->dir[1].payload_bytes = 2900;
	rec->dir[1].tcp_flags = FRAME_TH_ACK | FRAME_TH_FIN;
	rec->dir[1].first_ns = TP_CLOCK0 + first * SEC;
	rec->dir[1].last_ns = TP_CLOCK0 + (sec - 1) * SEC;
	memcpy(rec->dir[1].src_mac, MAC_VMK4, 6);
	memcpy(rec->dir[1].dst_mac, MAC_RUBRIK, 6);
}

/* What the loader does with a reclaimed slot: totals, then a record. */
static void finish(struct htest *ht, const struct np_flow_rec *rec,
		   enum np_flow_state st)
{
	np_retire_to_maps(rec, &ht->t.maps);
	np_finished_add(&ht->fin, rec, st);
}

/*
 * An active flow (the seed's, client port 50512, from 1 s) and records
 * kept 100 s, at most 2: A (40100, closed, ended 20 s), B (40101, reset,
 * 30 s), then C (40102, closed, 40 s), which takes A's place while A is
 * still within the 100 s: dropped. B ages out at 130 s.
 */
static void history_finished(void)
{
	struct seg req = seed_req(CLIENT_PORT, FRAME_TH_PSH | FRAME_TH_ACK, 64);
	struct seg rep = seed_rep(CLIENT_PORT, FRAME_TH_ACK, 1448);
	struct np_flow_rec a, b, c;
	__u64 rx_p = 0, rx_b = 0;
	struct htest ht;
	const char *j;

	if (!ht_start_fin(&ht, 2, 100 * SEC))
		goto out;
	fin_rec(&a, 40100, 5, 20, FRAME_TH_ACK | FRAME_TH_FIN);
	fin_rec(&b, 40101, 6, 30, FRAME_TH_ACK | FRAME_TH_RST);
	fin_rec(&c, 40102, 7, 40, FRAME_TH_ACK | FRAME_TH_FIN);
	if (!put_at(&ht, 1, &req, &rx_p, &rx_b) ||
	    !put_at(&ht, 2, &rep, NULL, NULL))
		goto out;
	finish(&ht, &a, NP_FS_CLOSED);
	finish(&ht, &b, NP_FS_RESET);
	if (!report_at(&ht, 35))
		goto out;
	j = ht.json;
	JEQ(j, "stats.flows", "3");
	JEQ(j, "stats.flows_active", "1");
	JEQ(j, "stats.flows_finished", "2");
	JEQ(j, "stats.flows_evicted", "0");
	JEQ(j, "stats.flows_dropped", "0");
	JEQ(j, "flows.0.client_port", "50512");
	JEQ(j, "flows.0.state", "\"active\"");
	JEQ(j, "flows.0.ended", "null");
	/* the finished, most recent first */
	JEQ(j, "flows.1.client_port", "40101");
	JEQ(j, "flows.1.state", "\"reset\"");
	JEQ(j, "flows.1.ended", at(30));
	JEQ(j, "flows.1.last_seen", at(30));
	JEQ(j, "flows.1.first_seen", at(6));
	JEQ(j, "flows.1.verdict", "\"asymmetric\"");
	JEQ(j, "flows.1.to_server.packets", "3");
	JEQ(j, "flows.1.to_server.bytes", "300");
	JEQ(j, "flows.1.to_server.payload_bytes", "100");
	JEQ(j, "flows.1.to_server.interface", "\"vmk0\"");
	JEQ(j, "flows.1.from_server.packets", "2");
	JEQ(j, "flows.1.from_server.bytes", "3000");
	JEQ(j, "flows.1.from_server.payload_bytes", "2900");
	JEQ(j, "flows.1.from_server.interface", "\"vmk4\"");
	JEQ(j, "flows.2.client_port", "40100");
	JEQ(j, "flows.2.state", "\"closed\"");
	JEQ(j, "flows.2.ended", at(20));
	JEQ(j, "flows.3", "<missing>");
	/* host and interface totals: the active flow's and the records' */
	JEQ(j, "hosts.0.rx.0.packets", u64s(rx_p + 6));
	JEQ(j, "hosts.0.rx.0.bytes", u64s(rx_b + 600));
	JEQ(j, "interfaces.1.tx_packets", u64s(1 + 4));
	ASSERT_TRUE(strstr(ht.text, "FINISHED FLOWS (most recent first, 2 of 2)"),
		    "finished flows in the text");
	ASSERT_TRUE(strstr(ht.text, "reset ") && strstr(ht.text, "closed "),
		    "their states in the text");

	/* the bound: C takes the place of A, still within 100 s */
	finish(&ht, &c, NP_FS_CLOSED);
	if (!report_at(&ht, 45))
		goto out;
	j = ht.json;
	JEQ(j, "stats.flows", "3");
	JEQ(j, "stats.flows_dropped", "1");
	JEQ(j, "stats.flows_evicted", "1");
	JEQ(j, "flows.1.client_port", "40102");
	JEQ(j, "flows.1.state", "\"closed\"");
	JEQ(j, "flows.2.client_port", "40101");
	JEQ(j, "flows.3", "<missing>");
	/* A's counts stay in the totals */
	JEQ(j, "hosts.0.rx.0.packets", u64s(rx_p + 9));
	JEQ(j, "hosts.0.rx.0.bytes", u64s(rx_b + 900));

	/* keep_ns: B ended 100 s ago, out of the list, counted as evicted */
	if (!report_at(&ht, 130))
		goto out;
	j = ht.json;
	JEQ(j, "stats.flows", "2");
	JEQ(j, "stats.flows_active", "1");
	JEQ(j, "stats.flows_finished", "1");
	JEQ(j, "stats.flows_evicted", "2");
	JEQ(j, "stats.flows_dropped", "1");
	JEQ(j, "flows.0.client_port", "50512");
	JEQ(j, "flows.1.client_port", "40102");
	JEQ(j, "flows.2", "<missing>");
	JEQ(j, "hosts.0.rx.0.packets", u64s(rx_p + 9));
	/* one second earlier B was still listed */
	if (!report_at(&ht, 129))
		goto out;
	JEQ(ht.json, "flows.2.client_port", "40101");
	JEQ(ht.json, "stats.flows_evicted", "1");
out:
	ht_done(&ht);
}

/*
 * Finished flows still in the table (closed, not yet reclaimed) and kept
 * records in one list, most recent first: a closed flow of the table
 * that ended after a record is listed before it, whatever its bytes.
 */
static void history_finished_order(void)
{
	struct seg req = seed_req(CLIENT_PORT, FRAME_TH_PSH | FRAME_TH_ACK, 64);
	struct seg rep = seed_rep(CLIENT_PORT, FRAME_TH_ACK, 100);
	struct np_flow_rec a;
	struct htest ht;
	const char *j;

	if (!ht_start_fin(&ht, 8, 0))
		goto out;
	ht.o.closed_sec = 600;
	/* A: a record, 3300 bytes, ended at 20 s */
	fin_rec(&a, 40100, 5, 20, FRAME_TH_ACK | FRAME_TH_FIN);
	finish(&ht, &a, NP_FS_CLOSED);
	/* the table: 50512 closed at 30 s (few bytes), 50513 reset at 25 s */
	if (!put_at(&ht, 21, &req, NULL, NULL) ||
	    !put_at(&ht, 22, &rep, NULL, NULL))
		goto out;
	req.flags = rep.flags = FRAME_TH_FIN | FRAME_TH_ACK;
	req.payload = rep.payload = 0;
	if (!put_at(&ht, 29, &rep, NULL, NULL) ||
	    !put_at(&ht, 30, &req, NULL, NULL))
		goto out;
	req = seed_req(CLIENT_PORT + 1, FRAME_TH_PSH | FRAME_TH_ACK, 1000);
	if (!put_at(&ht, 24, &req, NULL, NULL))
		goto out;
	req.flags = FRAME_TH_RST | FRAME_TH_ACK;
	req.payload = 0;
	if (!put_at(&ht, 25, &req, NULL, NULL) || !report_at(&ht, 40))
		goto out;
	j = ht.json;
	JEQ(j, "stats.flows", "3");
	JEQ(j, "stats.flows_active", "0");
	JEQ(j, "flows.0.client_port", "50512");
	JEQ(j, "flows.0.state", "\"closed\"");
	JEQ(j, "flows.0.ended", at(30));
	JEQ(j, "flows.1.client_port", "50513");
	JEQ(j, "flows.1.state", "\"reset\"");
	JEQ(j, "flows.1.ended", at(25));
	JEQ(j, "flows.2.client_port", "40100");
	JEQ(j, "flows.2.state", "\"closed\"");
	JEQ(j, "flows.2.ended", at(20));
out:
	ht_done(&ht);
}

/*
 * A kept record and a closed flow of the table under one key (the client
 * used its port again), then reports with rates: the table's flow is
 * measured against its own counts of the previous report, not against
 * the record's, which shares its key but not its connection, whatever
 * their places in the list. The record's object, kept when first listed,
 * has rates 0 in a report with rates and none in one without.
 */
static void history_finished_kept(void)
{
	struct seg req = seed_req(CLIENT_PORT, FRAME_TH_PSH | FRAME_TH_ACK, 64);
	struct seg rep = seed_rep(CLIENT_PORT, FRAME_TH_ACK, 100);
	struct np_flow_rec a;
	struct htest ht;
	char line[128];
	const char *j;

	if (!ht_start_fin(&ht, 8, 0))
		goto out;
	ht.o.closed_sec = 600;
	/* the record: the port's earlier connection, 5 packets, to 20 s */
	fin_rec(&a, CLIENT_PORT, 5, 20, FRAME_TH_ACK | FRAME_TH_FIN);
	finish(&ht, &a, NP_FS_CLOSED);
	/* the table: the same key again from 21 s, closed at 30 s, 4 packets */
	if (!put_at(&ht, 21, &req, NULL, NULL) ||
	    !put_at(&ht, 22, &rep, NULL, NULL))
		goto out;
	req.flags = rep.flags = FRAME_TH_FIN | FRAME_TH_ACK;
	req.payload = rep.payload = 0;
	if (!put_at(&ht, 29, &rep, NULL, NULL) ||
	    !put_at(&ht, 30, &req, NULL, NULL) || !report_at(&ht, 40))
		goto out;
	j = ht.json;
	JEQ(j, "stats.flows", "2");
	JEQ(j, "flows.0.client_port", u64s(CLIENT_PORT));
	JEQ(j, "flows.0.ended", at(30));
	JEQ(j, "flows.0.to_server.packets", "2");
	JEQ(j, "flows.1.client_port", u64s(CLIENT_PORT));
	JEQ(j, "flows.1.ended", at(20));
	JEQ(j, "flows.1.to_server.packets", "3");
	JEQ(j, "flows.1.to_server.interface", "\"vmk0\"");
	JEQ(j, "flows.1.from_server.interface", "\"vmk4\"");
	/* no interval, no rates */
	JEQ(j, "flows.1.to_server.pps", "<missing>");
	JEQ(j, "flows.1.from_server.bps", "<missing>");
	JEQ(j, "flows.0.to_server.pps", "<missing>");

	/* an active flow, listed first from now on; rates against prev */
	req = seed_req(CLIENT_PORT + 1, FRAME_TH_PSH | FRAME_TH_ACK, 1000);
	if (!put_at(&ht, 45, &req, NULL, NULL))
		goto out;
	ht.with_prev = true;
	ht.o.interval = 10;
	if (!report_at(&ht, 50))
		goto out;
	j = ht.json;
	JEQ(j, "stats.flows", "3");
	JEQ(j, "stats.flows_active", "1");
	JEQ(j, "flows.0.client_port", u64s(CLIENT_PORT + 1));
	JEQ(j, "flows.0.to_server.pps", "0.100");
	JEQ(j, "flows.1.client_port", u64s(CLIENT_PORT));
	JEQ(j, "flows.1.ended", at(30));
	/* nothing since 30 s: 0, not its 2 packets against the record's */
	JEQ(j, "flows.1.to_server.pps", "0.000");
	JEQ(j, "flows.1.to_server.bps", "0.000");
	JEQ(j, "flows.1.from_server.pps", "0.000");
	JEQ(j, "flows.2.client_port", u64s(CLIENT_PORT));
	JEQ(j, "flows.2.ended", at(20));
	JEQ(j, "flows.2.to_server.packets", "3");
	JEQ(j, "flows.2.to_server.pps", "0.000");
	JEQ(j, "flows.2.to_server.bps", "0.000");
	JEQ(j, "flows.2.from_server.pps", "0.000");
	JEQ(j, "flows.2.from_server.bps", "0.000");
	JEQ(j, "flows.2.to_server.interface", "\"vmk0\"");
	/* the human report's row of the record, from what was kept */
	ASSERT_TRUE(strstr(ht.text, "FINISHED FLOWS (most recent first, 2 of 2)"),
		    "both finished in the text");
	snprintf(line, sizeof(line),
		 "10.0.28.50:50512  ASYMMETRIC  3 pkt 300 B via vmk0  2 pkt 3.0 kB via vmk4  closed %s",
		 clock_of(20));
	ASSERT_TRUE(strstr(ht.text, line), line);
out:
	ht_done(&ht);
}

void test_history(void)
{
	if (test__start_subtest("current"))
		history_current();
	if (test__start_subtest("idle_host"))
		history_idle_host();
	if (test__start_subtest("finished"))
		history_finished();
	if (test__start_subtest("finished_order"))
		history_finished_order();
	if (test__start_subtest("finished_kept"))
		history_finished_kept();
}
