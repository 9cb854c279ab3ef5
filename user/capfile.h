/* SPDX-License-Identifier: GPL-2.0 */
/* Reading a capture file for libpcap: see capfile.c. */
#ifndef NBDPATH_CAPFILE_H
#define NBDPATH_CAPFILE_H

#include <stdio.h>

/*
 * A stream of f's bytes with every pcapng interface given the same
 * snapshot length, read through a buffer of the given size. Closing it
 * closes f (unless f is stdin). NULL with errno set on failure; f is then
 * still the caller's.
 */
FILE *np_capfile_open(FILE *f, size_t buffer);

#endif /* NBDPATH_CAPFILE_H */
