// SPDX-License-Identifier: GPL-2.0
/*
 * Building the report model from the maps (see report_model.h): the
 * verdicts (nbdpath(8), VERDICTS), per-host and per-interface totals,
 * the flows list with its states, names, scaling and rates. Nothing here
 * prints.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "finished.h"
#include "flowsort.h"
#include "history.h"
#include "json_writer.h"
#include "log.h"
#include "report_model.h"
#include "vec.h"

const char *np_source_name(enum np_source s)
{
	switch (s) {
	case NP_SRC_RUN:
		return "run";
	case NP_SRC_REPLAY:
		return "replay";
	default:
		return "query";
	}
}

const char *np_flow_state_name(enum np_flow_state s)
{
	static const char *const names[] = {
		[NP_FS_ACTIVE]	= "active",
		[NP_FS_CLOSED]	= "closed",
		[NP_FS_RESET]	= "reset",
		[NP_FS_IDLE]	= "idle",
	};

	return (unsigned int)s < 4 ? names[s] : "active";
}

__s64 np_report_unix(const struct np_report_opts *o, __u64 ns)
{
	/* wrapping, not overflowing: a forged np_meta offset stays a
	 * number, never undefined behaviour
	 */
	return (__s64)(ns + (__u64)o->clock_to_unix_ns);
}

const char *np_hs_state_name(enum np_hs_state s)
{
	static const char *const names[NP_HS_MAX] = {
		[NP_HS_ESTABLISHED]	= "established",
		[NP_HS_NO_SYNACK]	= "no_synack",
		[NP_HS_NO_ACK]		= "no_ack",
		[NP_HS_UNSEEN]		= "unseen",
	};

	return (unsigned int)s < NP_HS_MAX ? names[s] : "unseen";
}

/* ---- verdicts ---- */

/* The entry for mac (or the "other" bucket) in a sorted per-MAC list. */
static struct np_rmac *find_mac(struct np_rmac *v, size_t n, const __u8 *mac,
				bool other)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].other == other && (other || !memcmp(v[i].mac, mac, 6)))
			return &v[i];
	return NULL;
}

static enum np_verdict verdict_of(bool rx, bool tx, bool same)
{
	if (rx && tx)
		return same ? NP_V_SYMMETRIC : NP_V_ASYMMETRIC;
	if (rx)
		return NP_V_TO_SERVER_ONLY;
	if (tx)
		return NP_V_FROM_SERVER_ONLY;
	return NP_V_NONE;
}

static bool dir_has_mac(const struct np_dir *d, const __u8 mac[6])
{
	for (int i = 0; i < d->n_macs && i < NP_DIR_MACS; i++)
		if (d->macs[i].packets && !memcmp(d->macs[i].mac, mac, 6))
			return true;
	return false;
}

static bool dir_overflow(const struct np_dir *d)
{
	return (d->flags & NP_DIRF_MACS_OVERFLOW) || d->other_packets;
}

/* Every MAC of a in b: with no overflow on either side, both ways = same. */
static bool dir_macs_in(const struct np_dir *a, const struct np_dir *b)
{
	for (int i = 0; i < a->n_macs && i < NP_DIR_MACS; i++)
		if (a->macs[i].packets && !dir_has_mac(b, a->macs[i].mac))
			return false;
	return true;
}

static enum np_verdict flow_verdict(const struct np_flow_rec *f)
{
	const struct np_dir *a = &f->dir[NP_DIR_TO_SERVER];
	const struct np_dir *b = &f->dir[NP_DIR_FROM_SERVER];
	/* MACs past the set are unknown: they cannot be shown equal */
	bool same = !dir_overflow(a) && !dir_overflow(b) &&
		    dir_macs_in(a, b) && dir_macs_in(b, a);

	return verdict_of(np_dir_packets(a) > 0, np_dir_packets(b) > 0, same);
}

enum np_verdict np_lists_verdict(struct np_rmac *const dir[2],
				 const size_t n[2])
{
	bool same = n[0] == n[1];
	__u64 p[2] = {};

	for (int d = 0; d < 2; d++)
		for (size_t i = 0; i < n[d]; i++) {
			p[d] += dir[d][i].packets;
			if (dir[d][i].other)
				same = false;
		}
	for (size_t i = 0; same && i < n[0]; i++)
		if (memcmp(dir[0][i].mac, dir[1][i].mac, 6))
			same = false;
	return verdict_of(p[0] > 0, p[1] > 0, same);
}


typedef int (*map_fn)(const void *key, const void *val, void *ctx);

/*
 * Every entry of a hash map. An entry deleted between the key walk and
 * the look-up (an LRU eviction) is skipped. When the cursor key itself
 * vanishes the kernel restarts the walk at the first key: harmless here,
 * as names and owners are only looked up by MAC (a duplicate changes
 * nothing), and np_retired is never deleted from, so its walk never
 * restarts and nothing is counted twice.
 */
static int map_each(int fd, size_t ksz, size_t vsz, map_fn fn, void *ctx)
{
	char key[64], next[64], val[256];
	bool first = true;
	int err;

	if (ksz > sizeof(key) || vsz > sizeof(val))
		return -EINVAL;
	/* bounded: an LRU map evicting under a slow walk could otherwise
	 * send it back to the start again and again
	 */
	for (long n = 0; n < (1L << 22); n++) {
		if (bpf_map_get_next_key(fd, first ? NULL : key, next)) {
			if (errno == ENOENT)
				return 0;
			return -errno;
		}
		first = false;
		memcpy(key, next, ksz);
		if (bpf_map_lookup_elem(fd, key, val)) {
			if (errno == ENOENT)
				continue;
			return -errno;
		}
		err = fn(key, val, ctx);
		if (err)
			return err;
	}
	return 0;
}


static int cmp_mac6(const void *a, const void *b)
{
	return memcmp(a, b, 6);
}

static int add_name(const void *key, const void *val, void *ctx)
{
	const struct np_neigh_key *k = key;
	const struct np_name *v = val;
	struct np_mac_name *n = np_vec_add(ctx);

	if (!n)
		return -ENOMEM;
	memcpy(n->mac, k->mac, 6);
	memcpy(n->name, v->name, sizeof(n->name));
	n->name[sizeof(n->name) - 1] = 0;
	return 0;
}

