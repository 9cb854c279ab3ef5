// SPDX-License-Identifier: GPL-2.0
/* The pin directory: bpffs, lock, np_meta, and reopening the maps. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>

#include "log.h"
#include "pin.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC	0xcafe4a11
#endif

/* Pin names in the order they are pinned: np_meta first, so that a
 * query never finds maps it cannot tell the layout of.
 */
static const char *const pin_names[NP_N_PINS] = {
	NP_PIN_META, NP_PIN_FLOWS, NP_PIN_STATS, NP_PIN_NEIGH, NP_PIN_NAMES,
	NP_PIN_RETIRED, NP_PIN_CURRENT, NP_PIN_FINISHED,
};

static int *map_fd(struct np_maps *m, int i)
{
	int *fds[NP_N_PINS] = { &m->meta, &m->flows, &m->stats, &m->neigh,
				&m->names, &m->retired, &m->current,
				&m->finished };

	return fds[i];
}

__u64 np_unix_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* "dir" without trailing slashes; -ENAMETOOLONG if it does not fit. */
static int set_dir(char out[PATH_MAX], const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n + 1 + 16 >= PATH_MAX) {
		np_err("--pin-dir '%s' is too long", dir);
		return -ENAMETOOLONG;
	}
	memcpy(out, dir, n);
	out[n] = 0;
	return 0;
}

static void pin_path(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* ---- np_meta ---- */

/*
 * Read np_meta through fd. Its first two words (magic, layout) are the
 * same in every layout; nothing past them is trusted until the layout,
 * the value size and the struct sizes recorded in it all match ours.
 * *layout_seen: the layout found, 0 when not even that is readable.
 */
int np_meta_read(int fd, struct np_meta *meta, __u32 *layout_seen)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), *w;
	__u32 zero = 0;
	void *buf;
	int err;

	*layout_seen = 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return (errno == EACCES || errno == EPERM) ? -errno : -EPROTO;
	if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != 4 ||
	    info.max_entries < 1 || info.value_size < 8)
		return -EPROTO;
	buf = calloc(1, info.value_size);
	if (!buf)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, buf)) {
		err = (errno == EACCES || errno == EPERM) ? -errno : -EPROTO;
		goto out;
	}
	w = buf;
	err = -EPROTO;
	if (w[0] != NP_MAGIC)
		goto out;
	*layout_seen = w[1];
	if (w[1] != NP_LAYOUT_VERSION || info.value_size != sizeof(*meta))
		goto out;
	memcpy(meta, buf, sizeof(*meta));
	if (meta->sz_key != sizeof(struct np_flow_key) ||
	    meta->sz_flow != sizeof(struct np_flow) ||
	    meta->sz_meta != sizeof(struct np_meta) || !meta->n_slots)
		goto out;
	err = 0;
out:
	free(buf);
	return err;
}

static void say_incompatible(const char *dir, __u32 layout)
{
	char l[48] = "unknown";

	if (layout == NP_LAYOUT_VERSION)
		snprintf(l, sizeof(l), "%u, built with other struct sizes", layout);
	else if (layout)
		snprintf(l, sizeof(l), "%u", layout);
	np_err("%s holds pins written by an incompatible nbdpath (layout %s; this one reads layout %u); remove %s or use another --pin-dir",
	       dir, l, NP_LAYOUT_VERSION, dir);
}

static void say_no_access(const char *path, int err)
{
	if (err == -EPERM)
		np_err("cannot open %s: %s; this kernel allows bpf() only with CAP_BPF: run as root",
		       path, strerror(-err));
	else
		np_err("cannot open %s: %s; it needs read permission on the pin (root only unless 'run --pin-mode' allows more): run as root",
		       path, strerror(-err));
}

static bool any_pin(int dir_fd)
{
	struct stat st;

	for (int i = 0; i < NP_N_PINS; i++)
		if (!fstatat(dir_fd, pin_names[i], &st, AT_SYMLINK_NOFOLLOW))
			return true;
	return false;
}

