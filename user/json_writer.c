// SPDX-License-Identifier: GPL-2.0
/*
 * A streaming JSON writer (see json_writer.h). Values go into a buffer of
 * the writer's own and reach stdio only when it is full: no printf and no
 * stdio call per value, which is what keeps a report of 100,000 flows
 * within a poll's time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fmt.h"
#include "json_writer.h"

#define JW_BUF		(256 * 1024)
#define JW_SMALL_BUF	4096		/* when JW_BUF cannot be had */

/* "00" to "99" */
const char jsonw__digits2[201] =
	"00010203040506070809101112131415161718192021222324"
	"25262728293031323334353637383940414243444546474849"
	"50515253545556575859606162636465666768697071727374"
	"75767778798081828384858687888990919293949596979899";

static const char hex[] = "0123456789abcdef";

const __u64 jsonw__pow10[20] = {
	1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull,
	10000000ull, 100000000ull, 1000000000ull, 10000000000ull,
	100000000000ull, 1000000000000ull, 10000000000000ull,
	100000000000000ull, 1000000000000000ull, 10000000000000000ull,
	100000000000000000ull, 1000000000000000000ull,
	10000000000000000000ull,
};

struct jsonw *jsonw_new(FILE *f)
{
	struct jsonw *w = calloc(1, sizeof(*w) + JW_BUF);
	size_t len = JW_BUF;

	if (!w) {
		/* short of memory: the same output in smaller writes */
		w = calloc(1, sizeof(*w) + JW_SMALL_BUF);
		len = JW_SMALL_BUF;
		if (!w)
			return NULL;
	}
	w->f = f;
	w->buf = (char *)(w + 1);
	w->p = w->buf;
	w->end = w->buf + len;
	return w;
}

int jsonw_flush(struct jsonw *w)
{
	size_t n = w->p - w->buf;

	if (n && (!w->f || fwrite(w->buf, 1, n, w->f) != n))
		w->failed = true;
	w->p = w->buf;
	return w->failed ? -EIO : 0;
}

int jsonw_destroy(struct jsonw *w)
{
	int err;

	if (!w)
		return 0;
	err = jsonw_flush(w);
	free(w);
	return err;
}

/* A short copy inline: no call into libc for a key of a few bytes. */
static inline void copy_short(char *d, const char *s, size_t n)
{
	if (n >= 8) {
		for (size_t i = 0; i + 8 <= n; i += 8)
			memcpy(d + i, s + i, 8);
		memcpy(d + n - 8, s + n - 8, 8);
	} else if (n >= 4) {
		memcpy(d, s, 4);
		memcpy(d + n - 4, s + n - 4, 4);
	} else {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	}
}

static void put(struct jsonw *w, const void *s, size_t n)
{
	const char *c = s;

	if (n <= 32 && (size_t)(w->end - w->p) >= n) {
		copy_short(w->p, c, n);
		w->p += n;
		return;
	}

	while (n) {
		size_t k;

		if (w->p == w->end)
			jsonw_flush(w);
		k = w->end - w->p;
		if (k > n)
			k = n;
		memcpy(w->p, c, k);
		w->p += k;
		c += k;
		n -= k;
	}
}

static inline void putc_(struct jsonw *w, char c)
{
	*jsonw__room(w, 1) = c;
	w->p++;
}

#define PUT_LIT(w, s)	put_lit(w, s, sizeof(s) - 1)

static inline void put_lit(struct jsonw *w, const char *s, size_t n)
{
	memcpy(jsonw__room(w, n), s, n);
	w->p += n;
}

void jsonw_newline(struct jsonw *w)
{
	putc_(w, '\n');
	w->nonempty &= ~1ull;
	w->after_name = false;
}

/* ---- numbers ---- */

/* v (< 10^digits) in exactly `digits` digits, zeros in front, two a step */
static inline __attribute__((always_inline))
char *fmt_fixed(char *p, __u64 v, int digits)
{
	int i = digits;

	while (i >= 2) {
		i -= 2;
		memcpy(p + i, jsonw__digits2 + v % 100 * 2, 2);
		v /= 100;
	}
	if (i)
		p[0] = '0' + v;
	return p + digits;
}

