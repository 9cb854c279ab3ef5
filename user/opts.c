// SPDX-License-Identifier: GPL-2.0
/*
 * Command line parsing. Options may stand before or after the command and
 * its arguments; all are collected first, then checked against the
 * command, then their values parsed by type, in the order given.
 */
#include <arpa/inet.h>
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

#include "log.h"
#include "opts.h"

/* Which commands an option belongs to. */
#define C_RUN		0x01
#define C_REPLAY	0x02
#define C_QUERY		0x04	/* hosts, flows, interfaces, stats */
#define C_STATUS	0x08
#define C_DETACH	0x10
#define C_ANY		0x1f

enum opt_id {
	O_IFACE, O_PORT, O_VMK, O_VMK_FILE, O_INTERVAL, O_DURATION, O_JSON,
	O_MODE, O_PASS, O_PIN_DIR, O_PIN_MODE, O_MAX_FLOWS, O_IDLE,
	O_SAMPLE, O_METRICS, O_VERBOSE, O_HELP, O_VERSION,
};

struct opt {
	const char *lng;	/* without "--"; NULL: short only */
	char shrt;		/* 0: long only */
	bool arg;
	unsigned int cmds;
	enum opt_id id;
};

static const struct opt opts[] = {
	{ "interface",	  'i', true,  C_RUN | C_DETACH,	O_IFACE },
	{ "port",	  'p', true,  C_RUN | C_REPLAY,	O_PORT },
	{ "vmk",	  0,   true,  C_RUN | C_REPLAY,	O_VMK },
	{ "vmk-file",	  0,   true,  C_RUN | C_REPLAY,	O_VMK_FILE },
	{ "interval",	  0,   true,  C_RUN,		O_INTERVAL },
	{ "duration",	  0,   true,  C_RUN,		O_DURATION },
	{ "json",	  'j', false, C_RUN | C_REPLAY | C_QUERY | C_STATUS,
								O_JSON },
	{ "mode",	  0,   true,  C_RUN,		O_MODE },
	{ "pass",	  0,   false, C_RUN,		O_PASS },
	{ "pin-dir",	  0,   true,  C_RUN | C_QUERY | C_STATUS, O_PIN_DIR },
	{ "pin-mode",	  0,   true,  C_RUN,		O_PIN_MODE },
	{ "max-flows",	  0,   true,  C_RUN | C_REPLAY,	O_MAX_FLOWS },
	{ "idle-timeout", 0,   true,  C_RUN | C_REPLAY,	O_IDLE },
	{ "sample-rate",  0,   true,  C_RUN | C_REPLAY,	O_SAMPLE },
	{ "metrics",	  0,   true,  C_RUN,		O_METRICS },
	{ "verbose",	  'v', false, C_ANY,		O_VERBOSE },
	{ "help",	  'h', false, C_ANY,		O_HELP },
	{ "version",	  0,   false, C_ANY,		O_VERSION },
};

static const struct {
	const char *name;
	unsigned int cls;
} cmds[] = {
	{ "run",	C_RUN },
	{ "replay",	C_REPLAY },
	{ "hosts",	C_QUERY },
	{ "flows",	C_QUERY },
	{ "interfaces",	C_QUERY },
	{ "stats",	C_QUERY },
	{ "status",	C_STATUS },
	{ "detach",	C_DETACH },
};

#define MAX_FLOWS_LIMIT		(1u << 24)
#define SAMPLE_RATE_LIMIT	(1u << 24)
#define SECONDS_LIMIT		31536000.0	/* a year */
#define SECONDS_MIN		0.1	/* a poll of 100,000 flows takes 73 ms */