/* Open dir/np_meta and check it; -errno after a message. */
static int meta_open(const char *dir, int dir_fd, struct np_meta *meta,
		     int *fd_out)
{
	LIBBPF_OPTS(bpf_obj_get_opts, ro, .file_flags = BPF_F_RDONLY);
	char path[PATH_MAX + 32];
	__u32 layout;
	int fd, err;

	*fd_out = -1;
	pin_path(path, sizeof(path), dir, NP_PIN_META);
	fd = bpf_obj_get_opts(path, &ro);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT) {
			/* maps without np_meta: not ours to judge or touch */
			if (dir_fd >= 0 && any_pin(dir_fd)) {
				say_incompatible(dir, 0);
				return -EPROTO;
			}
			return -ENOENT;
		}
		if (err == -EACCES || err == -EPERM) {
			say_no_access(path, err);
			return err;
		}
		/* EINVAL: something there that is not a bpf object */
		say_incompatible(dir, 0);
		return -EPROTO;
	}
	err = np_meta_read(fd, meta, &layout);
	if (err == -EACCES || err == -EPERM) {
		say_no_access(path, err);
	} else if (err == -EPROTO) {
		say_incompatible(dir, layout);
	} else if (err) {
		np_err("cannot read %s: %s", path, strerror(-err));
	}
	if (err) {
		close(fd);
		return err;
	}
	*fd_out = fd;
	return 0;
}

/* ---- run: claiming the directory ---- */

/*
 * Every run claims and releases its pin directory holding this lock, so
 * that deciding to mount a bpffs, mounting it and locking the directory
 * on it are one step: two runs started together on a new directory
 * would otherwise each mount one (stacked) and each lock its own, and a
 * run starting while another stops could lock a bpffs about to be
 * unmounted. A lock file, as iptables' /run/xtables.lock, on the same
 * inode in every mount namespace (under `ip netns exec` too); "/" where
 * /run cannot hold one.
 */
#define NP_CLAIM_LOCK	"/run/nbdpath.lock"

/* quiet: on the way out, where nothing is left to refuse */
static int claim_lock(struct np_pins *p, bool quiet)
{
	const char *path = NP_CLAIM_LOCK;
	int fd;

	fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		path = "/";
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0) {
		int err = -errno;

		if (!quiet)
			np_err("cannot open %s to claim --pin-dir %s: %s",
			       path, p->dir, strerror(-err));
		return err;
	}
	/* held for milliseconds: a claim, or a release */
	for (int i = 0; i < 500; i++) {
		if (!flock(fd, LOCK_EX | LOCK_NB)) {
			p->claim_fd = fd;
			return 0;
		}
		if (errno != EWOULDBLOCK)
			break;
		usleep(20000);
	}
	if (!quiet)
		np_err("cannot lock %s to claim --pin-dir %s: %s; another nbdpath run is stuck starting or stopping",
		       path, p->dir, errno == EWOULDBLOCK ? "held for 10 s" :
		       strerror(errno));
	close(fd);
	return -EBUSY;
}

static void claim_unlock(struct np_pins *p)
{
	if (p->claim_fd >= 0)
		close(p->claim_fd);
	p->claim_fd = -1;
}

static bool is_bpffs(const char *path, int *err)
{
	struct statfs fs;

	*err = statfs(path, &fs) ? -errno : 0;
	return !*err && (unsigned long)fs.f_type == BPF_FS_MAGIC;
}

