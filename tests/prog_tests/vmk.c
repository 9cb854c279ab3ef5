// SPDX-License-Identifier: GPL-2.0
/* --vmk NAME=MAC and --vmk-file: both ESXi formats, and the np_names map. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "test_progs.h"
#include "vmk.h"

#define DATA	"tests/data/"

static const __u8 MAC_VMK1[6] = { 0x00, 0x50, 0x56, 0x61, 0x20, 0x01 };
static const __u8 MAC_VMK2[6] = { 0x00, 0x50, 0x56, 0x62, 0x30, 0x02 };

/* The entry for mac, asserting it is there with that name. */
static bool has_vmk(const struct np_vmk_list *l, const __u8 mac[6],
		    const char *name)
{
	for (int i = 0; i < l->n; i++)
		if (!memcmp(l->v[i].mac, mac, 6))
			return ASSERT_STREQ(l->v[i].name, name, name);
	return ASSERT_TRUE(false, name);
}

/* Write text to a fresh temporary file; its path goes to path[]. */
static bool tmp_file(char path[64], const char *text)
{
	int fd;

	snprintf(path, 64, "/tmp/nbdpath-vmk-XXXXXX");
	fd = mkstemp(path);
	if (!ASSERT_TRUE(fd >= 0, "mkstemp"))
		return false;
	if (!ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text),
		       "write"))
		goto fail;
	close(fd);
	return true;
fail:
	close(fd);
	unlink(path);
	return false;
}

static int parse_text(struct np_vmk_list *l, const char *text)
{
	char path[64];
	int err;

	memset(l, 0, sizeof(*l));
	if (!tmp_file(path, text))
		return -EIO;
	err = np_vmk_parse_file(l, path);
	unlink(path);
	return err;
}

void test_vmk_parse_mac(void)
{
	static const char *const bad[] = {
		"", "00:25:b5:00:00", "00:25:b5:00:00:0a:", "00:25:b5:00:00:0g",
		"00:25-b5:00:00:0a", "0025.b500.000a", "00:25:b5:00:00:0a ",
		" 00:25:b5:00:00:0a", "0:25:b5:00:00:0a0", "00_25_b5_00_00_0a",
	};
	__u8 mac[6];

	if (!ASSERT_OK(np_parse_mac("00:25:b5:00:00:0a", mac), "colons") ||
	    !ASSERT_MEMEQ(mac, MAC_VMK0, 6, "colons"))
		return;
	if (!ASSERT_OK(np_parse_mac("00-50-56-6B-28-04", mac), "dashes, upper") ||
	    !ASSERT_MEMEQ(mac, MAC_VMK4, 6, "dashes, upper"))
		return;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!ASSERT_EQ(np_parse_mac(bad[i], mac), -EINVAL, bad[i]))
			return;
	ASSERT_EQ(np_parse_mac(NULL, mac), -EINVAL, "NULL");
}

void test_vmk_arg(void)
{
	static const char *const bad[] = {
		"vmk0", "=00:25:b5:00:00:0a", "vmk0=", "vmk0=zz",
		"a-name-of-sixteen=00:25:b5:00:00:0a", "vm k0=00:25:b5:00:00:0a",
		"vmk0=00:25:b5:00:00:0a=x",
	};
	struct np_vmk_list l = {};

	if (!ASSERT_OK(np_vmk_parse_arg(&l, "vmk0=00:25:b5:00:00:0a"), "vmk0") ||
	    !ASSERT_OK(np_vmk_parse_arg(&l, "vmk4=00-50-56-6B-28-04"), "vmk4") ||
	    !ASSERT_OK(np_vmk_parse_arg(&l, "fifteen-chars-x=00:50:56:61:20:01"),
		       "a name of 15 characters"))
		return;
	if (!ASSERT_EQ(l.n, 3, "entries"))
		return;
	has_vmk(&l, MAC_VMK0, "vmk0");
	has_vmk(&l, MAC_VMK4, "vmk4");
	has_vmk(&l, MAC_VMK1, "fifteen-chars-x");

	/* a MAC named twice keeps the later name, once */
	if (!ASSERT_OK(np_vmk_parse_arg(&l, "vmk9=00:25:b5:00:00:0a"), "rename"))
		return;
	ASSERT_EQ(l.n, 3, "entries after a rename");
	has_vmk(&l, MAC_VMK0, "vmk9");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!ASSERT_EQ(np_vmk_parse_arg(&l, bad[i]), -EINVAL, bad[i]))
			return;
	ASSERT_EQ(l.n, 3, "nothing added by a bad argument");
}

