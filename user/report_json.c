// SPDX-License-Identifier: GPL-2.0
/*
 * The JSON report (nbdpath(8), JSON): one object on one line, written
 * through the JSON writer every --json output uses.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "json_writer.h"
#include "report_model.h"

struct ctx {
	struct jsonw *w;
	const struct np_report *r;
	bool	rates;			/* flows' "pps" and "bps" */
	__u32	(*marks)[2];		/* np_report_json_keep(): their bytes */
};

static void put_source(struct ctx *c)
{
	const struct np_report *r = c->r;
	struct jsonw *w = c->w;

	jsonw_name(w, "source");
	jsonw_start_object(w);
	jsonw_string_field(w, "kind", np_source_name(r->kind));
	if (r->o.path)
		jsonw_string_field(w, "path", r->o.path);
	if (r->o.ifaces && r->o.n_ifaces > 0) {
		jsonw_name(w, "interfaces");
		jsonw_start_array(w);
		for (int i = 0; i < r->o.n_ifaces; i++)
			jsonw_string(w, r->o.ifaces[i]);
		jsonw_end_array(w);
	}
	if (r->o.truncated) {
		jsonw_name(w, "truncated");
		jsonw_bool(w, true);
	}
	jsonw_end_object(w);
}

static void put_sampled(struct ctx *c)
{
	if (c->r->sample > 1)
		jsonw_u64_field(c->w, "sampled", c->r->sample);
}

static void put_stats(struct ctx *c)
{
	const struct np_report *r = c->r;
	struct jsonw *w = c->w;

	jsonw_name(w, "stats");
	jsonw_start_object(w);
	for (int i = 0; i < NP_STAT_MAX; i++) {
		jsonw_name_len(w, np_stat_names[i], strlen(np_stat_names[i]));
		jsonw_u64(w, r->stats[i]);
	}
	/* frames of a capture's non-Ethernet interfaces: never classified,
	 * so outside the outcomes
	 */
	if (r->kind == NP_SRC_REPLAY)
		jsonw_u64_field(w, "not_ethernet", r->o.not_ethernet);
	jsonw_u64_field(w, "flows", r->n_listed);
	jsonw_u64_field(w, "flows_active", r->n_active);
	jsonw_u64_field(w, "flows_finished", r->n_listed - r->n_active);
	jsonw_u64_field(w, "flows_evicted", r->n_evicted);
	jsonw_u64_field(w, "flows_dropped", r->n_dropped);
	put_sampled(c);
	jsonw_end_object(w);
}

/* One entry of a host's rx/tx list. */
static void put_rmac(struct ctx *c, const struct np_rmac *m, bool rates,
		     bool owner)
{
	/* host totals (owner) carry TCP health, the window's lists not */
	bool health = owner;
	struct jsonw *w = c->w;

	jsonw_start_object(w);
	jsonw_name(w, "mac");
	jsonw_mac(w, m->other ? NULL : m->mac);
	jsonw_string_field(w, "interface", m->name);
	if (owner) {
		jsonw_name(w, "owner_ip");
		jsonw_ip(w, m->owner);
	}
	if (m->other) {
		/* frames of MACs past a flow's set */
		jsonw_name(w, "other");
		jsonw_bool(w, true);
	}
	jsonw_u64_field(w, "packets", m->packets);
	jsonw_u64_field(w, "bytes", m->bytes);
	if (health) {
		jsonw_u64_field(w, "retransmits", m->retransmits);
		jsonw_u64_field(w, "retransmit_bytes", m->retransmit_bytes);
		jsonw_u64_field(w, "resets", m->resets);
	}
	put_sampled(c);
	if (rates) {
		jsonw_double_field(w, "pps", m->pps, 3);
		jsonw_double_field(w, "bps", m->bps, 3);
	}
	jsonw_end_object(w);
}

