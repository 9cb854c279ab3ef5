// SPDX-License-Identifier: GPL-2.0
/* The JSON report (SPEC §6): one object on one line. */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "report_priv.h"

/* ---- a minimal streaming writer: commas and escaping ---- */

#define JW_DEPTH	16

struct jw {
	FILE *f;
	int depth;
	int count[JW_DEPTH];		/* items written at each depth */
	bool after_key;
};

static void jw_pre(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->count[w->depth]++)
		fputs(", ", w->f);
}

static void jw_open(struct jw *w, char c)
{
	jw_pre(w);
	fputc(c, w->f);
	if (w->depth < JW_DEPTH - 1)
		w->depth++;
	w->count[w->depth] = 0;
}

static void jw_close(struct jw *w, char c)
{
	fputc(c, w->f);
	if (w->depth)
		w->depth--;
}

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
static void jw_strval(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *q;

	/* the common case, plain printable ASCII: one write */
	for (q = p; *q >= 0x20 && *q < 0x7f && *q != '"' && *q != '\\'; q++)
		;
	if (!*q) {
		fputc('"', f);
		fwrite(p, 1, q - p, f);
		fputc('"', f);
		return;
	}
	fputc('"', f);
	while (*p) {
		size_t n;

		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				fprintf(f, "\\u%04x", *p);
				break;
			}
			n = utf8_len(p);
			if (!n) {
				fputs("\\ufffd", f);
				break;
			}
			fwrite(p, 1, n, f);
			p += n;
			continue;
		}
		p++;
	}
	fputc('"', f);
}

static void jw_key(struct jw *w, const char *k)
{
	if (w->count[w->depth]++)
		fputs(", ", w->f);
	jw_strval(w->f, k);
	fputs(": ", w->f);
	w->after_key = true;
}

static void jw_str(struct jw *w, const char *s)
{
	jw_pre(w);
	if (s)
		jw_strval(w->f, s);
	else
		fputs("null", w->f);
}

static void jw_u64(struct jw *w, __u64 v)
{
	jw_pre(w);
	fprintf(w->f, "%llu", (unsigned long long)v);
}

static void jw_bool(struct jw *w, bool v)
{
	jw_pre(w);
	fputs(v ? "true" : "false", w->f);
}

static void jw_rate(struct jw *w, double v)
{
	jw_pre(w);
	fprintf(w->f, "%.3f", v);
}

/* Unix ns as seconds with microseconds, exactly (no float rounding). */
static void jw_time(struct jw *w, __s64 ns)
{
	unsigned long long a = ns < 0 ? -(unsigned long long)ns :
					 (unsigned long long)ns;

	jw_pre(w);
	fprintf(w->f, "%s%llu.%06llu", ns < 0 ? "-" : "", a / 1000000000ull,
		a % 1000000000ull / 1000);
}

static void jw_mac(struct jw *w, const __u8 *mac)
{
	char b[18];

	if (!mac) {
		jw_str(w, NULL);
		return;
	}
	np_fmt_mac(b, mac);
	jw_str(w, b);
}

static void jw_ip(struct jw *w, const __u8 *ip)
{
	char b[46];

	if (!ip) {
		jw_str(w, NULL);
		return;
	}
	np_fmt_ip(b, ip);
	jw_str(w, b);
}

static void jw_kstr(struct jw *w, const char *k, const char *v)
{
	jw_key(w, k);
	jw_str(w, v);
}

static void jw_ku64(struct jw *w, const char *k, __u64 v)
{
	jw_key(w, k);
	jw_u64(w, v);
}

static void jw_krate(struct jw *w, const char *k, double v)
{
	jw_key(w, k);
	jw_rate(w, v);
}

/* ---- the report ---- */

struct ctx {
	struct jw w;
	const struct np_report *r;
	const struct np_report *prev;
	double el;			/* > 0: rates */
};

