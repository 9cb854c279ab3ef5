// SPDX-License-Identifier: GPL-2.0
/* Reading and merging the per-CPU flow table and counters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flowtab.h"
#include "log.h"
#include "prog.h"
#include "keyidx.h"

#define BATCH_SLOTS	4096

_Static_assert(sizeof(struct np_flow_key) % 8 == 0, "key padding");
_Static_assert(sizeof(struct np_dir) % 8 == 0, "np_dir padding");
_Static_assert(sizeof(struct np_flow) % 8 == 0, "np_flow padding");
_Static_assert(sizeof(struct np_meta) % 8 == 0, "np_meta padding");
_Static_assert(__builtin_offsetof(struct np_dir, dst_mac) % 8 == 0 &&
	       __builtin_offsetof(struct np_dir, src_mac) ==
	       __builtin_offsetof(struct np_dir, dst_mac) + 6,
	       "the program copies both MACs as one u64 and one u32");

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

int np_dir_main_mac(const struct np_dir *d)
{
	__u64 best = d->other_packets;
	int m = -1;

	for (int i = 0; i < d->n_macs && i < NP_DIR_MACS; i++)
		if (d->macs[i].packets > best || (m < 0 && !best)) {
			best = d->macs[i].packets;
			m = i;
		}
	return m;
}

_Static_assert(NP_HS_MAX == sizeof(((struct np_retired *)0)->handshakes) /
	       sizeof(__u64), "np_retired.handshakes: one per np_hs_state");

enum np_hs_state np_flow_hs_state(const struct np_flow_rec *f)
{
	const struct np_dir *a = &f->dir[NP_DIR_TO_SERVER];
	const struct np_dir *b = &f->dir[NP_DIR_FROM_SERVER];

	return np_hs_state(a->syn_ns, b->syn_ns, b->syn_ns ? a->ack_ns : 0);
}

int np_flow_hs_dir(const struct np_flow_rec *f)
{
	return np_dir_packets(&f->dir[NP_DIR_FROM_SERVER]) ?
	       NP_DIR_FROM_SERVER : NP_DIR_TO_SERVER;
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
#define NP_X(name) into->name += from->name;
	NP_DIR_COUNTERS(NP_X)
#undef NP_X
	if (!into->first_ns || (from->first_ns && from->first_ns < into->first_ns))
		into->first_ns = from->first_ns;
	/* the handshake leg: the earliest, its MAC with it; retries add up
	 * (sequence state is each CPU's own and is not merged)
	 */
	if (from->syn_ns && (!into->syn_ns || from->syn_ns < into->syn_ns)) {
		if (into->syn_ns)
			into->syn_retries++;	/* the later first one */
		into->syn_ns = from->syn_ns;
		memcpy(into->syn_mac, from->syn_mac, 6);
	} else if (from->syn_ns) {
		into->syn_retries++;
	}
	into->syn_retries += from->syn_retries;
	if (from->ack_ns && (!into->ack_ns || from->ack_ns < into->ack_ns))
		into->ack_ns = from->ack_ns;
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

/* ---- merging slots by key ---- */

struct keyidx {
	struct np_keyidx i;
	/* while merging: the records with counts, the ports seen */
	size_t counted;
	__u64 server_ports[65536 / 64];
	__u64 client_ports[65536 / 64];
};

static int keyidx_init(struct keyidx *x, size_t want)
{
	x->i.slot = NULL;
	x->counted = 0;
	memset(x->server_ports, 0, sizeof(x->server_ports));
	memset(x->client_ports, 0, sizeof(x->client_ports));
	return np_keyidx_init(&x->i, want);
}

static struct np_keyent *keyidx_find(struct keyidx *x,
				     const struct np_flowset *s,
				     const struct np_flow_key *k)
{
	return np_keyidx_find(&x->i, s->v, sizeof(s->v[0]), k,
			      np_flow_key_hash(k));
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
	r->v6 = k->v6;
}


