// SPDX-License-Identifier: GPL-2.0
/*
 * The report as Prometheus text exposition (nbdpath(8), METRICS): base
 * units, _total counters, and labels that never collide with the target
 * labels a scrape adds (no host, instance or job).
 */
#include <string.h>

#include "report_model.h"

#ifndef NP_VERSION
#define NP_VERSION	"0.1.0"
#endif

static const char *const dir_names[2] = { "to_server", "from_server" };

static void label(FILE *f, const char *k, const char *v, bool first)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", k);
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('"', f);
}

static void head(FILE *f, const char *name, const char *type,
		 const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* {server_ip="..",mac="..",vmk="..",direction=".."}: vmk only when known */
static void mac_labels(FILE *f, const struct np_ip *ip, const struct np_rmac *m,
		       int dir)
{
	char a[46], mac[18];

	fputc('{', f);
	if (ip) {
		np_fmt_ip(a, ip);
		label(f, "server_ip", a, true);
	}
	np_fmt_mac(mac, m->mac);
	label(f, "mac", m->other ? "other" : mac, !ip);
	if (m->name)
		label(f, "vmk", m->name, false);
	label(f, "direction", dir_names[dir], false);
	fputc('}', f);
}

static void put_counters(FILE *f, const struct np_report *r)
{
	static const struct {
		const char *metric, *label, *help;
		int first, last;
	} groups[] = {
		{ "nbdpath_frames_total", "outcome",
		  "Frames the XDP program classified, by outcome; the outcomes sum to outcome=\"packets\".",
		  NP_STAT_PACKETS, NP_OUTCOME_LAST },
		{ "nbdpath_feature_frames_total", "feature",
		  "Frames that carried a feature (one frame may count in several).",
		  NP_STAT_VLAN, NP_STAT_IPV6 },
	};

	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		head(f, groups[g].metric, "counter", groups[g].help);
		for (int i = groups[g].first; i <= groups[g].last; i++)
			fprintf(f, "%s{%s=\"%s\"} %llu\n", groups[g].metric,
				groups[g].label, np_stat_names[i],
				(unsigned long long)r->stats[i]);
	}
	head(f, "nbdpath_flow_table_full_total", "counter",
	     "Matched frames that found no free slot in the flow table: in no flow, host or interface count.");
	fprintf(f, "nbdpath_flow_table_full_total %llu\n",
		(unsigned long long)r->stats[NP_STAT_TABLE_FULL]);
	head(f, "nbdpath_flow_slots_reclaimed_total", "counter",
	     "Flow table slots the XDP program reused after their flow went idle or closed.");
	fprintf(f, "nbdpath_flow_slots_reclaimed_total %llu\n",
		(unsigned long long)r->stats[NP_STAT_RECLAIMED]);
	head(f, "nbdpath_neighbour_frames_total", "counter",
	     "ARP and neighbour advertisement frames that taught the owner IP of a MAC.");
	fprintf(f, "nbdpath_neighbour_frames_total %llu\n",
		(unsigned long long)r->stats[NP_STAT_NEIGH]);
}

static void put_sensor(FILE *f, const struct np_report *r)
{
	char ifaces[NP_MAX_IFACES * 17] = "", rate[24];
	size_t n = 0;

	for (int i = 0; r->o.ifaces && i < r->o.n_ifaces; i++)
		n += snprintf(ifaces + n, sizeof(ifaces) - n, "%s%s",
			      i ? "," : "", r->o.ifaces[i]);
	snprintf(rate, sizeof(rate), "%llu", (unsigned long long)r->sample);
	head(f, "nbdpath_info", "gauge",
	     "The sensor: nbdpath version, BPF layout, mirror NICs, XDP mode and sample rate; always 1.");
	fputs("nbdpath_info{", f);
	label(f, "version", NP_VERSION, true);
	fprintf(f, ",layout=\"%d\"", NP_LAYOUT_VERSION);
	label(f, "ifaces", ifaces, false);
	label(f, "xdp_mode", r->o.xdp_mode ? r->o.xdp_mode : "", false);
	label(f, "sample_rate", rate, false);
	fputs("} 1\n", f);
	head(f, "nbdpath_last_poll_timestamp_seconds", "gauge",
	     "Unix time of the maps' last read.");
	fprintf(f, "nbdpath_last_poll_timestamp_seconds %.3f\n",
		r->time_ns / 1e9);
	if (r->o.poll_interval > 0) {
		head(f, "nbdpath_poll_interval_seconds", "gauge",
		     "How often the sensor reads its maps (--interval).");
		fprintf(f, "nbdpath_poll_interval_seconds %g\n",
			r->o.poll_interval);
	}
	head(f, "nbdpath_sample_rate", "gauge",
	     "Counts are multiplied by this (--sample-rate; 1: every packet).");
	fprintf(f, "nbdpath_sample_rate %llu\n", (unsigned long long)r->sample);
	if (r->o.table_slots) {
		head(f, "nbdpath_flow_table_slots", "gauge",
		     "Slots of the kernel's flow table, over every CPU.");
		fprintf(f, "nbdpath_flow_table_slots %llu\n",
			(unsigned long long)r->o.table_slots);
		head(f, "nbdpath_flow_table_used", "gauge",
		     "Slots of the kernel's flow table in use.");
		fprintf(f, "nbdpath_flow_table_used %llu\n",
			(unsigned long long)r->o.table_used);
	}
	head(f, "nbdpath_flows", "gauge",
	     "Flows in the report: active, or finished and kept (--keep-finished).");
	fprintf(f, "nbdpath_flows{state=\"active\"} %zu\n", r->n_active);
	fprintf(f, "nbdpath_flows{state=\"finished\"} %zu\n",
		r->n_listed - r->n_active);
	head(f, "nbdpath_flows_evicted_total", "counter",
	     "Flows gone from the report's list; their counts stay in the host and interface totals.");
	fprintf(f, "nbdpath_flows_evicted_total %llu\n",
		(unsigned long long)r->n_evicted);
	head(f, "nbdpath_flows_dropped_total", "counter",
	     "Finished flows' records dropped by the memory bound before --keep-finished ran out.");
	fprintf(f, "nbdpath_flows_dropped_total %llu\n",
		(unsigned long long)r->n_dropped);
}

