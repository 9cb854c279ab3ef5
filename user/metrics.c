// SPDX-License-Identifier: GPL-2.0
/*
 * The --metrics endpoint on libmicrohttpd: one epoll thread, limits on
 * connections (in all, per address), memory and silence, so that idle,
 * slow or garbage-sending clients cannot keep a scraper out.
 *
 * The exposition is an MHD response object, reference-counted by the
 * library: a publish makes a new one and drops ours on the old, which
 * lives on while a connection is still sending it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "log.h"
#include "metrics.h"

#define CTYPE_PROM	"text/plain; version=0.0.4; charset=utf-8"

static const char index_page[] =
	"<html><head><title>nbdpath</title></head><body>\n"
	"<h1>nbdpath</h1>\n"
	"<p>Prometheus metrics: <a href=\"/metrics\">/metrics</a></p>\n"
	"</body></html>\n";
static const char not_found[] = "404 Not Found: the metrics are at /metrics\n";
static const char not_allowed[] = "405 Method Not Allowed: use GET or HEAD\n";
static const char too_large[] = "413 Content Too Large: GET and HEAD take no body\n";

struct np_metrics {
	int lfd;			/* ours until the daemon takes it */
	unsigned int max_conns;
	char spec[64];
	struct MHD_Daemon *d;
	pthread_mutex_t lock;		/* guards cur */
	struct MHD_Response *cur;	/* the latest exposition */
	struct MHD_Response *index, *e404, *e405, *e413;
};

/* libmicrohttpd's own messages (a reset connection, a bad request): debug */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	size_t n;

	(void)cls;
	if (!np_verbose)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = 0;
	np_dbg("metrics: %s", msg);
}

static struct MHD_Response *static_page(const char *body, const char *ctype)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body,
					    MHD_RESPMEM_PERSISTENT);
	if (r && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					 ctype) != MHD_YES) {
		MHD_destroy_response(r);
		r = NULL;
	}
	return r;
}

/* The request carries a body (its headers say so; they are all in). */
static bool has_body(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
				MHD_HTTP_HEADER_CONTENT_LENGTH);

	if (MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					MHD_HTTP_HEADER_TRANSFER_ENCODING))
		return true;
	return cl && cl[strspn(cl, "0")];
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct np_metrics *m = cls;
	enum MHD_Result ret;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	/*
	 * Answered at once, so that a body is never read: libmicrohttpd
	 * closes the connection after the response.
	 */
	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD))
		return MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED,
					  m->e405);
	/*
	 * A GET or HEAD with a body: refused at once too. Taken to the
	 * second call, the body would be arriving when the answer is
	 * queued, which libmicrohttpd refuses: the client got no answer,
	 * only a closed connection.
	 */
	if (!*con_cls && has_body(c))
		return MHD_queue_response(c, MHD_HTTP_CONTENT_TOO_LARGE,
					  m->e413);
	/*
	 * GET and HEAD on the second call, once the headers are all in: a
	 * response queued on the first closes the connection after it, and
	 * a scraper's keep-alive is worth keeping.
	 */
	if (!*con_cls) {
		*con_cls = m;
		return MHD_YES;
	}
	if (!strcmp(url, "/"))
		return MHD_queue_response(c, MHD_HTTP_OK, m->index);
	if (strcmp(url, "/metrics"))
		return MHD_queue_response(c, MHD_HTTP_NOT_FOUND, m->e404);
	/* queued under the lock: a publish cannot free it meanwhile */
	pthread_mutex_lock(&m->lock);
	ret = MHD_queue_response(c, MHD_HTTP_OK, m->cur);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

/*
 * ":PORT" (the parser's 0.0.0.0) means every address: an IPv6 socket
 * that takes IPv4 too, unless the kernel has no IPv6 at all.
 */
static bool every_address(const char *spec)
{
	return spec[0] == ':' || !strncmp(spec, "*:", 2);
}

static int listen_on(struct np_metrics *m, const char *spec,
		     const struct np_sockaddr *a)
{
	struct sockaddr_in6 any6 = { .sin6_family = AF_INET6 };
	const struct sockaddr *sa = (const struct sockaddr *)&a->ss;
	socklen_t len = a->len;
	int one = 1, zero = 0;

	if (every_address(spec)) {
		any6.sin6_port = ((const struct sockaddr_in *)sa)->sin_port;
		m->lfd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK |
				SOCK_CLOEXEC, 0);
		if (m->lfd >= 0) {
			if (setsockopt(m->lfd, IPPROTO_IPV6, IPV6_V6ONLY,
				       &zero, sizeof(zero)))
				return -errno;
			sa = (const struct sockaddr *)&any6;
			len = sizeof(any6);
		} else if (errno != EAFNOSUPPORT) {
			return -errno;
		}
	}
	if (m->lfd < 0)
		m->lfd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
				SOCK_CLOEXEC, 0);
	if (m->lfd < 0)
		return -errno;
	/* a restarted run must not wait out TIME_WAIT of the last one */
	if (setsockopt(m->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(m->lfd, sa, len) || listen(m->lfd, NP_METRICS_BACKLOG))
		return -errno;
	return 0;
}

