// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>

#include "log.h"

int np_verbose;

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void np_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("nbdpath: ", fmt, ap);
	va_end(ap);
}

void np_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("nbdpath: warning: ", fmt, ap);
	va_end(ap);
}

void np_dbg(const char *fmt, ...)
{
	va_list ap;

	if (!np_verbose)
		return;
	va_start(ap, fmt);
	vlog("nbdpath: debug: ", fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	/* libbpf's own hints (e.g. about RLIMIT_MEMLOCK or missing
	 * privileges) mislead more than they help: ours say what is wrong
	 */
	if (!np_verbose || (level == LIBBPF_DEBUG && np_verbose < 2))
		return 0;
	fputs("nbdpath: libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void np_log_init(int verbose)
{
	np_verbose = verbose;
	libbpf_set_print(libbpf_print);
}
