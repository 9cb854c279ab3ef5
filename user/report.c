// SPDX-License-Identifier: GPL-2.0
/*
 * Building the report from the maps: verdicts (SPEC §4), per-host and
 * per-interface totals, the listed flows. The writers are in
 * report_json.c and report_text.c; the Prometheus exposition and the
 * retire callback are here.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "log.h"
#include "report_priv.h"

#define NSEC	1000000000ull
#define TCPF_FIN	0x01
#define TCPF_RST	0x04

/* bit i of np_dir.tcp_flags, as in the TCP header */
const char *const np_tcp_flag_names[8] = {
	"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR",
};

static const char *const verdict_names[] = {
	[NP_V_NONE]		= "none",
	[NP_V_ASYMMETRIC]	= "asymmetric",
	[NP_V_SYMMETRIC]	= "symmetric",
	[NP_V_TO_SERVER_ONLY]	= "to_server_only",
	[NP_V_FROM_SERVER_ONLY]	= "from_server_only",
};

const char *np_verdict_name(enum np_verdict v)
{
	if ((unsigned int)v >= sizeof(verdict_names) / sizeof(verdict_names[0]))
		return "none";
	return verdict_names[v];
}

void np_fmt_mac(char buf[18], const __u8 mac[6])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

bool np_ip_is_v4(const __u8 ip[16])
{
	static const __u8 prefix[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(ip, prefix, sizeof(prefix));
}

void np_fmt_ip(char buf[46], const __u8 ip[16])
{
	/* inet_ntop() writes IPv6 as RFC 5952 wants (lower case, the
	 * longest zero run compressed); a v4-mapped key is plain IPv4
	 */
	if (np_ip_is_v4(ip)) {
		if (!inet_ntop(AF_INET, ip + 12, buf, 46))
			snprintf(buf, 46, "?");
	} else if (!inet_ntop(AF_INET6, ip, buf, 46)) {
		snprintf(buf, 46, "?");
	}
}

/* ---- verdicts ---- */

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

static enum np_verdict host_verdict(const struct np_rhost *h)
{
	bool same = h->n[0] == h->n[1];
	__u64 p[2] = {};

	for (int d = 0; d < 2; d++)
		for (size_t i = 0; i < h->n[d]; i++) {
			p[d] += h->dir[d][i].packets;
			if (h->dir[d][i].other)
				same = false;
		}
	/* both lists are sorted by MAC */
	for (size_t i = 0; same && i < h->n[0]; i++)
		if (memcmp(h->dir[0][i].mac, h->dir[1][i].mac, 6))
			same = false;
	return verdict_of(p[0] > 0, p[1] > 0, same);
}

/* ---- reading the small maps ---- */

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

/* A growable array of fixed-size elements. */
struct vec {
	void *v;
	size_t n, cap, sz;
};

static void *vec_add(struct vec *a)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		void *v = realloc(a->v, cap * a->sz);

		if (!v)
			return NULL;
		a->v = v;
		a->cap = cap;
	}
	memset((char *)a->v + a->n * a->sz, 0, a->sz);
	return (char *)a->v + a->n++ * a->sz;
}

static int cmp_mac6(const void *a, const void *b)
{
	return memcmp(a, b, 6);
}

static int add_name(const void *key, const void *val, void *ctx)
{
	const struct np_neigh_key *k = key;
	const struct np_name *v = val;
	struct np_mac_name *n = vec_add(ctx);

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
	o = vec_add(ctx);
	if (!o)
		return -ENOMEM;
	memcpy(o->mac, k->mac, 6);
	o->family = k->family;
	memcpy(o->ip, v->ip, 16);
	return 0;
}

/* by MAC, then family: the MAC and family are the first 7 bytes */
static int cmp_owner(const void *a, const void *b)
{
	return memcmp(a, b, 7);
}

