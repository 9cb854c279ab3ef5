// SPDX-License-Identifier: GPL-2.0
/* The JSON report (nbdpath(8), JSON): one object on one line. */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "report_model.h"

/*
 * ---- a minimal streaming writer: commas and escaping ----
 *
 * A report of 100,000 flows is some 70 MB of JSON, written every
 * interval: the writer fills a buffer of its own, formats numbers, MACs
 * and IPv4 addresses by hand, and hands the buffer to stdio when it is
 * full. No stdio call, no printf per value.
 */

#define JW_DEPTH	16
#define JW_BUF		(256 * 1024)
#define JW_MAX_ITEM	64		/* the longest key, number or time */

struct jw {
	FILE *f;
	char *p, *end;			/* free space in buf */
	char *buf;
	int depth;
	int count[JW_DEPTH];		/* items written at each depth */
	bool after_key;
};

static void jw_flush(struct jw *w)
{
	if (w->p > w->buf)
		fwrite(w->buf, 1, w->p - w->buf, w->f);
	w->p = w->buf;
}

/* Room for n more bytes (n <= JW_MAX_ITEM + 4) without checking again. */
static inline char *jw_room(struct jw *w, size_t n)
{
	if ((size_t)(w->end - w->p) < n)
		jw_flush(w);
	return w->p;
}

static void jw_write(struct jw *w, const void *s, size_t n)
{
	const char *c = s;

	while (n) {
		size_t k;

		if (w->p == w->end)
			jw_flush(w);
		k = w->end - w->p;
		if (k > n)
			k = n;
		memcpy(w->p, c, k);
		w->p += k;
		c += k;
		n -= k;
	}
}

static inline void jw_putc(struct jw *w, char c)
{
	*jw_room(w, 1) = c;
	w->p++;
}

static inline void jw_lit(struct jw *w, const char *s, size_t n)
{
	memcpy(jw_room(w, n), s, n);
	w->p += n;
}

#define JW_LIT(w, s)	jw_lit(w, s, sizeof(s) - 1)

static void jw_pre(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->count[w->depth]++)
		JW_LIT(w, ", ");
}

static void jw_open(struct jw *w, char c)
{
	jw_pre(w);
	jw_putc(w, c);
	if (w->depth < JW_DEPTH - 1)
		w->depth++;
	w->count[w->depth] = 0;
}

static void jw_close(struct jw *w, char c)
{
	jw_putc(w, c);
	if (w->depth)
		w->depth--;
}

/* Decimal digits of v at p; returns the end. */
/* "00" to "99" */
static const char digits2[201] =
	"00010203040506070809101112131415161718192021222324"
	"25262728293031323334353637383940414243444546474849"
	"50515253545556575859606162636465666768697071727374"
	"75767778798081828384858687888990919293949596979899";

/* Decimal digits of v at p; returns the end. Two digits a step. */
static char *fmt_u64(char *p, __u64 v)
{
	char t[20], *e = t + sizeof(t), *q = e;
	size_t n;

	while (v >= 100) {
		q -= 2;
		memcpy(q, digits2 + v % 100 * 2, 2);
		v /= 100;
	}
	if (v >= 10) {
		q -= 2;
		memcpy(q, digits2 + v * 2, 2);
	} else {
		*--q = '0' + v;
	}
	n = e - q;
	memcpy(p, q, n);
	return p + n;
}

/* v in exactly `digits` digits, zeros in front */
static char *fmt_fixed(char *p, unsigned int v, int digits)
{
	for (int i = digits - 1; i >= 0; i--) {
		p[i] = '0' + v % 10;
		v /= 10;
	}
	return p + digits;
}

