// SPDX-License-Identifier: GPL-2.0
/*
 * VMkernel interface names of server-side MACs, from --vmk NAME=MAC and
 * from --vmk-file: the output of `esxcfg-vmknic -l` (a fixed-width table)
 * or of `esxcli network ip interface list` (indented "Key: value" blocks).
 * A file may hold several outputs one after the other (one per host,
 * or both commands), so the format is recognised section by section.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "log.h"
#include "vmk.h"

#define NP_VMK_NAME_MAX	(sizeof(((struct np_vmk *)0)->name) - 1)

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int np_parse_mac(const char *s, __u8 mac[6])
{
	__u8 m[6];
	char sep;
	int i;

	if (!s || strlen(s) != 17)
		return -EINVAL;
	sep = s[2];
	if (sep != ':' && sep != '-')
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		const char *p = s + i * 3;
		int hi = hexval((unsigned char)p[0]);
		int lo = hexval((unsigned char)p[1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		/* one separator throughout: "aa:bb-cc..." is a typo */
		if (i < 5 && p[2] != sep)
			return -EINVAL;
		m[i] = hi << 4 | lo;
	}
	memcpy(mac, m, 6);
	return 0;
}

/* A name as ESXi prints it: printable, no blanks, no '='. */
static bool name_ok(const char *s, size_t len)
{
	if (!len || len > NP_VMK_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isgraph((unsigned char)s[i]) || s[i] == '=')
			return false;
	return true;
}

/*
 * Add or rename: a MAC has one name (the later wins), a name may have
 * many MACs (every host has its own vmk0).
 */
static int vmk_add(struct np_vmk_list *l, const char *name, size_t len,
		   const __u8 mac[6])
{
	struct np_vmk *v = NULL;

	for (int i = 0; i < l->n; i++) {
		if (!memcmp(l->v[i].mac, mac, 6)) {
			v = &l->v[i];
			break;
		}
	}
	if (!v) {
		if (l->n >= NP_MAX_VMKS)
			return -E2BIG;
		v = &l->v[l->n++];
		memcpy(v->mac, mac, 6);
	}
	memset(v->name, 0, sizeof(v->name));
	memcpy(v->name, name, len);
	return 0;
}

int np_vmk_parse_arg(struct np_vmk_list *l, const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t len;
	__u8 mac[6];

	if (!eq || eq == arg) {
		np_err("--vmk '%s': expected NAME=MAC, e.g. vmk0=00:50:56:6b:28:04",
		       arg);
		return -EINVAL;
	}
	len = eq - arg;
	if (!name_ok(arg, len)) {
		np_err("--vmk '%s': the name must be 1 to %zu printable characters without blanks, e.g. vmk0=00:50:56:6b:28:04",
		       arg, NP_VMK_NAME_MAX);
		return -EINVAL;
	}
	if (np_parse_mac(eq + 1, mac)) {
		np_err("--vmk '%s': '%s' is not a MAC address, expected NAME=MAC, e.g. vmk0=00:50:56:6b:28:04",
		       arg, eq + 1);
		return -EINVAL;
	}
	if (vmk_add(l, arg, len, mac)) {
		np_err("--vmk '%s': more than %d VMkernel interfaces named",
		       arg, NP_MAX_VMKS);
		return -EINVAL;
	}
	return 0;
}

/* ---- --vmk-file ---- */

/* esxcfg-vmknic -l: where the columns we need start, from the header. */
struct table {
	bool on;
	size_t col_mac;			/* "MAC Address" */
};

struct parse {
	struct np_vmk_list *l;
	const char *path;
	unsigned int line;
	bool known;			/* some section was recognised */
	int found;
	struct table t;
	/* esxcli: the block being read; the name is kept long enough
	 * for add_found() to say what was wrong with it
	 */
	char name[64];
	size_t name_len;
	__u8 mac[6];
	bool have_mac;
};

/*
 * One definition of a blank for skipping and for ending a token: were
 * they to differ (a form feed, a vertical tab or a lone carriage return
 * that one skips and the other does not), a scan of a row would stop
 * moving.
 */
static bool is_blank(char c)
{
	return isspace((unsigned char)c);
}

static const char *skip_blank(const char *s)
{
	while (*s && is_blank(*s))
		s++;
	return s;
}

static size_t token_len(const char *s)
{
	size_t n = 0;

	while (s[n] && !is_blank(s[n]))
		n++;
	return n;
}