__u64 np_report_scaled_stat(const struct np_report *r, int i)
{
	if (i < 0 || i >= NP_STAT_MAX)
		return 0;
	/* frames are sampled, the program's reclaims of slots are not */
	return r->stats[i] * (i == NP_STAT_RECLAIMED ? 1 : r->sample);
}

bool np_report_warn_full(const struct np_report *r, __u32 max_flows)
{
	__u64 n = np_report_scaled_stat(r, NP_STAT_TABLE_FULL);

	if (n)
		np_warn("%llu frames found the flow table full (--max-flows %u): they are in no flow, host or interface count; raise --max-flows",
			(unsigned long long)n,
			max_flows ? max_flows : NP_DEFAULT_MAX_FLOWS);
	return n;
}

const char *np_report_name(const struct np_report *r, const __u8 mac[6])
{
	const struct np_mac_name *n;

	if (!r->n_names)
		return NULL;
	n = bsearch(mac, r->names, r->n_names, sizeof(*n), cmp_mac6);
	return n && n->name[0] ? n->name : NULL;
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
	const struct np_rhost *h;
	struct np_rmac m = {};

	h = np_report_find_host(r, o->ip);
	if (!h || !h->n[NP_DIR_TO_SERVER])
		return true;
	memcpy(m.mac, o->mac, 6);
	return np_rhost_find_mac(h, NP_DIR_TO_SERVER, &m) != NULL;
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

const __u8 *np_report_owner(const struct np_report *r, const __u8 mac[6],
			    const __u8 *near)
{
	const struct np_mac_owner *o;

	if (!r->n_owners)
		return NULL;
	o = owner_of(r, mac, near && !np_ip_is_v4(near) ? NP_NEIGH_IPV6 :
							  NP_NEIGH_IPV4);
	return o ? o->ip : NULL;
}

/* ---- hosts and interfaces: one record per (IP, MAC, direction) ---- */

/*
 * Counts of one (server IP, server MAC, direction), summed over flows
 * and the retired map. The first 24 bytes are the key.
 */
struct contrib {
	__u8	ip[16];
	__u8	mac[6];
	__u8	dir;
	__u8	other;
	__u64	packets;
	__u64	bytes;
};

#define CONTRIB_KEY	offsetof(struct contrib, packets)

/*
 * Every flow adds to a handful of these: summing them in a hash as they
 * come keeps the sorts below to one entry per (IP, MAC, direction), not
 * one per flow.
 */
struct contribs {
	struct vec c;
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

static int contrib_add(struct contribs *a, const __u8 ip[16], const __u8 *mac,
		       int dir, __u64 packets, __u64 bytes)
{
	struct contrib k, *x;
	__u32 *e;

	memset(&k, 0, sizeof(k));
	memcpy(k.ip, ip, 16);
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
		x = vec_add(&a->c);
		if (!x)
			return -ENOMEM;
		memcpy(x, &k, CONTRIB_KEY);
		*e = a->c.n;
	}
	a->last[dir] = x - (struct contrib *)a->c.v + 1;
add:
	x->packets += packets;
	x->bytes += bytes;
	return 0;
}

static int flow_contribs(struct contribs *c, const struct np_flow_rec *f)
{
	int err = 0;

	for (int d = 0; d < 2 && !err; d++) {
		const struct np_dir *x = &f->dir[d];

		for (int i = 0; i < x->n_macs && i < NP_DIR_MACS && !err; i++)
			if (x->macs[i].packets)
				err = contrib_add(c, f->key.server_ip,
						  x->macs[i].mac, d,
						  x->macs[i].packets,
						  x->macs[i].bytes);
		if (!err && dir_overflow(x))
			err = contrib_add(c, f->key.server_ip, NULL, d,
					  x->other_packets, x->other_bytes);
	}
	return err;
}

static int add_retired(const void *key, const void *val, void *ctx)
{
	static const __u8 zero[6];
	const struct np_retired_key *k = key;
	const struct np_retired *v = val;

	if (k->dir > NP_DIR_FROM_SERVER || !v->packets)
		return 0;
	return contrib_add(ctx, k->server_ip,
			   memcmp(k->mac, zero, 6) ? k->mac : NULL, k->dir,
			   v->packets, v->bytes);
}

/* by IP, direction, then MAC with the "other" bucket last */
static int cmp_host_order(const void *pa, const void *pb)
{
	const struct contrib *a = pa, *b = pb;
	int c = memcmp(a->ip, b->ip, 16);

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
	return c ? c : memcmp(a->ip, b->ip, 16);
}

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

		if (!h || memcmp(h->ip, x->ip, 16)) {
			h = &r->hosts[r->n_hosts++];
			memcpy(h->ip, x->ip, 16);
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
		m->packets += x->packets;
		m->bytes += x->bytes;
	}
	for (size_t i = 0; i < r->n_hosts; i++)
		r->hosts[i].verdict = host_verdict(&r->hosts[i]);
	return 0;
}