static int add_owner(const void *key, const void *val, void *ctx)
{
	const struct np_neigh_key *k = key;
	const struct np_neigh *v = val;
	struct np_mac_owner *o;

	if (k->family != NP_NEIGH_IPV4 && k->family != NP_NEIGH_IPV6)
		return 0;
	o = np_vec_add(ctx);
	if (!o)
		return -ENOMEM;
	memcpy(o->mac, k->mac, 6);
	o->family = k->family;
	np_ip_set(&o->ip, v->ip, k->family == NP_NEIGH_IPV6);
	return 0;
}

/* by MAC, then family: the MAC and family are the first 7 bytes */
static int cmp_owner(const void *a, const void *b)
{
	return memcmp(a, b, 7);
}


/*
 * A claim to a host's address by a MAC the host never receives requests
 * on, while it does on another: the seed's host, sending from vmk0's
 * address out of vmk4, asks "tell 10.0.0.10" from vmk4's MAC, and a
 * Linux host (arp_ignore=0) even answers for it there. The address is
 * vmk0's, not vmk4's.
 */
static bool owner_credible(const struct np_report *r,
			   const struct np_mac_owner *o)
{
	const struct np_rhost *h = np_report_find_host(r, &o->ip);

	if (!h || !h->n[NP_DIR_TO_SERVER])
		return true;
	return find_mac(h->dir[NP_DIR_TO_SERVER], h->n[NP_DIR_TO_SERVER],
			o->mac, false) != NULL;
}

static const struct np_mac_owner *owner_of(const struct np_report *r,
					   const __u8 mac[6], __u8 family)
{
	const struct np_mac_owner *o;
	__u8 k[7];

	memcpy(k, mac, 6);
	k[6] = family;
	o = bsearch(k, r->owners, r->n_owners, sizeof(*o), cmp_owner);
	return o && owner_credible(r, o) ? o : NULL;
}


/* ---- hosts and interfaces: one record per (IP, MAC, direction) ---- */

/*
 * Counts of one (server IP, server MAC, direction), summed over flows
 * and the retired map. The bytes before packets are the key (padding
 * included: every key is built zeroed).
 */
struct contrib {
	struct np_ip ip;
	__u8	mac[6];
	__u8	dir;
	__u8	other;
	__u64	packets;
	__u64	bytes;
	/* retransmits, their bytes, resets, handshakes by np_hs_state */
	__u64	health[3 + NP_HS_MAX];
};

#define CONTRIB_KEY	offsetof(struct contrib, packets)

/*
 * Every flow adds to a handful of these: summing them in a hash as they
 * come keeps the sorts below to one entry per (IP, MAC, direction), not
 * one per flow.
 */
struct contribs {
	struct np_vec c;
	__u32	*idx;			/* index into c + 1; 0: empty */
	size_t	mask;
	size_t	last[2];		/* per direction, the last one + 1 */
};

static size_t contrib_hash(const struct contrib *x)
{
	__u64 w[3], h;

	memcpy(w, x, sizeof(w));
	h = (w[0] ^ w[2] * 0x9e3779b97f4a7c15ull) * 0xff51afd7ed558ccdull;
	h = (h ^ (h >> 29) ^ w[1]) * 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 32);
}

static __u32 *contrib_slot(__u32 *idx, size_t mask, const struct contrib *v,
			   const struct contrib *x)
{
	size_t i = contrib_hash(x) & mask;

	while (idx[i] && memcmp(&v[idx[i] - 1], x, CONTRIB_KEY))
		i = (i + 1) & mask;
	return &idx[i];
}

static int contribs_grow(struct contribs *a)
{
	size_t n = a->mask ? (a->mask + 1) * 2 : 256;
	const struct contrib *v = a->c.v;
	__u32 *idx = calloc(n, sizeof(*idx));

	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < a->c.n; i++)
		*contrib_slot(idx, n - 1, v, &v[i]) = i + 1;
	free(a->idx);
	a->idx = idx;
	a->mask = n - 1;
	return 0;
}

static int contrib_add(struct contribs *a, const struct np_ip *ip,
		       const __u8 *mac, int dir, __u64 packets, __u64 bytes,
		       const __u64 *health)
{
	struct contrib k, *x;
	__u32 *e;

	memset(&k, 0, sizeof(k));
	k.ip = *ip;
	/* the all-zero MAC is where counts past a flow's set are kept */
	if (mac)
		memcpy(k.mac, mac, 6);
	k.other = !mac;
	k.dir = dir;
	/* a host's flows come in runs: try the direction's last first */
	if (a->last[dir]) {
		x = (struct contrib *)a->c.v + a->last[dir] - 1;
		if (!memcmp(x, &k, CONTRIB_KEY))
			goto add;
	}
	if ((a->c.n + 1) * 2 > a->mask && contribs_grow(a))
		return -ENOMEM;
	e = contrib_slot(a->idx, a->mask, a->c.v, &k);
	if (*e) {
		x = (struct contrib *)a->c.v + *e - 1;
	} else {
		x = np_vec_add(&a->c);
		if (!x)
			return -ENOMEM;
		memcpy(x, &k, CONTRIB_KEY);
		*e = a->c.n;
	}
	a->last[dir] = x - (struct contrib *)a->c.v + 1;
add:
	x->packets += packets;
	x->bytes += bytes;
	for (int i = 0; health && i < 3 + NP_HS_MAX; i++)
		x->health[i] += health[i];
	return 0;
}

