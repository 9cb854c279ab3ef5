// SPDX-License-Identifier: GPL-2.0
/*
 * IPFIX export (RFC 7011) over UDP, hand-written: two fixed templates
 * (IPv4, IPv6); a message is built until the next record would not fit
 * or np_ipfix_flush(), queued, and sent under a token bucket on a
 * non-blocking socket whose every refusal is counted. user/nbdpath.8,
 * section IPFIX, lists the elements.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "ipfix.h"
#include "log.h"

#define IPFIX_VERSION		10
#define IPFIX_HDR_LEN		16
#define IPFIX_SET_HDR_LEN	4
#define IPFIX_SET_TEMPLATE	2
#define IPFIX_TID_V4		256
#define IPFIX_TID_V6		257
#define IPFIX_VARLEN		0xffff
#define IPFIX_ENTERPRISE	0x8000	/* enterprise bit of a field id */
/* Strings are cut here: a record must fit a message beside the templates. */
#define IPFIX_STR_MAX		255

/* IANA information elements (RFC 7012 and the IANA registry) */
enum {
	IE_OCTET_DELTA		= 1,
	IE_PACKET_DELTA		= 2,
	IE_PROTOCOL		= 4,
	IE_SRC_PORT		= 7,
	IE_SRC_IPV4		= 8,
	IE_INGRESS_IF		= 10,
	IE_DST_PORT		= 11,
	IE_DST_IPV4		= 12,
	IE_SRC_IPV6		= 27,
	IE_DST_IPV6		= 28,
	IE_SRC_MAC		= 56,
	IE_VLAN			= 58,
	IE_DST_MAC		= 80,
	IE_IF_NAME		= 82,
	IE_END_REASON		= 136,
	IE_START_MS		= 152,
	IE_END_MS		= 153,
};

/* flowEndReason values (IANA) */
enum {
	END_IDLE_TIMEOUT	= 1,
	END_ACTIVE_TIMEOUT	= 2,
	END_OF_FLOW		= 3,
	END_FORCED		= 4,
};

struct ie {
	__u16 id;
	__u16 len;
	bool ent;		/* under NP_IPFIX_PEN */
};

/* Both templates: the address elements differ, nothing else. */
#define TEMPLATE(SRC_IP, DST_IP, IP_LEN) {				\
	{ SRC_IP, IP_LEN, false },					\
	{ DST_IP, IP_LEN, false },					\
	{ IE_SRC_PORT, 2, false },					\
	{ IE_DST_PORT, 2, false },					\
	{ IE_PROTOCOL, 1, false },					\
	{ IE_SRC_MAC, 6, false },					\
	{ IE_DST_MAC, 6, false },					\
	{ IE_PACKET_DELTA, 8, false },					\
	{ IE_OCTET_DELTA, 8, false },					\
	{ IE_START_MS, 8, false },					\
	{ IE_END_MS, 8, false },					\
	{ IE_VLAN, 2, false },						\
	{ IE_INGRESS_IF, 4, false },					\
	{ IE_END_REASON, 1, false },					\
	{ IE_IF_NAME, IPFIX_VARLEN, false },				\
	{ NP_IPFIX_IE_VERDICT, 1, true },				\
	{ NP_IPFIX_IE_VMK, IPFIX_VARLEN, true },			\
	{ NP_IPFIX_IE_HANDSHAKE, 1, true },				\
	{ NP_IPFIX_IE_RETRANSMITS, 8, true },				\
	{ NP_IPFIX_IE_DIRECTION, 1, true },				\
	{ NP_IPFIX_IE_STATE, 1, true },					\
}

static const struct ie tmpl_v4[] = TEMPLATE(IE_SRC_IPV4, IE_DST_IPV4, 4);
static const struct ie tmpl_v6[] = TEMPLATE(IE_SRC_IPV6, IE_DST_IPV6, 16);
#define N_IES	(sizeof(tmpl_v4) / sizeof(tmpl_v4[0]))
_Static_assert(sizeof(tmpl_v4) == sizeof(tmpl_v6), "one field list");

/* The largest record: fixed fields of the IPv6 template plus two strings. */
#define REC_MAX		(128 + 2 * (3 + IPFIX_STR_MAX))
/* Header, template set (4 + per template 4 + 4 per field + 4 per PEN)... */
#define TMPL_SET_MAX	(IPFIX_SET_HDR_LEN + 2 * (4 + 8 * N_IES))
/* ...and one record in its set always fit one message. */
_Static_assert(IPFIX_HDR_LEN + TMPL_SET_MAX + IPFIX_SET_HDR_LEN + REC_MAX
	       <= NP_IPFIX_MSG_MAX, "a record fits a message");