static const char hex[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at s, 0 if there is none. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, past U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/*
 * A JSON string. Names and paths come from users and files: control
 * characters are escaped, and bytes that are not UTF-8 become U+FFFD so
 * the line stays valid JSON whatever the input.
 */
static void jw_strval(struct jw *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *q;

	jw_putc(w, '"');
	for (;;) {
		size_t n;
		char *o;

		/* a run of plain printable ASCII: one copy */
		for (q = p; *q >= 0x20 && *q < 0x7f && *q != '"' &&
			    *q != '\\'; q++)
			;
		jw_write(w, p, q - p);
		p = q;
		if (!*p)
			break;
		o = jw_room(w, 8);
		switch (*p) {
		case '"':
			o[0] = '\\', o[1] = '"', n = 2;
			break;
		case '\\':
			o[0] = '\\', o[1] = '\\', n = 2;
			break;
		case '\n':
			o[0] = '\\', o[1] = 'n', n = 2;
			break;
		case '\r':
			o[0] = '\\', o[1] = 'r', n = 2;
			break;
		case '\t':
			o[0] = '\\', o[1] = 't', n = 2;
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				memcpy(o, "\\u00", 4);
				o[4] = hex[*p >> 4];
				o[5] = hex[*p & 0xf];
				n = 6;
				break;
			}
			n = utf8_len(p);
			if (!n) {
				memcpy(o, "\\ufffd", 6);
				w->p += 6;
				p++;
				continue;
			}
			memcpy(o, p, n);
			w->p += n;
			p += n;
			continue;
		}
		w->p += n;
		p++;
	}
	jw_putc(w, '"');
}

/*
 * Keys are this file's own words, plain ASCII: nothing to escape. Inline
 * everywhere: with the length of a literal known, the copy is a store or
 * two, and a report writes 30 keys a flow.
 */
static inline __attribute__((always_inline))
void jw_keyn(struct jw *w, const char *k, size_t n)
{
	char *o;

	if (w->count[w->depth]++)
		JW_LIT(w, ", ");
	if (n > JW_MAX_ITEM) {
		jw_strval(w, k);
		JW_LIT(w, ": ");
	} else {
		o = jw_room(w, n + 4);
		*o++ = '"';
		memcpy(o, k, n);
		o += n;
		memcpy(o, "\": ", 3);
		w->p = o + 3;
	}
	w->after_key = true;
}

/* the length of a literal key is known when compiling */
#define jw_key(w, k)	jw_keyn(w, k, __builtin_strlen(k))

static void jw_str(struct jw *w, const char *s)
{
	jw_pre(w);
	if (s)
		jw_strval(w, s);
	else
		JW_LIT(w, "null");
}

static void jw_u64(struct jw *w, __u64 v)
{
	jw_pre(w);
	w->p = fmt_u64(jw_room(w, 20), v);
}

static void jw_bool(struct jw *w, bool v)
{
	jw_pre(w);
	if (v)
		JW_LIT(w, "true");
	else
		JW_LIT(w, "false");
}

/*
 * v as printf's "%.3f" writes it: the exact binary value rounded to
 * thousandths, a tie to the even one. Done in integers for what rates
 * are (finite, not negative, below 2^53), else left to snprintf().
 */
static void jw_rate(struct jw *w, double v)
{
	__u64 bits, mant, m, q, r, half;
	char buf[400], *o;
	int e, shift;

	jw_pre(w);
	memcpy(&bits, &v, sizeof(bits));
	e = (bits >> 52) & 0x7ff;
	if ((bits >> 63) || e == 0x7ff || v >= 9007199254740992.0) {
		snprintf(buf, sizeof(buf), "%.3f", v);
		jw_write(w, buf, strlen(buf));
		return;
	}
	if (!e) {
		q = 0;			/* zero, or subnormal: below 0.0005 */
	} else {
		/* v = mant * 2^(e - 1075), and v < 2^53: the exponent is
		 * at most 0, so v * 1000 = m >> shift, m < 2^63
		 */
		mant = (bits & ((1ull << 52) - 1)) | (1ull << 52);
		m = mant * 1000;
		shift = 1075 - e;
		if (shift >= 64) {
			q = 0;		/* m < 2^63 <= half */
		} else if (!shift) {
			q = m;
		} else {
			q = m >> shift;
			r = m & ((1ull << shift) - 1);
			half = 1ull << (shift - 1);
			if (r > half || (r == half && (q & 1)))
				q++;
		}
	}
	o = fmt_u64(jw_room(w, 24), q / 1000);
	*o++ = '.';
	w->p = fmt_fixed(o, q % 1000, 3);
}

