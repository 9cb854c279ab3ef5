// SPDX-License-Identifier: GPL-2.0
/* Flows to IPFIX records, with delta counts (see export.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "keyidx.h"
#include "log.h"
#include "vec.h"

/* What one flow has been exported with so far, by server-side MAC. */
struct sent {
	struct np_flow_key key;		/* first: the index's records */
	__s64	first_ns;		/* the flow's, telling reused keys apart */
	__s64	last_export_ns;		/* unix */
	struct {
		__u8	mac[6];
		bool	used;
		__u64	packets, bytes;
	} m[2][NP_DIR_MACS + 1];	/* the last: MACs past the set */
	bool	done;			/* exported finished: never again */
	bool	seen;			/* listed in this report */
};

struct np_export {
	struct np_ipfix *x;
	__s64	active_ns;
	struct np_vec sent;		/* struct sent */
	struct np_keyidx idx;
	/* reclaimed flows: the list's bound cannot drop them */
	struct np_vec pending;		/* struct np_reclaimed */
	bool	warned_mem;
};

int np_export_open(struct np_export **out, const char *host_port,
		   double active_timeout, __u32 domain, bool replay)
{
	struct np_export *e = calloc(1, sizeof(*e));
	int err;

	if (!e)
		return -ENOMEM;
	err = np_ipfix_open(&e->x, host_port, domain);
	if (err) {
		free(e);
		return err;
	}
	/* a capture is exported as fast as the collector takes it, all */
	if (replay)
		np_ipfix_set_rate(e->x, NP_IPFIX_RATE, true);
	e->active_ns = active_timeout * 1e9;
	e->sent.sz = sizeof(struct sent);
	e->pending.sz = sizeof(struct np_reclaimed);
	*out = e;
	return 0;
}

static struct np_keyent *conn_slot(const struct np_export *e,
				   const struct np_flow_key *k, __s64 first_ns)
{
	return np_keyidx_find_conn(&e->idx, e->sent.v, e->sent.sz, k, first_ns,
				   offsetof(struct sent, first_ns));
}

static struct sent *find(struct np_export *e, const struct np_rflow *f)
{
	struct np_keyent *k;

	if (!e->idx.slot)
		return NULL;
	k = conn_slot(e, &f->rec.key, f->first_ns);
	return k->idx ? (struct sent *)e->sent.v + k->idx - 1 : NULL;
}

static __u8 end_reason(const struct np_rflow *f, bool last)
{
	switch (f->state) {
	case NP_FS_CLOSED:
		return NP_IPFIX_END_FIN;
	case NP_FS_RESET:
		return NP_IPFIX_END_RST;
	case NP_FS_IDLE:
		return NP_IPFIX_END_IDLE;
	default:
		return last ? NP_IPFIX_END_CAPTURE : NP_IPFIX_END_ACTIVE;
	}
}

/* The slot of a server-side MAC (NULL: past the set) in s's direction. */
static int slot_of(struct sent *s, int dir, const __u8 *mac)
{
	int i;

	if (!mac)
		return NP_DIR_MACS;
	for (i = 0; i < NP_DIR_MACS; i++)
		if (s->m[dir][i].used && !memcmp(s->m[dir][i].mac, mac, 6))
			return i;
	for (i = 0; i < NP_DIR_MACS; i++)
		if (!s->m[dir][i].used) {
			s->m[dir][i].used = true;
			memcpy(s->m[dir][i].mac, mac, 6);
			return i;
		}
	return NP_DIR_MACS;
}

/* One record of direction dir through mac: the counts not yet exported. */
static void add(struct np_export *e, const struct np_report *r,
		const struct np_rflow *f, struct sent *s, int dir,
		const __u8 *mac, __u64 packets, __u64 bytes, __u8 reason)
{
	static const __u8 none[6];
	const struct np_dir *d = &f->rec.dir[dir];
	const struct np_rdir *x = &f->dir[dir];
	struct np_ipfix_rec rec = {};
	int i = slot_of(s, dir, mac);

	packets *= r->sample;
	bytes *= r->sample;
	if (packets <= s->m[dir][i].packets)
		return;		/* nothing new through this MAC */
	rec.packets = packets - s->m[dir][i].packets;
	rec.bytes = bytes - s->m[dir][i].bytes;
	s->m[dir][i].packets = packets;
	s->m[dir][i].bytes = bytes;

	memcpy(rec.server_ip, f->rec.key.server_ip, 16);
	memcpy(rec.client_ip, f->rec.key.client_ip, 16);
	rec.v6 = !!f->rec.key.v6;
	rec.server_port = ntohs(f->rec.key.server_port);
	rec.client_port = ntohs(f->rec.key.client_port);
	rec.dir = dir == NP_DIR_TO_SERVER ? NP_IPFIX_TO_SERVER :
					    NP_IPFIX_FROM_SERVER;
	memcpy(rec.mac, mac ? mac : none, 6);
	memcpy(rec.src_mac, d->src_mac, 6);
	memcpy(rec.dst_mac, d->dst_mac, 6);
	rec.start_ms = np_report_unix(&r->o, d->first_ns) / 1000000;
	rec.end_ms = np_report_unix(&r->o, d->last_ns) / 1000000;
	rec.vlan = x->n_vlans ? x->vlans[0] : 0;
	rec.ingress_ifindex = d->ifindex;
	rec.ifname = x->mirror;
	rec.vmk = mac ? np_report_mac_name(r, mac) : NULL;
	/* the enums of ipfix.h keep the report's numbers */
	rec.verdict = f->verdict <= NP_V_FROM_SERVER_ONLY ? f->verdict : 0;
	rec.state = f->state;
	rec.end_reason = reason;
	rec.handshake_state = NP_IPFIX_HS_UNSEEN;
	np_ipfix_add(e->x, &rec);
}

