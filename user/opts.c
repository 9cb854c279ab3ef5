// SPDX-License-Identifier: GPL-2.0
/*
 * The command line: one table of commands and one of options, from which
 * the parser, the dispatch in main() and every help text come. Options
 * may stand before or after the command and its arguments; all are
 * collected first, then checked against the command, then their values
 * parsed by type, in the order given.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "json_writer.h"
#include "log.h"
#include "opts.h"
#include "report.h"

/* Which commands an option belongs to. */
#define C_RUN		0x01
#define C_REPLAY	0x02
#define C_QUERY		0x04	/* hosts, flows, interfaces, stats */
#define C_STATUS	0x08
#define C_DETACH	0x10
#define C_VERSION	0x20
#define C_HELP		0x40
#define C_ANY		0x7f

#define STR_(x)		#x
#define STR(x)		STR_(x)

#define QUERY_GRAMMAR	" [-j|--json] [--pin-dir DIR]"

static const struct np_cmd cmds[] = {
	{ "run",	cmd_run,	C_RUN,		0,		0,
	  "run -i IFACE [-i IFACE]... [OPTIONS]",
	  "attach to the mirror NIC(s), report every interval until stopped" },
	{ "replay",	cmd_replay,	C_REPLAY,	0,		1,
	  "replay FILE [OPTIONS]",
	  "classify a pcap or pcapng file with the same XDP program" },
	{ "hosts",	cmd_query,	C_QUERY,	NP_VIEW_HOSTS,	0,
	  "hosts" QUERY_GRAMMAR,
	  "per ESXi host verdicts of a running 'nbdpath run'" },
	{ "flows",	cmd_query,	C_QUERY,	NP_VIEW_FLOWS,	0,
	  "flows" QUERY_GRAMMAR,
	  "the flows of a running 'nbdpath run'" },
	{ "interfaces",	cmd_query,	C_QUERY,	NP_VIEW_IFACES,	0,
	  "interfaces" QUERY_GRAMMAR,
	  "the server-side interfaces (vmks) of a running 'nbdpath run'" },
	{ "stats",	cmd_query,	C_QUERY,	NP_VIEW_STATS,	0,
	  "stats" QUERY_GRAMMAR,
	  "the frame counters of a running 'nbdpath run'" },
	{ "status",	cmd_status,	C_STATUS,	0,		0,
	  "status [-j|--json] [--pin-dir DIR]",
	  "what is attached where, by which process" },
	{ "detach",	cmd_detach,	C_DETACH,	0,		0,
	  "detach -i IFACE [-i IFACE]...",
	  "remove an nbdpath program left attached to IFACE" },
	{ "version",	cmd_version,	C_VERSION,	0,		0,
	  "version [-j|--json]",
	  "the versions of nbdpath, libbpf and the BPF map layout" },
	{ "help",	cmd_help,	C_HELP,		0,		1,
	  "help [COMMAND]",
	  "the grammar, or one command's grammar and options" },
};

#define N_CMDS	(sizeof(cmds) / sizeof(cmds[0]))

/* How a value is parsed: each type has one parser and one message. */
enum opt_type {
	T_FLAG,		/* no value */
	T_IFACE,	/* a network interface of this namespace */
	T_PORT,		/* a TCP port */
	T_VMK,		/* NAME=MAC */
	T_INFILE,	/* a file readable now */
	T_OUTFILE,	/* a file that can be created or appended to */
	T_SECONDS,	/* a plain decimal above 0 */
	T_COUNT,	/* a whole number in [min, max] */
	T_MODE,		/* auto, native, generic */
	T_DIR,		/* a directory path */
	T_FILEMODE,	/* octal, no execute bits */
	T_ADDR,		/* ADDR:PORT to listen on */
	T_HOSTPORT,	/* HOST:PORT to send to */
};

enum opt_id {
	O_IFACE, O_PORT, O_VMK, O_VMK_FILE, O_INTERVAL, O_DURATION, O_WINDOW,
	O_JSON, O_QUIET, O_MODE, O_PASS, O_PIN_DIR, O_PIN_MODE, O_MAX_FLOWS,
	O_IDLE, O_KEEP_FINISHED, O_MAX_FINISHED, O_SAMPLE, O_METRICS,
	O_FLOW_LOG, O_IPFIX, O_ACTIVE_TIMEOUT, O_VERBOSE, O_HELP, O_VERSION,
};

struct opt {
	const char *lng;	/* without "--" */
	char shrt;		/* 0: long only */
	enum opt_type type;
	const char *metavar;	/* the value in help texts; NULL for T_FLAG */
	unsigned int cmds;
	enum opt_id id;
	__u32 min, max;		/* T_COUNT */
	const char *help;	/* lines after the first start with '\n' */
};