static int flow_contribs(struct contribs *c, const struct np_flow_rec *f)
{
	int hs_dir = np_flow_hs_dir(f);
	struct np_ip srv = np_key_server(&f->key);
	int err = 0;

	for (int d = 0; d < 2 && !err; d++) {
		const struct np_dir *x = &f->dir[d];
		__u64 health[3 + NP_HS_MAX] = { x->retransmits,
						x->retransmit_bytes,
						x->resets };
		int main = np_dir_main_mac(x);

		if (d == hs_dir)
			health[3 + np_flow_hs_state(f)] = 1;

		for (int i = 0; i < x->n_macs && i < NP_DIR_MACS && !err; i++)
			if (x->macs[i].packets)
				err = contrib_add(c, &srv,
						  x->macs[i].mac, d,
						  x->macs[i].packets,
						  x->macs[i].bytes,
						  i == main ? health : NULL);
		if (!err && dir_overflow(x))
			err = contrib_add(c, &srv, NULL, d,
					  x->other_packets, x->other_bytes,
					  main < 0 ? health : NULL);
	}
	return err;
}

static const __u8 zero16[16];
/* the overflow bucket's host, "::" */
static const struct np_ip no_ip = { .v6 = 1 };

static int add_retired(const void *key, const void *val, void *ctx)
{
	static const __u8 zero[6];
	const struct np_retired_key *k = key;
	const struct np_retired *v = val;
	struct np_ip ip;
	const __u64 health[3 + NP_HS_MAX] = {
		v->retransmits, v->retransmit_bytes, v->resets,
		v->handshakes[0], v->handshakes[1], v->handshakes[2],
		v->handshakes[3],
	};

	if (k->dir > NP_DIR_FROM_SERVER || !v->packets)
		return 0;
	/* the bucket of hosts past the map's size: host ::, no one MAC */
	if (k->overflow)
		return contrib_add(ctx, &no_ip, NULL, k->dir, v->packets,
				   v->bytes, health);
	np_ip_set(&ip, k->server_ip, k->v6);
	return contrib_add(ctx, &ip,
			   memcmp(k->mac, zero, 6) ? k->mac : NULL, k->dir,
			   v->packets, v->bytes, health);
}


/* by IP, direction, then MAC with the "other" bucket last */
static int cmp_host_order(const void *pa, const void *pb)
{
	const struct contrib *a = pa, *b = pb;
	int c = np_ip_cmp(&a->ip, &b->ip);

	if (c)
		return c;
	if (a->dir != b->dir)
		return a->dir - b->dir;
	if (a->other != b->other)
		return a->other - b->other;
	return memcmp(a->mac, b->mac, 6);
}

/* by MAC, then IP */
static int cmp_iface_order(const void *pa, const void *pb)
{
	const struct contrib *a = pa, *b = pb;
	int c;

	if (a->other != b->other)
		return a->other - b->other;
	c = memcmp(a->mac, b->mac, 6);
	return c ? c : np_ip_cmp(&a->ip, &b->ip);
}


/* A rate per second of a count as reported; a count that went down was
 * reset (a flow's slot reused): everything it holds is new.
 */
static double rate(const struct np_report *r, __u64 cur, __u64 prev)
{
	if (r->elapsed <= 0)
		return 0;
	return (double)(cur >= prev ? cur - prev : cur) / r->elapsed;
}

static int cmp_host_ip(const void *key, const void *elem)
{
	return np_ip_cmp(key, &((const struct np_rhost *)elem)->ip);
}

const struct np_rhost *np_report_find_host(const struct np_report *r,
					   const struct np_ip *ip)
{
	if (!r || !r->n_hosts)
		return NULL;
	return bsearch(ip, r->hosts, r->n_hosts, sizeof(*r->hosts),
		       cmp_host_ip);
}

static const struct np_riface *find_iface(const struct np_report *r,
					  const __u8 mac[6])
{
	if (!r || !r->n_ifaces)
		return NULL;
	return bsearch(mac, r->ifaces, r->n_ifaces, sizeof(*r->ifaces),
		       cmp_mac6);
}

static const char *name_of(const struct np_report *r, const __u8 mac[6])
{
	const struct np_mac_name *n;

	if (!r->n_names)
		return NULL;
	n = bsearch(mac, r->names, r->n_names, sizeof(*n), cmp_mac6);
	return n && n->name[0] ? n->name : NULL;
}

const char *np_report_mac_name(const struct np_report *r, const __u8 mac[6])
{
	return name_of(r, mac);
}

/*
 * The owner IP of mac in the address family of near (a server IP): a
 * host reached over IPv6, ::ffff:a.b.c.d included, by its neighbour
 * advertisements.
 */
static const struct np_ip *owner_ip(const struct np_report *r,
				    const __u8 mac[6],
				    const struct np_ip *near)
{
	const struct np_mac_owner *o;

	if (!r->n_owners)
		return NULL;
	o = owner_of(r, mac, near && !np_ip_is_v4(near) ? NP_NEIGH_IPV6 :
							  NP_NEIGH_IPV4);
	return o ? &o->ip : NULL;
}

/* The mirror NIC of an ifindex: the run's own by the names it was
 * given (a query may sit in another network namespace, where the
 * ifindex names another), else the kernel's name now.
 */
static const char *mirror_name(struct np_report *r, __u32 ifindex)
{
	const struct np_report_opts *o = &r->o;
	int i;

	for (i = 0; o->ifindexes && o->ifaces && i < o->n_ifaces; i++)
		if (o->ifindexes[i] == ifindex)
			return o->ifaces[i];
	for (i = 0; i < r->n_nics; i++)
		if (r->nics[i].ifindex == ifindex)
			return r->nics[i].ok ? r->nics[i].name : NULL;
	if (r->n_nics == (int)(sizeof(r->nics) / sizeof(r->nics[0])))
		return NULL;
	i = r->n_nics++;
	r->nics[i].ifindex = ifindex;
	r->nics[i].ok = if_indextoname(ifindex, r->nics[i].name) != NULL;
	return r->nics[i].ok ? r->nics[i].name : NULL;
}

/* ---- hosts and interfaces ---- */

/* n unanswered SYN-ACKs (unscaled) of host h by mac */
static void add_failed(struct np_report *r, struct np_rhost *h,
		       const __u8 *mac, __u64 n)
{
	size_t i;

	for (i = 0; i < h->n_failed; i++)
		if (!memcmp(h->failed[i].mac, mac, 6))
			break;
	if (i == h->n_failed) {
		if (i == NP_RFAILED_MAX) {
			h->failed_more = true;
			return;
		}
		memcpy(h->failed[i].mac, mac, 6);
		h->n_failed++;
	}
	h->failed[i].count += n * r->sample;
}

