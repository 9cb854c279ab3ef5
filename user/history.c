// SPDX-License-Identifier: GPL-2.0
/*
 * Current verdicts over a window (see history.h). Each report's per-host
 * totals are kept as a snapshot; a host's window is its totals now minus
 * those of the newest snapshot at least a window old (none: everything
 * since the start is inside the window). Snapshots older than that one
 * are dropped, so memory follows the window, not the run's length.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "history.h"
#include "vec.h"

/* One host's counts through one server-side MAC, one direction. */
struct hcount {
	struct np_ip ip;
	__u8	mac[6];
	__u8	dir;
	__u8	other;
	__u64	packets;
	__u64	bytes;
};

struct snap {
	__s64	time_ns;
	struct hcount *v;		/* in host order: IP, dir, other, MAC */
	size_t	n;
};

/* A host's current verdict and its transitions. */
struct hstate {
	struct np_ip ip;
	enum np_verdict verdict;
	__s64	since_ns;
	__s64	asym_until_ns;
	struct np_change changes[NP_HISTORY_CHANGES];	/* a ring */
	size_t	n_changes;			/* ever */
};

struct np_history {
	__u64	window_ns;
	struct snap *snaps;		/* oldest first, n_snaps of them */
	size_t	n_snaps;
	struct np_vec snap_vec;		/* their storage */
	struct hstate *hosts;		/* by IP */
	size_t	n_hosts;
	int	map_fd;			/* np_current to publish to; -1 */
	__u64	slack_ns;		/* see np_history_set_slack() */
};

_Static_assert(NP_HISTORY_CHANGES >= NP_CURRENT_CHANGES, "np_current");

/* What a report hands the host's "current": the window's lists. */
struct cur_store {
	struct np_rmac *rmacs;
	struct np_change *changes;
};

void np_history_publish(struct np_history *h, int map_fd)
{
	h->map_fd = map_fd;
}

void np_history_set_slack(struct np_history *h, __u64 slack_ns)
{
	h->slack_ns = slack_ns < h->window_ns / 2 ? slack_ns : h->window_ns / 2;
}

static struct cur_store *store_new(struct np_report *r, size_t n_macs,
				   size_t n_changes)
{
	struct cur_store *cs = calloc(1, sizeof(*cs));

	if (!cs)
		return NULL;
	r->history_store = cs;
	cs->rmacs = calloc(n_macs ? n_macs : 1, sizeof(*cs->rmacs));
	cs->changes = calloc(n_changes ? n_changes : 1, sizeof(*cs->changes));
	return cs->rmacs && cs->changes ? cs : NULL;
}

/* A host's current in the np_current form. */
static void publish(int fd, const struct np_rhost *host)
{
	const struct np_rcurrent *c = &host->cur;
	struct np_current v = {
		.verdict = c->verdict,
		.since_ns = c->since_ns,
		.asym_until_ns = c->asym_until_ns,
	};
	struct np_current_key k = { .v6 = host->ip.v6 };
	size_t skip = c->n_changes > NP_CURRENT_CHANGES ?
		      c->n_changes - NP_CURRENT_CHANGES : 0;

	memcpy(k.server_ip, host->ip.b, 16);
	for (size_t i = skip; i < c->n_changes; i++) {
		v.changes[v.n_changes].time_ns = c->changes[i].time_ns;
		v.changes[v.n_changes++].verdict = c->changes[i].verdict;
	}
	for (int d = 0; d < 2; d++)
		for (size_t i = 0; i < c->n[d] && v.n_macs < NP_CURRENT_MACS;
		     i++) {
			memcpy(v.macs[v.n_macs].mac, c->dir[d][i].mac, 6);
			v.macs[v.n_macs].dir = d;
			v.macs[v.n_macs].other = c->dir[d][i].other;
			v.macs[v.n_macs].packets = c->dir[d][i].packets;
			v.macs[v.n_macs++].bytes = c->dir[d][i].bytes;
		}
	/* a query sees the last poll's at worst */
	bpf_map_update_elem(fd, &k, &v, BPF_ANY);
}