#define MAX_FLOWS_LIMIT		(1u << 24)
#define MAX_FINISHED_LIMIT	(1u << 24)
#define SAMPLE_RATE_LIMIT	(1u << 24)
#define SECONDS_LIMIT		31536000.0	/* a year */
#define SECONDS_MIN		0.1	/* a poll of 100,000 flows takes 73 ms */

static const struct opt opts[] = {
	{ "interface", 'i', T_IFACE, "IFACE", C_RUN | C_DETACH, O_IFACE, 0, 0,
	  "mirror NIC to attach to, or detach from"
	  "\n(repeatable)" },
	{ "port", 'p', T_PORT, "N", C_RUN | C_REPLAY, O_PORT, 0, 0,
	  "monitored TCP port (repeatable; default " STR(NP_DEFAULT_PORT) ","
	  "\nthe first --port replaces it)" },
	{ "vmk", 0, T_VMK, "NAME=MAC", C_RUN | C_REPLAY, O_VMK, 0, 0,
	  "name a server-side MAC (repeatable),"
	  "\ne.g. vmk4=00:50:56:6b:28:04" },
	{ "vmk-file", 0, T_INFILE, "FILE", C_RUN | C_REPLAY, O_VMK_FILE, 0, 0,
	  "names from 'esxcfg-vmknic -l' or"
	  "\n'esxcli network ip interface list' output" },
	{ "interval", 0, T_SECONDS, "SECONDS", C_RUN | C_REPLAY, O_INTERVAL,
	  0, 0,
	  "report period (default 1, fractions from 0.1);"
	  "\nreplay: of capture time, default none (one"
	  "\nreport for the whole file)" },
	{ "duration", 0, T_SECONDS, "SECONDS", C_RUN, O_DURATION, 0, 0,
	  "stop after this long (default: until"
	  "\nSIGINT or SIGTERM)" },
	{ "window", 0, T_SECONDS, "SECONDS", C_RUN | C_REPLAY, O_WINDOW, 0, 0,
	  "current verdicts cover the last SECONDS"
	  "\n(default " STR(NP_DEFAULT_WINDOW_SEC)
	  ", at least one --interval)" },
	{ "json", 'j', T_FLAG, NULL,
	  C_RUN | C_REPLAY | C_QUERY | C_STATUS | C_VERSION, O_JSON, 0, 0,
	  "JSON output: one object per report, one line" },
	{ "quiet", 'q', T_FLAG, NULL, C_RUN, O_QUIET, 0, 0,
	  "no per-interval report (warnings and errors"
	  "\nstill go to stderr)" },
	{ "mode", 0, T_MODE, "auto|native|generic", C_RUN, O_MODE, 0, 0,
	  "XDP mode: auto (native, else generic)" },
	{ "pass", 0, T_FLAG, NULL, C_RUN, O_PASS, 0, 0,
	  "pass frames on instead of dropping them" },
	{ "pin-dir", 0, T_DIR, "DIR", C_RUN | C_QUERY | C_STATUS, O_PIN_DIR,
	  0, 0, "where the maps are pinned"
	  "\n(default " NP_DEFAULT_PIN_DIR ")" },
	{ "pin-mode", 0, T_FILEMODE, "MODE", C_RUN, O_PIN_MODE, 0, 0,
	  "file mode of the pins (default 0600: root)" },
	{ "max-flows", 0, T_COUNT, "N", C_RUN | C_REPLAY, O_MAX_FLOWS,
	  1, MAX_FLOWS_LIMIT,
	  "flow table size per CPU (default " STR(NP_DEFAULT_MAX_FLOWS) ")" },
	{ "idle-timeout", 0, T_SECONDS, "SECONDS", C_RUN | C_REPLAY, O_IDLE,
	  0, 0,
	  "a flow idle this long ends (default "
	  STR(NP_DEFAULT_IDLE_SEC) ")" },
	{ "keep-finished", 0, T_SECONDS, "SECONDS", C_RUN, O_KEEP_FINISHED,
	  0, 0,
	  "finished flows stay listed this long"
	  "\n(default " STR(NP_DEFAULT_KEEP_FINISHED_SEC) ")" },
	{ "max-finished", 0, T_COUNT, "N", C_RUN | C_REPLAY, O_MAX_FINISHED,
	  1, MAX_FINISHED_LIMIT,
	  "finished flow records held at most, more"
	  "\nare counted and dropped (default "
	  STR(NP_DEFAULT_MAX_FINISHED) ")" },
	{ "sample-rate", 0, T_COUNT, "N", C_RUN | C_REPLAY, O_SAMPLE,
	  1, SAMPLE_RATE_LIMIT,
	  "the mirror copies one packet in N: counts x N" },
	{ "metrics", 0, T_ADDR, "ADDR:PORT", C_RUN, O_METRICS, 0, 0,
	  "serve Prometheus metrics on"
	  "\nhttp://ADDR:PORT/metrics (:PORT: every IPv4"
	  "\nand IPv6 address)" },
	{ "flow-log", 0, T_OUTFILE, "FILE", C_RUN | C_REPLAY, O_FLOW_LOG, 0, 0,
	  "append a JSON line per finished flow to FILE" },
	{ "ipfix", 0, T_HOSTPORT, "HOST:PORT", C_RUN | C_REPLAY, O_IPFIX, 0, 0,
	  "export flows over IPFIX (UDP) to the"
	  "\ncollector at HOST:PORT" },
	{ "active-timeout", 0, T_SECONDS, "SECONDS", C_RUN | C_REPLAY,
	  O_ACTIVE_TIMEOUT, 0, 0,
	  "IPFIX: export a lasting flow every SECONDS"
	  "\n(default " STR(NP_DEFAULT_ACTIVE_TIMEOUT_SEC) ")" },
	{ "verbose", 'v', T_FLAG, NULL, C_ANY, O_VERBOSE, 0, 0,
	  "debug messages (twice: libbpf's too)" },
	{ "help", 'h', T_FLAG, NULL, C_ANY, O_HELP, 0, 0,
	  "this text" },
	{ "version", 0, T_FLAG, NULL, C_ANY, O_VERSION, 0, 0,
	  "the versions (as 'nbdpath version')" },
};

