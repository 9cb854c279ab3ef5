// SPDX-License-Identifier: GPL-2.0
/*
 * nbdpath: see which ESXi VMkernel interfaces receive NFC/NBD requests and
 * which send the data back, from a port mirror, at line rate.
 */
#include <string.h>

#include "cli.h"
#include "opts.h"

int main(int argc, char **argv)
{
	static struct np_cli o;	/* holds the vmk list: keep it off the stack */
	int err;

	err = np_opts_parse(argc, argv, &o);
	if (err)
		return err > 0 ? NP_EXIT_OK : NP_EXIT_USAGE;
	if (!strcmp(o.cmd, "run"))
		return cmd_run(&o);
	if (!strcmp(o.cmd, "replay"))
		return cmd_replay(&o);
	if (!strcmp(o.cmd, "status"))
		return cmd_status(&o);
	if (!strcmp(o.cmd, "detach"))
		return cmd_detach(&o);
	return cmd_query(&o);
}