int np_history_from_map(struct np_report *r, int map_fd)
{
	struct cur_store *cs;
	size_t used = 0, n_ch = 0;

	cs = store_new(r, r->n_hosts * NP_CURRENT_MACS,
		       r->n_hosts * NP_CURRENT_CHANGES);
	if (!cs)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_hosts; i++) {
		struct np_rhost *host = &r->hosts[i];
		struct np_rcurrent *c = &host->cur;
		struct np_current_key k = { .v6 = host->ip.v6 };
		struct np_current v;

		if (host->overflow)
			continue;
		memcpy(k.server_ip, host->ip.b, 16);
		if (bpf_map_lookup_elem(map_fd, &k, &v))
			continue;	/* not published yet */
		c->verdict = v.verdict < NP_V_MAX ? v.verdict : NP_V_NONE;
		c->since_ns = v.since_ns;
		c->asym_until_ns = v.asym_until_ns;
		for (int d = 0; d < 2; d++) {
			c->dir[d] = &cs->rmacs[used];
			c->n[d] = 0;
			for (__u32 j = 0; j < v.n_macs && j < NP_CURRENT_MACS;
			     j++) {
				struct np_rmac *x;
				const struct np_rmac *t;

				if (v.macs[j].dir != d)
					continue;
				x = &cs->rmacs[used++];
				memcpy(x->mac, v.macs[j].mac, 6);
				x->other = v.macs[j].other;
				x->packets = v.macs[j].packets;
				x->bytes = v.macs[j].bytes;
				/* names and owners as the totals have them */
				for (size_t m = 0; m < host->n[d]; m++) {
					t = &host->dir[d][m];
					if (t->other == x->other &&
					    !memcmp(t->mac, x->mac, 6)) {
						x->name = t->name;
						x->owner = t->owner;
					}
				}
				c->n[d]++;
			}
		}
		c->changes = &cs->changes[n_ch];
		c->n_changes = 0;
		for (__u32 j = 0; j < v.n_changes && j < NP_CURRENT_CHANGES;
		     j++) {
			cs->changes[n_ch].time_ns = v.changes[j].time_ns;
			cs->changes[n_ch++].verdict =
				v.changes[j].verdict < NP_V_MAX ?
				v.changes[j].verdict : NP_V_NONE;
			c->n_changes++;
		}
		host->has_current = true;
	}
	return 0;
}

int np_history_new(struct np_history **out, __u64 window_ns)
{
	struct np_history *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->window_ns = window_ns;
	h->map_fd = -1;
	h->snap_vec.sz = sizeof(struct snap);
	*out = h;
	return 0;
}

void np_history_free(struct np_history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n_snaps; i++)
		free(h->snaps[i].v);
	np_vec_free(&h->snap_vec);
	free(h->hosts);
	free(h);
}

static int cmp_hcount(const void *pa, const void *pb)
{
	const struct hcount *a = pa, *b = pb;
	int c = np_ip_cmp(&a->ip, &b->ip);

	if (c)
		return c;
	if (a->dir != b->dir)
		return a->dir - b->dir;
	if (a->other != b->other)
		return a->other - b->other;
	return memcmp(a->mac, b->mac, 6);
}

/* r's host lists as a snapshot: they are in hcount order already. */
static int snap_take(struct np_history *h, const struct np_report *r)
{
	struct snap *s;
	size_t n = 0;

	for (size_t i = 0; i < r->n_hosts; i++)
		n += r->hosts[i].n[0] + r->hosts[i].n[1];
	s = np_vec_add(&h->snap_vec);
	if (!s)
		return -ENOMEM;
	h->snaps = h->snap_vec.v;
	s->time_ns = r->time_ns;
	s->n = 0;
	s->v = malloc((n ? n : 1) * sizeof(*s->v));
	if (!s->v) {
		h->snap_vec.n = h->n_snaps;
		return -ENOMEM;
	}
	for (size_t i = 0; i < r->n_hosts; i++)
		for (int d = 0; d < 2; d++)
			for (size_t j = 0; j < r->hosts[i].n[d]; j++) {
				const struct np_rmac *m = &r->hosts[i].dir[d][j];
				struct hcount *x = &s->v[s->n++];

				memset(x, 0, sizeof(*x));
				x->ip = r->hosts[i].ip;
				memcpy(x->mac, m->mac, 6);
				x->dir = d;
				x->other = m->other;
				x->packets = m->packets;
				x->bytes = m->bytes;
			}
	h->n_snaps++;
	return 0;
}

/*
 * The snapshot the window starts from at time now, or NULL when the
 * window reaches back past the first one; older ones are dropped.
 */
static const struct snap *window_start(struct np_history *h, __s64 now)
{
	size_t k = h->n_snaps;

	/* the newest snapshot at least a window old (less the slack) */
	while (k > 0 && now - h->snaps[k - 1].time_ns <
			(__s64)(h->window_ns - h->slack_ns))
		k--;
	if (!k)
		return NULL;
	k--;
	if (k > 0) {
		for (size_t i = 0; i < k; i++)
			free(h->snaps[i].v);
		memmove(h->snaps, h->snaps + k,
			(h->n_snaps - k) * sizeof(*h->snaps));
		h->n_snaps -= k;
		h->snap_vec.n = h->n_snaps;
	}
	return &h->snaps[0];
}

