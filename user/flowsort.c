// SPDX-License-Identifier: GPL-2.0
/*
 * Sorting the flows list, and the buffers reports keep for the next one
 * (see flowsort.h).
 */
#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "flowsort.h"

void np_fsort_set(struct np_fsort *x, const struct np_flow_key *k,
		  __u64 bytes, size_t idx)
{
	__u64 w[5];

	x->bytes = bytes;
	memcpy(w, k, sizeof(w));
	for (int i = 0; i < 5; i++)
		x->k[i] = be64toh(w[i]);
	x->idx = idx;
}

static bool fsort_before(const struct np_fsort *a, const struct np_fsort *b)
{
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes;
	for (int i = 0; i < 5; i++)
		if (a->k[i] != b->k[i])
			return a->k[i] < b->k[i];
	return false;
}

/* Word w of the sort key, most significant first: ~bytes, then the key. */
static inline __u64 fsort_word(const struct np_fsort *x, int w)
{
	return w ? x->k[w - 1] : ~x->bytes;
}

/*
 * A stable LSD radix sort of a[0..n) by key words [w0, w1), a byte a
 * pass; t: room for n. Only the bytes that differ somewhere in a are
 * sorted on: flows share most of their key (the server, the port, most
 * of the address), so a few passes do.
 */
static void fsort_radix(struct np_fsort *a, struct np_fsort *t, size_t n, int w0,
			int w1)
{
	__u64 any[6] = {}, all[6];
	struct np_fsort *src = a, *dst = t, *x;
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
void np_fsort_sort(struct np_fsort *a, struct np_fsort *t, size_t n)
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
			struct np_fsort x = a[i];
			size_t j;

			for (j = i; j > s && fsort_before(&x, &a[j - 1]); j--)
				a[j] = a[j - 1];
			a[j] = x;
		}
	}
}

struct spare {
	size_t	size;
	max_align_t data[];
};

static struct spare *spares[NP_SPARE_MAX];

void *np_spare_get(enum np_spare kind, size_t size)
{
	struct spare *b = spares[kind];

	spares[kind] = NULL;
	if (b && b->size >= size)
		return b->data;
	free(b);
	b = malloc(sizeof(*b) + (size ? size : 1));
	if (!b)
		return NULL;
	b->size = size ? size : 1;
	return b->data;
}

void np_spare_put(enum np_spare kind, void *p)
{
	struct spare *b;

	if (!p)
		return;
	b = (struct spare *)((char *)p - offsetof(struct spare, data));
	/* keep the bigger one */
	if (spares[kind] && spares[kind]->size > b->size) {
		free(b);
		return;
	}
	free(spares[kind]);
	spares[kind] = b;
}
