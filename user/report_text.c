// SPDX-License-Identifier: GPL-2.0
/*
 * The human report: per host its verdict and where it receives and
 * transmits, what an asymmetric host means and how to change it, the
 * esxtop view of every server-side interface rebuilt from the wire, then
 * the top flows.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report_priv.h"

#define TOP_FLOWS	10
#define COLS		10
#define CELL		64

/* ---- aligned columns ---- */

struct table {
	char (*cell)[COLS][CELL];
	size_t rows, cap;
	int ncol;
	unsigned int right;		/* bit per right-aligned column */
	bool oom;
};

static void table_init(struct table *t, int ncol, unsigned int right)
{
	memset(t, 0, sizeof(*t));
	t->ncol = ncol;
	t->right = right;
}

/* One row, cells given as one printf string split at '\t'. */
static void table_row(struct table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void table_row(struct table *t, const char *fmt, ...)
{
	char line[COLS * CELL], *s, *tab;
	va_list ap;
	int i;

	if (t->oom)
		return;
	if (t->rows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		void *c = realloc(t->cell, cap * sizeof(*t->cell));

		if (!c) {
			t->oom = true;
			return;
		}
		t->cell = c;
		t->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	memset(t->cell[t->rows], 0, sizeof(t->cell[0]));
	for (i = 0, s = line; s && i < t->ncol; i++, s = tab ? tab + 1 : NULL) {
		size_t n;

		tab = strchr(s, '\t');
		if (tab)
			*tab = 0;
		n = strnlen(s, CELL - 1);
		memcpy(t->cell[t->rows][i], s, n);
	}
	t->rows++;
}

static void table_print(FILE *f, struct table *t, const char *indent)
{
	size_t w[COLS] = {};

	if (t->oom)
		fprintf(f, "%s(out of memory)\n", indent);
	for (size_t r = 0; r < t->rows; r++)
		for (int i = 0; i < t->ncol; i++)
			if (strlen(t->cell[r][i]) > w[i])
				w[i] = strlen(t->cell[r][i]);
	for (size_t r = 0; !t->oom && r < t->rows; r++) {
		char line[COLS * (CELL + 2) + 16];
		size_t n = 0;

		for (int i = 0; i < t->ncol; i++) {
			const char *c = t->cell[r][i];

			if (!w[i])
				continue;	/* a column empty everywhere */
			n += snprintf(line + n, sizeof(line) - n,
				      (t->right >> i) & 1 ? "%*s  " : "%-*s  ",
				      (int)w[i], c);
		}
		while (n && line[n - 1] == ' ')
			n--;
		line[n] = 0;
		fprintf(f, "%s%s\n", indent, line);
	}
	free(t->cell);
	t->cell = NULL;
	t->rows = t->cap = 0;
}

/* ---- formatting ---- */

/* A name from a file or a flag: nothing that moves the cursor. */
static void clean(char *dst, size_t sz, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < sz; i++)
		dst[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	dst[i] = 0;
}

/* "vmk0 (00:25:b5:00:00:0a)", or the MAC with its owner IP when unnamed */
static void fmt_where(char *buf, size_t sz, const struct np_report *r,
		      const struct np_rmac *m, const __u8 *host)
{
	const char *name;
	const __u8 *owner;
	char mac[18], ip[46], nm[16];

	if (m->other) {
		snprintf(buf, sz, "(more MACs than a flow keeps)");
		return;
	}
	np_fmt_mac(mac, m->mac);
	name = np_report_name(r, m->mac);
	owner = np_report_owner(r, m->mac, host);
	if (name) {
		clean(nm, sizeof(nm), name);
		snprintf(buf, sz, "%s (%s)", nm, mac);
	} else if (owner) {
		np_fmt_ip(ip, owner);
		snprintf(buf, sz, "%s (owner %s)", mac, ip);
	} else {
		snprintf(buf, sz, "%s", mac);
	}
}

/* The vmk name of a MAC, else the MAC itself */
static void fmt_vmk(char *buf, size_t sz, const struct np_report *r,
		    const __u8 mac[6])
{
	const char *name = np_report_name(r, mac);
	char m[18], nm[16];

	if (name) {
		clean(nm, sizeof(nm), name);
		snprintf(buf, sz, "%s", nm);
	} else {
		np_fmt_mac(m, mac);
		snprintf(buf, sz, "%s", m);
	}
}

static void fmt_macs(char *buf, size_t sz, const struct np_report *r,
		     const struct np_rhost *h, int dir)
{
	size_t n = 0;

	buf[0] = 0;
	if (!h->n[dir]) {
		snprintf(buf, sz, "(none seen)");
		return;
	}
	for (size_t i = 0; i < h->n[dir] && n < sz; i++) {
		char w[96];

		fmt_where(w, sizeof(w), r, &h->dir[dir][i], h->ip);
		n += snprintf(buf + n, sz - n, "%s%s", i ? ", " : "", w);
	}
}

static void upper(char *dst, size_t sz, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < sz; i++)
		dst[i] = toupper((unsigned char)s[i]);
	dst[i] = 0;
}

/* 1234567 -> "1.2 MB": SI units, as link speeds are */
static void fmt_bytes(char *buf, size_t sz, double v)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB", "PB" };
	int u = 0;

	while (v >= 1000 && u < 5) {
		v /= 1000;
		u++;
	}
	if (!u)
		snprintf(buf, sz, "%.0f %s", v, unit[u]);
	else
		snprintf(buf, sz, "%.1f %s", v, unit[u]);
}