static int build_ifaces(struct np_report *r, struct contrib *c, size_t n)
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
		if (!f->n_ips || memcmp(f->ips[f->n_ips - 1], x->ip, 16))
			memcpy(f->ips[f->n_ips++], x->ip, 16);
		f->packets[x->dir] += x->packets;
		f->bytes[x->dir] += x->bytes;
	}
	return 0;
}

/* ---- flows ---- */

static __u64 flow_last(const struct np_flow_rec *f)
{
	__u64 a = f->dir[0].last_ns, b = f->dir[1].last_ns;

	return a > b ? a : b;
}

/* Idle, or closed (FIN both ways, or RST) for a while: not listed. */
static bool flow_listed(const struct np_flow_rec *f,
			const struct np_report_opts *o)
{
	__u8 a = f->dir[0].tcp_flags, b = f->dir[1].tcp_flags;
	bool closed = ((a | b) & TCPF_RST) || ((a & TCPF_FIN) && (b & TCPF_FIN));
	__u64 idle = (o->idle_sec ? o->idle_sec : NP_DEFAULT_IDLE_SEC) * NSEC;
	__u64 linger = (o->closed_sec ? o->closed_sec : 5) * NSEC;
	__u64 last = flow_last(f);

	if (o->now_ns < last)
		return true;	/* unknown "now", or a clock behind the flows */
	if (o->now_ns - last >= idle)
		return false;
	return !(closed && o->now_ns - last >= linger);
}

/*
 * Flows by bytes, descending, then by key. The key is kept beside the
 * count as big-endian words (memcmp() order), so that the sort touches
 * nothing else: on a quiet network most flows tie on bytes.
 */
struct fsort {
	__u64	bytes;
	__u64	k[5];
	size_t	idx;			/* in the flow set */
};

_Static_assert(sizeof(struct np_flow_key) == 5 * 8, "key words");

static bool fsort_before(const struct fsort *a, const struct fsort *b)
{
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes;
	for (int i = 0; i < 5; i++)
		if (a->k[i] != b->k[i])
			return a->k[i] < b->k[i];
	return false;
}

/* Word w of the sort key, most significant first: ~bytes, then the key. */
static inline __u64 fsort_word(const struct fsort *x, int w)
{
	return w ? x->k[w - 1] : ~x->bytes;
}

/*
 * A stable LSD radix sort of a[0..n) by key words [w0, w1), a byte a
 * pass; t: room for n. Only the bytes that differ somewhere in a are
 * sorted on: flows share most of their key (the server, the port, most
 * of the address), so a few passes do.
 */