void np_usage(FILE *f)
{
	fprintf(f,
"Usage: nbdpath run -i IFACE [-i IFACE]... [OPTIONS]\n"
"       nbdpath replay FILE [OPTIONS]\n"
"       nbdpath { hosts | flows | interfaces | stats } [--json] [--pin-dir DIR]\n"
"       nbdpath status [--json] [--pin-dir DIR]\n"
"       nbdpath detach -i IFACE\n"
"       nbdpath { -h | --help | --version }\n"
"\n"
"       OPTIONS := { -p|--port N | --vmk NAME=MAC | --vmk-file FILE |\n"
"                    --interval SECONDS | --duration SECONDS | -j|--json |\n"
"                    --mode { auto | native | generic } | --pass |\n"
"                    --pin-dir DIR | --pin-mode MODE | --max-flows N |\n"
"                    --idle-timeout SECONDS | --sample-rate N |\n"
"                    --metrics ADDR:PORT | -v|--verbose }\n"
"\n"
"Commands:\n"
"  run          attach to the mirror NIC(s), report every interval until stopped\n"
"  replay       classify a pcap or pcapng file with the same XDP program\n"
"  hosts, flows, interfaces, stats\n"
"               query the pinned maps of a running 'nbdpath run'\n"
"  status       what is attached where, by which process\n"
"  detach       remove an nbdpath program left attached to IFACE\n"
"\n"
"Options:\n"
"  -i, --interface IFACE  mirror NIC to attach to (repeatable)\n"
"  -p, --port N           monitored TCP port (repeatable; default 902,\n"
"                         the first --port replaces it)\n"
"  --vmk NAME=MAC         name a server-side MAC, e.g. vmk4=00:50:56:6b:28:04\n"
"  --vmk-file FILE        names from 'esxcfg-vmknic -l' or\n"
"                         'esxcli network ip interface list' output\n"
"  --interval SECONDS     report period (default 1, fractions allowed)\n"
"  --duration SECONDS     stop after this long (default: until SIGINT/SIGTERM)\n"
"  -j, --json             one JSON object per report\n"
"  --mode MODE            XDP mode: auto (native, else generic), native, generic\n"
"  --pass                 pass frames on instead of dropping them\n"
"  --pin-dir DIR          where the maps are pinned (default %s)\n"
"  --pin-mode MODE        file mode of the pins (default 0600: root only)\n"
"  --max-flows N          flow table size per CPU (default %u)\n"
"  --idle-timeout SECONDS flows idle this long leave the report (default %u)\n"
"  --sample-rate N        the mirror copies one packet in N: counts x N\n"
"  --metrics ADDR:PORT    serve Prometheus metrics on http://ADDR:PORT/metrics\n"
"  -v, --verbose          debug messages (twice: libbpf's too)\n"
"  -h, --help             this text\n"
"  --version              the version\n"
"\n"
"Exit status: 0 success, 1 runtime failure, 2 usage error,\n"
"             3 pinned maps of an incompatible layout, 4 nothing to query.\n",
		NP_DEFAULT_PIN_DIR, NP_DEFAULT_MAX_FLOWS, NP_DEFAULT_IDLE_SEC);
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

/* ---- the command line ---- */

struct given {
	const struct opt *opt;
	const char *val;
};

/* The name messages use: the long form, but -i as the grammar shows it. */
static const char *opt_name(const struct opt *op, char buf[32])
{
	if (op->shrt && (!op->lng || op->id == O_IFACE))
		snprintf(buf, 32, "-%c", op->shrt);
	else
		snprintf(buf, 32, "--%s", op->lng);
	return buf;
}

static const struct opt *find_long(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (opts[i].lng && strlen(opts[i].lng) == len &&
		    !strncmp(opts[i].lng, name, len))
			return &opts[i];
	return NULL;
}

static const struct opt *find_short(char c)
{
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (opts[i].shrt == c)
			return &opts[i];
	return NULL;
}

static int add_iface(struct np_cli *o, const char *opt, const char *name)
{
	unsigned int idx;
	int err;

	err = np_parse_iface(opt, name, &idx);
	if (err)
		return err;
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

static int add_port(struct np_cli *o, const char *opt, const char *s)
{
	__u16 port;
	int err;

	err = np_parse_port(opt, s, &port);
	if (err)
		return err;
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

static int apply(struct np_cli *o, const struct given *g)
{
	char nbuf[32];
	const char *n = opt_name(g->opt, nbuf);
	const char *v = g->val;
	double sec;
	int err;

	switch (g->opt->id) {
	case O_IFACE:
		return add_iface(o, n, v);
	case O_PORT:
		return add_port(o, n, v);
	case O_VMK:
		return np_vmk_parse_arg(&o->vmks, v);
	case O_VMK_FILE:
		err = np_parse_infile(n, v);
		if (err)
			return err;
		o->vmk_file = v;
		err = np_vmk_parse_file(&o->vmks, v);
		return err ? -EINVAL : 0;
	case O_INTERVAL:
		return np_parse_seconds(n, v, &o->interval);
	case O_DURATION:
		return np_parse_seconds(n, v, &o->duration);
	case O_JSON:
		o->json = true;
		return 0;
	case O_MODE:
		return np_parse_mode(n, v, &o->mode);
	case O_PASS:
		o->pass = true;
		return 0;
	case O_PIN_DIR:
		if (!*v || strlen(v) > PATH_MAX - 32) {
			np_err("%s '%s': expected a directory path", n, v);
			return -EINVAL;
		}
		o->pin_dir = v;
		return 0;
	case O_PIN_MODE:
		return np_parse_filemode(n, v, &o->pin_mode);
	case O_MAX_FLOWS:
		return np_parse_count(n, v, 1, MAX_FLOWS_LIMIT, &o->max_flows);
	case O_IDLE:
		err = np_parse_seconds(n, v, &sec);
		if (!err)
			o->idle_timeout = ceil(sec);
		return err;
	case O_SAMPLE:
		return np_parse_count(n, v, 1, SAMPLE_RATE_LIMIT,
				      &o->sample_rate);
	case O_METRICS:
		o->metrics = v;
		return np_parse_addr(n, v, &o->metrics_addr);
	case O_VERBOSE:		/* counted before the others */
	case O_HELP:
	case O_VERSION:
		return 0;
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
}

/* What a command needs beyond its options' own values. */
static int check_command(struct np_cli *o, unsigned int cls,
			 char **pos, int n_pos)
{
	int want = cls == C_REPLAY ? 1 : 0;

	if (n_pos - 1 > want) {
		np_err("unexpected argument '%s' after '%s'; 'nbdpath --help' shows the grammar",
		       pos[want + 1], o->cmd);
		return -EINVAL;
	}
	switch (cls) {
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
		break;
	case C_REPLAY:
		if (n_pos < 2) {
			np_err("replay needs FILE, a pcap or pcapng capture, e.g. 'nbdpath replay x.pcap'");
			return -EINVAL;
		}
		o->file = pos[1];
		return np_parse_infile("replay", o->file);
	case C_DETACH:
		if (!o->n_ifaces) {
			np_err("detach needs -i IFACE, e.g. 'nbdpath detach -i eth1'");
			return -EINVAL;
		}
		break;
	}
	return 0;
}

int np_opts_parse(int argc, char **argv, struct np_cli *o)
{
	struct given *given;
	char **pos;
	int n_given = 0, n_pos = 0, err = -EINVAL;
	bool help = false, version = false, dashdash = false;
	unsigned int cls = 0;
	size_t max_given = 0;

	defaults(o);
	if (argc < 2) {
		/* a usage error like any other: one line, not the grammar */
		np_err("no command given (run, replay, hosts, flows, interfaces, stats, status, detach); 'nbdpath --help' shows the grammar");
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

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct opt *op;

		if (dashdash || a[0] != '-' || !a[1]) {
			pos[n_pos++] = argv[i];
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
				goto out;
			}
			given[n_given] = (struct given){ op, NULL };
			if (op->arg) {
				if (eq) {
					given[n_given].val = eq + 1;
				} else if (i + 1 < argc) {
					given[n_given].val = argv[++i];
				} else {
					np_err("%s needs a value; 'nbdpath --help' shows it", a);
					goto out;
				}
			} else if (eq) {
				np_err("--%s takes no value (got '%s')", op->lng, a);
				goto out;
			}
			n_given++;
			continue;
		}
		/* a cluster of short options: -jv, -i eth1, -ieth1 */
		for (const char *c = a + 1; *c; c++) {
			op = find_short(*c);
			if (!op) {
				np_err("unknown option '-%c'; 'nbdpath --help' lists the options",
				       *c);
				goto out;
			}
			given[n_given] = (struct given){ op, NULL };
			if (op->arg) {
				if (c[1]) {
					given[n_given].val = c + 1;
				} else if (i + 1 < argc) {
					given[n_given].val = argv[++i];
				} else {
					np_err("-%c needs a value; 'nbdpath --help' shows it", *c);
					goto out;
				}
				n_given++;
				break;
			}
			n_given++;
		}
	}

	for (int i = 0; i < n_given; i++) {
		if (given[i].opt->id == O_HELP)
			help = true;
		else if (given[i].opt->id == O_VERSION)
			version = true;
		else if (given[i].opt->id == O_VERBOSE)
			o->verbose++;
	}
	np_log_init(o->verbose);
	if (help) {
		np_usage(stdout);
		err = 1;
		goto out;
	}
	if (version) {
		printf("nbdpath %s\n", NP_VERSION);
		err = 1;
		goto out;
	}

	if (!n_pos) {
		np_err("no command given; 'nbdpath --help' lists the commands");
		goto out;
	}
	o->cmd = pos[0];
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].name, o->cmd))
			cls = cmds[i].cls;
	if (!cls) {
		np_err("unknown command '%s'; 'nbdpath --help' lists the commands",
		       o->cmd);
		goto out;
	}
	for (int i = 0; i < n_given; i++) {
		if (!(given[i].opt->cmds & cls)) {
			char nbuf[32];

			np_err("%s is not an option of '%s'; 'nbdpath --help' shows what it takes",
			       opt_name(given[i].opt, nbuf), o->cmd);
			goto out;
		}
	}
	for (int i = 0; i < n_given; i++)
		if (apply(o, &given[i]))
			goto out;
	err = check_command(o, cls, pos, n_pos);
out:
	free(given);
	free(pos);
	return err;
}