/* TCP health (nbdpath(8), TCP HEALTH, METRICS) */
static void put_health(FILE *f, const struct np_report *r)
{
	static const struct {
		const char *name, *help;
	} per_mac[3] = {
		{ "nbdpath_server_retransmits_total",
		  "Retransmitted TCP segments (sequence space already seen in that direction) of an ESXi host's flows, under the server-side MAC that carried most of each flow direction." },
		{ "nbdpath_server_retransmit_bytes_total",
		  "Payload bytes of those retransmitted segments." },
		{ "nbdpath_server_resets_total",
		  "TCP RST segments of an ESXi host's flows, by direction, under the server-side MAC that carried most of each flow direction." },
	};
	static const char *const q[3] = { "0", "0.5", "1" };
	static const char *const sides[2] = { "server", "client" };
	char ip[46];

	for (int k = 0; k < 3; k++) {
		head(f, per_mac[k].name, "counter", per_mac[k].help);
		for (size_t i = 0; i < r->n_hosts; i++)
			for (int d = 0; d < 2; d++)
				for (size_t j = 0; j < r->hosts[i].n[d]; j++) {
					const struct np_rmac *m =
						&r->hosts[i].dir[d][j];
					__u64 v = k == 0 ? m->retransmits :
						  k == 1 ? m->retransmit_bytes :
							   m->resets;

					fputs(per_mac[k].name, f);
					mac_labels(f, &r->hosts[i].ip, m, d);
					fprintf(f, " %llu\n",
						(unsigned long long)v);
				}
	}
	head(f, "nbdpath_host_handshakes_total", "counter",
	     "TCP handshakes of an ESXi host's flows (expired ones included) by state: established, no_synack, no_ack, unseen.");
	for (size_t i = 0; i < r->n_hosts; i++) {
		if (r->hosts[i].overflow)
			continue;
		np_fmt_ip(ip, &r->hosts[i].ip);
		for (int s = 0; s < NP_HS_MAX; s++) {
			fputs("nbdpath_host_handshakes_total{", f);
			label(f, "server_ip", ip, true);
			label(f, "state", np_hs_state_name(s), false);
			fprintf(f, "} %llu\n",
				(unsigned long long)r->hosts[i].hs[s]);
		}
	}
	head(f, "nbdpath_host_handshake_rtt_seconds", "gauge",
	     "Handshake RTT as seen at the mirror over the window: side server is SYN to SYN-ACK, side client SYN-ACK to the client's ACK; quantile 0, 0.5 and 1 are the minimum, median and maximum. Absent without a handshake in the window.");
	for (size_t i = 0; i < r->n_hosts; i++) {
		const struct np_rhost *h = &r->hosts[i];

		if (h->overflow)
			continue;
		np_fmt_ip(ip, &h->ip);
		for (int sd = 0; sd < 2; sd++)
			for (int k = 0; h->n_rtt[sd] && k < 3; k++) {
				fputs("nbdpath_host_handshake_rtt_seconds{", f);
				label(f, "server_ip", ip, true);
				label(f, "side", sides[sd], false);
				label(f, "quantile", q[k], false);
				fprintf(f, "} %.6f\n", h->rtt[sd][k]);
			}
	}
}