static void fsort_radix(struct fsort *a, struct fsort *t, size_t n, int w0,
			int w1)
{
	__u64 any[6] = {}, all[6];
	struct fsort *src = a, *dst = t, *x;
	size_t cnt[256];

	for (int w = w0; w < w1; w++)
		all[w] = ~0ull;
	for (size_t i = 0; i < n; i++)
		for (int w = w0; w < w1; w++) {
			any[w] |= fsort_word(&a[i], w);
			all[w] &= fsort_word(&a[i], w);
		}
	for (int w = w1 - 1; w >= w0; w--) {
		for (int sh = 0; sh < 64; sh += 8) {
			size_t pos = 0;

			if (!(((any[w] ^ all[w]) >> sh) & 0xff))
				continue;	/* the same in every entry */
			memset(cnt, 0, sizeof(cnt));
			for (size_t i = 0; i < n; i++)
				cnt[fsort_word(&src[i], w) >> sh & 0xff]++;
			for (int d = 0; d < 256; d++) {
				size_t c = cnt[d];

				cnt[d] = pos;
				pos += c;
			}
			for (size_t i = 0; i < n; i++)
				dst[cnt[fsort_word(&src[i], w) >> sh & 0xff]++] =
					src[i];
			x = src;
			src = dst;
			dst = x;
		}
	}
	if (src != a)
		memcpy(a, src, n * sizeof(*a));
}

/*
 * a[0..n) by bytes, descending, then by key; t: room for n. By bytes
 * first; then each run of flows with the same bytes (on a quiet network,
 * most of them) by key.
 */
static void fsort_sort(struct fsort *a, struct fsort *t, size_t n)
{
	size_t s = 0, e;

	fsort_radix(a, t, n, 0, 1);
	for (; s < n; s = e) {
		for (e = s + 1; e < n && a[e].bytes == a[s].bytes; e++)
			;
		if (e - s > 32) {
			fsort_radix(a + s, t, e - s, 1, 6);
			continue;
		}
		for (size_t i = s + 1; i < e; i++) {
			struct fsort x = a[i];
			size_t j;

			for (j = i; j > s && fsort_before(&x, &a[j - 1]); j--)
				a[j] = a[j - 1];
			a[j] = x;
		}
	}
}

/*
 * The big arrays of a report (and of building one) are kept for the
 * next report. At 100,000 flows the flow array alone is 40 MB, which
 * malloc() maps afresh each time, and the page faults of filling new
 * pages cost more than the copy into them. One spare of each kind,
 * swapped atomically: reports may be built on any thread.
 */
enum { SPARE_FLOWS, SPARE_SORT, SPARE_INDEX, N_SPARES };

struct spare {
	size_t	size;
	max_align_t data[];
};

static struct spare *spares[N_SPARES];

static void *spare_get(int kind, size_t size)
{
	struct spare *b = __atomic_exchange_n(&spares[kind], NULL,
					      __ATOMIC_ACQ_REL);

	if (b && b->size >= size)
		return b->data;
	free(b);
	b = malloc(sizeof(*b) + (size ? size : 1));
	if (!b)
		return NULL;
	b->size = size ? size : 1;
	return b->data;
}

static void spare_put(int kind, void *p)
{
	struct spare *b, *old;

	if (!p)
		return;
	b = (struct spare *)((char *)p - offsetof(struct spare, data));
	old = __atomic_exchange_n(&spares[kind], b, __ATOMIC_ACQ_REL);
	/* keep the bigger one */
	if (old && old->size > b->size)
		old = __atomic_exchange_n(&spares[kind], old, __ATOMIC_ACQ_REL);
	free(old);
}

static __u64 key_hash(const struct np_flow_key *k)
{
	__u64 w[5], h;

	memcpy(w, k, sizeof(w));
	h = (w[4] + 0x9e3779b97f4a7c15ull) * (w[3] | 1);
	h ^= (w[1] ^ (w[0] >> 7) ^ (w[2] << 3)) * 0xff51afd7ed558ccdull;
	h ^= h >> 31;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 29);
}

static int index_flows(struct np_report *r)
{
	size_t n = 16;

	while (n < r->n_flows * 2)
		n <<= 1;
	r->by_key = spare_get(SPARE_INDEX, n * sizeof(*r->by_key));
	if (!r->by_key)
		return -ENOMEM;
	memset(r->by_key, 0, n * sizeof(*r->by_key));
	r->key_mask = n - 1;
	for (size_t i = 0; i < r->n_flows; i++) {
		__u64 h = key_hash(&r->flows[i].rec.key);
		size_t j = h & r->key_mask;

		while (r->by_key[j].idx)
			j = (j + 1) & r->key_mask;
		r->by_key[j].idx = i + 1;
		r->by_key[j].tag = h >> 32;
	}
	return 0;
}

