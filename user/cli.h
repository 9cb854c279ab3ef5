/* SPDX-License-Identifier: GPL-2.0 */
/* The parsed command line shared by every command, and the exit codes of nbdpath(8), EXIT STATUS. */
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

enum np_mode { NP_MODE_AUTO, NP_MODE_NATIVE, NP_MODE_GENERIC };

#define NP_MAX_PORTS	64

#define NP_DEFAULT_PIN_MODE	0600	/* pins readable by root only */
#define NP_DEFAULT_WINDOW_SEC	60
#define NP_DEFAULT_KEEP_FINISHED_SEC	3600
#define NP_DEFAULT_MAX_FINISHED	32768

struct np_sockaddr {
	struct sockaddr_storage ss;
	socklen_t len;
};

struct np_cli {
	const char *cmd;		/* run, replay, hosts, ... */
	const char *ifaces[NP_MAX_IFACES];
	int n_ifaces;
	__u16 ports[NP_MAX_PORTS];
	int n_ports;			/* 0: the default port */
	struct np_vmk_list vmks;	/* --vmk and --vmk-file, merged */
	const char *vmk_file;
	double interval;		/* seconds, default 1 */
	double duration;		/* seconds, 0 = until stopped */
	bool json;
	enum np_mode mode;
	bool pass;
	const char *pin_dir;
	__u32 max_flows;
	__u32 idle_timeout;		/* seconds */
	__u32 sample_rate;		/* 1 = every packet */
	const char *metrics;		/* ADDR:PORT or NULL */
	struct np_sockaddr metrics_addr;	/* --metrics, parsed */
	unsigned int ifindex[NP_MAX_IFACES];	/* of ifaces[], found at parse */
	unsigned int pin_mode;		/* of the pins, default 0600 */
	const char *file;		/* replay FILE ("-" = stdin) */
	bool interval_given;		/* replay: one report per interval */
	double window;			/* seconds of the current verdict */
	double keep_finished;		/* seconds finished flows stay listed */
	__u32 max_finished;		/* finished flows' records kept at most */
	const char *flow_log;		/* --flow-log FILE or NULL */
	int verbose;
};

int cmd_run(struct np_cli *o);
int cmd_replay(struct np_cli *o);
int cmd_query(struct np_cli *o);	/* hosts, flows, interfaces, stats */
int cmd_status(struct np_cli *o);
int cmd_detach(struct np_cli *o);

#endif /* NBDPATH_CLI_H */
