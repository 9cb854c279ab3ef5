// SPDX-License-Identifier: GPL-2.0
/*
 * --vmk-file against input no ESXi host writes: every kind of blank
 * inside a row, and files too big for the output of either command.
 * tests/t_vmkfile.sh runs the same through the CLI under a timeout, so
 * a parser that stops moving fails there instead of hanging.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "test_progs.h"
#include "vmk.h"

#define HEADER	"Interface  Port Group/DVPort/Opaque Network        IP Family IP Address                              Netmask         Broadcast       MAC Address       MTU     TSO MSS   Enabled Type                NetStack\n"
#define ROW0	"vmk0       Management Network                      IPv4      10.0.0.10                               255.255.255.0   10.0.0.255      00:25:b5:00:00:0a 1500    65535     true    STATIC              defaultTcpipStack\n"

static int parse(struct np_vmk_list *l, const char *text)
{
	memset(l, 0, sizeof(*l));
	return np_vmk_parse_text(l, "test", text, strlen(text));
}

/* One interface, vmk0 at MAC_VMK0, or an assertion says what was found. */
static bool just_vmk0(const struct np_vmk_list *l, const char *what)
{
	return ASSERT_EQ(l->n, 1, what) &&
	       ASSERT_STREQ(l->v[0].name, "vmk0", what) &&
	       ASSERT_MEMEQ(l->v[0].mac, MAC_VMK0, 6, what);
}

void test_vmk_file_blanks(void)
{
	/* each a blank that isspace() knows and a space or tab is not */
	static const char blanks[] = { '\f', '\v', '\r' };
	char row[sizeof(ROW0)], text[2 * sizeof(HEADER) + 2 * sizeof(ROW0)];
	struct np_vmk_list l;

	for (size_t i = 0; i < sizeof(blanks); i++) {
		char what[64];
		size_t j;

		/* every space of the row: the columns stay where they were */
		memcpy(row, ROW0, sizeof(ROW0));
		for (j = 0; row[j]; j++)
			if (row[j] == ' ')
				row[j] = blanks[i];
		snprintf(text, sizeof(text), HEADER "%s", row);
		snprintf(what, sizeof(what), "blank 0x%02x for every space", blanks[i]);
		if (!ASSERT_OK(parse(&l, text), what) || !just_vmk0(&l, what))
			continue;

		/*
		 * The row's MAC not at the header's column (a rule or a
		 * prompt between tables, or a MAC pushed right): the row is
		 * scanned token by token, through the odd blank.
		 */
		snprintf(text, sizeof(text), HEADER "vmk9 a%cb%c%c\n" ROW0,
			 blanks[i], blanks[i], blanks[i]);
		snprintf(what, sizeof(what), "a row of no MAC, 0x%02x", blanks[i]);
		if (!ASSERT_OK(parse(&l, text), what) || !just_vmk0(&l, what))
			continue;
		snprintf(text, sizeof(text),
			 HEADER "vmk0%cPort%cgroup%cwider%cthan%cits%ccolumn%cIPv4%c10.0.0.10%c255.255.255.0%c10.0.0.255%c00:25:b5:00:00:0a%c1500\n",
			 blanks[i], blanks[i], blanks[i], blanks[i], blanks[i],
			 blanks[i], blanks[i], blanks[i], blanks[i], blanks[i],
			 blanks[i], blanks[i]);
		snprintf(what, sizeof(what), "a MAC pushed right, 0x%02x", blanks[i]);
		if (!ASSERT_OK(parse(&l, text), what) || !just_vmk0(&l, what))
			continue;

		/* esxcli's keys, the odd blank after the colon */
		snprintf(text, sizeof(text),
			 "vmk0\n   Name:%cvmk0%c\n   MAC Address:%c00:25:b5:00:00:0a%c\n",
			 blanks[i], blanks[i], blanks[i], blanks[i]);
		snprintf(what, sizeof(what), "esxcli keys, 0x%02x", blanks[i]);
		if (!ASSERT_OK(parse(&l, text), what) || !just_vmk0(&l, what))
			continue;

		/* nothing but blanks after the header: no interface */
		snprintf(text, sizeof(text), HEADER "%c%c \t%c\n", blanks[i],
			 blanks[i], blanks[i]);
		snprintf(what, sizeof(what), "a row of blanks, 0x%02x", blanks[i]);
		ASSERT_EQ(parse(&l, text), -EINVAL, what);
	}
}

/* Write len bytes of text, then padding blank lines, to a new file. */
static bool big_file(char path[64], size_t len)
{
	static const char head[] = HEADER ROW0;
	size_t done = 0;
	char buf[65536];
	bool ok = false;
	int fd;

	snprintf(path, 64, "/tmp/nbdpath-vmkbig-XXXXXX");
	fd = mkstemp(path);
	if (!ASSERT_TRUE(fd >= 0, "mkstemp"))
		return false;
	if (!ASSERT_EQ(write(fd, head, sizeof(head) - 1), (ssize_t)sizeof(head) - 1,
		       "write"))
		goto out;
	done = sizeof(head) - 1;
	memset(buf, '\n', sizeof(buf));
	while (done < len) {
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);

		if (!ASSERT_EQ(write(fd, buf, n), (ssize_t)n, "write"))
			goto out;
		done += n;
	}
	ok = true;
out:
	close(fd);
	if (!ok)
		unlink(path);
	return ok;
}

void test_vmk_file_size(void)
{
	struct np_vmk_list l = {};
	char path[64];

	if (big_file(path, NP_VMK_FILE_MAX)) {
		if (ASSERT_OK(np_vmk_parse_file(&l, path), "4 MiB exactly"))
			just_vmk0(&l, "4 MiB exactly");
		unlink(path);
	}
	memset(&l, 0, sizeof(l));
	if (big_file(path, NP_VMK_FILE_MAX + 1)) {
		ASSERT_EQ(np_vmk_parse_file(&l, path), -EFBIG, "4 MiB + 1");
		ASSERT_EQ(l.n, 0, "nothing taken from a refused file");
		unlink(path);
	}
	ASSERT_EQ(np_vmk_parse_file(&l, "/dev/zero"), -EFBIG, "/dev/zero");
	ASSERT_EQ(np_vmk_parse_file(&l, "/dev/null"), -EINVAL, "/dev/null");
}