#define N_OPTS	(sizeof(opts) / sizeof(opts[0]))

/* ---- help, from the tables ---- */

/* "-i, --interface IFACE", "    --pin-dir DIR" */
static int opt_left(const struct opt *op, char *buf, size_t len)
{
	char s[5] = "    ";

	if (op->shrt)
		snprintf(s, sizeof(s), "-%c, ", op->shrt);
	return snprintf(buf, len, "%s--%s%s%s", s, op->lng,
			op->metavar ? " " : "",
			op->metavar ? op->metavar : "");
}

/* Options of the commands in mask cls; --version only in the global list. */
static bool listed(const struct opt *op, unsigned int cls)
{
	if (cls == C_ANY)
		return true;
	return (op->cmds & cls) && op->id != O_VERSION;
}

static void print_opts(FILE *f, unsigned int cls)
{
	char left[64];
	int width = 0;

	for (size_t i = 0; i < N_OPTS; i++) {
		int n;

		if (!listed(&opts[i], cls))
			continue;
		n = opt_left(&opts[i], left, sizeof(left));
		if (n > width)
			width = n;
	}
	fprintf(f, "Options:\n");
	for (size_t i = 0; i < N_OPTS; i++) {
		const char *h = opts[i].help, *nl;

		if (!listed(&opts[i], cls))
			continue;
		opt_left(&opts[i], left, sizeof(left));
		fprintf(f, "  %-*s  ", width, left);
		while ((nl = strchr(h, '\n'))) {
			fprintf(f, "%.*s\n  %*s  ", (int)(nl - h), h, width, "");
			h = nl + 1;
		}
		fprintf(f, "%s\n", h);
	}
}

static void print_global(FILE *f)
{
	for (size_t i = 0; i < N_CMDS; i++)
		fprintf(f, "%s nbdpath %s\n", i ? "      " : "Usage:",
			cmds[i].grammar);
	fprintf(f, "       nbdpath { -h | --help | --version }\n\nCommands:\n");
	for (size_t i = 0; i < N_CMDS; i++)
		fprintf(f, "  %-12s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\n");
	print_opts(f, C_ANY);
	fprintf(f,
"\n'nbdpath help COMMAND' or 'nbdpath COMMAND --help' shows one command's options.\n"
"\n"
"Exit status: 0 success, 1 runtime failure, 2 usage error,\n"
"             3 pinned maps of an incompatible layout, 4 nothing to query.\n");
}

static void print_command(FILE *f, const struct np_cmd *c)
{
	fprintf(f, "Usage: nbdpath %s\n\n%c%s.\n\n", c->grammar,
		toupper((unsigned char)c->help[0]), c->help + 1);
	print_opts(f, c->cls);
}

void np_usage(FILE *f, const struct np_cmd *c)
{
	if (c)
		print_command(f, c);
	else
		print_global(f);
}

static const struct np_cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < N_CMDS; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