/*
 * With both ports monitored, each CPU decides the server by the first
 * packet it saw, so one connection may be stored under both orientations.
 * The one seen first wins (nbdpath(8), TERMS: the destination of the first packet is
 * the server); the other is folded in with its directions swapped.
 */
static bool rec_counted(const struct np_flow_rec *a)
{
	return a->dir[0].n_macs || a->dir[1].n_macs ||
	       a->dir[0].other_packets || a->dir[1].other_packets;
}

static void fold_reversed(struct np_flowset *s, struct keyidx *x)
{
	size_t i, w = 0, folded = 0;
	__u64 both = 0;

	/* a reversed key has our client port as its server port: a port
	 * seen on both sides is needed for anything to fold (on a sensor
	 * of port 902 alone, never)
	 */
	for (i = 0; i < 65536 / 64; i++)
		both |= x->server_ports[i] & x->client_ports[i];
	for (i = 0; both && i < s->n; i++) {
		struct np_flow_rec *a = &s->v[i], *b;
		__u16 cp = a->key.client_port;
		struct np_flow_key r;
		struct np_keyent *e;

		if (!(x->server_ports[cp / 64] & (1ull << (cp % 64))))
			continue;
		if (!rec_counted(a))
			continue;	/* already folded away */
		reverse_key(&r, &a->key);
		e = keyidx_find(x, s, &r);
		if (!e->idx)
			continue;
		b = &s->v[e->idx - 1];
		/* both ends the same address and port: its own reverse, one
		 * connection, nothing to fold (folding it into itself would
		 * zero it)
		 */
		if (b == a)
			continue;
		if (np_flow_rec_first(b) < np_flow_rec_first(a) ||
		    (np_flow_rec_first(b) == np_flow_rec_first(a) && b < a))
			continue;	/* b absorbs a when its turn comes */
		np_dir_merge(&a->dir[0], &b->dir[1]);
		np_dir_merge(&a->dir[1], &b->dir[0]);
		memset(b->dir, 0, sizeof(b->dir));
		folded++;
	}
	/* drop the records without counts, if there are any */
	if (!folded && x->counted == s->n)
		return;
	for (i = 0; i < s->n; i++) {
		const struct np_flow_rec *a = &s->v[i];

		if (!rec_counted(a))
			continue;
		if (w != i)
			s->v[w] = *a;
		w++;
	}
	s->n = w;
}

/* ---- the table ---- */

int np_flowtab_init(struct np_flowtab *t, int fd, unsigned int n_slots,
		    bool track)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	size_t total, page = sysconf(_SC_PAGESIZE);
	void *map;

	memset(t, 0, sizeof(*t));
	t->fd = fd;
	t->n_slots = n_slots;
	t->ncpu = libbpf_num_possible_cpus();
	if (t->ncpu <= 0)
		return t->ncpu ? t->ncpu : -EINVAL;
	t->stride = (sizeof(struct np_flow) + 7) & ~(size_t)7;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	total = (size_t)n_slots * t->ncpu;
	/* buckets never straddle two CPUs' partitions */
	if (info.type != BPF_MAP_TYPE_ARRAY ||
	    !(info.map_flags & BPF_F_MMAPABLE) ||
	    info.value_size != sizeof(struct np_flow) ||
	    info.max_entries != total || n_slots % NP_FLOW_BUCKET)
		return -EPROTO;
	/*
	 * A read-only fd (a query's, BPF_F_RDONLY) cannot be mapped: mmap()
	 * drops VM_SHARED for a file not open for writing, and the kernel
	 * maps BPF maps shared only. Such a reader copies the table with
	 * batch look-ups instead, as slow as a per-CPU array was.
	 */
	t->map_len = (total * t->stride + page - 1) / page * page;
	map = mmap(NULL, t->map_len, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		t->map_len = 0;
	else
		t->map = map;
	t->batch_keys = calloc(BATCH_SLOTS, sizeof(__u32));
	t->batch_vals = calloc(BATCH_SLOTS, t->stride);
	t->track = track;
	if (track) {
		/*
		 * Room for every slot, so that a read never runs out half
		 * way; only the slots in use are ever written, and the rest
		 * is never touched and takes no memory.
		 */
		t->cap = total;
		t->prev = malloc(total * sizeof(*t->prev));
		t->cur = malloc(total * sizeof(*t->cur));
		t->prev_slot = malloc(total * sizeof(*t->prev_slot));
		t->cur_slot = malloc(total * sizeof(*t->cur_slot));
	}
	if (!t->batch_keys || !t->batch_vals ||
	    (track && (!t->prev || !t->cur || !t->prev_slot || !t->cur_slot))) {
		np_flowtab_free(t);
		return -ENOMEM;
	}
	return 0;
}