/* A message built, waiting for its turn under the send rate. */
struct msg {
	__u16 len;
	__u16 recs;
	bool tmpl;		/* carries the templates */
	__u8 data[NP_IPFIX_MSG_MAX];
};

struct np_ipfix {
	int fd;
	__u32 domain;
	__u32 seq;		/* data records exported so far, sent or lost */
	/* the message being built */
	__u8 buf[NP_IPFIX_MSG_MAX];
	size_t len;		/* 0: no message begun */
	size_t set_off;		/* the open data set's header, 0: none */
	__u16 set_id;
	__u32 n_recs;		/* data records in buf */
	bool has_tmpl;		/* buf carries the templates */
	bool tmpl_known;	/* templates went out and were not refused */
	__u64 tmpl_ns;		/* when, CLOCK_MONOTONIC */
	__u32 msgs_since_tmpl;
	/* messages built, not yet sent: a ring of NP_IPFIX_QUEUE */
	struct msg *q;
	unsigned int q_head, q_n;
	/* the send rate: a token bucket of messages */
	__u32 rate;		/* messages a second, 0: no limit */
	bool wait;		/* a full queue waits rather than drops */
	double tokens;
	__u64 tok_ns;
	/* the last message the kernel took, until an error says otherwise */
	__u32 last_recs;
	__u32 last_len;
	bool last_tmpl;
	bool warned;
	struct np_ipfix_stats st;
	char spec[];		/* HOST:PORT as given, for messages */
};

static inline __u8 *put8(__u8 *p, __u8 v)
{
	*p = v;
	return p + 1;
}

static inline __u8 *put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
	return p + 2;
}

static inline __u8 *put32(__u8 *p, __u32 v)
{
	p = put16(p, v >> 16);
	return put16(p, v);
}

static inline __u8 *put64(__u8 *p, __u64 v)
{
	p = put32(p, v >> 32);
	return put32(p, v);
}

static inline __u8 *putn(__u8 *p, const void *v, size_t n)
{
	memcpy(p, v, n);
	return p + n;
}

