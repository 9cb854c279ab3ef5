// SPDX-License-Identifier: GPL-2.0
/*
 * nbdtraffic - NBD/NFC-like request/reply traffic with exact byte accounting.
 *
 * The point of this tool is that the sensor's payload_bytes can be checked
 * against what the sockets really moved, so every counter below is the sum
 * of successful send()/recv() return values and nothing else.
 *
 * Wire format of a request (network byte order), 16 bytes:
 *   u32 magic 0x4e424452 ("NBDR"), u32 reply length, u64 request id
 * The server answers each request with exactly "reply length" bytes.
 *
 * Single-threaded poll() loop on both sides so the build needs no -pthread.
 *
 * A client connection ends after its last reply with a FIN (shutdown, then
 * the server's FIN) or, with --end rst, with a RST (SO_LINGER 0 close); with
 * --hold it first stays open and silent that long, so that a sensor sees it
 * go idle. The server takes a RST at a request boundary as a normal end.
 * Each connection's JSON says how it ended ("end": "fin" or "rst").
 *
 * Both commands pin themselves to one CPU (the lowest they may use) unless
 * told --cpu any. On veth every transmit is queued to the backlog of the CPU
 * that sends it; a sender whose segments leave from two CPUs (process context
 * on one, ACK-clocked softirq on the other) gets them reordered, the receiver
 * sends dup-ACKs and the spurious retransmissions break exact accounting.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "seed.h"

#define NBDT_MAGIC	0x4e424452u
#define HDR_LEN		16
#define IO_CHUNK	(256 * 1024)
#define DEFAULT_PORT	NBD_PORT

static const char *prog = "nbdtraffic";
static unsigned char iobuf[IO_CHUNK];
static int pinned_cpu = -1;

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s serve [--bind ADDR] [--port N] [--conns K] [--ready-file F]\n"
		"                  [--timeout SECONDS] [--cpu N|any]\n"
		"       %s fetch --host ADDR [--port N] [--conns C] [--requests N]\n"
		"                  [--reply-size BYTES[k|m|g]] [--duration SECONDS]\n"
		"                  [--bind ADDR] [--timeout SECONDS] [--cpu N|any]\n"
		"                  [--end fin|rst] [--hold SECONDS]\n"
		"fetch sends --requests per connection (default 1), or as many as fit in\n"
		"--duration, then capped by --requests if both are given; then each\n"
		"connection stays open and idle --hold seconds (default 0) and ends with\n"
		"a FIN (default) or a RST (--end rst: SO_LINGER 0, then close).\n"
		"Each prints one JSON line on exit; byte counts are exact socket totals.\n"
		"Default --cpu is the lowest allowed CPU, so that veth labs keep segments\n"
		"in order (no spurious retransmissions).\n",
		prog, prog);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long long parse_num(const char *opt, const char *s, unsigned long long max,
				    bool suffix)
{
	unsigned long long v, mul = 1;
	char *end;

	errno = 0;
	if (*s == '-' || *s == '\0')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno)
		goto bad;
	if (suffix && *end) {
		switch (*end) {
		case 'k': case 'K': mul = 1ULL << 10; break;
		case 'm': case 'M': mul = 1ULL << 20; break;
		case 'g': case 'G': mul = 1ULL << 30; break;
		default: goto bad;
		}
		end++;
	}
	if (*end || v > max / mul)
		goto bad;
	return v * mul;
bad:
	fprintf(stderr, "%s: bad value for --%s: '%s' (max %llu)\n", prog, opt, s, max);
	exit(2);
}

static double parse_secs(const char *opt, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || !(v >= 0) || v > 1e7) {
		fprintf(stderr, "%s: bad value for --%s: '%s'\n", prog, opt, s);
		exit(2);
	}
	return v;
}

static void pin_cpu(const char *spec)
{
	cpu_set_t set;
	int cpu;

	if (spec && !strcmp(spec, "any"))
		return;
	if (spec) {
		cpu = parse_num("cpu", spec, CPU_SETSIZE - 1, false);
	} else {
		if (sched_getaffinity(0, sizeof(set), &set) < 0)
			die("sched_getaffinity: %s", strerror(errno));
		for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &set); cpu++)
			;
		if (cpu == CPU_SETSIZE)
			return;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		die("cannot pin to CPU %d: %s", cpu, strerror(errno));
	pinned_cpu = cpu;
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		die("fcntl: %s", strerror(errno));
}

static void set_nodelay(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		die("setsockopt TCP_NODELAY: %s", strerror(errno));
}

/* Print an address as JSON-ready text; v4-mapped IPv6 is shown as IPv4 */
static void addr_str(const struct sockaddr_storage *ss, char *buf, size_t len,
		     unsigned int *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, buf, len);
		*port = ntohs(sin->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], buf, len);
		else
			inet_ntop(AF_INET6, &sin6->sin6_addr, buf, len);
		*port = ntohs(sin6->sin6_port);
	} else {
		snprintf(buf, len, "?");
		*port = 0;
	}
}

