// SPDX-License-Identifier: GPL-2.0
/* placeholder until the CLI lands */
#include <stdio.h>
int main(void)
{
	fprintf(stderr, "nbdpath: not yet\n");
	return 1;
}