static void put_source(struct ctx *c)
{
	const struct np_report_opts *o = &c->r->o;
	struct jw *w = &c->w;

	jw_key(w, "source");
	jw_open(w, '{');
	jw_kstr(w, "kind", o->kind ? o->kind : "query");
	if (o->path)
		jw_kstr(w, "path", o->path);
	if (o->ifaces && o->n_ifaces > 0) {
		jw_key(w, "interfaces");
		jw_open(w, '[');
		for (int i = 0; i < o->n_ifaces; i++)
			jw_str(w, o->ifaces[i]);
		jw_close(w, ']');
	}
	if (o->truncated) {
		jw_key(w, "truncated");
		jw_bool(w, true);
	}
	jw_close(w, '}');
}

static void put_stats(struct ctx *c)
{
	const struct np_report *r = c->r;
	struct jw *w = &c->w;

	/* what the program saw, not scaled by --sample-rate: outcomes
	 * describe the sensor's frames and must sum to "packets"
	 */
	jw_key(w, "stats");
	jw_open(w, '{');
	for (int i = 0; i < NP_STAT_MAX; i++)
		jw_ku64(w, np_stat_names[i], r->stats[i]);
	jw_ku64(w, "flows", r->n_listed);
	jw_ku64(w, "flows_evicted", r->o.flows_evicted);
	jw_close(w, '}');
}

/* "interface" and "owner_ip" of a server-side MAC */
static void put_mac_names(struct ctx *c, const __u8 *mac)
{
	struct jw *w = &c->w;

	jw_kstr(w, "interface", mac ? np_report_name(c->r, mac) : NULL);
	jw_key(w, "owner_ip");
	jw_ip(w, mac ? np_report_owner(c->r, mac) : NULL);
}

static void put_sampled(struct ctx *c)
{
	if (c->r->sample > 1)
		jw_ku64(&c->w, "sampled", c->r->sample);
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
		const struct np_rhost *ph = c->prev ?
			np_report_find_host(c->prev, h->ip) : NULL;

		jw_open(w, '{');
		jw_key(w, "ip");
		jw_ip(w, h->ip);
		jw_kstr(w, "verdict", np_verdict_name(h->verdict));
		for (int d = 0; d < 2; d++) {
			jw_key(w, keys[d]);
			jw_open(w, '[');
			for (size_t j = 0; j < h->n[d]; j++) {
				const struct np_rmac *m = &h->dir[d][j];
				const struct np_rmac *pm = ph ?
					np_rhost_find_mac(ph, d, m) : NULL;

				jw_open(w, '{');
				jw_key(w, "mac");
				jw_mac(w, m->other ? NULL : m->mac);
				put_mac_names(c, m->other ? NULL : m->mac);
				if (m->other) {
					/* frames of MACs past a flow's set */
					jw_key(w, "other");
					jw_bool(w, true);
				}
				jw_ku64(w, "packets", m->packets * r->sample);
				jw_ku64(w, "bytes", m->bytes * r->sample);
				put_sampled(c);
				if (c->el > 0) {
					jw_krate(w, "pps", np_rate(r, m->packets,
						 pm ? pm->packets : 0, c->el));
					jw_krate(w, "bps", 8 * np_rate(r, m->bytes,
						 pm ? pm->bytes : 0, c->el));
				}
				jw_close(w, '}');
			}
			jw_close(w, ']');
		}
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

static int cmp_mac(const void *a, const void *b)
{
	return memcmp(a, b, 6);
}

static int cmp_u16(const void *a, const void *b)
{
	return *(const __u16 *)a - *(const __u16 *)b;
}

static void put_u16_set(struct jw *w, const char *k, const __u16 *v, int n,
			int max)
{
	__u16 s[16];

	if (n > max)
		n = max;
	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_u16);
	jw_key(w, k);
	jw_open(w, '[');
	for (int i = 0; i < n; i++)
		jw_u64(w, s[i]);
	jw_close(w, ']');
}