void jsonw_s64(struct jsonw *w, __s64 v)
{
	char *o;

	jsonw__pre(w);
	o = jsonw__room(w, 21);
	if (v < 0)
		*o++ = '-';
	w->p = jsonw__fmt_u64(o, v < 0 ? -(__u64)v : (__u64)v);
}

/*
 * |v| * 10^d rounded as printf rounds it: the exact binary value, a tie
 * to the even neighbour. In integers for what rates and durations are;
 * *q is valid only when this returns true.
 */
static bool scaled(double a, int d, __u64 *q)
{
	__u64 bits, mant;
	int e, shift;

	memcpy(&bits, &a, sizeof(bits));
	e = (bits >> 52) & 0x7ff;
	/* a * 10^d must fit in 63 bits, and a < 2^53 (no integer bits lost) */
	if (a >= 9007199254740992.0 || a * jsonw__pow10[d] >= 9.2e18)
		return false;
	if (!e) {
		*q = 0;			/* zero, or subnormal: far below 10^-9 */
		return true;
	}
	/* a = mant * 2^(e - 1075) with e <= 1075: a * 10^d = m >> shift */
	mant = (bits & ((1ull << 52) - 1)) | (1ull << 52);
	shift = 1075 - e;
	if (d <= 3) {
		__u64 m = mant * jsonw__pow10[d], r, half;	/* < 2^63 */

		if (shift >= 64) {
			*q = 0;
		} else if (!shift) {
			*q = m;
		} else {
			*q = m >> shift;
			r = m & ((1ull << shift) - 1);
			half = 1ull << (shift - 1);
			if (r > half || (r == half && (*q & 1)))
				++*q;
		}
	} else {
		unsigned __int128 m = (unsigned __int128)mant * jsonw__pow10[d], r, half;

		if (shift >= 128) {
			*q = 0;
		} else if (!shift) {
			*q = (__u64)m;
		} else {
			*q = (__u64)(m >> shift);
			r = m & (((unsigned __int128)1 << shift) - 1);
			half = (unsigned __int128)1 << (shift - 1);
			if (r > half || (r == half && (*q & 1)))
				++*q;
		}
	}
	return true;
}

/* |v| * 10^d in q written with d decimals; d a constant where inlined */
static inline __attribute__((always_inline))
char *fmt_scaled(char *o, __u64 q, int d)
{
	o = jsonw__fmt_u64(o, q / jsonw__pow10[d]);
	if (d) {
		*o++ = '.';
		o = fmt_fixed(o, q % jsonw__pow10[d], d);
	}
	return o;
}

void jsonw_double(struct jsonw *w, double v, int decimals)
{
	int d = decimals < 0 ? 0 : decimals > 9 ? 9 : decimals;
	char *o;
	__u64 q;

	if (!isfinite(v)) {
		jsonw_null(w);		/* JSON has no NaN nor infinity */
		return;
	}
	jsonw__pre(w);
	if (!scaled(fabs(v), d, &q)) {
		char buf[400];		/* DBL_MAX has 309 integer digits */
		int n = snprintf(buf, sizeof(buf), "%.*f", d, v);

		put(w, buf, n > 0 ? (size_t)n : 0);
		return;
	}
	o = jsonw__room(w, 32);
	if (signbit(v))
		*o++ = '-';
	/* divisions by constants: multiplications, not divides */
	switch (d) {
	case 3:
		o = fmt_scaled(o, q, 3);	/* rates */
		break;
	case 6:
		o = fmt_scaled(o, q, 6);
		break;
	case 9:
		o = fmt_scaled(o, q, 9);	/* times */
		break;
	default:
		o = fmt_scaled(o, q, d);
		break;
	}
	w->p = o;
}

void jsonw_ns(struct jsonw *w, __s64 ns)
{
	__u64 a = ns < 0 ? -(__u64)ns : (__u64)ns;
	char *o;

	jsonw__pre(w);
	o = jsonw__room(w, 32);	/* sign, 20 digits, point, 9 digits */
	if (ns < 0)
		*o++ = '-';
	o = jsonw__fmt_u64(o, a / 1000000000ull);
	*o++ = '.';
	w->p = fmt_fixed(o, a % 1000000000ull, 9);
}

