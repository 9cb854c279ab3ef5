/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one JSON writer every --json output goes through: streaming, into a
 * FILE * through a buffer of its own, numbers, times, MACs and IPv4
 * addresses formatted by hand (a report of 100,000 flows is some 80 MB of
 * JSON, written every interval). Items are separated by ", " and keys by
 * ": ", all on one line; the writer places the commas.
 *
 * struct jsonw is opaque to its users: they call the functions below.
 * Its fields are in this header only so that the calls a report makes
 * 50 times a flow (keys, integers, brackets) compile inline; made calls,
 * they cost a third more time (measured on the 100,000-flow report).
 */
#ifndef NBDPATH_JSON_WRITER_H
#define NBDPATH_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

struct jsonw;

/* ---- the writer ---- */

/*
 * A writer onto f with a buffer of its own; NULL without memory. f NULL:
 * a writer into its buffer only, read with jsonw_mem() and emptied with
 * jsonw_mem_reset() (what does not fit is lost: jsonw_mem() says so).
 */
struct jsonw *jsonw_new(FILE *f);
/* What a writer onto no FILE holds (*len bytes); NULL if some was lost. */
const char *jsonw_mem(const struct jsonw *w, size_t *len);
/* Empty a writer onto no FILE: the next value starts a new text. */
void jsonw_mem_reset(struct jsonw *w);
/* Write out what is buffered and free w; 0, or -EIO if a write to f ever failed. */
int jsonw_destroy(struct jsonw *w);
/* Hand what is buffered to f (no fflush); 0, or -EIO if a write to f ever failed. */
int jsonw_flush(struct jsonw *w);
/* End the line: JSON lines, the next value at the top starts without a comma. */
void jsonw_newline(struct jsonw *w);

/* ---- structure: inline below ---- */

/* Open an object as the next value (at the top, in an array, after a key). */
static inline void jsonw_start_object(struct jsonw *w);
/* Close the innermost object. */
static inline void jsonw_end_object(struct jsonw *w);
/* Open an array as the next value. */
static inline void jsonw_start_array(struct jsonw *w);
/* Close the innermost array. */
static inline void jsonw_end_array(struct jsonw *w);

/* ---- keys ---- */

/* The key of the next value, a string literal (nothing else compiles), written as it is: plain ASCII. */
#define jsonw_name(w, lit)	jsonw_name_lit(w, JSONW_KEY(lit))
/* A key from elsewhere (a user, a file), escaped as jsonw_string escapes. */
void jsonw_name_str(struct jsonw *w, const char *name);
/* n bytes of plain ASCII (no ", \ or control byte) as a key, written as they are. */
void jsonw_name_len(struct jsonw *w, const char *name, size_t n);

/* ---- values ---- */

/* A string: ", \, control bytes and DEL escaped, bytes not UTF-8 as U+FFFD; NULL writes null. */
void jsonw_string(struct jsonw *w, const char *s);
/* An unsigned integer (inline below). */
static inline void jsonw_u64(struct jsonw *w, __u64 v);
/* A signed integer. */
void jsonw_s64(struct jsonw *w, __s64 v);
/* true or false (inline below). */
static inline void jsonw_bool(struct jsonw *w, bool v);
/* null (inline below). */
static inline void jsonw_null(struct jsonw *w);
/* v with `decimals` (0-9) decimals, rounded as printf's "%.*f"; NaN and infinities write null. */
void jsonw_double(struct jsonw *w, double v, int decimals);
/* Nanoseconds as seconds with 9 decimals, exactly (times: no float rounding). */
void jsonw_ns(struct jsonw *w, __s64 ns);
/* A MAC address, "00:50:56:6b:28:04"; NULL writes null. */
void jsonw_mac(struct jsonw *w, const __u8 *mac);
/* An address (fmt.h): IPv4 dotted, IPv6 (::ffff:a.b.c.d included) as RFC 5952 writes it; NULL writes null. */
struct np_ip;
void jsonw_ip(struct jsonw *w, const struct np_ip *ip);
/* n bytes the caller formatted as one JSON value, written as they are. */
void jsonw_raw(struct jsonw *w, const char *s, size_t n);
/* The rest of a value begun by jsonw_raw(): no comma in front. */
void jsonw_raw_more(struct jsonw *w, const char *s, size_t n);

