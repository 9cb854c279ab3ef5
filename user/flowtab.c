// SPDX-License-Identifier: GPL-2.0
/* Reading and merging the per-CPU flow table and counters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flowtab.h"

#define BATCH_SLOTS	4096

_Static_assert(sizeof(struct np_flow_key) % 8 == 0, "key padding");
_Static_assert(sizeof(struct np_dir) % 8 == 0, "np_dir padding");
_Static_assert(sizeof(struct np_flow) % 8 == 0, "np_flow padding");
_Static_assert(sizeof(struct np_meta) % 8 == 0, "np_meta padding");
_Static_assert(NP_STAT_MAX == 16, "the program masks outcomes with 0xf");

const char *const np_stat_names[NP_STAT_MAX] = {
	[NP_STAT_PACKETS]	= "packets",
	[NP_STAT_MATCHED]	= "matched",
	[NP_STAT_OTHER_PORT]	= "other_port",
	[NP_STAT_NOT_TCP]	= "not_tcp",
	[NP_STAT_NOT_IP]	= "not_ip",
	[NP_STAT_FRAGMENT]	= "fragment",
	[NP_STAT_TRUNCATED]	= "truncated",
	[NP_STAT_MALFORMED]	= "malformed",
	[NP_STAT_UNSUPPORTED]	= "unsupported",
	[NP_STAT_VLAN]		= "vlan",
	[NP_STAT_ERSPAN]	= "erspan",
	[NP_STAT_GRE]		= "gre",
	[NP_STAT_IPV6]		= "ipv6",
	[NP_STAT_TABLE_FULL]	= "table_full",
	[NP_STAT_RECLAIMED]	= "reclaimed",
	[NP_STAT_NEIGH]		= "neigh",
};

__u64 np_dir_packets(const struct np_dir *d)
{
	__u64 n = d->other_packets;

	for (int i = 0; i < d->n_macs && i < NP_DIR_MACS; i++)
		n += d->macs[i].packets;
	return n;
}

__u64 np_dir_bytes(const struct np_dir *d)
{
	__u64 n = d->other_bytes;

	for (int i = 0; i < d->n_macs && i < NP_DIR_MACS; i++)
		n += d->macs[i].bytes;
	return n;
}

static void add_mac(struct np_dir *d, const struct np_mac_count *m)
{
	int i;

	for (i = 0; i < d->n_macs; i++) {
		if (!memcmp(d->macs[i].mac, m->mac, 6)) {
			d->macs[i].packets += m->packets;
			d->macs[i].bytes += m->bytes;
			return;
		}
	}
	if (d->n_macs < NP_DIR_MACS) {
		d->macs[d->n_macs++] = *m;
		return;
	}
	d->flags |= NP_DIRF_MACS_OVERFLOW;
	d->other_packets += m->packets;
	d->other_bytes += m->bytes;
}

static void add_u16(__u16 *set, __u8 *n, int max, __u16 v, __u8 *flags,
		    __u8 overflow)
{
	for (int i = 0; i < *n; i++)
		if (set[i] == v)
			return;
	if (*n < max)
		set[(*n)++] = v;
	else
		*flags |= overflow;
}

void np_dir_merge(struct np_dir *into, const struct np_dir *from)
{
	int i;

	if (!from->n_macs && !from->other_packets)
		return;
	for (i = 0; i < from->n_macs && i < NP_DIR_MACS; i++)
		add_mac(into, &from->macs[i]);
	into->other_packets += from->other_packets;
	into->other_bytes += from->other_bytes;
	into->payload_bytes += from->payload_bytes;
	if (!into->first_ns || (from->first_ns && from->first_ns < into->first_ns))
		into->first_ns = from->first_ns;
	if (from->last_ns >= into->last_ns) {
		into->last_ns = from->last_ns;
		memcpy(into->src_mac, from->src_mac, 6);
		memcpy(into->dst_mac, from->dst_mac, 6);
		into->ifindex = from->ifindex;
	}
	for (i = 0; i < from->n_vlans && i < NP_DIR_VLANS; i++)
		add_u16(into->vlans, &into->n_vlans, NP_DIR_VLANS,
			from->vlans[i], &into->flags, NP_DIRF_VLANS_OVERFLOW);
	for (i = 0; i < from->n_sessions && i < NP_DIR_SESSIONS; i++)
		add_u16(into->sessions, &into->n_sessions, NP_DIR_SESSIONS,
			from->sessions[i], &into->flags, NP_DIRF_SESS_OVERFLOW);
	into->flags |= from->flags;
	into->tcp_flags |= from->tcp_flags;
	into->encap |= from->encap;
}

/* ---- merging slots by key: a small open-addressing index ---- */

