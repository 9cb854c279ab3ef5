// SPDX-License-Identifier: GPL-2.0
/*
 * A small JSON reader for the tests: is a text valid JSON, and what is the
 * text of the value at a path. Enough to check a report key by key.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_parse.h"

static const char *jskip(const char *p);

static const char *jws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *jstring(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (; *p != '"'; p++) {
		if (!*p || (unsigned char)*p < 0x20)
			return NULL;
		if (*p != '\\')
			continue;
		p++;
		if (*p == 'u') {
			for (int i = 1; i <= 4; i++)
				if (!isxdigit((unsigned char)p[i]))
					return NULL;
			p += 4;
		} else if (!strchr("\"\\/bfnrt", *p)) {
			return NULL;
		}
	}
	return p + 1;
}

static const char *jnumber(const char *p)
{
	const char *s = p;

	if (*p == '-')
		p++;
	if (!isdigit((unsigned char)*p))
		return NULL;
	if (*p == '0' && isdigit((unsigned char)p[1]))
		return NULL;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.') {
		if (!isdigit((unsigned char)*++p))
			return NULL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return p > s ? p : NULL;
}

/* The end of the value at p, or NULL when it is not valid JSON. */
static const char *jskip(const char *p)
{
	p = jws(p);
	switch (*p) {
	case '"':
		return jstring(p);
	case '{':
	case '[': {
		char close = *p == '{' ? '}' : ']';

		p = jws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				p = jstring(jws(p));
				if (!p || *(p = jws(p)) != ':')
					return NULL;
				p++;
			}
			p = jskip(p);
			if (!p)
				return NULL;
			p = jws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	case 't':
		return strncmp(p, "true", 4) ? NULL : p + 4;
	case 'f':
		return strncmp(p, "false", 5) ? NULL : p + 5;
	case 'n':
		return strncmp(p, "null", 4) ? NULL : p + 4;
	default:
		return jnumber(p);
	}
}

bool json_valid(const char *s)
{
	const char *e = jskip(s);

	return e && !*jws(e);
}

/*
 * The text of the value at path ("hosts.0.rx.0.mac": object keys and
 * array indexes), "<missing>" when there is none. The result lives in a
 * small ring of buffers: enough for the arguments of one assertion.
 */
const char *jget(const char *json, const char *path)
{
	static char ring[4][8192];
	static int next;
	char *out = ring[next++ & 3], seg[64];
	const char *p = jws(json), *e;

	while (*path) {
		size_t n = strcspn(path, ".");

		snprintf(seg, sizeof(seg), "%.*s", (int)n, path);
		path += n + (path[n] == '.');
		if (*p == '[') {
			long idx = strtol(seg, NULL, 10);

			p = jws(p + 1);
			for (long i = 0; *p != ']'; i++) {
				if (i == idx)
					goto found;
				p = jskip(p);
				if (!p)
					return "<invalid>";
				p = jws(p);
				if (*p == ',')
					p = jws(p + 1);
			}
			return "<missing>";
		} else if (*p == '{') {
			p = jws(p + 1);
			while (*p == '"') {
				const char *k = p + 1;

				p = jstring(p);
				if (!p)
					return "<invalid>";
				/* keys here need no unescaping */
				bool match = (size_t)(p - 1 - k) == strlen(seg) &&
					     !strncmp(k, seg, strlen(seg));

				p = jws(jws(p) + 1);
				if (match)
					goto found;
				p = jskip(p);
				if (!p)
					return "<invalid>";
				p = jws(p);
				if (*p == ',')
					p = jws(p + 1);
			}
			return "<missing>";
		}
		return "<missing>";
found:
		p = jws(p);
	}
	e = jskip(p);
	if (!e)
		return "<invalid>";
	snprintf(out, sizeof(ring[0]), "%.*s", (int)(e - p), p);
	return out;
}