/* Unix ns as seconds with microseconds, exactly (no float rounding). */
static void jw_time(struct jw *w, __s64 ns)
{
	unsigned long long a = ns < 0 ? -(unsigned long long)ns :
					 (unsigned long long)ns;
	char *o;

	jw_pre(w);
	o = jw_room(w, 32);	/* sign, 20 digits, point, 9 digits */
	if (ns < 0)
		*o++ = '-';
	o = fmt_u64(o, a / 1000000000ull);
	*o++ = '.';
	/* every digit a nanosecond capture holds, as tshark prints them */
	w->p = fmt_fixed(o, a % 1000000000ull, 9);
}

static void jw_mac(struct jw *w, const __u8 *mac)
{
	char *o;

	if (!mac) {
		jw_str(w, NULL);
		return;
	}
	jw_pre(w);
	o = jw_room(w, 19);
	o[0] = '"';
	for (int i = 0; i < 6; i++) {
		o[1 + 3 * i] = hex[mac[i] >> 4];
		o[2 + 3 * i] = hex[mac[i] & 0xf];
		o[3 + 3 * i] = ':';
	}
	o[18] = '"';			/* over the last ':' */
	w->p = o + 19;
}

static void jw_ip(struct jw *w, const __u8 *ip)
{
	char b[46], *o;

	if (!ip) {
		jw_str(w, NULL);
		return;
	}
	if (!np_ip_is_v4(ip)) {
		np_fmt_ip(b, ip);
		jw_str(w, b);
		return;
	}
	/* a v4-mapped key is plain dotted IPv4, as np_fmt_ip() writes it */
	jw_pre(w);
	o = jw_room(w, 17);
	*o++ = '"';
	for (int i = 12; i < 16; i++) {
		if (i > 12)
			*o++ = '.';
		o = fmt_u64(o, ip[i]);
	}
	*o++ = '"';
	w->p = o;
}

/* inline: the key is a literal, its length known */
static inline __attribute__((always_inline))
void jw_kstr(struct jw *w, const char *k, const char *v)
{
	jw_key(w, k);
	jw_str(w, v);
}

/* inline: the key is a literal, its length known */
static inline __attribute__((always_inline))
void jw_ku64(struct jw *w, const char *k, __u64 v)
{
	jw_key(w, k);
	jw_u64(w, v);
}

/* inline: the key is a literal, its length known */
static inline __attribute__((always_inline))
void jw_krate(struct jw *w, const char *k, double v)
{
	jw_key(w, k);
	jw_rate(w, v);
}

/* ---- the report ---- */

/* Mirror NIC names, looked up once per report (a syscall each). */
struct ctx {
	struct jw w;
	const struct np_report *r;
};

static void put_source(struct ctx *c)
{
	const struct np_report *r = c->r;
	struct jw *w = &c->w;

	jw_key(w, "source");
	jw_open(w, '{');
	jw_kstr(w, "kind", np_source_name(r->kind));
	if (r->o.path)
		jw_kstr(w, "path", r->o.path);
	if (r->o.ifaces && r->o.n_ifaces > 0) {
		jw_key(w, "interfaces");
		jw_open(w, '[');
		for (int i = 0; i < r->o.n_ifaces; i++)
			jw_str(w, r->o.ifaces[i]);
		jw_close(w, ']');
	}
	if (r->o.truncated) {
		jw_key(w, "truncated");
		jw_bool(w, true);
	}
	jw_close(w, '}');
}

static void put_sampled(struct ctx *c)
{
	if (c->r->sample > 1)
		jw_ku64(&c->w, "sampled", c->r->sample);
}