/*
 * A connection is a socket: make room for the limit under the hard
 * RLIMIT_NOFILE (the usual soft limit, 1024, is lower), or lower the
 * limit to what fits.
 */
static unsigned int conns_that_fit(void)
{
	const rlim_t spare = 64;	/* the maps, links, pins, stdio */
	rlim_t want = NP_METRICS_MAX_CONNS + spare;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return NP_METRICS_MAX_CONNS / 8;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur >= want)
		return NP_METRICS_MAX_CONNS;
	return rl.rlim_cur > 2 * spare ? rl.rlim_cur - spare : spare;
}

int np_metrics_start(struct np_metrics **out, const char *spec,
		     const struct np_sockaddr *a)
{
	struct np_metrics *m;
	int err;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->lfd = -1;
	pthread_mutex_init(&m->lock, NULL);
	snprintf(m->spec, sizeof(m->spec), "%s", spec);
	err = listen_on(m, spec, a);
	if (err) {
		np_err("--metrics %s: cannot listen there: %s; pick another address or port",
		       spec, strerror(-err));
		goto fail;
	}
	m->index = static_page(index_page, "text/html; charset=utf-8");
	m->e404 = static_page(not_found, "text/plain; charset=utf-8");
	m->e405 = static_page(not_allowed, "text/plain; charset=utf-8");
	m->e413 = static_page(too_large, "text/plain; charset=utf-8");
	if (!m->index || !m->e404 || !m->e405 || !m->e413 ||
	    MHD_add_response_header(m->e405, MHD_HTTP_HEADER_ALLOW,
				    "GET, HEAD") != MHD_YES) {
		err = -ENOMEM;
		np_err("--metrics: %s", strerror(-err));
		goto fail;
	}
	m->max_conns = conns_that_fit();
	if (m->max_conns < NP_METRICS_MAX_CONNS)
		np_warn("--metrics: room for %u connections only (open files limit); raise it with 'ulimit -n %u' or LimitNOFILE=",
			m->max_conns, NP_METRICS_MAX_CONNS + 64);
	*out = m;
	return 0;
fail:
	np_metrics_stop(m);
	return err;
}

static int serve(struct np_metrics *m)
{
	unsigned int per_ip = NP_METRICS_MAX_PER_IP;

	if (per_ip > m->max_conns / 2)
		per_ip = m->max_conns / 2;
	/* ITC: an eventfd that wakes the thread for a connection handed
	 * over by np_metrics_add_conn (without it, not before other work)
	 */
	m->d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD |
				MHD_USE_ITC | MHD_USE_ERROR_LOG,
				0, NULL, NULL, answer, m,
				/* first, or some messages go to stderr */
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				MHD_OPTION_LISTEN_SOCKET, m->lfd,
				MHD_OPTION_CONNECTION_LIMIT, m->max_conns,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT,
				(size_t)NP_METRICS_CONN_MEM,
				MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned int)NP_METRICS_TIMEOUT_SEC,
				MHD_OPTION_END);
	if (!m->d) {
		np_err("--metrics %s: cannot start the HTTP server (libmicrohttpd); 'nbdpath -v run ...' shows why",
		       m->spec);
		return -EIO;
	}
	m->lfd = -1;			/* closed by MHD_stop_daemon */
	np_dbg("serving metrics on http://%s/metrics", m->spec);
	return 0;
}

int np_metrics_publish(struct np_metrics *m, const char *buf, size_t len)
{
	struct MHD_Response *r, *old;

	if (!m)
		return 0;
	r = MHD_create_response_from_buffer(len, (void *)buf,
					    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return -ENOMEM;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				    CTYPE_PROM) != MHD_YES) {
		MHD_destroy_response(r);
		return -ENOMEM;
	}
	pthread_mutex_lock(&m->lock);
	old = m->cur;
	m->cur = r;
	pthread_mutex_unlock(&m->lock);
	if (old)
		MHD_destroy_response(old);
	return m->d ? 0 : serve(m);
}

int np_metrics_add_conn(struct np_metrics *m, int fd,
			const struct sockaddr *sa, socklen_t len)
{
	if (!m || !m->d) {
		close(fd);
		return -EINVAL;
	}
	/* the daemon closes fd whatever it answers */
	return MHD_add_connection(m->d, fd, sa, len) == MHD_YES ?
	       0 : -(errno ? errno : EIO);
}

void np_metrics_stop(struct np_metrics *m)
{
	if (!m)
		return;
	if (m->d)
		MHD_stop_daemon(m->d);
	if (m->lfd >= 0)
		close(m->lfd);
	if (m->cur)
		MHD_destroy_response(m->cur);
	if (m->index)
		MHD_destroy_response(m->index);
	if (m->e404)
		MHD_destroy_response(m->e404);
	if (m->e405)
		MHD_destroy_response(m->e405);
	if (m->e413)
		MHD_destroy_response(m->e413);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