void np_flowtab_free(struct np_flowtab *t)
{
	if (t->map)
		munmap((void *)t->map, t->map_len);
	free(t->batch_keys);
	free(t->batch_vals);
	free(t->prev);
	free(t->cur);
	free(t->prev_slot);
	free(t->cur_slot);
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
	for (int d = 0; d < 2; d++) {
		if (np_dir_packets(&cur->dir[d]) < np_dir_packets(&old->dir[d]))
			return true;
		/* the same key reclaimed for a new connection that already
		 * counts as much: its first frame came after the old one's
		 * last (a flow's first time only ever moves back)
		 */
		if (old->dir[d].last_ns &&
		    cur->dir[d].first_ns > old->dir[d].last_ns)
			return true;
	}
	return false;
}

static int merge_slot(struct np_flowset *s, struct keyidx *x,
		      const struct np_flow *f)
{
	struct np_keyent *e = keyidx_find(x, s, &f->key);
	struct np_flow_rec *r;
	bool counted;

	if (!e->idx) {
		__u16 sp = f->key.server_port, cp = f->key.client_port;

		r = set_add(s);
		if (!r)
			return -ENOMEM;
		r->key = f->key;
		e->idx = s->n;
		x->server_ports[sp / 64] |= 1ull << (sp % 64);
		x->client_ports[cp / 64] |= 1ull << (cp % 64);
		if (s->n * 2 > x->i.mask) {
			/* grow the index: rebuild it at twice the size */
			struct np_keyidx nx = {};

			if (np_keyidx_init(&nx, s->n * 2))
				return -ENOMEM;
			for (size_t i = 0; i < s->n; i++) {
				const struct np_flow_key *k = &s->v[i].key;

				np_keyidx_find(&nx, s->v, sizeof(s->v[0]), k,
					       np_flow_key_hash(k))->idx = i + 1;
			}
			np_keyidx_free(&x->i);
			x->i = nx;
		}
	} else {
		r = &s->v[e->idx - 1];
	}
	counted = rec_counted(r);
	np_dir_merge(&r->dir[0], &f->dir[0]);
	np_dir_merge(&r->dir[1], &f->dir[1]);
	x->counted += !counted && rec_counted(r);
	return 0;
}

static const struct np_flow *map_slot(const struct np_flowtab *t, size_t i)
{
	return (const void *)((const char *)t->map + i * t->stride);
}

/* in_use of a slot the program may be writing: read it once, now */
static __u8 slot_in_use(const struct np_flowtab *t, size_t i)
{
	return *(const volatile __u8 *)&map_slot(t, i)->in_use;
}

/*
 * The slots of [*from, end) in use, up to BATCH_SLOTS of them, into
 * batch_keys; *from moves to where the scan stopped (a bucket boundary).
 * The program fills a bucket's slots in order and never empties one, so
 * a bucket whose first slot is free is free: only that slot's in_use is
 * read, one cache miss per bucket, fetched ahead.
 */
static __u32 scan_slots(struct np_flowtab *t, size_t *from, size_t end)
{
	enum { AHEAD = 16 * NP_FLOW_BUCKET };
	size_t i = *from;
	__u32 n = 0;

	for (; i < end && n <= BATCH_SLOTS - NP_FLOW_BUCKET;
	     i += NP_FLOW_BUCKET) {
		if (i + AHEAD < end)
			__builtin_prefetch(&map_slot(t, i + AHEAD)->in_use);
		if (!slot_in_use(t, i))
			continue;
		t->batch_keys[n++] = i;
		for (size_t j = i + 1; j < i + NP_FLOW_BUCKET; j++)
			if (slot_in_use(t, j))
				t->batch_keys[n++] = j;
	}
	*from = i;
	return n;
}

