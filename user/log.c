// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <bpf/libbpf.h>

#include "log.h"

int np_verbose;

/*
 * One line, always: a message may quote a file name or an argument, and
 * a control character in one (a newline in a quoted --vmk value) must
 * not split it. Written as \n, \r, \t or \xHH.
 */
static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	char buf[1024], *msg = buf;
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n >= (int)sizeof(buf)) {
		msg = malloc((size_t)n + 1);
		if (msg)
			vsnprintf(msg, (size_t)n + 1, fmt, aq);
		else
			msg = buf;	/* cut, but said */
	}
	va_end(aq);
	if (n < 0)
		snprintf(buf, sizeof(buf), "%s", fmt);
	fputs(prefix, stderr);
	for (const unsigned char *c = (const unsigned char *)msg; *c; c++) {
		if (*c == '\n')
			fputs("\\n", stderr);
		else if (*c == '\r')
			fputs("\\r", stderr);
		else if (*c == '\t')
			fputs("\\t", stderr);
		else if (*c < 0x20 || *c == 0x7f)
			fprintf(stderr, "\\x%02x", *c);
		else
			fputc(*c, stderr);
	}
	fputc('\n', stderr);
	if (msg != buf)
		free(msg);
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