static void put_dir(struct ctx *c, const struct np_rflow *f,
		    const struct np_rflow *pf, int dir)
{
	static const char *const encap_names[NP_ENCAP_MAX] = {
		[NP_ENCAP_NONE]		= "none",
		[NP_ENCAP_ERSPAN1]	= "erspan1",
		[NP_ENCAP_ERSPAN2]	= "erspan2",
		[NP_ENCAP_ERSPAN3]	= "erspan3",
		[NP_ENCAP_TEB]		= "teb",
	};
	const struct np_report *r = c->r;
	const struct np_dir *d = &f->rec.dir[dir];
	const struct np_dir *pd = pf ? &pf->rec.dir[dir] : NULL;
	__u64 packets = np_dir_packets(d), bytes = np_dir_bytes(d);
	struct jw *w = &c->w;
	__u8 macs[NP_DIR_MACS][6];
	char ifname[IF_NAMESIZE];
	const char *mirror = NULL;
	bool seen = packets > 0;
	int n = 0;

	for (int i = 0; i < d->n_macs && i < NP_DIR_MACS; i++)
		if (d->macs[i].packets)
			memcpy(macs[n++], d->macs[i].mac, 6);
	qsort(macs, n, 6, cmp_mac);
	/* replay runs frames through the program on no real NIC */
	if (seen && d->ifindex && !(r->o.kind && !strcmp(r->o.kind, "replay")))
		mirror = if_indextoname(d->ifindex, ifname);

	jw_key(w, dir == NP_DIR_TO_SERVER ? "to_server" : "from_server");
	jw_open(w, '{');
	jw_ku64(w, "packets", packets * r->sample);
	jw_ku64(w, "bytes", bytes * r->sample);
	jw_ku64(w, "payload_bytes", d->payload_bytes * r->sample);
	put_sampled(c);
	jw_key(w, "src_mac");
	jw_mac(w, seen ? d->src_mac : NULL);
	jw_key(w, "dst_mac");
	jw_mac(w, seen ? d->dst_mac : NULL);
	jw_key(w, "server_macs");
	jw_open(w, '[');
	for (int i = 0; i < n; i++)
		jw_mac(w, macs[i]);
	jw_close(w, ']');
	if (d->flags & NP_DIRF_MACS_OVERFLOW) {
		/* more server MACs than the set holds: the list is partial */
		jw_key(w, "server_macs_truncated");
		jw_bool(w, true);
	}
	/* the vmk of the direction's last frame: with one server MAC,
	 * that MAC's name; with several, the one carrying it now
	 */
	jw_kstr(w, "interface",
		seen ? np_report_name(r, np_dir_last_mac(d, dir)) : NULL);
	put_u16_set(w, "vlans", d->vlans, d->n_vlans, NP_DIR_VLANS);
	jw_key(w, "untagged");
	jw_bool(w, seen && (d->flags & NP_DIRF_UNTAGGED));
	put_u16_set(w, "erspan_sessions", d->sessions, d->n_sessions,
		    NP_DIR_SESSIONS);
	jw_key(w, "encap");
	jw_open(w, '[');
	for (int i = 0; seen && i < NP_ENCAP_MAX; i++)
		if (d->encap & (1 << i))
			jw_str(w, encap_names[i]);
	jw_close(w, ']');
	jw_key(w, "tcp_flags");
	jw_open(w, '[');
	for (int i = 0; i < 8; i++)
		if (d->tcp_flags & (1 << i))
			jw_str(w, np_tcp_flag_names[i]);
	jw_close(w, ']');
	jw_kstr(w, "mirror", mirror);
	if (c->el > 0) {
		jw_krate(w, "pps", np_rate(r, packets,
					   pd ? np_dir_packets(pd) : 0, c->el));
		jw_krate(w, "bps", 8 * np_rate(r, bytes,
					       pd ? np_dir_bytes(pd) : 0, c->el));
	}
	jw_close(w, '}');
}