static void fmt_count(char *buf, size_t sz, double v)
{
	if (v < 100000)
		snprintf(buf, sz, "%.0f", v);
	else if (v < 100e6)
		snprintf(buf, sz, "%.1fk", v / 1e3);
	else
		snprintf(buf, sz, "%.1fM", v / 1e6);
}

static void put_header(FILE *f, const struct np_report *r, double el)
{
	const struct np_report_opts *o = &r->o;
	__s64 ns = np_report_unix_ns(r, o->now_ns);
	time_t t = ns / 1000000000;
	char when[32] = "?", name[64];
	struct tm tm;

	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	fprintf(f, "nbdpath %s", o->kind ? o->kind : "query");
	if (o->path) {
		clean(name, sizeof(name), o->path);
		fprintf(f, " %s", name);
	}
	for (int i = 0; o->ifaces && i < o->n_ifaces; i++) {
		clean(name, sizeof(name), o->ifaces[i]);
		fprintf(f, "%s%s", i ? ", " : " on ", name);
	}
	fprintf(f, ", %s", when);
	if (el > 0)
		fprintf(f, ", rates over the last %.1f s", el);
	if (o->truncated)
		fputs(" (the capture is cut short)", f);
	if (r->sample > 1)
		fprintf(f, ", counts x%llu (sampled 1 in %llu)",
			(unsigned long long)r->sample,
			(unsigned long long)r->sample);
	fputc('\n', f);
}

/* ---- hosts ---- */

/* The first MAC of dir b that dir a does not have: where data leaves. */
static const struct np_rmac *first_extra(const struct np_rhost *h, int a,
					 int b)
{
	for (size_t i = 0; i < h->n[b]; i++)
		if (!h->dir[b][i].other &&
		    !np_rhost_find_mac(h, a, &h->dir[b][i]))
			return &h->dir[b][i];
	return NULL;
}