static bool dir_empty(const char *path)
{
	struct dirent *d;
	bool empty = true;
	DIR *dp = opendir(path);

	if (!dp)
		return false;
	while (empty && (d = readdir(dp)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
			empty = false;
	closedir(dp);
	return empty;
}

/* Directory mode for pins of `mode`: whoever may read a pin may enter. */
static unsigned int dir_mode(unsigned int mode)
{
	unsigned int r = mode & 0044;

	return 0700 | r | (r >> 2);
}

/*
 * Like bpftool: where no bpffs is mounted, mount one. Only on the
 * standard /sys/fs/bpf (an empty sysfs directory under `ip netns exec`)
 * or on an empty directory, so that nothing is ever hidden by it.
 */
static int mount_bpffs(const char *at, const char *dir, unsigned int mode)
{
	char opts[16];

	if (strcmp(at, "/sys/fs/bpf") && !dir_empty(at)) {
		np_err("%s is not on a bpf filesystem and not empty, so none can be mounted on it; give a --pin-dir that is new or empty, or under /sys/fs/bpf",
		       dir);
		return -ENOTSUP;
	}
	snprintf(opts, sizeof(opts), "mode=%o", mode);
	if (mount("bpf", at, "bpf", 0, opts)) {
		int err = -errno;

		np_err("cannot mount a bpf filesystem at %s for %s: %s; it needs CAP_SYS_ADMIN, or mount one yourself ('mount -t bpf bpf %s')",
		       at, dir, strerror(-err), at);
		return err;
	}
	np_dbg("mounted a bpf filesystem at %s", at);
	return 0;
}

/* "/a/b" -> "/a", "/a" -> "/", "a" -> "." */
static void parent_of(char *path)
{
	char *slash = strrchr(path, '/');

	if (!slash)
		strcpy(path, ".");
	else if (slash == path)
		path[1] = 0;
	else
		*slash = 0;
}

/* A mount root is never ours to chmod or remove. */
static bool is_mountpoint(const char *path)
{
	char up[PATH_MAX + 4];
	struct stat a, b;

	snprintf(up, sizeof(up), "%s/..", path);
	if (stat(path, &a) || stat(up, &b))
		return true;
	return a.st_dev != b.st_dev || a.st_ino == b.st_ino;
}

/* A bpffs on the pin dir itself (if empty), ours to unmount at the end. */
static int mount_on_dir(struct np_pins *p)
{
	int err = mount_bpffs(p->dir, p->dir, dir_mode(p->mode));

	p->mounted = !err;
	return err;
}

static int prepare_dir(struct np_pins *p)
{
	char up[PATH_MAX], parent[PATH_MAX];
	bool bpffs, on_dir;
	struct stat st;
	int err;

	if (is_bpffs(p->dir, &err))
		return 0;
	if (!err && (stat(p->dir, &st) || !S_ISDIR(st.st_mode))) {
		np_err("--pin-dir %s is not a directory; give a new directory, or one under /sys/fs/bpf",
		       p->dir);
		return -ENOTDIR;
	}
	if (!err)	/* exists, but on another filesystem */
		return mount_on_dir(p);
	if (err != -ENOENT) {
		np_err("cannot use --pin-dir %s: %s", p->dir, strerror(-err));
		return err;
	}
	/* the nearest ancestor that exists */
	snprintf(up, sizeof(up), "%s", p->dir);
	do {
		parent_of(up);
		bpffs = is_bpffs(up, &err);
	} while (err == -ENOENT && strcmp(up, "/") && strcmp(up, "."));
	if (err) {
		np_err("cannot create --pin-dir %s: %s: %s", p->dir, up,
		       strerror(-err));
		return err;
	}
	/*
	 * No bpffs: on the standard /sys/fs/bpf (empty under `ip netns
	 * exec`) mount one there, for every tool to find; anywhere else
	 * make the directory and mount one on it, as bpftool does, which
	 * hides nothing. That one is taken away again on the way out.
	 */
	on_dir = !bpffs && strcmp(up, "/sys/fs/bpf");
	if (!bpffs && !on_dir) {
		err = mount_bpffs(up, p->dir, dir_mode(p->mode));
		if (err)
			return err;
	}
	/* mkdir -p below the nearest existing ancestor */
	for (size_t i = strcmp(up, ".") ? strlen(up) : 0; i <= strlen(p->dir);
	     i++) {
		if (p->dir[i] != '/' && p->dir[i])
			continue;
		snprintf(parent, sizeof(parent), "%.*s", (int)i, p->dir);
		if (!i || !strcmp(parent, up))
			continue;
		if (mkdir(parent, 0700)) {
			if (errno == EEXIST)
				continue;
			err = -errno;
			np_err("cannot create --pin-dir %s: %s: %s", p->dir,
			       parent, strerror(-err));
			return err;
		}
		if (!p->made[0])
			snprintf(p->made, sizeof(p->made), "%s", parent);
	}
	p->own_dir = true;
	return on_dir ? mount_on_dir(p) : 0;
}

/*
 * The pid holding the flock on the directory open as dir_fd, from
 * /proc/locks ("1: FLOCK  ADVISORY  WRITE PID MAJ:MIN:INODE 0 EOF"):
 * a run that is still loading has locked its pin dir before it pins
 * np_meta. 0 when not found.
 */
static unsigned int flock_holder(int dir_fd)
{
	unsigned int pid, maj, min, found = 0;
	unsigned long ino;
	char line[256], kind[16], rw[16];
	struct stat st;
	FILE *f;

	if (fstat(dir_fd, &st))
		return 0;
	f = fopen("/proc/locks", "re");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %15s %*s %15s %u %x:%x:%lu", kind, rw,
			   &pid, &maj, &min, &ino) == 6 &&
		    !strcmp(kind, "FLOCK") && !strcmp(rw, "WRITE") &&
		    maj == major(st.st_dev) && min == minor(st.st_dev) &&
		    ino == st.st_ino)
			found = pid;
	}
	fclose(f);
	return found;
}

