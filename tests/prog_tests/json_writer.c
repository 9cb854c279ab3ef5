// SPDX-License-Identifier: GPL-2.0
/* The JSON writer: exact output for every kind of value, escaping, numbers as printf writes them. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "test_progs.h"
#include "fmt.h"
#include "json_writer.h"

struct out {
	FILE *f;
	char *buf;
	size_t len;
	struct jsonw *w;
};

static bool out_open(struct out *o)
{
	memset(o, 0, sizeof(*o));
	o->f = open_memstream(&o->buf, &o->len);
	if (!ASSERT_TRUE(o->f, "open_memstream"))
		return false;
	o->w = jsonw_new(o->f);
	return ASSERT_TRUE(o->w, "jsonw_new");
}

/* Flush the writer, and compare what reached the FILE with want. */
static bool out_is(struct out *o, const char *want, const char *name)
{
	bool ok = ASSERT_OK(jsonw_flush(o->w), "jsonw_flush") &&
		  ASSERT_OK(fflush(o->f), "fflush") &&
		  ASSERT_STREQ(o->buf, want, name);

	jsonw_destroy(o->w);
	fclose(o->f);
	free(o->buf);
	return ok;
}

void test_json_writer_values(void)
{
	static const __u8 mac[6] = { 0x00, 0x50, 0x56, 0x6b, 0x28, 0x04 };
	static const struct np_ip v4 = {
		.b = { [10] = 0xff, [11] = 0xff, 10, 0, 28, 10 } };
	static const struct np_ip v6 = {
		.b = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, .v6 = 1 };
	/* the same bytes as v4, from an IPv6 header */
	static const struct np_ip mapped = {
		.b = { [10] = 0xff, [11] = 0xff, 10, 0, 28, 10 }, .v6 = 1 };
	struct out o;

	if (!out_open(&o))
		return;
	jsonw_start_object(o.w);
	jsonw_u64_field(o.w, "version", 1);
	jsonw_name(o.w, "empty");
	jsonw_start_array(o.w);
	jsonw_end_array(o.w);
	jsonw_name(o.w, "list");
	jsonw_start_array(o.w);
	jsonw_u64(o.w, 0);
	jsonw_u64(o.w, UINT64_MAX);
	jsonw_s64(o.w, INT64_MIN);
	jsonw_s64(o.w, -1);
	jsonw_bool(o.w, true);
	jsonw_bool(o.w, false);
	jsonw_null(o.w);
	jsonw_string(o.w, NULL);
	jsonw_start_object(o.w);
	jsonw_end_object(o.w);
	jsonw_end_array(o.w);
	jsonw_name(o.w, "mac");
	jsonw_mac(o.w, mac);
	jsonw_name(o.w, "no_mac");
	jsonw_mac(o.w, NULL);
	jsonw_name(o.w, "ips");
	jsonw_start_array(o.w);
	jsonw_ip(o.w, &v4);
	jsonw_ip(o.w, &v6);
	jsonw_ip(o.w, &mapped);
	jsonw_ip(o.w, NULL);
	jsonw_end_array(o.w);
	jsonw_name(o.w, "times");
	jsonw_start_array(o.w);
	jsonw_ns(o.w, 1763900000100000000ll);
	jsonw_ns(o.w, 5);
	jsonw_ns(o.w, -1);
	jsonw_ns(o.w, INT64_MIN);
	jsonw_end_array(o.w);
	jsonw_double_field(o.w, "rate", 2.0 / 3, 3);
	jsonw_bool_field(o.w, "sampled", false);
	jsonw_string_field(o.w, "kind", "run");
	jsonw_name_str(o.w, "a \"user\" key");
	jsonw_raw(o.w, "[1,2]", 5);
	jsonw_name_len(o.w, "len_keyXXX", 7);
	jsonw_s64(o.w, 7);
	/* every field form, and a literal key too long for the inline copy */
	jsonw_start_object_field(o.w, "fields");
	jsonw_s64_field(o.w, "s", -5);
	jsonw_null_field(o.w, "n");
	jsonw_ns_field(o.w, "t", 1500000000);
	jsonw_mac_field(o.w, "m", mac);
	jsonw_ip_field(o.w, "i", &v4);
	jsonw_start_array_field(o.w, "a");
	jsonw_start_array(o.w);
	jsonw_end_array(o.w);
	jsonw_u64(o.w, 1);
	jsonw_end_array(o.w);
	jsonw_u64_field(o.w, "a_key_of_seventy_bytes_which_is_more_than_the_inline_copy_takes_12345", 70);
	jsonw_end_object(o.w);
	jsonw_end_object(o.w);
	jsonw_newline(o.w);
	/* JSON lines: the next object has no comma before it */
	jsonw_start_object(o.w);
	jsonw_end_object(o.w);
	jsonw_newline(o.w);
	out_is(&o,
	       "{\"version\": 1, \"empty\": [], \"list\": [0, 18446744073709551615, "
	       "-9223372036854775808, -1, true, false, null, null, {}], "
	       "\"mac\": \"00:50:56:6b:28:04\", \"no_mac\": null, "
	       "\"ips\": [\"10.0.28.10\", \"2001:db8::1\", \"::ffff:10.0.28.10\", null], "
	       "\"times\": [1763900000.100000000, 0.000000005, -0.000000001, "
	       "-9223372036.854775808], \"rate\": 0.667, \"sampled\": false, "
	       "\"kind\": \"run\", \"a \\\"user\\\" key\": [1,2], \"len_key\": 7, "
	       "\"fields\": {\"s\": -5, \"n\": null, \"t\": 1.500000000, "
	       "\"m\": \"00:50:56:6b:28:04\", \"i\": \"10.0.28.10\", \"a\": [[], 1], "
	       "\"a_key_of_seventy_bytes_which_is_more_than_the_inline_copy_takes_12345\": 70}}"
	       "\n{}\n",
	       "document");
}