static struct addrinfo *resolve(const char *host, unsigned int port, bool passive)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = passive ? (AI_PASSIVE | AI_NUMERICHOST) : AI_ADDRCONFIG,
	};
	struct addrinfo *res;
	char pbuf[8];
	int rc;

	snprintf(pbuf, sizeof(pbuf), "%u", port);
	rc = getaddrinfo(host, pbuf, &hints, &res);
	if (rc == EAI_NONAME && !passive) {
		/* AI_ADDRCONFIG hides IPv4 in a netns whose only v4 is on lo */
		hints.ai_flags = 0;
		rc = getaddrinfo(host, pbuf, &hints, &res);
	}
	if (rc)
		die("cannot resolve '%s': %s", host, gai_strerror(rc));
	return res;
}

/* ---------------------------------------------------------------- serve */

enum srv_state { S_HDR, S_REPLY, S_DONE };

struct srv_conn {
	int fd;
	enum srv_state st;
	unsigned char hdr[HDR_LEN];
	size_t have;
	uint64_t remaining;
	uint64_t requests, written, read;
	char peer[INET6_ADDRSTRLEN];
	unsigned int peer_port;
	bool error;
	bool reset;	/* the client ended it with a RST */
};

static int open_listener(const char *bind_addr, unsigned int port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1, zero = 0;

	memset(&ss, 0, sizeof(ss));
	if (bind_addr) {
		struct addrinfo *ai = resolve(bind_addr, port, true);

		memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
		sl = ai->ai_addrlen;
		freeaddrinfo(ai);
		fd = socket(ss.ss_family, SOCK_STREAM, 0);
	} else {
		struct sockaddr_in6 *sin6 = (void *)&ss;

		/* Dual-stack "::" so the lab works with or without IPv6 addresses */
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sl = sizeof(*sin6);
		fd = socket(AF_INET6, SOCK_STREAM, 0);
		if (fd >= 0 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0) {
			close(fd);
			fd = -1;
		}
		if (fd < 0 && (errno == EAFNOSUPPORT || errno == ENOPROTOOPT)) {
			struct sockaddr_in *sin = (void *)&ss;

			memset(&ss, 0, sizeof(ss));
			sin->sin_family = AF_INET;
			sin->sin_port = htons(port);
			sl = sizeof(*sin);
			fd = socket(AF_INET, SOCK_STREAM, 0);
		}
	}
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		die("setsockopt SO_REUSEADDR: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
		die("bind %s port %u: %s", bind_addr ? bind_addr : "::", port, strerror(errno));
	if (listen(fd, 1024) < 0)
		die("listen: %s", strerror(errno));
	set_nonblock(fd);
	return fd;
}

static unsigned int bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char buf[INET6_ADDRSTRLEN];
	unsigned int port;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		die("getsockname: %s", strerror(errno));
	addr_str(&ss, buf, sizeof(buf), &port);
	return port;
}

