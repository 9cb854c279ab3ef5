// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the --metrics endpoint's request handling (the
 * user/metrics.c server on libmicrohttpd, started and published to as
 * `run` does), fed each input as the raw bytes a client sends. The input
 * goes over one end of a socketpair whose other end the server serves as
 * if it had accepted it (np_metrics_add_conn); the client then half-closes
 * and reads the reply until the server closes.
 *
 * A crash, a sanitizer report, a leak, a connection the server never
 * closes, or a reply that breaks these is a finding:
 *   - a reply, when there is one, is HTTP/1.x responses with a status
 *     among those the endpoint and libmicrohttpd send for requests;
 *   - of the requests the input starts with that are plain (a token
 *     method, a simple path, HTTP/1.0 or 1.1, simple headers, no body,
 *     Host on 1.1), each gets its answer in order: GET or HEAD of
 *     /metrics 200 with the exposition published (HEAD: no body), of /
 *     200 with the index page, of another path 404; any other method
 *     405 with "Allow: GET, HEAD"; a GET or HEAD with a body (a
 *     Content-Length not 0) 413.
 *
 * Seeds: tests/fuzz/corpus/http/ (GET/HEAD /metrics, GET /, POST,
 * pipelined requests, huge headers, a chunked body, garbage, a request
 * cut short).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>

#include "log.h"
#include "metrics.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* more than the pipelined answers to a 64 KiB input can be */
#define REPLY_MAX	(8u << 20)
/* a connection not closed by then is stuck (the server's timeout: 5 s) */
#define DEADLINE_MS	8000

static const char expo[] =
	"# HELP nbdpath_up 1 while nbdpath runs.\n"
	"# TYPE nbdpath_up gauge\n"
	"nbdpath_up 1\n";

static struct np_metrics *srv;
static char *reply;

static void die(const char *what)
{
	fprintf(stderr, "fuzz_http: %s: %s\n", what, strerror(errno));
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct np_sockaddr a = { .len = sizeof(struct sockaddr_in) };
	struct sockaddr_in *in = (struct sockaddr_in *)&a.ss;

	(void)argc;
	(void)argv;
	/* libmicrohttpd's messages, for a look at one input */
	np_verbose = !!getenv("FUZZ_HTTP_VERBOSE");
	/* a port of the kernel's choosing: the fuzzer never connects to it */
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (np_metrics_start(&srv, "127.0.0.1:0", &a) ||
	    np_metrics_publish(srv, expo, strlen(expo)))
		die("cannot start the endpoint");
	reply = malloc(REPLY_MAX);
	if (!reply)
		die("malloc");
	return 0;
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000ll + t.tv_nsec / 1000000;
}

/*
 * Send data, half-close, read until the server closes: the reply's
 * length. Reads go on while writing, so that neither side blocks on a
 * full socket buffer.
 */
static size_t exchange(int fd, const uint8_t *data, size_t size)
{
	long long end = now_ms() + DEADLINE_MS;
	size_t sent = 0, got = 0;
	bool wr_open = true;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = end - now_ms();
		int wait;
		ssize_t n;

		wait = -1;
		if (wr_open && sent == size) {
			int q = 0;

			/*
			 * Half-close once the server has read all: its
			 * epoll is edge-triggered, and an end of file that
			 * comes with the last bytes can go unseen until a
			 * timeout (a second per input).
			 */
			if (ioctl(fd, SIOCOUTQ, &q) || !q) {
				shutdown(fd, SHUT_WR);
				wr_open = false;
			} else {
				wait = 1;
			}
		} else if (wr_open) {
			p.events |= POLLOUT;
		}
		if (left <= 0) {
			fprintf(stderr, "fuzz_http: the connection is open after %d ms (%zu of %zu bytes taken, %zu of reply)\n",
				DEADLINE_MS, sent, size, got);
			__builtin_trap();
		}
		if (poll(&p, 1, wait >= 0 && wait < left ? wait : (int)left) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(fd, reply + got, REPLY_MAX - got, MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno == ECONNRESET))
				return got;
			if (n > 0) {
				got += n;
				if (got == REPLY_MAX) {
					fprintf(stderr, "fuzz_http: a reply of %u bytes or more\n",
						REPLY_MAX);
					__builtin_trap();
				}
			} else if (errno != EAGAIN && errno != EINTR) {
				die("recv");
			}
		}
		if (wr_open && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
			n = send(fd, data + sent, size - sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0) {
				sent += n;
			} else if (n < 0 && (errno == EPIPE ||
					     errno == ECONNRESET)) {
				/* closed on what it read so far: fine */
				wr_open = false;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				die("send");
			}
		}
	}
}