/*
 * Without the mapping: the next BATCH_SLOTS slots from *from, copied
 * into batch_vals, their indexes into batch_keys; *m of them.
 */
static int fetch_slots(struct np_flowtab *t, size_t *from, size_t end,
		       __u32 *m)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 in = *from - 1, out = 0, count = BATCH_SLOTS;

	if (count > end - *from)
		count = end - *from;
	/* the batch starts after in: the slot before *from */
	if (bpf_map_lookup_batch(t->fd, *from ? &in : NULL, &out,
				 t->batch_keys, t->batch_vals, &count, &opts) &&
	    errno != ENOENT)
		return -errno;
	if (!count)
		return -EIO;		/* a table shorter than it says */
	*m = count;
	*from += count;
	return 0;
}

int np_flowtab_read(struct np_flowtab *t, struct np_flowset *out,
		    np_retire_fn retire, void *ctx)
{
	size_t total = (size_t)t->n_slots * t->ncpu, next = 0;
	size_t p = 0, n = 0;		/* in prev; in cur */
	struct keyidx x;
	int err = 0, ferr = 0;

	out->n = 0;
	if (!t->batch_keys)
		return -EBADF;
	if (keyidx_init(&x, out->cap ? out->cap : 1024))
		return -ENOMEM;

	while (next < total) {
		__u32 m = 0;

		if (t->map)
			m = scan_slots(t, &next, total);
		else if ((ferr = fetch_slots(t, &next, total, &m)))
			break;
		for (__u32 j = 0; j < m; j++) {
			__u32 i = t->batch_keys[j];
			const struct np_flow *old = NULL, *src;
			struct np_flow *f;

			if (t->map) {
				src = map_slot(t, i);
				/* the slots in use are scattered over the map */
				if (j + 4 < m) {
					const char *a = (const char *)
						map_slot(t, t->batch_keys[j + 4]);

					for (size_t o = 0; o < sizeof(*f); o += 64)
						__builtin_prefetch(a + o);
				}
			} else {
				src = (void *)((char *)t->batch_vals +
					       j * t->stride);
				if (!src->in_use)
					continue;
			}
			if (!t->track) {
				/* one copy of the live slot; all else reads it */
				f = (void *)((char *)t->batch_vals + j * t->stride);
				if (f != src)
					memcpy(f, src, sizeof(*f));
				if (!err && f->in_use && merge_slot(out, &x, f))
					err = -ENOMEM;
				continue;
			}
			/* both lists are in slot order: walk them together */
			for (; p < t->n_prev && t->prev_slot[p] < i; p++)
				/* in use then, free now: cannot happen (a
				 * slot is never emptied), but if it did its
				 * counts would be kept
				 */
				retire_slot(&t->prev[p], retire, ctx);
			if (p < t->n_prev && t->prev_slot[p] == i)
				old = &t->prev[p++];
			f = &t->cur[n];
			memcpy(f, src, sizeof(*f));
			if (old && slot_replaced(old, f))
				retire_slot(old, retire, ctx);
			if (!f->in_use)
				continue;
			t->cur_slot[n++] = i;
			/* after a failure, only the tracking goes on: it
			 * must stay in step with the table
			 */
			if (!err && merge_slot(out, &x, f))
				err = -ENOMEM;
		}
	}
	if (t->track) {
		struct np_flow *v = t->prev;
		__u32 *sl = t->prev_slot;

		if (ferr) {
			/* cut short: the slots not read keep their last
			 * read, as if this one had never reached them
			 */
			for (; p < t->n_prev; p++, n++) {
				t->cur[n] = t->prev[p];
				t->cur_slot[n] = t->prev_slot[p];
			}
		}
		for (; p < t->n_prev; p++)
			retire_slot(&t->prev[p], retire, ctx);
		/* this read is the last read now */
		t->prev = t->cur;
		t->cur = v;
		t->prev_slot = t->cur_slot;
		t->cur_slot = sl;
		t->n_prev = n;
	}
	if (ferr)
		err = ferr;
	if (!err)
		fold_reversed(out, &x);
	np_keyidx_free(&x.i);
	return err;
}

