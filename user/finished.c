// SPDX-License-Identifier: GPL-2.0
/* The finished flows' records (see finished.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "finished.h"

#define FIRST_CAP	1024

int np_finished_init(struct np_finished *f, size_t cap, __u64 keep_ns,
		     bool grow)
{
	memset(f, 0, sizeof(*f));
	f->max_cap = cap ? cap : 1;
	f->cap = f->max_cap < FIRST_CAP || !grow ? f->max_cap : FIRST_CAP;
	f->v = calloc(f->cap, sizeof(*f->v));
	if (!f->v)
		return -ENOMEM;
	f->keep_ns = keep_ns;
	f->map_fd = -1;
	return 0;
}

/* A ring full for the first time grows, records staying in order. */
static void grow(struct np_finished *f)
{
	size_t cap = f->cap * 2 < f->max_cap ? f->cap * 2 : f->max_cap;
	struct np_fin_rec *v;

	if (f->head != f->cap || cap == f->cap)
		return;
	v = realloc(f->v, cap * sizeof(*v));
	if (!v)
		return;		/* short of memory: the ring wraps instead */
	memset(v + f->cap, 0, (cap - f->cap) * sizeof(*v));
	f->v = v;
	f->cap = cap;
}

/* A slot's record and what was kept of it, freed for the next. */
static void clear(struct np_fin_rec *x)
{
	free(x->rec);
	free(x->kept);
	x->rec = NULL;
	x->kept = NULL;
}

void np_finished_free(struct np_finished *f)
{
	for (size_t i = 0; f->v && i < f->cap; i++)
		clear(&f->v[i]);
	free(f->v);
	free(f->order);
	memset(f, 0, sizeof(*f));
}

void np_finished_add(struct np_finished *f, const struct np_flow_rec *rec,
		     enum np_flow_state st)
{
	struct np_fin_rec *x;
	__u64 ended = np_flow_rec_last(rec);
	struct np_flow_rec *full = malloc(sizeof(*full));

	if (f->cap < f->max_cap)
		grow(f);
	x = &f->v[f->head % f->cap];

	/* the record given way was still listed: dropped by the bound */
	if (f->head >= f->cap && np_finished_listed(f, x->ended_ns, ended))
		f->dropped++;
	clear(x);
	/* short of memory: the record is not listed, its counts stay in
	 * the totals; counted as dropped
	 */
	if (full)
		*full = *rec;
	else
		f->dropped++;
	x->rec = full;
	x->key = rec->key;
	x->ended_ns = ended;
	x->state = st == NP_FS_ACTIVE ? NP_FS_IDLE : st;
	if (f->map_fd >= 0) {
		struct np_finished_rec m = { .key = rec->key,
					     .ended_ns = ended,
					     .state = x->state };
		__u32 k = f->head % f->cap;

		m.dir[0] = rec->dir[0];
		m.dir[1] = rec->dir[1];
		/* a query misses this record at worst; the report has it */
		bpf_map_update_elem(f->map_fd, &k, &m, BPF_ANY);
	}
	f->head++;
}

int np_finished_load(struct np_finished *f, int fd, const struct np_meta *m)
{
	__u64 n = m->finished_head < f->cap ? m->finished_head : f->cap;

	f->head = m->finished_head;
	f->dropped = m->flows_dropped;
	f->keep_ns = m->keep_finished_ns;
	for (__u64 i = 0; i < n; i++) {
		__u32 k = (m->finished_head - 1 - i) % f->cap;
		struct np_finished_rec r;
		struct np_fin_rec *x = &f->v[k];

		if (bpf_map_lookup_elem(fd, &k, &r))
			return -errno;
		clear(x);
		x->rec = calloc(1, sizeof(*x->rec));
		if (!x->rec)
			return -ENOMEM;
		x->key = r.key;
		x->rec->key = r.key;
		x->rec->dir[0] = r.dir[0];
		x->rec->dir[1] = r.dir[1];
		x->ended_ns = r.ended_ns;
		x->state = r.state;
	}
	return 0;
}

/* By end, newest first; ties: the newest added first. */
static int cmp_ord(const void *pa, const void *pb)
{
	const struct np_fin_ord *a = pa, *b = pb;

	if (a->ended_ns != b->ended_ns)
		return a->ended_ns > b->ended_ns ? -1 : 1;
	return a->seq > b->seq ? -1 : a->seq < b->seq;
}

int np_finished_order(struct np_finished *f, const struct np_fin_ord **order,
		      size_t *n)
{
	__u64 low = f->head > f->cap ? f->head - f->cap : 0;
	__u64 from = f->sorted > low ? f->sorted : low;
	size_t nb = f->head - from, k = 0, i = 0, j = 0;
	struct np_fin_ord *batch, *v;

	if (f->sorted == f->head)
		goto out;
	batch = malloc((nb + 1) * sizeof(*batch));
	v = malloc((f->n_order + nb + 1) * sizeof(*v));
	if (!batch || !v) {
		free(batch);
		free(v);
		return -ENOMEM;
	}
	for (size_t b = 0; b < nb; b++) {
		const struct np_fin_rec *x = np_finished_at(f, from + b);

		batch[b] = (struct np_fin_ord){ .seq = from + b,
						.ended_ns = x->ended_ns,
						.synack_ns = x->synack_ns,
						.kept = x->kept };
	}
	qsort(batch, nb, sizeof(*batch), cmp_ord);
	/* the records kept in order, less those overwritten since, merged
	 * with the new ones
	 */
	while (i < f->n_order || j < nb) {
		if (i < f->n_order && f->order[i].seq < low) {
			i++;
			continue;
		}
		if (j == nb || (i < f->n_order &&
				cmp_ord(&f->order[i], &batch[j]) < 0))
			v[k++] = f->order[i++];
		else
			v[k++] = batch[j++];
	}
	free(batch);
	free(f->order);
	f->order = v;
	f->n_order = k;
	f->sorted = f->head;
out:
	*order = f->order;
	*n = f->n_order;
	return 0;
}

bool np_finished_listed(const struct np_finished *f, __u64 ended_ns,
			__u64 now)
{
	return !f->keep_ns || !now || now < ended_ns ||
	       now - ended_ns < f->keep_ns;
}

__u64 np_finished_dropped(const struct np_finished *f)
{
	return f->dropped;
}