int cmd_help(struct np_cli *o)
{
	np_usage(stdout, o->help_cmd ? find_cmd(o->help_cmd) : NULL);
	return fflush(stdout) ? NP_EXIT_FAIL : NP_EXIT_OK;
}

/* ---- version ---- */

int cmd_version(struct np_cli *o)
{
	bool json = o->json;
	struct jsonw *w;
	char lib[32];
	int err;

	snprintf(lib, sizeof(lib), "%u.%u", libbpf_major_version(),
		 libbpf_minor_version());
	if (!json) {
		printf("nbdpath %s (libbpf %s, BPF layout %u)\n", NP_VERSION,
		       lib, NP_LAYOUT_VERSION);
		return fflush(stdout) ? NP_EXIT_FAIL : NP_EXIT_OK;
	}
	w = jsonw_new(stdout);
	if (!w) {
		np_err("out of memory");
		return NP_EXIT_FAIL;
	}
	jsonw_start_object(w);
	jsonw_string_field(w, "version", NP_VERSION);
	jsonw_string_field(w, "libbpf", lib);
	jsonw_u64_field(w, "layout", NP_LAYOUT_VERSION);
	jsonw_end_object(w);
	jsonw_newline(w);
	err = jsonw_destroy(w);
	return err || fflush(stdout) ? NP_EXIT_FAIL : NP_EXIT_OK;
}

/* ---- exit codes ---- */

int np_exit_code(int err)
{
	switch (err) {
	case 0:
		return NP_EXIT_OK;
	case -EPROTO:
		return NP_EXIT_LAYOUT;
	case -ENOENT:
	case -ESTALE:
		return NP_EXIT_NONE;
	}
	return NP_EXIT_FAIL;
}

/* ---- typed values ---- */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Digits only, so that "-1", " 5", "0x10" and "5k" are all refused. */
static int parse_u64(const char *s, unsigned long long *v)
{
	char *end;

	if (!all_digits(s))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

int np_parse_iface(const char *opt, const char *s, unsigned int *ifindex)
{
	unsigned int idx = 0;

	if (*s && strlen(s) < IF_NAMESIZE)
		idx = if_nametoindex(s);
	if (!idx) {
		np_err("%s '%s': no such network interface in this network namespace; 'ip link' lists them",
		       opt, s);
		return -EINVAL;
	}
	*ifindex = idx;
	return 0;
}

int np_parse_port(const char *opt, const char *s, __u16 *port)
{
	unsigned long long v;

	if (parse_u64(s, &v) || v < 1 || v > 65535) {
		np_err("%s '%s': expected a TCP port 1-65535", opt, s);
		return -EINVAL;
	}
	*port = v;
	return 0;
}

int np_parse_seconds(const char *opt, const char *s, double *sec)
{
	const char *p = s;
	int digits = 0, dots = 0;
	double v;

	/* plain decimal only: strtod would also take "inf", "nan", "1e3" */
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (*p == '.' && !dots)
			dots++;
		else
			break;
	}
	v = (!*p && digits) ? strtod(s, NULL) : 0;
	if (!(v >= SECONDS_MIN) || v > SECONDS_LIMIT) {
		np_err("%s '%s': expected seconds, a plain number from %g to %.0f, such as 1 or 0.5",
		       opt, s, SECONDS_MIN, (double)SECONDS_LIMIT);
		return -EINVAL;
	}
	*sec = v;
	return 0;
}

int np_parse_count(const char *opt, const char *s, __u32 min, __u32 max,
		   __u32 *v)
{
	unsigned long long n;

	if (parse_u64(s, &n) || n < min || n > max) {
		np_err("%s '%s': expected a whole number %u-%u", opt, s, min, max);
		return -EINVAL;
	}
	*v = n;
	return 0;
}

int np_parse_mode(const char *opt, const char *s, enum np_mode *mode)
{
	if (!strcmp(s, "auto"))
		*mode = NP_MODE_AUTO;
	else if (!strcmp(s, "native"))
		*mode = NP_MODE_NATIVE;
	else if (!strcmp(s, "generic"))
		*mode = NP_MODE_GENERIC;
	else {
		np_err("%s '%s': expected auto, native or generic", opt, s);
		return -EINVAL;
	}
	return 0;
}

