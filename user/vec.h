/* SPDX-License-Identifier: GPL-2.0 */
/* The growable array every part of the loader uses. */
#ifndef NBDPATH_VEC_H
#define NBDPATH_VEC_H

#include <stdlib.h>
#include <string.h>

/* n elements of sz bytes in v, room for cap; { .sz = sizeof(T) } is empty. */
struct np_vec {
	void *v;
	size_t n, cap, sz;
};

/* Room for at least want elements; -1 when memory is short. */
static inline int np_vec_reserve(struct np_vec *a, size_t want)
{
	size_t cap = a->cap ? a->cap : 16;
	void *v;

	if (want <= a->cap)
		return 0;
	while (cap < want)
		cap *= 2;
	v = realloc(a->v, cap * a->sz);
	if (!v)
		return -1;
	a->v = v;
	a->cap = cap;
	return 0;
}

/* A new zeroed element at the end, or NULL when memory is short. */
static inline void *np_vec_add(struct np_vec *a)
{
	void *x;

	if (a->n == a->cap && np_vec_reserve(a, a->n + 1))
		return NULL;
	x = (char *)a->v + a->n++ * a->sz;
	memset(x, 0, a->sz);
	return x;
}

static inline void np_vec_free(struct np_vec *a)
{
	free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}

#endif /* NBDPATH_VEC_H */