int np_read_stats(int fd, __u64 c[NP_STAT_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), zero = 0;
	size_t stride;
	char *buf;
	int err;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	/*
	 * Each CPU's value starts with the counters; the program keeps its
	 * scratch after them (the map's value size says how much)
	 */
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.value_size < sizeof(__u64) * NP_STAT_MAX)
		return -EINVAL;
	stride = ((size_t)info.value_size + 7) & ~(size_t)7;
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
	/* the program counts each frame once, in its outcome */
	for (int i = NP_OUTCOME_FIRST; i <= NP_OUTCOME_LAST; i++)
		c[NP_STAT_PACKETS] += c[i];
out:
	free(buf);
	return err;
}

/* ---- retiring a reclaimed slot's counts ---- */

static int retired_put(int fd, const struct np_retired_key *k, __u64 packets,
		       __u64 bytes, const __u64 *health, __u64 flags)
{
	struct np_retired v;

	if (bpf_map_lookup_elem(fd, k, &v)) {
		if (errno != ENOENT)
			return -errno;
		memset(&v, 0, sizeof(v));
	}
	v.packets += packets;
	v.bytes += bytes;
	if (health) {
		v.retransmits += health[0];
		v.retransmit_bytes += health[1];
		v.resets += health[2];
		for (int i = 0; i < NP_HS_MAX; i++)
			v.handshakes[i] += health[3 + i];
	}
	if (bpf_map_update_elem(fd, k, &v, flags))
		return -errno;
	return 0;
}

int np_retired_reserve(int fd)
{
	struct np_retired_key k = { .overflow = 1 };
	int err = 0;

	for (k.dir = 0; k.dir < 2 && !err; k.dir++)
		err = retired_put(fd, &k, 0, 0, NULL, BPF_ANY);
	return err;
}

static int retire_add(int fd, const struct np_flow_key *key,
		      const __u8 mac[6], int dir, __u64 packets, __u64 bytes,
		      const __u64 *health)
{
	static bool said;
	struct np_retired_key k;
	int err;

	memset(&k, 0, sizeof(k));
	memcpy(k.server_ip, key->server_ip, 16);
	k.v6 = !!key->v6;
	memcpy(k.mac, mac, 6);
	k.dir = dir;
	err = retired_put(fd, &k, packets, bytes, health, BPF_ANY);
	if (err != -E2BIG)
		return err;
	/* the map is full: the bucket made with it keeps the counts */
	memset(&k, 0, sizeof(k));
	k.dir = dir;
	k.overflow = 1;
	err = retired_put(fd, &k, packets, bytes, health, BPF_EXIST);
	if (!err && !said) {
		said = true;
		np_warn("%s is full: the counts of expired flows of further hosts go to one bucket, reported as host \"::\" (totals stay exact)",
			NP_PIN_RETIRED);
	}
	return err;
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
		__u64 health[3 + NP_HS_MAX] = { x->retransmits,
						x->retransmit_bytes,
						x->resets };
		int main = np_dir_main_mac(x);

		if (d == np_flow_hs_dir(rec))
			health[3 + np_flow_hs_state(rec)] = 1;

		for (int i = 0; i < x->n_macs && i < NP_DIR_MACS && !err; i++)
			if (x->macs[i].packets)
				err = retire_add(m->retired, &rec->key,
						 x->macs[i].mac, d,
						 x->macs[i].packets,
						 x->macs[i].bytes,
						 i == main ? health : NULL);
		if (!err && x->other_packets)
			err = retire_add(m->retired, &rec->key, zero,
					 d, x->other_packets, x->other_bytes,
					 main < 0 ? health : NULL);
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