static void put_stats(struct ctx *c)
{
	const struct np_report *r = c->r;
	struct jw *w = &c->w;

	jw_key(w, "stats");
	jw_open(w, '{');
	for (int i = 0; i < NP_STAT_MAX; i++)
		jw_ku64(w, np_stat_names[i], r->stats[i]);
	jw_ku64(w, "flows", r->n_listed);
	jw_ku64(w, "flows_active", r->n_active);
	jw_ku64(w, "flows_finished", r->n_listed - r->n_active);
	jw_ku64(w, "flows_evicted", r->n_evicted);
	jw_ku64(w, "flows_dropped", r->n_dropped);
	put_sampled(c);
	jw_close(w, '}');
}

/* One entry of a host's rx/tx list. */
static void put_rmac(struct ctx *c, const struct np_rmac *m, bool rates,
		     bool owner)
{
	struct jw *w = &c->w;

	jw_open(w, '{');
	jw_key(w, "mac");
	jw_mac(w, m->other ? NULL : m->mac);
	jw_kstr(w, "interface", m->name);
	if (owner) {
		jw_key(w, "owner_ip");
		jw_ip(w, m->owner);
	}
	if (m->other) {
		/* frames of MACs past a flow's set */
		jw_key(w, "other");
		jw_bool(w, true);
	}
	jw_ku64(w, "packets", m->packets);
	jw_ku64(w, "bytes", m->bytes);
	put_sampled(c);
	if (rates) {
		jw_krate(w, "pps", m->pps);
		jw_krate(w, "bps", m->bps);
	}
	jw_close(w, '}');
}