/* The pid of the live run, for the message refusing a second. */
static void holder_pid(const char *dir, int dir_fd, char buf[32])
{
	LIBBPF_OPTS(bpf_obj_get_opts, ro, .file_flags = BPF_F_RDONLY);
	char path[PATH_MAX + 32];
	struct np_meta meta;
	unsigned int pid;
	__u32 layout;
	int fd;

	strcpy(buf, "unknown");
	pin_path(path, sizeof(path), dir, NP_PIN_META);
	fd = bpf_obj_get_opts(path, &ro);
	if (fd >= 0) {
		if (!np_meta_read(fd, &meta, &layout))
			snprintf(buf, 32, "%u", meta.pid);
		close(fd);
		if (strcmp(buf, "unknown"))
			return;
	}
	pid = flock_holder(dir_fd);
	if (pid)
		snprintf(buf, 32, "%u", pid);
}

static int lock_dir(struct np_pins *p)
{
	char pid[32];

	p->dir_fd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->dir_fd < 0) {
		int err = -errno;

		np_err("cannot open --pin-dir %s: %s", p->dir, strerror(-err));
		return err;
	}
	/* a query holds LOCK_SH for an instant: retry a little */
	for (int i = 0; i < 25; i++) {
		if (!flock(p->dir_fd, LOCK_EX | LOCK_NB))
			return 0;
		if (errno != EWOULDBLOCK) {
			int err = -errno;

			np_err("cannot lock --pin-dir %s: %s", p->dir,
			       strerror(-err));
			return err;
		}
		usleep(20000);
	}
	holder_pid(p->dir, p->dir_fd, pid);
	np_err("another nbdpath run (pid %s) is using %s; stop it or use --pin-dir",
	       pid, p->dir);
	return -EBUSY;
}

/* With the lock held: whatever pins are here belong to a stopped run. */
static int clear_stale(struct np_pins *p)
{
	struct np_meta meta;
	int fd, err;

	err = meta_open(p->dir, p->dir_fd, &meta, &fd);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	close(fd);
	for (int i = 0; i < NP_N_PINS; i++) {
		if (unlinkat(p->dir_fd, pin_names[i], 0) && errno != ENOENT) {
			err = -errno;
			np_err("cannot remove the stale pin %s/%s: %s",
			       p->dir, pin_names[i], strerror(-err));
			return err;
		}
	}
	np_dbg("removed the stale pins of pid %u from %s", meta.pid, p->dir);
	/* a run of ours made it: take it away like that run would have */
	p->own_dir = !is_mountpoint(p->dir);
	return 0;
}

int np_pins_claim(struct np_pins *p, const char *dir, unsigned int mode)
{
	int err;

	memset(p, 0, sizeof(*p));
	p->dir_fd = -1;
	p->claim_fd = -1;
	p->mode = mode;
	err = set_dir(p->dir, dir);
	if (!err)
		err = claim_lock(p, false);
	if (!err)
		err = prepare_dir(p);
	if (!err)
		err = lock_dir(p);
	claim_unlock(p);
	if (!err)
		err = clear_stale(p);
	/* the mode of a directory we did not make is its owner's business */
	if (!err && p->own_dir && chmod(p->dir, dir_mode(mode))) {
		err = -errno;
		np_err("cannot chmod --pin-dir %s: %s", p->dir, strerror(-err));
	}
	if (err)
		np_pins_release(p);
	return err;
}

int np_pins_add(struct np_pins *p, const struct np_maps *m)
{
	struct np_maps fds = *m;
	char path[PATH_MAX + 32];
	int err = 0;

	for (int i = 0; i < NP_N_PINS; i++) {
		pin_path(path, sizeof(path), p->dir, pin_names[i]);
		if (bpf_obj_pin(*map_fd(&fds, i), path)) {
			err = -errno;
			np_err("cannot pin %s at %s: %s", pin_names[i], path,
			       strerror(-err));
			break;
		}
		p->pinned[i] = true;
		if (fchmodat(p->dir_fd, pin_names[i], p->mode, 0)) {
			err = -errno;
			np_err("cannot chmod %s: %s", path, strerror(-err));
			break;
		}
	}
	if (err) {
		for (int i = 0; i < NP_N_PINS; i++) {
			if (p->pinned[i])
				unlinkat(p->dir_fd, pin_names[i], 0);
			p->pinned[i] = false;
		}
	}
	return err;
}

