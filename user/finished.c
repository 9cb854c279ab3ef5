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
	f->v = v;
	f->cap = cap;
}

void np_finished_free(struct np_finished *f)
{
	free(f->v);
	memset(f, 0, sizeof(*f));
}

void np_finished_add(struct np_finished *f, const struct np_flow_rec *rec,
		     enum np_flow_state st)
{
	struct np_fin_rec *x;
	__u64 ended = np_flow_rec_last(rec);

	if (f->cap < f->max_cap)
		grow(f);
	x = &f->v[f->head % f->cap];

	/* the record given way was still listed: dropped by the bound */
	if (f->head >= f->cap && np_finished_listed(f, x, ended))
		f->dropped++;
	x->rec = *rec;
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
		memset(x, 0, sizeof(*x));
		x->rec.key = r.key;
		x->rec.dir[0] = r.dir[0];
		x->rec.dir[1] = r.dir[1];
		x->ended_ns = r.ended_ns;
		x->state = r.state;
	}
	return 0;
}

size_t np_finished_count(const struct np_finished *f)
{
	return f->head < f->cap ? f->head : f->cap;
}

const struct np_fin_rec *np_finished_get(const struct np_finished *f,
					 size_t i)
{
	return &f->v[(f->head - 1 - i) % f->cap];
}

bool np_finished_listed(const struct np_finished *f,
			const struct np_fin_rec *x, __u64 now)
{
	return !f->keep_ns || !now || now < x->ended_ns ||
	       now - x->ended_ns < f->keep_ns;
}

__u64 np_finished_gone(const struct np_finished *f, __u64 now)
{
	__u64 gone = f->head > f->cap ? f->head - f->cap : 0;
	size_t n = np_finished_count(f);

	for (size_t i = 0; i < n; i++)
		gone += !np_finished_listed(f, np_finished_get(f, i), now);
	return gone;
}

__u64 np_finished_dropped(const struct np_finished *f)
{
	return f->dropped;
}