/* One host's per-MAC lists from contribs sorted by host order. */
static int build_hosts(struct np_report *r, struct contrib *c, size_t n)
{
	struct np_rhost *h = NULL;
	struct np_rmac *m = NULL;
	size_t n_rmacs = 0;

	if (n)
		qsort(c, n, sizeof(*c), cmp_host_order);
	r->hosts = calloc(n ? n : 1, sizeof(*r->hosts));
	r->rmacs = calloc(n ? n : 1, sizeof(*r->rmacs));
	if (!r->hosts || !r->rmacs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct contrib *x = &c[i];

		if (!h || np_ip_cmp(&h->ip, &x->ip)) {
			h = &r->hosts[r->n_hosts++];
			h->ip = x->ip;
			m = NULL;
		}
		if (!m || !h->n[x->dir] || m->other != x->other ||
		    memcmp(m->mac, x->mac, 6)) {
			/* sorted by host and direction: each list is
			 * contiguous in rmacs
			 */
			m = &r->rmacs[n_rmacs++];
			if (!h->n[x->dir])
				h->dir[x->dir] = m;
			h->n[x->dir]++;
			memcpy(m->mac, x->mac, 6);
			m->other = x->other;
		}
		m->packets += x->packets * r->sample;
		m->bytes += x->bytes * r->sample;
		m->retransmits += x->health[0] * r->sample;
		m->retransmit_bytes += x->health[1] * r->sample;
		m->resets += x->health[2] * r->sample;
		for (int k = 0; k < NP_HS_MAX; k++)
			h->hs[k] += x->health[3 + k] * r->sample;
		if (x->health[3 + NP_HS_NO_ACK] && !x->other)
			add_failed(r, h, x->mac, x->health[3 + NP_HS_NO_ACK]);
	}
	for (size_t i = 0; i < r->n_hosts; i++) {
		struct np_rhost *x = &r->hosts[i];

		x->overflow = !memcmp(x->ip.b, zero16, 16);
		/* the overflow bucket is many hosts: no verdict of one */
		x->verdict = x->overflow ? NP_V_NONE :
			     np_lists_verdict(x->dir, x->n);
	}
	return 0;
}

/* Names, owners and rates of the hosts' lists: after every list exists. */
static void finish_hosts(struct np_report *r, const struct np_report *prev)
{
	for (size_t i = 0; i < r->n_hosts; i++) {
		struct np_rhost *h = &r->hosts[i];
		const struct np_rhost *ph = np_report_find_host(prev, &h->ip);

		for (int d = 0; d < 2; d++)
			for (size_t j = 0; j < h->n[d]; j++) {
				struct np_rmac *m = &h->dir[d][j];
				const struct np_rmac *pm = ph ?
					find_mac(ph->dir[d], ph->n[d], m->mac,
						 m->other) : NULL;

				if (!m->other) {
					m->name = name_of(r, m->mac);
					m->owner = owner_ip(r, m->mac, &h->ip);
				}
				m->pps = rate(r, m->packets, pm ? pm->packets : 0);
				m->bps = 8 * rate(r, m->bytes, pm ? pm->bytes : 0);
			}
	}
}

static int build_ifaces(struct np_report *r, struct contrib *c, size_t n,
			const struct np_report *prev)
{
	struct np_riface *f = NULL;

	if (n)
		qsort(c, n, sizeof(*c), cmp_iface_order);
	r->ifaces = calloc(n ? n : 1, sizeof(*r->ifaces));
	r->ips = calloc(n ? n : 1, sizeof(*r->ips));
	if (!r->ifaces || !r->ips)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct contrib *x = &c[i];

		/* counts past a flow's MAC set belong to no interface */
		if (x->other)
			break;
		if (!f || memcmp(f->mac, x->mac, 6)) {
			f = &r->ifaces[r->n_ifaces++];
			memcpy(f->mac, x->mac, 6);
			f->ips = &r->ips[i];
		}
		if (!f->n_ips || np_ip_cmp(&f->ips[f->n_ips - 1], &x->ip))
			f->ips[f->n_ips++] = x->ip;
		f->packets[x->dir] += x->packets * r->sample;
		f->bytes[x->dir] += x->bytes * r->sample;
		f->retransmits[x->dir] += x->health[0] * r->sample;
		f->retransmit_bytes[x->dir] += x->health[1] * r->sample;
		f->resets[x->dir] += x->health[2] * r->sample;
	}
	for (size_t i = 0; i < r->n_ifaces; i++) {
		struct np_riface *x = &r->ifaces[i];
		const struct np_riface *px = find_iface(prev, x->mac);

		x->name = name_of(r, x->mac);
		x->owner = owner_ip(r, x->mac, x->n_ips ? &x->ips[0] : NULL);
		for (int d = 0; d < 2; d++) {
			x->pps[d] = rate(r, x->packets[d],
					 px ? px->packets[d] : 0);
			x->bps[d] = 8 * rate(r, x->bytes[d],
					     px ? px->bytes[d] : 0);
		}
		x->pps_all = rate(r, x->packets[0] + x->packets[1],
				  px ? px->packets[0] + px->packets[1] : 0);
		x->bps_all = 8 * rate(r, x->bytes[0] + x->bytes[1],
				      px ? px->bytes[0] + px->bytes[1] : 0);
	}
	return 0;
}

/* ---- flows ---- */


enum np_flow_state np_flow_state_at(const struct np_flow_rec *f, __u64 now,
				    __u32 idle_sec)
{
	__u64 last = np_flow_rec_last(f);
	__u64 idle = (__u64)(idle_sec ? idle_sec : NP_DEFAULT_IDLE_SEC) *
		     NP_NSEC_PER_SEC;

	switch (np_flow_end(f->dir[0].tcp_flags, f->dir[1].tcp_flags)) {
	case NP_END_RESET:
		return NP_FS_RESET;
	case NP_END_CLOSED:
		return NP_FS_CLOSED;
	default:
		break;
	}
	if (now && now >= last && now - last >= idle)
		return NP_FS_IDLE;
	return NP_FS_ACTIVE;
}