void np_pins_release(struct np_pins *p)
{
	if (!p->dir[0])
		return;
	/* a run claiming the directory now waits until it is gone */
	if ((p->mounted || p->own_dir) && claim_lock(p, true))
		np_dbg("releasing %s without the claim lock", p->dir);
	/* np_meta last: a query never sees maps without it */
	for (int i = NP_N_PINS - 1; i >= 0; i--) {
		if (p->pinned[i] && unlinkat(p->dir_fd, pin_names[i], 0))
			np_warn("cannot remove the pin %s/%s: %s", p->dir,
				pin_names[i], strerror(errno));
		p->pinned[i] = false;
	}
	if (p->dir_fd >= 0)
		close(p->dir_fd);	/* drops the lock */
	p->dir_fd = -1;
	if (p->mounted && umount2(p->dir, MNT_DETACH))
		np_dbg("left the bpf filesystem on %s: %s", p->dir,
		       strerror(errno));
	p->mounted = false;
	if (p->own_dir && rmdir(p->dir))
		np_dbg("left %s in place: %s", p->dir, strerror(errno));
	/* and the directories made above it, while empty */
	while (p->own_dir && p->made[0] && strcmp(p->dir, p->made)) {
		parent_of(p->dir);
		if (rmdir(p->dir))
			break;
	}
	claim_unlock(p);
	p->dir[0] = 0;
}

/* ---- queries: opening a running instance ---- */

static void say_nothing(const char *dir, unsigned int flags)
{
	if (flags & NP_INST_QUIET_NONE)
		return;
	np_err("nothing is running under %s (start 'nbdpath run -i IFACE'); note: under 'ip netns exec' /sys is private, so use --pin-dir on a shared bpffs",
	       dir);
}

/*
 * Is pid a live nbdpath? A zombie has closed its files (and so its link
 * and lock) already, and a pid may be reused by anything else.
 */
static bool pid_is_nbdpath(__u32 pid)
{
	char path[64], buf[512], *p;
	bool ok = false;
	FILE *f;

	if (!pid || (kill(pid, 0) && errno != EPERM))
		return false;
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return true;	/* no /proc: take kill()'s word */
	/* "pid (comm) state ...": comm may hold spaces and parentheses */
	if (fgets(buf, sizeof(buf), f)) {
		p = strrchr(buf, ')');
		ok = p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X' &&
		     strstr(buf, "(nbdpath)");
	}
	fclose(f);
	return ok;
}

/* Is the run that wrote meta alive? Its lock says so; else its pid. */
static bool instance_live(const char *dir, const struct np_meta *meta)
{
	bool held = false;
	int fd;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		if (flock(fd, LOCK_SH | LOCK_NB))
			held = errno == EWOULDBLOCK;
		else
			flock(fd, LOCK_UN);
		close(fd);
		if (held)
			return true;
	}
	return pid_is_nbdpath(meta->pid);
}

/*
 * A run in another network namespace (a query from the host of a run
 * under `ip netns exec`) has interface indexes that mean nothing here:
 * look the names up in its namespace, then come back.
 */
/* The run's -i names, as it wrote them (any network namespace, any age). */
static void resolve_ifnames(struct np_instance *in)
{
	__u32 n = in->meta.n_ifaces;

	for (__u32 i = 0; i < n && i < NP_MAX_IFACES; i++) {
		const char *name = in->meta.ifname[i];
		size_t len = strnlen(name, sizeof(in->meta.ifname[i]));

		if (len)
			snprintf(in->ifnames[i], sizeof(in->ifnames[i]),
				 "%.*s", (int)len, name);
		else
			snprintf(in->ifnames[i], sizeof(in->ifnames[i]),
				 "ifindex %u", in->meta.ifindex[i]);
	}
}

struct map_shape {
	__u32 type, key, value;
	__u32 flags;			/* that must be set */
};

/* value: at least that much, read from its start (see np_read_stats()) */
#define SHAPE_PREFIX	(1u << 31)

static int check_shape(int fd, const struct map_shape *s, __u32 *max_entries)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != s->type || info.key_size != s->key ||
	    ((s->value & SHAPE_PREFIX) ?
		info.value_size < (s->value & ~SHAPE_PREFIX) :
		info.value_size != s->value) ||
	    (info.map_flags & s->flags) != s->flags)
		return -EPROTO;
	*max_entries = info.max_entries;
	return 0;
}

