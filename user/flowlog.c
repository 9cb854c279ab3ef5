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

void np_flowlog_write(struct np_flowlog *l, const struct np_report *r,
		       __s64 settle_ns)
{
	struct np_vec keep = { .sz = sizeof(struct np_logged) };
	bool failed = false;

	if (!l->f)
		return;
	for (size_t i = 0; i < r->n_fin; i++) {
		const struct np_rflow *f = r->fin[i].flow;
		const struct np_fin_rec *k = f ? NULL : np_rfin_rec(r, &r->fin[i]);
		const struct np_flow_key *key = f ? &f->rec.key : &k->key;
		__s64 first = f ? f->first_ns : k->kept->first_ns;
		__s64 last = f ? f->last_ns : k->kept->last_ns;
		enum np_flow_state st = f ? f->state : k->state;
		struct np_logged *x = find(l, key, first);

		if (x) {
			x->seen = true;
			continue;
		}
		/* the last ACK follows a connection's second FIN: a flow
		 * closed just now is logged at the next report, whole
		 */
		if (st != NP_FS_IDLE && r->time_ns - last < settle_ns)
			continue;
		if (f)
			np_report_json_flow(l->f, r, f);
		else
			np_report_json_kept(l->f, r, k->kept);
		failed |= ferror(l->f);
		/* flows of the table (not yet kept records) are listed
		 * again at the next report: remember them
		 */
		x = np_vec_add(&keep);
		if (x) {
			x->key = *key;
			x->first_ns = first;
		}
	}
	if (fflush(l->f) || failed) {
		if (!l->warned)
			np_warn("--flow-log %s: cannot write: %s; finished flows are still in the report",
				l->path, strerror(errno));
		l->warned = true;
		clearerr(l->f);
	}
	/* what stays remembered: this report's finished flows */
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