static void sort_u16(__u16 *dst, int *n_out, const __u16 *v, int n, int max)
{
	if (n > max)
		n = max;
	for (int i = 0; i < n; i++) {
		int j;

		for (j = i; j > 0 && dst[j - 1] > v[i]; j--)
			dst[j] = dst[j - 1];
		dst[j] = v[i];
	}
	*n_out = n;
}

static const __u8 *dir_last_mac(const struct np_dir *d, int dir)
{
	return dir == NP_DIR_TO_SERVER ? d->dst_mac : d->src_mac;
}

/* A listed flow's directions as reported; pf: prev's record of it. */
static void fill_dirs(struct np_report *r, struct np_rflow *f,
		      const struct np_rflow *pf)
{
	for (int dir = 0; dir < 2; dir++) {
		const struct np_dir *d = &f->rec.dir[dir];
		const struct np_dir *pd = pf ? &pf->rec.dir[dir] : NULL;
		struct np_rdir *x = &f->dir[dir];
		__u8 (*m)[6] = x->macs;

		x->packets = np_dir_packets(d) * r->sample;
		x->bytes = np_dir_bytes(d) * r->sample;
		x->seen = x->packets > 0;
#define NP_X(name) x->counters[NP_DC_##name] = d->name * r->sample;
		NP_DIR_COUNTERS(NP_X)
#undef NP_X
		x->pps = rate(r, x->packets,
			      pd ? np_dir_packets(pd) * r->sample : 0);
		x->bps = 8 * rate(r, x->bytes,
				  pd ? np_dir_bytes(pd) * r->sample : 0);
		x->n_macs = 0;
		for (int i = 0; i < d->n_macs && i < NP_DIR_MACS; i++) {
			int j;

			if (!d->macs[i].packets)
				continue;
			for (j = x->n_macs; j > 0 &&
			     memcmp(m[j - 1], d->macs[i].mac, 6) > 0; j--)
				memcpy(m[j], m[j - 1], 6);
			memcpy(m[j], d->macs[i].mac, 6);
			x->n_macs++;
		}
		sort_u16(x->vlans, &x->n_vlans, d->vlans, d->n_vlans,
			 NP_DIR_VLANS);
		sort_u16(x->sessions, &x->n_sessions, d->sessions,
			 d->n_sessions, NP_DIR_SESSIONS);
		/* the vmk of the direction's last frame: with one server
		 * MAC, that MAC's name; with several, the one carrying it now
		 */
		x->interface = x->seen ? name_of(r, dir_last_mac(d, dir)) : NULL;
		/* replay runs frames through the program on no real NIC */
		x->mirror = x->seen && d->ifindex && r->kind != NP_SRC_REPLAY ?
			    mirror_name(r, d->ifindex) : NULL;
	}
}

/*
 * The handshake of a flow from its two legs (nbdpath(8), TCP HEALTH).
 * The client's ACK counts once a SYN-ACK was seen: the two legs may
 * reach the mirror by different paths, so the ACK may show up a little
 * before the SYN-ACK it answers; the client's RTT is then 0.
 */
static void set_handshake(struct np_report *r, struct np_rflow *f)
{
	const struct np_dir *a = &f->rec.dir[NP_DIR_TO_SERVER];
	const struct np_dir *b = &f->rec.dir[NP_DIR_FROM_SERVER];
	struct np_rhandshake *h = &f->hs;

	memset(h, 0, sizeof(*h));
	h->rtt_server = -1;
	h->rtt_client = -1;
	if (a->syn_ns) {
		h->syn_ns = np_report_unix(&r->o, a->syn_ns);
		memcpy(h->syn_mac, a->syn_mac, 6);
		h->syn_retries = a->syn_retries * r->sample;
	}
	if (b->syn_ns) {
		h->synack_ns = np_report_unix(&r->o, b->syn_ns);
		memcpy(h->synack_mac, b->syn_mac, 6);
		h->synack_retries = b->syn_retries * r->sample;
	}
	if (b->syn_ns && a->ack_ns)
		h->ack_ns = np_report_unix(&r->o, a->ack_ns);
	if (a->syn_ns && b->syn_ns)
		h->rtt_server = b->syn_ns > a->syn_ns ?
				(double)(b->syn_ns - a->syn_ns) / 1e9 : 0;
	if (h->ack_ns)
		h->rtt_client = a->ack_ns > b->syn_ns ?
				(double)(a->ack_ns - b->syn_ns) / 1e9 : 0;
	h->state = np_flow_hs_state(&f->rec);
}

static void set_flow(struct np_report *r, struct np_rflow *f, bool active)
{
	const struct np_report_opts *o = &r->o;

	set_handshake(r, f);

	f->verdict = flow_verdict(&f->rec);
	f->first_ns = np_report_unix(o, np_flow_rec_first(&f->rec));
	f->last_ns = np_report_unix(o, np_flow_rec_last(&f->rec));
	if (active)
		f->state = np_flow_state_at(&f->rec, o->now_ns, o->idle_sec);
	f->ended_ns = f->state == NP_FS_ACTIVE ? 0 : f->last_ns;
}

struct tab_ord {
	__s64	ended_ns;
	__u32	i;			/* where the flow was */
};