/* "ADDR:PORT", "[ADDR6]:PORT", ":PORT" or "*:PORT" (every IPv4 address). */
int np_parse_addr(const char *opt, const char *s, struct np_sockaddr *a)
{
	char host[INET6_ADDRSTRLEN + 2] = "";
	const char *colon = strrchr(s, ':');
	unsigned long long port;
	size_t hl;

	memset(a, 0, sizeof(*a));
	if (!colon || parse_u64(colon + 1, &port) || port < 1 || port > 65535)
		goto bad;
	hl = colon - s;
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;

		if (hl - 2 >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, hl - 2);
		host[hl - 2] = 0;
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			goto bad;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		a->len = sizeof(*in6);
		return 0;
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;

		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, s, hl);
		host[hl] = 0;
		if (!hl || !strcmp(host, "*"))
			strcpy(host, "0.0.0.0");
		else if (!strcmp(host, "localhost"))
			strcpy(host, "127.0.0.1");
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			goto bad;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		a->len = sizeof(*in);
		return 0;
	}
bad:
	np_err("%s '%s': expected ADDR:PORT such as 127.0.0.1:9902, [::1]:9902 or :9902",
	       opt, s);
	return -EINVAL;
}

int np_parse_filemode(const char *opt, const char *s, unsigned int *mode)
{
	unsigned long v = 0;
	const char *p;

	for (p = s; *p >= '0' && *p <= '7'; p++)
		v = v * 8 + (*p - '0');
	/* pins are never executable: read and write bits only */
	if (!*s || *p || p - s > 4 || (v & ~0666ul)) {
		np_err("%s '%s': expected an octal file mode without execute bits, such as 0600 or 0640",
		       opt, s);
		return -EINVAL;
	}
	*mode = v;
	return 0;
}

int np_parse_infile(const char *opt, const char *s)
{
	struct stat st;
	int fd, err = 0;

	if (!strcmp(s, "-"))
		return 0;
	fd = open(s, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		err = -errno;
	else if (fstat(fd, &st))
		err = -errno;
	else if (S_ISDIR(st.st_mode))
		err = -EISDIR;
	if (fd >= 0)
		close(fd);
	if (err) {
		np_err("%s '%s': cannot read it: %s; give a readable file",
		       opt, s, strerror(-err));
		return -EINVAL;
	}
	return 0;
}

/* A file that can be created or appended to now, without touching it. */
int np_parse_outfile(const char *opt, const char *s)
{
	char dir[PATH_MAX], *slash;
	struct stat st;
	int fd, err = 0;

	if (!*s || strlen(s) >= sizeof(dir)) {
		np_err("%s '%s': expected a file path", opt, s);
		return -EINVAL;
	}
	/* O_NONBLOCK: a FIFO without a reader fails instead of hanging */
	fd = open(s, O_WRONLY | O_APPEND | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	err = -errno;
	if (err == -ENOENT) {
		/* a new file: its directory must take it */
		snprintf(dir, sizeof(dir), "%s", s);
		slash = strrchr(dir, '/');
		if (!slash)
			strcpy(dir, ".");
		else if (slash == dir)
			dir[1] = 0;
		else
			*slash = 0;
		if (stat(dir, &st))
			err = -errno;
		else if (!S_ISDIR(st.st_mode))
			err = -ENOTDIR;
		else if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS))
			err = -errno;
		else
			return 0;
	}
	np_err("%s '%s': cannot create or append to it: %s; give a file in a writable directory",
	       opt, s, strerror(-err));
	return -EINVAL;
}

/* One DNS label: letters, digits, inner hyphens, 1-63 of them. */
static bool dns_label(const char *s, size_t n)
{
	if (!n || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/*
 * "NAME:PORT", "IPV4:PORT" or "[IPV6]:PORT", checked by syntax only: a
 * name is resolved when the exporter starts. A name whose last label is
 * all digits is taken for an IPv4 address, as RFC 3696 has it.
 */
int np_parse_hostport(const char *opt, const char *s,
		      char host[NP_HOST_MAX + 1], __u16 *port)
{
	const char *colon = strrchr(s, ':'), *l, *dot;
	unsigned char buf[sizeof(struct in6_addr)];
	unsigned long long p;
	bool numeric = true;
	size_t hl;

	if (!colon || parse_u64(colon + 1, &p) || p < 1 || p > 65535)
		goto bad;
	hl = colon - s;
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		if (hl - 2 > NP_HOST_MAX)
			goto bad;
		memcpy(host, s + 1, hl - 2);
		host[hl - 2] = 0;
		if (inet_pton(AF_INET6, host, buf) != 1)
			goto bad;
		*port = p;
		return 0;
	}
	if (!hl || hl > NP_HOST_MAX)
		goto bad;
	memcpy(host, s, hl);
	host[hl] = 0;
	for (l = host; ; l = dot + 1) {
		dot = strchr(l, '.');
		if (!dns_label(l, dot ? (size_t)(dot - l) : strlen(l)))
			goto bad;
		if (!dot)
			break;
	}
	for (; *l; l++)
		numeric &= *l >= '0' && *l <= '9';
	if (numeric && inet_pton(AF_INET, host, buf) != 1)
		goto bad;
	*port = p;
	return 0;
bad:
	host[0] = 0;
	np_err("%s '%s': expected HOST:PORT, a collector's name or address and UDP port, such as collector.example.com:4739, 192.0.2.1:4739 or [2001:db8::1]:4739",
	       opt, s);
	return -EINVAL;
}

/* ---- the command line ---- */

struct given {
	const struct opt *opt;
	const char *val;
};

/* The name messages use: the long form, but -i as the grammar shows it. */
static const char *opt_name(const struct opt *op, char buf[32])
{
	if (op->id == O_IFACE)
		snprintf(buf, 32, "-%c", op->shrt);
	else
		snprintf(buf, 32, "--%s", op->lng);
	return buf;
}

static const struct opt *find_long(const char *name, size_t len)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (strlen(opts[i].lng) == len && !strncmp(opts[i].lng, name, len))
			return &opts[i];
	return NULL;
}

