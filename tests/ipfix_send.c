// SPDX-License-Identifier: GPL-2.0
/*
 * ipfix_send - drive user/ipfix.c for tests/t_ipfix.sh and the bench.
 *
 *   ipfix_send set HOST:PORT      the fixed flow set below
 *   ipfix_send burst HOST:PORT N  N records over many messages (v4 and v6),
 *                                 flushed every 100 as a poll loop would
 *   ipfix_send down HOST:PORT N   the same, to where nothing listens
 *   ipfix_send replay HOST:PORT N N records, never flushed, the queue
 *                                 waiting for the rate (as replay does)
 *   ipfix_send flood HOST:PORT N  N records, never flushed, no waiting:
 *                                 the queue overflows, and what it holds
 *                                 at the end is dropped (drain of 0 ms)
 *   ipfix_send bench [N]          export cost of N (10000) records
 *
 * Each mode but bench prints one line of counters:
 *   records_sent=.. messages_sent=.. bytes_sent=.. records_lost=.. ...
 * and calls np_ipfix_warn_loss() after every flush, as `run` would.
 *
 * The fixed set (t_ipfix.sh holds the sums, worked out by hand):
 *   A  10.0.0.10:902 <- 10.0.28.50:50512, asymmetric, three pieces
 *      (active, active, FIN); to_server by vmk0, from_server by vmk4
 *   B  10.0.0.11:902 <- 10.0.28.51:40000, RST; from_server by two
 *      server-side MACs (vmk1b, vmk4b): two records a piece
 *   C  [2001:db8::10]:902 <- [2001:db8:28::50]:51000, two pieces
 *      (active, idle); vmk0 in, vmk4 out (the same MACs as A)
 *   D  [2001:db8::11]:902 <- [2001:db8:28::51]:52000, to_server only,
 *      end of capture; by vmk1b
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "ipfix.h"

#define T0	1763900000000ull	/* ms */

static const __u8 VMK0[6] = { 0x00, 0x25, 0xb5, 0x00, 0x00, 0x0a };
static const __u8 VMK4[6] = { 0x00, 0x50, 0x56, 0x6b, 0x28, 0x04 };
static const __u8 VMK1B[6] = { 0x00, 0x25, 0xb5, 0x00, 0x00, 0x0b };
static const __u8 VMK4B[6] = { 0x00, 0x50, 0x56, 0x6b, 0x28, 0x05 };
static const __u8 GW10[6] = { 0x00, 0x00, 0x5e, 0x00, 0x01, 0x0a };
static const __u8 CLIENT[6] = { 0x00, 0x50, 0x56, 0xa1, 0x28, 0x32 };
static const __u8 CLIENT6[6] = { 0x00, 0x50, 0x56, 0xa1, 0x28, 0x33 };

static void ip(__u8 out[16], const char *s)
{
	struct in_addr a4;

	if (inet_pton(AF_INET, s, &a4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &a4, 4);
	} else if (inet_pton(AF_INET6, s, out) != 1) {
		fprintf(stderr, "ipfix_send: bad address %s\n", s);
		exit(2);
	}
}

static void flow(struct np_ipfix_rec *r, const char *server, __u16 sport,
		 const char *client, __u16 cport, __u8 verdict)
{
	memset(r, 0, sizeof(*r));
	ip(r->server_ip, server);
	ip(r->client_ip, client);
	r->server_port = sport;
	r->client_port = cport;
	r->verdict = verdict;
	r->ingress_ifindex = 7;
	r->ifname = "ens1f1";
	r->handshake_state = NP_IPFIX_HS_ESTABLISHED;
}

/* One direction's piece: frame MACs, server-side MAC, counts, times. */
static void piece(struct np_ipfix_rec *r, __u8 dir, const __u8 *src,
		  const __u8 *dst, const char *vmk, __u16 vlan, __u64 pkts,
		  __u64 bytes, __u64 start, __u64 end, __u8 why, __u8 state)
{
	r->dir = dir;
	memcpy(r->src_mac, src, 6);
	memcpy(r->dst_mac, dst, 6);
	memcpy(r->mac, dir == NP_IPFIX_TO_SERVER ? dst : src, 6);
	r->vmk = vmk;
	r->vlan = vlan;
	r->packets = pkts;
	r->bytes = bytes;
	r->start_ms = T0 + start;
	r->end_ms = T0 + end;
	r->end_reason = why;
	r->state = state;
	r->retransmits = pkts / 100;
}