static int cmp_tab_ord(const void *pa, const void *pb)
{
	const struct tab_ord *a = pa, *b = pb;

	if (a->ended_ns != b->ended_ns)
		return a->ended_ns > b->ended_ns ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/*
 * The table's finished flows (after the n_active active ones of the
 * first m) most recent first, in place: a few at a time, as flows end
 * between two polls.
 */
static int sort_table_finished(struct np_report *r, size_t m)
{
	struct np_rflow *fl = r->flows + r->n_active, *t;
	size_t nf = m - r->n_active;
	struct tab_ord *ord;
	bool sorted = true;

	for (size_t i = 1; i < nf; i++)
		if (fl[i].ended_ns > fl[i - 1].ended_ns)
			sorted = false;
	if (sorted)
		return 0;
	ord = malloc(nf * sizeof(*ord));
	t = malloc(nf * sizeof(*t));
	if (!ord || !t) {
		free(ord);
		free(t);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nf; i++)
		ord[i] = (struct tab_ord){ .ended_ns = fl[i].ended_ns, .i = i };
	qsort(ord, nf, sizeof(*ord), cmp_tab_ord);
	memcpy(t, fl, nf * sizeof(*t));
	for (size_t i = 0; i < nf; i++)
		fl[i] = t[ord[i].i];
	free(t);
	free(ord);
	return 0;
}

/* A record's flow as reported, built as the table's finished ones are. */
static void record_flow(struct np_report *r, struct np_rflow *f,
			const struct np_fin_rec *x)
{
	memset(f, 0, sizeof(*f));
	f->rec = *x->rec;
	f->state = x->state;
	f->bytes = np_dir_bytes(&x->rec->dir[0]) + np_dir_bytes(&x->rec->dir[1]);
	f->listed = true;
	set_flow(r, f, false);
	/* a kept record moved nothing since its slot was reused: against
	 * itself, its rates are 0
	 */
	fill_dirs(r, f, f);
}

/*
 * Keep x's object and what the report reads of it (finished.h), made
 * from f, its flow; the full record is freed then (the export and the
 * flow log had it as its slot was reclaimed).
 */
static int keep_record(struct np_report *r, struct np_fin_rec *x,
		       const struct np_rflow *f, struct jsonw *w)
{
	struct np_fin_kept *k = np_report_json_keep(w, r, f);

	if (!k)
		return -ENOMEM;
	k->first_ns = f->first_ns;
	k->last_ns = f->last_ns;
	k->ended_ns = f->ended_ns;
	k->verdict = f->verdict;
	for (int dir = 0; dir < 2; dir++) {
		const struct np_rdir *d = &f->dir[dir];
		struct np_fin_kept_dir *kd = &k->dir[dir];

		kd->seen = d->seen;
		kd->packets = d->packets;
		kd->bytes = d->bytes;
		memcpy(kd->mac, dir_last_mac(&f->rec.dir[dir], dir), 6);
		snprintf(kd->name, sizeof(kd->name), "%s",
			 d->interface ? d->interface : "");
	}
	x->synack_ns = f->hs.synack_ns;
	x->rtt[0] = f->hs.rtt_server;
	x->rtt[1] = f->hs.rtt_client;
	x->kept = k;
	free(x->rec);
	x->rec = NULL;
	return 0;
}

/*
 * Keep the records added since the last build that are listed, in the
 * order they came: each full record is freed as its object is kept, and
 * the next object takes its memory.
 */
static int keep_new(struct np_report *r)
{
	struct np_finished *fin = r->o.finished;
	__u64 low = fin->head > fin->cap ? fin->head - fin->cap : 0;
	struct np_rflow *f = NULL;
	struct jsonw *w = NULL;
	int err = 0;

	for (__u64 seq = fin->visited > low ? fin->visited : low;
	     seq < fin->head; seq++) {
		struct np_fin_rec *x = np_finished_at(fin, seq);

		if (!x->rec || x->kept)
			continue;
		if (!np_finished_listed(fin, x->ended_ns, r->o.now_ns)) {
			/* gone before any report listed it: never will */
			free(x->rec);
			x->rec = NULL;
			continue;
		}
		if (!w) {
			w = jsonw_new(NULL);
			f = malloc(sizeof(*f));
			if (!w || !f) {
				err = -ENOMEM;
				break;
			}
		}
		record_flow(r, f, x);
		err = keep_record(r, x, f, w);
		if (err)
			break;
	}
	jsonw_destroy(w);
	free(f);
	if (!err)
		fin->visited = fin->head;
	return err;
}

/*
 * The finished list (nbdpath(8), FLOWS): the table's finished flows and
 * the kept records, merged by end, most recent first (ties: the table's
 * first, then the newest record).
 */
static int build_finished(struct np_report *r, size_t m,
			  const struct np_fin_ord *ord, size_t n_ord)
{
	struct np_finished *fin = r->o.finished;
	size_t i = r->n_active, j = 0;
	__u64 gone = 0;

	r->fin = malloc((m - r->n_active + n_ord + 1) * sizeof(*r->fin));
	if (!r->fin)
		return -ENOMEM;
	while (i < m || j < n_ord) {
		const struct np_fin_ord *o = j < n_ord ? &ord[j] : NULL;
		struct np_rfin *e = &r->fin[r->n_fin];

		if (o && (!o->kept || !np_finished_listed(fin, o->ended_ns,
							   r->o.now_ns))) {
			/* aged out, or never listed */
			gone++;
			j++;
			continue;
		}
		if (i < m && (!o || r->flows[i].ended_ns >=
				    np_report_unix(&r->o, o->ended_ns))) {
			*e = (struct np_rfin){ .flow = &r->flows[i++] };
			r->n_fin++;
			continue;
		}
		*e = (struct np_rfin){ .ord = o };
		r->n_fin++;
		j++;
	}
	/* records overwritten, aged out, or never kept (short of memory) */
	if (fin)
		r->n_evicted = (fin->head > fin->cap ? fin->head - fin->cap : 0) +
			       gone;
	return 0;
}

/*
 * The kernel's flows by bytes, then the finished ones, newest first.
 * A flow the rule of np_rules.h has expired but whose slot is not yet
 * reclaimed is finished already: listed as such, once.
 */
static int build_flows(struct np_report *r, const struct np_flowset *fs,
		       struct contribs *c, const struct np_report *prev)
{
	struct np_finished *fin = r->o.finished;
	size_t n = fs ? fs->n : 0, m = 0, n_ord = 0, w;
	const struct np_fin_ord *ord = NULL;
	struct np_fsort *srt, *tmp;
	int err = 0;

	if (fin) {
		err = keep_new(r);
		if (!err)
			err = np_finished_order(fin, &ord, &n_ord);
		if (err)
			return err;
	}
	r->flows = np_spare_get(NP_SPARE_FLOWS,
				(n + 1) * sizeof(*r->flows));
	srt = np_spare_get(NP_SPARE_SORT, 2 * n * sizeof(*srt));
	tmp = srt ? srt + n : NULL;
	if (!r->flows || !srt) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct np_flow_rec *f = &fs->v[i];

		if (!np_dir_packets(&f->dir[0]) && !np_dir_packets(&f->dir[1]))
			continue;
		np_fsort_set(&srt[m++], &f->key, np_dir_bytes(&f->dir[0]) +
			     np_dir_bytes(&f->dir[1]), i);
		err = flow_contribs(c, f);
		if (err)
			goto out;
	}
	np_fsort_sort(srt, tmp, m);
	err = np_keyidx_init(&r->by_key, m);
	if (err)
		goto out;
	for (size_t i = 0; i < m; i++) {
		struct np_rflow *f = &r->flows[i];

		/* the records come in sort order, scattered over the set:
		 * ask for one a few ahead, so it is in cache when copied
		 */
		if (i + 8 < m) {
			const char *a = (const char *)&fs->v[srt[i + 8].idx];

			for (size_t o = 0; o < sizeof(fs->v[0]); o += 64)
				__builtin_prefetch(a + o);
		}
		f->rec = fs->v[srt[i].idx];
		f->bytes = srt[i].bytes;
		set_flow(r, f, true);
		f->listed = true;
		r->n_active += f->state == NP_FS_ACTIVE;
	}
	/* active first, in byte order; then the table's finished flows */
	if (m > r->n_active) {
		size_t k = 0, nf = m - r->n_active;
		struct np_rflow *t = malloc(nf * sizeof(*t));

		if (!t) {
			err = -ENOMEM;
			goto out;
		}
		w = 0;
		for (size_t i = 0; i < m; i++) {
			if (r->flows[i].state == NP_FS_ACTIVE)
				r->flows[w++] = r->flows[i];
			else
				t[k++] = r->flows[i];
		}
		memcpy(&r->flows[w], t, nf * sizeof(*t));
		free(t);
		err = sort_table_finished(r, m);
		if (err)
			goto out;
	}
	for (size_t i = 0; i < m; i++)
		np_keyidx_find(&r->by_key, r->flows, sizeof(r->flows[0]),
			       &r->flows[i].rec.key,
			       np_flow_key_hash(&r->flows[i].rec.key))->idx =
			i + 1;
	r->n_flows = m;
	r->n_table = m;
	for (size_t i = 0; i < m; i++) {
		struct np_rflow *f = &r->flows[i];
		const struct np_rflow *pf = NULL;

		if (prev && r->elapsed > 0) {
			/* the same place, or found by key; only the
			 * table's flows: a record may share a flow's key
			 */
			if (i < prev->n_table &&
			    !memcmp(&prev->flows[i].rec.key, &f->rec.key,
				    sizeof(f->rec.key)))
				pf = &prev->flows[i];
			else if (prev->by_key.slot) {
				const struct np_keyent *e = np_keyidx_find(
					&prev->by_key, prev->flows,
					sizeof(*pf), &f->rec.key,
					np_flow_key_hash(&f->rec.key));

				pf = e->idx ? &prev->flows[e->idx - 1] : NULL;
			}
		}
		fill_dirs(r, f, pf);
	}
	r->n_evicted = r->o.flows_evicted;
	err = build_finished(r, m, ord, n_ord);
	r->n_listed = r->n_active + r->n_fin;
	if (fin)
		r->n_dropped = np_finished_dropped(fin);
out:
	np_spare_put(NP_SPARE_SORT, srt);
	return err;
}