/* ---- a literal key and its value in one call ---- */

#define jsonw_string_field(w, lit, v)	jsonw_string_field_lit(w, JSONW_KEY(lit), v)
#define jsonw_u64_field(w, lit, v)	jsonw_u64_field_lit(w, JSONW_KEY(lit), v)
#define jsonw_s64_field(w, lit, v)	jsonw_s64_field_lit(w, JSONW_KEY(lit), v)
#define jsonw_bool_field(w, lit, v)	jsonw_bool_field_lit(w, JSONW_KEY(lit), v)
#define jsonw_null_field(w, lit)	jsonw_null_field_lit(w, JSONW_KEY(lit))
#define jsonw_double_field(w, lit, v, decimals) \
	jsonw_double_field_lit(w, JSONW_KEY(lit), v, decimals)
#define jsonw_ns_field(w, lit, v)	jsonw_ns_field_lit(w, JSONW_KEY(lit), v)
#define jsonw_mac_field(w, lit, v)	jsonw_mac_field_lit(w, JSONW_KEY(lit), v)
#define jsonw_ip_field(w, lit, v)	jsonw_ip_field_lit(w, JSONW_KEY(lit), v)
/* A literal key whose value is an object or an array, opened. */
#define jsonw_start_object_field(w, lit) \
	jsonw_object_field_lit(w, JSONW_KEY(lit))
#define jsonw_start_array_field(w, lit) \
	jsonw_array_field_lit(w, JSONW_KEY(lit))

/*
 * ---- internals of the inline paths: not for callers ----
 *
 * A literal key is passed with 16 NULs after it, so that it can be
 * copied in whole 16-byte moves without reading past its end.
 */
#define JSONW_PAD	"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
#define JSONW_KEY(lit)	lit JSONW_PAD, JSONW__LEN(lit)
/* a literal's length; a pointer (say, c ? "a" : "b") does not compile */
#define JSONW__LEN(lit)	(sizeof(lit) - 1 + sizeof(struct {		\
	int:(-!!__builtin_types_compatible_p(__typeof__(lit),		\
					     __typeof__(&(lit)[0])));	\
}))
#define JSONW__DEPTH	64		/* bits of jsonw.nonempty */
#define JSONW__MAX_NAME	64		/* longer literal keys: the slow path */

struct jsonw {
	char *p, *end;			/* free space in buf */
	__u64 nonempty;			/* bit d: depth d holds an item */
	int depth;
	bool after_name;		/* the next value takes no comma */
	bool failed;			/* a write to f came short */
	FILE *f;
	char *buf;
};

extern const char jsonw__digits2[201];
extern const __u64 jsonw__pow10[20];

/* Room for n more bytes (n <= 4096) without checking again. */
static inline char *jsonw__room(struct jsonw *w, size_t n)
{
	if (__builtin_expect((size_t)(w->end - w->p) < n, 0))
		jsonw_flush(w);
	return w->p;
}

/* Before a value: the comma, unless it follows its key. */
static inline void jsonw__pre(struct jsonw *w)
{
	__u64 bit = 1ull << w->depth;
	char *o;

	if (w->after_name) {
		w->after_name = false;
		return;
	}
	if (w->nonempty & bit) {
		o = jsonw__room(w, 2);
		o[0] = ',';
		o[1] = ' ';
		w->p = o + 2;
	}
	w->nonempty |= bit;
}

/*
 * The decimal digits of v at p, returning the end: the count from the
 * bit length (log10 2 ~ 1233 / 4096) and one comparison, then two
 * digits a step from the last, in place.
 */