static void report(struct np_ipfix *x)
{
	struct np_ipfix_stats s;

	np_ipfix_stats(x, &s);
	printf("records_sent=%llu messages_sent=%llu bytes_sent=%llu records_lost=%llu messages_lost=%llu bytes_lost=%llu first_err=%s\n",
	       (unsigned long long)s.records_sent,
	       (unsigned long long)s.messages_sent,
	       (unsigned long long)s.bytes_sent,
	       (unsigned long long)s.records_lost,
	       (unsigned long long)s.messages_lost,
	       (unsigned long long)s.bytes_lost,
	       s.first_err ? strerrorname_np(s.first_err) : "0");
}

static void add(struct np_ipfix *x, const struct np_ipfix_rec *r)
{
	if (np_ipfix_add(x, r)) {
		fprintf(stderr, "ipfix_send: np_ipfix_add refused a record\n");
		exit(1);
	}
}

/*
 * The set is exported as `run` would across polls: each flush is one poll
 * interval, records of several flows share messages.
 */
static void send_set(struct np_ipfix *x)
{
	struct np_ipfix_rec a, b, c, d;
	const __u8 A = NP_IPFIX_V_ASYMMETRIC, S = NP_IPFIX_S_ACTIVE;

	flow(&a, "10.0.0.10", 902, "10.0.28.50", 50512, A);
	flow(&b, "10.0.0.11", 902, "10.0.28.51", 40000, A);
	flow(&c, "2001:db8::10", 902, "2001:db8:28::50", 51000, A);
	flow(&d, "2001:db8::11", 902, "2001:db8:28::51", 52000,
	     NP_IPFIX_V_TO_SERVER_ONLY);

	/* no template has an IPv4 and an IPv6 address: refused, not sent */
	flow(&b, "10.0.0.11", 902, "2001:db8:28::51", 40000, A);
	if (np_ipfix_add(x, &b) != -EINVAL) {
		fprintf(stderr, "ipfix_send: a record of two families was taken\n");
		exit(1);
	}
	flow(&b, "10.0.0.11", 902, "10.0.28.51", 40000, A);

	/* poll 1: A's and C's first active timeout */
	piece(&a, 0, GW10, VMK0, "vmk0", 10, 100, 5200, 0, 60000,
	      NP_IPFIX_END_ACTIVE, S);
	add(x, &a);
	piece(&a, 1, VMK4, CLIENT, "vmk4", 28, 1000, 1500000, 1, 60000,
	      NP_IPFIX_END_ACTIVE, S);
	add(x, &a);
	piece(&c, 0, GW10, VMK0, "vmk0", 10, 50, 3000, 5000, 60000,
	      NP_IPFIX_END_ACTIVE, S);
	add(x, &c);
	piece(&c, 1, VMK4, CLIENT6, "vmk4", 28, 400, 600000, 5001, 59999,
	      NP_IPFIX_END_ACTIVE, S);
	add(x, &c);
	np_ipfix_flush(x);
	np_ipfix_warn_loss(x);

	/* poll 2: A again; B ends by RST, its replies left by two MACs */
	piece(&a, 0, GW10, VMK0, "vmk0", 10, 200, 10400, 60000, 120000,
	      NP_IPFIX_END_ACTIVE, S);
	add(x, &a);
	piece(&a, 1, VMK4, CLIENT, "vmk4", 28, 2000, 3000000, 60000, 120000,
	      NP_IPFIX_END_ACTIVE, S);
	add(x, &a);
	piece(&b, 0, GW10, VMK1B, "vmk1", 11, 30, 1560, 70000, 75000,
	      NP_IPFIX_END_RST, NP_IPFIX_S_RESET);
	add(x, &b);
	piece(&b, 1, VMK1B, CLIENT, "vmk1", 11, 12, 18000, 70001, 72000,
	      NP_IPFIX_END_RST, NP_IPFIX_S_RESET);
	/* src_mac is the direction's last frame's: the record's own
	 * server-side MAC must win */
	memcpy(b.src_mac, VMK4B, 6);
	add(x, &b);
	piece(&b, 1, VMK4B, CLIENT, NULL, 28, 8, 12000, 72001, 74999,
	      NP_IPFIX_END_RST, NP_IPFIX_S_RESET);
	add(x, &b);
	np_ipfix_flush(x);
	np_ipfix_warn_loss(x);

	/* poll 3: A ends by FIN, C by idle timeout, D with the capture */
	piece(&a, 0, GW10, VMK0, "vmk0", 10, 37, 1924, 120000, 130500,
	      NP_IPFIX_END_FIN, NP_IPFIX_S_CLOSED);
	add(x, &a);
	piece(&a, 1, VMK4, CLIENT, "vmk4", 28, 345, 517500, 120000, 130501,
	      NP_IPFIX_END_FIN, NP_IPFIX_S_CLOSED);
	add(x, &a);
	piece(&c, 0, GW10, VMK0, "vmk0", 10, 5, 300, 60000, 61000,
	      NP_IPFIX_END_IDLE, NP_IPFIX_S_IDLE);
	add(x, &c);
	piece(&c, 1, VMK4, CLIENT6, "vmk4", 28, 7, 10500, 60000, 61001,
	      NP_IPFIX_END_IDLE, NP_IPFIX_S_IDLE);
	add(x, &c);
	piece(&d, 0, GW10, VMK1B, "vmk1", 0, 9, 720, 100000, 140000,
	      NP_IPFIX_END_CAPTURE, S);
	d.handshake_state = NP_IPFIX_HS_UNSEEN;
	memset(d.dst_mac, 0, 6);	/* not known: mac still is */
	add(x, &d);
	np_ipfix_flush(x);
	np_ipfix_warn_loss(x);
}

