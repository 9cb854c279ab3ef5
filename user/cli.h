/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The parsed command line shared by every command, the command table's
 * entry, and the exit codes nbdpath.8 documents (EXIT STATUS).
 */
#ifndef NBDPATH_CLI_H
#define NBDPATH_CLI_H

#include <stdbool.h>
#include <sys/socket.h>
#include "nbdpath.h"
#include "vmk.h"

enum np_exit {
	NP_EXIT_OK	= 0,
	NP_EXIT_FAIL	= 1,	/* runtime failure: attach, privilege */
	NP_EXIT_USAGE	= 2,	/* bad flag or value, unreadable input */
	NP_EXIT_LAYOUT	= 3,	/* pins of an incompatible layout */
	NP_EXIT_NONE	= 4,	/* nothing running under --pin-dir */
};

/*
 * The exit code of a command's result, 0 or a negative errno with the
 * meanings pin.h gives them: -EPROTO an incompatible layout (3), -ENOENT
 * and -ESTALE nothing running or attached (4); any other error is a
 * runtime failure (1). Usage errors (2) are found by the parser, before
 * any command runs (a kernel's -EINVAL is not one).
 */
int np_exit_code(int err);

enum np_mode { NP_MODE_AUTO, NP_MODE_NATIVE, NP_MODE_GENERIC };

#define NP_MAX_PORTS	64

#define NP_DEFAULT_PIN_MODE		0600	/* pins readable by root only */
#define NP_DEFAULT_WINDOW_SEC		60	/* --window */
#define NP_DEFAULT_KEEP_FINISHED_SEC	3600	/* --keep-finished */
#define NP_DEFAULT_ACTIVE_TIMEOUT_SEC	60	/* --active-timeout */
#define NP_DEFAULT_MAX_FINISHED		32768	/* --max-finished (run) */

#define NP_HOST_MAX	253		/* a DNS name's length, without the dot */

struct np_sockaddr {
	struct sockaddr_storage ss;
	socklen_t len;
};

struct np_cli;

/* One command of the table in opts.c: the dispatch, the help, the grammar. */
struct np_cmd {
	const char *name;
	int (*fn)(struct np_cli *o);	/* returns the exit code */
	unsigned int cls;		/* NP_C_*: which options it takes */
	unsigned int view;		/* query commands: NP_VIEW_* of report.h */
	int n_args;			/* positional arguments after the name */
	const char *grammar;		/* "run -i IFACE [-i IFACE]... [OPTIONS]" */
	const char *help;		/* one line */
};

struct np_cli {
	const char *cmd;		/* run, replay, hosts, ... */
	const struct np_cmd *command;	/* its entry in the table */
	const char *ifaces[NP_MAX_IFACES];
	int n_ifaces;
	__u16 ports[NP_MAX_PORTS];
	int n_ports;			/* 0: the default port */
	struct np_vmk_list vmks;	/* --vmk and --vmk-file, merged */
	const char *vmk_file;
	double interval;		/* seconds; run: default 1; replay: 0 */
	bool interval_given;		/* replay: a report per interval */
	double duration;		/* seconds, 0 = until stopped */
	bool json;
	bool quiet;			/* run: no per-interval report */
	enum np_mode mode;
	bool pass;
	const char *pin_dir;
	__u32 max_flows;
	__u32 idle_timeout;		/* seconds */
	__u32 sample_rate;		/* 1 = every packet */
	const char *metrics;		/* ADDR:PORT or NULL */
	struct np_sockaddr metrics_addr;	/* --metrics, parsed */
	double window;			/* seconds of the current verdict */
	double keep_finished;		/* seconds finished flows stay listed */
	__u32 max_finished;		/* finished flow records held at most */
	bool max_finished_given;	/* replay: else every flow is listed */
	const char *flow_log;		/* FILE or NULL */
	const char *ipfix;		/* HOST:PORT or NULL */
	char ipfix_host[NP_HOST_MAX + 1];	/* a name or an address */
	__u16 ipfix_port;
	double active_timeout;		/* seconds between IPFIX exports */
	unsigned int ifindex[NP_MAX_IFACES];	/* of ifaces[], found at parse */
	unsigned int pin_mode;		/* of the pins, default 0600 */
	const char *file;		/* replay FILE ("-" = stdin) */
	const char *help_cmd;		/* help COMMAND */
	int verbose;
};

int cmd_run(struct np_cli *o);
int cmd_replay(struct np_cli *o);
int cmd_query(struct np_cli *o);	/* hosts, flows, interfaces, stats */
int cmd_status(struct np_cli *o);
int cmd_detach(struct np_cli *o);
int cmd_version(struct np_cli *o);
int cmd_help(struct np_cli *o);

#endif /* NBDPATH_CLI_H */
