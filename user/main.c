// SPDX-License-Identifier: GPL-2.0
/*
 * nbdpath: see which ESXi VMkernel interfaces receive NFC/NBD requests and
 * which send the data back, from a port mirror, at line rate.
 */
#include "cli.h"
#include "opts.h"

int main(int argc, char **argv)
{
	static struct np_cli o;	/* holds the vmk list: keep it off the stack */

	if (np_opts_parse(argc, argv, &o))
		return NP_EXIT_USAGE;
	return o.command->fn(&o);
}