static void write_ready_file(const char *path, unsigned int port)
{
	char tmp[PATH_MAX];
	FILE *f;

	/* rename() so a waiter never sees a half-written file */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		die("--ready-file path too long");
	f = fopen(tmp, "w");
	if (!f)
		die("cannot create %s: %s", tmp, strerror(errno));
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0 || rename(tmp, path) < 0)
		die("cannot write %s: %s", path, strerror(errno));
}

static void srv_fail(struct srv_conn *c, const char *what)
{
	fprintf(stderr, "%s: connection from %s port %u: %s\n", prog, c->peer, c->peer_port, what);
	c->error = true;
	close(c->fd);
	c->fd = -1;
	c->st = S_DONE;
}

/* Returns false when the connection made no progress (would block) */
static bool srv_step(struct srv_conn *c)
{
	ssize_t n;

	if (c->st == S_HDR) {
		n = recv(c->fd, c->hdr + c->have, HDR_LEN - c->have, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return false;
			if (errno == ECONNRESET && !c->have) {
				/* fetch --end rst: every reply was read */
				c->reset = true;
				close(c->fd);
				c->fd = -1;
				c->st = S_DONE;
				return false;
			}
			srv_fail(c, strerror(errno));
			return false;
		}
		if (n == 0) {
			if (c->have) {
				srv_fail(c, "EOF inside a request header");
				return false;
			}
			/* Client's FIN after its last request: answer with ours */
			close(c->fd);
			c->fd = -1;
			c->st = S_DONE;
			return false;
		}
		c->read += n;
		c->have += n;
		if (c->have == HDR_LEN) {
			uint32_t magic, len;

			memcpy(&magic, c->hdr, 4);
			memcpy(&len, c->hdr + 4, 4);
			if (ntohl(magic) != NBDT_MAGIC) {
				srv_fail(c, "bad request magic");
				return false;
			}
			c->have = 0;
			c->requests++;
			c->remaining = ntohl(len);
			if (c->remaining)
				c->st = S_REPLY;
		}
		return true;
	}
	if (c->st == S_REPLY) {
		size_t want = c->remaining < IO_CHUNK ? c->remaining : IO_CHUNK;

		n = send(c->fd, iobuf, want, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return false;
			srv_fail(c, strerror(errno));
			return false;
		}
		c->written += n;
		c->remaining -= n;
		if (!c->remaining)
			c->st = S_HDR;
		return true;
	}
	return false;
}