static const struct opt *find_short(char c)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (opts[i].shrt == c)
			return &opts[i];
	return NULL;
}

static int add_iface(struct np_cli *o, const char *opt, const char *name,
		     unsigned int idx)
{
	for (int i = 0; i < o->n_ifaces; i++) {
		if (o->ifindex[i] == idx) {
			np_err("%s '%s' is given twice; name each interface once",
			       opt, name);
			return -EINVAL;
		}
	}
	if (o->n_ifaces >= NP_MAX_IFACES) {
		np_err("%s '%s': at most %d interfaces per run; start another run with its own --pin-dir",
		       opt, name, NP_MAX_IFACES);
		return -EINVAL;
	}
	o->ifindex[o->n_ifaces] = idx;
	o->ifaces[o->n_ifaces++] = name;
	return 0;
}

static int add_port(struct np_cli *o, const char *opt, const char *s,
		    __u16 port)
{
	for (int i = 0; i < o->n_ports; i++)
		if (o->ports[i] == port)
			return 0;
	if (o->n_ports >= NP_MAX_PORTS) {
		np_err("%s '%s': at most %d ports", opt, s, NP_MAX_PORTS);
		return -EINVAL;
	}
	o->ports[o->n_ports++] = port;
	return 0;
}

/* A value, parsed by the type of its option. */
union value {
	unsigned int ifindex;
	__u16 port;
	double sec;
	__u32 count;
	enum np_mode mode;
	unsigned int filemode;
};

static int parse_value(struct np_cli *o, const struct opt *op, const char *n,
		       const char *v, union value *x)
{
	switch (op->type) {
	case T_FLAG:
		return 0;
	case T_IFACE:
		return np_parse_iface(n, v, &x->ifindex);
	case T_PORT:
		return np_parse_port(n, v, &x->port);
	case T_VMK:
		return np_vmk_parse_arg(&o->vmks, v) ? -EINVAL : 0;
	case T_INFILE:
		return np_parse_infile(n, v);
	case T_OUTFILE:
		return np_parse_outfile(n, v);
	case T_SECONDS:
		return np_parse_seconds(n, v, &x->sec);
	case T_COUNT:
		return np_parse_count(n, v, op->min, op->max, &x->count);
	case T_MODE:
		return np_parse_mode(n, v, &x->mode);
	case T_DIR:
		if (!*v || strlen(v) > PATH_MAX - 32) {
			np_err("%s '%s': expected a directory path", n, v);
			return -EINVAL;
		}
		return 0;
	case T_FILEMODE:
		return np_parse_filemode(n, v, &x->filemode);
	case T_ADDR:
		return np_parse_addr(n, v, &o->metrics_addr);
	case T_HOSTPORT:
		return np_parse_hostport(n, v, o->ipfix_host, &o->ipfix_port);
	}
	return 0;
}