/* A whitespace-delimited token that is a MAC, copied to mac. */
static bool token_mac(const char *s, size_t len, __u8 mac[6])
{
	char buf[18];

	if (len != 17)
		return false;
	memcpy(buf, s, 17);
	buf[17] = 0;
	return !np_parse_mac(buf, mac);
}

static int add_found(struct parse *p, const char *name, size_t len,
		     const __u8 mac[6])
{
	if (!name_ok(name, len)) {
		np_err("--vmk-file '%s' line %u: '%.*s' is not a VMkernel interface name (1 to %zu characters)",
		       p->path, p->line, (int)len, name, NP_VMK_NAME_MAX);
		return -EINVAL;
	}
	if (vmk_add(p->l, name, len, mac)) {
		np_err("--vmk-file '%s' line %u: more than %d VMkernel interfaces",
		       p->path, p->line, NP_MAX_VMKS);
		return -EINVAL;
	}
	p->found++;
	return 0;
}

/*
 * The header of `esxcfg-vmknic -l`: "Interface  Port Group/DVPort[/Opaque
 * Network]  IP Family ... MAC Address ...". Port group names contain
 * blanks, so rows are cut at the header's column positions.
 */
static bool table_header(struct parse *p, const char *s)
{
	const char *b = skip_blank(s), *pg, *mac;

	if (strncmp(b, "Interface", 9))
		return false;
	pg = strstr(b, "Port Group");
	mac = strstr(b, "MAC Address");
	if (!pg || !mac || mac < pg)
		return false;
	p->t.on = true;
	p->t.col_mac = mac - s;
	p->known = true;
	return true;
}

/*
 * One row: the name is the first token, the MAC sits at the header's MAC
 * column. A value wider than its column (a long port group name) pushes
 * the rest of the row right, so when the column holds no MAC, the row's
 * one MAC-shaped token is taken instead: no other column (IPv4, IPv6,
 * netmask) can take that shape. 1: a row, 0: not a row, or -errno.
 */
static int table_row(struct parse *p, const char *s)
{
	const char *name = skip_blank(s), *c;
	size_t nlen = token_len(name);
	__u8 mac[6];
	int err;

	if (strlen(s) > p->t.col_mac) {
		c = skip_blank(s + p->t.col_mac);
		if (token_mac(c, token_len(c), mac))
			goto found;
	}
	for (c = name + nlen; *(c = skip_blank(c)); c += token_len(c))
		if (token_mac(c, token_len(c), mac))
			goto found;
	/* a shell prompt, a rule, anything else between tables */
	return 0;
found:
	/* the IPv6 rows of a vmk repeat it, same MAC: vmk_add() dedupes */
	err = add_found(p, name, nlen, mac);
	return err ? err : 1;
}

/* The end of an esxcli block: one interface if both keys were seen. */
static int block_end(struct parse *p)
{
	int err = 0;

	if (p->name_len && p->have_mac)
		err = add_found(p, p->name, p->name_len, p->mac);
	p->name_len = 0;
	p->have_mac = false;
	return err;
}

static void block_name(struct parse *p, const char *v, size_t len)
{
	if (len >= sizeof(p->name))
		len = sizeof(p->name) - 1;
	memcpy(p->name, v, len);
	p->name[len] = 0;
	p->name_len = len;
}

static bool is_key(const char *s, const char *key)
{
	return !strncmp(skip_blank(s), key, strlen(key));
}

/*
 * `esxcli network ip interface list`: a block per interface, its first
 * line the bare name flush left, then indented "Name: vmk0", "MAC
 * Address: ...". Copies found on the web often lose the indentation or
 * the blank lines between blocks, so the keys are matched wherever they
 * start, and a second "Name:" after a complete block starts the next.
 */
static int esxcli_line(struct parse *p, const char *s)
{
	const char *v;
	size_t n;
	int err;

	if (is_key(s, "Name:")) {
		v = skip_blank(skip_blank(s) + 5);
		n = token_len(v);
		if (p->name_len && p->have_mac) {
			err = block_end(p);
			if (err)
				return err;
		}
		if (n)
			block_name(p, v, n);
		p->known = true;
		return 0;
	}
	if (is_key(s, "MAC Address:")) {
		v = skip_blank(skip_blank(s) + 12);
		n = token_len(v);
		if (!token_mac(v, n, p->mac)) {
			np_err("--vmk-file '%s' line %u: '%.*s' is not a MAC address",
			       p->path, p->line, (int)n, v);
			return -EINVAL;
		}
		p->have_mac = true;
		p->known = true;
		return 0;
	}
	/* a block's first line: only the name, flush left */
	n = token_len(s);
	if (n && !s[n] && !strchr(s, ':')) {
		err = block_end(p);
		if (err)
			return err;
		block_name(p, s, n);
	}
	return 0;
}