/* ---- strings ---- */

/* Length of the valid UTF-8 sequence at s, 0 if there is none. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned int cp;
	size_t n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, past U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/*
 * Names and paths come from users, files and the kernel: control bytes
 * are escaped, and bytes that are not UTF-8 become U+FFFD, so the line
 * stays valid JSON whatever the input.
 */
static void strval(struct jsonw *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *q;

	putc_(w, '"');
	for (;;) {
		size_t n;
		char *o;

		/* a run of plain printable ASCII: one copy */
		for (q = p; *q >= 0x20 && *q < 0x7f && *q != '"' &&
			    *q != '\\'; q++)
			;
		put(w, p, q - p);
		p = q;
		if (!*p)
			break;
		o = jsonw__room(w, 8);
		n = 2;
		o[0] = '\\';
		switch (*p) {
		case '"':
			o[1] = '"';
			break;
		case '\\':
			o[1] = '\\';
			break;
		case '\n':
			o[1] = 'n';
			break;
		case '\r':
			o[1] = 'r';
			break;
		case '\t':
			o[1] = 't';
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				memcpy(o, "\\u00", 4);
				o[4] = hex[*p >> 4];
				o[5] = hex[*p & 0xf];
				n = 6;
				break;
			}
			n = utf8_len(p);
			if (!n) {
				memcpy(o, "\\ufffd", 6);
				w->p += 6;
				p++;
			} else {
				memcpy(o, p, n);
				w->p += n;
				p += n;
			}
			continue;
		}
		w->p += n;
		p++;
	}
	putc_(w, '"');
}

void jsonw_string(struct jsonw *w, const char *s)
{
	jsonw__pre(w);
	if (s)
		strval(w, s);
	else
		PUT_LIT(w, "null");
}

void jsonw_name_len(struct jsonw *w, const char *name, size_t n)
{
	jsonw__pre(w);
	putc_(w, '"');
	put(w, name, n);
	PUT_LIT(w, "\": ");
	w->after_name = true;
}

void jsonw_name_str(struct jsonw *w, const char *name)
{
	jsonw__pre(w);
	strval(w, name ? name : "");
	PUT_LIT(w, ": ");
	w->after_name = true;
}

void jsonw_raw(struct jsonw *w, const char *s, size_t n)
{
	jsonw__pre(w);
	put(w, s, n);
}

void jsonw_raw_more(struct jsonw *w, const char *s, size_t n)
{
	put(w, s, n);
}

const char *jsonw_mem(const struct jsonw *w, size_t *len)
{
	*len = w->p - w->buf;
	return w->failed ? NULL : w->buf;
}

void jsonw_mem_reset(struct jsonw *w)
{
	w->p = w->buf;
	w->nonempty = 0;
	w->depth = 0;
	w->after_name = false;
	w->failed = false;
}

/* ---- addresses ---- */

void jsonw_mac(struct jsonw *w, const __u8 *mac)
{
	char *o;

	if (!mac) {
		jsonw_null(w);
		return;
	}
	jsonw__pre(w);
	o = jsonw__room(w, 19);
	o[0] = '"';
	for (int i = 0; i < 6; i++) {
		o[1 + 3 * i] = hex[mac[i] >> 4];
		o[2 + 3 * i] = hex[mac[i] & 0xf];
		o[3 + 3 * i] = ':';
	}
	o[18] = '"';			/* over the last ':' */
	w->p = o + 19;
}

void jsonw_ip(struct jsonw *w, const struct np_ip *ip)
{
	char b[INET6_ADDRSTRLEN], *o;

	if (!ip) {
		jsonw_null(w);
		return;
	}
	if (ip->v6) {
		/* inet_ntop() writes IPv6 as RFC 5952 wants */
		if (!inet_ntop(AF_INET6, ip->b, b, sizeof(b)))
			strcpy(b, "?");
		jsonw_string(w, b);
		return;
	}
	jsonw__pre(w);
	o = jsonw__room(w, 17);
	*o++ = '"';
	for (int i = 12; i < 16; i++) {
		if (i > 12)
			*o++ = '.';
		o = jsonw__fmt_u64(o, ip->b[i]);
	}
	*o++ = '"';
	w->p = o;
}
