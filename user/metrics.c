// SPDX-License-Identifier: GPL-2.0
/* The --metrics HTTP listener. One request per connection, then close. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "log.h"
#include "metrics.h"

#define REQ_MAX		4096
#define CONN_TIMEOUT_MS	5000

struct conn {
	int fd;				/* -1: free */
	char in[REQ_MAX];
	size_t in_len;
	char *out;			/* the whole response, once known */
	size_t out_len, out_off;
	__u64 deadline_ms;
};

struct np_metrics {
	int lfd;
	struct conn c[NP_METRICS_MAX_CONNS];
};

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

int np_metrics_start(struct np_metrics **out, const char *spec,
		     const struct np_sockaddr *a)
{
	struct np_metrics *m;
	int one = 1, err;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (int i = 0; i < NP_METRICS_MAX_CONNS; i++)
		m->c[i].fd = -1;
	m->lfd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
			SOCK_CLOEXEC, 0);
	if (m->lfd < 0)
		goto fail;
	/* a restarted run must not wait out TIME_WAIT of the last one */
	if (setsockopt(m->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		goto fail;
	if (bind(m->lfd, (const struct sockaddr *)&a->ss, a->len))
		goto fail;
	if (listen(m->lfd, 16))
		goto fail;
	np_dbg("serving metrics on http://%s/metrics", spec);
	*out = m;
	return 0;
fail:
	err = -errno;
	np_err("--metrics %s: cannot listen there: %s; pick another address or port",
	       spec, strerror(-err));
	if (m->lfd >= 0)
		close(m->lfd);
	free(m);
	return err;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

int np_metrics_pollfds(struct np_metrics *m, struct pollfd *pfd, int max)
{
	__u64 now = now_ms();
	int n = 0;

	if (!m || max < 1)
		return 0;
	pfd[n++] = (struct pollfd){ .fd = m->lfd, .events = POLLIN };
	for (int i = 0; i < NP_METRICS_MAX_CONNS && n < max; i++) {
		struct conn *c = &m->c[i];

		if (c->fd < 0)
			continue;
		if (now > c->deadline_ms) {
			conn_close(c);
			continue;
		}
		pfd[n++] = (struct pollfd){ .fd = c->fd,
					    .events = c->out ? POLLOUT : POLLIN };
	}
	return n;
}

/* The response to a complete request, in c->out. */
static int respond(struct conn *c, const struct np_report *r)
{
	const char *status = "200 OK", *ctype =
		"text/plain; version=0.0.4; charset=utf-8";
	char *body = NULL;
	size_t blen = 0;
	bool head = !strncmp(c->in, "HEAD ", 5);
	FILE *f;
	int n;

	if (strncmp(c->in, "GET ", 4) && !head) {
		status = "405 Method Not Allowed";
	} else if (strncmp(c->in + (head ? 5 : 4), "/metrics", 8) ||
		   !strchr(" ?", c->in[(head ? 5 : 4) + 8])) {
		status = "404 Not Found";
	} else if (!r) {
		status = "503 Service Unavailable";
	}
	f = open_memstream(&body, &blen);
	if (!f)
		return -ENOMEM;
	if (status[0] == '2')
		np_report_prom(f, r);
	else
		fprintf(f, "%s; try GET /metrics\n", status);
	if (fclose(f)) {
		free(body);
		return -ENOMEM;
	}
	n = asprintf(&c->out,
		     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%.*s",
		     status, ctype, blen, head ? 0 : (int)blen, body);
	free(body);
	if (n < 0) {
		c->out = NULL;
		return -ENOMEM;
	}
	c->out_len = n;
	c->out_off = 0;
	return 0;
}

static void conn_read(struct conn *c, const struct np_report *r)
{
	ssize_t n;

	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->in_len += n;
	c->in[c->in_len] = 0;
	if (!strstr(c->in, "\r\n\r\n") && !strstr(c->in, "\n\n")) {
		if (c->in_len >= sizeof(c->in) - 1)
			conn_close(c);	/* no headers that long here */
		return;
	}
	if (respond(c, r))
		conn_close(c);
}

static void conn_write(struct conn *c)
{
	ssize_t n;

	n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		 MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		conn_close(c);
		return;
	}
	c->out_off += n;
	if (c->out_off == c->out_len)
		conn_close(c);
}

static void accept_all(struct np_metrics *m)
{
	for (;;) {
		struct conn *c = NULL;
		int fd;

		fd = accept4(m->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;		/* EAGAIN: all taken */
		for (int i = 0; i < NP_METRICS_MAX_CONNS && !c; i++)
			if (m->c[i].fd < 0)
				c = &m->c[i];
		if (!c) {
			close(fd);	/* busy: the scraper retries */
			continue;
		}
		c->fd = fd;
		c->deadline_ms = now_ms() + CONN_TIMEOUT_MS;
	}
}

void np_metrics_serve(struct np_metrics *m, const struct pollfd *pfd, int n,
		      const struct np_report *r)
{
	if (!m)
		return;
	for (int i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		if (pfd[i].fd == m->lfd) {
			accept_all(m);
			continue;
		}
		for (int j = 0; j < NP_METRICS_MAX_CONNS; j++) {
			struct conn *c = &m->c[j];

			if (c->fd != pfd[i].fd)
				continue;
			if (!c->out &&
			    (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				conn_read(c, r);
			/* answer at once: the socket is almost always ready */
			if (c->fd >= 0 && c->out)
				conn_write(c);
			break;
		}
	}
}

void np_metrics_stop(struct np_metrics *m)
{
	if (!m)
		return;
	for (int i = 0; i < NP_METRICS_MAX_CONNS; i++)
		conn_close(&m->c[i]);
	close(m->lfd);
	free(m);
}
