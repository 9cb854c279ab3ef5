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

#include "report_model.h"

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
static void fmt_where(char *buf, size_t sz, const struct np_rmac *m)
{
	const char *name = m->name;
	const struct np_ip *owner = m->owner;
	char mac[18], ip[46], nm[16];

	if (m->other) {
		snprintf(buf, sz, "(more MACs than a flow keeps)");
		return;
	}
	np_fmt_mac(mac, m->mac);
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
static void fmt_vmk(char *buf, size_t sz, const struct np_rmac *m)
{
	char mac[18], nm[16];

	if (m->name) {
		clean(nm, sizeof(nm), m->name);
		snprintf(buf, sz, "%s", nm);
	} else {
		np_fmt_mac(mac, m->mac);
		snprintf(buf, sz, "%s", mac);
	}
}

static void fmt_macs(char *buf, size_t sz, struct np_rmac *const *dir,
		     const size_t *n_dir, int d)
{
	size_t n = 0;

	buf[0] = 0;
	if (!n_dir[d]) {
		snprintf(buf, sz, "(none seen)");
		return;
	}
	for (size_t i = 0; i < n_dir[d] && n < sz; i++) {
		char w[96];

		fmt_where(w, sizeof(w), &dir[d][i]);
		n += snprintf(buf + n, sz - n, "%s%s", i ? ", " : "", w);
	}
}

static void fmt_clock(char *buf, size_t sz, __s64 unix_ns)
{
	time_t t = unix_ns / 1000000000;
	struct tm tm;

	if (unix_ns <= 0 || !gmtime_r(&t, &tm))
		snprintf(buf, sz, "?");
	else
		strftime(buf, sz, "%H:%M:%S", &tm);
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

static void put_header(FILE *f, const struct np_report *r)
{
	const struct np_report_opts *o = &r->o;
	time_t t = r->time_ns / 1000000000;
	char when[32] = "?", name[64];
	struct tm tm;

	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	fprintf(f, "nbdpath %s", np_source_name(r->kind));
	if (o->path) {
		clean(name, sizeof(name), o->path);
		fprintf(f, " %s", name);
	}
	for (int i = 0; o->ifaces && i < o->n_ifaces; i++) {
		clean(name, sizeof(name), o->ifaces[i]);
		fprintf(f, "%s%s", i ? ", " : " on ", name);
	}
	fprintf(f, ", %s", when);
	if (r->rates_from_prev)
		fprintf(f, ", rates over the last %.1f s", r->elapsed);
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
static const struct np_rmac *first_extra(struct np_rmac *const *dir,
					 const size_t *n, int a, int b)
{
	for (size_t i = 0; i < n[b]; i++) {
		const struct np_rmac *m = &dir[b][i];
		bool in_a = false;

		for (size_t j = 0; j < n[a] && !in_a; j++)
			in_a = !dir[a][j].other &&
			       !memcmp(dir[a][j].mac, m->mac, 6);
		if (!m->other && !in_a)
			return m;
	}
	return NULL;
}

/* Why a host is asymmetric and what to do, from the window's lists. */
static void explain_asym(FILE *f, const struct np_rhost *h,
			 struct np_rmac *const *dir, const size_t *n)
{
	const struct np_rmac *tx = first_extra(dir, n, NP_DIR_TO_SERVER,
					       NP_DIR_FROM_SERVER);
	const struct np_rmac *rx = n[0] ? &dir[0][0] : NULL;
	char txn[24], rxn[24], ip[46], hip[46], at[80];

	if (!tx || !rx || rx->other) {
		fputs("      requests and replies use different sets of interfaces\n",
		      f);
		return;
	}
	fmt_vmk(txn, sizeof(txn), tx);
	fmt_vmk(rxn, sizeof(rxn), rx);
	np_fmt_ip(hip, &h->ip);
	fprintf(f, "      why: requests arrive on %s, but ESXi sends the replies (the backup data) out of\n"
		"           the interface its routing table picks for the client's subnet, %s,\n"
		"           keeping %s as the source address.\n",
		rxn, txn, hip);
	fprintf(f, "      fix: vSphere 7+: esxcli network ip interface tag add -i %s -t vSphereBackupNFC\n",
		tx->name ? txn : "vmkN");
	if (tx->owner) {
		np_fmt_ip(ip, tx->owner);
		snprintf(at, sizeof(at), "%s (%s's IP)", ip, txn);
	} else if (tx->name) {
		snprintf(at, sizeof(at), "%s's IP", txn);
	} else {
		snprintf(at, sizeof(at), "that interface's IP");
	}
	fprintf(f, "           then point the backup appliance at %s;\n", at);
	fprintf(f, "           or see where the client's subnet is routed: esxcli network ip route %s list\n",
		np_ip_is_v4(&h->ip) ? "ipv4" : "ipv6");
	if (!tx->name)
		fputs("           (--vmk NAME=MAC or --vmk-file put vmk names on these MACs)\n",
		      f);
}

/* retransmits of count packets, in percent; 0 without packets */
static double rt_pct(__u64 retransmits, __u64 packets)
{
	return packets ? 100.0 * retransmits / packets : 0;
}

static const struct np_rmac *find_rmac(struct np_rmac *const *dir,
				       const size_t *n, int d, const __u8 *mac)
{
	for (size_t i = 0; i < n[d]; i++)
		if (!dir[d][i].other && !memcmp(dir[d][i].mac, mac, 6))
			return &dir[d][i];
	return NULL;
}

/*
 * Failed handshakes with the vmk of each unanswered SYN-ACK, and for an
 * asymmetric host whose asymmetric leg does worse than the normal one,
 * the "asymmetric and losing" line (nbdpath(8), TCP HEALTH).
 */
static void put_host_health(FILE *f, const struct np_rhost *h,
			    enum np_verdict now)
{
	struct np_rmac *const *cd = h->has_current ? h->cur.dir : h->dir;
	const size_t *cn = h->has_current ? h->cur.n : h->n;
	const struct np_rmac *leg, *tot;
	__u64 rx_rt = 0, rx_pk = 0, leg_failed = 0;
	char name[24], rxn[24];

	if (h->hs[NP_HS_NO_ACK] || h->hs[NP_HS_NO_SYNACK]) {
		fprintf(f, "      failed handshakes: %llu no_ack",
			(unsigned long long)h->hs[NP_HS_NO_ACK]);
		for (size_t j = 0; j < h->n_failed; j++)
			fprintf(f, "%s%llu SYN-ACK%s unanswered via %s",
				j ? ", " : " (",
				(unsigned long long)h->failed[j].count,
				h->failed[j].count == 1 ? "" : "s",
				h->failed[j].name ? h->failed[j].name : "?");
		if (h->n_failed)
			fputc(')', f);
		fprintf(f, ", %llu no_synack\n",
			(unsigned long long)h->hs[NP_HS_NO_SYNACK]);
	}
	if (now != NP_V_ASYMMETRIC)
		return;
	leg = first_extra(cd, cn, NP_DIR_TO_SERVER, NP_DIR_FROM_SERVER);
	if (!leg)
		return;
	/* the leg's counts since the start, the normal path's beside */
	tot = find_rmac(h->dir, h->n, NP_DIR_FROM_SERVER, leg->mac);
	if (!tot)
		return;
	for (size_t j = 0; j < h->n[NP_DIR_TO_SERVER]; j++) {
		rx_rt += h->dir[NP_DIR_TO_SERVER][j].retransmits;
		rx_pk += h->dir[NP_DIR_TO_SERVER][j].packets;
	}
	for (size_t j = 0; j < h->n_failed; j++)
		if (!memcmp(h->failed[j].mac, leg->mac, 6))
			leg_failed = h->failed[j].count;
	if (rt_pct(tot->retransmits, tot->packets) <= rt_pct(rx_rt, rx_pk) &&
	    leg_failed <= h->hs[NP_HS_NO_SYNACK])
		return;
	fmt_vmk(name, sizeof(name), tot);
	if (h->n[NP_DIR_TO_SERVER])
		fmt_vmk(rxn, sizeof(rxn), &h->dir[NP_DIR_TO_SERVER][0]);
	else
		snprintf(rxn, sizeof(rxn), "-");
	fprintf(f, "      asymmetric and losing: replies via %s retransmit %.2f%% of segments (requests via %s: %.2f%%); %llu SYN-ACK%s via %s never acknowledged (%llu SYN%s unanswered)\n",
		name, rt_pct(tot->retransmits, tot->packets), rxn,
		rt_pct(rx_rt, rx_pk), (unsigned long long)leg_failed,
		leg_failed == 1 ? "" : "s", name,
		(unsigned long long)h->hs[NP_HS_NO_SYNACK],
		h->hs[NP_HS_NO_SYNACK] == 1 ? "" : "s");
}

/* "SYMMETRIC now (since 23:10:25), asymmetric until 23:10:25" */
static void fmt_verdict(char *buf, size_t sz, const struct np_rhost *h)
{
	char v[24], since[16], until[16];

	if (!h->has_current) {
		upper(buf, sz, np_verdict_name(h->verdict));
		return;
	}
	upper(v, sizeof(v), np_verdict_name(h->cur.verdict));
	fmt_clock(since, sizeof(since), h->cur.since_ns);
	if (h->cur.asym_until_ns) {
		fmt_clock(until, sizeof(until), h->cur.asym_until_ns);
		snprintf(buf, sz, "%s now (since %s), asymmetric until %s", v,
			 since, until);
	} else {
		snprintf(buf, sz, "%s now (since %s)", v, since);
	}
}

static void put_hosts(FILE *f, const struct np_report *r)
{
	size_t wip = 0, wv = 0, wrx = 0;
	char ip[46], v[96], rx[512], tx[512];

	fputs("HOSTS\n", f);
	if (!r->n_hosts) {
		fputs("  no traffic on the monitored ports yet\n", f);
		return;
	}
	/* columns as wide as this report needs */
	for (size_t i = 0; i < r->n_hosts; i++) {
		const struct np_rhost *h = &r->hosts[i];

		np_fmt_ip(ip, &h->ip);
		fmt_verdict(v, sizeof(v), h);
		fmt_macs(rx, sizeof(rx), h->dir, h->n, NP_DIR_TO_SERVER);
		if (strlen(ip) > wip)
			wip = strlen(ip);
		if (strlen(v) > wv)
			wv = strlen(v);
		if (strlen(rx) > wrx)
			wrx = strlen(rx);
	}
	for (size_t i = 0; i < r->n_hosts; i++) {
		const struct np_rhost *h = &r->hosts[i];
		enum np_verdict now = h->has_current ? h->cur.verdict :
						       h->verdict;

		if (h->overflow) {
			fprintf(f, "  %-*s  other hosts, past the map of expired flows' counts: in the totals, no verdict\n",
				(int)wip, "::");
			continue;
		}
		np_fmt_ip(ip, &h->ip);
		fmt_verdict(v, sizeof(v), h);
		fmt_macs(rx, sizeof(rx), h->dir, h->n, NP_DIR_TO_SERVER);
		fmt_macs(tx, sizeof(tx), h->dir, h->n, NP_DIR_FROM_SERVER);
		fprintf(f, "  %-*s  %-*s  receives on %-*s  transmits on %s\n",
			(int)wip, ip, (int)wv, v, (int)wrx, rx, tx);
		if (h->has_current && h->cur.verdict != NP_V_IDLE &&
		    h->cur.verdict != h->verdict) {
			fmt_macs(rx, sizeof(rx), h->cur.dir, h->cur.n,
				 NP_DIR_TO_SERVER);
			fmt_macs(tx, sizeof(tx), h->cur.dir, h->cur.n,
				 NP_DIR_FROM_SERVER);
			fprintf(f, "      in the last %llu s: receives on %s, transmits on %s\n",
				(unsigned long long)(r->o.window_ns /
						     NP_NSEC_PER_SEC), rx, tx);
		}
		put_host_health(f, h, now);
		switch (now) {
		case NP_V_ASYMMETRIC:
			if (h->has_current)
				explain_asym(f, h, h->cur.dir, h->cur.n);
			else
				explain_asym(f, h, h->dir, h->n);
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

static void put_ifaces(FILE *f, const struct np_report *r)
{
	struct table t;
	bool rates = r->rates_from_prev;

	fprintf(f, "INTERFACES (server side, %s)\n",
		rates ? "rates as in esxtop" :
		r->kind == NP_SRC_REPLAY ? "totals over the capture" :
		r->kind == NP_SRC_RUN ?
		"totals so far; rates from the second report on" :
		"totals so far");
	if (!r->n_ifaces) {
		fputs("  none seen yet\n", f);
		return;
	}
	/* %RTXRX, %RTXTX: retransmitted segments of all so far, in % */
	table_init(&t, 10, 0x3f << 3);
	table_row(&t, "MAC\tNAME\tOWNER IP\t%s\t%%RTXRX\t%s\t%s\t%%RTXTX\t%s\tSERVER IPS",
		  rates ? "PKTRX/s" : "PKTRX", rates ? "MbRX/s" : "MbRX",
		  rates ? "PKTTX/s" : "PKTTX", rates ? "MbTX/s" : "MbTX");
	for (size_t i = 0; i < r->n_ifaces; i++) {
		const struct np_riface *x = &r->ifaces[i];
		char mac[18], nm[16] = "-", oip[46] = "-", ips[CELL];
		char v[4][24], rt[2][16];
		size_t n = 0;

		np_fmt_mac(mac, x->mac);
		if (x->name)
			clean(nm, sizeof(nm), x->name);
		if (x->owner)
			np_fmt_ip(oip, x->owner);
		for (int d = 0; d < 2; d++) {
			snprintf(rt[d], sizeof(rt[0]), "%.2f",
				 rt_pct(x->retransmits[d], x->packets[d]));
			if (rates) {
				snprintf(v[2 * d], sizeof(v[0]), "%.2f",
					 x->pps[d]);
				snprintf(v[2 * d + 1], sizeof(v[0]), "%.2f",
					 x->bps[d] / 1e6);
			} else {
				snprintf(v[2 * d], sizeof(v[0]), "%llu",
					 (unsigned long long)x->packets[d]);
				snprintf(v[2 * d + 1], sizeof(v[0]), "%.2f",
					 8.0 * x->bytes[d] / 1e6);
			}
		}
		ips[0] = 0;
		for (size_t j = 0; j < x->n_ips; j++) {
			char a[46];

			np_fmt_ip(a, &x->ips[j]);
			/* keep room to say how many did not fit */
			if (n + strlen(a) + 1 > sizeof(ips) - 12) {
				snprintf(ips + n, sizeof(ips) - n, " +%zu more",
					 x->n_ips - j);
				break;
			}
			n += snprintf(ips + n, sizeof(ips) - n, "%s%s",
				      j ? "," : "", a);
		}
		table_row(&t, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", mac,
			  nm, oip, v[0], rt[0], v[1], v[2], rt[1], v[3], ips);
	}
	table_print(f, &t, "  ");
}

/* ---- flows ---- */

static void fmt_endpoint(char *buf, size_t sz, const struct np_ip *ip,
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

/* Where a direction went: its vmk name, or its MAC without one. */
static void fmt_via(char *via, size_t sz, const char *name, const __u8 *mac)
{
	if (name)
		clean(via, sz, name);
	else
		np_fmt_mac(via, mac);
}

/* A direction's totals, "N pkt B via VIA". */
static void fmt_totals(char *buf, size_t sz, __u64 packets, __u64 bytes,
		       const char *via)
{
	char p[16], b[16];

	fmt_count(p, sizeof(p), (double)packets);
	fmt_bytes(b, sizeof(b), (double)bytes);
	snprintf(buf, sz, "%s pkt %s via %s", p, b, via);
}

static void fmt_dir(char *buf, size_t sz, const struct np_report *r,
		    const struct np_rflow *f, int dir)
{
	const struct np_rdir *x = &f->dir[dir];
	const struct np_dir *d = &f->rec.dir[dir];
	char via[24];

	if (!x->seen) {
		snprintf(buf, sz, "-");
		return;
	}
	fmt_via(via, sizeof(via), x->interface,
		dir == NP_DIR_TO_SERVER ? d->dst_mac : d->src_mac);
	if (r->rates_from_prev && f->state == NP_FS_ACTIVE)
		snprintf(buf, sz, "%.0f pkt/s %.2f Mb/s via %s", x->pps,
			 x->bps / 1e6, via);
	else
		fmt_totals(buf, sz, x->packets, x->bytes, via);
}

/* A kept record's direction, as fmt_dir() puts a finished flow's. */
static void fmt_kept_dir(char *buf, size_t sz, const struct np_fin_kept *k,
			 int dir)
{
	const struct np_fin_kept_dir *x = &k->dir[dir];
	char via[24];

	if (!x->seen) {
		snprintf(buf, sz, "-");
		return;
	}
	fmt_via(via, sizeof(via), x->name[0] ? x->name : NULL, x->mac);
	fmt_totals(buf, sz, x->packets, x->bytes, via);
}

/* Rows from .. to of the active flows; finished: of the finished list. */
static void flow_table(FILE *f, const struct np_report *r, size_t from,
		       size_t to, bool finished)
{
	struct table t;

	table_init(&t, finished ? 6 : 5, 0);
	if (finished)
		table_row(&t, "SERVER\tCLIENT\tVERDICT\tTO SERVER (requests)\tFROM SERVER (data)\tENDED");
	else
		table_row(&t, "SERVER\tCLIENT\tVERDICT\tTO SERVER (requests)\tFROM SERVER (data)");
	for (size_t i = from; i < to; i++) {
		const struct np_rflow *fl = finished ? r->fin[i].flow :
						       &r->flows[i];
		const struct np_flow_key *key;
		enum np_verdict verdict;
		enum np_flow_state st;
		__s64 ended_ns;
		char s[CELL], c[CELL], v[24], rx[CELL], tx[CELL], end[40];
		char at[16];
		struct np_ip sip, cip;

		if (fl) {
			key = &fl->rec.key;
			verdict = fl->verdict;
			st = fl->state;
			ended_ns = fl->ended_ns;
			fmt_dir(rx, sizeof(rx), r, fl, NP_DIR_TO_SERVER);
			fmt_dir(tx, sizeof(tx), r, fl, NP_DIR_FROM_SERVER);
		} else {	/* a kept record */
			const struct np_fin_rec *x = np_rfin_rec(r, &r->fin[i]);

			key = &x->key;
			verdict = x->kept->verdict;
			st = x->state;
			ended_ns = x->kept->ended_ns;
			fmt_kept_dir(rx, sizeof(rx), x->kept, NP_DIR_TO_SERVER);
			fmt_kept_dir(tx, sizeof(tx), x->kept,
				     NP_DIR_FROM_SERVER);
		}
		sip = np_key_server(key);
		cip = np_key_client(key);
		fmt_endpoint(s, sizeof(s), &sip, key->server_port);
		fmt_endpoint(c, sizeof(c), &cip, key->client_port);
		upper(v, sizeof(v), np_verdict_name(verdict));
		fmt_clock(at, sizeof(at), ended_ns);
		snprintf(end, sizeof(end), "%s %s", np_flow_state_name(st), at);
		table_row(&t, "%s\t%s\t%s\t%s\t%s\t%s", s, c, v, rx, tx, end);
	}
	table_print(f, &t, "  ");
}

static void put_flows(FILE *f, const struct np_report *r)
{
	size_t n_fin = r->n_listed - r->n_active;
	size_t top = r->n_active < TOP_FLOWS ? r->n_active : TOP_FLOWS;
	size_t last = n_fin < TOP_FLOWS ? n_fin : TOP_FLOWS;

	fprintf(f, "TOP FLOWS (by bytes, %zu of %zu)\n", top, r->n_active);
	if (!r->n_active)
		fputs("  none active\n", f);
	else
		flow_table(f, r, 0, top, false);
	if (!n_fin)
		return;
	fprintf(f, "\nFINISHED FLOWS (most recent first, %zu of %zu)\n", last,
		n_fin);
	flow_table(f, r, 0, last, true);
}

/* ---- stats ---- */

static void put_stats(FILE *f, const struct np_report *r)
{
	const char *sep = ": ";

	fprintf(f, "frames %llu", (unsigned long long)r->stats[NP_STAT_PACKETS]);
	for (int i = NP_OUTCOME_FIRST; i <= NP_OUTCOME_LAST; i++) {
		if (!r->stats[i])
			continue;
		fprintf(f, "%s%s %llu", sep, np_stat_names[i],
			(unsigned long long)r->stats[i]);
		sep = ", ";
	}
	sep = "; with ";
	for (int i = NP_OUTCOME_LAST + 1; i < NP_STAT_MAX; i++) {
		if (!r->stats[i])
			continue;
		fprintf(f, "%s%s %llu", sep, np_stat_names[i],
			(unsigned long long)r->stats[i]);
		sep = ", ";
	}
	fprintf(f, "; flows %zu active, %zu finished listed, %llu evicted\n",
		r->n_active, r->n_listed - r->n_active,
		(unsigned long long)r->n_evicted);
	if (r->o.not_ethernet)
		fprintf(f, "%llu frames of interfaces that are not Ethernet were left out\n",
			(unsigned long long)r->o.not_ethernet);
	if (r->n_dropped)
		fprintf(f, "%llu finished flows' records were dropped to bound memory; their counts stay in the host and interface totals\n",
			(unsigned long long)r->n_dropped);
	if (r->stats[NP_STAT_TABLE_FULL])
		fprintf(f, "%llu frames found the flow table full and are in no flow, host or interface count: raise --max-flows\n",
			(unsigned long long)r->stats[NP_STAT_TABLE_FULL]);
}

void np_report_text(FILE *f, const struct np_report *r, unsigned int views)
{
	put_header(f, r);
	if (views & NP_VIEW_HOSTS) {
		fputc('\n', f);
		put_hosts(f, r);
	}
	if (views & NP_VIEW_IFACES) {
		fputc('\n', f);
		put_ifaces(f, r);
	}
	if (views & NP_VIEW_FLOWS) {
		fputc('\n', f);
		put_flows(f, r);
	}
	if (views & NP_VIEW_STATS) {
		fputc('\n', f);
		put_stats(f, r);
	}
	fflush(f);
}