/*
 * A reclaimed flow's record as build_flows() lists a kept one: for the
 * flow log, which takes records as their slots are reclaimed, whether
 * or not --max-finished leaves them in the list.
 */
void np_report_kept_flow(struct np_report *r, const struct np_flow_rec *rec,
			 enum np_flow_state st, struct np_rflow *f)
{
	memset(f, 0, sizeof(*f));
	f->rec = *rec;
	f->state = st;
	f->bytes = np_dir_bytes(&rec->dir[0]) + np_dir_bytes(&rec->dir[1]);
	f->listed = true;
	set_flow(r, f, false);
	fill_dirs(r, f, f);
}

int np_reclaimed_add(struct np_vec *v, const struct np_flow_rec *rec,
		   enum np_flow_state st)
{
	struct np_reclaimed *x = np_vec_add(v);

	if (!x)
		return -ENOMEM;
	x->rec = *rec;
	/* as the list keeps it (see np_finished_add) */
	x->state = st == NP_FS_ACTIVE ? NP_FS_IDLE : st;
	return 0;
}

/* ---- the whole report ---- */

static int read_names(struct np_report *r, const struct np_maps *m)
{
	struct np_vec names = { .sz = sizeof(struct np_mac_name) };
	struct np_vec owners = { .sz = sizeof(struct np_mac_owner) };
	int err = 0;

	if (m && m->names >= 0)
		err = map_each(m->names, sizeof(struct np_neigh_key),
			       sizeof(struct np_name), add_name, &names);
	if (!err && m && m->neigh >= 0)
		err = map_each(m->neigh, sizeof(struct np_neigh_key),
			       sizeof(struct np_neigh), add_owner, &owners);
	if (err) {
		np_vec_free(&names);
		np_vec_free(&owners);
		return err;
	}
	/* an LRU walk may see a key twice: the sort makes duplicates
	 * neighbours, and bsearch() takes any of them
	 */
	if (names.n)
		qsort(names.v, names.n, names.sz, cmp_mac6);
	if (owners.n)
		qsort(owners.v, owners.n, owners.sz, cmp_owner);
	r->names = names.v;
	r->n_names = names.n;
	r->owners = owners.v;
	r->n_owners = owners.n;
	return 0;
}

__u64 np_report_stat(const struct np_report *r, int i)
{
	if (i < 0 || i >= NP_STAT_MAX)
		return 0;
	return r->stats[i];
}

bool np_report_warn_full(const struct np_report *r, __u32 max_flows)
{
	__u64 n = r->stats[NP_STAT_TABLE_FULL];

	if (n)
		np_warn("%llu frames found the flow table full (--max-flows %u): they are in no flow, host or interface count; raise --max-flows",
			(unsigned long long)n,
			max_flows ? max_flows : NP_DEFAULT_MAX_FLOWS);
	return n;
}