int np_instance_open(struct np_instance *in, const char *dir,
		     unsigned int flags)
{
	LIBBPF_OPTS(bpf_obj_get_opts, ro, .file_flags = BPF_F_RDONLY);
	const struct map_shape shapes[NP_N_PINS] = {
		{ BPF_MAP_TYPE_ARRAY, 4, sizeof(struct np_meta), 0 },
		/* readers map it: a copy that cannot be mapped is not ours */
		{ BPF_MAP_TYPE_ARRAY, 4, sizeof(struct np_flow), BPF_F_MMAPABLE },
		/* the counters, then the program's scratch (np_read_stats()) */
		{ BPF_MAP_TYPE_PERCPU_ARRAY, 4,
		  SHAPE_PREFIX | NP_STAT_MAX * sizeof(__u64), 0 },
		{ BPF_MAP_TYPE_LRU_HASH, sizeof(struct np_neigh_key),
		  sizeof(struct np_neigh), 0 },
		{ BPF_MAP_TYPE_HASH, sizeof(struct np_neigh_key),
		  sizeof(struct np_name), 0 },
		{ BPF_MAP_TYPE_HASH, sizeof(struct np_retired_key),
		  sizeof(struct np_retired), 0 },
		{ BPF_MAP_TYPE_HASH, sizeof(struct np_current_key),
		  sizeof(struct np_current), 0 },
		{ BPF_MAP_TYPE_ARRAY, 4, sizeof(struct np_finished_rec), 0 },
	};
	char path[PATH_MAX + 32], when[32];
	int dir_fd = -1, err, fd;
	struct stat st;
	struct tm tm;
	time_t t;

	memset(in, 0, sizeof(*in));
	for (int i = 0; i < NP_N_PINS; i++)
		*map_fd(&in->maps, i) = -1;
	err = set_dir(in->dir, dir);
	if (err)
		return -EINVAL;
	if (stat(in->dir, &st)) {
		err = -errno;
		if (err == -ENOENT || err == -ENOTDIR) {
			say_nothing(in->dir, flags);
			return -ENOENT;
		}
		np_err("cannot look into %s: %s; run as root", in->dir,
		       strerror(-err));
		return err;
	}
	if (!S_ISDIR(st.st_mode)) {
		say_nothing(in->dir, flags);
		return -ENOENT;
	}
	dir_fd = open(in->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	err = meta_open(in->dir, dir_fd, &in->meta, &fd);
	if (dir_fd >= 0)
		close(dir_fd);
	if (err == -ENOENT)
		say_nothing(in->dir, flags);
	if (err)
		goto fail;
	in->maps.meta = fd;

	in->live = instance_live(in->dir, &in->meta);
	if (!in->live && !(flags & NP_INST_STALE_OK)) {
		t = in->meta.last_poll_ns / 1000000000ull;
		if (!gmtime_r(&t, &tm) ||
		    !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
			strcpy(when, "at an unknown time");
		np_err("nothing is running under %s: its pins are left from nbdpath run pid %u, last seen %s; a new 'nbdpath run' clears them",
		       in->dir, in->meta.pid, when);
		err = -ESTALE;
		goto fail;
	}

	for (int i = 1; i < NP_N_PINS; i++) {
		__u32 max = 0;

		pin_path(path, sizeof(path), in->dir, pin_names[i]);
		fd = bpf_obj_get_opts(path, &ro);
		if (fd < 0) {
			err = -errno;
			if (err == -EACCES || err == -EPERM) {
				say_no_access(path, err);
			} else if (err == -ENOENT) {
				/* a run pins np_meta first: it is starting */
				say_nothing(in->dir, flags);
			} else {
				say_incompatible(in->dir, in->meta.layout);
				err = -EPROTO;
			}
			goto fail;
		}
		*map_fd(&in->maps, i) = fd;
		err = check_shape(fd, &shapes[i], &max);
		/* np_flows holds n_slots slots for each possible CPU */
		if (!err && i == 1 &&
		    max != (__u64)in->meta.n_slots * libbpf_num_possible_cpus())
			err = -EPROTO;
		if (err) {
			if (err == -EPROTO)
				say_incompatible(in->dir, in->meta.layout);
			else
				np_err("cannot read %s: %s", path, strerror(-err));
			goto fail;
		}
	}
	in->maps.n_slots = in->meta.n_slots;
	resolve_ifnames(in);
	return 0;
fail:
	np_instance_close(in);
	return err;
}

void np_instance_close(struct np_instance *in)
{
	for (int i = 0; i < NP_N_PINS; i++) {
		int *fd = map_fd(&in->maps, i);

		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
}