static inline char *jsonw__fmt_u64(char *p, __u64 v)
{
	int t = (64 - __builtin_clzll(v | 1)) * 1233 >> 12;
	char *e = p + t + ((v | 1) >= jsonw__pow10[t]);

	p = e;
	while (v >= 100) {
		p -= 2;
		__builtin_memcpy(p, jsonw__digits2 + v % 100 * 2, 2);
		v /= 100;
	}
	if (v >= 10)
		__builtin_memcpy(p - 2, jsonw__digits2 + v * 2, 2);
	else
		p[-1] = '0' + v;
	return e;
}

static inline void jsonw__open(struct jsonw *w, char c)
{
	jsonw__pre(w);
	*jsonw__room(w, 1) = c;
	w->p++;
	if (w->depth < JSONW__DEPTH - 1)
		w->depth++;
	w->nonempty &= ~(1ull << w->depth);
}

static inline void jsonw__close(struct jsonw *w, char c)
{
	*jsonw__room(w, 1) = c;
	w->p++;
	if (w->depth)
		w->depth--;
}

static inline void jsonw_start_object(struct jsonw *w)
{
	jsonw__open(w, '{');
}

static inline void jsonw_end_object(struct jsonw *w)
{
	jsonw__close(w, '}');
}

static inline void jsonw_start_array(struct jsonw *w)
{
	jsonw__open(w, '[');
}

static inline void jsonw_end_array(struct jsonw *w)
{
	jsonw__close(w, ']');
}

/* name: a literal and JSONW_PAD; n: the literal's length */
static inline __attribute__((always_inline))
void jsonw_name_lit(struct jsonw *w, const char *name, size_t n)
{
	char *o;

	if (n > JSONW__MAX_NAME) {
		jsonw_name_len(w, name, n);
		return;
	}
	jsonw__pre(w);
	o = jsonw__room(w, n + 4 + 16);
	*o++ = '"';
	for (size_t i = 0; i < n; i += 16)
		__builtin_memcpy(o + i, name + i, 16);
	o += n;
	__builtin_memcpy(o, "\": ", 3);
	w->p = o + 3;
	w->after_name = true;
}

static inline void jsonw_u64(struct jsonw *w, __u64 v)
{
	jsonw__pre(w);
	w->p = jsonw__fmt_u64(jsonw__room(w, 20), v);
}

static inline void jsonw_bool(struct jsonw *w, bool v)
{
	char *o;

	jsonw__pre(w);
	o = jsonw__room(w, 5);
	if (v) {
		__builtin_memcpy(o, "true", 4);
		w->p = o + 4;
	} else {
		__builtin_memcpy(o, "false", 5);
		w->p = o + 5;
	}
}

static inline void jsonw_null(struct jsonw *w)
{
	jsonw__pre(w);
	__builtin_memcpy(jsonw__room(w, 4), "null", 4);
	w->p += 4;
}

#define JSONW__FIELD(type, value, ...)					\
static inline __attribute__((always_inline))				\
void jsonw_##type##_field_lit(struct jsonw *w, const char *name,	\
			      size_t n, ##__VA_ARGS__)			\
{									\
	jsonw_name_lit(w, name, n);					\
	value;								\
}

JSONW__FIELD(string, jsonw_string(w, v), const char *v)
JSONW__FIELD(u64, jsonw_u64(w, v), __u64 v)
JSONW__FIELD(s64, jsonw_s64(w, v), __s64 v)
JSONW__FIELD(bool, jsonw_bool(w, v), bool v)
JSONW__FIELD(null, jsonw_null(w))
JSONW__FIELD(double, jsonw_double(w, v, decimals), double v, int decimals)
JSONW__FIELD(ns, jsonw_ns(w, v), __s64 v)
JSONW__FIELD(mac, jsonw_mac(w, v), const __u8 *v)
JSONW__FIELD(ip, jsonw_ip(w, v), const struct np_ip *v)
JSONW__FIELD(object, jsonw__open(w, '{'))
JSONW__FIELD(array, jsonw__open(w, '['))

#endif /* NBDPATH_JSON_WRITER_H */