static void explain_asym(FILE *f, const struct np_report *r,
			 const struct np_rhost *h)
{
	const struct np_rmac *tx = first_extra(h, NP_DIR_TO_SERVER,
					       NP_DIR_FROM_SERVER);
	const struct np_rmac *rx = h->n[0] ? &h->dir[0][0] : NULL;
	char txn[24], rxn[24], ip[46], hip[46], at[80];
	const char *name;
	const __u8 *owner;

	if (!tx || !rx || rx->other) {
		fputs("      requests and replies use different sets of interfaces\n",
		      f);
		return;
	}
	fmt_vmk(txn, sizeof(txn), r, tx->mac);
	fmt_vmk(rxn, sizeof(rxn), r, rx->mac);
	np_fmt_ip(hip, h->ip);
	name = np_report_name(r, tx->mac);
	/* an address to point an appliance of this host's family at */
	owner = np_report_owner(r, tx->mac, h->ip);
	fprintf(f, "      why: requests arrive on %s, but ESXi sends the replies (the backup data) out of\n"
		"           the interface its routing table picks for the client's subnet, %s,\n"
		"           keeping %s as the source address.\n",
		rxn, txn, hip);
	fprintf(f, "      fix: vSphere 7+: esxcli network ip interface tag add -i %s -t vSphereBackupNFC\n",
		name ? txn : "vmkN");
	if (owner) {
		np_fmt_ip(ip, owner);
		snprintf(at, sizeof(at), "%s (%s's IP)", ip, txn);
	} else if (name) {
		snprintf(at, sizeof(at), "%s's IP", txn);
	} else {
		snprintf(at, sizeof(at), "that interface's IP");
	}
	fprintf(f, "           then point the backup appliance at %s;\n", at);
	fprintf(f, "           or see where the client's subnet is routed: esxcli network ip route %s list\n",
		np_ip_is_v4(h->ip) ? "ipv4" : "ipv6");
	if (!name)
		fputs("           (--vmk NAME=MAC or --vmk-file put vmk names on these MACs)\n",
		      f);
}

static void put_hosts(FILE *f, const struct np_report *r)
{
	size_t wip = 0, wv = 0, wrx = 0;
	char ip[46], v[24], rx[512], tx[512];

	fputs("HOSTS\n", f);
	if (!r->n_hosts) {
		fputs("  no traffic on the monitored ports yet\n", f);
		return;
	}
	/* columns as wide as this report needs */
	for (size_t i = 0; i < r->n_hosts; i++) {
		np_fmt_ip(ip, r->hosts[i].ip);
		fmt_macs(rx, sizeof(rx), r, &r->hosts[i], NP_DIR_TO_SERVER);
		if (strlen(ip) > wip)
			wip = strlen(ip);
		if (strlen(np_verdict_name(r->hosts[i].verdict)) > wv)
			wv = strlen(np_verdict_name(r->hosts[i].verdict));
		if (strlen(rx) > wrx)
			wrx = strlen(rx);
	}
	for (size_t i = 0; i < r->n_hosts; i++) {
		const struct np_rhost *h = &r->hosts[i];

		np_fmt_ip(ip, h->ip);
		upper(v, sizeof(v), np_verdict_name(h->verdict));
		fmt_macs(rx, sizeof(rx), r, h, NP_DIR_TO_SERVER);
		fmt_macs(tx, sizeof(tx), r, h, NP_DIR_FROM_SERVER);
		fprintf(f, "  %-*s  %-*s  receives on %-*s  transmits on %s\n",
			(int)wip, ip, (int)wv, v, (int)wrx, rx, tx);
		switch (h->verdict) {
		case NP_V_ASYMMETRIC:
			explain_asym(f, r, h);
			break;
		case NP_V_TO_SERVER_ONLY:
			fputs("      only requests seen: add the interface that sends the replies to the mirror session\n",
			      f);
			break;
		case NP_V_FROM_SERVER_ONLY:
			fputs("      only replies seen: add the interface that receives the requests to the mirror session\n",
			      f);
			break;
		default:
			break;
		}
	}
}

/* ---- interfaces: esxtop's network columns ---- */