static void bad(const char *why, const char *at, size_t len)
{
	fprintf(stderr, "fuzz_http: %s; the reply from there: \"%.*s\"\n", why,
		(int)(len > 400 ? 400 : len), at);
	__builtin_trap();
}

/* the statuses a request can get: ours and libmicrohttpd's own */
static bool status_ok(int st)
{
	static const int ok[] = { 100, 200, 400, 404, 405, 413, 414, 417,
				  431, 501, 505 };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (st == ok[i])
			return true;
	return false;
}

struct resp {
	int status;
	const char *head;		/* the status line on */
	size_t head_len;		/* through the blank line */
	long long clen;			/* Content-Length; -1 none */
	bool close;			/* Connection: close */
};

static const char *memfind(const char *h, size_t n, const char *s)
{
	return memmem(h, n, s, strlen(s));
}

/* The value of header name in r (case-insensitive), or NULL; *len set. */
static const char *header(const struct resp *r, const char *name,
			  size_t *len)
{
	size_t nl = strlen(name);
	const char *p = memchr(r->head, '\n', r->head_len) + 1;
	const char *end = r->head + r->head_len;

	while (p < end) {
		const char *eol = memchr(p, '\n', end - p);

		if (!eol)
			break;
		if ((size_t)(eol - p) > nl + 1 && !strncasecmp(p, name, nl) &&
		    p[nl] == ':') {
			const char *v = p + nl + 1;

			while (v < eol && *v == ' ')
				v++;
			*len = eol - v - (eol > v && eol[-1] == '\r');
			return v;
		}
		p = eol + 1;
	}
	return NULL;
}

/* The response head at at: its status line checked. false if cut short. */
static bool parse_resp(const char *at, size_t left, struct resp *r)
{
	const char *e, *v;
	size_t vl;

	if (left < 12)
		bad("a reply shorter than a status line", at, left);
	if (memcmp(at, "HTTP/1.1 ", 9) && memcmp(at, "HTTP/1.0 ", 9))
		bad("not an HTTP/1.x response", at, left);
	if (!isdigit((unsigned char)at[9]) || !isdigit((unsigned char)at[10]) ||
	    !isdigit((unsigned char)at[11]))
		bad("no status", at, left);
	r->status = (at[9] - '0') * 100 + (at[10] - '0') * 10 + at[11] - '0';
	if (!status_ok(r->status))
		bad("a status a request should not get", at, left);
	e = memfind(at, left, "\r\n\r\n");
	if (!e)
		bad("a response head not ended", at, left);
	r->head = at;
	r->head_len = e + 4 - at;
	r->clen = -1;
	v = header(r, "Content-Length", &vl);
	if (v) {
		char num[24];

		if (!vl || vl >= sizeof(num))
			bad("a bad Content-Length", at, left);
		memcpy(num, v, vl);
		num[vl] = 0;
		r->clen = strtoll(num, NULL, 10);
	}
	v = header(r, "Connection", &vl);
	r->close = v && vl == 5 && !strncasecmp(v, "close", 5);
	return true;
}

/* ---- the plain requests the input starts with ---- */

struct req {
	bool get_head, head;
	bool v10;
	bool body;			/* Content-Length > 0 */
	char url[64];
	size_t len;			/* of the request in the input */
};

static bool tchar(int c)
{
	return c >= 'A' && c <= 'Z';
}

static bool uchar(int c)
{
	return isalnum(c) || c == '/' || c == '.' || c == '_' || c == '-' ||
	       c == '~';
}

/* Headers the check leaves to the invariants alone: bodies, upgrades. */
static bool plain_name(const char *n, size_t len)
{
	static const char *const no[] = { "transfer-encoding", "expect", "connection", "upgrade",
		"keep-alive", "te", "trailer" };

	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strlen(no[i]) == len && !strncasecmp(n, no[i], len))
			return false;
	return true;
}