static int apply(struct np_cli *o, const struct given *g)
{
	char nbuf[32];
	const char *n = opt_name(g->opt, nbuf);
	const char *v = g->val;
	union value x;
	int err;

	err = parse_value(o, g->opt, n, v, &x);
	if (err)
		return err;
	switch (g->opt->id) {
	case O_IFACE:
		return add_iface(o, n, v, x.ifindex);
	case O_PORT:
		return add_port(o, n, v, x.port);
	case O_VMK:
		break;
	case O_VMK_FILE:
		o->vmk_file = v;
		return np_vmk_parse_file(&o->vmks, v) ? -EINVAL : 0;
	case O_INTERVAL:
		o->interval = x.sec;
		o->interval_given = true;
		break;
	case O_DURATION:
		o->duration = x.sec;
		break;
	case O_WINDOW:
		o->window = x.sec;
		break;
	case O_JSON:
		o->json = true;
		break;
	case O_QUIET:
		o->quiet = true;
		break;
	case O_MODE:
		o->mode = x.mode;
		break;
	case O_PASS:
		o->pass = true;
		break;
	case O_PIN_DIR:
		o->pin_dir = v;
		break;
	case O_PIN_MODE:
		o->pin_mode = x.filemode;
		break;
	case O_MAX_FLOWS:
		o->max_flows = x.count;
		break;
	case O_IDLE:
		o->idle_timeout = ceil(x.sec);
		break;
	case O_KEEP_FINISHED:
		o->keep_finished = x.sec;
		break;
	case O_MAX_FINISHED:
		o->max_finished = x.count;
		o->max_finished_given = true;
		break;
	case O_SAMPLE:
		o->sample_rate = x.count;
		break;
	case O_METRICS:
		o->metrics = v;
		break;
	case O_FLOW_LOG:
		o->flow_log = v;
		break;
	case O_IPFIX:
		o->ipfix = v;
		break;
	case O_ACTIVE_TIMEOUT:
		o->active_timeout = x.sec;
		break;
	case O_VERBOSE:		/* counted before the others */
	case O_HELP:
	case O_VERSION:
		break;
	}
	return 0;
}

static void defaults(struct np_cli *o)
{
	memset(o, 0, sizeof(*o));
	o->interval = 1;
	o->mode = NP_MODE_AUTO;
	o->pin_dir = NP_DEFAULT_PIN_DIR;
	o->pin_mode = NP_DEFAULT_PIN_MODE;
	o->max_flows = NP_DEFAULT_MAX_FLOWS;
	o->idle_timeout = NP_DEFAULT_IDLE_SEC;
	o->sample_rate = 1;
	o->keep_finished = NP_DEFAULT_KEEP_FINISHED_SEC;
	o->max_finished = NP_DEFAULT_MAX_FINISHED;
	o->active_timeout = NP_DEFAULT_ACTIVE_TIMEOUT_SEC;
}

/*
 * The window holds at least one interval. Not given, it is the default
 * or one interval, whichever is longer; given shorter, a usage error.
 */
static int check_window(struct np_cli *o)
{
	if (!o->window) {
		o->window = fmax(NP_DEFAULT_WINDOW_SEC, o->interval);
		return 0;
	}
	if (o->window < o->interval) {
		np_err("--window %g is shorter than --interval %g: a window holds at least one interval; lengthen --window or shorten --interval",
		       o->window, o->interval);
		return -EINVAL;
	}
	return 0;
}

/* What a command needs beyond its options' own values. */
static int check_command(struct np_cli *o, char **pos, int n_pos)
{
	const struct np_cmd *c = o->command;

	if (n_pos - 1 > c->n_args) {
		np_err("unexpected argument '%s' after '%s'; 'nbdpath %s --help' shows the grammar",
		       pos[c->n_args + 1], o->cmd, o->cmd);
		return -EINVAL;
	}
	switch (c->cls) {
	case C_RUN:
		if (!o->n_ifaces) {
			np_err("run needs -i IFACE, the mirror NIC, e.g. 'nbdpath run -i eth1'");
			return -EINVAL;
		}
		/* The program may reclaim a slot idle_timeout after its last
		 * packet: the loader must have read it by then.
		 */
		if (o->idle_timeout < 3 * o->interval) {
			np_err("--idle-timeout %u is less than 3 x --interval (%g s); raise --idle-timeout or shorten --interval",
			       o->idle_timeout, o->interval);
			return -EINVAL;
		}
		return check_window(o);
	case C_REPLAY:
		if (n_pos < 2) {
			np_err("replay needs FILE, a pcap or pcapng capture, e.g. 'nbdpath replay x.pcap'");
			return -EINVAL;
		}
		/* no --interval: one report for the whole file */
		if (!o->interval_given)
			o->interval = 0;
		o->file = pos[1];
		if (np_parse_infile("replay", o->file))
			return -EINVAL;
		return check_window(o);
	case C_DETACH:
		if (!o->n_ifaces) {
			np_err("detach needs -i IFACE, e.g. 'nbdpath detach -i eth1'");
			return -EINVAL;
		}
		break;
	case C_HELP:
		if (n_pos < 2)
			break;
		if (!find_cmd(pos[1])) {
			np_err("unknown command '%s'; 'nbdpath --help' lists the commands",
			       pos[1]);
			return -EINVAL;
		}
		o->help_cmd = pos[1];
		break;
	}
	return 0;
}

