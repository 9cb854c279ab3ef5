/* SPDX-License-Identifier: GPL-2.0 */
/* A small JSON reader for the tests (tests/json_parse.c). */
#ifndef NBDPATH_TEST_JSON_PARSE_H
#define NBDPATH_TEST_JSON_PARSE_H

#include <stdbool.h>

/* s is one JSON value, with nothing but white space around it. */
bool json_valid(const char *s);

/*
 * The text of the value at path ("hosts.0.rx.0.mac": object keys and
 * array indexes), "<missing>" when there is none, "<invalid>" when the
 * JSON on the way is not valid. The result lives in a small ring of
 * buffers: enough for the arguments of one assertion.
 */
const char *jget(const char *json, const char *path);

#endif /* NBDPATH_TEST_JSON_PARSE_H */
