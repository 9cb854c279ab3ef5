/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The command line: one table of commands and one of options, and one
 * parser per type of value (interface, port, seconds, count, mode,
 * address, file, file mode, HOST:PORT), each with the one message a user
 * sees when the value is wrong.
 */
#ifndef NBDPATH_OPTS_H
#define NBDPATH_OPTS_H

#include <stdio.h>
#include "cli.h"

#ifndef NP_VERSION
#define NP_VERSION	"0.1.0"
#endif

/* Typed values. 0, or -EINVAL after "nbdpath: OPT 'VALUE': expected ...". */
int np_parse_iface(const char *opt, const char *s, unsigned int *ifindex);
int np_parse_port(const char *opt, const char *s, __u16 *port);
int np_parse_seconds(const char *opt, const char *s, double *sec);
int np_parse_count(const char *opt, const char *s, __u32 min, __u32 max,
		   __u32 *v);
int np_parse_mode(const char *opt, const char *s, enum np_mode *mode);
int np_parse_addr(const char *opt, const char *s, struct np_sockaddr *a);
int np_parse_filemode(const char *opt, const char *s, unsigned int *mode);
/* An input file that must be readable now ("-" is stdin). */
int np_parse_infile(const char *opt, const char *s);
/* An output file that can be created or appended to now (left untouched). */
int np_parse_outfile(const char *opt, const char *s);
/* HOST:PORT by syntax: a DNS name, IPv4 or [IPv6]; host without brackets. */
int np_parse_hostport(const char *opt, const char *s,
		      char host[NP_HOST_MAX + 1], __u16 *port);

/*
 * Fill *o from argv. Returns 0 to run o->command (--help and --version
 * make it the help and version commands), or -EINVAL after a usage
 * message (exit 2).
 */
int np_opts_parse(int argc, char **argv, struct np_cli *o);

/* The help of command c, or with c NULL the whole grammar, from the tables. */
void np_usage(FILE *f, const struct np_cmd *c);

#endif /* NBDPATH_OPTS_H */