static void put_flows(struct ctx *c)
{
	const struct np_report *r = c->r;
	struct jw *w = &c->w;

	jw_key(w, "flows");
	jw_open(w, '[');
	for (size_t i = 0; i < r->n_flows; i++) {
		const struct np_rflow *f = &r->flows[i];
		const struct np_dir *a = &f->rec.dir[0], *b = &f->rec.dir[1];
		const struct np_rflow *pf;
		__u64 first, last;

		if (!f->listed)
			continue;
		pf = c->prev ? np_report_find_flow(c->prev, &f->rec.key) : NULL;
		first = !a->first_ns ? b->first_ns :
			(!b->first_ns || a->first_ns < b->first_ns) ?
			a->first_ns : b->first_ns;
		last = a->last_ns > b->last_ns ? a->last_ns : b->last_ns;

		jw_open(w, '{');
		jw_key(w, "server");
		jw_ip(w, f->rec.key.server_ip);
		jw_ku64(w, "server_port", ntohs(f->rec.key.server_port));
		jw_key(w, "client");
		jw_ip(w, f->rec.key.client_ip);
		jw_ku64(w, "client_port", ntohs(f->rec.key.client_port));
		jw_kstr(w, "verdict", np_verdict_name(f->verdict));
		put_dir(c, f, pf, NP_DIR_TO_SERVER);
		put_dir(c, f, pf, NP_DIR_FROM_SERVER);
		jw_key(w, "first_seen");
		jw_time(w, np_report_unix_ns(r, first));
		jw_key(w, "last_seen");
		jw_time(w, np_report_unix_ns(r, last));
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

static void put_ifaces(struct ctx *c)
{
	static const char *const pfx[2] = { "rx", "tx" };
	const struct np_report *r = c->r;
	struct jw *w = &c->w;
	char k[16];

	jw_key(w, "interfaces");
	jw_open(w, '[');
	for (size_t i = 0; i < r->n_ifaces; i++) {
		const struct np_riface *x = &r->ifaces[i];
		const struct np_riface *px = c->prev ?
			np_report_find_iface(c->prev, x->mac) : NULL;

		jw_open(w, '{');
		jw_key(w, "mac");
		jw_mac(w, x->mac);
		put_mac_names(c, x->mac);
		for (int d = 0; d < 2; d++) {
			snprintf(k, sizeof(k), "%s_packets", pfx[d]);
			jw_ku64(w, k, x->packets[d] * r->sample);
			snprintf(k, sizeof(k), "%s_bytes", pfx[d]);
			jw_ku64(w, k, x->bytes[d] * r->sample);
		}
		put_sampled(c);
		for (int d = 0; c->el > 0 && d < 2; d++) {
			snprintf(k, sizeof(k), "%s_pps", pfx[d]);
			jw_krate(w, k, np_rate(r, x->packets[d],
					       px ? px->packets[d] : 0, c->el));
			snprintf(k, sizeof(k), "%s_bps", pfx[d]);
			jw_krate(w, k, 8 * np_rate(r, x->bytes[d],
						   px ? px->bytes[d] : 0, c->el));
		}
		/* SPEC §6 names plain "pps"/"bps" on every interface: both
		 * directions together, beside the per-direction split
		 */
		if (c->el > 0) {
			jw_krate(w, "pps", np_rate(r, x->packets[0] + x->packets[1],
				 px ? px->packets[0] + px->packets[1] : 0, c->el));
			jw_krate(w, "bps", 8 * np_rate(r, x->bytes[0] + x->bytes[1],
				 px ? px->bytes[0] + px->bytes[1] : 0, c->el));
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

void np_report_json(FILE *f, const struct np_report *r,
		    const struct np_report *prev, unsigned int views)
{
	struct ctx c = { .w.f = f, .r = r, .prev = prev };

	/* rates only for run --json: o->interval > 0 */
	if (r->o.interval > 0)
		c.el = np_report_elapsed(r, prev);

	jw_open(&c.w, '{');
	jw_ku64(&c.w, "version", 1);
	put_source(&c);
	jw_key(&c.w, "time");
	jw_time(&c.w, np_report_unix_ns(r, r->o.now_ns));
	put_sampled(&c);
	if (c.el > 0)
		jw_krate(&c.w, "interval", c.el);
	if (views & NP_VIEW_STATS)
		put_stats(&c);
	if (views & NP_VIEW_HOSTS)
		put_hosts(&c);
	if (views & NP_VIEW_FLOWS)
		put_flows(&c);
	if (views & NP_VIEW_IFACES)
		put_ifaces(&c);
	jw_close(&c.w, '}');
	fputc('\n', f);
	fflush(f);
}