/* Record i of a burst: flow i/2 (IPv4 when even), direction i%2. */
static void burst_rec(struct np_ipfix_rec *r, unsigned int i)
{
	unsigned int f = i / 2;
	char s[64], c[64];

	if (f % 2 == 0) {
		snprintf(s, sizeof(s), "10.1.%u.%u", (f >> 8) & 255, f & 255);
		snprintf(c, sizeof(c), "10.2.%u.%u", (f >> 8) & 255, f & 255);
	} else {
		snprintf(s, sizeof(s), "2001:db8:1::%x", f);
		snprintf(c, sizeof(c), "2001:db8:2::%x", f);
	}
	flow(r, s, 902, c, 30000 + f % 30000, NP_IPFIX_V_ASYMMETRIC);
	if (i % 2 == 0)
		piece(r, 0, GW10, VMK0, "vmk0", 10, 10 + f % 7,
		      (10 + f % 7) * 52, f, f + 1000, NP_IPFIX_END_FIN,
		      NP_IPFIX_S_CLOSED);
	else
		piece(r, 1, VMK4, CLIENT, "vmk4", 28, 100 + f % 13,
		      (100 + f % 13) * 1500, f, f + 1000, NP_IPFIX_END_FIN,
		      NP_IPFIX_S_CLOSED);
}

static void send_burst(struct np_ipfix *x, unsigned int n)
{
	struct np_ipfix_rec r;

	for (unsigned int i = 0; i < n; i++) {
		burst_rec(&r, i);
		add(x, &r);
		/* a poll interval every 100 records */
		if (i % 100 == 99 || i == n - 1) {
			np_ipfix_flush(x);
			np_ipfix_warn_loss(x);
		}
	}
}