static const struct hcount *snap_find(const struct snap *s,
				      const struct hcount *k)
{
	if (!s || !s->n)
		return NULL;
	return bsearch(k, s->v, s->n, sizeof(*k), cmp_hcount);
}

static int cmp_hstate(const void *key, const void *elem)
{
	return np_ip_cmp(key, &((const struct hstate *)elem)->ip);
}

/* The state of host ip, added in IP order when new. */
static struct hstate *state_of(struct np_history *h, const struct np_ip *ip)
{
	struct hstate *s = NULL, *v;
	size_t lo = 0, hi = h->n_hosts;

	if (h->n_hosts)
		s = bsearch(ip, h->hosts, h->n_hosts, sizeof(*s), cmp_hstate);
	if (s)
		return s;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (np_ip_cmp(&h->hosts[mid].ip, ip) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	v = realloc(h->hosts, (h->n_hosts + 1) * sizeof(*v));
	if (!v)
		return NULL;
	h->hosts = v;
	memmove(&v[lo + 1], &v[lo], (h->n_hosts - lo) * sizeof(*v));
	h->n_hosts++;
	memset(&v[lo], 0, sizeof(v[lo]));
	v[lo].ip = *ip;
	v[lo].verdict = NP_V_NONE;
	return &v[lo];
}

static void transition(struct hstate *s, enum np_verdict v, __s64 t)
{
	if (s->verdict == v)
		return;
	if (s->verdict == NP_V_ASYMMETRIC)
		s->asym_until_ns = t;
	s->verdict = v;
	s->since_ns = t;
	s->changes[s->n_changes % NP_HISTORY_CHANGES] =
		(struct np_change){ .time_ns = t, .verdict = v };
	s->n_changes++;
}

/* The totals' rule over the window's lists; nothing in them: idle. */
static enum np_verdict window_verdict(struct np_rmac *const dir[2],
				      const size_t n[2])
{
	enum np_verdict v = np_lists_verdict(dir, n);

	return v == NP_V_NONE ? NP_V_IDLE : v;
}

int np_history_current(struct np_history *h, struct np_report *r)
{
	const struct snap *base;
	struct cur_store *cs;
	size_t n = 0, used = 0, n_ch = 0;
	int err;

	base = window_start(h, r->time_ns);
	for (size_t i = 0; i < r->n_hosts; i++)
		n += r->hosts[i].n[0] + r->hosts[i].n[1];
	cs = store_new(r, n, r->n_hosts * NP_HISTORY_CHANGES);
	if (!cs)
		return -ENOMEM;

	for (size_t i = 0; i < r->n_hosts; i++) {
		struct np_rhost *host = &r->hosts[i];
		struct np_rcurrent *c = &host->cur;
		struct hstate *s;
		size_t k;

		if (host->overflow)
			continue;	/* many hosts: no current verdict of one */
		s = state_of(h, &host->ip);
		if (!s)
			return -ENOMEM;
		for (int d = 0; d < 2; d++) {
			c->dir[d] = &cs->rmacs[used];
			c->n[d] = 0;
			for (size_t j = 0; j < host->n[d]; j++) {
				const struct np_rmac *m = &host->dir[d][j];
				struct hcount key = { .dir = d,
						      .other = m->other };
				const struct hcount *b;
				struct np_rmac *x;

				key.ip = host->ip;
				memcpy(key.mac, m->mac, 6);
				b = snap_find(base, &key);
				if (b && b->packets >= m->packets)
					continue;	/* nothing new */
				x = &cs->rmacs[used++];
				*x = *m;
				x->packets = m->packets - (b ? b->packets : 0);
				x->bytes = m->bytes - (b ? b->bytes : 0);
				x->pps = x->bps = 0;
				c->n[d]++;
			}
		}
		transition(s, window_verdict(c->dir, c->n), r->time_ns);
		c->verdict = s->verdict;
		c->since_ns = s->since_ns;
		c->asym_until_ns = s->verdict == NP_V_ASYMMETRIC ? 0 :
				   s->asym_until_ns;
		k = s->n_changes < NP_HISTORY_CHANGES ? s->n_changes :
							 NP_HISTORY_CHANGES;
		c->changes = &cs->changes[n_ch];
		c->n_changes = k;
		for (size_t j = 0; j < k; j++)
			cs->changes[n_ch++] =
				s->changes[(s->n_changes - k + j) %
					   NP_HISTORY_CHANGES];
		host->has_current = true;
		if (h->map_fd >= 0)
			publish(h->map_fd, host);
	}
	err = snap_take(h, r);
	return err;
}

void np_history_free_current(struct np_report *r)
{
	struct cur_store *cs = r->history_store;

	if (!cs)
		return;
	free(cs->rmacs);
	free(cs->changes);
	free(cs);
	r->history_store = NULL;
}