static int build_flows(struct np_report *r, const struct np_flowset *fs,
		       struct contribs *c)
{
	size_t n = fs ? fs->n : 0, m = 0;
	struct fsort *srt, *tmp;
	int err = 0;

	r->flows = spare_get(SPARE_FLOWS, n * sizeof(*r->flows));
	srt = spare_get(SPARE_SORT, 2 * n * sizeof(*srt));
	tmp = srt ? srt + n : NULL;
	if (!r->flows || !srt) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct np_flow_rec *f = &fs->v[i];
		struct fsort *x = &srt[m];
		__u64 w[5];

		if (!np_dir_packets(&f->dir[0]) && !np_dir_packets(&f->dir[1]))
			continue;
		m++;
		x->bytes = np_dir_bytes(&f->dir[0]) + np_dir_bytes(&f->dir[1]);
		memcpy(w, &f->key, sizeof(w));
		for (int k = 0; k < 5; k++)
			x->k[k] = be64toh(w[k]);
		x->idx = i;
		err = flow_contribs(c, f);
		if (err)
			goto out;
	}
	fsort_sort(srt, tmp, m);
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
		f->verdict = flow_verdict(&f->rec);
		f->bytes = srt[i].bytes;
		f->listed = flow_listed(&f->rec, &r->o);
		r->n_listed += f->listed;
	}
	r->n_flows = m;
	r->n_evicted = r->o.flows_evicted + (m - r->n_listed);
	err = index_flows(r);
out:
	spare_put(SPARE_SORT, srt);
	return err;
}