static void put_hosts(FILE *f, const struct np_report *r)
{
	char ip[46];

	head(f, "nbdpath_host_verdict", "gauge",
	     "The host's verdict over everything since the start, as a label; always 1.");
	for (size_t i = 0; i < r->n_hosts; i++) {
		if (r->hosts[i].overflow)
			continue;
		np_fmt_ip(ip, &r->hosts[i].ip);
		fputs("nbdpath_host_verdict{", f);
		label(f, "server_ip", ip, true);
		label(f, "verdict", np_verdict_name(r->hosts[i].verdict), false);
		fputs("} 1\n", f);
	}
	head(f, "nbdpath_host_current_verdict", "gauge",
	     "The host's verdict over the last --window seconds, as a label; always 1; absent while the host is idle.");
	for (size_t i = 0; i < r->n_hosts; i++) {
		const struct np_rhost *h = &r->hosts[i];

		if (!h->has_current || h->cur.verdict == NP_V_IDLE)
			continue;
		np_fmt_ip(ip, &h->ip);
		fputs("nbdpath_host_current_verdict{", f);
		label(f, "server_ip", ip, true);
		label(f, "verdict", np_verdict_name(h->cur.verdict), false);
		fputs("} 1\n", f);
	}
	head(f, "nbdpath_host_asymmetric", "gauge",
	     "1 while the host receives requests on one interface and sends the data out of another (over the last --window seconds), else 0.");
	for (size_t i = 0; i < r->n_hosts; i++) {
		const struct np_rhost *h = &r->hosts[i];

		if (h->overflow)
			continue;
		np_fmt_ip(ip, &h->ip);
		fputs("nbdpath_host_asymmetric{", f);
		label(f, "server_ip", ip, true);
		fprintf(f, "} %d\n", h->has_current ?
			h->cur.verdict == NP_V_ASYMMETRIC :
			h->verdict == NP_V_ASYMMETRIC);
	}
	for (int bytes = 0; bytes < 2; bytes++) {
		const char *name = bytes ? "nbdpath_server_bytes_total" :
					   "nbdpath_server_packets_total";

		head(f, name, "counter", bytes ?
		     "IP bytes an ESXi host received (to_server) or sent (from_server) through one server-side MAC, on monitored ports." :
		     "Frames an ESXi host received (to_server) or sent (from_server) through one server-side MAC, on monitored ports.");
		for (size_t i = 0; i < r->n_hosts; i++)
			for (int d = 0; d < 2; d++)
				for (size_t j = 0; j < r->hosts[i].n[d]; j++) {
					const struct np_rmac *m =
						&r->hosts[i].dir[d][j];

					fputs(name, f);
					mac_labels(f, &r->hosts[i].ip, m, d);
					fprintf(f, " %llu\n", (unsigned long long)
						(bytes ? m->bytes : m->packets));
				}
	}
	put_health(f, r);
	head(f, "nbdpath_host_current_mac_bytes", "gauge",
	     "IP bytes through one server-side MAC over the last --window seconds; only MACs active in the window.");
	for (size_t i = 0; i < r->n_hosts; i++) {
		const struct np_rhost *h = &r->hosts[i];

		for (int d = 0; h->has_current && d < 2; d++)
			for (size_t j = 0; j < h->cur.n[d]; j++) {
				fputs("nbdpath_host_current_mac_bytes", f);
				mac_labels(f, &h->ip, &h->cur.dir[d][j], d);
				fprintf(f, " %llu\n", (unsigned long long)
					h->cur.dir[d][j].bytes);
			}
	}
}

static void put_ifaces(FILE *f, const struct np_report *r)
{
	for (int bytes = 0; bytes < 2; bytes++) {
		const char *name = bytes ? "nbdpath_interface_bytes_total" :
					   "nbdpath_interface_packets_total";

		head(f, name, "counter", bytes ?
		     "IP bytes a server-side MAC received (to_server) or sent (from_server), over every ESXi host." :
		     "Frames a server-side MAC received (to_server) or sent (from_server), over every ESXi host.");
		for (size_t i = 0; i < r->n_ifaces; i++) {
			const struct np_riface *x = &r->ifaces[i];
			struct np_rmac m = { .name = x->name };

			memcpy(m.mac, x->mac, 6);
			for (int d = 0; d < 2; d++) {
				fputs(name, f);
				mac_labels(f, NULL, &m, d);
				fprintf(f, " %llu\n", (unsigned long long)
					(bytes ? x->bytes[d] : x->packets[d]));
			}
		}
	}
}

void np_report_prom(FILE *f, const struct np_report *r)
{
	put_sensor(f, r);
	put_counters(f, r);
	put_hosts(f, r);
	put_ifaces(f, r);
}