static int parse_line(struct parse *p, char *s)
{
	size_t len = strlen(s);
	int err;

	/* CRLF from a Windows copy, trailing blanks from the table */
	while (len && is_blank(s[len - 1]))
		s[--len] = 0;
	/* blank lines end an esxcli block; some copies of the table have
	 * them between rows, so it goes on until something else starts
	 */
	if (!len)
		return block_end(p);
	if (table_header(p, s))
		return block_end(p);
	if (is_key(s, "Name:") || is_key(s, "MAC Address:")) {
		p->t.on = false;
		return esxcli_line(p, s);
	}
	if (p->t.on) {
		err = table_row(p, s);
		if (err)
			return err < 0 ? err : 0;
	}
	return esxcli_line(p, s);
}

int np_vmk_parse_text(struct np_vmk_list *l, const char *path,
		      const char *text, size_t len)
{
	struct parse p = { .l = l, .path = path };
	char *buf, *s, *nl, *end;
	int err = 0;

	/* a copy to cut into lines; a NUL inside a line ends it there */
	buf = malloc(len + 1);
	if (!buf) {
		np_err("--vmk-file '%s': out of memory", path);
		return -ENOMEM;
	}
	memcpy(buf, text, len);
	buf[len] = 0;
	end = buf + len;
	for (s = buf; s < end; s = nl + 1) {
		nl = memchr(s, '\n', end - s);
		if (!nl)
			nl = end;
		*nl = 0;
		/* a UTF-8 byte order mark from a Windows editor */
		if (!p.line++ && !strncmp(s, "\xef\xbb\xbf", 3))
			s += 3;
		err = parse_line(&p, s);
		if (err)
			goto out;
	}
	err = block_end(&p);
	if (err)
		goto out;
	if (!p.known) {
		np_err("--vmk-file '%s': not the output of 'esxcfg-vmknic -l' or 'esxcli network ip interface list'; save one of them, run on the ESXi host, to the file",
		       path);
		err = -EINVAL;
	} else if (!p.found) {
		np_err("--vmk-file '%s': no VMkernel interface with a MAC address in it",
		       path);
		err = -EINVAL;
	}
out:
	free(buf);
	return err;
}

int np_vmk_parse_file(struct np_vmk_list *l, const char *path)
{
	size_t len = 0;
	char *buf;
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		np_err("--vmk-file '%s': %s", path, strerror(-err));
		return err;
	}
	/* untouched pages of it cost nothing */
	buf = malloc(NP_VMK_FILE_MAX + 1);
	if (!buf) {
		err = -ENOMEM;
		np_err("--vmk-file '%s': out of memory", path);
		goto out;
	}
	/*
	 * To the end, but one byte past NP_VMK_FILE_MAX at most: a device,
	 * a pipe or a file that never ends (/dev/zero) is refused there,
	 * not read until memory runs out.
	 */
	while (len <= NP_VMK_FILE_MAX) {
		n = read(fd, buf + len, NP_VMK_FILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			np_err("--vmk-file '%s': %s", path, strerror(-err));
			goto out;
		}
		if (!n)
			break;
		len += n;
	}
	if (len > NP_VMK_FILE_MAX) {
		np_err("--vmk-file '%s': larger than %d MiB; the output of 'esxcfg-vmknic -l' or 'esxcli network ip interface list' is a few KB: save that to the file",
		       path, NP_VMK_FILE_MAX >> 20);
		err = -EFBIG;
		goto out;
	}
	err = np_vmk_parse_text(l, path, buf, len);
out:
	free(buf);
	close(fd);
	return err;
}

int np_vmk_store(const struct np_vmk_list *l, int names_fd)
{
	for (int i = 0; i < l->n; i++) {
		struct np_neigh_key k;
		struct np_name v;

		memset(&k, 0, sizeof(k));
		memset(&v, 0, sizeof(v));
		memcpy(k.mac, l->v[i].mac, 6);
		strncpy(v.name, l->v[i].name, sizeof(v.name) - 1);
		/* silent: the caller names the map and what it was doing */
		if (bpf_map_update_elem(names_fd, &k, &v, BPF_ANY))
			return -errno;
	}
	return 0;
}