static void vmk_file_esxcfg(void)
{
	struct np_vmk_list l = {};

	if (!ASSERT_OK(np_vmk_parse_file(&l, DATA "esxcfg-vmknic.txt"),
		       "esxcfg-vmknic.txt"))
		return;
	/* vmk0 and vmk4 have an IPv6 row each: four interfaces, not six */
	if (!ASSERT_EQ(l.n, 4, "interfaces"))
		return;
	has_vmk(&l, MAC_VMK0, "vmk0");
	has_vmk(&l, MAC_VMK1, "vmk1");
	has_vmk(&l, MAC_VMK2, "vmk2");
	has_vmk(&l, MAC_VMK4, "vmk4");
}

static void vmk_file_esxcli(void)
{
	struct np_vmk_list l = {};

	if (!ASSERT_OK(np_vmk_parse_file(&l, DATA "esxcli-interface-list.txt"),
		       "esxcli-interface-list.txt"))
		return;
	if (!ASSERT_EQ(l.n, 3, "interfaces"))
		return;
	has_vmk(&l, MAC_VMK0, "vmk0");
	has_vmk(&l, MAC_VMK2, "vmk2");
	has_vmk(&l, MAC_VMK4, "vmk4");	/* written upper case there */
}

/*
 * Copies off the web: a port group name wider than its column pushes the
 * MAC right; blank lines inside the table; the esxcli blocks without
 * indentation or blank lines; CRLF; both outputs in one file.
 */
static void vmk_file_variants(void)
{
	static const char *const pushed =
		"Interface  Port Group/DVPort/Opaque Network        IP Family IP Address                              Netmask         Broadcast       MAC Address       MTU     TSO MSS   Enabled Type                NetStack\n"
		"\n"
		"vmk0       Management Network                      IPv4      10.0.0.10                               255.255.255.0   10.0.0.255      00:25:b5:00:00:0a 1500    65535     true    STATIC              defaultTcpipStack\n"
		"\n"
		"vmk4       NFC backup port group for the Rubrik cluster on VLAN 28 IPv4      10.0.28.10                              255.255.255.0   10.0.28.255     00:50:56:6b:28:04 9000    65535     true    STATIC              defaultTcpipStack\n";
	static const char *const flat =
		"vmk0\r\n"
		"Name: vmk0\r\n"
		"MAC Address: 00:25:b5:00:00:0a\r\n"
		"Enabled: true\r\n"
		"Portgroup: Management Network\r\n"
		"Name: vmk4\r\n"
		"MAC Address: 00:50:56:6b:28:04\r\n"
		"Portgroup: VLAN28 RUBRIK DATA\r\n";
	static const char *const both =
		"[root@esx10:~] esxcli network ip interface list\n"
		"vmk1\n"
		"   Name: vmk1\n"
		"   MAC Address: 00:50:56:61:20:01\n"
		"   Portgroup: vMotion Network A\n"
		"[root@esx10:~] esxcfg-vmknic -l\n"
		"Interface  Port Group/DVPort   IP Family IP Address                              Netmask         Broadcast       MAC Address       MTU     TSO MSS   Enabled Type\n"
		"vmk2       17                  IPv4      10.0.30.10                              255.255.255.0   10.0.30.255     00:50:56:62:30:02 9000    65535     true    STATIC\n";
	static const char *const bom =
		"\xef\xbb\xbfInterface  Port Group/DVPort/Opaque Network        IP Family IP Address                              Netmask         Broadcast       MAC Address       MTU     TSO MSS   Enabled Type                NetStack\r\n"
		"vmk0       Management Network                      IPv4      10.0.0.10                               255.255.255.0   10.0.0.255      00:25:B5:00:00:0A 1500    65535     true    STATIC              defaultTcpipStack\r\n"
		"vmk4       VLAN28 RUBRIK DATA                      IPv4      10.0.28.10                              255.255.255.0   10.0.28.255     00:50:56:6B:28:04 9000    65535     true    STATIC              defaultTcpipStack\r\n";
	struct np_vmk_list l;

	if (!ASSERT_OK(parse_text(&l, pushed), "a pushed column") ||
	    !ASSERT_EQ(l.n, 2, "a pushed column: interfaces"))
		return;
	has_vmk(&l, MAC_VMK0, "vmk0");
	has_vmk(&l, MAC_VMK4, "vmk4");

	if (!ASSERT_OK(parse_text(&l, flat), "flat esxcli, CRLF") ||
	    !ASSERT_EQ(l.n, 2, "flat esxcli: interfaces"))
		return;
	has_vmk(&l, MAC_VMK0, "vmk0");
	has_vmk(&l, MAC_VMK4, "vmk4");

	if (!ASSERT_OK(parse_text(&l, both), "both formats, old header") ||
	    !ASSERT_EQ(l.n, 2, "both formats: interfaces"))
		return;
	has_vmk(&l, MAC_VMK1, "vmk1");
	has_vmk(&l, MAC_VMK2, "vmk2");

	/* saved by a Windows editor: a byte order mark, then CRLF */
	if (!ASSERT_OK(parse_text(&l, bom), "UTF-8 BOM, CRLF") ||
	    !ASSERT_EQ(l.n, 2, "UTF-8 BOM: interfaces"))
		return;
	has_vmk(&l, MAC_VMK0, "vmk0");
	has_vmk(&l, MAC_VMK4, "vmk4");
}