struct np_report *np_report_build(const struct np_maps *m,
				  const struct np_flowset *flows,
				  const struct np_report_opts *o)
{
	struct vec names = { .sz = sizeof(struct np_mac_name) };
	struct vec owners = { .sz = sizeof(struct np_mac_owner) };
	struct contribs c = { .c.sz = sizeof(struct contrib) };
	struct np_report *r;
	int err = 0;

	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->o = *o;
	r->sample = o->sample_rate > 1 ? o->sample_rate : 1;

	if (m && m->stats >= 0) {
		err = np_read_stats(m->stats, r->stats);
		if (err)
			goto fail;
	}
	if (o->extra_stats)
		for (int i = 0; i < NP_STAT_MAX; i++)
			r->stats[i] += o->extra_stats[i];

	if (m && m->names >= 0) {
		err = map_each(m->names, sizeof(struct np_neigh_key),
			       sizeof(struct np_name), add_name, &names);
		if (err)
			goto fail;
	}
	if (m && m->neigh >= 0) {
		err = map_each(m->neigh, sizeof(struct np_neigh_key),
			       sizeof(struct np_neigh), add_owner, &owners);
		if (err)
			goto fail;
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
	names.v = NULL;
	r->owners = owners.v;
	r->n_owners = owners.n;
	owners.v = NULL;

	err = build_flows(r, flows, &c);
	if (err)
		goto fail;
	if (m && m->retired >= 0) {
		err = map_each(m->retired, sizeof(struct np_retired_key),
			       sizeof(struct np_retired), add_retired, &c);
		if (err)
			goto fail;
	}
	err = build_hosts(r, c.c.v, c.c.n);
	if (err)
		goto fail;
	err = build_ifaces(r, c.c.v, c.c.n);
	if (err)
		goto fail;
	free(c.c.v);
	free(c.idx);
	return r;
fail:
	free(c.c.v);
	free(c.idx);
	free(names.v);
	free(owners.v);
	np_report_free(r);
	errno = err < 0 ? -err : err;
	return NULL;
}

void np_report_free(struct np_report *r)
{
	if (!r)
		return;
	spare_put(SPARE_FLOWS, r->flows);
	spare_put(SPARE_INDEX, r->by_key);
	free(r->hosts);
	free(r->rmacs);
	free(r->ifaces);
	free(r->ips);
	free(r->names);
	free(r->owners);
	free(r);
}

/* ---- look-ups for the writers ---- */

const struct np_rflow *np_report_find_flow(const struct np_report *r,
					   const struct np_flow_key *k)
{
	__u64 h = key_hash(k);
	size_t i;

	if (!r->by_key)
		return NULL;
	for (i = h & r->key_mask; r->by_key[i].idx;
	     i = (i + 1) & r->key_mask) {
		const struct np_rflow *f = &r->flows[r->by_key[i].idx - 1];

		if (r->by_key[i].tag == (__u32)(h >> 32) &&
		    !memcmp(&f->rec.key, k, sizeof(*k)))
			return f;
	}
	return NULL;
}

static void prefetch_flow(const struct np_rflow *f)
{
	for (size_t o = 0; o < sizeof(*f); o += 64)
		__builtin_prefetch((const char *)f + o);
}

void np_report_match_flows(const struct np_report *r,
			   const struct np_report *prev,
			   const struct np_rflow **out)
{
	/*
	 * Flows that moved no data keep their place in the order: try the
	 * same place in prev first. The others are looked up in prev's
	 * index, in a pipeline: hash D ahead and fetch the index entry;
	 * read it D / 2 ahead and fetch the record whose tag matches;
	 * compare the keys when both are in cache.
	 */
	enum { D = 16, H = 2 * D };
	const struct np_rkey *x = prev->by_key;
	size_t mask = prev->key_mask, n = r->n_flows, m = 0;
	size_t *miss = NULL, k;
	__u64 h[H];

	for (k = 0; k < n; k++) {
		const struct np_flow_key *key = &r->flows[k].rec.key;

		if (k < prev->n_flows &&
		    !memcmp(&prev->flows[k].rec.key, key, sizeof(*key))) {
			out[k] = &prev->flows[k];
			continue;
		}
		out[k] = NULL;
		if (!miss) {
			miss = malloc((n - k) * sizeof(*miss));
			if (!miss)
				break;
		}
		miss[m++] = k;
	}
	/* short of memory: one look-up at a time */
	for (; k < n; k++)
		out[k] = np_report_find_flow(prev, &r->flows[k].rec.key);

	for (size_t i = 0; i < m + D; i++) {
		if (i < m) {
			h[i % H] = key_hash(&r->flows[miss[i]].rec.key);
			__builtin_prefetch(&x[h[i % H] & mask]);
		}
		if (i >= D / 2 && i - D / 2 < m) {
			__u64 hk = h[(i - D / 2) % H];

			for (size_t j = hk & mask; x[j].idx; j = (j + 1) & mask)
				if (x[j].tag == (__u32)(hk >> 32)) {
					prefetch_flow(&prev->flows[x[j].idx - 1]);
					break;
				}
		}
		if (i >= D) {
			__u64 hk = h[(i - D) % H];
			const struct np_flow_key *key;

			k = miss[i - D];
			key = &r->flows[k].rec.key;
			for (size_t j = hk & mask; x[j].idx; j = (j + 1) & mask) {
				const struct np_rflow *f = &prev->flows[x[j].idx - 1];

				if (x[j].tag == (__u32)(hk >> 32) &&
				    !memcmp(&f->rec.key, key, sizeof(*key))) {
					out[k] = f;
					break;
				}
			}
		}
	}
	free(miss);
}

static int cmp_host_ip(const void *key, const void *elem)
{
	return memcmp(key, ((const struct np_rhost *)elem)->ip, 16);
}

const struct np_rhost *np_report_find_host(const struct np_report *r,
					   const __u8 ip[16])
{
	if (!r->n_hosts)
		return NULL;
	return bsearch(ip, r->hosts, r->n_hosts, sizeof(*r->hosts),
		       cmp_host_ip);
}

const struct np_rmac *np_rhost_find_mac(const struct np_rhost *h, int dir,
					const struct np_rmac *m)
{
	for (size_t i = 0; i < h->n[dir]; i++) {
		const struct np_rmac *x = &h->dir[dir][i];

		if (x->other == m->other && !memcmp(x->mac, m->mac, 6))
			return x;
	}
	return NULL;
}

const struct np_riface *np_report_find_iface(const struct np_report *r,
					     const __u8 mac[6])
{
	if (!r->n_ifaces)
		return NULL;
	return bsearch(mac, r->ifaces, r->n_ifaces, sizeof(*r->ifaces),
		       cmp_mac6);
}

const __u8 *np_dir_last_mac(const struct np_dir *d, int dir)
{
	return dir == NP_DIR_TO_SERVER ? d->dst_mac : d->src_mac;
}

double np_report_elapsed(const struct np_report *r,
			 const struct np_report *prev)
{
	/* the measured time between the two reads, not the nominal
	 * interval: a poll that ran late must not inflate the rates
	 */
	if (prev && r->o.now_ns > prev->o.now_ns)
		return (double)(r->o.now_ns - prev->o.now_ns) / NSEC;
	return r->o.interval;
}

double np_rate(const struct np_report *r, __u64 cur, __u64 prev, double el)
{
	/* a counter that went down was reset (a flow's slot reused):
	 * everything it holds is new
	 */
	__u64 d = cur >= prev ? cur - prev : cur;

	if (el <= 0)
		return 0;
	return (double)d * r->sample / el;
}

__s64 np_report_unix_ns(const struct np_report *r, __u64 ns)
{
	return (__s64)ns + r->o.clock_to_unix_ns;
}

/* ---- retiring a reclaimed slot's counts ---- */

static int retire_add(int fd, const __u8 ip[16], const __u8 mac[6], int dir,
		      __u64 packets, __u64 bytes)
{
	struct np_retired_key k;
	struct np_retired v;

	memset(&k, 0, sizeof(k));
	memcpy(k.server_ip, ip, 16);
	memcpy(k.mac, mac, 6);
	k.dir = dir;
	if (bpf_map_lookup_elem(fd, &k, &v)) {
		if (errno != ENOENT)
			return -errno;
		memset(&v, 0, sizeof(v));
	}
	v.packets += packets;
	v.bytes += bytes;
	if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
		return -errno;
	return 0;
}

void np_retire_to_maps(const struct np_flow_rec *rec, void *ctx)
{
	static const __u8 zero[6];
	static bool warned;
	const struct np_maps *m = ctx;
	struct np_meta meta;
	__u32 key = 0;
	int err = 0;

	if (!m)
		return;
	for (int d = 0; d < 2 && m->retired >= 0 && !err; d++) {
		const struct np_dir *x = &rec->dir[d];

		for (int i = 0; i < x->n_macs && i < NP_DIR_MACS && !err; i++)
			if (x->macs[i].packets)
				err = retire_add(m->retired, rec->key.server_ip,
						 x->macs[i].mac, d,
						 x->macs[i].packets,
						 x->macs[i].bytes);
		if (!err && x->other_packets)
			err = retire_add(m->retired, rec->key.server_ip, zero,
					 d, x->other_packets, x->other_bytes);
	}
	if (!err && m->meta >= 0) {
		if (bpf_map_lookup_elem(m->meta, &key, &meta)) {
			err = -errno;
		} else {
			meta.flows_evicted++;
			if (bpf_map_update_elem(m->meta, &key, &meta, BPF_ANY))
				err = -errno;
		}
	}
	/* once: a full np_retired map would otherwise say it every poll */
	if (err && !warned) {
		warned = true;
		np_warn("cannot keep the counts of an expired flow in %s: %s; host and interface totals will miss them",
			NP_PIN_RETIRED, strerror(-err));
	}
}

/* ---- Prometheus text exposition ---- */

static void prom_label(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void prom_head(FILE *f, const char *name, const char *type,
		      const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void np_report_prom(FILE *f, const struct np_report *r)
{
	static const char *const dirs[2] = { "rx", "tx" };
	static const struct {
		const char *metric, *label, *help;
		int first, last;
	} groups[] = {
		{ "nbdpath_packets_total", "outcome",
		  "Frames the XDP program classified, by outcome.",
		  NP_OUTCOME_FIRST, NP_OUTCOME_LAST },
		{ "nbdpath_feature_packets_total", "feature",
		  "Frames that carried a feature (one frame may count in several).",
		  NP_STAT_VLAN, NP_STAT_IPV6 },
		{ "nbdpath_events_total", "event",
		  "Flow table and neighbour events of the XDP program.",
		  NP_STAT_TABLE_FULL, NP_STAT_MAX - 1 },
	};
	char ip[46], mac[18];

	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		prom_head(f, groups[g].metric, "counter", groups[g].help);
		for (int i = groups[g].first; i <= groups[g].last; i++)
			fprintf(f, "%s{%s=\"%s\"} %llu\n", groups[g].metric,
				groups[g].label, np_stat_names[i],
				(unsigned long long)np_report_scaled_stat(r, i));
	}
	prom_head(f, "nbdpath_flows", "gauge",
		  "Flows in the report (neither idle nor closed).");
	fprintf(f, "nbdpath_flows %zu\n", r->n_listed);
	prom_head(f, "nbdpath_flows_evicted_total", "counter",
		  "Flows gone from the report (idle, or closed); their counts stay in the host and interface totals.");
	fprintf(f, "nbdpath_flows_evicted_total %llu\n",
		(unsigned long long)r->n_evicted);
	if (r->sample > 1) {
		prom_head(f, "nbdpath_sample_rate", "gauge",
			  "Counts are multiplied by this (--sample-rate).");
		fprintf(f, "nbdpath_sample_rate %llu\n",
			(unsigned long long)r->sample);
	}

	prom_head(f, "nbdpath_host_asymmetric", "gauge",
		  "1 when the host receives requests on one interface and sends the data out of another.");
	for (size_t i = 0; i < r->n_hosts; i++) {
		np_fmt_ip(ip, r->hosts[i].ip);
		fprintf(f, "nbdpath_host_asymmetric{host=\"%s\"} %d\n", ip,
			r->hosts[i].verdict == NP_V_ASYMMETRIC);
	}
	prom_head(f, "nbdpath_host_verdict", "gauge",
		  "The host's verdict, as a label; always 1.");
	for (size_t i = 0; i < r->n_hosts; i++) {
		np_fmt_ip(ip, r->hosts[i].ip);
		fprintf(f, "nbdpath_host_verdict{host=\"%s\",verdict=\"%s\"} 1\n",
			ip, np_verdict_name(r->hosts[i].verdict));
	}

	for (int bytes = 0; bytes < 2; bytes++) {
		const char *name = bytes ? "nbdpath_interface_bytes_total" :
					   "nbdpath_interface_packets_total";

		prom_head(f, name, "counter", bytes ?
			  "IP bytes a server-side interface received (rx) or sent (tx) on monitored ports." :
			  "Frames a server-side interface received (rx) or sent (tx) on monitored ports.");
		for (size_t i = 0; i < r->n_ifaces; i++) {
			const struct np_riface *x = &r->ifaces[i];

			np_fmt_mac(mac, x->mac);
			for (int d = 0; d < 2; d++) {
				fprintf(f, "%s{mac=\"%s\",interface=", name, mac);
				prom_label(f, np_report_name(r, x->mac));
				fprintf(f, ",direction=\"%s\"} %llu\n", dirs[d],
					(unsigned long long)
					((bytes ? x->bytes[d] : x->packets[d]) *
					 r->sample));
			}
		}
	}
}