/* Split argv into options (with their values) and positional arguments. */
static int collect(int argc, char **argv, struct given *given, int *n_given,
		   char **pos, int *n_pos)
{
	bool dashdash = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct opt *op;

		if (dashdash || a[0] != '-' || !a[1]) {
			pos[(*n_pos)++] = argv[i];
			continue;
		}
		if (!strcmp(a, "--")) {
			dashdash = true;
			continue;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);

			op = find_long(a + 2, len);
			if (!op) {
				np_err("unknown option '%.*s'; 'nbdpath --help' lists the options",
				       (int)(len + 2), a);
				return -EINVAL;
			}
			given[*n_given] = (struct given){ op, NULL };
			if (op->type != T_FLAG) {
				if (eq) {
					given[*n_given].val = eq + 1;
				} else if (i + 1 < argc) {
					given[*n_given].val = argv[++i];
				} else {
					np_err("%s needs a value; 'nbdpath --help' shows it", a);
					return -EINVAL;
				}
			} else if (eq) {
				np_err("--%s takes no value (got '%s')", op->lng, a);
				return -EINVAL;
			}
			(*n_given)++;
			continue;
		}
		/* a cluster of short options: -jv, -i eth1, -ieth1 */
		for (const char *c = a + 1; *c; c++) {
			op = find_short(*c);
			if (!op) {
				np_err("unknown option '-%c'; 'nbdpath --help' lists the options",
				       *c);
				return -EINVAL;
			}
			given[*n_given] = (struct given){ op, NULL };
			if (op->type != T_FLAG) {
				if (c[1]) {
					given[*n_given].val = c + 1;
				} else if (i + 1 < argc) {
					given[*n_given].val = argv[++i];
				} else {
					np_err("-%c needs a value; 'nbdpath --help' shows it", *c);
					return -EINVAL;
				}
				(*n_given)++;
				break;
			}
			(*n_given)++;
		}
	}
	return 0;
}

int np_opts_parse(int argc, char **argv, struct np_cli *o)
{
	bool help = false, version = false;
	int n_given = 0, n_pos = 0, err = -EINVAL;
	struct given *given;
	size_t max_given = 0;
	char **pos;

	defaults(o);
	if (argc < 2) {
		char names[128] = "";
		size_t n = 0;

		for (size_t i = 0; i < N_CMDS && n < sizeof(names); i++)
			n += snprintf(names + n, sizeof(names) - n, "%s%s",
				      i ? ", " : "", cmds[i].name);
		/* a usage error like any other: one line, not the grammar */
		np_err("no command given (%s); 'nbdpath --help' shows the grammar",
		       names);
		return -EINVAL;
	}
	/* a cluster such as -jvv is one option per letter */
	for (int i = 1; i < argc; i++)
		max_given += strlen(argv[i]) + 1;
	given = calloc(max_given, sizeof(*given));
	pos = calloc(argc, sizeof(*pos));
	if (!given || !pos) {
		np_err("out of memory");
		goto out;
	}
	if (collect(argc, argv, given, &n_given, pos, &n_pos))
		goto out;

	for (int i = 0; i < n_given; i++) {
		if (given[i].opt->id == O_HELP)
			help = true;
		else if (given[i].opt->id == O_VERSION)
			version = true;
		else if (given[i].opt->id == O_VERBOSE)
			o->verbose++;
		else if (given[i].opt->id == O_JSON)
			o->json = true;
	}
	np_log_init(o->verbose);
	if (n_pos) {
		o->cmd = pos[0];
		o->command = find_cmd(o->cmd);
		if (!o->command) {
			np_err("unknown command '%s'; 'nbdpath --help' lists the commands",
			       o->cmd);
			goto out;
		}
	}
	/* --help and --version are the help and version commands */
	if (help) {
		o->help_cmd = o->command ? o->command->name : NULL;
		o->command = find_cmd("help");
		err = 0;
		goto out;
	}
	if (version) {
		o->command = find_cmd("version");
		err = 0;
		goto out;
	}
	if (!o->command) {
		np_err("no command given; 'nbdpath --help' lists the commands");
		goto out;
	}
	for (int i = 0; i < n_given; i++) {
		if (!(given[i].opt->cmds & o->command->cls)) {
			char nbuf[32];

			np_err("%s is not an option of '%s'; 'nbdpath %s --help' shows what it takes",
			       opt_name(given[i].opt, nbuf), o->cmd, o->cmd);
			goto out;
		}
	}
	for (int i = 0; i < n_given; i++)
		if (apply(o, &given[i]))
			goto out;
	err = check_command(o, pos, n_pos);
out:
	free(given);
	free(pos);
	return err;
}