static void vmk_file_errors(void)
{
	struct np_vmk_list l = {};

	ASSERT_EQ(np_vmk_parse_file(&l, "/nonexistent/vmk.txt"), -ENOENT,
		  "missing file");
	ASSERT_EQ(np_vmk_parse_file(&l, "/"), -EISDIR, "a directory");
	ASSERT_EQ(parse_text(&l, "vmk0 00:25:b5:00:00:0a\n"), -EINVAL,
		  "unknown format");
	ASSERT_EQ(parse_text(&l, ""), -EINVAL, "empty file");
	ASSERT_EQ(parse_text(&l, "Interface  Port Group/DVPort   MAC Address\n"),
		  -EINVAL, "a header, no rows");
	ASSERT_EQ(parse_text(&l, "vmk0\n   Name: vmk0\n   MAC Address: 00:25:b5\n"),
		  -EINVAL, "a bad MAC in esxcli output");
	ASSERT_EQ(parse_text(&l, "vmk0\n   Name: vmk0\n   Enabled: true\n"),
		  -EINVAL, "esxcli output without a MAC");
}

void test_vmk_store(void)
{
	struct np_vmk_list l = {};
	struct np_neigh_key k = {};
	struct np_name v;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;
	if (!ASSERT_OK(np_vmk_parse_arg(&l, "vmk0=00:25:b5:00:00:0a"), "vmk0") ||
	    !ASSERT_OK(np_vmk_parse_arg(&l, "vmk4=00:50:56:6b:28:04"), "vmk4") ||
	    !ASSERT_OK(np_vmk_store(&l, t.maps.names), "np_vmk_store"))
		goto out;
	memcpy(k.mac, MAC_VMK4, 6);
	if (!ASSERT_OK(bpf_map_lookup_elem(t.maps.names, &k, &v), "lookup vmk4"))
		goto out;
	ASSERT_STREQ(v.name, "vmk4", "stored name");
	memcpy(k.mac, MAC_VMK0, 6);
	if (!ASSERT_OK(bpf_map_lookup_elem(t.maps.names, &k, &v), "lookup vmk0"))
		goto out;
	ASSERT_STREQ(v.name, "vmk0", "stored name");
	ASSERT_EQ(np_vmk_store(&l, -1), -EBADF, "a bad fd");
out:
	tp_close(&t);
}

/* --vmk-file: the listings ESXi prints, as an operator pastes them. */
void test_vmk_file(void)
{
	if (test__start_subtest("esxcfg"))
		vmk_file_esxcfg();
	if (test__start_subtest("esxcli"))
		vmk_file_esxcli();
	if (test__start_subtest("variants"))
		vmk_file_variants();
	if (test__start_subtest("errors"))
		vmk_file_errors();
}
