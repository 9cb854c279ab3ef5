// SPDX-License-Identifier: GPL-2.0
/* The finished-flow log (see flowlog.h). */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "flowlog.h"
#include "log.h"

struct np_logged {
	struct np_flow_key key;		/* first: the index's records */
	__s64	first_ns;
	bool	seen;			/* in this report */
};

int np_flowlog_open(struct np_flowlog *l, const char *path)
{
	memset(l, 0, sizeof(*l));
	l->path = path;
	l->done.sz = sizeof(struct np_logged);
	l->pending.sz = sizeof(struct np_reclaimed);
	return np_flowlog_reopen(l);
}

int np_flowlog_reopen(struct np_flowlog *l)
{
	int fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;

	if (!f) {
		int err = -errno;

		if (fd >= 0)
			close(fd);
		np_err("--flow-log %s: cannot open it for appending: %s",
		       l->path, strerror(-err));
		return err;
	}
	if (l->f)
		fclose(l->f);
	l->f = f;
	return 0;
}

void np_flowlog_close(struct np_flowlog *l)
{
	if (l->f)
		fclose(l->f);
	np_vec_free(&l->done);
	np_vec_free(&l->pending);
	np_keyidx_free(&l->idx);
	memset(l, 0, sizeof(*l));
}

static struct np_keyent *slot_of(const struct np_flowlog *l,
				 const struct np_flow_key *k, __s64 first_ns)
{
	return np_keyidx_find_conn(&l->idx, l->done.v, l->done.sz, k, first_ns,
				   offsetof(struct np_logged, first_ns));
}

static struct np_logged *find(struct np_flowlog *l,
			      const struct np_flow_key *k, __s64 first_ns)
{
	struct np_keyent *e;

	if (!l->idx.slot)
		return NULL;
	e = slot_of(l, k, first_ns);
	return e->idx ? (struct np_logged *)l->done.v + e->idx - 1 : NULL;
}

void np_flowlog_retired(struct np_flowlog *l, const struct np_flow_rec *rec,
			enum np_flow_state st)
{
	if (!l->f || !np_reclaimed_add(&l->pending, rec, st))
		return;
	if (!l->warned_mem)
		np_warn("--flow-log %s: out of memory: finished flows go unlogged",
			l->path);
	l->warned_mem = true;
}

/* a flow closed just now is logged at the next report, whole */
static bool settling(const struct np_report *r, const struct np_rflow *f,
		     __s64 settle_ns)
{
	return f->state != NP_FS_IDLE && r->time_ns - f->last_ns < settle_ns;
}

void np_flowlog_write(struct np_flowlog *l, struct np_report *r,
		      __s64 settle_ns)
{
	struct np_vec keep = { .sz = sizeof(struct np_logged) };
	struct np_vec wait = { .sz = sizeof(struct np_reclaimed) };
	bool failed = false;

	if (!l->f)
		return;
	/*
	 * The table's finished flows (after the active ones, before the
	 * records); the kept records are not taken from the list, which
	 * --max-finished bounds, but from l->pending.
	 */
	for (size_t i = r->n_active; i < r->n_table; i++) {
		const struct np_rflow *f = &r->flows[i];
		struct np_logged *x;

		if (!f->listed)
			continue;
		x = find(l, &f->rec.key, f->first_ns);
		if (x) {
			x->seen = true;
			continue;
		}
		/* the last ACK follows a connection's second FIN */
		if (settling(r, f, settle_ns))
			continue;
		np_report_json_flow(l->f, r, f);
		failed |= ferror(l->f);
		/* listed again at the next report: remember it */
		x = np_vec_add(&keep);
		if (x) {
			x->key = f->rec.key;
			x->first_ns = f->first_ns;
		}
	}
	/* the flows reclaimed since: each once, unless logged in the table */
	for (size_t i = 0; i < l->pending.n; i++) {
		const struct np_reclaimed *p =
			(const struct np_reclaimed *)l->pending.v + i;
		struct np_rflow f;
		struct np_reclaimed *w;

		np_report_kept_flow(r, &p->rec, p->state, &f);
		if (find(l, &f.rec.key, f.first_ns))
			continue;
		if (settling(r, &f, settle_ns)) {
			w = np_vec_add(&wait);
			if (w)
				*w = *p;
			continue;
		}
		np_report_json_flow(l->f, r, &f);
		failed |= ferror(l->f);
	}
	np_vec_free(&l->pending);
	l->pending = wait;
	if (fflush(l->f) || failed) {
		if (!l->warned)
			np_warn("--flow-log %s: cannot write: %s; finished flows are still in the report",
				l->path, strerror(errno));
		l->warned = true;
		clearerr(l->f);
	}
	/* what stays remembered: the table's finished flows */
	for (size_t i = 0; i < l->done.n; i++) {
		struct np_logged *x = (struct np_logged *)l->done.v + i;
		struct np_logged *y;

		if (!x->seen)
			continue;
		y = np_vec_add(&keep);
		if (y)
			*y = *x;
	}
	np_vec_free(&l->done);
	l->done = keep;
	if (np_keyidx_init(&l->idx, l->done.n))
		return;
	for (size_t i = 0; i < l->done.n; i++) {
		struct np_logged *x = (struct np_logged *)l->done.v + i;

		x->seen = false;
		slot_of(l, &x->key, x->first_ns)->idx = i + 1;
	}
}