static int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bind", required_argument, NULL, 'b' },
		{ "port", required_argument, NULL, 'p' },
		{ "conns", required_argument, NULL, 'c' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "cpu", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *bind_addr = NULL, *ready = NULL, *cpu = NULL;
	unsigned int port = DEFAULT_PORT, nconns = 1, accepted = 0, closed = 0, i;
	uint64_t tw = 0, tr = 0, treq = 0;
	double timeout = 0, t0, deadline;
	struct srv_conn *conns;
	struct pollfd *pfd;
	bool failed = false;
	int lfd, o;

	while ((o = getopt_long(argc, argv, "b:p:c:r:t:C:h", opts, NULL)) != -1) {
		switch (o) {
		case 'C': cpu = optarg; break;
		case 'b': bind_addr = optarg; break;
		case 'p': port = parse_num("port", optarg, 65535, false); break;
		case 'c': nconns = parse_num("conns", optarg, 65536, false); break;
		case 'r': ready = optarg; break;
		case 't': timeout = parse_secs("timeout", optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || nconns == 0) {
		usage(stderr);
		return 2;
	}

	pin_cpu(cpu);
	conns = calloc(nconns, sizeof(*conns));
	pfd = calloc(nconns + 1, sizeof(*pfd));
	if (!conns || !pfd)
		die("out of memory");

	lfd = open_listener(bind_addr, port);
	if (ready)
		write_ready_file(ready, bound_port(lfd));
	t0 = now();
	deadline = timeout > 0 ? t0 + timeout : 0;

	while (closed < nconns) {
		unsigned int np = 0;
		int tmo = -1, rc;

		if (lfd >= 0) {
			pfd[np].fd = lfd;
			pfd[np].events = POLLIN;
			np++;
		}
		for (i = 0; i < accepted; i++) {
			if (conns[i].st == S_DONE)
				continue;
			pfd[np].fd = conns[i].fd;
			pfd[np].events = conns[i].st == S_REPLY ? POLLOUT : POLLIN;
			np++;
		}
		if (deadline) {
			double left = deadline - now();

			if (left <= 0)
				die("serve: timed out after %.1f s with %u of %u connections done",
				    timeout, closed, nconns);
			tmo = (int)(left * 1000) + 1;
		}
		rc = poll(pfd, np, tmo);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}

		if (lfd >= 0 && pfd[0].revents) {
			while (accepted < nconns) {
				struct sockaddr_storage ss;
				socklen_t sl = sizeof(ss);
				struct srv_conn *c = &conns[accepted];
				int fd = accept(lfd, (struct sockaddr *)&ss, &sl);

				if (fd < 0) {
					if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
						break;
					die("accept: %s", strerror(errno));
				}
				set_nonblock(fd);
				/* Avoid Nagle stalls on the tail of each reply */
				set_nodelay(fd);
				c->fd = fd;
				c->st = S_HDR;
				addr_str(&ss, c->peer, sizeof(c->peer), &c->peer_port);
				accepted++;
			}
			/* Later SYNs must be refused, not queued unseen in the backlog */
			if (accepted == nconns) {
				close(lfd);
				lfd = -1;
			}
		}

		/* Progress every live connection; readiness is rechecked by poll */
		for (i = 0; i < accepted; i++) {
			struct srv_conn *c = &conns[i];
			int budget = 64;

			if (c->st == S_DONE)
				continue;
			while (budget-- && srv_step(c))
				;
			if (c->st == S_DONE)
				closed++;
		}
	}

	for (i = 0; i < nconns; i++) {
		tw += conns[i].written;
		tr += conns[i].read;
		treq += conns[i].requests;
		failed |= conns[i].error;
	}
	printf("{\"role\":\"server\",\"conns\":%u,\"requests\":%" PRIu64
	       ",\"bytes_written\":%" PRIu64 ",\"bytes_read\":%" PRIu64
	       ",\"port\":%u,\"cpu\":%d,\"duration\":%.6f,\"errors\":%s,\"connections\":[",
	       nconns, treq, tw, tr, port, pinned_cpu, now() - t0, failed ? "true" : "false");
	for (i = 0; i < nconns; i++)
		printf("%s{\"peer\":\"%s\",\"peer_port\":%u,\"requests\":%" PRIu64
		       ",\"bytes_written\":%" PRIu64 ",\"bytes_read\":%" PRIu64
		       ",\"end\":\"%s\"}",
		       i ? "," : "", conns[i].peer, conns[i].peer_port, conns[i].requests,
		       conns[i].written, conns[i].read, conns[i].reset ? "rst" : "fin");
	printf("]}\n");
	fflush(stdout);
	free(conns);
	free(pfd);
	return failed ? 1 : 0;
}

/* ---------------------------------------------------------------- fetch */

enum cli_state { C_CONNECT, C_SEND, C_RECV, C_HOLD, C_DRAIN, C_DONE };

struct cli_conn {
	int fd;
	enum cli_state st;
	unsigned char hdr[HDR_LEN];
	size_t sent;
	uint64_t remaining;
	uint64_t requests, written, read;
	char local[INET6_ADDRSTRLEN];
	unsigned int local_port;
	double hold_until;	/* C_HOLD: idle until then */
	bool held;
};

struct fetch_cfg {
	uint64_t max_requests;	/* 0: unlimited (duration bound) */
	uint32_t reply_size;
	double deadline;	/* 0: none */
	uint64_t next_id;
	double hold;		/* idle seconds after the last reply */
	bool rst;		/* end with a RST rather than a FIN */
};

static void cli_prepare(struct cli_conn *c, struct fetch_cfg *cfg)
{
	uint32_t magic = htonl(NBDT_MAGIC), len = htonl(cfg->reply_size);
	uint64_t id = htobe64(cfg->next_id++);

	memcpy(c->hdr, &magic, 4);
	memcpy(c->hdr + 4, &len, 4);
	memcpy(c->hdr + 8, &id, 8);
	c->sent = 0;
	c->st = C_SEND;
}

static bool cli_want_more(const struct cli_conn *c, const struct fetch_cfg *cfg)
{
	if (cfg->max_requests && c->requests >= cfg->max_requests)
		return false;
	if (cfg->deadline && now() >= cfg->deadline)
		return false;
	return true;
}

static void cli_finish_or_next(struct cli_conn *c, struct fetch_cfg *cfg)
{
	if (!c->held && cli_want_more(c, cfg)) {
		cli_prepare(c, cfg);
		return;
	}
	if (!c->held && cfg->hold > 0) {
		c->held = true;
		c->hold_until = now() + cfg->hold;
		c->st = C_HOLD;
		return;
	}
	if (cfg->rst) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		/* close() now sends a RST instead of a FIN */
		if (setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
			die("setsockopt SO_LINGER: %s", strerror(errno));
		close(c->fd);
		c->fd = -1;
		c->st = C_DONE;
		return;
	}
	/* Half-close so the server sees our FIN and answers with its own */
	if (shutdown(c->fd, SHUT_WR) < 0)
		die("shutdown: %s", strerror(errno));
	c->st = C_DRAIN;
}

static bool cli_step(struct cli_conn *c, struct fetch_cfg *cfg, unsigned int idx)
{
	ssize_t n;

	switch (c->st) {
	case C_CONNECT: {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int err = 0;
		socklen_t el = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			die("getsockopt SO_ERROR: %s", strerror(errno));
		if (err)
			die("connection %u: connect: %s", idx, strerror(err));
		if (getsockname(c->fd, (struct sockaddr *)&ss, &sl) < 0)
			die("getsockname: %s", strerror(errno));
		addr_str(&ss, c->local, sizeof(c->local), &c->local_port);
		cli_finish_or_next(c, cfg);
		return true;
	}
	case C_SEND:
		n = send(c->fd, c->hdr + c->sent, HDR_LEN - c->sent, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return false;
			die("connection %u (local port %u): send: %s", idx, c->local_port,
			    strerror(errno));
		}
		c->written += n;
		c->sent += n;
		if (c->sent == HDR_LEN) {
			c->remaining = cfg->reply_size;
			c->st = C_RECV;
			if (!c->remaining) {
				c->requests++;
				cli_finish_or_next(c, cfg);
			}
		}
		return true;
	case C_HOLD:
		/* the server sends nothing unasked: anything here is an error */
		if (now() < c->hold_until) {
			struct pollfd p = { .fd = c->fd, .events = POLLIN };

			if (poll(&p, 1, 0) > 0)
				die("connection %u (local port %u): the server spoke or closed while held idle",
				    idx, c->local_port);
			return false;
		}
		cli_finish_or_next(c, cfg);
		return c->st != C_DONE;
	case C_RECV:
	case C_DRAIN: {
		size_t want = IO_CHUNK;

		if (c->st == C_RECV && c->remaining < want)
			want = c->remaining;
		n = recv(c->fd, iobuf, want, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return false;
			die("connection %u (local port %u): recv: %s", idx, c->local_port,
			    strerror(errno));
		}
		c->read += n;
		if (c->st == C_DRAIN) {
			if (n > 0)
				die("connection %u (local port %u): %zd unexpected bytes after last reply",
				    idx, c->local_port, n);
			close(c->fd);
			c->fd = -1;
			c->st = C_DONE;
			return false;
		}
		if (n == 0)
			die("connection %u (local port %u): server closed with %" PRIu64
			    " reply bytes outstanding", idx, c->local_port, c->remaining);
		c->remaining -= n;
		if (!c->remaining) {
			c->requests++;
			cli_finish_or_next(c, cfg);
		}
		return true;
	}
	case C_DONE:
		break;
	}
	return false;
}

static int cmd_fetch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "conns", required_argument, NULL, 'c' },
		{ "requests", required_argument, NULL, 'n' },
		{ "reply-size", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "bind", required_argument, NULL, 'b' },
		{ "timeout", required_argument, NULL, 't' },
		{ "cpu", required_argument, NULL, 'C' },
		{ "end", required_argument, NULL, 'e' },
		{ "hold", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *host = NULL, *bind_addr = NULL, *cpu = NULL;
	unsigned int port = DEFAULT_PORT, nconns = 1, done = 0, i;
	struct fetch_cfg cfg = { .reply_size = 256 * 1024, .next_id = 1 };
	double duration = 0, timeout = 0, t0, deadline;
	bool have_requests = false;
	char remote[INET6_ADDRSTRLEN];
	unsigned int remote_port;
	struct sockaddr_storage rss;
	uint64_t tw = 0, tr = 0, treq = 0;
	struct addrinfo *ai;
	struct cli_conn *conns;
	struct pollfd *pfd;
	int o;

	while ((o = getopt_long(argc, argv, "H:p:c:n:s:d:b:t:C:e:o:h", opts, NULL)) != -1) {
		switch (o) {
		case 'e':
			if (!strcmp(optarg, "rst")) {
				cfg.rst = true;
			} else if (strcmp(optarg, "fin")) {
				fprintf(stderr, "%s: bad value for --end: '%s' (fin or rst)\n",
					prog, optarg);
				return 2;
			}
			break;
		case 'o': cfg.hold = parse_secs("hold", optarg); break;
		case 'C': cpu = optarg; break;
		case 'H': host = optarg; break;
		case 'p': port = parse_num("port", optarg, 65535, false); break;
		case 'c': nconns = parse_num("conns", optarg, 65536, false); break;
		case 'n':
			cfg.max_requests = parse_num("requests", optarg, UINT64_MAX, false);
			have_requests = true;
			break;
		case 's': cfg.reply_size = parse_num("reply-size", optarg, UINT32_MAX, true); break;
		case 'd': duration = parse_secs("duration", optarg); break;
		case 'b': bind_addr = optarg; break;
		case 't': timeout = parse_secs("timeout", optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !host || nconns == 0 || port == 0 ||
	    (have_requests && cfg.max_requests == 0)) {
		usage(stderr);
		return 2;
	}
	if (!have_requests && duration <= 0)
		cfg.max_requests = 1;

	pin_cpu(cpu);
	conns = calloc(nconns, sizeof(*conns));
	pfd = calloc(nconns, sizeof(*pfd));
	if (!conns || !pfd)
		die("out of memory");

	ai = resolve(host, port, false);
	memcpy(&rss, ai->ai_addr, ai->ai_addrlen);
	addr_str(&rss, remote, sizeof(remote), &remote_port);

	t0 = now();
	if (duration > 0)
		cfg.deadline = t0 + duration;
	deadline = timeout > 0 ? t0 + timeout : 0;

	for (i = 0; i < nconns; i++) {
		struct cli_conn *c = &conns[i];
		int fd = socket(ai->ai_family, SOCK_STREAM, 0);

		if (fd < 0)
			die("socket: %s", strerror(errno));
		/* One request = one segment, as a real NFC client would send it */
		set_nodelay(fd);
		if (bind_addr) {
			struct addrinfo *bi = resolve(bind_addr, 0, true);

			if (bind(fd, bi->ai_addr, bi->ai_addrlen) < 0)
				die("bind %s: %s", bind_addr, strerror(errno));
			freeaddrinfo(bi);
		}
		set_nonblock(fd);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
			die("connect %s port %u: %s", remote, port, strerror(errno));
		c->fd = fd;
		c->st = C_CONNECT;
	}
	freeaddrinfo(ai);

	while (done < nconns) {
		unsigned int np = 0;
		int tmo = -1, rc;

		for (i = 0; i < nconns; i++) {
			if (conns[i].st == C_DONE)
				continue;
			pfd[np].fd = conns[i].fd;
			pfd[np].events = (conns[i].st == C_CONNECT || conns[i].st == C_SEND) ?
					 POLLOUT : POLLIN;
			np++;
			if (conns[i].st == C_HOLD) {
				int ms = (int)((conns[i].hold_until - now()) * 1000) + 1;

				if (ms < 1)
					ms = 1;
				if (tmo < 0 || ms < tmo)
					tmo = ms;
			}
		}
		if (deadline) {
			double left = deadline - now();

			if (left <= 0)
				die("fetch: timed out after %.1f s with %u of %u connections done",
				    timeout, done, nconns);
			if (tmo < 0 || (int)(left * 1000) + 1 < tmo)
				tmo = (int)(left * 1000) + 1;
		}
		rc = poll(pfd, np, tmo);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		for (i = 0; i < nconns; i++) {
			struct cli_conn *c = &conns[i];
			int budget = 64;

			if (c->st == C_DONE)
				continue;
			/* A connect still in progress must wait for poll to report it */
			if (c->st == C_CONNECT) {
				struct pollfd p = { .fd = c->fd, .events = POLLOUT };

				if (poll(&p, 1, 0) <= 0)
					continue;
			}
			while (budget-- && cli_step(c, &cfg, i))
				;
			if (c->st == C_DONE)
				done++;
		}
	}

	for (i = 0; i < nconns; i++) {
		tw += conns[i].written;
		tr += conns[i].read;
		treq += conns[i].requests;
	}
	printf("{\"role\":\"client\",\"conns\":%u,\"requests\":%" PRIu64
	       ",\"bytes_written\":%" PRIu64 ",\"bytes_read\":%" PRIu64
	       ",\"reply_size\":%" PRIu32 ",\"remote\":\"%s\",\"remote_port\":%u"
	       ",\"cpu\":%d,\"duration\":%.6f,\"local_ports\":[",
	       nconns, treq, tw, tr, cfg.reply_size, remote, remote_port, pinned_cpu,
	       now() - t0);
	for (i = 0; i < nconns; i++)
		printf("%s%u", i ? "," : "", conns[i].local_port);
	printf("],\"connections\":[");
	for (i = 0; i < nconns; i++)
		printf("%s{\"local\":\"%s\",\"local_port\":%u,\"requests\":%" PRIu64
		       ",\"bytes_written\":%" PRIu64 ",\"bytes_read\":%" PRIu64
		       ",\"end\":\"%s\"}",
		       i ? "," : "", conns[i].local, conns[i].local_port, conns[i].requests,
		       conns[i].written, conns[i].read, cfg.rst ? "rst" : "fin");
	printf("]}\n");
	fflush(stdout);
	free(conns);
	free(pfd);
	return 0;
}

int main(int argc, char **argv)
{
	size_t i;

	/* A recognisable pattern makes replies easy to spot in a capture */
	for (i = 0; i < sizeof(iobuf); i++)
		iobuf[i] = "nbdtraffic-data\n"[i & 15];
	signal(SIGPIPE, SIG_IGN);

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "serve"))
		return cmd_serve(argc - 1, argv + 1);
	if (!strcmp(argv[1], "fetch"))
		return cmd_fetch(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command '%s'\n", prog, argv[1]);
	usage(stderr);
	return 2;
}
