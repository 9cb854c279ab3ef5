/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one JSON writer every --json output goes through: streaming, into a
 * FILE * through a buffer of its own, with numbers, times, MACs and IPv4
 * addresses formatted by hand (a report of 100,000 flows is some 80 MB of
 * JSON, written every interval). Items are separated by ", " and keys by
 * ": ", all on one line; the writer places the commas.
 */
#ifndef NBDPATH_JSON_WRITER_H
#define NBDPATH_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

struct jsonw;

/* A writer onto f; NULL without memory (errno set). */
struct jsonw *jsonw_new(FILE *f);
/* Write out what is buffered, free the writer; 0, or -EIO if a write to f failed. */
int jsonw_destroy(struct jsonw *w);
/* Hand what is buffered to f (no fflush); 0, or -EIO if a write to f ever failed. */
int jsonw_flush(struct jsonw *w);
/* End a line (JSON lines: one value per line); the next value starts a new one. */
void jsonw_newline(struct jsonw *w);

/* Open a JSON object, as a value (after a name, in an array, or at the top). */
void jsonw_start_object(struct jsonw *w);
/* Close the innermost object. */
void jsonw_end_object(struct jsonw *w);
/* Open a JSON array. */
void jsonw_start_array(struct jsonw *w);
/* Close the innermost array. */
void jsonw_end_array(struct jsonw *w);

/* The key of the next value, n bytes of plain ASCII written as they are (no quote, backslash or control byte). */
void jsonw_name_len(struct jsonw *w, const char *name, size_t n);
/* The same for a literal key: its length is known when compiling. */
#define jsonw_name(w, name)	jsonw_name_len(w, name, __builtin_strlen(name))
/* A key from outside (a user, a file): escaped as jsonw_string does. */
void jsonw_name_str(struct jsonw *w, const char *name);

/* A string, escaped: ", \, control bytes, DEL; bytes that are not UTF-8 become U+FFFD. NULL writes null. */
void jsonw_string(struct jsonw *w, const char *s);
/* An unsigned integer. */
void jsonw_u64(struct jsonw *w, __u64 v);
/* A signed integer. */
void jsonw_s64(struct jsonw *w, __s64 v);
/* true or false. */
void jsonw_bool(struct jsonw *w, bool v);
/* null. */
void jsonw_null(struct jsonw *w);
/* v with exactly `decimals` (0-9) decimals, as printf's "%.*f" rounds it; NaN and infinities write null. */
void jsonw_double(struct jsonw *w, double v, int decimals);
/* Nanoseconds as seconds with 9 decimals, exactly (times: no float rounding). */
void jsonw_ns(struct jsonw *w, __s64 ns);
/* A MAC address as "00:50:56:6b:28:04"; NULL writes null. */
void jsonw_mac(struct jsonw *w, const __u8 *mac);
/* A 16-byte IP address: a v4-mapped one as dotted IPv4, else RFC 5952 IPv6; NULL writes null. */
void jsonw_ip(struct jsonw *w, const __u8 *ip);
/* n bytes the caller formatted as one JSON value, written as they are. */
void jsonw_raw(struct jsonw *w, const char *s, size_t n);

/* A key and its value in one call (the key a literal, as jsonw_name). */
void jsonw_string_field_len(struct jsonw *w, const char *name, size_t n, const char *v);
void jsonw_u64_field_len(struct jsonw *w, const char *name, size_t n, __u64 v);
void jsonw_bool_field_len(struct jsonw *w, const char *name, size_t n, bool v);
void jsonw_double_field_len(struct jsonw *w, const char *name, size_t n, double v, int decimals);
#define jsonw_string_field(w, k, v) \
	jsonw_string_field_len(w, k, __builtin_strlen(k), v)
#define jsonw_u64_field(w, k, v) \
	jsonw_u64_field_len(w, k, __builtin_strlen(k), v)
#define jsonw_bool_field(w, k, v) \
	jsonw_bool_field_len(w, k, __builtin_strlen(k), v)
#define jsonw_double_field(w, k, v, d) \
	jsonw_double_field_len(w, k, __builtin_strlen(k), v, d)

#endif /* NBDPATH_JSON_WRITER_H */