static void put_current(struct ctx *c, const struct np_rhost *h)
{
	static const char *const keys[2] = { "rx", "tx" };
	const struct np_rcurrent *cur = &h->cur;
	struct jw *w = &c->w;

	jw_key(w, "current");
	jw_open(w, '{');
	jw_kstr(w, "verdict", np_verdict_name(cur->verdict));
	jw_key(w, "since");
	jw_time(w, cur->since_ns);
	jw_ku64(w, "window", c->r->o.window_ns / NP_NSEC_PER_SEC);
	for (int d = 0; d < 2; d++) {
		jw_key(w, keys[d]);
		jw_open(w, '[');
		for (size_t j = 0; j < cur->n[d]; j++)
			put_rmac(c, &cur->dir[d][j], false, false);
		jw_close(w, ']');
	}
	jw_key(w, "asymmetric_until");
	if (cur->asym_until_ns)
		jw_time(w, cur->asym_until_ns);
	else
		jw_str(w, NULL);
	jw_close(w, '}');
	jw_key(w, "changes");
	jw_open(w, '[');
	for (size_t j = 0; j < cur->n_changes; j++) {
		jw_open(w, '{');
		jw_key(w, "time");
		jw_time(w, cur->changes[j].time_ns);
		jw_kstr(w, "verdict", np_verdict_name(cur->changes[j].verdict));
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

static void put_hosts(struct ctx *c)
{
	static const char *const keys[2] = { "rx", "tx" };
	const struct np_report *r = c->r;
	struct jw *w = &c->w;

	jw_key(w, "hosts");
	jw_open(w, '[');
	for (size_t i = 0; i < r->n_hosts; i++) {
		const struct np_rhost *h = &r->hosts[i];

		jw_open(w, '{');
		jw_key(w, "ip");
		jw_ip(w, h->ip);
		jw_kstr(w, "verdict", np_verdict_name(h->verdict));
		for (int d = 0; d < 2; d++) {
			jw_key(w, keys[d]);
			jw_open(w, '[');
			for (size_t j = 0; j < h->n[d]; j++)
				put_rmac(c, &h->dir[d][j], r->elapsed > 0, true);
			jw_close(w, ']');
		}
		if (h->has_current)
			put_current(c, h);
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

static void put_u16s(struct jw *w, const char *k, const __u16 *v, int n)
{
	jw_key(w, k);
	jw_open(w, '[');
	for (int i = 0; i < n; i++)
		jw_u64(w, v[i]);
	jw_close(w, ']');
}

static void put_dir(struct ctx *c, const struct np_rflow *f, int dir)
{
	static const char *const encap_names[NP_ENCAP_MAX] = {
		[NP_ENCAP_NONE]		= "none",
		[NP_ENCAP_ERSPAN1]	= "erspan1",
		[NP_ENCAP_ERSPAN2]	= "erspan2",
		[NP_ENCAP_ERSPAN3]	= "erspan3",
		[NP_ENCAP_TEB]		= "teb",
	};
	static const char *const counter_names[NP_DC_MAX] = {
#define NP_X(name) #name,
		NP_DIR_COUNTERS(NP_X)
#undef NP_X
	};
	const struct np_rdir *x = &f->dir[dir];
	const struct np_dir *d = &f->rec.dir[dir];
	struct jw *w = &c->w;

	jw_key(w, dir == NP_DIR_TO_SERVER ? "to_server" : "from_server");
	jw_open(w, '{');
	jw_ku64(w, "packets", x->packets);
	jw_ku64(w, "bytes", x->bytes);
	for (int i = 0; i < NP_DC_MAX; i++)
		jw_ku64(w, counter_names[i], x->counters[i]);
	put_sampled(c);
	jw_key(w, "src_mac");
	jw_mac(w, x->seen ? d->src_mac : NULL);
	jw_key(w, "dst_mac");
	jw_mac(w, x->seen ? d->dst_mac : NULL);
	jw_key(w, "server_macs");
	jw_open(w, '[');
	for (int i = 0; i < x->n_macs; i++)
		jw_mac(w, x->macs[i]);
	jw_close(w, ']');
	if (d->flags & NP_DIRF_MACS_OVERFLOW) {
		/* more server MACs than the set holds: the list is partial */
		jw_key(w, "server_macs_truncated");
		jw_bool(w, true);
	}
	jw_kstr(w, "interface", x->interface);
	put_u16s(w, "vlans", x->vlans, x->n_vlans);
	jw_key(w, "untagged");
	jw_bool(w, x->seen && (d->flags & NP_DIRF_UNTAGGED));
	put_u16s(w, "erspan_sessions", x->sessions, x->n_sessions);
	jw_key(w, "encap");
	jw_open(w, '[');
	for (int i = 0; x->seen && i < NP_ENCAP_MAX; i++)
		if (d->encap & (1 << i))
			jw_str(w, encap_names[i]);
	jw_close(w, ']');
	jw_key(w, "tcp_flags");
	jw_open(w, '[');
	for (int i = 0; i < 8; i++)
		if (d->tcp_flags & (1 << i))
			jw_str(w, np_tcp_flag_names[i]);
	jw_close(w, ']');
	jw_kstr(w, "mirror", x->mirror);
	if (c->r->elapsed > 0) {
		jw_krate(w, "pps", x->pps);
		jw_krate(w, "bps", x->bps);
	}
	jw_close(w, '}');
}

static void put_flow(struct ctx *c, const struct np_rflow *f)
{
	struct jw *w = &c->w;

	jw_open(w, '{');
	jw_key(w, "server");
	jw_ip(w, f->rec.key.server_ip);
	jw_ku64(w, "server_port", ntohs(f->rec.key.server_port));
	jw_key(w, "client");
	jw_ip(w, f->rec.key.client_ip);
	jw_ku64(w, "client_port", ntohs(f->rec.key.client_port));
	jw_kstr(w, "verdict", np_verdict_name(f->verdict));
	put_dir(c, f, NP_DIR_TO_SERVER);
	put_dir(c, f, NP_DIR_FROM_SERVER);
	jw_key(w, "first_seen");
	jw_time(w, f->first_ns);
	jw_key(w, "last_seen");
	jw_time(w, f->last_ns);
	jw_kstr(w, "state", np_flow_state_name(f->state));
	jw_key(w, "ended");
	if (f->ended_ns)
		jw_time(w, f->ended_ns);
	else
		jw_str(w, NULL);
	jw_close(w, '}');
}

static void put_flows(struct ctx *c)
{
	const struct np_report *r = c->r;
	struct jw *w = &c->w;

	jw_key(w, "flows");
	jw_open(w, '[');
	for (size_t i = 0; i < r->n_flows; i++)
		if (r->flows[i].listed)
			put_flow(c, &r->flows[i]);
	jw_close(w, ']');
}

static void put_ifaces(struct ctx *c)
{
	static const char *const k_packets[2] = { "rx_packets", "tx_packets" };
	static const char *const k_bytes[2] = { "rx_bytes", "tx_bytes" };
	static const char *const k_pps[2] = { "rx_pps", "tx_pps" };
	static const char *const k_bps[2] = { "rx_bps", "tx_bps" };
	const struct np_report *r = c->r;
	struct jw *w = &c->w;

	jw_key(w, "interfaces");
	jw_open(w, '[');
	for (size_t i = 0; i < r->n_ifaces; i++) {
		const struct np_riface *x = &r->ifaces[i];

		jw_open(w, '{');
		jw_key(w, "mac");
		jw_mac(w, x->mac);
		jw_kstr(w, "interface", x->name);
		jw_key(w, "owner_ip");
		jw_ip(w, x->owner);
		for (int d = 0; d < 2; d++) {
			jw_ku64(w, k_packets[d], x->packets[d]);
			jw_ku64(w, k_bytes[d], x->bytes[d]);
		}
		put_sampled(c);
		for (int d = 0; r->elapsed > 0 && d < 2; d++) {
			jw_krate(w, k_pps[d], x->pps[d]);
			jw_krate(w, k_bps[d], x->bps[d]);
		}
		/* plain "pps"/"bps" on every interface (nbdpath(8), JSON):
		 * both directions together, beside the per-direction split
		 */
		if (r->elapsed > 0) {
			jw_krate(w, "pps", x->pps_all);
			jw_krate(w, "bps", x->bps_all);
		}
		jw_key(w, "server_ips");
		jw_open(w, '[');
		for (size_t j = 0; j < x->n_ips; j++)
			jw_ip(w, x->ips[j]);
		jw_close(w, ']');
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

static bool ctx_open(struct ctx *c, FILE *f, const struct np_report *r,
		     char *small, size_t small_sz)
{
	memset(c, 0, sizeof(*c));
	c->w.f = f;
	c->r = r;
	c->w.buf = malloc(JW_BUF);
	c->w.end = c->w.buf ? c->w.buf + JW_BUF : NULL;
	if (!c->w.buf) {
		/* short of memory: the same line in smaller writes */
		c->w.buf = small;
		c->w.end = small + small_sz;
	}
	c->w.p = c->w.buf;
	return c->w.buf != small;
}

static void ctx_close(struct ctx *c, bool own)
{
	jw_putc(&c->w, '\n');
	jw_flush(&c->w);
	if (own)
		free(c->w.buf);
	fflush(c->w.f);
}

void np_report_json_flow(FILE *f, const struct np_report *r,
			 const struct np_rflow *fl)
{
	char small[4096];
	struct ctx c;
	bool own = ctx_open(&c, f, r, small, sizeof(small));

	put_flow(&c, fl);
	ctx_close(&c, own);
}

void np_report_json(FILE *f, const struct np_report *r, unsigned int views)
{
	char small[4096];
	struct ctx c;
	bool own = ctx_open(&c, f, r, small, sizeof(small));

	jw_open(&c.w, '{');
	jw_ku64(&c.w, "version", 1);
	put_source(&c);
	jw_key(&c.w, "time");
	jw_time(&c.w, r->time_ns);
	put_sampled(&c);
	if (r->elapsed > 0)
		jw_krate(&c.w, "interval", r->elapsed);
	if (views & NP_VIEW_STATS)
		put_stats(&c);
	if (views & NP_VIEW_HOSTS)
		put_hosts(&c);
	if (views & NP_VIEW_FLOWS)
		put_flows(&c);
	if (views & NP_VIEW_IFACES)
		put_ifaces(&c);
	jw_close(&c.w, '}');
	ctx_close(&c, own);
}