/* A plain request at p: true and *q filled. */
static bool plain_req(const char *p, size_t n, struct req *q)
{
	const char *s = p, *end = p + (n > 2048 ? 2048 : n);
	const char *m = s;
	bool host = false, clen = false;
	int headers = 0;

	memset(q, 0, sizeof(*q));
	while (s < end && tchar(*s) && s - m < 16)
		s++;
	if (s == m || s >= end || *s != ' ')
		return false;
	q->head = s - m == 4 && !memcmp(m, "HEAD", 4);
	q->get_head = q->head || (s - m == 3 && !memcmp(m, "GET", 3));
	s++;
	if (s >= end || *s != '/')
		return false;
	for (size_t i = 0; s < end && uchar(*s); s++, i++) {
		if (i + 1 >= sizeof(q->url))
			return false;
		q->url[i] = *s;
	}
	if (end - s < 10 || memcmp(s, " HTTP/1.", 8) ||
	    (s[8] != '0' && s[8] != '1') || s[9] != '\r' || s + 10 >= end ||
	    s[10] != '\n')
		return false;
	q->v10 = s[8] == '0';
	s += 11;
	for (;;) {
		const char *name = s, *v;
		bool is_cl;

		if (end - s >= 2 && s[0] == '\r' && s[1] == '\n')
			break;
		while (s < end && (isalnum((unsigned char)*s) || *s == '-') &&
		       s - name < 32)
			s++;
		if (s == name || s >= end || *s != ':' ||
		    !plain_name(name, s - name) || ++headers > 16)
			return false;
		host |= s - name == 4 && !strncasecmp(name, "host", 4);
		is_cl = s - name == 14 &&
			!strncasecmp(name, "content-length", 14);
		if (is_cl && clen)
			return false;
		clen |= is_cl;
		s++;
		while (s < end && *s == ' ')
			s++;
		v = s;
		while (s < end && *s >= 0x21 && *s <= 0x7e)
			s++;
		if (s == v || s - v > 200 || end - s < 2 || s[0] != '\r' ||
		    s[1] != '\n')
			return false;
		if (is_cl) {
			/* a number of at most 9 digits; not 0: a body */
			if (s - v > 9 || (size_t)(s - v) != strspn(v, "0123456789"))
				return false;
			q->body = (size_t)(s - v) != strspn(v, "0");
		}
		s += 2;
	}
	if (!q->v10 && !host)
		return false;
	q->len = s + 2 - p;
	return true;
}

/* The reply to plain request q at at (of left bytes): checked; its length. */
static size_t check_answer(const struct req *q, const char *at, size_t left,
			   struct resp *r)
{
	const char *v, *body;
	size_t vl, blen;

	parse_resp(at, left, r);
	body = at + r->head_len;
	blen = q->head ? 0 : (size_t)(r->clen < 0 ? 0 : r->clen);
	if (r->clen < 0 || (size_t)(left - r->head_len) < blen)
		bad("an answer without its whole body", at, left);
	if (q->get_head && q->body) {
		if (r->status != 413)
			bad("a GET or HEAD with a body: not 413", at, left);
	} else if (!q->get_head) {
		v = header(r, "Allow", &vl);
		if (r->status != 405 || !v || vl != 9 || memcmp(v, "GET, HEAD", 9))
			bad("not 405 with Allow: GET, HEAD", at, left);
	} else if (!strcmp(q->url, "/metrics")) {
		if (r->status != 200 || r->clen != (long long)strlen(expo) ||
		    (!q->head && memcmp(body, expo, blen)))
			bad("not 200 with the exposition", at, left);
		v = header(r, "Content-Type", &vl);
		if (!v || vl < 10 || memcmp(v, "text/plain", 10))
			bad("not text/plain", at, left);
	} else if (!strcmp(q->url, "/")) {
		if (r->status != 200 || (!q->head && (blen < 6 ||
		    memcmp(body, "<html>", 6))))
			bad("not 200 with the index page", at, left);
	} else if (r->status != 404) {
		bad("not 404", at, left);
	}
	return r->head_len + blen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in peer = { .sin_family = AF_INET,
				    .sin_port = htons(40000) };
	const char *in = (const char *)data;
	size_t got, at = 0, used = 0;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair");
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (np_metrics_add_conn(srv, sv[1], (struct sockaddr *)&peer,
				sizeof(peer)))
		die("np_metrics_add_conn");
	got = exchange(sv[0], data, size);
	close(sv[0]);
	if (np_verbose)
		fprintf(stderr, "fuzz_http: %zu bytes in, %zu out:\n%.*s\n",
			size, got, (int)(got > 2000 ? 2000 : got), reply);

	/* the plain requests, answered in order while the connection lasts */
	for (;;) {
		struct req q;
		struct resp r;

		if (!plain_req(in + used, size - used, &q))
			break;
		if (at == got)
			bad("no answer to a plain request", in + used,
			    size - used);
		at += check_answer(&q, reply + at, got - at, &r);
		used += q.len;
		if (r.close || r.status != 200 || q.v10)
			return 0;
	}
	/* then whatever comes: a response head, of a status allowed */
	if (at < got) {
		struct resp r;

		parse_resp(reply + at, got - at, &r);
	}
	return 0;
}
