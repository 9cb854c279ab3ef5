// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the command line parser, np_opts_parse(), as main()
 * calls it. The input is the arguments after "nbdpath", each ended by a
 * NUL byte. It must return 0, 1 (help or version printed) or -EINVAL
 * (one message printed), and never crash.
 *
 * A --vmk-file or replay FILE argument opens that path: the fuzzer runs
 * from an empty directory with stdin on /dev/null (tests/fuzz/run.sh),
 * where the paths it can spell are few and none blocks for long.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opts.h"

#define MAX_ARGS	64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a struct np_cli holds the vmk list: too big for the stack */
	static struct np_cli o;
	char *argv[MAX_ARGS + 2], *buf, *p, *end;
	int argc = 0, err;

	if (size > 4096)
		return 0;
	/* a copy ended by a NUL, so the last argument ends too */
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	argv[argc++] = "nbdpath";
	end = buf + size;
	for (p = buf; p < end && argc <= MAX_ARGS; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	err = np_opts_parse(argc, argv, &o);
	if (err != 0 && err != 1 && err != -EINVAL)
		__builtin_trap();
	free(buf);
	return 0;
}