static void put_ifaces(FILE *f, const struct np_report *r,
		       const struct np_report *prev, double el)
{
	const char *kind = r->o.kind ? r->o.kind : "";
	struct table t;
	bool rates = el > 0;

	fprintf(f, "INTERFACES (server side, %s)\n",
		rates ? "rates as in esxtop" :
		!strcmp(kind, "replay") ? "totals over the capture" :
		!strcmp(kind, "run") ?
		"totals so far; rates from the second report on" :
		"totals so far");
	if (!r->n_ifaces) {
		fputs("  none seen yet\n", f);
		return;
	}
	table_init(&t, 8, 0xf << 3);
	table_row(&t, "MAC\tNAME\tOWNER IP\t%s\t%s\t%s\t%s\tSERVER IPS",
		  rates ? "PKTRX/s" : "PKTRX", rates ? "MbRX/s" : "MbRX",
		  rates ? "PKTTX/s" : "PKTTX", rates ? "MbTX/s" : "MbTX");
	for (size_t i = 0; i < r->n_ifaces; i++) {
		const struct np_riface *x = &r->ifaces[i];
		const struct np_riface *px = prev ?
			np_report_find_iface(prev, x->mac) : NULL;
		const char *name = np_report_name(r, x->mac);
		const __u8 *owner = np_report_owner(r, x->mac,
					x->n_ips ? x->ips[0] : NULL);
		char mac[18], nm[16] = "-", oip[46] = "-", ips[CELL];
		char v[4][24];
		size_t n = 0;

		np_fmt_mac(mac, x->mac);
		if (name)
			clean(nm, sizeof(nm), name);
		if (owner)
			np_fmt_ip(oip, owner);
		for (int d = 0; d < 2; d++) {
			if (rates) {
				snprintf(v[2 * d], sizeof(v[0]), "%.2f",
					 np_rate(r, x->packets[d],
						 px ? px->packets[d] : 0, el));
				snprintf(v[2 * d + 1], sizeof(v[0]), "%.2f",
					 8 * np_rate(r, x->bytes[d],
						     px ? px->bytes[d] : 0,
						     el) / 1e6);
			} else {
				snprintf(v[2 * d], sizeof(v[0]), "%llu",
					 (unsigned long long)
					 (x->packets[d] * r->sample));
				snprintf(v[2 * d + 1], sizeof(v[0]), "%.2f",
					 8.0 * x->bytes[d] * r->sample / 1e6);
			}
		}
		ips[0] = 0;
		for (size_t j = 0; j < x->n_ips; j++) {
			char a[46];

			np_fmt_ip(a, x->ips[j]);
			/* keep room to say how many did not fit */
			if (n + strlen(a) + 1 > sizeof(ips) - 12) {
				snprintf(ips + n, sizeof(ips) - n, " +%zu more",
					 x->n_ips - j);
				break;
			}
			n += snprintf(ips + n, sizeof(ips) - n, "%s%s",
				      j ? "," : "", a);
		}
		table_row(&t, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", mac, nm, oip,
			  v[0], v[1], v[2], v[3], ips);
	}
	table_print(f, &t, "  ");
}

/* ---- flows ---- */

static void fmt_endpoint(char *buf, size_t sz, const __u8 ip[16],
			 __be16 port)
{
	char a[46];

	np_fmt_ip(a, ip);
	/* [v6]:port, as in URLs, so the port cannot be mistaken */
	if (strchr(a, ':'))
		snprintf(buf, sz, "[%s]:%u", a, ntohs(port));
	else
		snprintf(buf, sz, "%s:%u", a, ntohs(port));
}

static void fmt_dir(char *buf, size_t sz, const struct np_report *r,
		    const struct np_rflow *f, const struct np_rflow *pf,
		    int dir, double el)
{
	const struct np_dir *d = &f->rec.dir[dir];
	__u64 packets = np_dir_packets(d), bytes = np_dir_bytes(d);
	const char *name;
	char via[24], p[16], b[16];

	if (!packets) {
		snprintf(buf, sz, "-");
		return;
	}
	name = np_report_name(r, np_dir_last_mac(d, dir));
	if (name)
		clean(via, sizeof(via), name);
	else
		np_fmt_mac(via, np_dir_last_mac(d, dir));
	if (el > 0) {
		const struct np_dir *pd = pf ? &pf->rec.dir[dir] : NULL;

		snprintf(buf, sz, "%.0f pkt/s %.2f Mb/s via %s",
			 np_rate(r, packets, pd ? np_dir_packets(pd) : 0, el),
			 8 * np_rate(r, bytes, pd ? np_dir_bytes(pd) : 0, el) /
			 1e6, via);
		return;
	}
	fmt_count(p, sizeof(p), (double)packets * r->sample);
	fmt_bytes(b, sizeof(b), (double)bytes * r->sample);
	snprintf(buf, sz, "%s pkt %s via %s", p, b, via);
}