static void export_flow(struct np_export *e, const struct np_report *r,
			const struct np_rflow *f, struct sent *s, bool last)
{
	__u8 reason = end_reason(f, last);

	for (int dir = 0; dir < 2; dir++) {
		const struct np_dir *d = &f->rec.dir[dir];

		for (int i = 0; i < d->n_macs && i < NP_DIR_MACS; i++)
			if (d->macs[i].packets)
				add(e, r, f, s, dir, d->macs[i].mac,
				    d->macs[i].packets, d->macs[i].bytes,
				    reason);
		if (d->other_packets)
			add(e, r, f, s, dir, NULL, d->other_packets,
			    d->other_bytes, reason);
	}
	s->last_export_ns = r->time_ns;
	s->done = f->state != NP_FS_ACTIVE;
}

void np_export_retired(struct np_export *e, const struct np_flow_rec *rec,
		       enum np_flow_state st)
{
	if (!e || !np_reclaimed_add(&e->pending, rec, st))
		return;
	if (!e->warned_mem)
		np_warn("--ipfix: out of memory: finished flows go unexported");
	e->warned_mem = true;
}

void np_export_report(struct np_export *e, struct np_report *r, bool last)
{
	struct np_vec keep = { .sz = sizeof(struct sent) };

	/* the table's flows; the reclaimed ones are the pending records */
	for (size_t i = 0; i < r->n_table; i++) {
		const struct np_rflow *f = &r->flows[i];
		struct sent *s = find(e, f), *k;

		if (!f->listed)
			continue;
		k = np_vec_add(&keep);
		if (!k)
			break;		/* short of memory: exported next time */
		if (s) {
			*k = *s;
		} else {
			k->key = f->rec.key;
			k->first_ns = f->first_ns;
			k->last_export_ns = f->first_ns;
		}
		if (k->done)
			continue;
		if (f->state != NP_FS_ACTIVE || last ||
		    r->time_ns - k->last_export_ns >= e->active_ns)
			export_flow(e, r, f, k, last);
	}
	/*
	 * The flows reclaimed since the last report, ended: each once, with
	 * the counts an --active-timeout export has not sent yet, unless the
	 * table's flows had it exported finished already
	 */
	for (size_t i = 0; i < e->pending.n; i++) {
		const struct np_reclaimed *p =
			(const struct np_reclaimed *)e->pending.v + i;
		struct np_rflow f;
		struct sent *s, k = {};

		np_report_kept_flow(r, &p->rec, p->state, &f);
		s = find(e, &f);
		if (s) {
			k = *s;
		} else {
			k.key = f.rec.key;
			k.first_ns = f.first_ns;
		}
		if (!k.done)
			export_flow(e, r, &f, &k, last);
	}
	np_vec_free(&e->pending);
	/* what is remembered: this report's flows, nothing gone from it */
	np_vec_free(&e->sent);
	e->sent = keep;
	if (!np_keyidx_init(&e->idx, e->sent.n))
		for (size_t i = 0; i < e->sent.n; i++) {
			struct sent *s = (struct sent *)e->sent.v + i;

			conn_slot(e, &s->key, s->first_ns)->idx = i + 1;
		}
	np_ipfix_flush(e->x);
	np_ipfix_warn_loss(e->x);
}

int np_export_timeout_ms(struct np_export *e)
{
	return e ? np_ipfix_timeout_ms(e->x) : -1;
}

void np_export_flush(struct np_export *e)
{
	if (e)
		np_ipfix_flush(e->x);
}

void np_export_close(struct np_export *e)
{
	if (!e)
		return;
	np_ipfix_close(e->x);
	np_vec_free(&e->sent);
	np_vec_free(&e->pending);
	np_keyidx_free(&e->idx);
	free(e);
}