struct keyidx {
	size_t *slot;			/* index into the set + 1; 0 = empty */
	size_t mask;
};

static size_t key_hash(const struct np_flow_key *k)
{
	const __u64 *w = (const __u64 *)k;
	__u64 h = 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < sizeof(*k) / 8; i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h;
}

static int keyidx_init(struct keyidx *x, size_t want)
{
	size_t n = 64;

	while (n < want * 2)
		n <<= 1;
	x->slot = calloc(n, sizeof(*x->slot));
	x->mask = n - 1;
	return x->slot ? 0 : -ENOMEM;
}

/* Returns where the key's index entry lives (0 inside when absent). */
static size_t *keyidx_find(struct keyidx *x, const struct np_flowset *s,
			   const struct np_flow_key *k)
{
	size_t i = key_hash(k) & x->mask;

	while (x->slot[i] && memcmp(&s->v[x->slot[i] - 1].key, k, sizeof(*k)))
		i = (i + 1) & x->mask;
	return &x->slot[i];
}

static struct np_flow_rec *set_add(struct np_flowset *s)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct np_flow_rec *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		s->v = v;
		s->cap = cap;
	}
	memset(&s->v[s->n], 0, sizeof(s->v[0]));
	return &s->v[s->n++];
}

void np_flowset_free(struct np_flowset *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void reverse_key(struct np_flow_key *r, const struct np_flow_key *k)
{
	memcpy(r->server_ip, k->client_ip, 16);
	memcpy(r->client_ip, k->server_ip, 16);
	r->server_port = k->client_port;
	r->client_port = k->server_port;
	r->pad = 0;
}

static __u64 rec_first(const struct np_flow_rec *r)
{
	__u64 a = r->dir[0].first_ns, b = r->dir[1].first_ns;

	if (!a)
		return b;
	return (!b || a < b) ? a : b;
}

/*
 * With both ports monitored, each CPU decides the server by the first
 * packet it saw, so one connection may be stored under both orientations.
 * The one seen first wins (SPEC: the destination of the first packet is
 * the server); the other is folded in with its directions swapped.
 */
static void fold_reversed(struct np_flowset *s, struct keyidx *x)
{
	size_t i, w = 0;

	for (i = 0; i < s->n; i++) {
		struct np_flow_rec *a = &s->v[i], *b;
		struct np_flow_key r;
		size_t *e;

		if (!a->dir[0].n_macs && !a->dir[1].n_macs &&
		    !a->dir[0].other_packets && !a->dir[1].other_packets)
			continue;	/* already folded away */
		reverse_key(&r, &a->key);
		e = keyidx_find(x, s, &r);
		if (!*e)
			continue;
		b = &s->v[*e - 1];
		if (rec_first(b) < rec_first(a) ||
		    (rec_first(b) == rec_first(a) && b < a))
			continue;	/* b absorbs a when its turn comes */
		np_dir_merge(&a->dir[0], &b->dir[1]);
		np_dir_merge(&a->dir[1], &b->dir[0]);
		memset(b->dir, 0, sizeof(b->dir));
	}
	for (i = 0; i < s->n; i++) {
		const struct np_flow_rec *a = &s->v[i];

		if (a->dir[0].n_macs || a->dir[1].n_macs ||
		    a->dir[0].other_packets || a->dir[1].other_packets)
			s->v[w++] = *a;
	}
	s->n = w;
}

/* ---- the table ---- */

int np_flowtab_init(struct np_flowtab *t, int fd, unsigned int n_slots,
		    bool track)
{
	memset(t, 0, sizeof(*t));
	t->fd = fd;
	t->n_slots = n_slots;
	t->ncpu = libbpf_num_possible_cpus();
	if (t->ncpu <= 0)
		return t->ncpu ? t->ncpu : -EINVAL;
	t->stride = (sizeof(struct np_flow) + 7) & ~(size_t)7;
	t->batch_keys = calloc(BATCH_SLOTS, sizeof(__u32));
	t->batch_vals = calloc((size_t)BATCH_SLOTS * t->ncpu, t->stride);
	t->track = track;
	if (track)
		t->prev = calloc((size_t)n_slots * t->ncpu, sizeof(*t->prev));
	if (!t->batch_keys || !t->batch_vals || (track && !t->prev)) {
		np_flowtab_free(t);
		return -ENOMEM;
	}
	return 0;
}

void np_flowtab_free(struct np_flowtab *t)
{
	free(t->batch_keys);
	free(t->batch_vals);
	free(t->prev);
	memset(t, 0, sizeof(*t));
	t->fd = -1;
}

static void retire_slot(const struct np_flow *old, np_retire_fn retire,
			void *ctx)
{
	struct np_flow_rec r;

	if (!retire)
		return;
	r.key = old->key;
	memcpy(r.dir, old->dir, sizeof(r.dir));
	retire(&r, ctx);
}

/* A slot now holds something other than what it held at the last read. */
static bool slot_replaced(const struct np_flow *old, const struct np_flow *cur)
{
	if (!old->in_use)
		return false;
	if (!cur->in_use || memcmp(&old->key, &cur->key, sizeof(cur->key)))
		return true;
	for (int d = 0; d < 2; d++)
		if (np_dir_packets(&cur->dir[d]) < np_dir_packets(&old->dir[d]))
			return true;
	return false;
}

static int merge_slot(struct np_flowset *s, struct keyidx *x,
		      const struct np_flow *f)
{
	size_t *e = keyidx_find(x, s, &f->key);
	struct np_flow_rec *r;

	if (!*e) {
		r = set_add(s);
		if (!r)
			return -ENOMEM;
		r->key = f->key;
		*e = s->n;
		if (s->n * 2 > x->mask) {
			/* grow the index: rebuild it at twice the size */
			struct keyidx nx;

			if (keyidx_init(&nx, s->n * 2))
				return -ENOMEM;
			for (size_t i = 0; i < s->n; i++)
				*keyidx_find(&nx, s, &s->v[i].key) = i + 1;
			free(x->slot);
			*x = nx;
		}
	} else {
		r = &s->v[*e - 1];
	}
	np_dir_merge(&r->dir[0], &f->dir[0]);
	np_dir_merge(&r->dir[1], &f->dir[1]);
	return 0;
}

int np_flowtab_read(struct np_flowtab *t, struct np_flowset *out,
		    np_retire_fn retire, void *ctx)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct keyidx x;
	__u32 in = 0, next = 0, done = 0;
	bool first = true;
	int err = 0;

	out->n = 0;
	if (keyidx_init(&x, out->cap ? out->cap : 1024))
		return -ENOMEM;

	while (done < t->n_slots) {
		__u32 count = BATCH_SLOTS;

		err = bpf_map_lookup_batch(t->fd, first ? NULL : &in, &next,
					   t->batch_keys, t->batch_vals,
					   &count, &opts);
		if (err && errno != ENOENT) {
			err = -errno;
			goto out;
		}
		for (__u32 i = 0; i < count; i++) {
			__u32 slot = t->batch_keys[i];

			for (int cpu = 0; cpu < t->ncpu; cpu++) {
				const struct np_flow *f = (const void *)
					((char *)t->batch_vals +
					 ((size_t)i * t->ncpu + cpu) * t->stride);

				if (t->track && slot < t->n_slots) {
					struct np_flow *old =
						&t->prev[(size_t)cpu * t->n_slots + slot];

					if (slot_replaced(old, f))
						retire_slot(old, retire, ctx);
					*old = *f;
				}
				if (f->in_use && merge_slot(out, &x, f)) {
					err = -ENOMEM;
					goto out;
				}
			}
		}
		done += count;
		if (err || !count)
			break;	/* ENOENT: that was the last batch */
		in = next;
		first = false;
	}
	err = 0;
	fold_reversed(out, &x);
out:
	free(x.slot);
	return err;
}

int np_read_stats(int fd, __u64 c[NP_STAT_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	size_t stride = (sizeof(__u64) * NP_STAT_MAX + 7) & ~(size_t)7;
	__u32 zero = 0;
	char *buf;
	int err;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	buf = calloc(ncpu, stride);
	if (!buf)
		return -ENOMEM;
	memset(c, 0, sizeof(__u64) * NP_STAT_MAX);
	err = bpf_map_lookup_elem(fd, &zero, buf);
	if (err) {
		err = -errno;
		goto out;
	}
	for (int cpu = 0; cpu < ncpu; cpu++) {
		const __u64 *v = (const __u64 *)(buf + (size_t)cpu * stride);

		for (int i = 0; i < NP_STAT_MAX; i++)
			c[i] += v[i];
	}
out:
	free(buf);
	return err;
}