static void put_flows(FILE *f, const struct np_report *r,
		      const struct np_report *prev, double el)
{
	struct table t;
	size_t shown = 0;

	fprintf(f, "TOP FLOWS (by bytes, %zu of %zu)\n",
		r->n_listed < TOP_FLOWS ? r->n_listed : TOP_FLOWS,
		r->n_listed);
	if (!r->n_listed) {
		fputs("  none active\n", f);
		return;
	}
	table_init(&t, 5, 0);
	table_row(&t, "SERVER\tCLIENT\tVERDICT\tTO SERVER (requests)\tFROM SERVER (data)");
	for (size_t i = 0; i < r->n_flows && shown < TOP_FLOWS; i++) {
		const struct np_rflow *fl = &r->flows[i];
		const struct np_rflow *pf;
		char s[CELL], c[CELL], v[24], rx[CELL], tx[CELL];

		if (!fl->listed)
			continue;
		shown++;
		pf = prev ? np_report_find_flow(prev, &fl->rec.key) : NULL;
		fmt_endpoint(s, sizeof(s), fl->rec.key.server_ip,
			     fl->rec.key.server_port);
		fmt_endpoint(c, sizeof(c), fl->rec.key.client_ip,
			     fl->rec.key.client_port);
		upper(v, sizeof(v), np_verdict_name(fl->verdict));
		fmt_dir(rx, sizeof(rx), r, fl, pf, NP_DIR_TO_SERVER, el);
		fmt_dir(tx, sizeof(tx), r, fl, pf, NP_DIR_FROM_SERVER, el);
		table_row(&t, "%s\t%s\t%s\t%s\t%s", s, c, v, rx, tx);
	}
	table_print(f, &t, "  ");
}

/* ---- stats ---- */

static void put_stats(FILE *f, const struct np_report *r)
{
	const char *sep = ": ";

	fprintf(f, "frames %llu",
		(unsigned long long)np_report_scaled_stat(r, NP_STAT_PACKETS));
	for (int i = NP_OUTCOME_FIRST; i <= NP_OUTCOME_LAST; i++) {
		if (!r->stats[i])
			continue;
		fprintf(f, "%s%s %llu", sep, np_stat_names[i],
			(unsigned long long)np_report_scaled_stat(r, i));
		sep = ", ";
	}
	sep = "; with ";
	for (int i = NP_OUTCOME_LAST + 1; i < NP_STAT_MAX; i++) {
		if (!r->stats[i])
			continue;
		fprintf(f, "%s%s %llu", sep, np_stat_names[i],
			(unsigned long long)np_report_scaled_stat(r, i));
		sep = ", ";
	}
	fprintf(f, "; flows %zu listed, %llu evicted\n", r->n_listed,
		(unsigned long long)r->n_evicted);
	if (r->stats[NP_STAT_TABLE_FULL])
		fprintf(f, "%llu frames found the flow table full and are in no flow, host or interface count: raise --max-flows\n",
			(unsigned long long)np_report_scaled_stat(r, NP_STAT_TABLE_FULL));
	if (r->o.kind && !strcmp(r->o.kind, "replay") &&
	    r->n_flows > r->n_listed)
		fprintf(f, "%zu flows idle for --idle-timeout (%u s) by the end of the capture are in the host and interface totals only; a longer --idle-timeout lists them\n",
			r->n_flows - r->n_listed,
			r->o.idle_sec ? r->o.idle_sec : NP_DEFAULT_IDLE_SEC);
}

void np_report_text(FILE *f, const struct np_report *r,
		    const struct np_report *prev, unsigned int views)
{
	double el = prev ? np_report_elapsed(r, prev) : 0;

	put_header(f, r, el);
	if (views & NP_VIEW_HOSTS) {
		fputc('\n', f);
		put_hosts(f, r);
	}
	if (views & NP_VIEW_IFACES) {
		fputc('\n', f);
		put_ifaces(f, r, prev, el);
	}
	if (views & NP_VIEW_FLOWS) {
		fputc('\n', f);
		put_flows(f, r, prev, el);
	}
	if (views & NP_VIEW_STATS) {
		fputc('\n', f);
		put_stats(f, r);
	}
	fflush(f);
}