/* RFC 7011 7: a length below 255 in one byte, else 255 and two bytes. */
static __u8 *putstr(__u8 *p, const char *s)
{
	size_t n = s ? strnlen(s, IPFIX_STR_MAX) : 0;

	if (n < 255)
		p = put8(p, n);
	else
		p = put16(put8(p, 255), n);
	/* no name: memcpy() must not be given NULL, even for 0 bytes */
	return n ? putn(p, s, n) : p;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static bool is_v4mapped(const __u8 ip[16])
{
	static const __u8 pfx[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(ip, pfx, sizeof(pfx));
}

static __u8 end_reason(__u8 why)
{
	switch (why) {
	case NP_IPFIX_END_ACTIVE:
		return END_ACTIVE_TIMEOUT;
	case NP_IPFIX_END_IDLE:
		return END_IDLE_TIMEOUT;
	case NP_IPFIX_END_FIN:
	case NP_IPFIX_END_RST:
		return END_OF_FLOW;
	default:
		return END_FORCED;
	}
}

static __u8 *put_template(__u8 *p, __u16 tid, const struct ie *ies)
{
	p = put16(p, tid);
	p = put16(p, N_IES);
	for (size_t i = 0; i < N_IES; i++) {
		p = put16(p, ies[i].id | (ies[i].ent ? IPFIX_ENTERPRISE : 0));
		p = put16(p, ies[i].len);
		if (ies[i].ent)
			p = put32(p, NP_IPFIX_PEN);
	}
	return p;
}

/* The record in template order; returns its end. */
static __u8 *put_record(__u8 *p, const struct np_ipfix_rec *r,
			const struct ie *ies)
{
	bool to_server = r->dir == NP_IPFIX_TO_SERVER;
	/* the server side's MAC is the server-side MAC, whatever the frame said */
	const __u8 *smac = to_server ? r->src_mac : r->mac;
	const __u8 *dmac = to_server ? r->mac : r->dst_mac;
	const __u8 *sip = to_server ? r->client_ip : r->server_ip;
	const __u8 *dip = to_server ? r->server_ip : r->client_ip;

	for (size_t i = 0; i < N_IES; i++) {
		if (ies[i].ent) {
			switch (ies[i].id) {
			case NP_IPFIX_IE_VERDICT:
				p = put8(p, r->verdict);
				break;
			case NP_IPFIX_IE_VMK:
				p = putstr(p, r->vmk);
				break;
			case NP_IPFIX_IE_HANDSHAKE:
				p = put8(p, r->handshake_state);
				break;
			case NP_IPFIX_IE_RETRANSMITS:
				p = put64(p, r->retransmits);
				break;
			case NP_IPFIX_IE_DIRECTION:
				p = put8(p, r->dir);
				break;
			case NP_IPFIX_IE_STATE:
				p = put8(p, r->state);
				break;
			}
			continue;
		}
		switch (ies[i].id) {
		case IE_SRC_IPV4:
			p = putn(p, sip + 12, 4);
			break;
		case IE_DST_IPV4:
			p = putn(p, dip + 12, 4);
			break;
		case IE_SRC_IPV6:
			p = putn(p, sip, 16);
			break;
		case IE_DST_IPV6:
			p = putn(p, dip, 16);
			break;
		case IE_SRC_PORT:
			p = put16(p, to_server ? r->client_port : r->server_port);
			break;
		case IE_DST_PORT:
			p = put16(p, to_server ? r->server_port : r->client_port);
			break;
		case IE_PROTOCOL:
			p = put8(p, IPPROTO_TCP);
			break;
		case IE_SRC_MAC:
			p = putn(p, smac, 6);
			break;
		case IE_DST_MAC:
			p = putn(p, dmac, 6);
			break;
		case IE_PACKET_DELTA:
			p = put64(p, r->packets);
			break;
		case IE_OCTET_DELTA:
			p = put64(p, r->bytes);
			break;
		case IE_START_MS:
			p = put64(p, r->start_ms);
			break;
		case IE_END_MS:
			p = put64(p, r->end_ms);
			break;
		case IE_VLAN:
			p = put16(p, r->vlan & 0xfff);
			break;
		case IE_INGRESS_IF:
			p = put32(p, r->ingress_ifindex);
			break;
		case IE_END_REASON:
			p = put8(p, end_reason(r->end_reason));
			break;
		case IE_IF_NAME:
			p = putstr(p, r->ifname);
			break;
		}
	}
	return p;
}

static bool templates_due(const struct np_ipfix *x)
{
	return !x->tmpl_known || x->msgs_since_tmpl >= NP_IPFIX_TMPL_MSGS ||
	       mono_ns() - x->tmpl_ns >= NP_IPFIX_TMPL_SECS * 1000000000ull;
}

static void begin_msg(struct np_ipfix *x)
{
	__u8 *p = x->buf + IPFIX_HDR_LEN, *set = p;

	x->n_recs = 0;
	x->set_off = 0;
	x->has_tmpl = templates_due(x);
	if (x->has_tmpl) {
		p += IPFIX_SET_HDR_LEN;
		p = put_template(p, IPFIX_TID_V4, tmpl_v4);
		p = put_template(p, IPFIX_TID_V6, tmpl_v6);
		put16(put16(set, IPFIX_SET_TEMPLATE), p - set);
	}
	x->len = p - x->buf;
}

static void close_set(struct np_ipfix *x)
{
	if (x->set_off)
		put16(x->buf + x->set_off + 2, x->len - x->set_off);
	x->set_off = 0;
}

static void note_loss(struct np_ipfix *x, int err, __u32 recs, __u32 len)
{
	x->st.records_lost += recs;
	x->st.bytes_lost += len;
	x->st.messages_lost++;
	if (!x->st.first_err)
		x->st.first_err = err;
}

/*
 * A collector that is down answers with ICMP port unreachable, which the
 * kernel keeps as the connected socket's error and would otherwise fail
 * the next send with. Read it here and charge it to the message sent
 * last (on loopback the ICMP is back before send() returns; on a network
 * it may come after a later message, which is then blamed instead).
 */
static void reap_error(struct np_ipfix *x)
{
	socklen_t sl = sizeof(int);
	int err = 0;

	if (getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &err, &sl) || !err)
		return;
	if (x->last_recs) {
		x->st.records_sent -= x->last_recs;
		x->st.bytes_sent -= x->last_len;
		x->st.messages_sent--;
		note_loss(x, err, x->last_recs, x->last_len);
		if (x->last_tmpl)
			x->tmpl_known = false;
	} else if (!x->st.first_err) {
		x->st.first_err = err;
	}
	x->last_recs = 0;
}

static void refill(struct np_ipfix *x)
{
	__u64 now = mono_ns();

	if (!x->rate)
		return;
	x->tokens += (double)(now - x->tok_ns) * x->rate / 1e9;
	if (x->tokens > NP_IPFIX_BURST)
		x->tokens = NP_IPFIX_BURST;
	x->tok_ns = now;
}

static void send_one(struct np_ipfix *x, struct msg *m)
{
	ssize_t n;

	/* RFC 7011 3.1: the time the message leaves */
	put32(m->data + 4, time(NULL));
	reap_error(x);
	n = send(x->fd, m->data, m->len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == m->len) {
		x->st.records_sent += m->recs;
		x->st.bytes_sent += m->len;
		x->st.messages_sent++;
		x->last_recs = m->recs;
		x->last_len = m->len;
		x->last_tmpl = m->tmpl;
	} else {
		note_loss(x, n < 0 ? errno : EMSGSIZE, m->recs, m->len);
		x->last_recs = 0;
		/* a refused send leaves no error behind; templates go again */
		if (m->tmpl)
			x->tmpl_known = false;
	}
}

/* Send what the rate allows now. */
static void pump(struct np_ipfix *x)
{
	refill(x);
	while (x->q_n && (!x->rate || x->tokens >= 1)) {
		send_one(x, &x->q[x->q_head]);
		x->q_head = (x->q_head + 1) % NP_IPFIX_QUEUE;
		x->q_n--;
		x->tokens -= !!x->rate;
	}
}

static void sleep_ns(__u64 ns)
{
	struct timespec ts = { ns / 1000000000ull, ns % 1000000000ull };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Until the next token, when the queue waits for one; 0 if none waits. */
static __u64 next_token_ns(const struct np_ipfix *x)
{
	if (!x->q_n || !x->rate || x->tokens >= 1)
		return 0;
	return (__u64)((1 - x->tokens) * 1e9 / x->rate) + 1;
}

/* The message built in buf, closed and queued (or dropped if full). */
static void finish_msg(struct np_ipfix *x)
{
	struct msg *m;

	if (!x->n_recs) {
		x->len = 0;
		return;
	}
	close_set(x);
	put16(x->buf, IPFIX_VERSION);
	put16(x->buf + 2, x->len);
	/* RFC 7011 3.1: data records before this message; a lost message
	 * still counts, so the collector sees the gap */
	put32(x->buf + 8, x->seq);
	put32(x->buf + 12, x->domain);
	x->seq += x->n_recs;
	if (x->has_tmpl) {
		x->tmpl_known = true;
		x->tmpl_ns = mono_ns();
		x->msgs_since_tmpl = 0;
	}
	x->msgs_since_tmpl++;

	pump(x);
	while (x->wait && x->q_n == NP_IPFIX_QUEUE) {
		sleep_ns(next_token_ns(x));
		pump(x);
	}
	if (x->q_n == NP_IPFIX_QUEUE) {
		note_loss(x, ENOBUFS, x->n_recs, x->len);
		if (x->has_tmpl)
			x->tmpl_known = false;
	} else {
		m = &x->q[(x->q_head + x->q_n++) % NP_IPFIX_QUEUE];
		m->len = x->len;
		m->recs = x->n_recs;
		m->tmpl = x->has_tmpl;
		memcpy(m->data, x->buf, x->len);
		pump(x);
	}
	x->len = 0;
}

int np_ipfix_add(struct np_ipfix *x, const struct np_ipfix_rec *r)
{
	__u8 rec[REC_MAX], *end;
	bool v4 = !r->v6 && is_v4mapped(r->server_ip);
	__u16 tid = v4 ? IPFIX_TID_V4 : IPFIX_TID_V6;
	size_t rlen, need;

	if (!r->v6 && v4 != is_v4mapped(r->client_ip))
		return -EINVAL;
	end = put_record(rec, r, v4 ? tmpl_v4 : tmpl_v6);
	rlen = end - rec;

	if (!x->len)
		begin_msg(x);
	need = rlen + (x->set_off && x->set_id == tid ? 0 : IPFIX_SET_HDR_LEN);
	if (x->len + need > NP_IPFIX_MSG_MAX) {
		finish_msg(x);
		begin_msg(x);
	}
	if (!x->set_off || x->set_id != tid) {
		close_set(x);
		x->set_off = x->len;
		x->set_id = tid;
		put16(x->buf + x->len, tid);
		x->len += IPFIX_SET_HDR_LEN;
	}
	memcpy(x->buf + x->len, rec, rlen);
	x->len += rlen;
	x->n_recs++;
	return 0;
}

int np_ipfix_flush(struct np_ipfix *x)
{
	if (x->len)
		finish_msg(x);
	pump(x);
	reap_error(x);
	return x->q_n;
}

int np_ipfix_timeout_ms(struct np_ipfix *x)
{
	refill(x);
	if (!x->q_n)
		return -1;
	return (next_token_ns(x) + 999999) / 1000000;
}

void np_ipfix_drain(struct np_ipfix *x, unsigned int max_ms)
{
	__u64 end = mono_ns() + max_ms * 1000000ull, t;

	if (x->len)
		finish_msg(x);
	for (pump(x); x->q_n; pump(x)) {
		t = next_token_ns(x);
		if (mono_ns() + t > end)
			break;
		sleep_ns(t);
	}
	for (; x->q_n; x->q_n--) {
		struct msg *m = &x->q[x->q_head];

		note_loss(x, ETIMEDOUT, m->recs, m->len);
		if (m->tmpl)
			x->tmpl_known = false;
		x->q_head = (x->q_head + 1) % NP_IPFIX_QUEUE;
	}
	reap_error(x);
}

void np_ipfix_set_rate(struct np_ipfix *x, unsigned int msgs_per_sec,
		       bool wait)
{
	x->rate = msgs_per_sec;
	x->wait = wait && msgs_per_sec;
	x->tokens = NP_IPFIX_BURST;
	x->tok_ns = mono_ns();
}

void np_ipfix_stats(const struct np_ipfix *x, struct np_ipfix_stats *s)
{
	*s = x->st;
}

bool np_ipfix_warn_loss(struct np_ipfix *x)
{
	if (x->warned || !x->st.records_lost)
		return false;
	x->warned = true;
	np_warn("--ipfix %s: %llu flow records lost so far (%s): the collector is down or the path to it cannot take the rate; nbdpath's own reports are complete, the collector's totals are short",
		x->spec, (unsigned long long)x->st.records_lost,
		strerror(x->st.first_err));
	return true;
}

/* HOST:PORT or [HOST]:PORT into host and port; false if malformed. */
static bool split_spec(const char *s, char *host, size_t hsz, char *port,
		       size_t psz)
{
	const char *colon, *h = s;
	size_t hl;

	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return false;
		h = s + 1;
		hl = rb - h;
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', colon - s))
			return false;	/* an IPv6 literal needs brackets */
		hl = colon - s;
	}
	if (!hl || hl >= hsz || strlen(colon + 1) >= psz)
		return false;
	memcpy(host, h, hl);
	host[hl] = 0;
	strcpy(port, colon + 1);
	if (strspn(port, "0123456789") != strlen(port) || !*port)
		return false;
	return atol(port) >= 1 && atol(port) <= 65535;
}

int np_ipfix_open(struct np_ipfix **out, const char *host_port,
		  __u32 observation_domain)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_DGRAM,
		.ai_flags = AI_NUMERICSERV,
	}, *ai = NULL, *a;
	char host[256], port[8];
	struct np_ipfix *x;
	int err, fd = -1;

	*out = NULL;
	if (!split_spec(host_port, host, sizeof(host), port, sizeof(port))) {
		np_err("--ipfix '%s': expected HOST:PORT such as 192.0.2.9:4739 or [2001:db8::9]:4739",
		       host_port);
		return -EINVAL;
	}
	err = getaddrinfo(host, port, &hints, &ai);
	if (err) {
		np_err("--ipfix '%s': cannot resolve '%s': %s; give the collector's address",
		       host_port, host, err == EAI_SYSTEM ? strerror(errno) :
		       gai_strerror(err));
		/* a name that does not resolve is bad input; a resolver
		 * that cannot be asked now is a runtime failure */
		return err == EAI_AGAIN || err == EAI_SYSTEM ? -EAGAIN : -EINVAL;
	}
	err = -EADDRNOTAVAIL;
	for (a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family,
			    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		/* connected, so that ICMP from a collector that is down is
		 * reported to us (reap_error) rather than dropped */
		if (!connect(fd, a->ai_addr, a->ai_addrlen))
			break;
		err = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0) {
		np_err("--ipfix %s: cannot reach the collector: %s", host_port,
		       strerror(-err));
		return err;
	}
	x = calloc(1, sizeof(*x) + strlen(host_port) + 1);
	if (x)
		x->q = calloc(NP_IPFIX_QUEUE, sizeof(*x->q));
	if (!x || !x->q) {
		free(x);
		close(fd);
		return -ENOMEM;
	}
	strcpy(x->spec, host_port);
	x->fd = fd;
	x->domain = observation_domain;
	np_ipfix_set_rate(x, NP_IPFIX_RATE, false);
	*out = x;
	return 0;
}

void np_ipfix_close(struct np_ipfix *x)
{
	if (!x)
		return;
	/* the queue holds at most NP_IPFIX_QUEUE / rate seconds */
	np_ipfix_drain(x, 10000);
	close(x->fd);
	free(x->q);
	free(x);
}