static void put_current(struct ctx *c, const struct np_rhost *h)
{
	static const char *const keys[2] = { "rx", "tx" };
	const struct np_rcurrent *cur = &h->cur;
	struct jsonw *w = c->w;

	jsonw_name(w, "current");
	jsonw_start_object(w);
	jsonw_string_field(w, "verdict", np_verdict_name(cur->verdict));
	jsonw_name(w, "since");
	jsonw_ns(w, cur->since_ns);
	jsonw_u64_field(w, "window", c->r->o.window_ns / NP_NSEC_PER_SEC);
	for (int d = 0; d < 2; d++) {
		jsonw_name_len(w, keys[d], strlen(keys[d]));
		jsonw_start_array(w);
		for (size_t j = 0; j < cur->n[d]; j++)
			put_rmac(c, &cur->dir[d][j], false, false);
		jsonw_end_array(w);
	}
	jsonw_name(w, "asymmetric_until");
	if (cur->asym_until_ns)
		jsonw_ns(w, cur->asym_until_ns);
	else
		jsonw_string(w, NULL);
	jsonw_end_object(w);
	jsonw_name(w, "changes");
	jsonw_start_array(w);
	for (size_t j = 0; j < cur->n_changes; j++) {
		jsonw_start_object(w);
		jsonw_name(w, "time");
		jsonw_ns(w, cur->changes[j].time_ns);
		jsonw_string_field(w, "verdict", np_verdict_name(cur->changes[j].verdict));
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
}

/* A host's TCP health (nbdpath(8), TCP HEALTH): its flows' totals. */
static void put_host_health(struct ctx *c, const struct np_rhost *h)
{
	static const char *const dirs[2] = { "to_server", "from_server" };
	static const char *const sides[2] = { "server", "client" };
	struct jsonw *w = c->w;

	jsonw_name(w, "tcp_health");
	jsonw_start_object(w);
	for (int d = 0; d < 2; d++) {
		__u64 rt = 0, rb = 0, rs = 0;

		for (size_t j = 0; j < h->n[d]; j++) {
			rt += h->dir[d][j].retransmits;
			rb += h->dir[d][j].retransmit_bytes;
			rs += h->dir[d][j].resets;
		}
		jsonw_name_len(w, dirs[d], strlen(dirs[d]));
		jsonw_start_object(w);
		jsonw_u64_field(w, "retransmits", rt);
		jsonw_u64_field(w, "retransmit_bytes", rb);
		jsonw_u64_field(w, "resets", rs);
		jsonw_end_object(w);
	}
	jsonw_name(w, "handshakes");
	jsonw_start_object(w);
	for (int s = 0; s < NP_HS_MAX; s++) {
		const char *k = np_hs_state_name(s);

		jsonw_name_len(w, k, strlen(k));
		jsonw_u64(w, h->hs[s]);
	}
	jsonw_end_object(w);
	jsonw_name(w, "unanswered_synacks");
	jsonw_start_array(w);
	for (size_t j = 0; j < h->n_failed; j++) {
		jsonw_start_object(w);
		jsonw_name(w, "mac");
		jsonw_mac(w, h->failed[j].mac);
		jsonw_string_field(w, "interface", h->failed[j].name);
		jsonw_u64_field(w, "count", h->failed[j].count);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
	jsonw_name(w, "handshake_rtt");
	jsonw_start_object(w);
	for (int sd = 0; sd < 2; sd++) {
		jsonw_name_len(w, sides[sd], strlen(sides[sd]));
		if (!h->n_rtt[sd]) {
			jsonw_null(w);
			continue;
		}
		jsonw_start_object(w);
		jsonw_double_field(w, "min", h->rtt[sd][0], 6);
		jsonw_double_field(w, "median", h->rtt[sd][1], 6);
		jsonw_double_field(w, "max", h->rtt[sd][2], 6);
		jsonw_u64_field(w, "handshakes", h->n_rtt[sd]);
		jsonw_end_object(w);
	}
	jsonw_end_object(w);
	jsonw_end_object(w);
}

static void put_hosts(struct ctx *c)
{
	static const char *const keys[2] = { "rx", "tx" };
	const struct np_report *r = c->r;
	struct jsonw *w = c->w;

	jsonw_name(w, "hosts");
	jsonw_start_array(w);
	for (size_t i = 0; i < r->n_hosts; i++) {
		const struct np_rhost *h = &r->hosts[i];

		jsonw_start_object(w);
		jsonw_name(w, "ip");
		jsonw_ip(w, &h->ip);
		jsonw_string_field(w, "verdict", np_verdict_name(h->verdict));
		if (h->overflow)
			jsonw_bool_field(w, "overflow", true);
		for (int d = 0; d < 2; d++) {
			jsonw_name_len(w, keys[d], strlen(keys[d]));
			jsonw_start_array(w);
			for (size_t j = 0; j < h->n[d]; j++)
				put_rmac(c, &h->dir[d][j], r->elapsed > 0, true);
			jsonw_end_array(w);
		}
		if (h->has_current)
			put_current(c, h);
		put_host_health(c, h);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
}

static void put_u16s(struct jsonw *w, const char *k, const __u16 *v, int n)
{
	jsonw_name_len(w, k, strlen(k));
	jsonw_start_array(w);
	for (int i = 0; i < n; i++)
		jsonw_u64(w, v[i]);
	jsonw_end_array(w);
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
	struct jsonw *w = c->w;

	if (dir == NP_DIR_TO_SERVER)
		jsonw_name(w, "to_server");
	else
		jsonw_name(w, "from_server");
	jsonw_start_object(w);
	jsonw_u64_field(w, "packets", x->packets);
	jsonw_u64_field(w, "bytes", x->bytes);
	for (int i = 0; i < NP_DC_MAX; i++) {
		jsonw_name_len(w, counter_names[i], strlen(counter_names[i]));
		jsonw_u64(w, x->counters[i]);
	}
	put_sampled(c);
	jsonw_name(w, "src_mac");
	jsonw_mac(w, x->seen ? d->src_mac : NULL);
	jsonw_name(w, "dst_mac");
	jsonw_mac(w, x->seen ? d->dst_mac : NULL);
	jsonw_name(w, "server_macs");
	jsonw_start_array(w);
	for (int i = 0; i < x->n_macs; i++)
		jsonw_mac(w, x->macs[i]);
	jsonw_end_array(w);
	if (d->flags & NP_DIRF_MACS_OVERFLOW) {
		/* more server MACs than the set holds: the list is partial */
		jsonw_name(w, "server_macs_truncated");
		jsonw_bool(w, true);
	}
	jsonw_string_field(w, "interface", x->interface);
	put_u16s(w, "vlans", x->vlans, x->n_vlans);
	jsonw_name(w, "untagged");
	jsonw_bool(w, x->seen && (d->flags & NP_DIRF_UNTAGGED));
	/* a frame cut before its TCP data offset: payload_bytes an upper bound */
	jsonw_name(w, "payload_estimated");
	jsonw_bool(w, x->seen && (d->flags & NP_DIRF_PAYLOAD_ESTIMATED));
	put_u16s(w, "erspan_sessions", x->sessions, x->n_sessions);
	jsonw_name(w, "encap");
	jsonw_start_array(w);
	for (int i = 0; x->seen && i < NP_ENCAP_MAX; i++)
		if (d->encap & (1 << i))
			jsonw_string(w, encap_names[i]);
	jsonw_end_array(w);
	jsonw_name(w, "tcp_flags");
	jsonw_start_array(w);
	for (int i = 0; i < 8; i++)
		if (d->tcp_flags & (1 << i))
			jsonw_string(w, np_tcp_flag_names[i]);
	jsonw_end_array(w);
	jsonw_string_field(w, "mirror", x->mirror);
	if (c->rates) {
		size_t at;

		if (c->marks) {
			jsonw_mem(w, &at);
			c->marks[dir][0] = at;
		}
		jsonw_double_field(w, "pps", x->pps, 3);
		jsonw_double_field(w, "bps", x->bps, 3);
		if (c->marks) {
			jsonw_mem(w, &at);
			c->marks[dir][1] = at;
		}
	}
	jsonw_end_object(w);
}

static void put_time_or_null(struct jsonw *w, const char *name, __s64 ns)
{
	jsonw_name_len(w, name, strlen(name));
	if (ns)
		jsonw_ns(w, ns);
	else
		jsonw_null(w);
}

static void put_rtt(struct jsonw *w, const char *name, double s)
{
	jsonw_name_len(w, name, strlen(name));
	if (s >= 0)
		jsonw_double(w, s, 6);
	else
		jsonw_null(w);
}

static void put_handshake(struct ctx *c, const struct np_rhandshake *h)
{
	struct jsonw *w = c->w;

	jsonw_name(w, "handshake");
	jsonw_start_object(w);
	put_time_or_null(w, "syn", h->syn_ns);
	jsonw_name(w, "syn_mac");
	jsonw_mac(w, h->syn_ns ? h->syn_mac : NULL);
	jsonw_name(w, "syn_retries");
	if (h->syn_ns)
		jsonw_u64(w, h->syn_retries);
	else
		jsonw_null(w);
	put_time_or_null(w, "synack", h->synack_ns);
	jsonw_name(w, "synack_mac");
	jsonw_mac(w, h->synack_ns ? h->synack_mac : NULL);
	jsonw_name(w, "synack_retries");
	if (h->synack_ns)
		jsonw_u64(w, h->synack_retries);
	else
		jsonw_null(w);
	put_time_or_null(w, "ack", h->ack_ns);
	put_rtt(w, "rtt_server", h->rtt_server);
	put_rtt(w, "rtt_client", h->rtt_client);
	jsonw_string_field(w, "state", np_hs_state_name(h->state));
	jsonw_end_object(w);
}

static void put_flow(struct ctx *c, const struct np_rflow *f)
{
	struct jsonw *w = c->w;
	struct np_ip srv = np_key_server(&f->rec.key);
	struct np_ip cli = np_key_client(&f->rec.key);

	jsonw_start_object(w);
	jsonw_name(w, "server");
	jsonw_ip(w, &srv);
	jsonw_u64_field(w, "server_port", ntohs(f->rec.key.server_port));
	jsonw_name(w, "client");
	jsonw_ip(w, &cli);
	jsonw_u64_field(w, "client_port", ntohs(f->rec.key.client_port));
	jsonw_string_field(w, "verdict", np_verdict_name(f->verdict));
	put_dir(c, f, NP_DIR_TO_SERVER);
	put_dir(c, f, NP_DIR_FROM_SERVER);
	put_handshake(c, &f->hs);
	jsonw_name(w, "first_seen");
	jsonw_ns(w, f->first_ns);
	jsonw_name(w, "last_seen");
	jsonw_ns(w, f->last_ns);
	jsonw_string_field(w, "state", np_flow_state_name(f->state));
	jsonw_name(w, "ended");
	if (f->ended_ns)
		jsonw_ns(w, f->ended_ns);
	else
		jsonw_string(w, NULL);
	jsonw_end_object(w);
}

/*
 * A direction's "pps" and "bps" of a kept record, both 0: the same bytes
 * for every record, saved from the first one np_report_json_keep() makes.
 */
static char zero_rates[64];
static size_t zero_rates_len;

/* A kept record's object as made (np_report_json_keep()), rates or not. */
static void put_kept(struct ctx *c, const struct np_fin_kept *k)
{
	const __u32 *at = k->rates;
	struct jsonw *w = c->w;

	jsonw_raw(w, k->json, at[0]);
	if (c->rates)
		jsonw_raw_more(w, zero_rates, zero_rates_len);
	jsonw_raw_more(w, k->json + at[0], at[1] - at[0]);
	if (c->rates)
		jsonw_raw_more(w, zero_rates, zero_rates_len);
	jsonw_raw_more(w, k->json + at[1], k->len - at[1]);
}

static void put_flows(struct ctx *c)
{
	const struct np_report *r = c->r;
	struct jsonw *w = c->w;

	jsonw_name(w, "flows");
	jsonw_start_array(w);
	for (size_t i = 0; i < r->n_active; i++)
		put_flow(c, &r->flows[i]);
	for (size_t i = 0; i < r->n_fin; i++) {
		const struct np_rfin *e = &r->fin[i];

		/* the objects are scattered: ask for one a few ahead */
		if (i + 4 < r->n_fin && r->fin[i + 4].ord)
			__builtin_prefetch(r->fin[i + 4].ord->kept);
		if (e->flow)
			put_flow(c, e->flow);
		else
			put_kept(c, e->ord->kept);
	}
	jsonw_end_array(w);
}

static void put_ifaces(struct ctx *c)
{
	static const char *const k_packets[2] = { "rx_packets", "tx_packets" };
	static const char *const k_bytes[2] = { "rx_bytes", "tx_bytes" };
	static const char *const k_pps[2] = { "rx_pps", "tx_pps" };
	static const char *const k_bps[2] = { "rx_bps", "tx_bps" };
	static const char *const k_rt[2] = { "rx_retransmits",
					     "tx_retransmits" };
	static const char *const k_rtb[2] = { "rx_retransmit_bytes",
					      "tx_retransmit_bytes" };
	static const char *const k_rst[2] = { "rx_resets", "tx_resets" };
	const struct np_report *r = c->r;
	struct jsonw *w = c->w;

	jsonw_name(w, "interfaces");
	jsonw_start_array(w);
	for (size_t i = 0; i < r->n_ifaces; i++) {
		const struct np_riface *x = &r->ifaces[i];

		jsonw_start_object(w);
		jsonw_name(w, "mac");
		jsonw_mac(w, x->mac);
		jsonw_string_field(w, "interface", x->name);
		jsonw_name(w, "owner_ip");
		jsonw_ip(w, x->owner);
		for (int d = 0; d < 2; d++) {
			jsonw_name_len(w, k_packets[d], strlen(k_packets[d]));
			jsonw_u64(w, x->packets[d]);
			jsonw_name_len(w, k_bytes[d], strlen(k_bytes[d]));
			jsonw_u64(w, x->bytes[d]);
		}
		for (int d = 0; d < 2; d++) {
			jsonw_name_len(w, k_rt[d], strlen(k_rt[d]));
			jsonw_u64(w, x->retransmits[d]);
			jsonw_name_len(w, k_rtb[d], strlen(k_rtb[d]));
			jsonw_u64(w, x->retransmit_bytes[d]);
			jsonw_name_len(w, k_rst[d], strlen(k_rst[d]));
			jsonw_u64(w, x->resets[d]);
		}
		put_sampled(c);
		for (int d = 0; r->elapsed > 0 && d < 2; d++) {
			jsonw_name_len(w, k_pps[d], strlen(k_pps[d]));
			jsonw_double(w, x->pps[d], 3);
			jsonw_name_len(w, k_bps[d], strlen(k_bps[d]));
			jsonw_double(w, x->bps[d], 3);
		}
		/* plain "pps"/"bps" on every interface (nbdpath(8), JSON):
		 * both directions together, beside the per-direction split
		 */
		if (r->elapsed > 0) {
			jsonw_double_field(w, "pps", x->pps_all, 3);
			jsonw_double_field(w, "bps", x->bps_all, 3);
		}
		jsonw_name(w, "server_ips");
		jsonw_start_array(w);
		for (size_t j = 0; j < x->n_ips; j++)
			jsonw_ip(w, &x->ips[j]);
		jsonw_end_array(w);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
}

/* A writer onto f for one line; false (and nothing written) without memory. */
static bool ctx_open(struct ctx *c, FILE *f, const struct np_report *r)
{
	c->r = r;
	c->rates = r->elapsed > 0;
	c->marks = NULL;
	c->w = jsonw_new(f);
	return c->w != NULL;
}

static void ctx_close(struct ctx *c, FILE *f)
{
	jsonw_newline(c->w);
	jsonw_destroy(c->w);
	fflush(f);
}

void np_report_json_flow(FILE *f, const struct np_report *r,
			 const struct np_rflow *fl)
{
	struct ctx c;

	if (!ctx_open(&c, f, r))
		return;
	put_flow(&c, fl);
	ctx_close(&c, f);
}

void np_report_json_kept(FILE *f, const struct np_report *r,
			 const struct np_fin_kept *k)
{
	struct ctx c;

	if (!ctx_open(&c, f, r))
		return;
	put_kept(&c, k);
	ctx_close(&c, f);
}

struct np_fin_kept *np_report_json_keep(struct jsonw *w,
					const struct np_report *r,
					const struct np_rflow *fl)
{
	__u32 m[2][2] = {};
	struct ctx c = { .w = w, .r = r, .rates = true, .marks = m };
	struct np_fin_kept *k;
	const char *s;
	size_t len, n;

	jsonw_mem_reset(w);
	put_flow(&c, fl);
	s = jsonw_mem(w, &len);
	n = m[0][1] - m[0][0];
	/* the rates of a kept record are 0, always the same bytes */
	if (!s || n > sizeof(zero_rates) || m[1][1] - m[1][0] != n ||
	    memcmp(s + m[0][0], s + m[1][0], n) ||
	    (zero_rates_len && (n != zero_rates_len ||
				memcmp(s + m[0][0], zero_rates, n))))
		return NULL;
	if (!zero_rates_len) {
		memcpy(zero_rates, s + m[0][0], n);
		zero_rates_len = n;
	}
	k = calloc(1, sizeof(*k) + len - 2 * n);
	if (!k)
		return NULL;
	memcpy(k->json, s, m[0][0]);
	memcpy(k->json + m[0][0], s + m[0][1], m[1][0] - m[0][1]);
	memcpy(k->json + m[1][0] - n, s + m[1][1], len - m[1][1]);
	k->rates[0] = m[0][0];
	k->rates[1] = m[1][0] - n;
	k->len = len - 2 * n;
	return k;
}

void np_report_json(FILE *f, const struct np_report *r, unsigned int views)
{
	struct ctx c;

	if (!ctx_open(&c, f, r))
		return;
	jsonw_start_object(c.w);
	jsonw_u64_field(c.w, "version", 1);
	put_source(&c);
	jsonw_name(c.w, "time");
	jsonw_ns(c.w, r->time_ns);
	put_sampled(&c);
	if (r->elapsed > 0)
		jsonw_double_field(c.w, "interval", r->elapsed, 3);
	if (views & NP_VIEW_STATS)
		put_stats(&c);
	if (views & NP_VIEW_HOSTS)
		put_hosts(&c);
	if (views & NP_VIEW_FLOWS)
		put_flows(&c);
	if (views & NP_VIEW_IFACES)
		put_ifaces(&c);
	jsonw_end_object(c.w);
	ctx_close(&c, f);
}