void test_json_writer_strings(void)
{
	static const struct {
		const char *in, *want;
	} c[] = {
		{ "", "\"\"" },
		{ "plain vmk0", "\"plain vmk0\"" },
		{ "q\"\\", "\"q\\\"\\\\\"" },
		{ "\n\r\t\b\f", "\"\\n\\r\\t\\u0008\\u000c\"" },
		{ "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"" },
		/* valid UTF-8 stays: é, €, U+10348 */
		{ "\xc3\xa9\xe2\x82\xac\xf0\x90\x8d\x88",
		  "\"\xc3\xa9\xe2\x82\xac\xf0\x90\x8d\x88\"" },
		/* a lone continuation, a byte never in UTF-8, past U+10FFFF */
		{ "a\x80" "b\xff" "c\xf5\x80\x80\x80",
		  "\"a\\ufffdb\\ufffdc\\ufffd\\ufffd\\ufffd\\ufffd\"" },
		/* overlong '/', a surrogate, a sequence cut short */
		{ "\xc0\xaf|\xed\xa0\x80|\xe2\x82",
		  "\"\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd\"" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct out o;

		if (!out_open(&o))
			return;
		jsonw_string(o.w, c[i].in);
		if (!out_is(&o, c[i].want, c[i].want))
			return;
	}
}

/* Every double as printf("%.*f") writes it, or null where JSON has no number. */
void test_json_writer_double(void)
{
	static const double edge[] = {
		0, -0.0, 0.5, 1.5, 2.5, 0.0005, 0.0015, 0.0025, 1e-300, 5e-324,
		0.1, 0.3, 123456.789, 1e15 + 0.5, 4503599627370495.5,
		9007199254740991.0, 9007199254740992.0, 1.8446744073709552e19,
		1e300, -1e300, -2.5, -0.0004, 999.9995, 999999999.9999999995,
		9.2e15, 9.2e9, 1.0 / 3, 2.0 / 3,
	};
	char want[400], *got;
	unsigned int seed = 1;
	struct out o;
	size_t len;
	FILE *f;
	int n = 0;

	f = open_memstream(&got, &len);
	if (!ASSERT_TRUE(f, "open_memstream"))
		return;
	{
		struct jsonw *w = jsonw_new(f);

		for (int d = 0; d <= 9; d++) {
			for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
				jsonw_double(w, edge[i], d);
			/* rates, durations, anything in between */
			for (int i = 0; i < 20000; i++) {
				double v = (double)rand_r(&seed) / RAND_MAX *
					   pow(10, rand_r(&seed) % 24 - 8);

				if (rand_r(&seed) & 1)
					v = -v;
				jsonw_double(w, v, d);
				jsonw_newline(w);
			}
		}
		jsonw_destroy(w);
		fclose(f);
	}
	/* the same values again, through printf */
	{
		char *p = got;

		seed = 1;
		for (int d = 0; d <= 9; d++) {
			for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
				size_t k = snprintf(want, sizeof(want), "%.*f", d,
						    edge[i]);

				if (i)
					p += 2;	/* ", " */
				if (!ASSERT_TRUE(!strncmp(p, want, k) &&
						 (p[k] == ',' || p[k] == '\n' ||
						  p[k] == 0), want))
					goto out;
				p += k;
				n++;
			}
			for (int i = 0; i < 20000; i++) {
				double v = (double)rand_r(&seed) / RAND_MAX *
					   pow(10, rand_r(&seed) % 24 - 8);
				size_t k;

				if (rand_r(&seed) & 1)
					v = -v;
				if (!i)
					p += 2;	/* after the edge cases */
				k = snprintf(want, sizeof(want), "%.*f", d, v);
				if (!ASSERT_TRUE(!strncmp(p, want, k) &&
						 p[k] == '\n', want))
					goto out;
				p += k + 1;
				n++;
			}
		}
	}
	ASSERT_EQ(n, 10 * (int)(sizeof(edge) / sizeof(edge[0]) + 20000),
		  "values compared");
out:
	free(got);

	/* JSON has no NaN nor infinity */
	if (!out_open(&o))
		return;
	jsonw_start_array(o.w);
	jsonw_double(o.w, NAN, 3);
	jsonw_double(o.w, INFINITY, 3);
	jsonw_double(o.w, -INFINITY, 0);
	jsonw_double(o.w, 1.25, 1);
	jsonw_end_array(o.w);
	out_is(&o, "[null, null, null, 1.2]", "non-finite");
}

/* Output longer than the writer's buffer, in pieces of every size. */
void test_json_writer_long(void)
{
	size_t n = 3 * 1024 * 1024, len = 0, k = 0;
	char *s = malloc(n + 1), *want = malloc(2 * n), *got = NULL;
	struct jsonw *w;
	FILE *f;

	if (!ASSERT_TRUE(s && want, "malloc"))
		goto out;
	for (size_t i = 0; i < n; i++)
		s[i] = 'a' + i % 26;
	s[n] = 0;
	f = open_memstream(&got, &len);
	w = jsonw_new(f);
	jsonw_start_array(w);
	want[k++] = '[';
	for (int i = 0; i < 100000; i++) {
		jsonw_u64(w, i);
		k += sprintf(want + k, "%d, ", i);
	}
	jsonw_string(w, s);
	jsonw_end_array(w);
	k += sprintf(want + k, "\"%s\"]", s);
	ASSERT_OK(jsonw_destroy(w), "jsonw_destroy");
	fclose(f);
	if (ASSERT_EQ(len, k, "length"))
		ASSERT_TRUE(!memcmp(got, want, k), "content");
out:
	free(s);
	free(want);
	free(got);
}
