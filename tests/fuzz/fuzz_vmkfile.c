// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the --vmk-file parser (both ESXi formats, several in
 * one file) on any bytes. A crash, a sanitizer report or a timeout (a
 * parse that stops moving) is a finding; refusing the input is not.
 */
#include <stdint.h>
#include <string.h>

#include "vmk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct np_vmk_list l;
	int err;

	/* a real file is refused past this size before it is parsed */
	if (size > NP_VMK_FILE_MAX)
		return 0;
	memset(&l, 0, sizeof(l));
	err = np_vmk_parse_text(&l, "fuzz", (const char *)data, size);
	/* what was taken is as --vmk would take it: a name, a MAC */
	if (!err && (l.n < 1 || l.n > NP_MAX_VMKS))
		__builtin_trap();
	for (int i = 0; i < l.n; i++)
		if (!l.v[i].name[0] ||
		    memchr(l.v[i].name, 0, sizeof(l.v[i].name)) == NULL)
			__builtin_trap();
	return 0;
}