/* N records added at once, as a replay ends or a table expires. */
static void send_flood(struct np_ipfix *x, unsigned int n, bool wait)
{
	struct np_ipfix_rec r;

	if (wait)
		np_ipfix_set_rate(x, NP_IPFIX_RATE, true);
	for (unsigned int i = 0; i < n; i++) {
		burst_rec(&r, i);
		add(x, &r);
	}
	np_ipfix_drain(x, wait ? 60000 : 0);
	np_ipfix_warn_loss(x);
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Export cost: N records encoded and sent to a local socket that takes
 * them all (a large receive buffer, drained and counted after each
 * round), so the time is the exporter's and nothing is lost.
 */
static int bench(unsigned int n)
{
	enum { ROUNDS = 7 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	struct np_ipfix_rec *recs = calloc(n, sizeof(*recs));
	__u64 ns[ROUNDS], got_msgs = 0, got_bytes = 0, paced_add, paced_drain;
	struct np_ipfix_stats s = { 0 };
	int rcv = 64 << 20, fd;
	char spec[64], buf[2048];
	ssize_t len;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!recs || fd < 0 || bind(fd, (void *)&sa, sizeof(sa)) ||
	    getsockname(fd, (void *)&sa, &sl)) {
		perror("ipfix_send: bench socket");
		return 1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", ntohs(sa.sin_port));
	for (unsigned int i = 0; i < n; i++)
		burst_rec(&recs[i], i);

	for (int k = 0; k < ROUNDS; k++) {
		struct np_ipfix *x;
		__u64 t;

		if (np_ipfix_open(&x, spec, 1))
			return 1;
		/* the exporter's own cost: no rate limit */
		np_ipfix_set_rate(x, 0, false);
		t = now_ns();
		for (unsigned int i = 0; i < n; i++)
			np_ipfix_add(x, &recs[i]);
		np_ipfix_flush(x);
		ns[k] = now_ns() - t;
		np_ipfix_stats(x, &s);
		np_ipfix_close(x);
		got_msgs = got_bytes = 0;
		while ((len = recv(fd, buf, sizeof(buf), 0)) > 0) {
			got_msgs++;
			got_bytes += len;
		}
		if (s.records_lost || got_msgs != s.messages_sent ||
		    got_bytes != s.bytes_sent) {
			fprintf(stderr, "ipfix_send: bench lost messages: sent %llu, received %llu\n",
				(unsigned long long)s.messages_sent,
				(unsigned long long)got_msgs);
			return 1;
		}
	}
	qsort(ns, ROUNDS, sizeof(ns[0]), cmp_u64);
	/* and at the default rate: what the caller waits for (add and
	 * flush), and how long the queue takes to leave (drain) */
	{
		struct np_ipfix *x;
		__u64 t, t1;

		if (np_ipfix_open(&x, spec, 1))
			return 1;
		t = now_ns();
		for (unsigned int i = 0; i < n; i++)
			np_ipfix_add(x, &recs[i]);
		np_ipfix_flush(x);
		t1 = now_ns();
		np_ipfix_drain(x, 60000);
		paced_add = t1 - t;
		paced_drain = now_ns() - t1;
		np_ipfix_stats(x, &s);
		np_ipfix_close(x);
		while (recv(fd, buf, sizeof(buf), 0) > 0)
			;
		if (s.records_lost) {
			fprintf(stderr, "ipfix_send: bench lost records at the default rate\n");
			return 1;
		}
	}
	printf("ipfix export of %u records (v4 and v6, both directions; median of %d, min %.2f, max %.2f ms)\n",
	       n, ROUNDS, ns[0] / 1e6, ns[ROUNDS - 1] / 1e6);
	printf("  time             %8.2f ms  (%.0f ns a record)\n",
	       ns[ROUNDS / 2] / 1e6, (double)ns[ROUNDS / 2] / n);
	printf("  messages         %8llu     (%.1f records each)\n",
	       (unsigned long long)s.messages_sent,
	       (double)n / s.messages_sent);
	printf("  IPFIX bytes      %8llu     (%.1f a record)\n",
	       (unsigned long long)s.bytes_sent, (double)s.bytes_sent / n);
	printf("  with IPv4+UDP    %8llu     (+28 a message)\n",
	       (unsigned long long)(s.bytes_sent + 28 * s.messages_sent));
	printf("  with Ethernet    %8llu     (+38 a message: header, FCS, preamble, gap)\n",
	       (unsigned long long)(s.bytes_sent + 66 * s.messages_sent));
	printf("  at %d messages/s: add+flush %.2f ms, then the queue leaves in %.0f ms\n",
	       NP_IPFIX_RATE, paced_add / 1e6, paced_drain / 1e6);
	free(recs);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct np_ipfix *x;
	unsigned int n = 0;

	if (argc >= 2 && !strcmp(argv[1], "bench"))
		return bench(argc > 2 ? strtoul(argv[2], NULL, 0) : 10000);
	if (argc < 3 || (strcmp(argv[1], "set") && argc < 4)) {
		fprintf(stderr, "usage: ipfix_send set HOST:PORT | burst|down|replay|flood HOST:PORT N | bench [N]\n");
		return 2;
	}
	if (argc > 3)
		n = strtoul(argv[3], NULL, 0);
	if (np_ipfix_open(&x, argv[2], 902))
		return 1;
	if (!strcmp(argv[1], "set"))
		send_set(x);
	else if (!strcmp(argv[1], "replay") || !strcmp(argv[1], "flood"))
		send_flood(x, n, !strcmp(argv[1], "replay"));
	else
		send_burst(x, n);
	/* as close does, but counted before the report */
	np_ipfix_drain(x, 60000);
	np_ipfix_warn_loss(x);
	report(x);
	np_ipfix_close(x);
	return 0;
}