struct hs_rtt {
	size_t	host;
	int	side;
	double	rtt;
};

static int cmp_hs_rtt(const void *pa, const void *pb)
{
	const struct hs_rtt *a = pa, *b = pb;

	if (a->host != b->host)
		return a->host < b->host ? -1 : 1;
	if (a->side != b->side)
		return a->side - b->side;
	return (a->rtt > b->rtt) - (a->rtt < b->rtt);
}

/*
 * Each host's handshake RTTs (minimum, median, maximum) over the flows
 * whose SYN-ACK is in the window, or all listed flows without a window;
 * the names of the MACs of its unanswered SYN-ACKs.
 */
static int host_handshakes(struct np_report *r)
{
	__s64 from = r->o.window_ns ? r->time_ns - (__s64)r->o.window_ns :
				      INT64_MIN;
	struct hs_rtt *v = calloc(2 * (r->n_flows + r->n_fin) + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	/* the flows built here, then the kept records */
	for (size_t i = 0; i < r->n_flows + r->n_fin; i++) {
		const struct np_fin_rec *x = NULL;
		struct np_ip srv;
		__s64 synack;
		double rtt[2];
		struct np_rhost *h;

		if (i < r->n_flows) {
			const struct np_rflow *f = &r->flows[i];

			if (!f->listed)
				continue;
			srv = np_key_server(&f->rec.key);
			synack = f->hs.synack_ns;
			rtt[0] = f->hs.rtt_server;
			rtt[1] = f->hs.rtt_client;
		} else {
			const struct np_rfin *e = &r->fin[i - r->n_flows];

			if (!e->ord)
				continue;
			synack = e->ord->synack_ns;
			if (!synack || synack < from)
				continue;
			x = np_rfin_rec(r, e);
			srv = np_key_server(&x->key);
			rtt[0] = x->rtt[0];
			rtt[1] = x->rtt[1];
		}
		if (!synack || synack < from)
			continue;
		h = (struct np_rhost *)np_report_find_host(r, &srv);
		if (!h)
			continue;
		for (int side = 0; side < 2; side++)
			if (rtt[side] >= 0)
				v[n++] = (struct hs_rtt){ h - r->hosts, side,
							  rtt[side] };
	}
	for (size_t i = 0; i < r->n_hosts; i++)
		for (size_t j = 0; j < r->hosts[i].n_failed; j++)
			r->hosts[i].failed[j].name =
				name_of(r, r->hosts[i].failed[j].mac);
	qsort(v, n, sizeof(*v), cmp_hs_rtt);
	for (size_t i = 0, j; i < n; i = j) {
		struct np_rhost *h = &r->hosts[v[i].host];
		int side = v[i].side;
		size_t k;

		for (j = i; j < n && v[j].host == v[i].host &&
			    v[j].side == side; j++)
			;
		k = j - i;
		h->n_rtt[side] = k;
		h->rtt[side][0] = v[i].rtt;
		h->rtt[side][1] = k % 2 ? v[i + k / 2].rtt :
				  (v[i + k / 2 - 1].rtt + v[i + k / 2].rtt) / 2;
		h->rtt[side][2] = v[j - 1].rtt;
	}
	free(v);
	return 0;
}

struct np_report *np_report_build(const struct np_maps *m,
				  const struct np_flowset *flows,
				  const struct np_report_opts *o,
				  const struct np_report *prev)
{
	struct contribs c = { .c.sz = sizeof(struct contrib) };
	struct np_report *r;
	int err = 0;

	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->o = *o;
	r->kind = o->kind;
	r->sample = o->sample_rate > 1 ? o->sample_rate : 1;
	r->time_ns = np_report_unix(o, o->now_ns);
	/*
	 * Rates over the measured time between the two reads, not the
	 * nominal interval: a poll that ran late must not inflate them.
	 * Without an earlier report, counts from zero over the interval.
	 */
	if (o->interval > 0) {
		r->rates_from_prev = prev && o->now_ns > prev->o.now_ns;
		r->elapsed = r->rates_from_prev ?
			(double)(o->now_ns - prev->o.now_ns) / NP_NSEC_PER_SEC :
			o->interval;
	}
	if (!r->rates_from_prev)
		prev = NULL;

	if (m && m->stats >= 0) {
		err = np_read_stats(m->stats, r->stats);
		if (err)
			goto fail;
	}
	for (int i = 0; i < NP_STAT_MAX; i++) {
		if (o->extra_stats)
			r->stats[i] += o->extra_stats[i];
		/* frames are sampled, the program's reclaims of slots not */
		if (i != NP_STAT_RECLAIMED)
			r->stats[i] *= r->sample;
	}
	err = read_names(r, m);
	if (err)
		goto fail;
	err = build_flows(r, flows, &c, prev);
	if (err)
		goto fail;
	if (m && m->retired >= 0) {
		err = map_each(m->retired, sizeof(struct np_retired_key),
			       sizeof(struct np_retired), add_retired, &c);
		if (err)
			goto fail;
	}
	err = build_hosts(r, c.c.v, c.c.n);
	if (!err)
		err = build_ifaces(r, c.c.v, c.c.n, prev);
	if (err)
		goto fail;
	finish_hosts(r, prev);
	err = host_handshakes(r);
	if (err)
		goto fail;
	if (o->history)
		err = np_history_current(o->history, r);
	else if (o->current_from_map)
		err = np_history_from_map(r, o->current_fd);
	if (err)
		goto fail;
	np_vec_free(&c.c);
	free(c.idx);
	return r;
fail:
	np_vec_free(&c.c);
	free(c.idx);
	np_report_free(r);
	errno = err < 0 ? -err : err;
	return NULL;
}

void np_report_free(struct np_report *r)
{
	if (!r)
		return;
	np_spare_put(NP_SPARE_FLOWS, r->flows);
	free(r->fin);
	np_keyidx_free(&r->by_key);
	free(r->hosts);
	free(r->rmacs);
	free(r->ifaces);
	free(r->ips);
	free(r->names);
	free(r->owners);
	np_history_free_current(r);
	free(r);
}
